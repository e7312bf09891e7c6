//! One loaded Piper voice: phonemes in, audio out, through piper-rs and ONNX Runtime.

use std::io::{Read, Seek, SeekFrom};
use std::panic::AssertUnwindSafe;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::phonemes::{self, Sentence};
use super::{VoiceError, VoiceFiles, runtime};

pub struct Synth {
    piper: piper_rs::Piper,
    pub sample_rate: u32,
    espeak_voice: String,
    length_scale: f32,
    /// Identifies the voice's files for the cache: config bytes plus the model's size, head and tail.
    pub key: String,
}

impl Synth {
    /// Loads a voice, checking each part in turn so a failure names its cause: ONNX Runtime, the
    /// config, the model, whether the two belong together, espeak-ng.
    pub fn load(files: &VoiceFiles) -> Result<Self, VoiceError> {
        let config_bytes = std::fs::read(&files.config).map_err(|e| VoiceError::io(&files.config, e))?;
        let config = parse_config(&files.config, &config_bytes)?;
        if !files.model.is_file() {
            return Err(VoiceError::VoiceFiles {
                path: files.model.clone(),
                reason: "the voice model (.onnx) is missing".into(),
            });
        }
        runtime::ensure()?;
        let bad_model = |reason: String| VoiceError::BadModel {
            path: files.model.clone(),
            reason,
        };
        let threads = std::env::var("DATAREADY_TTS_THREADS")
            .ok()
            .and_then(|t| t.parse::<usize>().ok())
            .unwrap_or(0);
        let spin = std::env::var("DATAREADY_TTS_SPIN").is_ok_and(|v| v == "1");
        let session = ort::session::Session::builder()
            .map_err(|e| bad_model(e.to_string()))?
            .with_intra_threads(threads)
            .map_err(|e| bad_model(e.to_string()))?
            .with_intra_op_spinning(spin)
            .map_err(|e| bad_model(e.to_string()))?
            .commit_from_file(&files.model)
            .map_err(|e| bad_model(first_line(&e.to_string())))?;
        let inputs: Vec<String> = session.inputs().iter().map(|i| i.name().to_string()).collect();
        let mismatch = |reason: String| VoiceError::ConfigMismatch {
            path: files.config.clone(),
            reason,
        };
        for needed in ["input", "input_lengths", "scales"] {
            if !inputs.iter().any(|i| i == needed) {
                return Err(bad_model(format!(
                    "it has no `{needed}` input (inputs: {}); is it a Piper voice?",
                    inputs.join(", ")
                )));
            }
        }
        let has_sid = inputs.iter().any(|i| i == "sid");
        if has_sid != (config.num_speakers > 1) {
            return Err(mismatch(format!(
                "the config says {} speaker(s) but the model {} a speaker input",
                config.num_speakers,
                if has_sid { "has" } else { "has no" }
            )));
        }
        let sample_rate = config.audio.sample_rate;
        let espeak_voice = config.espeak.voice.clone();
        let length_scale = config.inference.length_scale;
        let key = voice_key(&files.model, &config_bytes)?;
        let mut synth = Self {
            piper: piper_rs::Piper::from_session(session, config),
            sample_rate,
            espeak_voice,
            length_scale,
            key,
        };
        // A first sentence checks espeak-ng and that the phoneme ids fit the model, and warms ONNX Runtime up.
        let probe = phonemes::split_sentences("Hello.");
        synth.sentence(&probe[0], 1.0).map_err(|e| match e {
            VoiceError::Synthesis(reason) => mismatch(reason),
            other => other,
        })?;
        Ok(synth)
    }

    /// Synthesizes one sentence at `rate` (1.0 normal, 2.0 twice as fast), peak-normalized as Python piper does.
    pub fn sentence(&mut self, sentence: &Sentence, rate: f32) -> Result<Vec<f32>, VoiceError> {
        let ph = phonemes::phonemize(sentence, &self.espeak_voice)?;
        if ph.chars().all(|c| c.is_whitespace() || ".,;:?!".contains(c)) {
            return Ok(Vec::new());
        }
        let length_scale = self.length_scale / rate.clamp(0.25, 4.0);
        let piper = &mut self.piper;
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            piper.create(&ph, true, None, Some(length_scale), None, None)
        }));
        let (mut audio, _) = match result {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => return Err(VoiceError::Synthesis(first_line(&e.to_string()))),
            Err(_) => return Err(VoiceError::Synthesis("the synthesizer panicked".into())),
        };
        let peak = audio.iter().fold(0f32, |m, s| m.max(s.abs()));
        if peak > 1e-8 {
            for s in &mut audio {
                *s = (*s / peak).clamp(-1.0, 1.0);
            }
        }
        Ok(audio)
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(300).collect()
}

fn parse_config(path: &Path, bytes: &[u8]) -> Result<piper_rs::ModelConfig, VoiceError> {
    let bad = |reason: String| VoiceError::BadConfig {
        path: path.to_path_buf(),
        reason,
    };
    let config: piper_rs::ModelConfig = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    for c in ['_', '^', '$'] {
        if !config.phoneme_id_map.contains_key(&c) {
            return Err(bad(format!("phoneme_id_map has no {c:?}")));
        }
    }
    if !(8_000..=96_000).contains(&config.audio.sample_rate) {
        return Err(bad(format!(
            "sample_rate {} is not a speech rate",
            config.audio.sample_rate
        )));
    }
    if !(config.inference.length_scale > 0.0 && config.inference.length_scale < 10.0) {
        return Err(bad(format!(
            "length_scale {} is out of range",
            config.inference.length_scale
        )));
    }
    Ok(config)
}

/// A cheap content key: reading the whole 60 MB model at every start would cost more than it saves.
fn voice_key(model: &Path, config: &[u8]) -> Result<String, VoiceError> {
    let mut f = std::fs::File::open(model).map_err(|e| VoiceError::io(model, e))?;
    let len = f.metadata().map_err(|e| VoiceError::io(model, e))?.len();
    let mut h = Sha256::new();
    h.update(config);
    h.update(len.to_le_bytes());
    let mut buf = vec![0u8; 1 << 20];
    for start in [0, len.saturating_sub(1 << 20)] {
        f.seek(SeekFrom::Start(start)).map_err(|e| VoiceError::io(model, e))?;
        let n = f.read(&mut buf).map_err(|e| VoiceError::io(model, e))?;
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize())[..16].to_string())
}
