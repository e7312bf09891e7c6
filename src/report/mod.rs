//! The end-of-interview report: scores, radar, verdicts, strengths, roadmap. Built purely from
//! the recorded turns; rendered as Markdown and as versioned JSON (schema in docs/report-schema.md).

mod markdown;
pub mod radar;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bank::Bank;
use crate::interview::{Config, EndReason, GradeConfidence, LONG_PAUSE_MS, Scores, SpeechFacts, Turn, TurnKind};

pub use markdown::to_markdown;

pub const SCHEMA: &str = "dataready.report/1";

/// Hiring verdict thresholds on the overall score (documented in the README and every report).
pub const STRONG_HIRE_FROM: u8 = 80;
pub const HIRE_FROM: u8 = 65;
pub const BORDERLINE_FROM: u8 = 50;
/// A follow-up counts this much towards the overall score, against 1 for an opening question.
const FOLLOW_UP_WEIGHT: f64 = 0.5;
/// Readiness and a firm verdict need this many answered opening questions...
pub const EVIDENCE_MIN_ANSWERS: usize = 5;
/// ...and this share (percent) of the role's focus skills asked about and answered.
pub const EVIDENCE_MIN_FOCUS_PCT: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    #[serde(rename = "Strong Hire")]
    StrongHire,
    Hire,
    Borderline,
    #[serde(rename = "Needs Improvement")]
    NeedsImprovement,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Self::StrongHire => "Strong Hire",
            Self::Hire => "Hire",
            Self::Borderline => "Borderline",
            Self::NeedsImprovement => "Needs Improvement",
        }
    }

    pub fn from_score(score: u8) -> Self {
        match score {
            s if s >= STRONG_HIRE_FROM => Self::StrongHire,
            s if s >= HIRE_FROM => Self::Hire,
            s if s >= BORDERLINE_FROM => Self::Borderline,
            _ => Self::NeedsImprovement,
        }
    }
}

/// Where the interview stands: still going, or ended and why. Written as the same words as before
/// ("in progress", "completed", "ended early by the candidate", ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    InProgress,
    Ended(EndReason),
}

impl Status {
    const ENDINGS: [EndReason; 4] = [
        EndReason::Completed,
        EndReason::EndedEarly,
        EndReason::ScriptExhausted,
        EndReason::OutOfQuestions,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Status::InProgress => "in progress",
            Status::Ended(r) => r.describe(),
        }
    }

    pub fn is_over(self) -> bool {
        self != Status::InProgress
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == Status::InProgress.label() {
            return Ok(Status::InProgress);
        }
        Self::ENDINGS
            .into_iter()
            .find(|r| r.describe() == s)
            .map(Status::Ended)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown report status {s:?}")))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: String,
    pub session: String,
    pub role: RoleInfo,
    pub mode: crate::interview::Mode,
    pub seed: u64,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub status: Status,
    pub questions_planned: usize,
    pub questions_answered: usize,
    pub overall: u8,
    pub verdict: Verdict,
    pub verdict_reason: String,
    /// The verdict rests on too little evidence to be more than a first impression (see `evidence`).
    #[serde(default)]
    pub verdict_provisional: bool,
    /// How much the report has to go on: answered opening questions and focus skills covered.
    #[serde(default)]
    pub evidence: Evidence,
    pub readiness: Readiness,
    pub dimensions: Vec<DimensionScore>,
    pub skills: Vec<SkillScore>,
    pub radar: Option<String>,
    pub strengths: Vec<String>,
    pub improvements: Vec<String>,
    pub next_steps: Vec<String>,
    pub roadmap: Vec<RoadmapItem>,
    pub red_flags: Vec<String>,
    /// How the spoken answers were delivered; absent when every answer was typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    /// What the candidate's CV and the job description shaped (`--cv`, `--job`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tailored: Option<Tailored>,
    pub turns: Vec<TurnReport>,
}

/// Which parts of the interview came from the CV and the job description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tailored {
    /// "CV (cv.md)", "job description (job.txt)".
    pub sources: Vec<String>,
    /// "Apache Kafka (CV 2, job 1)".
    pub found: Vec<String>,
    /// Skills the documents point to that the interview asked about, with the terms behind them.
    pub weighted: Vec<String>,
    /// "Q3 asked about your CV: Apache Kafka".
    pub questions: Vec<String>,
}

impl Tailored {
    fn of(t: &crate::profile::Tailoring, bank: &Bank, turns: &[Turn]) -> Self {
        let found = t
            .terms
            .iter()
            .map(|f| {
                // "Kubernetes (as docker; CV ×1)": the group a word belongs to, and the word itself.
                let said = match f.said.as_slice() {
                    [] => String::new(),
                    forms => format!("as {}; ", forms.join(", ")),
                };
                match (f.in_cv, f.in_job) {
                    (0, j) => format!("{} ({said}job description ×{j})", f.name),
                    (c, 0) => format!("{} ({said}CV ×{c})", f.name),
                    (c, j) => format!("{} ({said}CV ×{c}, job description ×{j})", f.name),
                }
            })
            .collect();
        // The documents' skills that the interview asked about.
        let weighted = t
            .skills
            .iter()
            .filter(|s| turns.iter().any(|turn| turn.skill == s.skill))
            .take(5)
            .map(|s| format!("{} ({})", bank.skill_name(&s.skill), s.because.join(", ")))
            .collect();
        let questions = turns
            .iter()
            .filter_map(|turn| shaped_by(t, bank, turn).map(|why| format!("Q{} {why}", turn.index + 1)))
            .collect();
        Self {
            sources: t.sources.clone(),
            found,
            weighted,
            questions,
        }
    }
}

/// Why an opening question was asked, when the CV or the job description had a hand in it.
fn shaped_by(t: &crate::profile::Tailoring, bank: &Bank, turn: &Turn) -> Option<String> {
    if turn.kind != TurnKind::Main {
        return None;
    }
    if let Some(e) = t.experience.as_ref().filter(|e| e.text == turn.prompt) {
        return Some(format!("asked about your CV: {}", e.term));
    }
    let q = bank.question(&turn.question_id)?;
    let term = t.mentioned_in(&q.text_with_key_points())?;
    let from = match (term.in_cv > 0, term.in_job > 0) {
        (true, true) => "your CV and the job description",
        (true, false) => "your CV",
        _ => "the job description",
    };
    Some(format!("is about {}, from {from}", term.name))
}

/// Observable delivery across the spoken answers: pace, fillers, hedges, long pauses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub spoken_answers: usize,
    pub words: usize,
    /// Time from first to last speech, summed over the answers.
    pub speaking_ms: u64,
    pub words_per_minute: u32,
    pub fillers: usize,
    pub hedges: usize,
    pub long_pauses: usize,
    pub longest_pause_ms: u64,
    /// The same as sentences, e.g. "14 fillers in 90 s of speaking (9.3 a minute)".
    pub observations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleInfo {
    pub id: String,
    pub name: String,
    pub years: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Opening (main) questions answered, not skipped.
    pub answered_main: usize,
    /// The role's focus skills with at least one answered question, and how many focus skills it has.
    pub focus_covered: usize,
    pub focus_total: usize,
    /// At least 5 answered opening questions and 60 % of the focus skills covered.
    pub enough: bool,
}

impl Evidence {
    fn of(role: Option<&crate::bank::Role>, turns: &[Turn]) -> Self {
        let answered = |t: &&Turn| !t.skipped && t.evaluation.grader != "none";
        let answered_main = turns
            .iter()
            .filter(answered)
            .filter(|t| t.kind == TurnKind::Main)
            .count();
        let focus: Vec<&str> = role
            .map(|r| r.focus.iter().map(|f| f.0.as_str()).collect())
            .unwrap_or_default();
        let focus_covered = focus
            .iter()
            .filter(|f| turns.iter().filter(answered).any(|t| t.skill == **f))
            .count();
        let enough =
            answered_main >= EVIDENCE_MIN_ANSWERS && focus_covered * 100 >= EVIDENCE_MIN_FOCUS_PCT * focus.len().max(1);
        Self {
            answered_main,
            focus_covered,
            focus_total: focus.len(),
            enough,
        }
    }

    /// "Not enough evidence yet: 1 of 4 focus skills covered; 2 of the 5 opening questions needed answered"
    /// (the second part only when answers are short; follow-ups do not count).
    pub fn shortfall(&self) -> String {
        let mut s = format!(
            "Not enough evidence yet: {} of {} focus skills covered",
            self.focus_covered, self.focus_total
        );
        if self.answered_main < EVIDENCE_MIN_ANSWERS {
            s.push_str(&format!(
                "; {} of the {EVIDENCE_MIN_ANSWERS} opening questions needed answered",
                self.answered_main
            ));
        }
        s
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Readiness {
    pub ready: bool,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    pub name: String,
    /// 0–10.
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillScore {
    pub id: String,
    pub name: String,
    pub score: u8,
    pub questions: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadmapItem {
    pub skill: String,
    pub score: u8,
    pub topics: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnReport {
    pub number: usize,
    pub question_id: String,
    pub skill: String,
    pub kind: TurnKind,
    pub difficulty: u8,
    pub question: String,
    pub answer: String,
    pub skipped: bool,
    pub truncated: bool,
    pub score: u8,
    pub scores: Scores,
    pub what_went_well: Vec<String>,
    pub what_was_missing: Vec<String>,
    pub red_flags: Vec<String>,
    pub seniority_signals: Vec<String>,
    pub grader: String,
    /// The offline grader's score when an LLM graded this answer too, for comparison.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline: Option<GradeSummary>,
    /// Why the LLM did not grade this answer, when it was meant to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// Who wrote the question when the bank did not (an LLM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_by: Option<String>,
    /// How a spoken answer was delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speech: Option<SpeechFacts>,
    /// The answer's recording, for replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<String>,
    /// How far the grade can be trusted, and why not fully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade_confidence: Option<GradeConfidence>,
}

/// Another grader's view of the same answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradeSummary {
    pub grader: String,
    pub score: u8,
    pub scores: Scores,
}

/// The inputs a report is made from.
pub struct Source<'a> {
    pub session: &'a str,
    pub bank: &'a Bank,
    pub config: &'a Config,
    pub turns: &'a [Turn],
    pub started_at_ms: u64,
    pub ended: Option<(EndReason, u64)>,
}

fn weight(t: &Turn) -> f64 {
    if t.kind == TurnKind::Main {
        1.0
    } else {
        FOLLOW_UP_WEIGHT
    }
}

fn weighted_mean<'a>(turns: impl Iterator<Item = &'a Turn>, f: impl Fn(&Turn) -> f64) -> Option<f64> {
    let (mut sum, mut w) = (0.0, 0.0);
    for t in turns {
        sum += weight(t) * f(t);
        w += weight(t);
    }
    (w > 0.0).then(|| sum / w)
}

pub fn timestamp(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_seconds(t).to_string()
}

pub fn build(src: &Source<'_>) -> Report {
    let bank = src.bank;
    let role = bank.role(&src.config.role);
    let role_info = RoleInfo {
        id: src.config.role.clone(),
        name: role.map_or_else(|| src.config.role.clone(), |r| r.name.clone()),
        years: role.map_or_else(String::new, |r| r.years.clone()),
    };
    let turns = src.turns;
    let overall = weighted_mean(turns.iter(), |t| f64::from(t.evaluation.score))
        .unwrap_or(0.0)
        .round() as u8;
    let dimensions = dimension_scores(turns);
    let skills = skill_scores(bank, role, turns);
    let radar = radar::radar(&skills.iter().map(|s| (s.name.clone(), s.score)).collect::<Vec<_>>());
    let injection = turns
        .iter()
        .any(|t| t.evaluation.red_flags.iter().any(|f| f.contains("instruct the grader")));
    let evidence = Evidence::of(role, turns);
    let (verdict, mut verdict_reason) = verdict(overall, turns.len(), injection);
    let mut readiness = readiness(bank, role, &role_info.name, overall, &skills, injection);
    if !evidence.enough {
        verdict_reason.push_str(&format!(
            " Provisional: {}; a firm verdict needs {EVIDENCE_MIN_ANSWERS} answered opening questions and {EVIDENCE_MIN_FOCUS_PCT} % of the role's focus skills covered.",
            evidence.shortfall().to_lowercase().replacen("not enough evidence yet: ", "", 1)
        ));
        readiness = Readiness {
            ready: false,
            summary: format!("{}.", evidence.shortfall()),
        };
    }
    let strengths = strengths(&skills, turns);
    let delivery = delivery(turns);
    let mut improvements = improvements(&dimensions, &skills, turns);
    if let Some(tip) = delivery.as_ref().and_then(delivery_tip) {
        improvements.push(tip);
    }
    let roadmap = roadmap(bank, &skills, turns);
    let next_steps = next_steps(&dimensions, &roadmap, &src.config.role);
    Report {
        schema: SCHEMA.to_string(),
        session: src.session.to_string(),
        role: role_info,
        mode: src.config.mode,
        seed: src.config.seed,
        started_at: timestamp(src.started_at_ms),
        ended_at: src.ended.map(|(_, at)| timestamp(at)),
        status: match src.ended {
            None => Status::InProgress,
            Some((r, _)) => Status::Ended(r),
        },
        questions_planned: src.config.questions,
        questions_answered: turns.iter().filter(|t| t.evaluation.grader != "none").count(),
        overall,
        verdict,
        verdict_reason,
        verdict_provisional: !evidence.enough,
        evidence,
        readiness,
        dimensions,
        skills,
        radar,
        strengths,
        improvements,
        next_steps,
        roadmap,
        red_flags: red_flags(turns),
        delivery,
        tailored: src.config.tailoring.as_ref().map(|t| Tailored::of(t, bank, turns)),
        turns: turns.iter().map(TurnReport::from).collect(),
    }
}

/// Each dimension's mean over the answers, to one decimal.
fn dimension_scores(turns: &[Turn]) -> Vec<DimensionScore> {
    Scores::NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| DimensionScore {
            name: name.to_string(),
            score: (weighted_mean(turns.iter(), |t| f64::from(t.evaluation.scores.as_array()[i])).unwrap_or(0.0) * 10.0)
                .round() as f32
                / 10.0,
        })
        .collect()
}

/// Each asked skill's score: skills in the order the role lists them, then any others in bank order.
fn skill_scores(bank: &Bank, role: Option<&crate::bank::Role>, turns: &[Turn]) -> Vec<SkillScore> {
    let mut by_skill: BTreeMap<&str, Vec<&Turn>> = BTreeMap::new();
    for t in turns {
        by_skill.entry(t.skill.as_str()).or_default().push(t);
    }
    let mut skill_order: Vec<&str> = role
        .map(|r| r.focus.iter().map(|f| f.0.as_str()).collect())
        .unwrap_or_default();
    for s in &bank.skills {
        if !skill_order.contains(&s.id.as_str()) {
            skill_order.push(&s.id);
        }
    }
    skill_order
        .iter()
        .filter_map(|id| {
            let ts = by_skill.get(id)?;
            Some(SkillScore {
                id: id.to_string(),
                name: bank.skill_name(id).to_string(),
                score: weighted_mean(ts.iter().copied(), |t| f64::from(t.evaluation.score))
                    .unwrap_or(0.0)
                    .round() as u8,
                questions: ts.len(),
            })
        })
        .collect()
}

/// The hiring verdict from the overall score, capped when an answer tried to instruct the grader.
fn verdict(overall: u8, turns: usize, injection: bool) -> (Verdict, String) {
    let mut verdict = Verdict::from_score(overall);
    let mut reason = format!(
        "Overall {overall}/100: Strong Hire from {STRONG_HIRE_FROM}, Hire from {HIRE_FROM}, Borderline from {BORDERLINE_FROM}, Needs Improvement below."
    );
    if injection && matches!(verdict, Verdict::StrongHire | Verdict::Hire) {
        verdict = Verdict::Borderline;
        reason.push_str(" Capped at Borderline: an answer tried to instruct the grader.");
    }
    if turns < 3 {
        reason.push_str(" Only a few questions were answered, so this verdict rests on little evidence.");
    }
    (verdict, reason)
}

/// Whether the candidate is ready for the role, and what stands in the way if not.
fn readiness(
    bank: &Bank,
    role: Option<&crate::bank::Role>,
    role_name: &str,
    overall: u8,
    skills: &[SkillScore],
    injection: bool,
) -> Readiness {
    let focus_ids: Vec<&str> = role
        .map(|r| r.focus.iter().map(|f| f.0.as_str()).collect())
        .unwrap_or_default();
    let weak_focus: Vec<&SkillScore> = skills
        .iter()
        .filter(|s| focus_ids.contains(&s.id.as_str()) && s.score < 45)
        .collect();
    let ready = overall >= HIRE_FROM && weak_focus.is_empty() && !injection;
    let summary = if ready {
        format!("Ready for {role_name} interviews: strong enough across the role's focus areas.")
    } else if overall >= BORDERLINE_FROM {
        let gaps: Vec<&str> = weak_focus.iter().map(|s| s.name.as_str()).collect();
        if gaps.is_empty() {
            format!("Close to ready for {role_name}: raise depth and examples to move from borderline to hire.")
        } else {
            format!(
                "Close to ready for {role_name}; first close the gaps in {}.",
                gaps.join(", ")
            )
        }
    } else {
        let lower = bank
            .roles
            .iter()
            .rev()
            .find(|r| r.difficulty < role.map_or(1, |r| r.difficulty));
        match lower {
            Some(l) if overall >= 35 => format!(
                "Not yet ready for {role_name}; the answers fit a {} ({} years) level today.",
                l.name, l.years
            ),
            _ => format!("Not yet ready for {role_name}; work through the study roadmap and practise again."),
        }
    };
    Readiness { ready, summary }
}

/// Every answer's red flags, numbered by question, without repeats.
fn red_flags(turns: &[Turn]) -> Vec<String> {
    let mut red_flags: Vec<String> = Vec::new();
    for t in turns {
        for f in &t.evaluation.red_flags {
            let f = format!("Q{}: {f}", t.index + 1);
            if !red_flags.contains(&f) {
                red_flags.push(f);
            }
        }
    }
    red_flags
}

impl From<&Turn> for TurnReport {
    fn from(t: &Turn) -> Self {
        TurnReport {
            number: t.index + 1,
            question_id: t.question_id.clone(),
            skill: t.skill.clone(),
            kind: t.kind,
            difficulty: t.difficulty,
            question: t.prompt.clone(),
            answer: t.answer.clone(),
            skipped: t.skipped,
            truncated: t.truncated,
            score: t.evaluation.score,
            scores: t.evaluation.scores,
            what_went_well: t.evaluation.what_went_well.clone(),
            what_was_missing: t.evaluation.what_was_missing.clone(),
            red_flags: t.evaluation.red_flags.clone(),
            seniority_signals: t.evaluation.seniority_signals.clone(),
            grader: t.evaluation.grader.clone(),
            offline: t.evaluation.offline.as_ref().map(|o| GradeSummary {
                grader: o.grader.clone(),
                score: o.score,
                scores: o.scores,
            }),
            fallback: t.evaluation.fallback.clone(),
            written_by: t.written_by.clone(),
            speech: t.speech.clone(),
            audio: t.audio.clone(),
            grade_confidence: t.evaluation.grade_confidence.clone(),
        }
    }
}

/// Totals over the spoken answers, in words a person can check against the recordings.
fn delivery(turns: &[Turn]) -> Option<Delivery> {
    let spoken: Vec<&SpeechFacts> = turns
        .iter()
        .filter_map(|t| t.speech.as_ref())
        .filter(|s| s.words > 0)
        .collect();
    if spoken.is_empty() {
        return None;
    }
    // Saturating: the facts come from a journal a person could have edited.
    let total = |f: fn(&SpeechFacts) -> u64| spoken.iter().fold(0u64, |a, s| a.saturating_add(f(s)));
    let words = total(|s| s.words as u64) as usize;
    let speaking_ms = total(|s| s.speaking_ms);
    let fillers = total(|s| s.fillers as u64) as usize;
    let hedges = total(|s| s.hedges as u64) as usize;
    let long_pauses = total(|s| s.long_pauses as u64) as usize;
    let longest_pause_ms = spoken.iter().map(|s| s.longest_pause_ms).max().unwrap_or(0);
    let minutes = speaking_ms as f64 / 60_000.0;
    let wpm = if speaking_ms >= 1000 {
        (words as f64 / minutes).round() as u32
    } else {
        0
    };
    let secs = (speaking_ms as f64 / 1000.0).round() as u64;
    let per_min = |n: usize| if minutes > 0.0 { n as f64 / minutes } else { 0.0 };
    let mut observations = vec![format!(
        "{} spoken answer{}: {words} words in {secs} s of speaking, {wpm} words a minute.",
        spoken.len(),
        if spoken.len() == 1 { "" } else { "s" }
    )];
    observations.push(format!(
        "{fillers} filler{} in {secs} s ({:.1} a minute); {hedges} hedge{}.",
        if fillers == 1 { "" } else { "s" },
        per_min(fillers),
        if hedges == 1 { "" } else { "s" }
    ));
    observations.push(if long_pauses == 0 {
        format!("No pause over {} s inside an answer.", LONG_PAUSE_MS / 1000)
    } else {
        format!(
            "{long_pauses} pause{} over {} s inside answers; the longest {:.1} s.",
            if long_pauses == 1 { "" } else { "s" },
            LONG_PAUSE_MS / 1000,
            longest_pause_ms as f64 / 1000.0
        )
    });
    Some(Delivery {
        spoken_answers: spoken.len(),
        words,
        speaking_ms,
        words_per_minute: wpm,
        fillers,
        hedges,
        long_pauses,
        longest_pause_ms,
        observations,
    })
}

/// One improvement about delivery, when the numbers call for it.
fn delivery_tip(d: &Delivery) -> Option<String> {
    let minutes = d.speaking_ms as f64 / 60_000.0;
    if minutes < 0.25 {
        return None;
    }
    let fillers_per_min = d.fillers as f64 / minutes;
    if fillers_per_min > 6.0 {
        Some(format!(
            "Delivery: {} fillers in {} s of speaking; a silent pause reads as more confident than \"um\".",
            d.fillers,
            (d.speaking_ms as f64 / 1000.0).round()
        ))
    } else if d.words_per_minute > 190 {
        Some(format!(
            "Delivery: {} words a minute is fast for an interview; aim for 120–160.",
            d.words_per_minute
        ))
    } else if d.words_per_minute > 0 && d.words_per_minute < 95 {
        Some(format!(
            "Delivery: {} words a minute is slow; shorter sentences and thinking aloud keep the pace up.",
            d.words_per_minute
        ))
    } else if d.long_pauses as f64 / minutes > 2.0 && d.long_pauses >= 3 {
        Some(format!(
            "Delivery: {} long pauses; say what you are weighing instead of going silent.",
            d.long_pauses
        ))
    } else {
        None
    }
}

/// The first sentence of an answer that tells of hands-on work (what they did, with numbers), if any.
fn example_given(answer: &str) -> Option<String> {
    crate::grade::signals::chunks(answer)
        .into_iter()
        .map(|c| c.text)
        .find(|t| crate::grade::signals::experience_count(&t.to_lowercase()) >= 2)
}

/// A short quotation of the candidate's words.
fn cite(text: &str) -> String {
    let t = text.trim();
    if t.chars().count() <= 140 {
        format!("\"{t}\"")
    } else {
        format!("\"{}…\"", t.chars().take(140).collect::<String>().trim_end())
    }
}

/// What the candidate did well, in their answers' own terms: the key points they covered and the
/// examples they gave, not dimension numbers.
fn strengths(skills: &[SkillScore], turns: &[Turn]) -> Vec<String> {
    let mut out = Vec::new();
    for s in skills.iter().filter(|s| s.score >= 70) {
        out.push(format!(
            "{}: scored {}/100 across {} question(s).",
            s.name, s.score, s.questions
        ));
    }
    let mut best: Vec<&Turn> = turns.iter().filter(|t| t.evaluation.score >= 60).collect();
    best.sort_by(|a, b| b.evaluation.score.cmp(&a.evaluation.score).then(a.index.cmp(&b.index)));
    for t in best.iter().take(3) {
        if let Some(w) = t.evaluation.what_went_well.iter().find(|w| w.starts_with("Covered: ")) {
            out.push(format!("Q{}: {w}", t.index + 1));
        }
    }
    if let Some((t, example)) = best.iter().find_map(|t| example_given(&t.answer).map(|e| (t, e))) {
        out.push(format!("Q{}: gave a concrete example: {}", t.index + 1, cite(&example)));
    }
    out.truncate(6);
    out
}

/// What to work on, in the answers' own terms: the key points missed and the wrong claims made.
fn improvements(dims: &[DimensionScore], skills: &[SkillScore], turns: &[Turn]) -> Vec<String> {
    let mut out = Vec::new();
    let mut weak: Vec<&SkillScore> = skills.iter().filter(|s| s.score < 60).collect();
    weak.sort_by_key(|s| s.score);
    for s in weak {
        out.push(format!("{}: scored {}/100; see the study roadmap.", s.name, s.score));
    }
    let mut worst: Vec<&Turn> = turns
        .iter()
        .filter(|t| t.evaluation.score < 60 && t.evaluation.grader != "none")
        .collect();
    worst.sort_by(|a, b| a.evaluation.score.cmp(&b.evaluation.score).then(a.index.cmp(&b.index)));
    for t in worst.iter().take(3) {
        let e = &t.evaluation;
        if let Some(f) = e.red_flags.iter().find(|f| f.starts_with("Stated a ")) {
            out.push(format!("Q{}: {f}", t.index + 1));
        } else if let Some(m) = e.what_was_missing.first() {
            out.push(format!("Q{}: {m}", t.index + 1));
        }
    }
    // The weakest dimension, as advice tied to what it measures rather than as a number.
    if let Some(d) = dims
        .iter()
        .filter(|d| d.score < 6.0)
        .min_by(|a, b| a.score.total_cmp(&b.score))
    {
        out.push(format!(
            "{} was the weakest side of the answers: {}",
            d.name,
            advice(&d.name)
        ));
    }
    out.truncate(7);
    out
}

fn advice(dimension: &str) -> &'static str {
    match dimension {
        "Technical correctness" => "Check the facts behind each answer; state the mechanism precisely.",
        "Depth of understanding" => "Explain why things work and the trade-offs, not just what they are.",
        "Practical experience" => {
            "Tie answers to something you built or fixed: the situation, what you did, the result in numbers."
        }
        "Communication clarity" => "Lead with the answer in one sentence, then support it; cut detours.",
        _ => "State what you know plainly; fewer fillers and hedges, and say what you would check when unsure.",
    }
}

fn roadmap(bank: &Bank, skills: &[SkillScore], turns: &[Turn]) -> Vec<RoadmapItem> {
    let mut weak: Vec<&SkillScore> = skills.iter().filter(|s| s.score < 70).collect();
    weak.sort_by(|a, b| a.score.cmp(&b.score).then(a.id.cmp(&b.id)));
    weak.iter()
        .map(|s| {
            let mut topics: Vec<String> = Vec::new();
            for t in turns.iter().filter(|t| t.skill == s.id) {
                for m in &t.evaluation.what_was_missing {
                    if let Some(point) = m.strip_prefix("Not covered: ") {
                        let item = format!("Revisit: {point}");
                        if topics.len() < 2 && !topics.contains(&item) {
                            topics.push(item);
                        }
                    }
                }
            }
            if let Some(skill) = bank.skill(&s.id) {
                topics.extend(skill.roadmap.iter().take(4).cloned());
            }
            RoadmapItem {
                skill: s.name.clone(),
                score: s.score,
                topics,
            }
        })
        .collect()
}

fn next_steps(dims: &[DimensionScore], roadmap: &[RoadmapItem], role: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(first) = roadmap.first() {
        out.push(format!(
            "Start with {}: {}.",
            first.skill,
            first
                .topics
                .iter()
                .find(|t| !t.starts_with("Revisit"))
                .map_or("the roadmap below", String::as_str)
        ));
    }
    if let Some(d) = dims.iter().min_by(|a, b| a.score.total_cmp(&b.score))
        && d.score < 7.0
    {
        out.push(format!("Practise {}: {}", d.name.to_lowercase(), advice(&d.name)));
    }
    if !roadmap.is_empty() {
        let ids: Vec<String> = roadmap.iter().take(3).map(|r| r.skill.clone()).collect();
        out.push(format!(
            "Retake a focused practice round on {} in a week.",
            ids.join(", ")
        ));
    }
    out.push(format!(
        "Run `dataready interview --role {role} --mode practice` for per-answer feedback."
    ));
    out
}

pub fn to_json(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("reports always serialize") + "\n"
}
