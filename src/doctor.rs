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
        listening(),
        voice(),
        Check {
            name: "LLM",
            ok: false,
            detail: "endpoint settings and a live check: `dataready doctor` (none: bank + offline grader)".into(),
            fix: None,
        },
    ]
}

/// "installed and verified" when the install's check on the known clip passed.
fn checked(name: &str) -> String {
    let verified = crate::transcribe::model::manifest(name)
        .and_then(|m| m.verified)
        .is_some_and(|v| v.passed());
    if verified {
        "installed and verified".into()
    } else {
        format!("installed (not verified: run `dataready models install --model {name}`)")
    }
}

/// Speech recognition needs both an installed Whisper model and a microphone that opens.
fn listening() -> Check {
    use crate::transcribe::model;
    let whisper = model::find(None);
    let mic = crate::listen::capture::probe(None);
    let (ok, detail, fix) = match (&whisper, &mic) {
        (Ok((name, _)), Ok(dev)) => (
            true,
            format!("Whisper {name} {}; microphone {dev}", checked(name)),
            None,
        ),
        (Err(_), Ok(dev)) => (
            false,
            format!("microphone {dev}, but no Whisper model"),
            Some(format!("dataready models install --model {}", model::DEFAULT_MODEL)),
        ),
        (Ok((name, _)), Err(_)) => {
            let devices = crate::listen::capture::devices();
            (
                false,
                format!(
                    "Whisper {name} {} (`dataready transcribe FILE.wav` works); no microphone opens \
                     (input devices: {}), so answers are typed",
                    checked(name),
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
    let (ok, detail) = match (&voice, &runtime) {
        (Ok(v), Ok(_)) => (
            true,
            format!("{} ready (speaker checked when the interview starts)", v.name),
        ),
        (Err(e), _) => (false, format!("no voice: {e}")),
        (_, Err(e)) => (false, format!("ONNX Runtime: {e}")),
    };
    Check {
        name: "Speaker + voice",
        ok,
        detail: crate::text::one_line(&detail, 160),
        fix: (!ok).then(|| "scripts/setup-voice.sh".into()),
    }
}
