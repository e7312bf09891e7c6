//! Going back over an interview answer by answer: the question, what you said, your recording, what a
//! strong answer covers, what you covered and missed, and a model answer (from the rubric offline, or
//! from the LLM when one is configured). Pure: built from the journal's turns and the bank.

use serde::{Deserialize, Serialize};

use crate::bank::{Bank, Question};
use crate::grade;
use crate::interview::{Evaluation, Turn, TurnKind};

/// Who wrote the offline model answers.
pub const FROM_RUBRIC: &str = "the rubric, offline";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Review {
    pub session: String,
    pub role: String,
    pub items: Vec<ReviewItem>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    /// 1-based, as in the report.
    pub number: usize,
    pub question_id: String,
    pub skill: String,
    pub kind: TurnKind,
    /// The line as it was asked.
    pub question: String,
    /// What you said (the transcript of a spoken answer).
    pub answer: String,
    pub skipped: bool,
    pub score: u8,
    pub grader: String,
    /// The answer's recording, when it was spoken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
    /// What a strong answer covers, and whether you did.
    pub points: Vec<PointReview>,
    pub red_flags: Vec<String>,
    pub model_answer: ModelAnswer,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointReview {
    pub text: String,
    pub coverage: Coverage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    Covered,
    /// Touched on, not fully.
    Partly,
    Missed,
    /// The grade does not say (a skipped answer, or a grader that does not check key points).
    NotJudged,
}

impl Coverage {
    pub fn mark(self) -> &'static str {
        match self {
            Self::Covered => "✓",
            Self::Partly => "~",
            Self::Missed => "✗",
            Self::NotJudged => "·",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelAnswer {
    pub text: String,
    /// [`FROM_RUBRIC`], or the LLM that wrote it.
    pub by: String,
}

/// A model answer written from the question's rubric: its key points in order as one spoken answer,
/// what sets a senior answer apart, and the misconception to avoid. For an "example" follow-up, how
/// to shape the story and what it should show.
pub fn model_answer(q: &Question, kind: TurnKind) -> ModelAnswer {
    let points: Vec<&str> = q.key_points.iter().map(|k| k.text.trim()).collect();
    let mut text = match kind {
        TurnKind::Main => points.join(" "),
        TurnKind::Example => format!(
            "Pick one real case and tell it in order: the situation and its scale, what you decided and did, \
             and the result with numbers. Let the story show that: {}",
            lowercase_first_join(&points)
        ),
        TurnKind::Deeper => format!(
            "Go one level below the opening answer: explain how and why each of these holds, with the \
             mechanism behind it: {}",
            lowercase_first_join(&points)
        ),
        TurnKind::Harder => format!(
            "Apply the same mechanics to the harder case, say which of them changes the answer, and name the \
             trade-off you would accept: {}",
            lowercase_first_join(&points)
        ),
    };
    if let Some(signal) = q.seniority_signals.first() {
        text.push_str(&format!("\nWhat sets a senior answer apart: {}", lower_first(signal)));
    }
    if let Some(wrong) = q.misconceptions.first() {
        text.push_str(&format!("\nAvoid saying: \"{}\"", wrong.trim()));
    }
    ModelAnswer {
        text,
        by: FROM_RUBRIC.to_string(),
    }
}

fn lower_first(s: &str) -> String {
    let s = s.trim();
    let mut c = s.chars();
    match c.next() {
        // Keep acronyms and names ("SQL", "Kafka") as they are.
        Some(f) if c.clone().next().is_some_and(|n| n.is_lowercase()) => f.to_lowercase().chain(c).collect(),
        _ => s.to_string(),
    }
}

fn lowercase_first_join(points: &[&str]) -> String {
    points
        .iter()
        .map(|p| lower_first(p).trim_end_matches('.').to_string())
        .collect::<Vec<_>>()
        .join("; ")
        + "."
}

/// Which of the question's key points the answer covered: the offline grader's per-point coverage
/// (from the grade itself or the offline grade kept beside an LLM's), else its "Covered: …" and
/// "Not covered: …" notes (records written before the coverage was kept).
fn coverage(q: &Question, e: &Evaluation, skipped: bool) -> Vec<PointReview> {
    let n = q.key_points.len();
    let per_point = [Some(e), e.offline.as_deref()]
        .into_iter()
        .flatten()
        .find(|g| g.key_points.len() == n)
        .map(|g| &g.key_points);
    let notes = [Some(e), e.offline.as_deref()]
        .into_iter()
        .flatten()
        .find(|g| has_point_notes(g));
    q.key_points
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let noted = |list: &[String], prefix: &str| list.iter().any(|w| w.strip_prefix(prefix) == Some(&k.text));
            let coverage = if skipped {
                Coverage::Missed
            } else if let Some(c) = per_point {
                match c[i] {
                    c if c >= grade::COVERED_FROM => Coverage::Covered,
                    c if c >= grade::MISSED_BELOW => Coverage::Partly,
                    _ => Coverage::Missed,
                }
            } else {
                match notes {
                    Some(o) if noted(&o.what_went_well, "Covered: ") => Coverage::Covered,
                    Some(o) if noted(&o.what_was_missing, "Not covered: ") => Coverage::Missed,
                    _ => Coverage::NotJudged,
                }
            };
            PointReview {
                text: k.text.clone(),
                coverage,
            }
        })
        .collect()
}

fn has_point_notes(e: &Evaluation) -> bool {
    e.what_went_well.iter().any(|w| w.starts_with("Covered: "))
        || e.what_was_missing.iter().any(|w| w.starts_with("Not covered: "))
}

/// The question a turn was asked from: the bank's, or the one written for the interview.
pub fn question_of<'a>(bank: &'a Bank, turns: &'a [Turn], turn: &'a Turn) -> Option<&'a Question> {
    bank.question(&turn.question_id).map(|q| &**q).or_else(|| {
        turns
            .iter()
            .find_map(|u| u.generated.as_deref().filter(|g| g.id == turn.question_id))
    })
}

/// The review of recorded turns, with offline model answers (an LLM's can replace them afterwards).
pub fn build(session: &str, role: &str, bank: &Bank, turns: &[Turn]) -> Review {
    let items = turns
        .iter()
        .map(|t| {
            let q = question_of(bank, turns, t);
            let e = &t.evaluation;
            ReviewItem {
                number: t.index + 1,
                question_id: t.question_id.clone(),
                skill: bank.skill_name(&t.skill).to_string(),
                kind: t.kind,
                question: t.prompt.clone(),
                answer: t.answer.clone(),
                skipped: t.skipped,
                score: e.score,
                grader: e.grader.clone(),
                recording: t.audio.clone(),
                points: q.map(|q| coverage(q, e, t.skipped)).unwrap_or_default(),
                red_flags: e.red_flags.clone(),
                model_answer: q.map(|q| model_answer(q, t.kind)).unwrap_or_else(|| ModelAnswer {
                    text: "(the question's rubric is no longer in the bank)".into(),
                    by: FROM_RUBRIC.into(),
                }),
            }
        })
        .collect();
    Review {
        session: session.to_string(),
        role: role.to_string(),
        items,
    }
}

/// The review as Markdown, for a pipe or a file (the dashboard shows the same items).
pub fn to_markdown(r: &Review) -> String {
    let mut s = format!("# Review of {} ({})\n", r.session, r.role);
    if r.items.is_empty() {
        s.push_str("\nNo answers recorded yet.\n");
    }
    for item in &r.items {
        s.push('\n');
        s.push_str(&item_markdown(item));
    }
    s
}

pub fn item_markdown(item: &ReviewItem) -> String {
    let mut s = format!(
        "## Q{} · {} · {} — {}/100\n\n**Question:** {}\n\n",
        item.number,
        item.skill,
        item.kind.label(),
        item.score,
        item.question
    );
    if item.skipped {
        s.push_str("**Your answer:** (skipped)\n\n");
    } else {
        s.push_str(&format!("**Your answer:** {}\n\n", item.answer.trim()));
    }
    if let Some(path) = &item.recording {
        s.push_str(&format!("**Recording:** {path}\n\n"));
    }
    if !item.points.is_empty() {
        s.push_str("**What a strong answer covers** (✓ you covered it, ~ partly, ✗ you missed it):\n\n");
        for p in &item.points {
            s.push_str(&format!("- {} {}\n", p.coverage.mark(), p.text));
        }
        s.push('\n');
    }
    for f in &item.red_flags {
        s.push_str(&format!("**Red flag:** {f}\n\n"));
    }
    s.push_str(&format!(
        "**Model answer** (from {}):\n\n{}\n",
        item.model_answer.by,
        item.model_answer
            .text
            .lines()
            .map(|l| format!("> {l}"))
            .collect::<Vec<_>>()
            .join("\n>\n")
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_answer_states_every_key_point_and_the_misconception() {
        let bank = Bank::builtin().unwrap();
        let q = bank.question("dm-grain").unwrap();
        let m = model_answer(q, TurnKind::Main);
        for k in &q.key_points {
            assert!(m.text.contains(k.text.trim()), "{} missing from {}", k.text, m.text);
        }
        assert!(m.text.contains("Avoid saying"));
        assert_eq!(m.by, FROM_RUBRIC);
        let story = model_answer(q, TurnKind::Example);
        assert!(story.text.starts_with("Pick one real case"), "{}", story.text);
    }

    #[test]
    fn coverage_reads_the_offline_notes_even_beside_an_llm_grade() {
        let bank = Bank::builtin().unwrap();
        let q = bank.question("dm-grain").unwrap();
        let mut offline = Evaluation::no_answer("");
        offline.what_went_well = vec![format!("Covered: {}", q.key_points[0].text)];
        offline.what_was_missing = vec![format!("Not covered: {}", q.key_points[1].text)];
        let mut llm = Evaluation::no_answer("");
        llm.what_went_well = vec!["Clear definition".into()];
        llm.offline = Some(Box::new(offline.clone()));
        let points = coverage(q, &llm, false);
        assert_eq!(points[0].coverage, Coverage::Covered);
        assert_eq!(points[1].coverage, Coverage::Missed);
        assert_eq!(points[2].coverage, Coverage::NotJudged);
        assert!(coverage(q, &llm, true).iter().all(|p| p.coverage == Coverage::Missed));
        // The per-point coverage, when kept, decides every point.
        let mut per_point = vec![0.1; q.key_points.len()];
        per_point[0] = 0.9;
        per_point[2] = 0.5;
        offline.key_points = per_point;
        llm.offline = Some(Box::new(offline));
        let marks: Vec<Coverage> = coverage(q, &llm, false).iter().map(|p| p.coverage).collect();
        assert_eq!(&marks[..3], &[Coverage::Covered, Coverage::Missed, Coverage::Partly]);
    }
}
