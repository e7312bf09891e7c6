//! Playback with rodio on its own thread (the output stream must live on the thread that made it):
//! utterances arrive sentence by sentence and play as they come; a new one or a stop cuts the old.

use std::num::NonZero;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

use rodio::DeviceTrait;
use rodio::cpal::traits::HostTrait;

use super::VoiceError;
use super::utterance::{Cmd, UtteranceState};

pub(crate) struct PlayerHandle {
    pub tx: Sender<Cmd>,
    pub alive: Arc<AtomicBool>,
    pub device: String,
}

impl PlayerHandle {
    /// Lets the player finish what it is playing and close the stream cleanly (a WAV device gets its
    /// header), waiting up to 30 s.
    pub(crate) fn shutdown(&self) {
        let _ = self.tx.send(Cmd::Shutdown);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while self.alive.load(Ordering::SeqCst) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// Names of the output devices, for `--speaker` and error messages.
pub fn output_devices() -> Vec<String> {
    quiet_alsa();
    let host = rodio::cpal::default_host();
    match host.output_devices() {
        Ok(devices) => devices.map(|d| d.to_string()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Opens the default output (or the one named `speaker`) on a new thread.
pub(crate) fn open(speaker: Option<&str>, sample_rate: u32) -> Result<PlayerHandle, VoiceError> {
    let (tx, rx) = mpsc::channel::<Cmd>();
    let (ready_tx, ready_rx) = mpsc::channel::<Result<String, String>>();
    let alive = Arc::new(AtomicBool::new(true));
    let alive2 = Arc::clone(&alive);
    let speaker = speaker.map(str::to_string);
    std::thread::Builder::new()
        .name("voice-player".into())
        .spawn(move || {
            quiet_alsa();
            let sink = match open_sink(speaker.as_deref()) {
                Ok((sink, name)) => {
                    let _ = ready_tx.send(Ok(name));
                    sink
                }
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    alive2.store(false, Ordering::SeqCst);
                    return;
                }
            };
            run(Some(sink), speaker.as_deref(), &rx, sample_rate);
            alive2.store(false, Ordering::SeqCst);
        })
        .map_err(|e| VoiceError::NoOutput(format!("cannot start the playback thread: {e}")))?;
    match ready_rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(device)) => Ok(PlayerHandle { tx, alive, device }),
        Ok(Err(e)) => Err(VoiceError::NoOutput(e)),
        Err(_) => Err(VoiceError::NoOutput("the audio device did not open within 10 s".into())),
    }
}

fn open_sink(speaker: Option<&str>) -> Result<(rodio::MixerDeviceSink, String), String> {
    let mut sink = match speaker {
        None => {
            let host = rodio::cpal::default_host();
            let device = host
                .default_output_device()
                .ok_or_else(|| "no default output device".to_string())?;
            let name = device.to_string();
            let sink = rodio::DeviceSinkBuilder::from_device(device)
                .and_then(|b| b.open_stream())
                .map_err(|e| describe(&e))?;
            (sink, name)
        }
        Some(wanted) => {
            let host = rodio::cpal::default_host();
            let devices: Vec<rodio::Device> = host
                .output_devices()
                .map_err(|e| format!("cannot list output devices: {e}"))?
                .collect();
            let lower = wanted.to_lowercase();
            let name_of = |d: &rodio::Device| {
                let desc = d.description().map(|x| x.name().to_string()).unwrap_or_default();
                (d.to_string(), desc)
            };
            let found = devices
                .iter()
                .position(|d| {
                    let (a, b) = name_of(d);
                    a == wanted || b == wanted
                })
                .or_else(|| {
                    devices.iter().position(|d| {
                        let (a, b) = name_of(d);
                        a.to_lowercase().contains(&lower) || b.to_lowercase().contains(&lower)
                    })
                });
            let Some(i) = found else {
                let names: Vec<String> = devices.iter().map(|d| d.to_string()).collect();
                return Err(format!(
                    "no output device named {wanted:?}; devices: {}",
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ));
            };
            let device = devices[i].clone();
            let name = device.to_string();
            let sink = rodio::DeviceSinkBuilder::from_device(device)
                .and_then(|b| b.open_stream())
                .map_err(|e| describe(&e))?;
            (sink, name)
        }
    };
    sink.0.log_on_drop(false);
    Ok((sink.0, sink.1))
}

/// ALSA prints its own errors to stderr ("cannot find card '0'" and eight more lines) when there is no
/// sound card; ours says it in one line. Silences them for the calling thread.
#[cfg(target_os = "linux")]
fn quiet_alsa() {
    use std::ffi::{c_char, c_int, c_void};
    type LocalHandler =
        Option<unsafe extern "C" fn(*const c_char, c_int, *const c_char, c_int, *const c_char, *mut c_void)>;
    #[link(name = "asound")]
    unsafe extern "C" {
        fn snd_lib_error_set_local(handler: LocalHandler) -> LocalHandler;
    }
    unsafe extern "C" fn ignore(
        _: *const c_char,
        _: c_int,
        _: *const c_char,
        _: c_int,
        _: *const c_char,
        _: *mut c_void,
    ) {
    }
    // SAFETY: alsa-lib's documented per-thread error hook; the handler ignores every argument.
    unsafe {
        snd_lib_error_set_local(Some(ignore));
    }
}

#[cfg(not(target_os = "linux"))]
fn quiet_alsa() {}

fn describe(e: &rodio::DeviceSinkError) -> String {
    use std::error::Error;
    match e.source() {
        Some(s) => format!("{e}: {s}"),
        None => e.to_string(),
    }
}

/// How long the device stays open with nothing to play: closing it lets the system (and ALSA's
/// clockless test devices) rest between questions; reopening costs a few milliseconds.
const IDLE_CLOSE: Duration = Duration::from_secs(1);

fn run(mut sink: Option<rodio::MixerDeviceSink>, speaker: Option<&str>, rx: &Receiver<Cmd>, sample_rate: u32) {
    let rate = NonZero::new(sample_rate).unwrap_or(NonZero::<u32>::MIN);
    let mono = NonZero::<u16>::MIN;
    let mut current: Option<(Arc<UtteranceState>, rodio::Player, bool)> = None;
    let mut idle_since = std::time::Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(5)) {
            Ok(Cmd::Begin(state)) => {
                if let Some((old, _, _)) = current.take() {
                    old.mark_done();
                }
                if sink.is_none() {
                    sink = open_sink(speaker).ok().map(|(s, _)| s);
                }
                match &sink {
                    Some(s) => current = Some((state, rodio::Player::connect_new(s.mixer()), false)),
                    // The device went away: this line is shown, not heard.
                    None => state.mark_done(),
                }
            }
            Ok(Cmd::Chunk(id, samples)) => {
                if let Some((state, player, _)) = &current
                    && state.id == id
                {
                    player.append(rodio::buffer::SamplesBuffer::new(mono, rate, samples));
                }
            }
            Ok(Cmd::End(id)) => {
                if let Some((state, _, ended)) = &mut current
                    && state.id == id
                {
                    *ended = true;
                }
            }
            Ok(Cmd::Stop(id)) => {
                if current.as_ref().is_some_and(|(s, _, _)| s.id == id)
                    && let Some((state, _, _)) = current.take()
                {
                    state.mark_done();
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Ok(Cmd::Shutdown) | Err(RecvTimeoutError::Disconnected) => break,
        }
        if current.as_ref().is_some_and(|(_, p, ended)| *ended && p.empty())
            && let Some((state, _, _)) = current.take()
        {
            state.mark_done();
        }
        if current.is_some() {
            idle_since = std::time::Instant::now();
        } else if sink.is_some() && idle_since.elapsed() > IDLE_CLOSE {
            sink = None;
        }
    }
    if let Some((state, player, _)) = current.take() {
        player.sleep_until_end();
        state.mark_done();
    }
}
