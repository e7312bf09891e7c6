//! What this machine can do for an interview, and the fix for each missing piece.

use serde::Serialize;

use crate::llm::config::{LlmConfig, LlmMode};
use crate::paths;

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
    /// What to run or do when `ok` is false.
    pub fix: Option<String>,
}

/// The checks shown by `dataready doctor` and on the setup screen; `llm` is the endpoint interviews
/// will use, if one is configured (it is described, not probed: `dataready doctor` probes it).
pub fn checks(llm: Option<&LlmConfig>) -> Vec<Check> {
    let embedder = paths::embedder_dir();
    let grader_ok = embedder.join("model.safetensors").exists();
    vec![
        Check {
            name: "Grader model",
            ok: grader_ok,
            detail: if grader_ok {
                "all-MiniLM-L6-v2 installed".to_string()
            } else {
                "not installed".into()
            },
            fix: (!grader_ok).then(|| "dataready models install-grader".into()),
        },
        listening(),
        voice(),
        llm_check(llm),
    ]
}

/// One consistent line about the LLM: what is configured, or that interviews run offline.
pub fn llm_check(llm: Option<&LlmConfig>) -> Check {
    match llm {
        None => Check {
            name: "LLM",
            ok: false,
            detail: "not configured: questions from the bank, offline grading".into(),
            fix: Some("optional: --llm grade|full (see `dataready doctor --help`)".into()),
        },
        Some(c) => Check {
            name: "LLM",
            ok: true,
            detail: format!(
                "{}: {} at {} (deep grades up to {} s each, in the background)",
                match c.mode {
                    LlmMode::Full => "questions, follow-ups and grading",
                    _ => "grading",
                },
                c.deep_model,
                c.base_url,
                c.grade_limit.as_secs()
            ),
            fix: None,
        },
    }
}

/// "Whisper base (…) + tiny.en (…) installed and verified" when every model in use passed the install's
/// check on the known clip.
fn checked(choice: &crate::transcribe::pair::Choice) -> String {
    let unverified: Vec<&str> = choice
        .names()
        .into_iter()
        .filter(|n| {
            !crate::transcribe::model::manifest(n)
                .and_then(|m| m.verified)
                .is_some_and(|v| v.passed())
        })
        .collect();
    match unverified.as_slice() {
        [] => format!("Whisper {} installed and verified", choice.describe()),
        names => format!(
            "Whisper {} installed (not verified: run {})",
            choice.describe(),
            names
                .iter()
                .map(|n| format!("`dataready models install --model {n}`"))
                .collect::<Vec<_>>()
                .join(" and ")
        ),
    }
}

/// Speech recognition needs both an installed Whisper model and a microphone that opens.
fn listening() -> Check {
    use crate::transcribe::model;
    let whisper = crate::transcribe::pair::choose(None);
    let mic = crate::listen::capture::probe(None);
    let (ok, detail, fix) = match (&whisper, &mic) {
        (Ok(choice), Ok(dev)) => (true, format!("{}; microphone {dev}", checked(choice)), None),
        (Err(_), Ok(dev)) => (
            false,
            format!("microphone {dev}, but no Whisper model"),
            Some(format!("dataready models install --model {}", model::DEFAULT_MODEL)),
        ),
        (Ok(choice), Err(_)) => {
            let devices = crate::listen::capture::devices();
            (
                false,
                format!(
                    "{} (`dataready transcribe FILE.wav` works); no microphone opens (input devices: {}), \
                     so answers are typed",
                    checked(choice),
                    if devices.is_empty() {
                        "none".to_string()
                    } else {
                        devices.join(", ")
                    }
                ),
                Some("connect a microphone, or pick one with --mic NAME".into()),
            )
        }
        (Err(_), Err(_)) => (
            false,
            "no Whisper model and no microphone: answers are typed".into(),
            Some(format!("dataready models install --model {}", model::DEFAULT_MODEL)),
        ),
    };
    Check {
        name: "Microphone + Whisper",
        ok,
        detail,
        fix,
    }
}

/// The interviewer's voice: a Piper voice installed and an ONNX Runtime that loads.
fn voice() -> Check {
    let voice = crate::voice::resolve_voice(None);
    let runtime = crate::voice::runtime::ensure();
    let (ok, detail, fix) = match (&voice, &runtime) {
        (Ok(v), Ok(_)) => match crate::voice::probe_speaker(None) {
            Ok(device) => (true, format!("{} ready; speaker {device}", v.name), None),
            Err(e) => (
                false,
                format!(
                    "{} ready, but no speaker opens, so questions are shown as text ({e})",
                    v.name
                ),
                Some("connect a speaker, or pick one with --speaker NAME".to_string()),
            ),
        },
        (Err(e), _) => (false, format!("no voice: {e}"), Some("scripts/setup-voice.sh".into())),
        (_, Err(e)) => (
            false,
            format!("ONNX Runtime: {e}"),
            Some("scripts/setup-voice.sh".into()),
        ),
    };
    Check {
        name: "Speaker + voice",
        ok,
        detail: crate::text::one_line(&detail, 160),
        fix,
    }
}
