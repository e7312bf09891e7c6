//! Synthesized sentences on disk, keyed by (voice, rate, text): 32-bit float WAV files, written whole
//! (temp file + rename) so a reader never sees half a sentence.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[derive(Clone)]
pub struct Cache {
    dir: Option<PathBuf>,
    sample_rate: u32,
}

impl Cache {
    /// A cache under `root/<voice key>/`; `None` turns caching off.
    pub fn new(root: Option<&Path>, voice_key: &str, sample_rate: u32) -> Self {
        let dir = root.map(|r| r.join(voice_key));
        if let Some(d) = &dir {
            // Unwritable cache: synthesis still works, it just isn't kept.
            let _ = std::fs::create_dir_all(d);
        }
        Self { dir, sample_rate }
    }

    fn path(&self, rate: f32, text: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let mut h = Sha256::new();
        h.update(format!("{:.3}", rate).as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        Some(dir.join(format!("{}.wav", &format!("{:x}", h.finalize())[..32])))
    }

    pub fn contains(&self, rate: f32, text: &str) -> bool {
        self.path(rate, text).is_some_and(|p| p.is_file())
    }

    pub fn get(&self, rate: f32, text: &str) -> Option<Vec<f32>> {
        let path = self.path(rate, text)?;
        let reader = hound::WavReader::open(&path).ok()?;
        if reader.spec().sample_rate != self.sample_rate || reader.spec().channels != 1 {
            return None;
        }
        let samples: Result<Vec<f32>, _> = reader.into_samples::<f32>().collect();
        // A damaged entry is dropped and synthesized again.
        samples.ok().or_else(|| {
            let _ = std::fs::remove_file(&path);
            None
        })
    }

    pub fn put(&self, rate: f32, text: &str, samples: &[f32]) {
        let Some(path) = self.path(rate, text) else { return };
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if write_wav_f32(&tmp, self.sample_rate, samples).is_ok() {
            let _ = std::fs::rename(&tmp, &path);
        } else {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

fn write_wav_f32(path: &Path, sample_rate: u32, samples: &[f32]) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for s in samples {
        w.write_sample(*s)?;
    }
    w.finalize()
}

/// Writes speech as 16-bit PCM WAV, the format every player reads.
pub fn write_wav_i16(path: &Path, sample_rate: u32, samples: &[f32]) -> Result<(), hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec)?;
    for s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0).round() as i16)?;
    }
    w.finalize()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keys_by_rate_and_text() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::new(Some(dir.path()), "voice", 22050);
        assert!(c.get(1.0, "Hello.").is_none());
        c.put(1.0, "Hello.", &[0.0, 0.5, -0.25]);
        assert_eq!(c.get(1.0, "Hello."), Some(vec![0.0, 0.5, -0.25]));
        assert!(c.get(1.2, "Hello.").is_none());
        assert!(c.get(1.0, "Hello!").is_none());
        assert!(
            Cache::new(Some(dir.path()), "other", 22050)
                .get(1.0, "Hello.")
                .is_none()
        );
    }

    #[test]
    fn damaged_entries_are_misses() {
        let dir = tempfile::tempdir().unwrap();
        let c = Cache::new(Some(dir.path()), "v", 22050);
        c.put(1.0, "x", &[0.1; 100]);
        let p = c.path(1.0, "x").unwrap();
        std::fs::write(&p, b"RIFF garbage").unwrap();
        assert!(c.get(1.0, "x").is_none());
        let off = Cache::new(None, "v", 22050);
        off.put(1.0, "x", &[0.1]);
        assert!(off.get(1.0, "x").is_none());
    }
}
