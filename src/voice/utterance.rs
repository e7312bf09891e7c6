//! One line being spoken: its audio so far, its progress, and the commands it sends the player.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// What the engine and utterances tell the player thread.
pub(crate) enum Cmd {
    Begin(Arc<UtteranceState>),
    Chunk(u64, Vec<f32>),
    End(u64),
    Stop(u64),
    /// Finish what is playing, then close the device and end the thread.
    Shutdown,
}

/// One line being spoken: its audio so far, when the first sound went out, and whether it is over.
pub(crate) struct UtteranceState {
    pub id: u64,
    started: Instant,
    cancelled: AtomicBool,
    inner: Mutex<Progress>,
    changed: Condvar,
}

#[derive(Default)]
struct Progress {
    audio: Vec<f32>,
    sentences: usize,
    first_audio: Option<Duration>,
    synthesized: bool,
    done: bool,
    errors: Vec<String>,
}

impl UtteranceState {
    pub(crate) fn new(id: u64) -> Self {
        Self {
            id,
            started: Instant::now(),
            cancelled: AtomicBool::new(false),
            inner: Mutex::new(Progress::default()),
            changed: Condvar::new(),
        }
    }

    pub(crate) fn mark_done(&self) {
        let mut p = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        p.done = true;
        self.changed.notify_all();
    }
}

/// A handle on a line being spoken.
#[derive(Clone)]
pub struct Utterance {
    pub(crate) state: Arc<UtteranceState>,
    pub(crate) player: Option<(Sender<Cmd>, Arc<AtomicBool>)>,
}

impl Utterance {
    /// Blocks until the line has been played to the end (or synthesized, without a speaker) or stopped.
    pub fn wait(&self) {
        let mut p = self.state.inner.lock().unwrap_or_else(|e| e.into_inner());
        while !p.done {
            if let Some((_, alive)) = &self.player
                && !alive.load(Ordering::SeqCst)
                && p.synthesized
            {
                break;
            }
            p = self
                .state
                .changed
                .wait_timeout(p, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Blocks until every sentence is synthesized (playback may still be going).
    pub fn wait_synthesized(&self) {
        let mut p = self.state.inner.lock().unwrap_or_else(|e| e.into_inner());
        while !p.synthesized {
            p = self.state.changed.wait(p).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Stops playback now. Synthesis of the line finishes anyway (it is cached for a repeat).
    pub fn stop(&self) {
        self.state.cancelled.store(true, Ordering::SeqCst);
        if let Some((tx, _)) = &self.player {
            let _ = tx.send(Cmd::Stop(self.state.id));
        }
        self.state.mark_done();
    }

    pub fn is_done(&self) -> bool {
        self.state.inner.lock().map(|p| p.done).unwrap_or(true)
    }

    /// Time from `speak` to the first sentence's audio being handed to the speaker (or ready, without one).
    pub fn first_audio(&self) -> Option<Duration> {
        self.state.inner.lock().ok().and_then(|p| p.first_audio)
    }

    /// The whole line's audio so far, sentence pauses included.
    pub fn audio(&self) -> Vec<f32> {
        self.state.inner.lock().map(|p| p.audio.clone()).unwrap_or_default()
    }

    /// Sentences that could not be synthesized (they are skipped, the rest is spoken).
    pub fn errors(&self) -> Vec<String> {
        self.state.inner.lock().map(|p| p.errors.clone()).unwrap_or_default()
    }
}

/// Where a line's sentences go as they become ready, in order.
pub(crate) struct Delivery {
    pub state: Arc<UtteranceState>,
    pub player: Option<Sender<Cmd>>,
    pub pause: usize,
}

impl Delivery {
    /// Hands over the next piece; `after_sentence` says whether the piece before it ended a sentence.
    pub(crate) fn push(&self, samples: Vec<f32>, after_sentence: bool) {
        let mut p = self.state.inner.lock().unwrap_or_else(|e| e.into_inner());
        if samples.is_empty() {
            return;
        }
        let mut chunk = Vec::with_capacity(samples.len() + self.pause);
        if p.sentences > 0 && after_sentence {
            chunk.resize(self.pause, 0.0);
        }
        chunk.extend_from_slice(&samples);
        p.audio.extend_from_slice(&chunk);
        p.sentences += 1;
        if p.first_audio.is_none() {
            p.first_audio = Some(self.state.started.elapsed());
        }
        if !self.state.cancelled.load(Ordering::SeqCst)
            && let Some(tx) = &self.player
        {
            let _ = tx.send(Cmd::Chunk(self.state.id, chunk));
        }
        self.state.changed.notify_all();
    }

    pub(crate) fn fail(&self, error: String) {
        let mut p = self.state.inner.lock().unwrap_or_else(|e| e.into_inner());
        p.errors.push(error);
    }

    pub(crate) fn finish(&self) {
        let mut p = self.state.inner.lock().unwrap_or_else(|e| e.into_inner());
        p.synthesized = true;
        match &self.player {
            Some(tx) if !self.state.cancelled.load(Ordering::SeqCst) => {
                let _ = tx.send(Cmd::End(self.state.id));
            }
            _ => p.done = true,
        }
        self.state.changed.notify_all();
    }
}
