//! Drives an interview: feeds the core its events and carries out its effects with the adapters
//! at hand (a candidate who answers, a grader, the session journal). Text and scripted runs use
//! it directly; the terminal room will drive the same loop.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::bank::{Bank, Question};
use crate::grade::{Grader, delivery};
use crate::interview::{
    Answer, Composed, Config, DEEP_GRADE_PENDING, Effect, EndReason, Evaluation, Event, GradeRequest, Interview, Line,
    Record, Turn,
};
use crate::notice::Notice;
use crate::report::{self, Report};
use crate::review::{self as review_, ModelAnswer};
use crate::store::{Journal, Store};
use crate::transcribe::{self, Transcriber};

/// What a candidate does when the interviewer stops talking.
pub enum Response {
    Answer(Answer),
    Skip,
    Repeat,
    End,
    /// Nothing more to say (a script ran out, input closed).
    Exhausted,
    /// The candidate walked away (the window closed): stop without ending, so `resume` continues.
    Leave,
}

/// The candidate side: hears lines, answers, sees practice feedback.
pub trait Candidate {
    fn hear(&mut self, line: &Line, question: &Question);
    fn respond(&mut self, line: &Line, question: &Question) -> Response;
    fn feedback(&mut self, turn: &Turn, model: &ModelAnswer);
    /// The interviewer is waiting on something slow (an LLM writing the next line): show that it is thinking.
    fn thinking(&mut self) {}
    /// While the candidate answers: the question the next topic would open with if it started now, so a
    /// voice can have it ready (a guess: the answer can still change its difficulty).
    fn upcoming(&mut self, _next: &Question) {}
    /// Something to tell the user beside the interview (shown by the front end, never printed here).
    fn notice(&mut self, n: Notice) {
        tracing::info!(%n, "notice");
    }
}

/// A borrowed candidate is a candidate, so wrappers (the voice) can take `&mut dyn Candidate`.
impl<C: Candidate + ?Sized> Candidate for &mut C {
    fn hear(&mut self, line: &Line, question: &Question) {
        (**self).hear(line, question);
    }
    fn respond(&mut self, line: &Line, question: &Question) -> Response {
        (**self).respond(line, question)
    }
    fn feedback(&mut self, turn: &Turn, model: &ModelAnswer) {
        (**self).feedback(turn, model);
    }
    fn thinking(&mut self) {
        (**self).thinking();
    }
    fn upcoming(&mut self, next: &Question) {
        (**self).upcoming(next);
    }
    fn notice(&mut self, n: Notice) {
        (**self).notice(n);
    }
}

/// Writes the interviewer's next line instead of the bank (an LLM). Called after the core plans a
/// line and before it is spoken; `None` keeps the planned line.
pub trait Composer {
    fn compose(&self, interview: &Interview) -> Option<Composed>;
    /// The candidate has started answering: work that does not depend on the answer may start now.
    fn prefetch(&self, _interview: &Interview) {}
}

/// Grades too slow for a turn (a deep LLM that thinks for half a minute): started when the answer is
/// in, landing later as [`Event::Regraded`]. Meanwhile the turn goes on with the offline grade.
pub trait LateGrader {
    /// Starts grading turn `turn`; `offline` is the offline grade it goes on with meanwhile.
    fn start(&self, turn: usize, request: GradeRequest, offline: Evaluation);
    /// Grades that have landed since the last call; never blocks.
    fn landed(&self) -> Vec<(usize, Evaluation)>;
    /// Waits up to `timeout` for the next grade to land.
    fn next(&self, timeout: Duration) -> Option<(usize, Evaluation)>;
    /// Grades started and not yet landed.
    fn pending(&self) -> usize;
    /// Longest time one grade may take once it is being written.
    fn limit(&self) -> Duration;
}

/// Milliseconds since the Unix epoch: the only clock the interview sees.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A new session id: sortable by time, readable, unique enough for one user.
pub fn new_id(role: &str, at_ms: u64) -> String {
    let secs = at_ms / 1000;
    let stamp = report::timestamp(at_ms)
        .replace(['-', ':'], "")
        .replace('T', "-")
        .replace('Z', "");
    format!(
        "{stamp}-{role}-{:04x}",
        (secs ^ u64::from(std::process::id()) ^ (at_ms % 1000) << 7) & 0xffff
    )
}

pub struct Session {
    pub id: String,
    pub interview: Interview,
    journal: Journal,
    store: Store,
    /// Speech recognition for recorded answers (scripted audio), made on the first one.
    transcriber: Option<Box<dyn Transcriber>>,
    load_transcriber: Option<TranscriberLoader>,
    /// Notices from opening the session, shown to the candidate when the run starts.
    notices: Vec<Notice>,
    /// Deep grades written in the background (an LLM too slow for the turn).
    late: Option<Box<dyn LateGrader>>,
}

/// Makes the speech recognizer when the first recorded answer needs it (it takes a while to load).
pub type TranscriberLoader = Box<dyn FnOnce() -> anyhow::Result<Box<dyn Transcriber>> + Send>;

/// The result of a finished (or interrupted) run.
pub struct Outcome {
    pub report: Report,
    pub markdown: PathBuf,
    pub json: PathBuf,
}

impl Session {
    /// Starts a new interview and records its setup.
    pub fn start(store: Store, bank: Arc<Bank>, config: Config) -> anyhow::Result<Self> {
        let at = now_ms();
        let id = new_id(&config.role, at);
        let interview = Interview::new(bank, config)?;
        let journal = store.create(&id)?;
        let mut s = Self {
            id,
            interview,
            journal,
            store,
            transcriber: None,
            load_transcriber: None,
            notices: Vec::new(),
            late: None,
        };
        let effects = s.interview.handle(Event::Start { at_ms: at })?;
        for e in effects {
            if let Effect::Persist(r) = e {
                s.journal.append(&r)?;
            }
        }
        Ok(s)
    }

    /// Reopens an interrupted interview where it stopped.
    pub fn resume(store: Store, bank: Arc<Bank>, id: &str) -> anyhow::Result<Self> {
        let loaded = store.load(id)?;
        let mut notices = Vec::new();
        if loaded.torn_bytes > 0 {
            notices.push(Notice::Note(format!(
                "set aside an incomplete or damaged final write ({} bytes) of the journal; a copy is kept in {}",
                loaded.torn_bytes,
                store.dir(id).join("journal.jsonl.dropped").display()
            )));
        }
        let interview =
            Interview::restore(bank, &loaded.records).with_context(|| format!("cannot resume session {id}"))?;
        let journal = store.reopen(id, &loaded)?;
        Ok(Self {
            id: id.to_string(),
            interview,
            journal,
            store,
            transcriber: None,
            load_transcriber: None,
            notices,
            late: None,
        })
    }

    /// The session's folder (journal, reports, recordings).
    pub fn dir(&self) -> PathBuf {
        self.store.dir(&self.id)
    }

    /// How to make the speech recognizer for recorded answers, when the first one comes.
    pub fn set_transcriber(&mut self, load: TranscriberLoader) {
        self.load_transcriber = Some(load);
    }

    /// Grades answers in the background with this grader as well; the turn's grade (from the grader
    /// passed to `run`) stands until the late one lands.
    pub fn set_late_grader(&mut self, late: Box<dyn LateGrader>) {
        self.late = Some(late);
    }

    /// Notices from opening the session that no candidate has seen yet.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        std::mem::take(&mut self.notices)
    }

    /// A recorded answer's text, biased toward and corrected with the question's vocabulary.
    fn transcribe(&mut self, audio: &str, question: &Question) -> anyhow::Result<transcribe::Transcript> {
        let t = match &mut self.transcriber {
            Some(t) => t,
            None => {
                let load = self
                    .load_transcriber
                    .take()
                    .context("no speech recognition is set up for recorded answers")?;
                self.transcriber.insert(load()?)
            }
        };
        let vocabulary = transcribe::Vocabulary::for_question(self.interview.bank(), question);
        let heard = transcribe::transcribe_file(t.as_mut(), std::path::Path::new(audio), &vocabulary)
            .with_context(|| format!("cannot transcribe the recorded answer {audio}"))?;
        tracing::info!(
            audio,
            ms = heard.transcribe_ms,
            facts = %heard.speech.describe(),
            "transcribed"
        );
        Ok(heard)
    }

    /// Runs the interview to its end with this candidate and grader, writing the reports.
    pub fn run(&mut self, candidate: &mut dyn Candidate, grader: &dyn Grader) -> anyhow::Result<Outcome> {
        self.run_composed(candidate, grader, None)
    }

    /// Like [`Session::run`], letting `composer` (an LLM) write questions and follow-ups.
    pub fn run_composed(
        &mut self,
        candidate: &mut dyn Candidate,
        grader: &dyn Grader,
        composer: Option<&dyn Composer>,
    ) -> anyhow::Result<Outcome> {
        for n in self.take_notices() {
            candidate.notice(n);
        }
        self.restart_pending_grades();
        let mut queue: VecDeque<Effect> = VecDeque::new();
        match self.interview.phase() {
            crate::interview::Phase::Ready => queue.extend(self.interview.handle(Event::Begin { at_ms: now_ms() })?),
            crate::interview::Phase::Complete => {}
            // Resumed mid-question: ask it again.
            _ => {
                if let Some(line) = self.interview.current_line().cloned() {
                    queue.push_back(Effect::Speak(line));
                }
            }
        }
        // When the last answer came in: the wait until the interviewer's next line is logged.
        let mut answered: Option<Instant> = None;
        let mut left = false;
        while let Some(effect) = queue.pop_front() {
            self.land_late_grades()?;
            let next = match effect {
                Effect::Persist(record) => {
                    self.journal.append(&record).context("could not save the session")?;
                    tracing::debug!(session = %self.id, "saved a journal record");
                    continue;
                }
                Effect::Speak(line) => {
                    if let Some(composer) = composer.filter(|_| self.interview.composable()) {
                        candidate.thinking();
                        let composed = composer.compose(&self.interview);
                        if let Some(effects) = composed.and_then(|c| self.interview.handle(Event::Composed(c)).ok()) {
                            // The composed line replaces this one: carry out its effects instead.
                            for e in effects.into_iter().rev() {
                                queue.push_front(e);
                            }
                            continue;
                        }
                    }
                    let q = self.question()?;
                    if let Some(t) = answered.take() {
                        tracing::info!(ms = t.elapsed().as_millis() as u64, "answer to next line");
                    }
                    candidate.hear(&line, &q);
                    self.interview.handle(Event::Spoken)?
                }
                Effect::Listen => {
                    if let Some(composer) = composer {
                        composer.prefetch(&self.interview);
                    }
                    let more = self.interview.turns().len() + 1 < self.interview.config().questions;
                    if let Some(next) = self.interview.peek_next_topic().filter(|_| more) {
                        candidate.upcoming(&next);
                    }
                    let Some(event) = self.respond(candidate, &mut answered)? else {
                        left = true;
                        break;
                    };
                    self.interview.handle(event)?
                }
                Effect::Transcribe { audio } => {
                    let q = self.question()?;
                    let heard = self.transcribe(&audio, &q)?;
                    self.interview.handle(Event::Transcribed {
                        text: heard.text,
                        speech: Some(heard.speech),
                    })?
                }
                Effect::Grade(request) => {
                    let evaluation = self.grade(&request, grader, candidate);
                    self.interview.handle(Event::Graded { evaluation })?
                }
                Effect::Feedback(turn) => {
                    let model = review_::question_of(self.interview.bank(), self.interview.turns(), &turn)
                        .map(|q| review_::model_answer(q, turn.kind));
                    if let Some(model) = model {
                        candidate.feedback(&turn, &model);
                    }
                    continue;
                }
                Effect::Finish { .. } => continue,
            };
            queue.extend(next);
        }
        if !left {
            self.wait_for_late_grades(candidate)?;
        }
        self.write_reports()
    }

    /// The candidate's response to the current line as an event; `None` when they walked away.
    /// `answered` notes when an answer came, for the wait until the next line.
    fn respond(
        &mut self,
        candidate: &mut dyn Candidate,
        answered: &mut Option<Instant>,
    ) -> anyhow::Result<Option<Event>> {
        let (line, q) = (self.interview.current_line().cloned(), self.question()?);
        let line = line.context("listening without a question")?;
        Ok(Some(match candidate.respond(&line, &q) {
            Response::Leave => return Ok(None),
            Response::Answer(answer) => {
                *answered = Some(Instant::now());
                Event::Answered {
                    answer,
                    at_ms: now_ms(),
                }
            }
            Response::Skip => Event::Skip { at_ms: now_ms() },
            Response::Repeat => Event::Repeat,
            Response::End => Event::End {
                reason: EndReason::EndedEarly,
                at_ms: now_ms(),
            },
            Response::Exhausted => Event::End {
                reason: EndReason::ScriptExhausted,
                at_ms: now_ms(),
            },
        }))
    }

    /// The grade the turn goes on with. With a late grader, the offline grade now and the deep one
    /// written in the background; otherwise the grader's (which may take a while: the candidate is told).
    fn grade(&self, request: &GradeRequest, grader: &dyn Grader, candidate: &mut dyn Candidate) -> Evaluation {
        let t = Instant::now();
        let evaluation = match &self.late {
            Some(late) => {
                let offline = grader.grade(request);
                late.start(self.interview.turns().len(), request.clone(), offline.clone());
                Evaluation {
                    fallback: Some(DEEP_GRADE_PENDING.into()),
                    ..delivery::apply(offline, request.speech.as_ref())
                }
            }
            None if grader.may_be_slow() => {
                candidate.thinking();
                let e = delivery::apply(grader.grade(request), request.speech.as_ref());
                // A deep grade waited for (a scripted run) can take a minute: say each one as it lands.
                candidate.notice(Notice::Info(format!(
                    "  answer {} graded by {} in {:.1} s{}",
                    self.interview.turns().len() + 1,
                    e.grader,
                    t.elapsed().as_secs_f64(),
                    if e.fallback.is_some() {
                        " (offline: the LLM grade did not come)"
                    } else {
                        ""
                    }
                )));
                e
            }
            None => delivery::apply(grader.grade(request), request.speech.as_ref()),
        };
        tracing::info!(
            question = %request.question.id,
            score = evaluation.score,
            ms = t.elapsed().as_millis() as u64,
            "graded"
        );
        evaluation
    }

    /// Records the deep grades that have landed (each replaces its turn's provisional grade).
    fn land_late_grades(&mut self) -> anyhow::Result<()> {
        let landed = self.late.as_ref().map(|l| l.landed()).unwrap_or_default();
        for (turn, evaluation) in landed {
            self.record_late_grade(turn, evaluation)?;
        }
        Ok(())
    }

    fn record_late_grade(&mut self, turn: usize, evaluation: Evaluation) -> anyhow::Result<()> {
        tracing::info!(turn, score = evaluation.score, grader = %evaluation.grader, "late grade landed");
        match self.interview.handle(Event::Regraded { turn, evaluation }) {
            Ok(effects) => {
                for e in effects {
                    if let Effect::Persist(r) = e {
                        self.journal.append(&r).context("could not save the session")?;
                    }
                }
            }
            Err(e) => tracing::warn!("late grade for turn {turn} not recorded: {e}"),
        }
        Ok(())
    }

    /// At the end: waits for the deep grades still being written, saying so, each up to its limit
    /// (the grade itself gives up at its limit and the offline grade stands, marked as such).
    fn wait_for_late_grades(&mut self, candidate: &mut dyn Candidate) -> anyhow::Result<()> {
        let Some((pending, limit)) = self.late.as_ref().map(|l| (l.pending(), l.limit())) else {
            return Ok(());
        };
        if pending == 0 {
            return self.land_late_grades();
        }
        candidate.notice(Notice::Info(format!(
            "Waiting for {pending} LLM grade(s) still being written (up to {} s each; Ctrl-C keeps them for `dataready resume`)...",
            limit.as_secs()
        )));
        let started = Instant::now();
        let mut quiet_since = Instant::now();
        while let Some(late) = self.late.as_ref().filter(|l| l.pending() > 0) {
            match late.next(Duration::from_secs(1)) {
                Some((turn, evaluation)) => {
                    quiet_since = Instant::now();
                    self.record_late_grade(turn, evaluation)?;
                    let left = self.late.as_ref().map_or(0, |l| l.pending());
                    candidate.notice(Notice::Info(format!(
                        "  LLM grade for Q{} in after {:.0} s; {left} to go",
                        turn + 1,
                        started.elapsed().as_secs_f64()
                    )));
                }
                // A grade gives up by itself at its limit; this only guards against one that never reports.
                None if quiet_since.elapsed() > limit + Duration::from_secs(30) => {
                    tracing::warn!("late grades stopped reporting; the offline grades stand");
                    break;
                }
                None => {}
            }
        }
        // A grade sent just as the count reached zero is still in the channel.
        self.land_late_grades()
    }

    /// Starts again the deep grades that were still pending when the session stopped.
    fn restart_pending_grades(&mut self) {
        let Some(late) = &self.late else { return };
        for (i, t) in self.interview.turns().iter().enumerate() {
            if t.evaluation.fallback.as_deref() == Some(DEEP_GRADE_PENDING)
                && let Some(request) = self.interview.regrade_request(i)
            {
                let mut offline = t.evaluation.clone();
                offline.fallback = None;
                late.start(i, request, offline);
            }
        }
    }

    fn question(&self) -> anyhow::Result<Arc<Question>> {
        self.interview
            .current_question()
            .cloned()
            .context("no question in play")
    }

    pub fn write_reports(&self) -> anyhow::Result<Outcome> {
        let report = report::build(&report::Source {
            session: &self.id,
            bank: self.interview.bank(),
            config: self.interview.config(),
            turns: self.interview.turns(),
            started_at_ms: self.interview.started_at_ms(),
            ended: self.interview.ended(),
        });
        let markdown = self
            .store
            .write_file(&self.id, "report.md", report::to_markdown(&report).as_bytes())?;
        let json = self
            .store
            .write_file(&self.id, "report.json", report::to_json(&report).as_bytes())?;
        Ok(Outcome { report, markdown, json })
    }
}

/// What a session's journal holds, with late grades applied to their turns.
pub struct Saved {
    pub config: Config,
    pub started_at_ms: u64,
    pub turns: Vec<Turn>,
    pub ended: Option<(EndReason, u64)>,
}

/// Reads a session's journal without replaying it through the interview (so it works even if the
/// bank has changed since).
pub fn load_saved(store: &Store, id: &str) -> anyhow::Result<Saved> {
    let loaded = store.load(id)?;
    let mut config = None;
    let mut started = 0;
    let mut turns = Vec::new();
    let mut ended = None;
    for r in loaded.records {
        match r {
            Record::Started { config: c, at_ms, .. } => {
                config = Some(c);
                started = at_ms;
            }
            Record::Turn(t) => turns.push(*t),
            Record::Ended { reason, at_ms } => ended = Some((reason, at_ms)),
            Record::Regraded { turn, evaluation } => {
                if let Some(t) = turns.get_mut(turn) {
                    t.evaluation = evaluation;
                }
            }
        }
    }
    let config = config.with_context(|| format!("session {id} has no setup record"))?;
    Ok(Saved {
        config,
        started_at_ms: started,
        turns,
        ended,
    })
}

impl Saved {
    /// The report of session `id` from what its journal holds.
    pub fn report(&self, bank: &Bank, id: &str) -> Report {
        report::build(&report::Source {
            session: id,
            bank,
            config: &self.config,
            turns: &self.turns,
            started_at_ms: self.started_at_ms,
            ended: self.ended,
        })
    }
}

/// Builds a report from a journal alone.
pub fn report_from_journal(store: &Store, bank: &Bank, id: &str) -> anyhow::Result<Report> {
    Ok(load_saved(store, id)?.report(bank, id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interview::{Evaluation, GradeRequest, Mode, TurnKind};

    /// Scores every answer the same, so the interview's course is fixed.
    struct Flat(u8);

    impl Grader for Flat {
        fn grade(&self, _r: &GradeRequest) -> Evaluation {
            let mut e = Evaluation::no_answer("");
            e.score = self.0;
            e.grader = "flat".into();
            e
        }
    }

    /// Answers everything; notes which main questions were announced and which were asked.
    #[derive(Default)]
    struct Notes {
        announced: Vec<String>,
        asked_main: Vec<String>,
    }

    impl Candidate for Notes {
        fn hear(&mut self, line: &Line, q: &Question) {
            if line.kind == TurnKind::Main {
                self.asked_main.push(q.id.clone());
            }
        }
        fn respond(&mut self, _line: &Line, _q: &Question) -> Response {
            Response::Answer(Answer::Text("an answer".into()))
        }
        fn feedback(&mut self, _turn: &Turn, _model: &ModelAnswer) {}
        fn upcoming(&mut self, next: &Question) {
            self.announced.push(next.id.clone());
        }
    }

    #[test]
    fn the_next_topics_question_is_announced_while_the_candidate_answers() {
        let dir = tempfile::tempdir().unwrap();
        let bank = Arc::new(Bank::builtin().unwrap());
        let config = Config {
            role: "mid".into(),
            skills: Vec::new(),
            questions: 8,
            mode: Mode::Mock,
            seed: 7,
            years: None,
            tailoring: None,
            ask_first: Vec::new(),
        };
        for score in [20, 60, 90] {
            let mut s = Session::start(Store::new(dir.path()), Arc::clone(&bank), config.clone()).unwrap();
            let mut notes = Notes::default();
            s.run(&mut notes, &Flat(score)).unwrap();
            let later = &notes.asked_main[1..];
            assert!(!later.is_empty(), "score {score}: {:?}", notes.asked_main);
            // Every later topic was announced before it was asked (the flat grade keeps the difficulty steady).
            for q in later {
                assert!(
                    notes.announced.contains(q),
                    "score {score}: {q} was not announced: {:?}",
                    notes.announced
                );
            }
            assert!(!notes.announced.contains(&notes.asked_main[0]));
        }
    }
}
