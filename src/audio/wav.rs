//! Audio in and out of WAV files, and conversion of any rate/channel layout to Whisper's 16 kHz mono.

use std::path::{Path, PathBuf};

use rubato::{FftFixedIn, Resampler};

/// Whisper's input rate.
pub const RATE: u32 = 16_000;

/// The longest WAV `read` accepts: an interview answer is minutes, not hours.
pub const MAX_WAV_SECONDS: u64 = 15 * 60;

#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{path}: cannot open ({why})")]
    Open { path: PathBuf, why: String },
    #[error(
        "{path}: not a readable WAV file ({why}). Record or convert it as PCM WAV, e.g. `ffmpeg -i IN -ar 16000 -ac 1 OUT.wav`"
    )]
    NotWav { path: PathBuf, why: String },
    #[error("{path}: the WAV holds no audio")]
    Empty { path: PathBuf },
    #[error("{path}: {seconds} s of audio is longer than the {max} s limit for one answer; split the file")]
    TooLong { path: PathBuf, seconds: u64, max: u64 },
    #[error("{path}: {why}")]
    Write { path: PathBuf, why: String },
    #[error("cannot resample from {rate} Hz: {why}")]
    Resample { rate: u32, why: String },
}

/// A recording converted to 16 kHz mono, with what the file was.
#[derive(Debug, Clone)]
pub struct Clip {
    pub samples: Vec<f32>,
    pub source_rate: u32,
    pub source_channels: u16,
    pub source_bits: u16,
}

impl Clip {
    pub fn duration_ms(&self) -> u64 {
        self.samples.len() as u64 * 1000 / u64::from(RATE)
    }
}

/// Reads a PCM or float WAV of any rate, channel count and bit depth as 16 kHz mono.
pub fn read(path: &Path) -> Result<Clip, AudioError> {
    let file = std::fs::File::open(path).map_err(|e| AudioError::Open {
        path: path.into(),
        why: e.to_string(),
    })?;
    let not_wav = |why: String| AudioError::NotWav { path: path.into(), why };
    let reader = hound::WavReader::new(std::io::BufReader::new(file)).map_err(|e| not_wav(e.to_string()))?;
    let spec = reader.spec();
    if spec.channels == 0 || spec.sample_rate == 0 {
        return Err(not_wav("zero channels or sample rate".into()));
    }
    let seconds = u64::from(reader.duration()) / u64::from(spec.sample_rate);
    if seconds > MAX_WAV_SECONDS {
        return Err(AudioError::TooLong {
            path: path.into(),
            seconds,
            max: MAX_WAV_SECONDS,
        });
    }
    let interleaved: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Float, 32) => reader.into_samples::<f32>().collect::<Result<_, _>>(),
        (hound::SampleFormat::Int, bits @ 1..=32) => {
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|v| v as f32 * scale))
                .collect::<Result<_, _>>()
        }
        (f, b) => return Err(not_wav(format!("unsupported sample format {f:?} with {b} bits"))),
    }
    .map_err(|e| not_wav(e.to_string()))?;
    if interleaved.len() < usize::from(spec.channels) {
        return Err(AudioError::Empty { path: path.into() });
    }
    let samples = to_mono_16k(&interleaved, spec.sample_rate, spec.channels)?;
    Ok(Clip {
        samples,
        source_rate: spec.sample_rate,
        source_channels: spec.channels,
        source_bits: spec.bits_per_sample,
    })
}

/// Writes 16 kHz mono samples as a 16-bit PCM WAV (written beside, then renamed into place).
pub fn write(path: &Path, samples: &[f32]) -> Result<(), AudioError> {
    let err = |e: String| AudioError::Write {
        path: path.into(),
        why: e,
    };
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let tmp = path.with_extension("wav.partial");
    let mut w = hound::WavWriter::create(&tmp, spec).map_err(|e| err(e.to_string()))?;
    for s in samples {
        w.write_sample((s.clamp(-1.0, 1.0) * 32767.0) as i16)
            .map_err(|e| err(e.to_string()))?;
    }
    w.finalize().map_err(|e| err(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
}

/// Averages channels, then resamples to 16 kHz.
pub fn to_mono_16k(interleaved: &[f32], rate: u32, channels: u16) -> Result<Vec<f32>, AudioError> {
    let ch = usize::from(channels.max(1));
    let mono: Vec<f32> = interleaved
        .chunks_exact(ch)
        .map(|f| f.iter().sum::<f32>() / ch as f32)
        .collect();
    let mut r = Resample16k::new(rate)?;
    let mut out = r.push(&mono)?;
    out.extend(r.finish()?);
    Ok(out)
}

/// Streaming conversion to 16 kHz (FFT resampling, rubato), for microphone chunks of any size.
pub struct Resample16k {
    rate: u32,
    inner: Option<FftFixedIn<f32>>,
    pending: Vec<f32>,
    /// Output samples still to drop: the resampler's delay.
    skip: usize,
    fed: u64,
    produced: u64,
}

impl Resample16k {
    pub fn new(rate: u32) -> Result<Self, AudioError> {
        let inner = if rate == RATE {
            None
        } else {
            let r =
                FftFixedIn::<f32>::new(rate as usize, RATE as usize, 1024, 2, 1).map_err(|e| AudioError::Resample {
                    rate,
                    why: e.to_string(),
                })?;
            Some(r)
        };
        let skip = inner.as_ref().map_or(0, Resampler::output_delay);
        Ok(Self {
            rate,
            inner,
            pending: Vec::new(),
            skip,
            fed: 0,
            produced: 0,
        })
    }

    fn fail(&self, e: impl std::fmt::Display) -> AudioError {
        AudioError::Resample {
            rate: self.rate,
            why: e.to_string(),
        }
    }

    fn emit(&mut self, mut chunk: Vec<f32>, out: &mut Vec<f32>) {
        let drop = self.skip.min(chunk.len());
        self.skip -= drop;
        chunk.drain(..drop);
        self.produced += chunk.len() as u64;
        out.extend(chunk);
    }

    pub fn push(&mut self, samples: &[f32]) -> Result<Vec<f32>, AudioError> {
        self.fed += samples.len() as u64;
        if self.inner.is_none() {
            self.produced += samples.len() as u64;
            return Ok(samples.to_vec());
        }
        self.pending.extend_from_slice(samples);
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(r) = self.inner.as_mut() {
            let need = r.input_frames_next();
            if self.pending.len() - at < need {
                break;
            }
            let res = r.process(&[&self.pending[at..at + need]], None);
            let chunk = res.map_err(|e| self.fail(e))?;
            at += need;
            self.emit(chunk.into_iter().next().unwrap_or_default(), &mut out);
        }
        self.pending.drain(..at);
        Ok(out)
    }

    /// Flushes what is buffered, so the output has the input's duration.
    pub fn finish(&mut self) -> Result<Vec<f32>, AudioError> {
        let mut out = Vec::new();
        if self.inner.is_none() {
            return Ok(out);
        }
        let expected = self.fed * u64::from(RATE) / u64::from(self.rate);
        let pending = std::mem::take(&mut self.pending);
        let mut first = Some(pending);
        while self.produced < expected {
            let Some(r) = self.inner.as_mut() else { break };
            let res = match first.take().filter(|p| !p.is_empty()) {
                Some(p) => r.process_partial(Some(&[p.as_slice()]), None),
                None => r.process_partial(None::<&[&[f32]]>, None),
            }
            .map_err(|e| self.fail(e))?;
            let chunk = res.into_iter().next().unwrap_or_default();
            if chunk.is_empty() {
                break;
            }
            self.emit(chunk, &mut out);
        }
        let extra = self.produced.saturating_sub(expected) as usize;
        out.truncate(out.len().saturating_sub(extra));
        self.produced = expected;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, secs: f32) -> Vec<f32> {
        (0..(rate as f32 * secs) as usize)
            .map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn resampling_keeps_duration_and_signal() {
        for rate in [8000, 22050, 44100, 48000] {
            let out = to_mono_16k(&tone(rate, 1.5), rate, 1).unwrap();
            assert!((out.len() as i64 - 24_000).abs() <= 1, "{rate}: {}", out.len());
            let rms = (out[4000..20000].iter().map(|v| v * v).sum::<f32>() / 16000.0).sqrt();
            assert!((rms - 0.3535).abs() < 0.02, "{rate}: rms {rms}");
        }
    }

    #[test]
    fn streaming_in_odd_chunks_matches_duration() {
        let input = tone(48000, 2.0);
        let mut r = Resample16k::new(48000).unwrap();
        let mut out = Vec::new();
        for c in input.chunks(333) {
            out.extend(r.push(c).unwrap());
        }
        out.extend(r.finish().unwrap());
        assert_eq!(out.len(), 32_000);
    }

    #[test]
    fn input_of_whole_resampler_chunks_flushes() {
        // No samples left over for the final partial chunk (a bug once).
        let out = to_mono_16k(&vec![0.1; 1024 * 20], 22050, 1).unwrap();
        assert_eq!(out.len(), 1024 * 20 * 16000 / 22050);
    }

    #[test]
    fn stereo_is_averaged() {
        let inter: Vec<f32> = (0..3200).flat_map(|_| [0.5f32, -0.5]).collect();
        let out = to_mono_16k(&inter, 16000, 2).unwrap();
        assert_eq!(out.len(), 3200);
        assert!(out.iter().all(|v| v.abs() < 1e-6));
    }
}
