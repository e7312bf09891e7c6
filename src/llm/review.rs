//! Model answers written by the deep model for `dataready review`, in place of the rubric's.

use serde_json::{Value, json};

use super::client::Budget;
use super::grader::RubricText;
use super::{JsonStep, Llm};
use crate::bank::Question;
use crate::interview::TurnKind;
use crate::review::ModelAnswer;

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": { "answer": { "type": "string" } },
        "required": ["answer"],
        "additionalProperties": false
    })
}

fn parse(reply: &str) -> Result<String, String> {
    let v = super::extract_json(reply)?;
    let text = v
        .get("answer")
        .and_then(Value::as_str)
        .map(|s| crate::text::clean(s, 3000).text)
        .unwrap_or_default();
    if text.split_whitespace().count() < 20 {
        return Err("the answer is missing or shorter than 20 words".into());
    }
    Ok(text)
}

/// The deep model's answer to `asked` (the line as it was put to the candidate), from the question's
/// rubric, within the configured grade limit; or why there is none.
pub fn model_answer(llm: &Llm, q: &Question, kind: TurnKind, asked: &str, role: &str) -> Result<ModelAnswer, String> {
    let r = RubricText::of(q, kind);
    let prompt = llm.prompts.model_answer.render(&[
        ("role", if role.is_empty() { "data" } else { role }),
        ("skill", &q.skill),
        ("kind", kind.label()),
        ("question", asked),
        ("topic", &r.topic),
        ("rubric", &r.rubric),
        ("misconceptions", &r.misconceptions),
    ]);
    let step = JsonStep {
        step: "model_answer",
        model: &llm.config.deep_model,
        prompt,
        schema: schema(),
        max_tokens: 600,
        temperature: 0.2,
    };
    let text = llm.ask_json_within(step, parse, Budget::new(llm.config.grade_limit))?;
    Ok(ModelAnswer {
        text,
        by: format!("the LLM, {}", llm.config.deep_model),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_without_a_real_answer_are_refused() {
        assert!(parse(r#"{"answer": "Yes."}"#).is_err());
        assert!(parse("not json").is_err());
        let long = "word ".repeat(40);
        assert_eq!(
            parse(&format!(r#"{{"answer": "{long}"}}"#))
                .unwrap()
                .split_whitespace()
                .count(),
            40
        );
    }
}
