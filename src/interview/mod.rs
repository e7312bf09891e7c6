//! The interview state machine. Pure: events in, effects out; no I/O, no clock, no randomness
//! of its own (time arrives in events, randomness from the config's seed).
//!
//! SETUP → READY → ASKING → LISTENING → PROCESSING → EVALUATING → DECIDING → (ASKING | COMPLETE),
//! and an early end from any state.

pub mod plan;
mod rng;
pub mod types;

use std::sync::Arc;

use serde::Serialize;

use crate::bank::{Bank, Question};
use crate::text;
use plan::{Decision, Depth, Planner};
use rng::SplitMix64;
pub use types::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Setup,
    Ready,
    Asking,
    Listening,
    Processing,
    Evaluating,
    Deciding,
    Complete,
}

/// The candidate's answer as it arrives from an input adapter.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Text(String),
    /// A recording to transcribe, stored in the session.
    Audio(String),
    /// Speech already transcribed as it was spoken (a live microphone answer), with how it was delivered
    /// and, unless the candidate opted out, where its recording is kept.
    Heard {
        text: String,
        audio: Option<String>,
        speech: Option<SpeechFacts>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Setup is done: record the session.
    Start {
        at_ms: u64,
    },
    /// The candidate is ready: ask the first question.
    Begin {
        at_ms: u64,
    },
    /// The interviewer finished speaking the current line.
    Spoken,
    /// Speak the current question again.
    Repeat,
    Answered {
        answer: Answer,
        at_ms: u64,
    },
    Transcribed {
        text: String,
        /// How the answer was delivered, when the recording could be measured.
        speech: Option<SpeechFacts>,
    },
    Graded {
        evaluation: Evaluation,
    },
    /// The candidate passes on this question: recorded as no answer.
    Skip {
        at_ms: u64,
    },
    End {
        reason: EndReason,
        at_ms: u64,
    },
    /// A line written elsewhere (an LLM) to ask instead of the planned one, before it is spoken.
    Composed(Composed),
    /// A grade for an earlier turn that arrived late (a deep LLM grade): it replaces that turn's
    /// evaluation without changing the course already taken. Valid at any time after the start.
    Regraded {
        turn: usize,
        evaluation: Evaluation,
    },
}

/// What a question writer (an LLM) offers in place of the planned line. The driver asks for it after
/// a `Speak` and before `Spoken`; when none arrives, or the core rejects it, the bank's line stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Composed {
    /// A new opening question on the planned skill, with its own rubric (its id must not be a bank id).
    Question { question: Box<Question>, by: String },
    /// The follow-up worded by the model, which may pick another follow-up kind the rules allow.
    FollowUp { kind: TurnKind, text: String, by: String },
    /// The model judged the topic covered: drop the planned follow-up and open the next topic.
    MoveOn,
}

/// Longest line a composed question may have, in characters.
pub const MAX_COMPOSED_CHARS: usize = 1_000;

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Start { .. } => "start",
            Self::Begin { .. } => "begin",
            Self::Spoken => "spoken",
            Self::Repeat => "repeat",
            Self::Answered { .. } => "answered",
            Self::Transcribed { .. } => "transcribed",
            Self::Graded { .. } => "graded",
            Self::Skip { .. } => "skip",
            Self::End { .. } => "end",
            Self::Composed(_) => "composed",
            Self::Regraded { .. } => "regraded",
        }
    }
}

/// A line for the interviewer to say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub text: String,
    pub question_id: String,
    pub kind: TurnKind,
    /// 1-based number of this question in the interview.
    pub number: usize,
    pub of: usize,
}

/// What the caller must carry out, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Speak(Line),
    Listen,
    Transcribe {
        audio: String,
    },
    Grade(GradeRequest),
    /// Durably store this record before carrying out the effects that follow it.
    Persist(Record),
    /// Practice mode: show the feedback for this turn.
    Feedback(Box<Turn>),
    Finish {
        reason: EndReason,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct GradeRequest {
    pub question: Arc<Question>,
    pub kind: TurnKind,
    pub prompt: String,
    pub answer: String,
    pub role: String,
    /// How a spoken answer was delivered (pace, pauses), for the delivery part of the grade.
    pub speech: Option<SpeechFacts>,
}

impl GradeRequest {
    /// An answer to `question`, asked as `prompt` outside an interview (`grade`): a main question, no role, no
    /// speech; the answer cleaned as typed answers are (empty when nothing is left).
    pub fn outside_interview(question: Arc<Question>, prompt: &str, answer: &str) -> Self {
        Self {
            question,
            kind: TurnKind::Main,
            prompt: prompt.to_string(),
            answer: text::clean(answer, text::MAX_ANSWER_CHARS).text,
            role: String::new(),
            speech: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoreError {
    #[error("event `{event}` is not valid while {phase:?}")]
    InvalidEvent { event: &'static str, phase: Phase },
    #[error("unknown role {given:?}; valid roles: {valid}")]
    UnknownRole { given: String, valid: String },
    #[error("unknown skill {given:?}; valid skills: {valid}")]
    UnknownSkill { given: String, valid: String },
    #[error("questions must be between 1 and {max}, not {given}")]
    QuestionCount { given: usize, max: usize },
    #[error(
        "the session does not match the question bank: turn {turn} asked {recorded:?} but the bank now plans {planned:?}"
    )]
    Diverged {
        turn: usize,
        recorded: String,
        planned: String,
    },
    #[error("the session journal is not a valid interview: {0}")]
    BadJournal(String),
}

pub const MAX_QUESTIONS: usize = 50;
/// The CV experience question opens the second topic (0-based count of topics before it).
const EXPERIENCE_TOPIC: usize = 1;

/// The question in play.
#[derive(Debug, Clone, PartialEq)]
struct Current {
    question: Arc<Question>,
    kind: TurnKind,
    line: Line,
    /// Kinds already asked on this topic, this one included.
    topic: Vec<TurnKind>,
    asked_at_ms: u64,
    answer: Option<PendingAnswer>,
    /// A composed line may still replace this one (it has not been spoken or replaced yet).
    composable: bool,
    /// The question was written for this interview, not taken from the bank.
    generated: bool,
    written_by: Option<String>,
    moved_on: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct PendingAnswer {
    text: String,
    audio: Option<String>,
    speech: Option<SpeechFacts>,
    truncated: bool,
    at_ms: u64,
}

#[derive(Debug, Clone)]
pub struct Interview {
    bank: Arc<Bank>,
    config: Config,
    phase: Phase,
    rng: SplitMix64,
    planner: Planner,
    turns: Vec<Turn>,
    current: Option<Current>,
    started_at_ms: u64,
    ended: Option<(EndReason, u64)>,
    /// Time of the last event that carried one, for questions asked without a timestamped event.
    now_ms: u64,
}

impl Interview {
    pub fn new(bank: Arc<Bank>, config: Config) -> Result<Self, CoreError> {
        let role = bank.role(&config.role).ok_or_else(|| CoreError::UnknownRole {
            given: config.role.clone(),
            valid: bank.role_ids().join(", "),
        })?;
        for s in &config.skills {
            if bank.skill(s).is_none() {
                return Err(CoreError::UnknownSkill {
                    given: s.clone(),
                    valid: bank.skill_ids().join(", "),
                });
            }
        }
        if config.questions == 0 || config.questions > MAX_QUESTIONS {
            return Err(CoreError::QuestionCount {
                given: config.questions,
                max: MAX_QUESTIONS,
            });
        }
        let planner =
            Planner::new(role, &config.skills, config.tailoring.as_ref()).asking_first(&bank, &config.ask_first);
        Ok(Self {
            rng: SplitMix64::new(config.seed),
            planner,
            config,
            bank,
            phase: Phase::Setup,
            turns: Vec::new(),
            current: None,
            started_at_ms: 0,
            ended: None,
            now_ms: 0,
        })
    }

    /// Rebuilds an interview from its journal by replaying the recorded turns through the same machine.
    pub fn restore(bank: Arc<Bank>, records: &[Record]) -> Result<Self, CoreError> {
        let (config, at_ms) = match records.first() {
            Some(Record::Started { config, at_ms, .. }) => (config.clone(), *at_ms),
            _ => {
                return Err(CoreError::BadJournal(
                    "it does not start with the interview's setup".into(),
                ));
            }
        };
        let mut me = Self::new(bank, config)?;
        me.handle(Event::Start { at_ms })?;
        let mut began = false;
        for record in &records[1..] {
            match record {
                Record::Started { .. } => return Err(CoreError::BadJournal("two setup records".into())),
                Record::Turn(turn) => {
                    if !began {
                        me.handle(Event::Begin {
                            at_ms: turn.asked_at_ms,
                        })?;
                        began = true;
                    }
                    me.replay_turn(turn)?;
                }
                // A completed interview already ended itself while replaying its last turn.
                Record::Ended { .. } if me.phase == Phase::Complete => {}
                Record::Ended { reason, at_ms } => {
                    me.handle(Event::End {
                        reason: *reason,
                        at_ms: *at_ms,
                    })?;
                }
                Record::Regraded { turn, evaluation } => {
                    me.handle(Event::Regraded {
                        turn: *turn,
                        evaluation: evaluation.clone(),
                    })
                    .map_err(|_| {
                        CoreError::BadJournal(format!("a late grade for turn {} it does not have", turn + 1))
                    })?;
                }
            }
        }
        Ok(me)
    }

    fn replay_turn(&mut self, turn: &Turn) -> Result<(), CoreError> {
        let composed = |me: &mut Self, c: Composed| {
            me.handle(Event::Composed(c)).map_err(|_| {
                CoreError::BadJournal(format!(
                    "turn {} records a composed line the interview could not have asked",
                    turn.index + 1
                ))
            })
        };
        if turn.moved_on {
            composed(self, Composed::MoveOn)?;
        }
        if let Some(q) = &turn.generated {
            let by = turn.written_by.clone().unwrap_or_default();
            composed(
                self,
                Composed::Question {
                    question: q.clone(),
                    by,
                },
            )?;
        } else if let (Some(by), true) = (&turn.written_by, turn.kind != TurnKind::Main) {
            composed(
                self,
                Composed::FollowUp {
                    kind: turn.kind,
                    text: turn.prompt.clone(),
                    by: by.clone(),
                },
            )?;
        }
        let planned = match (&self.phase, &self.current) {
            (Phase::Asking, Some(c)) => (c.question.id.clone(), c.kind),
            _ => {
                return Err(CoreError::BadJournal(format!(
                    "turn {} recorded after the interview had finished",
                    turn.index + 1
                )));
            }
        };
        if planned != (turn.question_id.clone(), turn.kind) {
            return Err(CoreError::Diverged {
                turn: turn.index + 1,
                recorded: format!("{} ({})", turn.question_id, turn.kind.label()),
                planned: format!("{} ({})", planned.0, planned.1.label()),
            });
        }
        if let Some(c) = self.current.as_mut() {
            c.asked_at_ms = turn.asked_at_ms;
        }
        self.handle(Event::Spoken)?;
        if turn.skipped {
            self.handle(Event::Skip {
                at_ms: turn.answered_at_ms,
            })?;
            return Ok(());
        }
        // A spoken answer replays as heard, so an inaudible one keeps its recording and delivery facts too.
        let answer = if turn.audio.is_some() || turn.speech.is_some() {
            Answer::Heard {
                text: turn.answer.clone(),
                audio: turn.audio.clone(),
                speech: turn.speech.clone(),
            }
        } else {
            Answer::Text(turn.answer.clone())
        };
        self.handle(Event::Answered {
            answer,
            at_ms: turn.answered_at_ms,
        })?;
        if let Some(c) = self.current.as_mut().and_then(|c| c.answer.as_mut()) {
            c.truncated |= turn.truncated;
        }
        if self.phase == Phase::Evaluating {
            self.handle(Event::Graded {
                evaluation: turn.evaluation.clone(),
            })?;
        }
        Ok(())
    }

    pub fn phase(&self) -> Phase {
        self.phase
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn bank(&self) -> &Arc<Bank> {
        &self.bank
    }

    pub fn turns(&self) -> &[Turn] {
        &self.turns
    }

    pub fn started_at_ms(&self) -> u64 {
        self.started_at_ms
    }

    pub fn ended(&self) -> Option<(EndReason, u64)> {
        self.ended
    }

    /// A late grade replaces a recorded turn's evaluation (not a skipped one's); the course stands.
    fn regrade(&mut self, turn: usize, evaluation: Evaluation) -> Option<Vec<Effect>> {
        let t = self.turns.get_mut(turn).filter(|t| !t.skipped)?;
        t.evaluation = evaluation.clone();
        Some(vec![Effect::Persist(Record::Regraded { turn, evaluation })])
    }

    /// The grade request a recorded turn was graded from, to grade it again (a deep grade that was
    /// still pending when the session stopped). `None` for skipped turns or unknown questions.
    pub fn regrade_request(&self, index: usize) -> Option<GradeRequest> {
        let t = self.turns.get(index).filter(|t| !t.skipped && !t.answer.is_empty())?;
        let question = match self.bank.question(&t.question_id) {
            Some(q) => Arc::clone(q),
            None => self
                .turns
                .iter()
                .find_map(|u| u.generated.as_ref().filter(|g| g.id == t.question_id))
                .map(|g| Arc::new((**g).clone()))?,
        };
        Some(GradeRequest {
            question,
            kind: t.kind,
            prompt: t.prompt.clone(),
            answer: t.answer.clone(),
            role: self.config.role.clone(),
            speech: t.speech.clone(),
        })
    }

    /// The line being asked or answered right now.
    pub fn current_line(&self) -> Option<&Line> {
        self.current.as_ref().map(|c| &c.line)
    }

    pub fn current_question(&self) -> Option<&Arc<Question>> {
        self.current.as_ref().map(|c| &c.question)
    }

    /// Whether a composed line may still replace the current one (asked, not yet spoken).
    pub fn composable(&self) -> bool {
        self.phase == Phase::Asking && self.current.as_ref().is_some_and(|c| c.composable)
    }

    /// The opening question the next topic would get if it started now (the planner is not moved): the
    /// bank question of the CV topic when that comes next, else the planner's pick. Its skill is what comes
    /// next; its difficulty can still move with the current answer.
    pub fn peek_next_topic(&self) -> Option<Arc<Question>> {
        let (mut planner, mut rng) = (self.planner.clone(), self.rng.clone());
        match self.experience_due(self.main_topics_before_next()) {
            Some(exp) => planner.experience_question(&self.bank, exp, &mut rng),
            None => planner.next_question(&self.bank, &mut rng),
        }
    }

    /// Whether the next topic is the one about the candidate's CV (asked in the CV's words, never composed).
    pub fn next_topic_is_from_cv(&self) -> bool {
        self.experience_due(self.main_topics_before_next()).is_some()
    }

    /// Main topics asked once the current line is done (an opening question counts before it is answered).
    fn main_topics_before_next(&self) -> usize {
        let done = self.turns.iter().filter(|t| t.kind == TurnKind::Main).count();
        done + usize::from(self.current.as_ref().is_some_and(|c| c.kind == TurnKind::Main))
    }

    /// The CV item to ask about when `main_topics` topics have been asked, if the CV topic is due then.
    fn experience_due(&self, main_topics: usize) -> Option<&crate::profile::Experience> {
        let exp = self.config.tailoring.as_ref()?.experience.as_ref()?;
        (main_topics == EXPERIENCE_TOPIC && self.config.questions >= 3).then_some(exp)
    }

    /// The follow-up kinds the rules allow in place of the current follow-up (empty for an opening question).
    pub fn follow_up_options(&self) -> Vec<TurnKind> {
        let Some(c) = self.current.as_ref().filter(|c| c.kind != TurnKind::Main) else {
            return Vec::new();
        };
        let before = &c.topic[..c.topic.len() - 1];
        [TurnKind::Deeper, TurnKind::Example, TurnKind::Harder]
            .into_iter()
            .filter(|k| follow_up_allowed(before, *k))
            .collect()
    }

    /// Feeds one event; returns the effects to carry out, in order. Invalid events change nothing.
    pub fn handle(&mut self, event: Event) -> Result<Vec<Effect>, CoreError> {
        let invalid = CoreError::InvalidEvent {
            event: event.name(),
            phase: self.phase,
        };
        match (self.phase, event) {
            (Phase::Setup, Event::Regraded { .. }) => Err(invalid),
            (_, Event::Regraded { turn, evaluation }) => self.regrade(turn, evaluation).ok_or(invalid),
            (Phase::Complete, _) => Err(invalid),
            (_, Event::End { reason, at_ms }) => Ok(self.finish(reason, at_ms)),
            (Phase::Setup, Event::Start { at_ms }) => {
                self.phase = Phase::Ready;
                self.started_at_ms = at_ms;
                self.now_ms = at_ms;
                Ok(vec![Effect::Persist(Record::Started {
                    config: self.config.clone(),
                    bank_digest: self.bank.digest.clone(),
                    at_ms,
                })])
            }
            (Phase::Ready, Event::Begin { at_ms }) => {
                self.now_ms = self.now_ms.max(at_ms);
                Ok(self.next_topic())
            }
            (Phase::Asking, Event::Composed(composed)) => self.compose(composed).ok_or(invalid),
            (Phase::Asking, Event::Spoken) => {
                if let Some(c) = self.current.as_mut() {
                    c.composable = false;
                }
                self.phase = Phase::Listening;
                Ok(vec![Effect::Listen])
            }
            (Phase::Asking | Phase::Listening, Event::Repeat) => {
                let line = self.current.as_ref().map(|c| c.line.clone()).ok_or(invalid)?;
                self.phase = Phase::Asking;
                if let Some(c) = self.current.as_mut() {
                    c.composable = false;
                }
                Ok(vec![Effect::Speak(line)])
            }
            (Phase::Listening, Event::Skip { at_ms }) => {
                self.now_ms = self.now_ms.max(at_ms);
                let Some(c) = self.current.as_mut() else {
                    return Err(invalid);
                };
                c.answer = Some(PendingAnswer {
                    text: String::new(),
                    audio: None,
                    speech: None,
                    truncated: false,
                    at_ms,
                });
                Ok(self.conclude(Evaluation::no_answer("Skipped: no answer given."), true))
            }
            (Phase::Listening, Event::Answered { answer, at_ms }) => {
                self.now_ms = self.now_ms.max(at_ms);
                let Some(c) = self.current.as_mut() else {
                    return Err(invalid);
                };
                match answer {
                    Answer::Text(t) => {
                        c.answer = Some(PendingAnswer {
                            text: String::new(),
                            audio: None,
                            speech: None,
                            truncated: false,
                            at_ms,
                        });
                        self.phase = Phase::Processing;
                        Ok(self.evaluate(&t))
                    }
                    Answer::Audio(path) => {
                        c.answer = Some(PendingAnswer {
                            text: String::new(),
                            audio: Some(path.clone()),
                            speech: None,
                            truncated: false,
                            at_ms,
                        });
                        self.phase = Phase::Processing;
                        Ok(vec![Effect::Transcribe { audio: path }])
                    }
                    Answer::Heard { text, audio, speech } => {
                        c.answer = Some(PendingAnswer {
                            text: String::new(),
                            audio,
                            speech,
                            truncated: false,
                            at_ms,
                        });
                        self.phase = Phase::Processing;
                        Ok(self.evaluate(&text))
                    }
                }
            }
            (Phase::Processing, Event::Transcribed { text, speech }) => {
                if let Some(p) = self.current.as_mut().and_then(|c| c.answer.as_mut()) {
                    p.speech = speech;
                }
                Ok(self.evaluate(&text))
            }
            (Phase::Evaluating, Event::Graded { evaluation }) => Ok(self.conclude(evaluation, false)),
            _ => Err(invalid),
        }
    }

    /// PROCESSING → EVALUATING: clean the answer and ask for a grade (or record no answer).
    fn evaluate(&mut self, raw: &str) -> Vec<Effect> {
        let clean = text::clean(raw, text::MAX_ANSWER_CHARS);
        let Some(c) = self.current.as_mut() else {
            return Vec::new();
        };
        let pending = c.answer.get_or_insert(PendingAnswer {
            text: String::new(),
            audio: None,
            speech: None,
            truncated: false,
            at_ms: self.now_ms,
        });
        pending.text = clean.text.clone();
        pending.truncated = clean.truncated;
        if clean.text.is_empty() {
            return self.conclude(Evaluation::no_answer("No answer was given."), false);
        }
        self.phase = Phase::Evaluating;
        vec![Effect::Grade(GradeRequest {
            question: Arc::clone(&c.question),
            kind: c.kind,
            prompt: c.line.text.clone(),
            answer: clean.text,
            role: self.config.role.clone(),
            speech: pending.speech.clone(),
        })]
    }

    /// EVALUATING → DECIDING → ASKING | COMPLETE: record the turn, then pick what comes next.
    fn conclude(&mut self, evaluation: Evaluation, skipped: bool) -> Vec<Effect> {
        self.phase = Phase::Deciding;
        let Some(c) = self.current.take() else {
            return Vec::new();
        };
        let answer = c.answer.clone().unwrap_or(PendingAnswer {
            text: String::new(),
            audio: None,
            speech: None,
            truncated: false,
            at_ms: self.now_ms,
        });
        let turn = Turn {
            index: self.turns.len(),
            question_id: c.question.id.clone(),
            skill: c.question.skill.clone(),
            difficulty: c.question.difficulty,
            kind: c.kind,
            prompt: c.line.text.clone(),
            answer: answer.text,
            audio: answer.audio,
            speech: answer.speech,
            truncated: answer.truncated,
            skipped,
            asked_at_ms: c.asked_at_ms,
            answered_at_ms: answer.at_ms,
            evaluation,
            generated: (c.generated && c.kind == TurnKind::Main).then(|| Box::new((*c.question).clone())),
            written_by: c.written_by.clone(),
            moved_on: c.moved_on,
        };
        let depth = Depth::of(&turn.evaluation);
        self.turns.push(turn.clone());
        let mut effects = vec![Effect::Persist(Record::Turn(Box::new(turn.clone())))];
        if self.config.mode == Mode::Practice {
            effects.push(Effect::Feedback(Box::new(turn)));
        }
        if c.kind == TurnKind::Main {
            self.planner.adapt(depth);
        }
        if self.turns.len() >= self.config.questions {
            effects.extend(self.finish(EndReason::Completed, self.now_ms));
            return effects;
        }
        match plan::decide(depth, &c.topic, self.max_follow_ups(&c.question.id)) {
            Decision::FollowUp(kind) => {
                let text = match kind {
                    TurnKind::Deeper => &c.question.follow_ups.deeper,
                    TurnKind::Example => &c.question.follow_ups.example,
                    _ => &c.question.follow_ups.harder,
                };
                let mut topic = c.topic.clone();
                topic.push(kind);
                effects.extend(self.ask(Arc::clone(&c.question), kind, text.clone(), topic));
            }
            Decision::NextTopic => effects.extend(self.next_topic()),
        }
        effects
    }

    fn next_topic(&mut self) -> Vec<Effect> {
        if let Some(effects) = self.experience_topic() {
            return effects;
        }
        match self.planner.next_question(&self.bank, &mut self.rng) {
            Some(q) => {
                let text = q.text.clone();
                self.ask(q, TurnKind::Main, text, vec![TurnKind::Main])
            }
            None => self.finish(EndReason::OutOfQuestions, self.now_ms),
        }
    }

    /// A question the config asks first (a script's rows) gets as many lines as rows name it, so no
    /// follow-up is asked that the script cannot answer; other questions get the decision tree's limit.
    fn max_follow_ups(&self, question_id: &str) -> usize {
        match self.config.ask_first.iter().filter(|id| *id == question_id).count() {
            0 => plan::MAX_FOLLOW_UPS,
            rows => (rows - 1).min(plan::MAX_FOLLOW_UPS),
        }
    }

    /// The second topic asks about an item on the candidate's CV (`--cv`), in the CV's words, graded
    /// on the rubric of the bank question it is about. Not replaced by a composed question.
    fn experience_topic(&mut self) -> Option<Vec<Effect>> {
        let main_topics = self.turns.iter().filter(|t| t.kind == TurnKind::Main).count();
        let exp = self.experience_due(main_topics)?.clone();
        let bank_question = self.planner.experience_question(&self.bank, &exp, &mut self.rng)?;
        // Graded on the bank question's rubric; the follow-ups stay with the candidate's own story.
        let mut q = (*bank_question).clone();
        q.follow_ups = crate::bank::FollowUps {
            deeper: format!(
                "Go one level deeper on that work: what exactly did you decide about {}, and what did you weigh against it?",
                exp.term
            ),
            example: "Give me one concrete moment from that work: something that broke or surprised you, how you \
                      found it, and what you changed."
                .into(),
            harder: "Suppose that system had to take ten times the load on the same budget. What would break first, \
                     and what would you change?"
                .into(),
        };
        let effects = self.ask(Arc::new(q), TurnKind::Main, exp.text, vec![TurnKind::Main]);
        if let Some(c) = self.current.as_mut() {
            c.composable = false;
        }
        Some(effects)
    }

    fn ask(&mut self, question: Arc<Question>, kind: TurnKind, text: String, topic: Vec<TurnKind>) -> Vec<Effect> {
        let line = Line {
            text,
            question_id: question.id.clone(),
            kind,
            number: self.turns.len() + 1,
            of: self.config.questions,
        };
        self.current = Some(Current {
            question,
            kind,
            line: line.clone(),
            topic,
            asked_at_ms: self.now_ms,
            answer: None,
            composable: true,
            generated: false,
            written_by: None,
            moved_on: false,
        });
        self.phase = Phase::Asking;
        vec![Effect::Speak(line)]
    }

    /// ASKING → ASKING: a composed line replaces the planned one, if the rules allow it. `None` changes nothing.
    fn compose(&mut self, composed: Composed) -> Option<Vec<Effect>> {
        let c = self.current.as_ref().filter(|c| c.composable)?;
        match composed {
            Composed::Question { mut question, by } => {
                let text = text::clean(&question.text, MAX_COMPOSED_CHARS).text;
                let usable = c.kind == TurnKind::Main
                    && question.skill == c.question.skill
                    && !text.is_empty()
                    && !question.key_points.is_empty()
                    && self.bank.question(&question.id).is_none();
                if !usable {
                    return None;
                }
                question.text = text.clone();
                let moved_on = c.moved_on;
                let effects = self.ask(Arc::new(*question), TurnKind::Main, text, vec![TurnKind::Main]);
                let cur = self.current.as_mut()?;
                cur.composable = false;
                cur.generated = true;
                cur.written_by = Some(by);
                cur.moved_on = moved_on;
                Some(effects)
            }
            Composed::FollowUp { kind, text, by } => {
                let text = text::clean(&text, MAX_COMPOSED_CHARS).text;
                let before = &c.topic[..c.topic.len() - 1];
                if c.kind == TurnKind::Main || text.is_empty() || !follow_up_allowed(before, kind) {
                    return None;
                }
                let mut topic = before.to_vec();
                topic.push(kind);
                let (question, generated) = (Arc::clone(&c.question), c.generated);
                let effects = self.ask(question, kind, text, topic);
                let cur = self.current.as_mut()?;
                cur.composable = false;
                cur.generated = generated;
                cur.written_by = Some(by);
                Some(effects)
            }
            Composed::MoveOn => {
                if c.kind == TurnKind::Main {
                    return None;
                }
                let effects = self.next_topic();
                if let Some(cur) = self.current.as_mut() {
                    cur.moved_on = true;
                }
                Some(effects)
            }
        }
    }

    fn finish(&mut self, reason: EndReason, at_ms: u64) -> Vec<Effect> {
        let at_ms = at_ms.max(self.now_ms);
        let started = self.phase != Phase::Setup;
        self.phase = Phase::Complete;
        self.current = None;
        self.ended = Some((reason, at_ms));
        if started {
            vec![
                Effect::Persist(Record::Ended { reason, at_ms }),
                Effect::Finish { reason },
            ]
        } else {
            // Nothing was recorded yet, so there is nothing to close in the journal.
            vec![Effect::Finish { reason }]
        }
    }
}

/// Whether a follow-up of `kind` may follow the kinds already asked on a topic.
fn follow_up_allowed(asked: &[TurnKind], kind: TurnKind) -> bool {
    let follow_ups = asked.iter().filter(|k| **k != TurnKind::Main).count();
    kind != TurnKind::Main && follow_ups < plan::MAX_FOLLOW_UPS && !asked.contains(&kind)
}

#[cfg(test)]
mod tests;
