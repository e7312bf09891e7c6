//! The one place an interview is put together: resolved options become the grader, the LLM
//! interviewer, the voice and the ears, and a session runs with them. The plain prompt, the room,
//! scripted runs and `resume` all come through here.

use std::io::{BufRead, Write};
use std::path::Path;
use std::sync::Arc;

use crate::bank::Bank;
use crate::grade::{Grader, RubricGrader};
use crate::listen::ear::{EarOptions, EarSetup};
use crate::llm::background::LateGrades;
use crate::llm::config::{LlmMode, LlmOptions};
use crate::llm::grader::LlmGrader;
use crate::llm::interviewer::LlmInterviewer;
use crate::llm::{self, Llm};
use crate::notice::Notice;
use crate::prompt::{Speaking, Typed};
use crate::script::{Script, Scripted};
use crate::session::{Candidate, Composer, Outcome, Session};
use crate::transcribe::{Pair, Transcriber};
use crate::voice::{self, InterviewVoice, InterviewVoiceOptions, Spoken};

/// What the user asked for, in plain terms (the command layer fills it from flags).
#[derive(Debug, Clone, Default)]
pub struct InterviewOptions {
    pub llm: LlmOptions,
    pub voice: InterviewVoiceOptions,
    pub ear: EarOptions,
}

/// Who answers, decided before anything loads.
pub enum Answering {
    /// Rows of a CSV (scripted runs, CI): no person, no microphone.
    Script(Script),
    /// A person at the plain prompt; `attended` when standard input is a terminal.
    Prompt { attended: bool },
    /// A person in the full-screen room.
    Room,
}

impl Answering {
    /// No person is listening: the voice speaks only when a voice flag asks for it.
    fn unattended(&self) -> bool {
        match self {
            Answering::Script(_) => true,
            Answering::Prompt { attended } => !attended,
            Answering::Room => false,
        }
    }
}

/// The adapters an interview runs with, resolved from options (models are loaded later, where the
/// front end can show progress).
pub struct Adapters {
    pub llm: Option<Arc<Llm>>,
    pub voice: Option<InterviewVoice>,
    /// Spoken answers, when they can work here.
    pub ear: Option<EarSetup>,
}

impl Adapters {
    /// Resolves the LLM, the voice and the ears. Anything that can't be used is a notice (and the
    /// interview goes on without it); only an explicitly requested voice that fails is an error.
    pub fn resolve(
        options: &InterviewOptions,
        answering: &Answering,
        notify: &mut dyn FnMut(Notice),
    ) -> anyhow::Result<Self> {
        let llm = open_llm(&options.llm, notify)?;
        let unattended = answering.unattended();
        let ear = match answering {
            Answering::Script(_) => None,
            _ => options.ear.choose(!unattended, notify),
        };
        let mut voice = voice::open_for_interview(&options.voice, unattended, notify)?;
        if let (Some(v), Some(_)) = (voice.as_mut(), &ear) {
            // The microphone must not hear the interviewer: each line plays to its end first.
            v.wait = true;
        }
        Ok(Self { llm, voice, ear })
    }
}

/// The LLM set-up from options, environment and config file; `None` when it is off. Prompt
/// templates are loaded and checked here, before anything starts.
pub fn open_llm(options: &LlmOptions, notify: &mut dyn FnMut(Notice)) -> anyhow::Result<Option<Arc<Llm>>> {
    let Some(config) = llm::config::from_env(options)? else {
        return Ok(None);
    };
    notify(Notice::Info(format!(
        "LLM {}: {} at {} (key {}); offline fallback after {:.1} s per step",
        match config.mode {
            LlmMode::Full => "questions, follow-ups and grading",
            _ => "grading",
        },
        config.deep_model,
        config.base_url,
        config.key.as_ref().map_or("none".to_string(), |k| k.masked()),
        config.budget.as_secs_f64()
    )));
    Ok(Some(Arc::new(Llm::new(config)?)))
}

/// The offline grader; the first time, it embeds the question bank (`progress(done, total)`).
pub fn load_grader(bank: Arc<Bank>, progress: &mut dyn FnMut(usize, usize)) -> anyhow::Result<RubricGrader> {
    let t = std::time::Instant::now();
    let grader = RubricGrader::load(
        bank,
        &crate::paths::embedder_dir(),
        &crate::paths::cache_dir(),
        progress,
    )?;
    tracing::info!(ms = t.elapsed().as_millis() as u64, "grader loaded");
    Ok(grader)
}

/// The candidate at the plain prompt: a script, the microphone, or typed lines. A microphone or
/// model that fails to open is a notice, and answers are typed.
pub fn prompt_candidate<'a, R: BufRead + 'a, W: Write + 'a>(
    answering: Answering,
    ear: Option<EarSetup>,
    session_dir: &Path,
    bank: &'a Bank,
    io: PromptIo<'a, R, W>,
) -> Box<dyn Candidate + 'a> {
    let PromptIo { input, out, mut err } = io;
    if let Answering::Script(script) = answering {
        return Box::new(Scripted { script, err });
    }
    if let Some(setup) = ear {
        match setup.open(session_dir) {
            Ok(ear) => return Box::new(Speaking::new(ear, out, err, bank)),
            Err(why) => {
                let _ = writeln!(err, "{}", Notice::Info(format!("Answers will be typed: {why}")));
            }
        }
    }
    Box::new(Typed { input, out, err, bank })
}

/// Where the plain prompt reads and writes.
pub struct PromptIo<'a, R, W> {
    pub input: R,
    pub out: W,
    pub err: Box<dyn Write + 'a>,
}

/// Runs `session` with this candidate: lines spoken through the voice when there is one, answers
/// graded by the LLM (the offline grade kept beside it) when one is configured, and in full mode
/// the LLM writing the questions.
///
/// `attended`: a person answers. Then the deep grade is written in the background while the
/// interview goes on with the offline grade (the next question never waits for it), and the next
/// topic's question is written while the candidate answers. A script has no turn to protect: each
/// deep grade is waited for, up to its limit.
pub fn conduct(
    session: &mut Session,
    candidate: &mut dyn Candidate,
    offline: &RubricGrader,
    adapters: Adapters,
    attended: bool,
) -> anyhow::Result<Outcome> {
    let Adapters { llm, voice, .. } = adapters;
    let prefetch = attended;
    let llm_grader = llm.as_ref().filter(|_| !attended).map(|l| LlmGrader {
        offline,
        llm: Arc::clone(l),
    });
    if let Some(l) = llm.as_ref().filter(|_| attended) {
        session.set_late_grader(Box::new(LateGrades::new(Arc::clone(l))));
    }
    let grader: &dyn Grader = match &llm_grader {
        Some(g) => g,
        None => offline,
    };
    let interviewer = llm
        .as_ref()
        .filter(|l| l.config.mode == LlmMode::Full)
        .map(|l| LlmInterviewer::new(Arc::clone(l), prefetch));
    let composer = interviewer.as_ref().map(|i| i as &dyn Composer);
    // Recorded answers (scripted audio) have nobody waiting on a turn: the accurate model hears them.
    session.set_transcriber(Box::new(|| Ok(Box::new(Pair::load(None)?) as Box<dyn Transcriber>)));
    let outcome = match voice {
        Some(v) => session.run_composed(&mut Spoken::new(&mut *candidate, v), grader, composer),
        None => session.run_composed(&mut *candidate, grader, composer),
    };
    if let Some(line) = llm.as_ref().and_then(|l| l.summary()) {
        candidate.notice(Notice::Info(line));
    }
    outcome
}
