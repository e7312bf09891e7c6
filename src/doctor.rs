//! What this machine can do for an interview, and the fix for each missing piece.

use serde::Serialize;

use crate::paths;

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    pub detail: String,
    /// What to run or do when `ok` is false.
    pub fix: Option<String>,
}

/// The checks shown by `dataready doctor` and on the setup screen.
pub fn checks() -> Vec<Check> {
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
            fix: (!grader_ok).then(|| "scripts/setup-models.sh".into()),
        },
        Check {
            name: "Microphone + Whisper",
            ok: false,
            detail: "speech recognition is not in this build yet; answers are typed".into(),
            fix: None,
        },
        Check {
            name: "Speaker + voice",
            ok: false,
            detail: "the spoken voice is not in this build yet; questions are shown as text".into(),
            fix: None,
        },
        Check {
            name: "LLM",
            ok: false,
            detail: "not configured: the built-in bank and offline grader are used".into(),
            fix: None,
        },
    ]
}
