//! Spoken answers across a whole interview: one microphone and the Whisper models, kept open between
//! questions, each answer's recording kept in the session (unless the candidate opts out).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use super::{
    AudioSource, EndpointConfig, ListenConfig, ListenError, ListenEvent, MicSource, SpokenAnswer, hear_answer,
};
use crate::bank::{Bank, Question};
use crate::interview::Line;
use crate::notice::Notice;
use crate::transcribe::{self, Pair};

/// How many times the interviewer asks again after hearing nothing, before recording no answer.
pub const RETRIES: usize = 2;

pub struct Ear {
    mic_name: Option<String>,
    /// Opened at the first answer (so the first words are not drained), then kept open and drained
    /// before each later one.
    mic: Option<Box<dyn AudioSource>>,
    /// Lent to the transcription worker while an answer is heard.
    transcriber: Option<Pair>,
    pub endpoint: EndpointConfig,
    /// Where each answer's WAV goes; `None` with `--no-keep-audio`.
    keep_dir: Option<PathBuf>,
}

impl Ear {
    pub fn new(
        mic_name: Option<String>,
        transcriber: Pair,
        endpoint: EndpointConfig,
        keep_dir: Option<PathBuf>,
    ) -> Self {
        Self {
            mic_name,
            mic: None,
            transcriber: Some(transcriber),
            endpoint,
            keep_dir,
        }
    }

    /// Hears one answer to `line`: waits through silence before the candidate starts, ends at the
    /// silence limit, `stop`, or the maximum length. Sound from before this call (the interviewer's
    /// own voice, a pause) is dropped.
    pub fn hear(
        &mut self,
        bank: &Bank,
        line: &Line,
        question: &Question,
        stop: &AtomicBool,
        events: &mut dyn FnMut(ListenEvent),
    ) -> Result<SpokenAnswer, ListenError> {
        match self.mic.as_mut() {
            Some(mic) => mic.drain(),
            None => self.mic = Some(Box::new(MicSource::open(self.mic_name.as_deref())?)),
        }
        let vocabulary = transcribe::Vocabulary::for_question(bank, question);
        let keep_audio = match &self.keep_dir {
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| crate::audio::wav::AudioError::Write {
                    path: dir.clone(),
                    why: e.to_string(),
                })?;
                let kind = format!("{:?}", line.kind).to_lowercase();
                Some(dir.join(format!("q{:02}-{}-{kind}.wav", line.number, line.question_id)))
            }
            None => None,
        };
        let cfg = ListenConfig {
            endpoint: self.endpoint.clone(),
            vocabulary,
            keep_audio,
        };
        let transcriber = self.transcriber.take().ok_or(ListenError::Worker)?;
        let mic = self.mic.as_mut().ok_or(ListenError::Worker)?;
        let heard = hear_answer(mic.as_mut(), transcriber, &cfg, stop, events);
        mic.idle();
        let (answer, transcriber) = heard?;
        self.transcriber = Some(transcriber);
        Ok(answer)
    }
}

/// How spoken answers are set up for an interview: chosen on the command line or the setup screen.
#[derive(Debug, Clone)]
pub struct EarSetup {
    /// Input device name (or part of it); `None` is the system default.
    pub mic: Option<String>,
    /// Whisper model; `None` is `DATAREADY_WHISPER_MODEL` or the default.
    pub model: Option<String>,
    pub endpoint: EndpointConfig,
    /// Keep each answer's WAV in the session folder (`--no-keep-audio` turns it off).
    pub keep_audio: bool,
}

impl EarSetup {
    /// Whether spoken answers can work here: the Whisper model is installed and a microphone opens.
    /// The error says why not and what to do, for a notice before falling back to typed answers.
    pub fn check(&self) -> Result<String, String> {
        Pair::check(self.model.as_deref()).map_err(|e| e.to_string())?;
        super::capture::probe(self.mic.as_deref()).map_err(|e| e.to_string())
    }

    /// Loads Whisper (base and tiny.en as a pair when both are installed). The microphone, probed by [`EarSetup::check`], is opened at the first answer,
    /// which reports it if it has gone since.
    pub fn open(&self, session_dir: &std::path::Path) -> Result<Ear, String> {
        let t = std::time::Instant::now();
        let whisper = Pair::load(self.model.as_deref()).map_err(|e| e.to_string())?;
        tracing::info!(ms = t.elapsed().as_millis() as u64, "speech recognition ready");
        Ok(Ear::new(
            self.mic.clone(),
            whisper,
            self.endpoint.clone(),
            self.keep_audio.then(|| session_dir.join("answers")),
        ))
    }
}

/// How answers are given in an interview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputMode {
    /// Spoken when a microphone and the Whisper model are there (on a terminal), typed otherwise.
    #[default]
    Auto,
    /// Spoken into the microphone, transcribed locally by Whisper.
    Voice,
    /// Typed at the prompt.
    Text,
}

/// How the candidate wants to answer (the listening flags of `interview` and `resume`).
#[derive(Debug, Clone)]
pub struct EarOptions {
    pub input: InputMode,
    /// Input device name (or part of it); `None` is the system default.
    pub mic: Option<String>,
    /// Seconds of silence after speech that end a spoken answer.
    pub silence: f32,
    /// Longest spoken answer in seconds.
    pub max_answer: u64,
    /// Keep each spoken answer's WAV in the session folder.
    pub keep_audio: bool,
}

impl Default for EarOptions {
    fn default() -> Self {
        Self {
            input: InputMode::Auto,
            mic: None,
            silence: 2.5,
            max_answer: 180,
            keep_audio: true,
        }
    }
}

impl EarOptions {
    pub fn setup(&self) -> EarSetup {
        EarSetup {
            mic: self.mic.clone(),
            model: None,
            endpoint: EndpointConfig {
                // NaN or infinity from the command line falls back to the default.
                silence_limit_ms: (if self.silence.is_finite() { self.silence } else { 2.5 }.clamp(0.3, 60.0) * 1000.0)
                    as u64,
                max_answer_ms: self.max_answer.clamp(5, 3600) * 1000,
                ..EndpointConfig::default()
            },
            keep_audio: self.keep_audio,
        }
    }

    /// The set-up for spoken answers, or `None` for typed ones. `attended`: a person is at the
    /// terminal (auto only listens then). Anything missing is a one-line notice, and answers are typed.
    pub fn choose(&self, attended: bool, notify: &mut dyn FnMut(Notice)) -> Option<EarSetup> {
        let setup = self.setup();
        match self.input {
            InputMode::Text => None,
            InputMode::Auto if !attended => None,
            InputMode::Auto | InputMode::Voice => match setup.check() {
                Ok(_) => Some(setup),
                Err(why) => {
                    notify(Notice::Info(format!("Answers will be typed: {why}")));
                    None
                }
            },
        }
    }
}

/// The candidate's side while an answer is heard: what to show, and whether something else (a key,
/// a typed line) answered instead.
pub trait Listener {
    /// What answers instead of the recording.
    type Key;
    /// Attempt `n` starts (0 first; later ones follow "I didn't catch that").
    fn attempt(&mut self, n: usize);
    fn event(&mut self, e: ListenEvent);
    /// Something that came instead of speech, if it did.
    fn interrupt(&mut self) -> Option<Self::Key>;
}

/// What came of listening for one answer.
pub enum Listened<K> {
    /// The spoken answer; its text is empty when nothing was recognised after the retries.
    Spoken(Box<SpokenAnswer>),
    /// A key or typed words came first; the recording is not kept.
    Instead(K),
}

impl Ear {
    /// One answer, asked again (at most [`RETRIES`] times) while nothing is recognised. Each attempt
    /// clears `stop`; the listener's interruption is checked before and after each recording, and wins.
    pub fn answer<L: Listener>(
        &mut self,
        bank: &Bank,
        line: &Line,
        question: &Question,
        stop: &AtomicBool,
        listener: &mut L,
    ) -> Result<Listened<L::Key>, ListenError> {
        let mut attempt = 0;
        loop {
            stop.store(false, std::sync::atomic::Ordering::Relaxed);
            if let Some(k) = listener.interrupt() {
                return Ok(Listened::Instead(k));
            }
            listener.attempt(attempt);
            let heard = self.hear(bank, line, question, stop, &mut |e| listener.event(e));
            if let Some(k) = listener.interrupt() {
                if let Some(p) = heard.as_ref().ok().and_then(|h| h.wav.as_ref()) {
                    let _ = std::fs::remove_file(p);
                }
                return Ok(Listened::Instead(k));
            }
            let heard = heard?;
            if !heard.text.is_empty() || attempt >= RETRIES {
                return Ok(Listened::Spoken(Box::new(heard)));
            }
            attempt += 1;
        }
    }
}

impl From<Box<SpokenAnswer>> for crate::interview::Answer {
    fn from(a: Box<SpokenAnswer>) -> Self {
        (*a).into()
    }
}

impl From<SpokenAnswer> for crate::interview::Answer {
    fn from(a: SpokenAnswer) -> Self {
        Self::Heard {
            text: a.text,
            audio: a.wav.map(|p| p.display().to_string()),
            speech: Some(a.speech),
        }
    }
}
