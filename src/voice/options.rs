//! The voice's command-line flags and how they become a [`Voice`]: which files, whether to play,
//! and what to do when there is no sound card (say so, go on in text).

use std::path::{Path, PathBuf};

use super::{Manifest, Voice, VoiceError, VoiceOptions, install};
use crate::notice::Notice;

/// Which voice, how fast and on which device (from `interview` and `say` flags).
#[derive(Debug, Clone)]
pub struct VoiceChoice {
    /// An installed voice's name or a path to a `.onnx`; `None` is the manifest's default.
    pub voice: Option<String>,
    /// Speaking speed from 0.5 to 2.0.
    pub rate: f32,
    /// Output device name; `None` is the system default.
    pub speaker: Option<String>,
}

impl Default for VoiceChoice {
    fn default() -> Self {
        Self {
            voice: None,
            rate: 1.0,
            speaker: None,
        }
    }
}

/// The interview's voice options.
#[derive(Debug, Clone, Default)]
pub struct InterviewVoiceOptions {
    pub voice: VoiceChoice,
    /// Write every spoken line as a WAV file into this folder.
    pub tts_out: Option<PathBuf>,
    /// Text only: the interviewer does not speak.
    pub no_voice: bool,
}

/// A Piper voice on disk: the model and its config.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceFiles {
    pub name: String,
    pub model: PathBuf,
    pub config: PathBuf,
}

/// `--voice` to files: a path (`.onnx`, `.onnx.json` or a folder holding one voice), an installed
/// voice's name, or the manifest's default.
pub fn resolve_voice(spec: Option<&str>) -> Result<VoiceFiles, VoiceError> {
    let manifest = Manifest::load()?;
    let spec = match spec.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => s.to_string(),
        None => manifest
            .default_voice()
            .map(|v| v.name.clone())
            .ok_or_else(|| VoiceError::Manifest {
                path: "voices/voices.toml".into(),
                reason: "it lists no voice".into(),
            })?,
    };
    let path = Path::new(&spec);
    let looks_like_path = spec.contains('/') || spec.ends_with(".onnx") || spec.ends_with(".json") || path.exists();
    if looks_like_path {
        return from_path(path);
    }
    let dir = install::voice_dir(&spec);
    let model = dir.join(format!("{spec}.onnx"));
    if model.is_file() {
        return with_config(spec.clone(), model);
    }
    if manifest.get(&spec).is_some() {
        return Err(VoiceError::NotInstalled { name: spec });
    }
    Err(VoiceError::UnknownVoice {
        given: spec,
        known: manifest.names(),
    })
}

fn from_path(path: &Path) -> Result<VoiceFiles, VoiceError> {
    let model = if path.is_dir() {
        let onnx: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| VoiceError::io(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "onnx"))
            .collect();
        match onnx.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(VoiceError::VoiceFiles {
                    path: path.into(),
                    reason: "no .onnx voice in this folder".into(),
                });
            }
            _ => {
                return Err(VoiceError::VoiceFiles {
                    path: path.into(),
                    reason: "several .onnx voices in this folder; give the file".into(),
                });
            }
        }
    } else {
        let s = path.to_string_lossy();
        match s.strip_suffix(".json") {
            Some(model) => PathBuf::from(model),
            None => path.to_path_buf(),
        }
    };
    if !model.is_file() {
        return Err(VoiceError::VoiceFiles {
            path: model,
            reason: "no such voice model (a Piper voice is a .onnx file with its .onnx.json)".into(),
        });
    }
    let name = model
        .file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".onnx").to_string())
        .unwrap_or_default();
    with_config(name, model)
}

fn with_config(name: String, model: PathBuf) -> Result<VoiceFiles, VoiceError> {
    let mut config = model.clone().into_os_string();
    config.push(".json");
    let config = PathBuf::from(config);
    if !config.is_file() {
        return Err(VoiceError::VoiceFiles {
            path: config,
            reason: "the voice's config is missing (it must sit beside the .onnx, named <model>.onnx.json)".into(),
        });
    }
    Ok(VoiceFiles { name, model, config })
}

/// What an interview speaks with.
pub struct InterviewVoice {
    pub voice: Voice,
    pub tts_out: Option<PathBuf>,
    /// Let each line play to its end before the candidate answers (scripted runs).
    pub wait: bool,
}

/// Sets up the voice for an interview. Runs with a person at the terminal speak by default;
/// `unattended` ones (scripted or piped answers) only when a voice flag asks, and then each line plays
/// to its end. A voice that was asked for and can't load is an error; the default one missing is a
/// notice. No sound device is always a notice: the questions are shown as text and the run goes on.
pub fn open_for_interview(
    args: &InterviewVoiceOptions,
    unattended: bool,
    notify: &mut dyn FnMut(Notice),
) -> Result<Option<InterviewVoice>, VoiceError> {
    let scripted = unattended;
    if args.no_voice {
        return Ok(None);
    }
    let v = &args.voice;
    let explicit = v.voice.is_some() || v.speaker.is_some() || args.tts_out.is_some();
    if scripted && !explicit {
        return Ok(None);
    }
    let files = match resolve_voice(v.voice.as_deref()) {
        Ok(f) => f,
        Err(e) if !explicit => {
            notify(Notice::Note(format!("the interviewer will not speak: {e}")));
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let options = VoiceOptions {
        rate: v.rate,
        speaker: v.speaker.clone(),
        ..VoiceOptions::default()
    };
    // Scripted runs play only on a named speaker; otherwise they just write --tts-out.
    let play = !scripted || v.speaker.is_some();
    let opened = if play {
        Voice::open(&files, &options)
    } else {
        Voice::open_silent(&files, &options)
    };
    let voice = match opened {
        Ok(voice) => voice,
        Err(VoiceError::NoOutput(why)) => {
            notify(Notice::Note(format!(
                "no audio output ({why}); questions are shown as text only."
            )));
            if args.tts_out.is_none() {
                return Ok(None);
            }
            Voice::open_silent(&files, &options)?
        }
        Err(e) if !explicit => {
            notify(Notice::Note(format!("the interviewer will not speak: {e}")));
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    Ok(Some(InterviewVoice {
        voice,
        tts_out: args.tts_out.clone(),
        wait: scripted,
    }))
}
