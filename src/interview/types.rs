//! The interview's records: configuration, turns, evaluations and journal records.

use serde::{Deserialize, Serialize};

use crate::bank::Question;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Feedback after every answer.
    Practice,
    /// Feedback only in the final report, as in a real interview.
    Mock,
}

/// Everything that fixes an interview's course: same config + same answers → same interview.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub role: String,
    /// Skills to cover; empty means the role's focus skills.
    pub skills: Vec<String>,
    /// Questions asked in total, follow-ups included.
    pub questions: usize,
    pub mode: Mode,
    pub seed: u64,
    #[serde(default)]
    pub years: Option<u32>,
    /// What the candidate's CV and the job description point to (`--cv`, `--job`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tailoring: Option<crate::profile::Tailoring>,
    /// Bank questions that open the first topics, in this order, before the planner chooses the rest: a
    /// script's `question_id` column, one entry a row, so a question named twice gets one follow-up at most.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ask_first: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TurnKind {
    /// A new topic's opening question.
    Main,
    /// Follow-up after a shallow answer: explain further.
    Deeper,
    /// Follow-up after a moderate answer: give an example or scenario.
    Example,
    /// Follow-up after a strong answer: a harder variant.
    Harder,
}

impl TurnKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Main => "question",
            Self::Deeper => "follow-up: go deeper",
            Self::Example => "follow-up: example",
            Self::Harder => "follow-up: harder",
        }
    }
}

/// The five graded dimensions, each 0–10.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Scores {
    pub technical_correctness: f32,
    pub depth: f32,
    pub practical_experience: f32,
    pub communication_clarity: f32,
    pub confidence: f32,
}

impl Scores {
    pub const NAMES: [&'static str; 5] = [
        "Technical correctness",
        "Depth of understanding",
        "Practical experience",
        "Communication clarity",
        "Confidence",
    ];

    pub fn as_array(&self) -> [f32; 5] {
        [
            self.technical_correctness,
            self.depth,
            self.practical_experience,
            self.communication_clarity,
            self.confidence,
        ]
    }

    pub fn from_array(a: [f32; 5]) -> Self {
        let r = |v: f32| (v.clamp(0.0, 10.0) * 10.0).round() / 10.0;
        Self {
            technical_correctness: r(a[0]),
            depth: r(a[1]),
            practical_experience: r(a[2]),
            communication_clarity: r(a[3]),
            confidence: r(a[4]),
        }
    }
}

/// The design's feedback record for one answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub scores: Scores,
    /// The answer's overall score, 0–100.
    pub score: u8,
    pub what_went_well: Vec<String>,
    pub what_was_missing: Vec<String>,
    pub red_flags: Vec<String>,
    pub seniority_signals: Vec<String>,
    /// Which grader produced this record, e.g. `offline-rubric/1`.
    pub grader: String,
    /// The offline grader's record when another grader (an LLM) scored this answer: both are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline: Option<Box<Evaluation>>,
    /// Why the intended grader did not score this answer and this one stood in (e.g. the LLM timed out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// How far this grade can be trusted, and why not fully (absent in records written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade_confidence: Option<GradeConfidence>,
    /// How fully the answer covered each of the question's key points, 0–1, in the rubric's order
    /// (the offline grader against the question's own rubric; empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_points: Vec<f32>,
}

/// How far a grade can be trusted: `high`, `medium` or `low`, with the reasons it is not high.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeConfidence {
    pub level: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

impl GradeConfidence {
    /// `high` with no reasons, `medium` with one, `low` with a "lower confidence" reason or two or more.
    pub fn from_reasons(reasons: Vec<String>) -> Self {
        let low = reasons.len() >= 2 || reasons.iter().any(|r| r.contains("lower confidence"));
        let level = match (reasons.is_empty(), low) {
            (true, _) => "high",
            (false, true) => "low",
            (false, false) => "medium",
        };
        Self {
            level: level.to_string(),
            reasons,
        }
    }

    /// "medium (graded against the nearest bank topic)".
    pub fn describe(&self) -> String {
        if self.reasons.is_empty() {
            self.level.clone()
        } else {
            format!("{} ({})", self.level, self.reasons.join("; "))
        }
    }
}

impl Evaluation {
    /// The record for an empty, skipped or inaudible answer.
    pub fn no_answer(why: &str) -> Self {
        Self {
            scores: Scores::default(),
            score: 0,
            what_went_well: Vec::new(),
            what_was_missing: vec![why.to_string()],
            red_flags: Vec::new(),
            seniority_signals: Vec::new(),
            grader: "none".into(),
            offline: None,
            fallback: None,
            grade_confidence: None,
            key_points: Vec::new(),
        }
    }
}

/// One question asked and answered (or skipped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    pub index: usize,
    pub question_id: String,
    pub skill: String,
    pub difficulty: u8,
    pub kind: TurnKind,
    /// The words the interviewer asked.
    pub prompt: String,
    /// The candidate's answer as graded (cleaned; possibly truncated).
    pub answer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<String>,
    /// How a spoken answer was delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speech: Option<SpeechFacts>,
    #[serde(default)]
    pub truncated: bool,
    #[serde(default)]
    pub skipped: bool,
    pub asked_at_ms: u64,
    pub answered_at_ms: u64,
    pub evaluation: Evaluation,
    /// A question written for this interview (by an LLM) instead of the bank's, with its rubric:
    /// it is not in the bank, so the journal keeps it for resume and reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<Box<Question>>,
    /// Who wrote the line when the bank did not (e.g. `llm:gemini-2.5-flash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_by: Option<String>,
    /// Just before this question, the planned follow-up was dropped because the model judged the topic covered.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub moved_on: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// All planned questions were asked.
    Completed,
    /// The candidate ended the interview.
    EndedEarly,
    /// A scripted run ran out of answers.
    ScriptExhausted,
    /// The question bank had nothing left to ask.
    OutOfQuestions,
}

impl EndReason {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::EndedEarly => "ended early by the candidate",
            Self::ScriptExhausted => "script ran out of answers",
            Self::OutOfQuestions => "no more questions in the bank for these skills",
        }
    }
}

/// What the journal stores, one per line, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    Started {
        config: Config,
        bank_digest: String,
        at_ms: u64,
    },
    Turn(Box<Turn>),
    Ended {
        reason: EndReason,
        at_ms: u64,
    },
    /// A grade that landed after its turn was recorded (a deep LLM grade graded in the background):
    /// it replaces that turn's evaluation; the follow-up already chosen stands.
    Regraded {
        turn: usize,
        evaluation: Evaluation,
    },
}

/// The `fallback` of a provisional evaluation whose deep (LLM) grade is still being written.
pub const DEEP_GRADE_PENDING: &str = "LLM grade pending: the offline grade stands until it arrives";

/// A pause inside an answer at least this long is reported.
pub const LONG_PAUSE_MS: u64 = 2000;

/// Observable facts about how a spoken answer was delivered: pace, fillers, hedges, long pauses.
/// They describe behaviour ("14 fillers in 90 s"), never personality. Measured by the listening adapter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SpeechFacts {
    /// Whole recording.
    pub duration_ms: u64,
    /// From the first to the last detected speech.
    pub speaking_ms: u64,
    pub words: usize,
    pub words_per_minute: u32,
    pub fillers: usize,
    pub hedges: usize,
    pub long_pauses: usize,
    pub longest_pause_ms: u64,
}

impl SpeechFacts {
    /// One line of observations for a report or the terminal.
    pub fn describe(&self) -> String {
        if self.words == 0 {
            return "no speech recognised".into();
        }
        let secs = (self.speaking_ms as f64 / 1000.0).round() as u64;
        let mut parts = vec![format!(
            "{} words in {secs} s ({} wpm)",
            self.words, self.words_per_minute
        )];
        parts.push(format!("{} filler{}", self.fillers, plural(self.fillers)));
        parts.push(format!("{} hedge{}", self.hedges, plural(self.hedges)));
        parts.push(format!(
            "{} pause{} over {} s",
            self.long_pauses,
            plural(self.long_pauses),
            LONG_PAUSE_MS / 1000
        ));
        parts.join(", ")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
