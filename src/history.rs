//! Progress across sessions: each finished session's overall and per-skill scores over time, a trend
//! per skill, the weakest and most improved skills, and what to practise next. Pure: reports in,
//! a summary out. Sessions with too little evidence are listed as such, never averaged in.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::bank::Bank;
use crate::interview::TurnKind;
use crate::report::Report;

/// A session counts toward trends with at least this many answered opening questions...
pub const MIN_MAIN_ANSWERS: usize = 5;
/// ...covering at least this share of the role's focus skills.
pub const MIN_FOCUS_SHARE: f64 = 0.6;

#[derive(Debug, Clone, Serialize)]
pub struct SessionPoint {
    pub session: String,
    pub started_at: String,
    pub role: String,
    pub overall: u8,
    pub verdict: String,
    pub answered: usize,
    /// Why the session does not count toward trends (too few answers or focus skills), if it does not.
    pub too_little_evidence: Option<String>,
    pub skills: BTreeMap<String, u8>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkillTrend {
    pub id: String,
    pub name: String,
    /// Scores in session order (oldest first), from sessions with enough evidence that asked this skill.
    pub scores: Vec<u8>,
    pub latest: u8,
    /// Latest minus first, over the sessions shown.
    pub change: i32,
    pub sparkline: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct History {
    pub sessions: Vec<SessionPoint>,
    pub skills: Vec<SkillTrend>,
    /// Lowest latest score first.
    pub weakest: Vec<String>,
    /// Largest rise first (only skills that rose).
    pub most_improved: Vec<String>,
    /// What to practise next, in words; `None` with no finished session that has enough evidence.
    pub next_focus: Option<String>,
}

/// The evidence rule: enough opening questions answered, enough of the role's focus skills covered.
pub fn evidence_gap(report: &Report, bank: &Bank) -> Option<String> {
    let mains = report
        .turns
        .iter()
        .filter(|t| t.kind == TurnKind::Main && !t.skipped && !t.answer.is_empty())
        .count();
    let focus: Vec<&str> = bank
        .role(&report.role.id)
        .map(|r| r.focus.iter().map(|(s, _)| s.as_str()).collect())
        .unwrap_or_default();
    let covered = focus
        .iter()
        .filter(|f| report.turns.iter().any(|t| t.skill == **f && !t.skipped))
        .count();
    if mains < MIN_MAIN_ANSWERS {
        return Some(format!("{mains} of {MIN_MAIN_ANSWERS} opening questions answered"));
    }
    if !focus.is_empty() && (covered as f64) < MIN_FOCUS_SHARE * focus.len() as f64 {
        return Some(format!("{covered} of {} focus skills covered", focus.len()));
    }
    None
}

/// Every saved session's report, and a warning for each session that could not be read.
pub fn reports(
    store: &crate::store::Store,
    bank: &Bank,
) -> Result<(Vec<Report>, Vec<String>), crate::store::StoreError> {
    let (mut out, mut warnings) = (Vec::new(), Vec::new());
    for id in store.list()? {
        match crate::session::report_from_journal(store, bank, &id) {
            Ok(r) => out.push(r),
            Err(e) => warnings.push(format!("skipping session {id}: {e:#}")),
        }
    }
    Ok((out, warnings))
}

/// An interview left in progress this long is stale: `sessions` says so and `resume` asks first.
pub const STALE_AFTER_DAYS: u64 = 7;

/// Whole days since the session started, if its start time reads.
pub fn age_days(report: &Report, now_ms: u64) -> Option<u64> {
    let started = humantime::parse_rfc3339(&report.started_at).ok()?;
    let started_ms = started.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as u64;
    Some(now_ms.saturating_sub(started_ms) / 86_400_000)
}

/// An interview still in progress that was started at least [`STALE_AFTER_DAYS`] ago.
pub fn stale_days(report: &Report, now_ms: u64) -> Option<u64> {
    age_days(report, now_ms).filter(|d| !report.status.is_over() && *d >= STALE_AFTER_DAYS)
}

/// `▁▂▃▄▅▆▇█` for 0–100 scores.
pub fn sparkline(scores: &[u8]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    scores
        .iter()
        .map(|s| BARS[(usize::from(*s.min(&100)) * 7 + 50) / 100])
        .collect()
}

/// Builds the history from finished sessions' reports (any order; sorted by start time here).
/// `role` and `skill` narrow it down.
pub fn build(bank: &Bank, reports: &[Report], role: Option<&str>, skill: Option<&str>) -> History {
    let mut finished: Vec<&Report> = reports
        .iter()
        .filter(|r| r.status.is_over() && role.is_none_or(|x| r.role.id == x))
        .collect();
    finished.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.session.cmp(&b.session)));
    let sessions: Vec<SessionPoint> = finished
        .iter()
        .map(|r| SessionPoint {
            session: r.session.clone(),
            started_at: r.started_at.clone(),
            role: r.role.id.clone(),
            overall: r.overall,
            verdict: r.verdict.label().to_string(),
            answered: r.questions_answered,
            too_little_evidence: evidence_gap(r, bank),
            skills: r
                .skills
                .iter()
                .filter(|s| skill.is_none_or(|x| s.id == x))
                .map(|s| (s.id.clone(), s.score))
                .collect(),
        })
        .collect();
    let mut series: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    for s in sessions.iter().filter(|s| s.too_little_evidence.is_none()) {
        for (id, score) in &s.skills {
            series.entry(id.as_str()).or_default().push(*score);
        }
    }
    let mut skills: Vec<SkillTrend> = series
        .into_iter()
        .map(|(id, scores)| SkillTrend {
            id: id.to_string(),
            name: bank.skill_name(id).to_string(),
            latest: *scores.last().unwrap_or(&0),
            change: i32::from(*scores.last().unwrap_or(&0)) - i32::from(*scores.first().unwrap_or(&0)),
            sparkline: sparkline(&scores),
            scores,
        })
        .collect();
    skills.sort_by(|a, b| a.latest.cmp(&b.latest).then(a.id.cmp(&b.id)));
    let weakest: Vec<String> = skills.iter().take(3).map(|s| s.id.clone()).collect();
    let mut improved: Vec<&SkillTrend> = skills.iter().filter(|s| s.scores.len() > 1 && s.change > 0).collect();
    improved.sort_by(|a, b| b.change.cmp(&a.change).then(a.id.cmp(&b.id)));
    let most_improved = improved.iter().take(3).map(|s| s.id.clone()).collect();
    History {
        next_focus: next_focus(&skills),
        sessions,
        skills,
        weakest,
        most_improved,
    }
}

/// The one-line suggestion: a skill that fell, else the weakest one.
fn next_focus(skills: &[SkillTrend]) -> Option<String> {
    let fell = skills
        .iter()
        .filter(|s| s.scores.len() > 1 && s.change <= -5)
        .min_by_key(|s| (s.change, s.latest));
    if let Some(s) = fell {
        return Some(format!(
            "{} fell from {} to {} over {} sessions: practise it next (dataready interview --focus weak).",
            s.name,
            s.scores[0],
            s.latest,
            s.scores.len()
        ));
    }
    let weakest = skills.first()?;
    Some(format!(
        "{} is your weakest skill at {}{}: practise it next (dataready interview --focus weak).",
        weakest.name,
        weakest.latest,
        if weakest.scores.len() > 1 {
            format!(" ({} over {} sessions)", signed(weakest.change), weakest.scores.len())
        } else {
            String::new()
        }
    ))
}

fn signed(n: i32) -> String {
    if n > 0 { format!("+{n}") } else { n.to_string() }
}

/// The weakest skills that `role` is interviewed on (its focus first), for `interview --focus weak`:
/// at most `n`, from sessions with enough evidence.
pub fn weak_skills(bank: &Bank, history: &History, role: &str, n: usize) -> Vec<String> {
    let focus: Vec<&str> = bank
        .role(role)
        .map(|r| r.focus.iter().map(|(s, _)| s.as_str()).collect())
        .unwrap_or_default();
    let mut picked: Vec<String> = history
        .skills
        .iter()
        .filter(|s| focus.is_empty() || focus.contains(&s.id.as_str()))
        .take(n)
        .map(|s| s.id.clone())
        .collect();
    if picked.is_empty() {
        picked = history.weakest.iter().take(n).cloned().collect();
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparklines_span_the_scale() {
        assert_eq!(sparkline(&[0, 50, 100]), "▁▅█");
        assert_eq!(sparkline(&[]), "");
    }
}
