//! The interviewer's voice: Piper speech (piper-rs on ONNX Runtime), split into sentences, cached on
//! disk, synthesized ahead in the background and played with rodio on its own thread.
//!
//! [`Voice`] is the adapter the rest of the program sees: `speak(text)` returns at once with an
//! [`Utterance`] whose first sentence is already playing (or is being synthesized) while the rest
//! follows; `prefetch(texts)` fills the cache while the candidate answers. [`Spoken`] wraps any
//! [`crate::session::Candidate`] so the interview speaks every line it shows.

mod cache;

mod engine;
pub mod install;
pub mod manifest;
mod options;
mod phonemes;
mod player;
mod replay;
pub mod runtime;
mod spoken;
mod synth;
mod utterance;

use std::path::PathBuf;

pub use engine::{Voice, VoiceOptions};
pub use manifest::{Manifest, VoiceEntry};
pub use options::{InterviewVoice, InterviewVoiceOptions, VoiceChoice, VoiceFiles, open_for_interview, resolve_voice};
pub use phonemes::{Sentence, espeak_phonemes, split_line, split_sentences};
pub use player::output_devices;

/// Whether the default speaker (or the one named) opens: its device name, or why not. The device is
/// opened and closed again at once, for `doctor`.
pub fn probe_speaker(speaker: Option<&str>) -> Result<String, VoiceError> {
    let handle = player::open(speaker, 22_050)?;
    handle.shutdown();
    Ok(handle.device.clone())
}
pub use replay::Replay;
pub use spoken::Spoken;
pub use synth::Synth;
pub use utterance::Utterance;

/// Everything that can go wrong with the voice, each with what to do next.
#[derive(Debug, thiserror::Error)]
pub enum VoiceError {
    #[error(
        "ONNX Runtime is not installed (looked for {searched}). Install it with `scripts/setup-voice.sh`, \
         or point ORT_DYLIB_PATH at libonnxruntime.so (version 1.24 or later)"
    )]
    RuntimeMissing { searched: String },
    #[error(
        "cannot use ONNX Runtime at {path}: {reason}. Reinstall it with `scripts/setup-voice.sh --force`, \
         or point ORT_DYLIB_PATH at libonnxruntime.so (version 1.24 or later)"
    )]
    RuntimeBad { path: PathBuf, reason: String },
    #[error("voice {name} is not installed; install it with: dataready voices install {name}")]
    NotInstalled { name: String },
    #[error("no voice named {given:?} and no such file; known voices: {known} (or give a path to a Piper .onnx)")]
    UnknownVoice { given: String, known: String },
    #[error("{path}: {reason}")]
    VoiceFiles { path: PathBuf, reason: String },
    #[error("{path}: not a usable Piper voice config: {reason}")]
    BadConfig { path: PathBuf, reason: String },
    #[error("{path}: not a usable Piper voice model: {reason}. Reinstall the voice (dataready voices install --force)")]
    BadModel { path: PathBuf, reason: String },
    #[error("{path}: the config does not match the model: {reason}")]
    ConfigMismatch { path: PathBuf, reason: String },
    #[error(
        "espeak-ng (phonemes) failed: {0}. Install Debian's espeak-ng-data or set PIPER_ESPEAKNG_DATA_DIRECTORY to \
         the folder that holds espeak-ng-data/"
    )]
    Espeak(String),
    #[error("speech synthesis failed: {0}")]
    Synthesis(String),
    #[error("no audio output: {0}")]
    NoOutput(String),
    #[error("voices manifest {path}: {reason}")]
    Manifest { path: String, reason: String },
    #[error("installing voice {name}: {reason}")]
    Install { name: String, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl VoiceError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}

/// Where installed voices live: `<models>/voices/<name>/`.
pub fn voices_dir() -> PathBuf {
    crate::paths::models_dir().join("voices")
}

/// The disk cache of synthesized sentences: `DATAREADY_TTS_CACHE`, else `<cache>/tts`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("DATAREADY_TTS_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::paths::cache_dir().join("tts"))
}
