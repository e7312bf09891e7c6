//! LLM questions and follow-ups: writes a new opening question (with its rubric) on the skill and
//! difficulty the planner chose, and decides and words follow-ups. Anything unusable or late keeps
//! the bank's line.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::{JsonStep, Llm, answer_block, extract_json, nonce};
use crate::bank::{FollowUps, KeyPoint, Question};
use crate::interview::{Composed, Interview, TurnKind};
use crate::session::Composer;
use crate::text;

const MAX_QUESTION_CHARS: usize = 400;
const MAX_POINT_CHARS: usize = 200;

fn string_list(max_items: usize, max_len: usize, min_items: usize) -> Value {
    json!({"type": "array", "items": {"type": "string", "maxLength": max_len}, "minItems": min_items, "maxItems": max_items})
}

/// The schema a generated question follows.
pub fn question_schema() -> Value {
    let line = json!({"type": "string", "maxLength": 300});
    json!({
        "type": "object",
        "properties": {
            "question": {"type": "string", "maxLength": MAX_QUESTION_CHARS},
            "key_points": string_list(6, 160, 3),
            "misconceptions": string_list(3, 160, 0),
            "seniority_signals": string_list(3, 160, 0),
            "follow_ups": {
                "type": "object",
                "properties": {"deeper": line, "example": line, "harder": line},
                "required": ["deeper", "example", "harder"],
                "additionalProperties": false
            }
        },
        "required": ["question", "key_points", "misconceptions", "seniority_signals", "follow_ups"],
        "additionalProperties": false
    })
}

/// The schema a follow-up decision follows; `actions` are the follow-up kinds allowed plus `move_on`.
pub fn follow_up_schema(actions: &[&str]) -> Value {
    json!({
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": actions},
            "question": {"type": "string", "maxLength": 300}
        },
        "required": ["action", "question"],
        "additionalProperties": false
    })
}

fn kind_name(kind: TurnKind) -> &'static str {
    match kind {
        TurnKind::Main => "main",
        TurnKind::Deeper => "deeper",
        TurnKind::Example => "example",
        TurnKind::Harder => "harder",
    }
}

fn strings(v: &Value, max_items: usize) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| text::one_line(s, MAX_POINT_CHARS))
                .filter(|s| !s.is_empty())
                .take(max_items)
                .collect()
        })
        .unwrap_or_default()
}

/// Words compared case- and punctuation-blind, to catch a repeated question.
fn normalized(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A line an interviewer can ask: a question, or a request such as "Walk me through…".
fn is_question(text: &str) -> bool {
    const ASKS: [&str; 12] = [
        "how", "what", "why", "when", "which", "walk", "explain", "describe", "tell", "design", "compare", "imagine",
    ];
    let first = text.split_whitespace().next().unwrap_or_default().to_lowercase();
    text.contains('?')
        || ASKS
            .iter()
            .any(|a| first.trim_matches(|c: char| !c.is_alphabetic()) == *a)
}

/// Reads a generated question; `seed` is the bank question it stands in for (skill, difficulty, fallbacks).
pub fn parse_question(
    reply: &str,
    seed: &Question,
    id: String,
    role: &str,
    asked: &[String],
) -> Result<Question, String> {
    let v = extract_json(reply)?;
    let text = v["question"]
        .as_str()
        .map(|s| text::one_line(s, MAX_QUESTION_CHARS))
        .unwrap_or_default();
    if text.split_whitespace().count() < 4 {
        return Err("`question` is missing or too short".into());
    }
    if !is_question(&text) {
        return Err("`question` is a statement, not a question to ask".into());
    }
    let n = normalized(&text);
    if n == normalized(&seed.text) || asked.iter().any(|a| normalized(a) == n) {
        return Err("the question repeats one already asked".into());
    }
    let points = strings(&v["key_points"], 6);
    if points.len() < 2 {
        return Err("`key_points` needs at least 2 items".into());
    }
    let follow = |name: &str, fallback: &str| {
        v["follow_ups"][name]
            .as_str()
            .map(|s| text::one_line(s, 300))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| fallback.to_string())
    };
    Ok(Question {
        id,
        skill: seed.skill.clone(),
        roles: vec![role.to_string()],
        difficulty: seed.difficulty,
        text,
        key_points: points
            .into_iter()
            .map(|p| KeyPoint {
                phrasings: Vec::new(),
                text: p,
                weight: 1,
                contrasts: Vec::new(),
            })
            .collect(),
        misconceptions: strings(&v["misconceptions"], 3),
        seniority_signals: strings(&v["seniority_signals"], 3),
        follow_ups: FollowUps {
            deeper: follow(
                "deeper",
                "Can you go one level deeper: how does that work underneath, and why?",
            ),
            example: follow(
                "example",
                "Can you walk me through a concrete example from a system you worked on?",
            ),
            harder: follow("harder", "How would your answer change at ten times the scale?"),
        },
    })
}

/// Reads a follow-up decision against the kinds the rules allow.
pub fn parse_follow_up(reply: &str, allowed: &[TurnKind], by: &str, asked: &[String]) -> Result<Composed, String> {
    let v = extract_json(reply)?;
    let action = v["action"].as_str().unwrap_or_default().trim().to_lowercase();
    if action == "move_on" {
        return Ok(Composed::MoveOn);
    }
    let kind = allowed
        .iter()
        .copied()
        .find(|k| kind_name(*k) == action)
        .ok_or_else(|| format!("`action` {action:?} is not one of the allowed actions"))?;
    let text = v["question"]
        .as_str()
        .map(|s| text::one_line(s, 300))
        .unwrap_or_default();
    if text.split_whitespace().count() < 3 {
        return Err("`question` is missing or too short".into());
    }
    if asked.iter().any(|a| normalized(a) == normalized(&text)) {
        return Err("the follow-up repeats a question already asked".into());
    }
    Ok(Composed::FollowUp {
        kind,
        text,
        by: by.to_string(),
    })
}

/// What a question is written from: the planned seed question and the interview so far.
struct QuestionBrief {
    seed: Arc<Question>,
    role_id: String,
    role_name: String,
    years: String,
    skill_name: String,
    asked: Vec<String>,
    /// The technologies the candidate's CV and the job description name (`--cv`, `--job`).
    stack: String,
}

impl QuestionBrief {
    fn of(iv: &Interview, seed: Arc<Question>, also_asked: Option<&str>) -> Self {
        let bank = iv.bank();
        let config = iv.config();
        let role = bank.role(&config.role);
        let mut asked: Vec<String> = iv.turns().iter().map(|t| t.prompt.clone()).collect();
        asked.extend(also_asked.map(str::to_string));
        let skill = seed.skill.clone();
        Self {
            skill_name: bank.skill_name(&seed.skill).to_string(),
            seed,
            role_id: config.role.clone(),
            role_name: role.map_or_else(|| config.role.clone(), |r| r.name.clone()),
            years: config
                .years
                .map(|y| y.to_string())
                .or_else(|| role.map(|r| r.years.clone()))
                .unwrap_or_default(),
            asked,
            stack: stack_line(config.tailoring.as_ref(), &skill),
        }
    }
}

/// The found technologies that point to `skill` first, then the rest; only names, never the files.
fn stack_line(tailoring: Option<&crate::profile::Tailoring>, skill: &str) -> String {
    let Some(t) = tailoring.filter(|t| !t.terms.is_empty()) else {
        return "(not given)".into();
    };
    let (mut here, rest): (Vec<_>, Vec<_>) = t.terms.iter().partition(|f| f.skills.iter().any(|s| s == skill));
    here.extend(rest);
    here.iter()
        .take(12)
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Asks the deep model for a new opening question (its id is set by the caller).
fn write_question(llm: &Llm, brief: &QuestionBrief) -> Result<Question, String> {
    let seed = &brief.seed;
    let asked_text = if brief.asked.is_empty() {
        "(nothing yet)".to_string()
    } else {
        brief.asked.iter().map(|a| format!("- {a}\n")).collect::<String>()
    };
    let example_points: String = seed.key_points.iter().map(|k| format!("- {}\n", k.text)).collect();
    let difficulty = seed.difficulty.to_string();
    let prompt = llm.prompts.question.render(&[
        ("role", &brief.role_name),
        ("years", &brief.years),
        ("skill", &seed.skill),
        ("skill_name", &brief.skill_name),
        ("difficulty", &difficulty),
        ("example_question", &seed.text),
        ("example_key_points", example_points.trim_end()),
        ("asked", asked_text.trim_end()),
        ("stack", &brief.stack),
    ]);
    let step = JsonStep {
        step: "question",
        model: &llm.config.deep_model,
        prompt,
        schema: question_schema(),
        max_tokens: 900,
        temperature: 0.7,
    };
    llm.ask_json(step, |reply| {
        parse_question(reply, seed, String::new(), &brief.role_id, &brief.asked)
    })
}

/// A question being written ahead for the next topic.
struct Ahead {
    skill: String,
    difficulty: u8,
    job: std::thread::JoinHandle<Result<Question, String>>,
}

/// Writes questions (deep model) and follow-ups (fast model) for `--llm full`.
pub struct LlmInterviewer {
    llm: Arc<Llm>,
    /// Write the next topic's question while the candidate answers. Off for scripted runs, whose answers
    /// arrive at once, so the prefetch would only compete with grading.
    prefetch: bool,
    ahead: Mutex<Option<Ahead>>,
}

impl LlmInterviewer {
    pub fn new(llm: Arc<Llm>, prefetch: bool) -> Self {
        Self {
            llm,
            prefetch,
            ahead: Mutex::new(None),
        }
    }

    fn question(&self, iv: &Interview) -> Result<Composed, String> {
        let seed = Arc::clone(iv.current_question().ok_or("no question in play")?);
        let line = iv.current_line().ok_or("no question in play")?;
        let id = format!("llm-{}-q{}", seed.id, line.number);
        let by = format!("llm:{}/{}", self.llm.config.deep_model, self.llm.prompts.question.id());
        let brief = QuestionBrief::of(iv, Arc::clone(&seed), None);
        let ahead = self.ahead.lock().unwrap_or_else(|p| p.into_inner()).take();
        // A question written ahead is used when the planner kept to the skill and difficulty it was written for.
        if let Some(ahead) = ahead.filter(|a| a.skill == seed.skill && a.difficulty == seed.difficulty) {
            let waited = std::time::Instant::now();
            let ready = ahead.job.join().unwrap_or_else(|_| Err("the prefetch panicked".into()));
            let fresh = ready.as_ref().is_ok_and(|q| {
                let n = normalized(&q.text);
                !brief.asked.iter().any(|a| normalized(a) == n)
            });
            self.llm.record(super::StepStat {
                step: "question (prefetched)",
                us: waited.elapsed().as_micros() as u64,
                ok: fresh,
                attempts: 0,
                repaired: false,
                fallback: (!fresh).then(|| "the prefetched question was unusable".to_string()),
            });
            if let (true, Ok(mut question)) = (fresh, ready) {
                question.id = id;
                return Ok(Composed::Question {
                    question: Box::new(question),
                    by,
                });
            }
        }
        let mut question = write_question(&self.llm, &brief)?;
        question.id = id;
        Ok(Composed::Question {
            question: Box::new(question),
            by,
        })
    }

    fn follow_up(&self, iv: &Interview) -> Result<Composed, String> {
        let q = iv.current_question().ok_or("no question in play")?;
        let line = iv.current_line().ok_or("no question in play")?;
        let last = iv.turns().last().ok_or("no answer to follow up")?;
        let allowed = iv.follow_up_options();
        let mut actions: Vec<&str> = allowed.iter().map(|k| kind_name(*k)).collect();
        actions.push("move_on");
        let rubric: String = q.key_points.iter().map(|k| format!("- {}\n", k.text)).collect();
        let nonce = nonce();
        let answer = answer_block(&last.answer, &nonce, 4_000);
        let score = last.evaluation.score.to_string();
        let missing = if last.evaluation.what_was_missing.is_empty() {
            "nothing noted".to_string()
        } else {
            last.evaluation.what_was_missing.join("; ")
        };
        let prompt = self.llm.prompts.follow_up.render(&[
            ("role", &iv.config().role),
            ("skill", &q.skill),
            ("question", &last.prompt),
            ("rubric", rubric.trim_end()),
            ("nonce", &nonce),
            ("answer", &answer),
            ("score", &score),
            ("missing", &missing),
            ("planned", kind_name(line.kind)),
            ("actions", &actions.join(", ")),
        ]);
        let model = &self.llm.config.fast_model;
        let by = format!("llm:{model}/{}", self.llm.prompts.follow_up.id());
        let step = JsonStep {
            step: "follow_up",
            model,
            prompt,
            schema: follow_up_schema(&actions),
            max_tokens: 200,
            temperature: 0.3,
        };
        let asked: Vec<String> = iv.turns().iter().map(|t| t.prompt.clone()).collect();
        self.llm
            .ask_json(step, |reply| parse_follow_up(reply, &allowed, &by, &asked))
    }
}

impl Composer for LlmInterviewer {
    fn prefetch(&self, iv: &Interview) {
        // The CV topic is asked in the CV's words: nothing to write ahead for it.
        if !self.prefetch || iv.next_topic_is_from_cv() {
            return;
        }
        let Some(next) = iv.peek_next_topic() else {
            return;
        };
        let mut ahead = self.ahead.lock().unwrap_or_else(|p| p.into_inner());
        if ahead
            .as_ref()
            .is_some_and(|a| a.skill == next.skill && a.difficulty == next.difficulty)
        {
            return;
        }
        let current = iv.current_line().map(|l| l.text.clone());
        let brief = QuestionBrief::of(iv, Arc::clone(&next), current.as_deref());
        let llm = Arc::clone(&self.llm);
        // A stale prefetch is left to finish on its own; its step budget bounds it.
        *ahead = Some(Ahead {
            skill: next.skill.clone(),
            difficulty: next.difficulty,
            job: std::thread::spawn(move || write_question(&llm, &brief)),
        });
    }

    fn compose(&self, iv: &Interview) -> Option<Composed> {
        let kind = iv.current_line()?.kind;
        let result = if kind == TurnKind::Main {
            self.question(iv)
        } else {
            self.follow_up(iv)
        };
        result.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::Bank;

    #[test]
    fn generated_questions_are_checked_and_cleaned() {
        let bank = Bank::builtin().unwrap();
        let seed = &bank.questions[0];
        let reply = r#"{"question": "How would you \u001b[2Jdesign late-data handling for a daily batch pipeline?",
            "key_points": ["Watermarks bound lateness", "Reprocess affected partitions", ""],
            "misconceptions": [], "seniority_signals": ["Mentions SLAs"],
            "follow_ups": {"deeper": "Why partitions?", "example": "", "harder": "At hourly cadence?"}}"#;
        let q = parse_question(reply, seed, "llm-x-q1".into(), "mid", &[]).unwrap();
        assert_eq!(
            q.text,
            "How would you design late-data handling for a daily batch pipeline?"
        );
        assert_eq!((q.skill.as_str(), q.difficulty), (seed.skill.as_str(), seed.difficulty));
        assert_eq!(q.key_points.len(), 2);
        assert!(
            q.follow_ups.example.contains("concrete example"),
            "an empty follow-up gets a default"
        );
        let again = parse_question(reply, seed, "id".into(), "mid", &[q.text.to_uppercase()]);
        assert!(again.unwrap_err().contains("repeats"));
        assert!(
            parse_question(
                r#"{"question": "Why?", "key_points": []}"#,
                seed,
                "i".into(),
                "mid",
                &[]
            )
            .is_err()
        );
        // What SmolLM2-135M wrote once: a statement, not a question.
        let statement = r#"{"question": "You can use the RANK function but only if you want to keep a tie.",
            "key_points": ["RANK keeps ties", "ROW_NUMBER does not"]}"#;
        let err = parse_question(statement, seed, "i".into(), "mid", &[]).unwrap_err();
        assert!(err.contains("statement"), "{err}");
        let request = r#"{"question": "Walk me through choosing between RANK and ROW_NUMBER for deduplication.",
            "key_points": ["RANK keeps ties", "ROW_NUMBER does not"]}"#;
        assert!(parse_question(request, seed, "i".into(), "mid", &[]).is_ok());
    }

    #[test]
    fn follow_up_decisions_must_be_allowed() {
        let allowed = [TurnKind::Deeper, TurnKind::Example];
        let ok = parse_follow_up(
            r#"{"action": "example", "question": "Tell me about a time you did that."}"#,
            &allowed,
            "m",
            &[],
        );
        assert!(matches!(
            ok,
            Ok(Composed::FollowUp {
                kind: TurnKind::Example,
                ..
            })
        ));
        assert_eq!(
            parse_follow_up(r#"{"action": "move_on", "question": ""}"#, &allowed, "m", &[]),
            Ok(Composed::MoveOn)
        );
        assert!(
            parse_follow_up(
                r#"{"action": "harder", "question": "Go harder on this."}"#,
                &allowed,
                "m",
                &[]
            )
            .is_err()
        );
        // SmolLM2-135M once "followed up" by asking the opening question again.
        let asked = ["When would you use repartition versus coalesce in Spark?".to_string()];
        let repeat = r#"{"action": "deeper", "question": "When would you use repartition versus coalesce in Spark?"}"#;
        let err = parse_follow_up(repeat, &allowed, "m", &asked).unwrap_err();
        assert!(err.contains("repeats"), "{err}");
        assert!(parse_follow_up(r#"{"action": "deeper", "question": ""}"#, &allowed, "m", &[]).is_err());
    }
}
