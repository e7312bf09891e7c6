//! The voice as the program uses it: a synthesis thread (urgent lines first, pre-synthesis when idle),
//! the sentence cache, and the player. `speak` never blocks on synthesis.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::cache::{self, Cache};
use super::phonemes::{Sentence, split_line};
use super::player::{self, PlayerHandle};
use super::utterance::{Cmd, Delivery, Utterance, UtteranceState};
use super::{Synth, VoiceError, VoiceFiles};

#[derive(Debug, Clone)]
pub struct VoiceOptions {
    /// Speaking speed: 1.0 is the voice's own, 1.25 a quarter faster.
    pub rate: f32,
    /// Play through an output device (`None` = the default one) or, with `play: false`, only synthesize.
    pub play: bool,
    pub speaker: Option<String>,
    /// Where synthesized sentences are kept; `None` keeps nothing.
    pub cache_dir: Option<PathBuf>,
    /// Silence between sentences, in milliseconds.
    pub sentence_pause_ms: u32,
}

impl Default for VoiceOptions {
    fn default() -> Self {
        Self {
            rate: 1.0,
            play: true,
            speaker: None,
            cache_dir: Some(super::cache_dir()),
            sentence_pause_ms: 200,
        }
    }
}

struct Job {
    sentences: VecDeque<Sentence>,
    delivery: Delivery,
    /// Whether the piece delivered last ended a sentence.
    after_sentence: bool,
}

#[derive(Default)]
struct Queue {
    urgent: VecDeque<Job>,
    ahead: VecDeque<Sentence>,
    /// The worker is synthesizing something it has taken off the queue.
    busy: bool,
    shutdown: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
    cache: Cache,
    rate: f32,
}

/// The interviewer's voice: load once, then `speak` and `prefetch` from any thread.
pub struct Voice {
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
    player: Option<PlayerHandle>,
    next_id: AtomicU64,
    pub sample_rate: u32,
    pause: usize,
}

impl Voice {
    /// Loads the voice (ONNX Runtime, model, config, espeak-ng, all checked) and opens the speaker.
    /// With `play` and no usable output device this fails with [`VoiceError::NoOutput`]; callers that
    /// can go on silently use [`Voice::open_silent`] after it.
    pub fn open(files: &VoiceFiles, options: &VoiceOptions) -> Result<Self, VoiceError> {
        let synth = Synth::load(files)?;
        let player = if options.play {
            Some(player::open(options.speaker.as_deref(), synth.sample_rate)?)
        } else {
            None
        };
        Ok(Self::start(synth, player, options))
    }

    /// Like [`Voice::open`] but never plays: for `--tts-out`, `say --out` and machines without sound.
    pub fn open_silent(files: &VoiceFiles, options: &VoiceOptions) -> Result<Self, VoiceError> {
        let synth = Synth::load(files)?;
        Ok(Self::start(synth, None, options))
    }

    fn start(mut synth: Synth, player: Option<PlayerHandle>, options: &VoiceOptions) -> Self {
        let sample_rate = synth.sample_rate;
        let cache = Cache::new(options.cache_dir.as_deref(), &synth.key, sample_rate);
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Condvar::new(),
            cache,
            rate: options.rate,
        });
        let s = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("voice-synth".into())
            .spawn(move || work(&s, &mut synth))
            .ok();
        Self {
            shared,
            worker,
            player,
            next_id: AtomicU64::new(1),
            sample_rate,
            pause: (sample_rate as u64 * u64::from(options.sentence_pause_ms) / 1000) as usize,
        }
    }

    /// The output device playing, if any.
    pub fn device(&self) -> Option<&str> {
        self.player.as_ref().map(|p| p.device.as_str())
    }

    /// Starts speaking `text` and returns at once. Cached leading sentences go to the speaker right
    /// here; the rest is synthesized ahead of any pre-synthesis, and plays as each sentence is ready.
    /// A new line cuts off the one before.
    pub fn speak(&self, text: &str) -> Utterance {
        self.utter(text, true)
    }

    /// Synthesizes a line, sending it to the speaker when `play` and there is one. Cached leading
    /// sentences are delivered here; the rest goes to the synthesis worker ahead of pre-synthesis.
    fn utter(&self, text: &str, play: bool) -> Utterance {
        let state = Arc::new(UtteranceState::new(self.next_id.fetch_add(1, Ordering::SeqCst)));
        let player_tx = self
            .player
            .as_ref()
            .filter(|p| play && p.alive.load(Ordering::SeqCst))
            .map(|p| p.tx.clone());
        if let Some(tx) = &player_tx {
            let _ = tx.send(Cmd::Begin(Arc::clone(&state)));
        }
        let delivery = Delivery {
            state: Arc::clone(&state),
            player: player_tx.clone(),
            pause: self.pause,
        };
        let mut sentences: VecDeque<Sentence> = split_line(text).into();
        let mut after_sentence = true;
        while let Some(audio) = sentences
            .front()
            .and_then(|s| self.shared.cache.get(self.shared.rate, &s.text))
        {
            let s = sentences.pop_front().expect("front exists");
            delivery.push(audio, after_sentence);
            after_sentence = s.ends_sentence();
        }
        if sentences.is_empty() {
            delivery.finish();
        } else {
            let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.urgent.push_back(Job {
                sentences,
                delivery,
                after_sentence,
            });
            self.shared.wake.notify_all();
        }
        Utterance {
            state,
            player: self
                .player
                .as_ref()
                .filter(|_| player_tx.is_some())
                .map(|p| (p.tx.clone(), Arc::clone(&p.alive))),
        }
    }

    /// Synthesizes these lines in the background, when nothing is waiting to be spoken.
    pub fn prefetch<S: AsRef<str>>(&self, texts: &[S]) {
        let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        for t in texts {
            for s in split_line(t.as_ref()) {
                if !q.ahead.iter().any(|a| a.text == s.text) && !self.shared.cache.contains(self.shared.rate, &s.text) {
                    q.ahead.push_back(s);
                }
            }
        }
        self.shared.wake.notify_all();
    }

    /// Blocks until nothing is queued for pre-synthesis (for tests and benchmarks).
    pub fn wait_idle(&self) {
        let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        while !(q.ahead.is_empty() && q.urgent.is_empty()) || q.busy {
            q = self
                .shared
                .wake
                .wait_timeout(q, Duration::from_millis(20))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Synthesizes a whole line without playing it (cache used), returning its audio.
    pub fn synthesize(&self, text: &str) -> Result<Vec<f32>, VoiceError> {
        let u = self.speak_silently(text);
        u.wait_synthesized();
        match u.errors().first() {
            Some(e) => Err(VoiceError::Synthesis(e.clone())),
            None => Ok(u.audio()),
        }
    }

    fn speak_silently(&self, text: &str) -> Utterance {
        self.utter(text, false)
    }

    /// Writes a line's audio as a 16-bit WAV.
    pub fn write_wav(&self, path: &std::path::Path, samples: &[f32]) -> Result<(), VoiceError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| VoiceError::io(dir, e))?;
        }
        cache::write_wav_i16(path, self.sample_rate, samples)
            .map_err(|e| VoiceError::io(path, std::io::Error::other(e.to_string())))
    }
}

impl Drop for Voice {
    fn drop(&mut self) {
        {
            let mut q = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.shutdown = true;
            self.shared.wake.notify_all();
        }
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
        // The player finishes what it is playing and closes the stream cleanly (a WAV device gets its header).
        if let Some(p) = self.player.take() {
            p.shutdown();
        }
    }
}

enum Task {
    Line(Job),
    Ahead(Sentence),
}

fn work(shared: &Shared, synth: &mut Synth) {
    loop {
        let task = {
            let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
            q.busy = false;
            loop {
                if q.shutdown {
                    // Lines already asked for are still finished, so nobody waits forever.
                    match q.urgent.pop_front() {
                        Some(job) => break Task::Line(job),
                        None => return,
                    }
                }
                if let Some(job) = q.urgent.pop_front() {
                    q.busy = true;
                    break Task::Line(job);
                }
                if let Some(s) = q.ahead.pop_front() {
                    q.busy = true;
                    break Task::Ahead(s);
                }
                shared.wake.notify_all();
                q = shared.wake.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        };
        match task {
            Task::Line(mut job) => {
                while let Some(s) = job.sentences.pop_front() {
                    match audio_for(shared, synth, &s) {
                        Ok(a) => job.delivery.push(a, job.after_sentence),
                        Err(e) => job.delivery.fail(format!("{:?}: {e}", s.text)),
                    }
                    job.after_sentence = s.ends_sentence();
                }
                job.delivery.finish();
            }
            Task::Ahead(s) => {
                if !shared.cache.contains(shared.rate, &s.text) {
                    let _ = audio_for(shared, synth, &s);
                }
            }
        }
    }
}

fn audio_for(shared: &Shared, synth: &mut Synth, s: &Sentence) -> Result<Vec<f32>, VoiceError> {
    if let Some(a) = shared.cache.get(shared.rate, &s.text) {
        return Ok(a);
    }
    let audio = synth.sentence(s, shared.rate)?;
    if !audio.is_empty() {
        shared.cache.put(shared.rate, &s.text, &audio);
    }
    Ok(audio)
}
