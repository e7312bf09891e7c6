//! Hearing one answer: audio in (microphone or a clip) → 16 kHz → end-of-answer detection, with each
//! finished segment transcribed in the background so that little remains when the candidate stops.

pub mod capture;
pub mod ear;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde::Serialize;

pub use crate::audio::endpoint::{AnswerEnd, EndpointConfig};

use crate::audio::endpoint::{self, Cue, Endpoint};
use crate::audio::wav::{self, RATE};
use crate::transcribe::{self, Pair, Segment, SpeechFacts, TranscribeError, Transcriber};

/// What the room (or a progress line) can show while the candidate talks.
#[derive(Debug, Clone, PartialEq)]
pub enum ListenEvent {
    Level(f32),
    SpeechStarted,
    /// The transcript so far (finished segments).
    Partial(String),
    Warning {
        remaining_ms: u64,
    },
    /// The answer ended; the last segment is being transcribed.
    Ended(AnswerEnd),
}

/// Where the answer's audio comes from.
pub trait AudioSource {
    /// The next 16 kHz mono samples; `Ok(None)` when the input is closed. Empty means nothing yet.
    fn next(&mut self, wait: Duration) -> Result<Option<Vec<f32>>, ListenError>;
    /// Drops what was captured but not yet read (sound from before the answer began).
    fn drain(&mut self) {}
    /// Nobody reads until the next `drain`: a live device should drop audio rather than wait.
    fn idle(&mut self) {}
}

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error(transparent)]
    Capture(#[from] capture::CaptureError),
    #[error(transparent)]
    Audio(#[from] wav::AudioError),
    #[error(transparent)]
    Transcribe(#[from] TranscribeError),
    #[error("the transcription worker stopped unexpectedly")]
    Worker,
    #[error("the microphone stopped sending audio for {0} s (unplugged?)")]
    Stalled(u64),
}

/// The microphone, resampled to 16 kHz.
pub struct MicSource {
    mic: capture::Microphone,
    resample: wav::Resample16k,
}

/// No audio at all (not even silence) for this long means the input stopped (a microphone unplugged).
pub const STALL: Duration = Duration::from_secs(3);

impl MicSource {
    pub fn open(name: Option<&str>) -> Result<Self, ListenError> {
        let mic = capture::open(name)?;
        let resample = wav::Resample16k::new(mic.rate)?;
        Ok(Self { mic, resample })
    }

    pub fn name(&self) -> &str {
        &self.mic.name
    }
}

impl AudioSource for MicSource {
    fn next(&mut self, wait: Duration) -> Result<Option<Vec<f32>>, ListenError> {
        match self.mic.chunks.recv_timeout(wait) {
            Ok(chunk) => Ok(Some(self.resample.push(&chunk)?)),
            Err(RecvTimeoutError::Timeout) => Ok(Some(Vec::new())),
            Err(RecvTimeoutError::Disconnected) => Err(capture::CaptureError::Lost(self.mic.name.clone()).into()),
        }
    }

    fn drain(&mut self) {
        self.mic.listening.store(false, Ordering::Relaxed);
        while self.mic.chunks.try_recv().is_ok() {}
        self.mic.listening.store(true, Ordering::Relaxed);
    }

    fn idle(&mut self) {
        self.mic.listening.store(false, Ordering::Relaxed);
    }
}

/// A recorded clip played in as if spoken: in 20 ms chunks, optionally at real-time pace.
pub struct ClipSource {
    samples: Vec<f32>,
    at: usize,
    realtime: Option<Instant>,
}

impl ClipSource {
    pub fn new(samples: Vec<f32>, realtime: bool) -> Self {
        Self {
            samples,
            at: 0,
            realtime: realtime.then(Instant::now),
        }
    }
}

impl AudioSource for ClipSource {
    fn next(&mut self, _wait: Duration) -> Result<Option<Vec<f32>>, ListenError> {
        if self.at >= self.samples.len() {
            return Ok(None);
        }
        if let Some(t0) = self.realtime {
            let due = t0 + Duration::from_micros(self.at as u64 * 1_000_000 / u64::from(RATE));
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
        let end = (self.at + endpoint::FRAME).min(self.samples.len());
        let chunk = self.samples[self.at..end].to_vec();
        self.at = end;
        Ok(Some(chunk))
    }
}

#[derive(Debug, Clone)]
pub struct ListenConfig {
    pub endpoint: EndpointConfig,
    /// Whisper's prompt and the lexicon the answer is corrected with.
    pub vocabulary: transcribe::Vocabulary,
    /// Keep the answer's audio here as a WAV.
    pub keep_audio: Option<PathBuf>,
}

/// A finished answer.
#[derive(Debug, Clone, Serialize)]
pub struct SpokenAnswer {
    /// The corrected transcript: what is graded.
    pub text: String,
    /// Whisper's text before the bank-vocabulary correction.
    pub raw_text: String,
    pub corrections: Vec<transcribe::Correction>,
    pub reason: AnswerEnd,
    pub audio_ms: u64,
    pub speech: SpeechFacts,
    pub wav: Option<PathBuf>,
    /// From the end of the answer to the final transcript.
    pub final_ms: u64,
    pub segments: Vec<Segment>,
    pub model: String,
}

/// One stretch of an answer, transcribed with the vocabulary prompt and the end of what came before
/// (`context`) so it continues the same sentence style: its text (guarded) and Whisper's no-speech rating.
pub fn transcribe_stretch(
    t: &mut dyn Transcriber,
    samples: &[f32],
    prompt: &str,
    context: &str,
) -> Result<(String, f32), TranscribeError> {
    let prompt = if context.is_empty() {
        prompt.to_string()
    } else {
        let tail: Vec<char> = context.chars().rev().take(200).collect();
        format!("{prompt} {}", tail.into_iter().rev().collect::<String>())
    };
    if !endpoint::has_voice(samples) {
        // Loud enough to be taken for speech, but nothing voiced in it (fan, hiss): Whisper would invent words.
        return Ok((String::new(), 1.0));
    }
    let regions = endpoint::speech_regions(samples);
    let speech_ms: u64 = regions.iter().map(|(a, b)| b - a).sum();
    let segs = t.transcribe(samples, &prompt)?;
    let no_speech = segs.iter().map(|s| s.no_speech).fold(0.0, f32::max);
    Ok((transcribe::guard(&segs, speech_ms.max(1500)), no_speech))
}

struct Job {
    offset_ms: u64,
    samples: Vec<f32>,
    /// The stretch left after the candidate pressed the key: someone waits for it.
    quick: bool,
}

type Done = Result<Vec<Segment>, TranscribeError>;

/// Transcribes segments in order on its own thread; each gets the text before it as context.
struct Worker {
    jobs: mpsc::Sender<Job>,
    done: mpsc::Receiver<Done>,
    handle: std::thread::JoinHandle<Box<dyn Transcriber>>,
    sent: usize,
    received: usize,
}

impl Worker {
    /// A worker for the stretches; a `background` one runs at a lower priority, so that the decodes
    /// someone waits for get the cores first.
    fn start(mut t: Box<dyn Transcriber>, prompt: String, background: bool) -> Self {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done) = mpsc::channel::<Done>();
        let handle = std::thread::spawn(move || {
            #[cfg(target_os = "linux")]
            if background {
                // SAFETY: plain syscalls on this thread's own id.
                unsafe {
                    libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, 10);
                }
            }
            let mut context = String::new();
            // Each decode needs a fresh decoder state: make it while nothing waits for the worker (before the
            // first stretch, and whenever no stretch is queued), not when the answer has ended.
            t.prepare();
            let mut next = job_rx.recv().ok();
            while let Some(job) = next {
                t.set_quick(job.quick);
                let result =
                    transcribe_stretch(t.as_mut(), &job.samples, &prompt, &context).map(|(text, no_speech)| {
                        if !text.is_empty() {
                            context.push(' ');
                            context.push_str(&text);
                        }
                        vec![Segment {
                            start_ms: job.offset_ms,
                            end_ms: job.offset_ms + job.samples.len() as u64 * 1000 / u64::from(RATE),
                            text,
                            no_speech,
                        }]
                    });
                t.set_quick(false);
                if done_tx.send(result).is_err() {
                    break;
                }
                next = match job_rx.try_recv() {
                    Ok(job) => Some(job),
                    Err(mpsc::TryRecvError::Empty) => {
                        t.prepare();
                        job_rx.recv().ok()
                    }
                    Err(mpsc::TryRecvError::Disconnected) => None,
                };
            }
            t
        });
        Self {
            jobs,
            done,
            handle,
            sent: 0,
            received: 0,
        }
    }

    fn send(&mut self, offset_ms: u64, samples: Vec<f32>, quick: bool) -> Result<(), ListenError> {
        self.sent += 1;
        self.jobs
            .send(Job {
                offset_ms,
                samples,
                quick,
            })
            .map_err(|_| ListenError::Worker)
    }

    /// Stops taking stretches; the thread ends after the one under way and gives its model back.
    fn stop(self) -> std::thread::JoinHandle<Box<dyn Transcriber>> {
        drop(self.jobs);
        self.handle
    }

    fn poll(&mut self) -> Option<Done> {
        let r = self.done.try_recv().ok();
        self.received += usize::from(r.is_some());
        r
    }

    fn finish(self) -> Result<(Vec<Done>, Box<dyn Transcriber>), ListenError> {
        let Self {
            jobs,
            done,
            handle,
            sent,
            received,
        } = self;
        drop(jobs);
        let rest: Vec<Done> = done.iter().take(sent - received).collect();
        let t = handle.join().map_err(|_| ListenError::Worker)?;
        Ok((rest, t))
    }
}

fn join_text(segments: &[Segment]) -> String {
    segments
        .iter()
        .map(|s| s.text.trim())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Listens to one answer until its end (silence limit, `stop`, maximum length or end of input),
/// transcribing as it goes. Gives the models back for the next answer.
///
/// With a pair of models, every stretch is decoded by the quick one (the transcript shown live, and the
/// stretch left when the answer ends, which the interviewer's next words wait for) and, in the
/// background, by the accurate one; each stretch the accurate model finished before the answer ended
/// takes its text, and its decode under way is stopped when the answer ends.
pub fn hear_answer(
    source: &mut dyn AudioSource,
    ears: Pair,
    cfg: &ListenConfig,
    stop: &AtomicBool,
    events: &mut dyn FnMut(ListenEvent),
) -> Result<(SpokenAnswer, Pair), ListenError> {
    let model = ears.model_name().to_string();
    let (mut transcriber, accurate) = ears.into_parts();
    transcriber.set_boost(&cfg.vocabulary.boost);
    let mut worker = Worker::start(transcriber, cfg.vocabulary.prompt.clone(), false);
    let abort = Arc::new(AtomicBool::new(false));
    let mut background = accurate.map(|mut a| {
        a.set_background(Some(Arc::clone(&abort)));
        a.set_boost(&cfg.vocabulary.boost);
        Worker::start(a, cfg.vocabulary.prompt.clone(), true)
    });
    let mut accurate_text: Vec<Option<Vec<Segment>>> = Vec::new();
    // A stretch goes to the accurate model once the candidate speaks again after it: the one that
    // turns out to end the answer is the quick model's alone, with both cores.
    let mut pending: Option<(u64, Vec<f32>, usize)> = None;
    let mut endpoint = Endpoint::new(cfg.endpoint.clone());
    let mut samples: Vec<f32> = Vec::new();
    let mut segments: Vec<Segment> = Vec::new();
    let mut failure: Option<TranscribeError> = None;
    let mut ended_at = None;
    let mut reason = AnswerEnd::Key;

    let mut on_done = |d: Done, segments: &mut Vec<Segment>, events: &mut dyn FnMut(ListenEvent)| match d {
        Ok(s) => {
            segments.extend(s);
            events(ListenEvent::Partial(join_text(segments)));
        }
        Err(e) => {
            tracing::warn!("segment transcription failed: {e}");
            failure.get_or_insert(e);
        }
    };

    let mut last_audio = Instant::now();
    while ended_at.is_none() {
        let cues = if stop.load(Ordering::Relaxed) {
            endpoint.finish(AnswerEnd::Key)
        } else {
            match source.next(Duration::from_millis(50))? {
                Some(chunk) if chunk.is_empty() && last_audio.elapsed() >= STALL => {
                    return Err(ListenError::Stalled(STALL.as_secs()));
                }
                Some(chunk) => {
                    if !chunk.is_empty() {
                        last_audio = Instant::now();
                    }
                    samples.extend_from_slice(&chunk);
                    endpoint.push(&chunk)
                }
                None => endpoint.finish(AnswerEnd::Key),
            }
        };
        // The stretch cut by the key (or the length limit) comes with its End cue: decode it quick.
        let quick = cues
            .iter()
            .any(|c| matches!(c, Cue::End(r) if *r != AnswerEnd::Silence));
        for cue in cues {
            match cue {
                Cue::Level(l) => events(ListenEvent::Level(l)),
                Cue::SpeechStarted { .. } => events(ListenEvent::SpeechStarted),
                Cue::Warning { remaining_ms } => events(ListenEvent::Warning { remaining_ms }),
                Cue::Segment { from, to } => {
                    let to = to.min(samples.len());
                    let offset = from as u64 * 1000 / u64::from(RATE);
                    let stretch = samples[from.min(to)..to].to_vec();
                    if let Some(b) = background.as_mut().filter(|_| !quick) {
                        if let Some((o, s, _)) = pending.take() {
                            b.send(o, s, false)?;
                        }
                        pending = Some((offset, stretch.clone(), endpoint.speech().len()));
                    }
                    worker.send(offset, stretch, quick)?;
                }
                Cue::End(r) => {
                    reason = r;
                    ended_at = Some(Instant::now());
                    events(ListenEvent::Ended(r));
                }
            }
        }
        while let Some(d) = worker.poll() {
            on_done(d, &mut segments, events);
        }
        if let Some(b) = background.as_mut() {
            if ended_at.is_none() && pending.as_ref().is_some_and(|p| endpoint.speech().len() > p.2) {
                let (o, s, _) = pending.take().expect("checked");
                b.send(o, s, false)?;
            }
            while let Some(d) = b.poll() {
                accurate_text.push(d.ok());
            }
        }
    }
    // Nobody waits for the accurate model: what it has not finished is the quick model's, and its
    // worker is left to wind down while the quick model finishes.
    abort.store(true, Ordering::Relaxed);
    let accurate = background.map(|mut b| {
        while let Some(d) = b.poll() {
            accurate_text.push(d.ok());
        }
        b.stop()
    });
    let (rest, transcriber) = worker.finish()?;
    for d in rest {
        on_done(d, &mut segments, events);
    }
    let from_accurate = accurate_text
        .iter()
        .take(segments.len())
        .filter(|t| t.is_some())
        .count();
    if accurate.is_some() {
        tracing::info!(
            accurate = from_accurate,
            quick = segments.len() - from_accurate,
            "stretches by model"
        );
    }
    for (seg, better) in segments.iter_mut().zip(accurate_text) {
        if let Some(better) = better.and_then(|b| b.into_iter().next()) {
            *seg = better;
        }
    }
    let transcriber = match accurate {
        Some(handle) => Pair::finishing(transcriber, handle, model.clone()),
        None => Pair::single(transcriber),
    };
    // The recording is kept first: a failed transcription must not lose what was said.
    let wav = match &cfg.keep_audio {
        Some(path) => {
            wav::write(path, &samples)?;
            Some(path.clone())
        }
        None => None,
    };
    if let Some(e) = failure {
        return Err(e.into());
    }
    // A loop that spans segments is trimmed; then the bank's vocabulary corrects what was misheard.
    let raw_text = transcribe::loops::trim_repeats(&join_text(&segments));
    let (text, corrections) = cfg.vocabulary.correct(&raw_text);
    let final_ms = ended_at.map_or(0, |t| t.elapsed().as_millis() as u64);
    let audio_ms = samples.len() as u64 * 1000 / u64::from(RATE);
    Ok((
        SpokenAnswer {
            speech: SpeechFacts::measure(&text, audio_ms, endpoint.speech()),
            text,
            raw_text,
            corrections,
            reason,
            audio_ms,
            wav,
            final_ms,
            segments,
            model,
        },
        transcriber,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A microphone that has stopped: never any samples, never closed.
    struct Dead;

    impl AudioSource for Dead {
        fn next(&mut self, wait: Duration) -> Result<Option<Vec<f32>>, ListenError> {
            std::thread::sleep(wait);
            Ok(Some(Vec::new()))
        }
    }

    struct Says(&'static str);

    impl Transcriber for Says {
        fn transcribe(&mut self, _s: &[f32], _p: &str) -> Result<Vec<Segment>, TranscribeError> {
            Ok(vec![Segment {
                start_ms: 0,
                end_ms: 1000,
                text: self.0.into(),
                no_speech: 0.0,
            }])
        }
        fn model_name(&self) -> &str {
            "test"
        }
    }

    fn config(keep: Option<PathBuf>) -> ListenConfig {
        ListenConfig {
            endpoint: EndpointConfig::default(),
            vocabulary: Default::default(),
            keep_audio: keep,
        }
    }

    #[test]
    fn a_microphone_that_stops_sending_is_an_error_not_a_hang() {
        let t = Instant::now();
        let r = hear_answer(
            &mut Dead,
            Pair::single(Box::new(Says("x"))),
            &config(None),
            &AtomicBool::new(false),
            &mut |_| {},
        );
        assert!(matches!(r, Err(ListenError::Stalled(3))), "{:?}", r.map(|a| a.0.text));
        assert!(t.elapsed() < Duration::from_secs(6));
    }

    #[test]
    fn an_answer_ended_by_the_key_keeps_its_recording() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("a.wav");
        // A buzz rising and falling like syllables (speech to the detector), then the end of the input.
        let tone = syllables(2);
        let mut clip = ClipSource::new(tone, false);
        let (answer, _) = hear_answer(
            &mut clip,
            Pair::single(Box::new(Says("a broadcast join"))),
            &config(Some(wav.clone())),
            &AtomicBool::new(false),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(answer.wav.as_deref(), Some(wav.as_path()));
        assert!(wav.is_file());
        assert_eq!(answer.audio_ms, 2000);
    }

    /// `secs` of a 127 Hz buzz rising and falling four times a second: voiced, and not steady.
    fn syllables(secs: usize) -> Vec<f32> {
        (0..16_000 * secs)
            .map(|i| {
                let env = 0.3 + 0.7 * (i as f32 / 16_000.0 * std::f32::consts::TAU * 4.0).sin().abs();
                0.3 * env * (i as f32 * 0.05).sin()
            })
            .collect()
    }

    struct Fails;

    impl Transcriber for Fails {
        fn transcribe(&mut self, _s: &[f32], _p: &str) -> Result<Vec<Segment>, TranscribeError> {
            Err(TranscribeError::Whisper("out of memory".into()))
        }
        fn model_name(&self) -> &str {
            "test"
        }
    }

    #[test]
    fn a_failed_transcription_still_keeps_the_recording() {
        let dir = tempfile::tempdir().unwrap();
        let wav = dir.path().join("a.wav");
        let tone = syllables(2);
        let r = hear_answer(
            &mut ClipSource::new(tone, false),
            Pair::single(Box::new(Fails)),
            &config(Some(wav.clone())),
            &AtomicBool::new(false),
            &mut |_| {},
        );
        assert!(matches!(r, Err(ListenError::Transcribe(_))));
        assert!(wav.is_file(), "what was said is kept");
    }
}
