//! The microphone (cpal): opens the default or a named input device at whatever rate and channel
//! layout it offers and hands out mono chunks at the device rate.

use std::sync::mpsc::{Receiver, sync_channel};

use cpal::SizedSample;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};

#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(
        "no microphone found{}. Answers can still be typed: run without --voice, or check `dataready doctor`",
        .0.as_deref().map(|n| format!(" named {n:?}")).unwrap_or_default()
    )]
    NoDevice(Option<String>),
    #[error("the microphone {device} cannot record: {why}. Answers can still be typed: run without --voice")]
    Open { device: String, why: String },
}

/// An open, running input stream.
pub struct Microphone {
    _stream: cpal::Stream,
    pub chunks: Receiver<Vec<f32>>,
    pub rate: u32,
    pub name: String,
}

/// Input devices this machine offers, by name.
pub fn devices() -> Vec<String> {
    cpal::default_host()
        .input_devices()
        .map(|d| d.map(|d| d.to_string()).collect())
        .unwrap_or_default()
}

pub fn open(name: Option<&str>) -> Result<Microphone, CaptureError> {
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
    let open_err = |e: cpal::Error| CaptureError::Open {
        device: label.clone(),
        why: e.to_string(),
    };
    let supported = device.default_input_config().map_err(open_err)?;
    let channels = usize::from(supported.channels().max(1));
    let rate = supported.sample_rate();
    let format = supported.sample_format();
    let config: cpal::StreamConfig = supported.into();
    // Bounded so a stalled consumer cannot grow memory without limit (about 40 s of 10 ms chunks).
    let (tx, rx) = sync_channel::<Vec<f32>>(4096);

    fn build<T: SizedSample + Send + 'static>(
        device: &cpal::Device,
        config: cpal::StreamConfig,
        channels: usize,
        tx: std::sync::mpsc::SyncSender<Vec<f32>>,
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
                let _ = tx.try_send(mono);
            },
            |e| tracing::warn!("microphone stream error: {e}"),
            None,
        )
    }

    let stream = match format {
        cpal::SampleFormat::I16 => build::<i16>(&device, config, channels, tx),
        cpal::SampleFormat::I32 => build::<i32>(&device, config, channels, tx),
        cpal::SampleFormat::U16 => build::<u16>(&device, config, channels, tx),
        cpal::SampleFormat::U8 => build::<u8>(&device, config, channels, tx),
        cpal::SampleFormat::I8 => build::<i8>(&device, config, channels, tx),
        cpal::SampleFormat::F64 => build::<f64>(&device, config, channels, tx),
        _ => build::<f32>(&device, config, channels, tx),
    }
    .map_err(open_err)?;
    stream.play().map_err(open_err)?;
    tracing::info!(device = %label, rate, channels, ?format, "microphone open");
    Ok(Microphone {
        _stream: stream,
        chunks: rx,
        rate,
        name: label,
    })
}
