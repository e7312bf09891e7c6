//! LLM grading: the deep model scores an answer against the rubric as schema-checked JSON. The offline
//! grade always runs too and is kept beside it; it stands in whenever the LLM cannot answer in time.

use std::sync::Arc;

use serde_json::{Value, json};

use super::client::Budget;
use super::{JsonStep, Llm, answer_block, extract_json, nonce};
use crate::bank::Question;
use crate::grade::{Grader, weighted_score};
use crate::interview::{Evaluation, GradeRequest, Scores, TurnKind};
use crate::text;

/// The longest list item kept from a model's feedback, in characters.
pub const MAX_ITEM_CHARS: usize = 200;
/// At most this many items per feedback list.
pub const MAX_ITEMS: usize = 4;
/// Answers longer than this are cut in the prompt (the offline grade still reads all of it).
const MAX_PROMPT_ANSWER_CHARS: usize = 6_000;
/// The offline grader's red flag for an answer that addresses the grader.
const INJECTION_FLAG: &str = "instruct the grader";

const SCORE_NAMES: [&str; 5] = [
    "technical_correctness",
    "depth",
    "practical_experience",
    "communication_clarity",
    "confidence",
];
const LIST_NAMES: [&str; 4] = ["what_went_well", "what_was_missing", "red_flags", "seniority_signals"];

/// The JSON schema an evaluation must follow; strings and lists are bounded so a model cannot ramble
/// until its token limit cuts the JSON off.
pub fn evaluation_schema() -> Value {
    let list = json!({"type": "array", "items": {"type": "string", "maxLength": 150}, "maxItems": 3});
    let score = json!({"type": "integer", "minimum": 0, "maximum": 10});
    let mut properties = serde_json::Map::new();
    for name in LIST_NAMES {
        properties.insert(name.into(), list.clone());
    }
    for name in SCORE_NAMES {
        properties.insert(name.into(), score.clone());
    }
    let required: Vec<&str> = LIST_NAMES.iter().chain(SCORE_NAMES.iter()).copied().collect();
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// Reads a model's evaluation: five scores clamped to 0–10, feedback cleaned (no escape sequences),
/// shortened and bounded in number. The overall score is computed here, never taken from the model.
pub fn parse_evaluation(reply: &str, grader: &str) -> Result<Evaluation, String> {
    let v = extract_json(reply)?;
    let mut raw = [0f32; 5];
    for (i, name) in SCORE_NAMES.iter().enumerate() {
        let x = match &v[name] {
            Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
            Value::String(s) => s.trim().parse::<f64>().unwrap_or(f64::NAN),
            Value::Null => return Err(format!("`{name}` is missing")),
            _ => f64::NAN,
        };
        if !x.is_finite() {
            return Err(format!("`{name}` is not a number"));
        }
        raw[i] = x as f32;
    }
    if raw.iter().all(|s| *s > 10.0) {
        return Err("scores must be 0-10, not percentages".into());
    }
    let scores = Scores::from_array(raw.map(|s| s.round()));
    let list = |name: &str| -> Vec<String> {
        v[name]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|s| text::one_line(s, MAX_ITEM_CHARS))
                    .filter(|s| !s.is_empty())
                    .take(MAX_ITEMS)
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(Evaluation {
        scores,
        score: weighted_score(&scores).round().clamp(0.0, 100.0) as u8,
        what_went_well: list("what_went_well"),
        what_was_missing: list("what_was_missing"),
        red_flags: list("red_flags"),
        seniority_signals: list("seniority_signals"),
        grader: grader.to_string(),
        offline: None,
        fallback: None,
        grade_confidence: None,
        key_points: Vec::new(),
    })
}

/// A question's rubric as prompt text: the key points and misconceptions as lists, and for a
/// follow-up the opening question it follows.
pub struct RubricText {
    pub rubric: String,
    pub misconceptions: String,
    pub topic: String,
}

impl RubricText {
    pub fn of(q: &Question, kind: TurnKind) -> Self {
        let rubric: String = q.key_points.iter().map(|k| format!("- {}\n", k.text)).collect();
        let misconceptions: String = if q.misconceptions.is_empty() {
            "- (none listed)\n".into()
        } else {
            q.misconceptions.iter().map(|m| format!("- {m}\n")).collect()
        };
        let topic = if kind == TurnKind::Main {
            String::new()
        } else {
            format!("This follows up on the opening question: {}\n", q.text)
        };
        Self {
            rubric: rubric.trim_end().to_string(),
            misconceptions: misconceptions.trim_end().to_string(),
            topic,
        }
    }
}

/// The prompt for grading one answer: the rubric, and the answer as a delimited data block.
pub fn evaluation_prompt(llm: &Llm, req: &GradeRequest, nonce: &str) -> (String, String) {
    let q = &req.question;
    let RubricText {
        rubric,
        misconceptions,
        topic,
    } = RubricText::of(q, req.kind);
    let answer = answer_block(&req.answer, nonce, MAX_PROMPT_ANSWER_CHARS);
    let role = if req.role.is_empty() {
        "data engineering"
    } else {
        &req.role
    };
    llm.prompts.evaluate.render(&[
        ("role", role),
        ("skill", &q.skill),
        ("kind", req.kind.label()),
        ("question", &req.prompt),
        ("topic", &topic),
        ("rubric", &rubric),
        ("misconceptions", &misconceptions),
        ("nonce", nonce),
        ("answer", &answer),
    ])
}

/// Grades with the LLM and keeps the offline grade; falls back to the offline grade alone.
pub struct LlmGrader<'a> {
    pub offline: &'a (dyn Grader + Sync),
    pub llm: Arc<Llm>,
}

impl LlmGrader<'_> {
    /// The LLM's evaluation of an answer, or why there is none, waiting up to the deep-grade limit.
    pub fn evaluate(&self, req: &GradeRequest) -> Result<Evaluation, String> {
        evaluate(&self.llm, req)
    }
}

/// The deep model's evaluation of an answer within the configured grade limit (the clock starts when
/// the request gets a slot; waiting for one is bounded separately), or why there is none.
pub fn evaluate(llm: &Llm, req: &GradeRequest) -> Result<Evaluation, String> {
    let id = format!("llm:{}/{}", llm.config.deep_model, llm.prompts.evaluate.id());
    let prompt = evaluation_prompt(llm, req, &nonce());
    let step = JsonStep {
        step: "evaluate",
        model: &llm.config.deep_model,
        prompt,
        schema: evaluation_schema(),
        max_tokens: 700,
        temperature: 0.0,
    };
    let budget = Budget::queued(llm.config.grade_limit, SLOT_WAIT);
    llm.ask_json_within(step, |reply| parse_evaluation(reply, &id), budget)
}

/// Longest wait for a free request slot before a grade gives up (a deep grade queued behind others).
const SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(3600);

/// Puts the two grades together, the offline one kept beside the LLM's. An answer the offline check
/// took for an attempt to instruct the grader is capped at the offline grade only when the model saw
/// an attempt too: the offline check alone (a keyword match) never lowers the model's grade, though
/// its flag is shown (and the report's verdict still treats the answer as addressing the grader).
pub fn combine(mut llm: Evaluation, offline: Evaluation) -> Evaluation {
    let offline_flags: Vec<String> = offline
        .red_flags
        .iter()
        .filter(|f| f.contains(INJECTION_FLAG))
        .cloned()
        .collect();
    let model_saw_it = llm.red_flags.iter().any(|f| {
        let f = f.to_lowercase();
        [
            "instruct",
            "injection",
            "manipulat",
            "asked for a score",
            "asks for a score",
            "full marks",
            "ignore the",
        ]
        .iter()
        .any(|k| f.contains(k))
    });
    if !model_saw_it {
        // Shown, not enforced: the report still caps its verdict for an answer that addresses the grader.
        for f in &offline_flags {
            llm.red_flags.insert(
                0,
                format!("Offline check: {f} (the LLM saw no such attempt; its grade is not capped)"),
            );
        }
    }
    if !offline_flags.is_empty() && model_saw_it {
        let capped: Vec<f32> = llm
            .scores
            .as_array()
            .iter()
            .zip(offline.scores.as_array())
            .map(|(l, o)| l.min(o))
            .collect();
        llm.scores = Scores::from_array([capped[0], capped[1], capped[2], capped[3], capped[4]]);
        llm.score = llm.score.min(offline.score);
        for f in offline_flags {
            if !llm.red_flags.contains(&f) {
                llm.red_flags.insert(0, f);
            }
        }
    }
    llm.offline = Some(Box::new(offline));
    llm
}

/// The deep grade with the offline one kept beside it, or the offline grade alone saying why the deep
/// one is missing.
pub fn beside_offline(deep: Result<Evaluation, String>, offline: Evaluation) -> Evaluation {
    match deep {
        Ok(deep) => combine(deep, offline),
        Err(why) => Evaluation {
            fallback: Some(format!("LLM grade unavailable ({why}); offline grade used")),
            ..offline
        },
    }
}

impl Grader for LlmGrader<'_> {
    fn grade(&self, req: &GradeRequest) -> Evaluation {
        // The offline grade runs while the model thinks, so the step takes the longer of the two, not the sum.
        let (offline, llm) = std::thread::scope(|s| {
            let offline = s.spawn(|| self.offline.grade(req));
            let llm = self.evaluate(req);
            (offline.join(), llm)
        });
        beside_offline(llm, offline.unwrap_or_else(|p| std::panic::resume_unwind(p)))
    }

    fn may_be_slow(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_clamped_and_feedback_cleaned_and_bounded() {
        let reply = format!(
            "```json\n{{\"technical_correctness\": 14, \"depth\": -3, \"practical_experience\": \"7\", \"communication_clarity\": 6.6, \"confidence\": 5,\
             \"what_went_well\": [\"\\u001b[31mred\\u001b[0m text\", \"{}\", \"\", 3, \"a\", \"b\", \"c\"],\
             \"what_was_missing\": [], \"red_flags\": [\"\\u001b]0;title\\u0007x\"]}}\n```",
            "w".repeat(5000)
        );
        let e = parse_evaluation(&reply, "llm:test").unwrap();
        assert_eq!(e.scores.as_array(), [10.0, 0.0, 7.0, 7.0, 5.0]);
        assert_eq!(e.score, ((10.0 * 0.45 + 0.0 + 0.7 + 0.7 + 0.5) * 10.0f32).round() as u8);
        assert_eq!(e.what_went_well.len(), MAX_ITEMS);
        assert_eq!(e.what_went_well[0], "red text");
        assert!(e.what_went_well[1].chars().count() <= MAX_ITEM_CHARS + 1);
        assert_eq!(e.red_flags, vec!["x"]);
        assert!(e.seniority_signals.is_empty(), "a missing list is empty");
    }

    #[test]
    fn unusable_replies_say_why() {
        assert!(
            parse_evaluation("I think it is a 7", "g")
                .unwrap_err()
                .contains("no JSON")
        );
        assert!(parse_evaluation("{\"depth\": 5", "g").is_err());
        let missing = parse_evaluation("{\"technical_correctness\": 5}", "g").unwrap_err();
        assert!(missing.contains("depth"), "{missing}");
        let pct = r#"{"technical_correctness": 80, "depth": 70, "practical_experience": 60, "communication_clarity": 90, "confidence": 75}"#;
        assert!(parse_evaluation(pct, "g").unwrap_err().contains("0-10"));
    }

    #[test]
    fn the_schema_bounds_every_string_and_list() {
        let s = evaluation_schema();
        for name in LIST_NAMES {
            assert_eq!(s["properties"][name]["maxItems"], 3);
            assert_eq!(s["properties"][name]["items"]["maxLength"], 150);
        }
        for name in SCORE_NAMES {
            assert_eq!(s["properties"][name]["maximum"], 10);
        }
        assert_eq!(s["required"].as_array().unwrap().len(), 9);
    }
}
