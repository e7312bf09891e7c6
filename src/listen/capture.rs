//! The microphone (cpal): opens the default or a named input device at whatever rate and channel
//! layout it offers and hands out mono chunks at the device rate.

use std::sync::mpsc::{Receiver, sync_channel};

use cpal::SizedSample;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(
        "no microphone found{} (`dataready doctor` shows the input devices)",
        .0.as_deref().map(|n| format!(" named {n:?}")).unwrap_or_default()
    )]
    NoDevice(Option<String>),
    #[error("the microphone {device:?} cannot record ({why})")]
    Open { device: String, why: String },
    #[error("the microphone {0:?} stopped sending audio (unplugged?)")]
    Lost(String),
}

/// An open, running input stream.
pub struct Microphone {
    // Dropped before the stream, so a callback waiting on a full channel is released and the
    // stream's thread can be joined.
    pub chunks: Receiver<Vec<f32>>,
    _stream: cpal::Stream,
    pub rate: u32,
    pub name: String,
    /// Someone is reading (an answer is being heard): the callback may wait for room in the channel.
    /// Between answers it never waits, and what does not fit is dropped.
    pub listening: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// Input devices this machine offers, by name.
pub fn devices() -> Vec<String> {
    quiet_stderr(|| {
        cpal::default_host()
            .input_devices()
            .map(|d| d.map(|d| d.to_string()).collect())
            .unwrap_or_default()
    })
}

/// Whether the default (or named) input can be opened, without recording.
pub fn probe(name: Option<&str>) -> Result<String, CaptureError> {
    open(name).map(|m| m.name)
}

/// Runs `f` with file descriptor 2 pointed at /dev/null: ALSA prints its probing errors there,
/// which would tear the terminal room's screen. Our own errors are returned, not printed.
fn quiet_stderr<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(unix)]
    // SAFETY: plain fd juggling with error checks; fd 2 is restored before returning.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        let saved = libc::dup(2);
        if null >= 0 && saved >= 0 {
            libc::dup2(null, 2);
            let out = f();
            libc::dup2(saved, 2);
            libc::close(saved);
            libc::close(null);
            return out;
        }
        if null >= 0 {
            libc::close(null);
        }
        if saved >= 0 {
            libc::close(saved);
        }
    }
    f()
}

pub fn open(name: Option<&str>) -> Result<Microphone, CaptureError> {
    quiet_stderr(|| open_loud(name))
}

fn open_loud(name: Option<&str>) -> Result<Microphone, CaptureError> {
    let host = cpal::default_host();
    let device = match name {
        None => host.default_input_device(),
        Some(n) => host
            .input_devices()
            .ok()
            .and_then(|mut ds| ds.find(|d| d.to_string() == n || d.to_string().contains(n))),
    }
    .ok_or_else(|| CaptureError::NoDevice(name.map(str::to_string)))?;
    let label = device.to_string();
    let open_err = |e: cpal::Error| match e.kind() {
        cpal::ErrorKind::DeviceNotAvailable => CaptureError::NoDevice(name.map(str::to_string)),
        _ => CaptureError::Open {
            device: label.clone(),
            why: e.to_string().trim_end_matches('.').to_string(),
        },
    };
    let mut supported = device.default_input_config().map_err(open_err)?;
    // A rate override (tests, or devices whose default rate misbehaves): use it if the device offers it.
    if let Some(rate) = std::env::var("DATAREADY_MIC_RATE")
        .ok()
        .and_then(|r| r.parse::<u32>().ok())
        && let Ok(configs) = device.supported_input_configs()
    {
        let mut configs: Vec<_> = configs
            .filter(|c| c.min_sample_rate() <= rate && rate <= c.max_sample_rate())
            .collect();
        configs.sort_by_key(|c| (c.channels(), c.sample_format() != cpal::SampleFormat::I16));
        if let Some(c) = configs.into_iter().next() {
            supported = c.with_sample_rate(rate);
        }
    }
    let channels = usize::from(supported.channels().max(1));
    let rate = supported.sample_rate();
    let format = supported.sample_format();
    let config: cpal::StreamConfig = supported.into();
    // Bounded. While an answer is heard the callback waits when it is full: the consumer only pushes samples
    // into the detector, so a real device never waits, and a clockless test device is paced instead of
    // dropping audio. Between answers nobody reads, so the audio thread must not wait: overflow is dropped.
    let (tx, rx) = sync_channel::<Vec<f32>>(512);
    let listening = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));

    fn build<T: SizedSample + Send + 'static>(
        device: &cpal::Device,
        config: cpal::StreamConfig,
        channels: usize,
        tx: std::sync::mpsc::SyncSender<Vec<f32>>,
        listening: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> Result<cpal::Stream, cpal::Error>
    where
        f32: cpal::FromSample<T>,
    {
        device.build_input_stream(
            config,
            move |data: &[T], _: &cpal::InputCallbackInfo| {
                let mono: Vec<f32> = data
                    .chunks(channels)
                    .map(|f| f.iter().map(|s| s.to_sample::<f32>()).sum::<f32>() / f.len() as f32)
                    .collect();
                if listening.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = tx.send(mono);
                } else {
                    let _ = tx.try_send(mono);
                }
            },
            |e| tracing::warn!("microphone stream error: {e}"),
            None,
        )
    }

    let stream = match format {
        cpal::SampleFormat::I16 => build::<i16>(&device, config, channels, tx, std::sync::Arc::clone(&listening)),
        cpal::SampleFormat::I32 => build::<i32>(&device, config, channels, tx, std::sync::Arc::clone(&listening)),
        cpal::SampleFormat::U16 => build::<u16>(&device, config, channels, tx, std::sync::Arc::clone(&listening)),
        cpal::SampleFormat::U8 => build::<u8>(&device, config, channels, tx, std::sync::Arc::clone(&listening)),
        cpal::SampleFormat::I8 => build::<i8>(&device, config, channels, tx, std::sync::Arc::clone(&listening)),
        cpal::SampleFormat::F64 => build::<f64>(&device, config, channels, tx, std::sync::Arc::clone(&listening)),
        _ => build::<f32>(&device, config, channels, tx, std::sync::Arc::clone(&listening)),
    }
    .map_err(open_err)?;
    stream.play().map_err(open_err)?;
    tracing::info!(device = %label, rate, channels, ?format, "microphone open");
    Ok(Microphone {
        _stream: stream,
        chunks: rx,
        rate,
        name: label,
        listening,
    })
}
