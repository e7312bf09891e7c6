//! Speech to text with a local Whisper model (whisper-rs), guarded against invented text, plus
//! the model install and the speech facts the grader and report use.

pub mod boost;
pub mod convert;
pub mod correct;
pub mod facts;
pub mod lexicon;
pub mod loops;
pub mod model;
pub mod pair;
pub mod verify;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters, WhisperState};

pub use correct::Correction;
pub use facts::SpeechFacts;
pub use lexicon::Lexicon;
pub use pair::Pair;

use crate::audio::endpoint;
use crate::audio::wav::{self, RATE};

#[derive(Debug, thiserror::Error)]
pub enum TranscribeError {
    #[error(transparent)]
    Model(#[from] model::ModelError),
    #[error(
        "could not load the Whisper model {path}: {why}. Reinstall it with:  dataready models install --model {name} --force"
    )]
    Load { name: String, path: String, why: String },
    #[error("Whisper failed: {0}")]
    Whisper(String),
    #[error(transparent)]
    Audio(#[from] wav::AudioError),
}

/// A piece of recognised text, times in ms from the start of the audio given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub start_ms: u64,
    pub end_ms: u64,
    pub text: String,
    pub no_speech: f32,
}

/// Turns 16 kHz mono audio into text. `prompt` biases the vocabulary (natural words only).
pub trait Transcriber: Send {
    fn transcribe(&mut self, samples: &[f32], prompt: &str) -> Result<Vec<Segment>, TranscribeError>;
    fn model_name(&self) -> &str;
    /// Trade accuracy for speed on the next transcriptions: for the stretch left when the candidate ends
    /// an answer with the key, which someone is waiting for.
    fn set_quick(&mut self, _quick: bool) {}
    /// Decodes nobody waits for: stop as soon as `flag` is set, and leave a core to the decodes
    /// someone does wait for.
    fn set_background(&mut self, _flag: Option<Arc<AtomicBool>>) {}
    /// Get ready for the next transcription while nobody waits (the live worker calls it between stretches).
    fn prepare(&mut self) {}
    /// Favour these terms while decoding (the question's jargon, [`boost`]); empty: none.
    fn set_boost(&mut self, _terms: &[String]) {}
}

pub struct Whisper {
    name: String,
    ctx: WhisperContext,
    /// A decoder state no decode has used yet. whisper.cpp seeds the random generator of its temperature
    /// fallback (sampling, tried on any 30 s window that decodes with low confidence) once, when a state is
    /// created: a reused state made each transcript depend on the clips decoded before it. So every decode
    /// gets a state of its own (2-12 ms to create for tiny.en, 5-25 ms for base), made ahead by
    /// [`Transcriber::prepare`] when possible.
    spare: Option<WhisperState>,
    threads: i32,
    quick: bool,
    /// Set while decoding in the background: the flag that stops the decode under way.
    abort: Option<Arc<AtomicBool>>,
    /// The terms favoured while decoding, tokenized for this model.
    boost: Option<boost::Boost>,
}

/// whisper.cpp's abort callback: `data` is the `AtomicBool` a background decode was given.
unsafe extern "C" fn abort_when_set(data: *mut std::ffi::c_void) -> bool {
    // SAFETY: `data` is `Arc::as_ptr` of the flag, which the `Whisper` holds for the whole decode.
    unsafe { &*(data as *const AtomicBool) }.load(Ordering::Relaxed)
}

/// Threads for Whisper: every core (openmp keeps this sane when cores are shared).
pub fn default_threads() -> i32 {
    std::env::var("DATAREADY_WHISPER_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get() as i32))
}

impl Whisper {
    /// Loads the installed model `name` (default tiny.en); a missing model names the install command.
    pub fn load(name: Option<&str>) -> Result<Self, TranscribeError> {
        let (name, path) = model::find(name)?;
        Self::load_file(&name, &path)
    }

    pub fn load_file(name: &str, path: &Path) -> Result<Self, TranscribeError> {
        whisper_rs::install_logging_hooks();
        let load = |why: String| TranscribeError::Load {
            name: name.into(),
            path: path.display().to_string(),
            why,
        };
        let mut params = WhisperContextParameters::default();
        // Flash attention: ~1.3x faster on CPU with whisper.cpp 1.8.5 (scripts/bench-listening); =0 turns it off.
        params.flash_attn(std::env::var("DATAREADY_WHISPER_FLASH").map_or(true, |v| v != "0"));
        let ctx = WhisperContext::new_with_params(path, params).map_err(|e| load(e.to_string()))?;
        let state = ctx.create_state().map_err(|e| load(e.to_string()))?;
        Ok(Self {
            name: name.into(),
            ctx,
            spare: Some(state),
            threads: default_threads(),
            quick: false,
            abort: None,
            boost: None,
        })
    }
}

/// The beam the accurate model (base) decodes whole files with: whisper's usual 5. On the listening set's tuning
/// part it moved base's WER 0.130 → 0.114 raw and 0.120 → 0.105 corrected (terms R 0.817 → 0.824, P 0.983 →
/// 0.992) for 1.4× the decode time (154 → 215 s for 788 s of speech on 2 cores). Live stretches stay greedy:
/// with the beam there too, Enter → final transcript went from a p50 of 279 ms to 707 ms on quiet cores (the
/// stretch base has not finished when the answer ends is the quick model's, and that was more of the answer).
const BASE_BEAM: usize = 5;

/// The beam for base's whole-file decodes: [`BASE_BEAM`], or `DATAREADY_WHISPER_BEAM=N` (1 for greedy).
pub fn base_beam() -> usize {
    std::env::var("DATAREADY_WHISPER_BEAM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(BASE_BEAM)
}

/// Beam search for base on whole files; greedy for tiny.en and for live stretches (`background`).
fn sampling(model: &str, background: bool) -> SamplingStrategy {
    match base_beam() {
        beam_size if beam_size > 1 && model.starts_with("base") && !background => SamplingStrategy::BeamSearch {
            beam_size: beam_size as i32,
            patience: -1.0,
        },
        _ => SamplingStrategy::Greedy { best_of: 1 },
    }
}

/// How one decode is run: the first try, and the fallbacks when its text loops.
#[derive(Clone, Copy)]
struct Decode {
    temperature: f32,
    /// Shrink the encoder window to the audio when quick: 2-3x faster on short stretches, but less
    /// accurate (live stretches, tuning part: tiny.en WER 0.16 → 0.21, base 0.14 → 0.20) and it made
    /// tiny.en loop, so only the stretch someone waits for is decoded this way.
    short_ctx: bool,
}

/// The full 30 s window at temperature 0 (whisper.cpp itself still samples, at 0.2 and up, a window it decodes
/// with low confidence).
const FULL_WINDOW: Decode = Decode {
    temperature: 0.0,
    short_ctx: false,
};

/// The first decode, then (when it loops) the full window, then sampling at a higher temperature.
const DECODES: [Decode; 3] = [
    Decode {
        temperature: 0.0,
        short_ctx: true,
    },
    FULL_WINDOW,
    Decode {
        temperature: 0.4,
        short_ctx: false,
    },
];

impl Whisper {
    /// Favours `terms` with these bonuses (first token, next token of a begun term) from the next decode on.
    pub fn boost_with(&mut self, terms: &[String], bonuses: (f32, f32)) {
        self.boost = boost::Boost::new(&self.ctx, terms, bonuses);
    }

    fn new_state(&self) -> Result<WhisperState, TranscribeError> {
        self.ctx
            .create_state()
            .map_err(|e| TranscribeError::Whisper(e.to_string()))
    }

    fn decode(
        &mut self,
        audio: &[f32],
        audio_ms: u64,
        prompt: &str,
        how: Decode,
    ) -> Result<Vec<Segment>, TranscribeError> {
        let mut p = FullParams::new(sampling(&self.name, self.abort.is_some()));
        p.set_n_threads(if self.abort.is_some() {
            (self.threads - 1).max(1)
        } else {
            self.threads
        });
        if let Some(flag) = &self.abort {
            if flag.load(Ordering::Relaxed) {
                return Err(TranscribeError::Whisper("stopped: no longer needed".into()));
            }
            // whisper-rs's safe abort closure hands whisper.cpp a pointer of another type than its
            // trampoline reads, so the flag is passed as plain data to a callback of our own.
            // SAFETY: the flag outlives the decode (self holds the Arc) and the callback only reads it.
            unsafe {
                p.set_abort_callback(Some(abort_when_set));
                p.set_abort_callback_user_data(Arc::as_ptr(flag) as *mut std::ffi::c_void);
            }
        }
        if let Some(b) = &self.boost {
            // SAFETY: the boost lives in self, unchanged, for the whole decode; the callback only reads it.
            unsafe {
                p.set_filter_logits_callback(Some(boost::boost_logits));
                p.set_filter_logits_callback_user_data(b as *const boost::Boost as *mut std::ffi::c_void);
            }
        }
        p.set_language(Some("en"));
        p.set_print_progress(false);
        p.set_print_realtime(false);
        p.set_print_special(false);
        p.set_print_timestamps(false);
        p.set_no_context(true);
        p.set_suppress_blank(true);
        p.set_suppress_nst(true);
        p.set_no_speech_thold(0.6);
        p.set_temperature(how.temperature);
        if !prompt.is_empty() {
            p.set_initial_prompt(prompt);
        }
        // Quick: shrink the encoder window to the audio (whisper.cpp's streaming trick), which cuts the
        // fixed 30 s encoder cost for the stretch left when the candidate presses the key.
        let secs = audio_ms as f32 / 1000.0;
        if self.quick && how.short_ctx && secs < 29.0 {
            // 50 encoder frames a second, a second to spare, never under 5 s (shorter looped more).
            let ctx = (((secs + 1.0) * 50.0) as i32).clamp(250, 1500);
            p.set_audio_ctx(ctx);
        }
        let mut state = match self.spare.take() {
            Some(state) => state,
            None => self.new_state()?,
        };
        state
            .full(p, audio)
            .map_err(|e| TranscribeError::Whisper(e.to_string()))?;
        let mut out = Vec::new();
        for s in state.as_iter() {
            let start_ms = (s.start_timestamp().max(0) as u64) * 10;
            // Nothing was said in the padding after the audio: a segment ends with the audio.
            if start_ms >= audio_ms && !out.is_empty() {
                continue;
            }
            out.push(Segment {
                start_ms: start_ms.min(audio_ms),
                end_ms: ((s.end_timestamp().max(0) as u64) * 10).min(audio_ms),
                text: s.to_str_lossy().map(|t| t.into_owned()).unwrap_or_default(),
                no_speech: s.no_speech_probability(),
            });
        }
        Ok(out)
    }
}

fn joined(segments: &[Segment]) -> String {
    segments.iter().map(|s| s.text.trim()).collect::<Vec<_>>().join(" ")
}

impl Whisper {
    /// Decodes, and when the text loops (compression ratio or a repeated run) decodes again with the
    /// fallbacks; what still repeats after the last one is trimmed.
    fn decode_unlooped(&mut self, audio: &[f32], audio_ms: u64, prompt: &str) -> Result<Vec<Segment>, TranscribeError> {
        let mut first = None;
        for (i, how) in DECODES.into_iter().enumerate() {
            let t = std::time::Instant::now();
            let segments = self.decode(audio, audio_ms, prompt, how)?;
            let looping = loops::is_looping(&joined(&segments));
            tracing::debug!(attempt = i, ms = t.elapsed().as_millis() as u64, looping, prompt, text = %joined(&segments), "decoded");
            if !looping {
                if i > 0 {
                    tracing::info!(attempt = i, "a repetition loop was avoided by decoding again");
                }
                return Ok(segments);
            }
            first.get_or_insert(segments);
        }
        tracing::info!("Whisper's text kept looping; the repeats are trimmed");
        let mut segments = first.unwrap_or_default();
        for s in &mut segments {
            s.text = format!(" {}", loops::trim_repeats(s.text.trim()));
        }
        Ok(segments)
    }
}

/// Fewer words than one per this much detected speech (ms) is a transcript cut short (0.67 words a second).
/// Tuning clips (tiny.en, question prompt), words a second of detected speech: whole clips 2.52-4.10 (median
/// 3.29), live stretches 2.46-4.24 (median 3.35, 60 stretches), segments 1.99-4.76 (median 3.28, 135 with 4 s
/// of speech or more); ans-10 cut short: 0.44. People talk slower than these voices, hence the wide margin.
const CUT_SHORT_MS_PER_WORD: u64 = 1500;
/// Under this much speech a word count says too little (a stretch of "um, well, right").
const CUT_SHORT_MIN_SPEECH_MS: u64 = 4000;

/// Words said, markers ("[BLANK_AUDIO]", "(music)") left out.
fn words(text: &str) -> u64 {
    strip_markers(text).split_whitespace().count() as u64
}

fn too_few_words(text: &str, speech_ms: u64) -> bool {
    speech_ms >= CUT_SHORT_MIN_SPEECH_MS && words(text) * CUT_SHORT_MS_PER_WORD < speech_ms
}

/// Detected speech (ms) between `from` and `to`.
fn speech_within(regions: &[(u64, u64)], from: u64, to: u64) -> u64 {
    regions
        .iter()
        .map(|&(a, b)| b.min(to).saturating_sub(a.max(from)))
        .sum()
}

/// Whisper stopped early: too few words for the speech detected (`regions`, ms), in the whole transcript or in
/// one segment. A prompt can make Whisper end a segment after a dozen words, stamped to the end of its 30 s
/// window, so the rest of the window is never decoded.
pub fn cut_short(segments: &[Segment], regions: &[(u64, u64)]) -> bool {
    let speech_ms = regions.iter().map(|(a, b)| b - a).sum();
    too_few_words(&joined(segments), speech_ms)
        || segments
            .iter()
            .any(|s| too_few_words(&s.text, speech_within(regions, s.start_ms, s.end_ms)))
}

/// Detected speech (ms) a stretch with no segment must hold to be decoded again on its own: more than
/// Whisper's timestamps are off by, and less than a sentence (3 s let a final sentence go unheard).
const GAP_MIN_SPEECH_MS: u64 = 2000;

/// Stretches of the audio (ms) with no segment over them that hold at least [`GAP_MIN_SPEECH_MS`] of detected
/// speech (`regions`). Whisper sometimes ends a 30 s window after its first segment ("… <|10.00|>", then end of
/// text) and moves on to the next window, so the speech in between is never decoded: listening set clip
/// fresh-19 (40 s) came back with 0-10 s and 30-40 s only.
pub fn uncovered(segments: &[Segment], regions: &[(u64, u64)], audio_ms: u64) -> Vec<(u64, u64)> {
    let mut spans: Vec<(u64, u64)> = segments.iter().map(|s| (s.start_ms, s.end_ms)).collect();
    spans.sort_unstable();
    let mut gaps = Vec::new();
    let mut at = 0;
    for (start, end) in spans {
        if start > at {
            gaps.push((at, start));
        }
        at = at.max(end);
    }
    if audio_ms > at {
        gaps.push((at, audio_ms));
    }
    gaps.retain(|&(a, b)| speech_within(regions, a, b) >= GAP_MIN_SPEECH_MS);
    gaps
}

impl Whisper {
    /// Decodes each stretch of speech no segment covers ([`uncovered`]) on its own and puts its segments in place.
    fn fill_gaps(
        &mut self,
        audio: &[f32],
        audio_ms: u64,
        mut segments: Vec<Segment>,
        regions: &[(u64, u64)],
        prompt: &str,
    ) -> Result<Vec<Segment>, TranscribeError> {
        let at = |ms: u64| ((ms * u64::from(RATE) / 1000) as usize).min(audio.len());
        for (from, to) in uncovered(&segments, regions, audio_ms) {
            let t = std::time::Instant::now();
            let found = self.decode_unlooped(&audio[at(from)..at(to)], to - from, prompt)?;
            tracing::info!(
                from,
                to,
                words = words(&joined(&found)),
                ms = t.elapsed().as_millis() as u64,
                "speech no segment covered was decoded on its own"
            );
            segments.extend(found.into_iter().filter(|s| words(&s.text) > 0).map(|s| Segment {
                start_ms: s.start_ms + from,
                end_ms: s.end_ms + from,
                ..s
            }));
        }
        segments.sort_by_key(|s| s.start_ms);
        Ok(segments)
    }
}

impl Transcriber for Whisper {
    /// Decodes with the prompt (and the loop fallbacks), then decodes on its own any stretch of speech no
    /// segment covers; a transcript cut short for the speech detected is decoded again without the prompt,
    /// and the longer of the two that does not loop is kept.
    fn transcribe(&mut self, samples: &[f32], prompt: &str) -> Result<Vec<Segment>, TranscribeError> {
        let audio_ms = samples.len() as u64 * 1000 / u64::from(RATE);
        // Whisper needs at least 1 s; pad short clips with silence.
        let mut padded;
        let audio = if samples.len() < RATE as usize + RATE as usize / 10 {
            padded = samples.to_vec();
            padded.resize(RATE as usize + RATE as usize / 5, 0.0);
            &padded[..]
        } else {
            samples
        };
        let segments = self.decode_unlooped(audio, audio_ms, prompt)?;
        let regions = endpoint::speech_regions(samples);
        let segments = self.fill_gaps(audio, audio_ms, segments, &regions, prompt)?;
        if prompt.is_empty() || !cut_short(&segments, &regions) {
            return Ok(segments);
        }
        // Decoded again without the prompt; kept when that is longer, does not loop and is not cut short itself
        // (so noise the detector took for speech does not turn into one of Whisper's stock lines).
        let t = std::time::Instant::now();
        let bare = self.decode(audio, audio_ms, "", FULL_WINDOW)?;
        let (text, bare_text) = (joined(&segments), joined(&bare));
        let longer = words(&bare_text) > words(&text) && !loops::is_looping(&bare_text) && !cut_short(&bare, &regions);
        tracing::info!(
            words = words(&text),
            without_prompt = words(&bare_text),
            kept = if longer { "without prompt" } else { "with prompt" },
            ms = t.elapsed().as_millis() as u64,
            "a transcript cut short for its speech was decoded again without the prompt"
        );
        Ok(if longer { bare } else { segments })
    }

    fn model_name(&self) -> &str {
        &self.name
    }

    fn set_quick(&mut self, quick: bool) {
        self.quick = quick;
    }

    fn set_background(&mut self, flag: Option<Arc<AtomicBool>>) {
        self.abort = flag;
    }

    fn set_boost(&mut self, terms: &[String]) {
        self.boost_with(terms, boost::bonuses());
    }

    fn prepare(&mut self) {
        if self.spare.is_none() {
            // A failure here shows again, as an error, at the next decode.
            self.spare = self.new_state().ok();
        }
    }
}

/// The vocabulary prompt for a question's skill: natural words (code-style tokens made tiny.en loop),
/// and a disfluent opening so Whisper keeps the candidate's "um"s for the speech facts.
pub fn prompt_for(skill_name: &str, summary: &str) -> String {
    format!(
        "Um, so, a data engineering interview answer about {skill_name}. {} Uh, let me think.",
        natural_words(summary).join(" ")
    )
}

fn natural_words(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .filter(|w| !w.contains(['_', '(', ')', '*', '=', '<', '>', '`']))
        .collect()
}

/// Longest vocabulary prompt in characters: Whisper keeps at most 224 prompt tokens, and English runs
/// about four characters a token; this leaves room for the context carried between segments.
pub const PROMPT_CHARS: usize = 480;

/// The prompt for an answer to `question`: the skill, the question as asked, then the question's terms
/// (natural words only, no code-style tokens), cut to [`PROMPT_CHARS`].
pub fn prompt_for_question(skill_name: &str, question: &str, terms: &[String]) -> String {
    let mut p = format!(
        "Um, so, a data engineering interview answer about {skill_name}. {}",
        natural_words(question).join(" ")
    );
    let lower = p.to_lowercase();
    let mut extra: Vec<&str> = Vec::new();
    for t in terms {
        let natural = !t.chars().skip(1).any(char::is_uppercase) || t.chars().all(|c| !c.is_lowercase());
        if natural && !t.contains('_') && !lower.contains(&t.to_lowercase()) && !extra.contains(&t.as_str()) {
            extra.push(t);
        }
    }
    let end = " Uh, let me think.";
    for (i, t) in extra.iter().enumerate() {
        let sep = if i == 0 { " We talk about " } else { ", " };
        if p.len() + sep.len() + t.len() + 1 + end.len() > PROMPT_CHARS {
            break;
        }
        p.push_str(sep);
        p.push_str(t);
    }
    if !extra.is_empty() && !p.ends_with('.') {
        p.push('.');
    }
    p.truncate(PROMPT_CHARS - end.len());
    p.push_str(end);
    p
}

/// What recognition is biased toward and corrected against: Whisper's prompt and the bank's lexicon.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub prompt: String,
    /// Terms favoured token by token while Whisper decodes (the question's jargon).
    pub boost: Vec<String>,
    /// `None`: no correction (the raw text is the transcript).
    pub lexicon: Option<Arc<Lexicon>>,
}

impl Vocabulary {
    /// For an answer to `question`: its terms in the prompt and weighted highest in the lexicon.
    pub fn for_question(bank: &crate::bank::Bank, question: &crate::bank::Question) -> Self {
        let lexicon = Lexicon::new(bank, Some(question));
        let skill = bank.skill_name(&question.skill);
        Self {
            prompt: prompt_for_question(skill, &question.text, &lexicon.prompt_terms),
            boost: lexicon.boost_terms(),
            lexicon: Some(Arc::new(lexicon)),
        }
    }

    /// For an answer on a skill (or on data engineering in general): the bank's lexicon, no question.
    pub fn for_skill(bank: &crate::bank::Bank, skill: Option<&crate::bank::Skill>) -> Self {
        let prompt = match skill {
            Some(s) => prompt_for(&s.name, &s.summary),
            None => prompt_for(
                "data engineering",
                "pipelines, SQL, Spark, Kafka, Airflow and data quality.",
            ),
        };
        Self {
            prompt,
            boost: Vec::new(),
            lexicon: Some(Arc::new(Lexicon::new(bank, None))),
        }
    }

    /// Just a prompt, no correction.
    pub fn prompt_only(prompt: &str) -> Self {
        Self {
            prompt: prompt.to_string(),
            boost: Vec::new(),
            lexicon: None,
        }
    }

    /// The corrected text (repeats trimmed, lexicon applied), with what was rewritten.
    pub fn correct(&self, raw: &str) -> (String, Vec<Correction>) {
        match &self.lexicon {
            Some(l) => correct::correct(raw, l),
            None => (raw.to_string(), Vec::new()),
        }
    }
}

/// Whisper's stock inventions on silence and noise.
const HALLUCINATIONS: &[&str] = &[
    "thank you",
    "thanks for watching",
    "thank you for watching",
    "thanks for listening",
    "thank you very much",
    "you",
    "bye",
    "okay",
    "so",
    "please subscribe",
    "subtitles by the amara.org community",
    "i'm sorry",
];

/// Keeps what was said: drops non-speech markers ("[Music]", "(coughs)"), segments Whisper itself
/// rates as no speech, and stock phrases when there was hardly any speech.
pub fn guard(segments: &[Segment], speech_ms: u64) -> String {
    let mut parts = Vec::new();
    for s in segments {
        if s.no_speech > 0.8 {
            continue;
        }
        let text = strip_markers(&s.text);
        if !text.is_empty() {
            parts.push(text);
        }
    }
    // A loop that spans segments (each one repeating the last) is trimmed here.
    let text = loops::trim_repeats(&parts.join(" "));
    let norm: String = text
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '\'' || *c == '.')
        .collect::<String>()
        .trim_matches(['.', ' '])
        .to_string();
    let stock = HALLUCINATIONS
        .iter()
        .any(|h| norm == *h || norm.trim_end_matches('.') == *h);
    if norm.is_empty() || (stock && speech_ms < 1500) {
        return String::new();
    }
    text
}

fn strip_markers(s: &str) -> String {
    let mut out = String::new();
    let (mut depth, mut star) = (0i32, false);
    for c in s.chars() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => depth = (depth - 1).max(0),
            '*' => star = !star,
            _ if depth == 0 && !star => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A transcript with what it rests on.
#[derive(Debug, Clone, Serialize)]
pub struct Transcript {
    /// The corrected text: what is graded.
    pub text: String,
    /// Whisper's text (invented phrases dropped, repeats trimmed) before the bank-vocabulary correction.
    pub raw_text: String,
    pub corrections: Vec<Correction>,
    /// Time the correction took, within `transcribe_ms`.
    pub correct_ms: u64,
    pub model: String,
    pub audio_ms: u64,
    pub segments: Vec<Segment>,
    pub speech: SpeechFacts,
    /// Time spent transcribing, for the log and benchmarks.
    pub transcribe_ms: u64,
}

/// Transcribes a whole clip (16 kHz mono): nothing is sent to Whisper if no speech is detected.
pub fn transcribe_clip(
    t: &mut dyn Transcriber,
    samples: &[f32],
    vocabulary: &Vocabulary,
) -> Result<Transcript, TranscribeError> {
    let start = std::time::Instant::now();
    let regions = endpoint::speech_regions(samples);
    let speech_ms: u64 = regions.iter().map(|(a, b)| b - a).sum();
    let segments = if regions.is_empty() {
        Vec::new()
    } else {
        t.set_boost(&vocabulary.boost);
        t.transcribe(samples, &vocabulary.prompt)?
    };
    let raw_text = guard(&segments, speech_ms);
    let corrected = std::time::Instant::now();
    let (text, corrections) = vocabulary.correct(&raw_text);
    let correct_ms = corrected.elapsed().as_millis() as u64;
    let audio_ms = samples.len() as u64 * 1000 / u64::from(RATE);
    Ok(Transcript {
        speech: SpeechFacts::measure(&text, audio_ms, &regions),
        text,
        raw_text,
        corrections,
        correct_ms,
        model: t.model_name().to_string(),
        audio_ms,
        segments,
        transcribe_ms: start.elapsed().as_millis() as u64,
    })
}

/// Reads a WAV file (any format hound reads) and transcribes it.
pub fn transcribe_file(
    t: &mut dyn Transcriber,
    path: &Path,
    vocabulary: &Vocabulary,
) -> Result<Transcript, TranscribeError> {
    let clip = wav::read(path)?;
    transcribe_clip(t, &clip.samples, vocabulary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(text: &str, no_speech: f32) -> Segment {
        Segment {
            start_ms: 0,
            end_ms: 1000,
            text: text.into(),
            no_speech,
        }
    }

    #[test]
    fn stock_phrases_on_near_silence_are_dropped() {
        assert_eq!(guard(&[seg(" Thank you.", 0.2)], 300), "");
        assert_eq!(guard(&[seg(" [BLANK_AUDIO]", 0.1)], 5000), "");
        assert_eq!(guard(&[seg(" (upbeat music)", 0.1)], 5000), "");
        // Real speech that happens to say it is kept.
        assert_eq!(guard(&[seg(" Thank you.", 0.1)], 4000), "Thank you.");
    }

    #[test]
    fn markers_are_removed_and_no_speech_segments_skipped() {
        let s = [seg(" A watermark [coughs] bounds lateness.", 0.1), seg(" You", 0.95)];
        assert_eq!(guard(&s, 4000), "A watermark bounds lateness.");
    }

    #[test]
    fn a_transcript_with_too_few_words_for_its_speech_is_cut_short() {
        let seg = |from: u64, to: u64, text: &str| Segment {
            start_ms: from,
            end_ms: to,
            text: text.into(),
            no_speech: 0.1,
        };
        let speech = [(100, 29_900)];
        // ans-10: one 0-30,000 ms segment of 13 words, the rest of the answer never decoded.
        let cut = "Separating storage from compute means you can scale them independently. You keep the";
        assert!(cut_short(&[seg(0, 30_000, cut)], &speech));
        // Synthetic voices run 3-3.7 words a second of speech; a slow speaker half that is not cut short.
        let whole = "word ".repeat(45);
        assert!(!cut_short(&[seg(0, 30_000, &whole)], &speech));
        // One segment cut short in a longer clip: the whole transcript has words enough, that segment has not.
        let speech = [(100, 29_900), (30_200, 60_000)];
        let long = "word ".repeat(100);
        assert!(cut_short(&[seg(0, 30_000, cut), seg(30_000, 60_000, &long)], &speech));
        assert!(!cut_short(
            &[seg(0, 30_000, &whole), seg(30_000, 60_000, &long)],
            &speech
        ));
        // Too little speech to judge by a word count; markers are not words.
        assert!(!cut_short(&[seg(0, 3_000, "Right.")], &[(0, 3_000)]));
        assert!(cut_short(&[seg(0, 5_000, "[BLANK_AUDIO]")], &[(0, 5_000)]));
    }

    #[test]
    fn speech_no_segment_covers_is_found() {
        let seg = |from: u64, to: u64| Segment {
            start_ms: from,
            end_ms: to,
            text: " words".into(),
            no_speech: 0.1,
        };
        // fresh-19: speech all along, segments for 0-10 s and 30-40 s only.
        let speech = [(100, 40_000)];
        assert_eq!(
            uncovered(&[seg(0, 10_000), seg(30_000, 40_000)], &speech, 40_300),
            [(10_000, 30_000)]
        );
        // A decode that stopped early, and one that began late.
        assert_eq!(uncovered(&[seg(0, 10_000)], &speech, 40_300), [(10_000, 40_300)]);
        assert_eq!(uncovered(&[seg(20_000, 40_000)], &speech, 40_300), [(0, 20_000)]);
        // The last sentence after a window that ended early (an 18 s espeak-ng answer heard to 15 s).
        assert_eq!(
            uncovered(&[seg(0, 15_000)], &[(100, 18_000)], 18_316),
            [(15_000, 18_316)]
        );
        // Pauses and timestamps a little off are not gaps: under 2 s of speech.
        let speech = [(100, 9_000), (11_000, 20_000)];
        assert!(uncovered(&[seg(0, 8_000), seg(10_500, 19_000)], &speech, 20_300).is_empty());
    }

    #[test]
    fn prompt_is_natural_words() {
        let p = prompt_for("Advanced SQL", "Window functions like ROW_NUMBER() and joins.");
        assert!(p.contains("Advanced SQL") && p.contains("Window functions") && !p.contains("ROW_NUMBER"));
    }
}

/// Word error rate of `hypothesis` against `reference`, after lower-casing and dropping punctuation
/// (Levenshtein distance over words / reference words).
pub fn word_error_rate(reference: &str, hypothesis: &str) -> f64 {
    let norm = |s: &str| -> Vec<String> {
        s.to_lowercase()
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (r, h) = (norm(reference), norm(hypothesis));
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    crate::text::edit_distance(&r, &h) as f64 / r.len() as f64
}

#[cfg(test)]
mod wer_tests {
    #[test]
    fn wer_counts_edits_per_reference_word() {
        use super::word_error_rate as wer;
        assert_eq!(wer("A watermark, bounds lateness.", "a watermark bounds lateness"), 0.0);
        assert_eq!(wer("make it idempotent", "make it item potent"), 2.0 / 3.0);
        assert_eq!(wer("one two three four", "one three four"), 0.25);
        assert_eq!(wer("", ""), 0.0);
    }
}
