//! Plays a saved recording (an answer's WAV) through the speaker, for review: start, stop, wait.

use std::path::Path;
use std::sync::Arc;

use super::VoiceError;
use super::player::{self, PlayerHandle};
use super::utterance::{Cmd, Delivery, Utterance, UtteranceState};

/// A recording being played. Dropping it lets the device finish and close cleanly.
pub struct Replay {
    player: PlayerHandle,
    utterance: Utterance,
}

impl Replay {
    /// Opens the default output (or `speaker`) and starts playing the recording at `path`.
    pub fn start(path: &Path, speaker: Option<&str>) -> Result<Self, VoiceError> {
        let clip = crate::audio::wav::read(path).map_err(|e| VoiceError::NoOutput(e.to_string()))?;
        let player = player::open(speaker, crate::audio::wav::RATE)?;
        let state = Arc::new(UtteranceState::new(1));
        let _ = player.tx.send(Cmd::Begin(Arc::clone(&state)));
        let delivery = Delivery {
            state: Arc::clone(&state),
            player: Some(player.tx.clone()),
            pause: 0,
        };
        delivery.push(clip.samples, false);
        delivery.finish();
        let utterance = Utterance {
            state,
            player: Some((player.tx.clone(), Arc::clone(&player.alive))),
        };
        Ok(Self { player, utterance })
    }

    /// The output device playing.
    pub fn device(&self) -> &str {
        &self.player.device
    }

    pub fn stop(&self) {
        self.utterance.stop();
    }

    pub fn is_done(&self) -> bool {
        self.utterance.is_done()
    }

    /// A handle that can wait for the end from another thread.
    pub fn handle(&self) -> Utterance {
        self.utterance.clone()
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        self.player.shutdown();
    }
}
