//! The caps that guard against answers that fool graders, with the red flags and notes that explain them.

use crate::bank::Question;
use crate::grade::Analysis;

/// A score cap and what explains it: red flags, and notes on what the answer was missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Guarded {
    pub cap: f32,
    pub red_flags: Vec<String>,
    pub missing: Vec<String>,
}

impl Default for Guarded {
    fn default() -> Self {
        Self {
            cap: 100.0,
            red_flags: Vec::new(),
            missing: Vec::new(),
        }
    }
}

impl Guarded {
    fn cap_at(&mut self, cap: f32) {
        self.cap = self.cap.min(cap);
    }

    /// Talk about something other than the question: capped, with its red flag once.
    pub fn off_topic(&mut self) {
        if !self.red_flags.iter().any(|r| r == OFF_TOPIC) {
            self.red_flags.push(OFF_TOPIC.to_string());
        }
        self.cap_at(OFF_TOPIC_CAP);
    }

    fn join(&mut self, other: Guarded) {
        self.cap_at(other.cap);
        self.red_flags.extend(other.red_flags);
        self.missing.extend(other.missing);
    }
}

const RESTATED: &str = "The answer only restated the question.";
/// Below this share of content words that are not the question's own, an answer restates the question. On the
/// tuning part (graded with and without its rubric) and the off-bank tuning set, every echo is below 0.35 and
/// every real attempt at 0.39 or above.
const RESTATED_NOVELTY: f32 = 0.35;
const BRIEF: &str = "The answer was too short to show understanding: a few words can name the topic, not explain it.";
/// Answers with fewer words than this (fillers not counted) are capped at [`BRIEF_CAP_PER_WORD`] a word: the
/// shortest real attempt in the tuning sets has 28 words (a shallow answer; shallow ones are graded 20-34).
/// A phrase such as "first answer about row_number" came within reach of a key point's short phrasings and
/// scored 76, and a correct one-line summary of three mechanisms 81: an interviewer wants them explained.
const BRIEF_WORDS: usize = 20;
const BRIEF_CAP_PER_WORD: f32 = 3.0;
const OFF_TOPIC: &str = "The answer was about something other than the question.";
const OFF_TOPIC_CAP: f32 = 5.0;

/// The guards that hold with or without a rubric: instructions to the grader, no content, echoes,
/// off-topic talk, "I don't know" and keyword lists. `coverage` is the share of the rubric the answer
/// covered, when there is one: an "I don't know", or an answer in the question's words, that still covers
/// half of it was a preface, not a pass.
pub fn rubric_free(a: &Analysis, coverage: Option<f32>) -> Guarded {
    let mut g = Guarded::default();
    if a.injection {
        g.red_flags
            .push("Tried to instruct the grader instead of answering the question.".to_string());
        g.cap_at(12.0);
    }
    if a.content_words == 0 {
        // An instruction to the grader has its own flag; it is not filler.
        if !a.injection {
            g.missing
                .push("The answer had no content, only filler words.".to_string());
        }
        g.cap_at(3.0);
    } else if a.echo_only && !a.idk {
        g.missing.push(RESTATED.to_string());
        g.cap_at(8.0);
    } else if !a.idk && a.content_words >= 4 && a.novelty < RESTATED_NOVELTY && coverage.is_none_or(|c| c < 0.5) {
        // Sentences that each add a word or two ("So yes, the encodings and the codec are different things")
        // escape the sentence-by-sentence echo check; what they say is still the question's own words.
        g.missing.push(RESTATED.to_string());
        g.cap_at(8.0);
    }
    let said = a.words.saturating_sub(a.fillers);
    if a.content_words > 0 && !a.echo_only && said < BRIEF_WORDS {
        g.missing.push(BRIEF.to_string());
        g.cap_at(BRIEF_CAP_PER_WORD * said as f32);
    }
    if a.off_topic {
        g.off_topic();
    }
    if a.idk && coverage.is_none_or(|c| c < 0.5) {
        g.missing
            .push("Said they did not know; a reasoned guess shows more than a pass.".to_string());
        g.cap_at(8.0);
    }
    if a.salad_share > 0.5 {
        g.red_flags
            .push("Listed terms without explaining how they work or connect.".to_string());
        g.cap_at(15.0);
    }
    g
}

/// The guards judged against a rubric: rambling (long and mostly off the rubric, or hedging all the way) and
/// misconceptions.
pub fn rubric_bound(a: &Analysis, q: &Question, rambling: bool) -> Guarded {
    let mut g = Guarded::default();
    if rambling {
        g.cap_at(25.0);
    }
    for &m in &a.misconceptions {
        g.red_flags
            .push(format!("Stated a misconception: \"{}\"", q.misconceptions[m]));
    }
    match a.misconceptions.len() {
        0 => {}
        1 => g.cap_at(40.0),
        _ => g.cap_at(25.0),
    }
    g
}

/// Every guard, for an answer graded against its rubric.
pub fn with_rubric(a: &Analysis, q: &Question, coverage: f32, rambling: bool) -> Guarded {
    let mut g = rubric_free(a, Some(coverage));
    g.join(rubric_bound(a, q, rambling));
    g
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i_dont_know_is_excused_only_by_covering_the_rubric() {
        let a = Analysis {
            idk: true,
            words: 30,
            content_words: 12,
            ..Default::default()
        };
        assert_eq!(rubric_free(&a, None).cap, 8.0);
        assert_eq!(rubric_free(&a, Some(0.2)).cap, 8.0);
        assert_eq!(rubric_free(&a, Some(0.6)).cap, 100.0);
    }

    #[test]
    fn the_questions_own_words_are_a_restatement_with_or_without_a_rubric() {
        let said = |novelty| Analysis {
            words: 40,
            content_words: 20,
            novelty,
            ..Default::default()
        };
        assert_eq!(rubric_free(&said(0.2), None).cap, 8.0);
        assert_eq!(rubric_free(&said(0.2), None).missing, [RESTATED]);
        assert_eq!(rubric_free(&said(0.2), Some(0.2)).cap, 8.0);
        assert_eq!(
            rubric_free(&said(0.2), Some(0.6)).cap,
            100.0,
            "covering half the rubric is an answer"
        );
        assert_eq!(rubric_free(&said(0.5), None).cap, 100.0);
        assert_eq!(rubric_free(&said(0.34), None).cap, 8.0);
        assert_eq!(rubric_free(&said(0.35), None).cap, 100.0);
        // An echo found sentence by sentence is restated once; "I don't know" has its own note.
        let echo = Analysis {
            echo_only: true,
            ..said(0.1)
        };
        assert_eq!(rubric_free(&echo, None).missing, [RESTATED]);
        let idk = Analysis { idk: true, ..said(0.2) };
        assert_eq!(rubric_free(&idk, None).missing.len(), 1);
        assert_ne!(rubric_free(&idk, None).missing, [RESTATED]);
    }

    #[test]
    fn a_few_words_are_capped_by_how_few() {
        let brief = |words| Analysis {
            words,
            content_words: 3,
            ..Default::default()
        };
        assert_eq!(rubric_free(&brief(5), None).cap, 15.0);
        assert_eq!(rubric_free(&brief(5), None).missing, [BRIEF]);
        assert_eq!(rubric_free(&brief(19), None).cap, 57.0);
        assert_eq!(rubric_free(&brief(20), None).cap, 100.0);
        let filler = Analysis {
            fillers: 6,
            ..brief(24)
        };
        assert_eq!(rubric_free(&filler, None).cap, 54.0, "fillers are not words said");
    }

    #[test]
    fn an_instruction_with_nothing_else_is_capped_as_no_content_without_the_filler_note() {
        let a = Analysis {
            injection: true,
            ..Default::default()
        };
        let g = rubric_free(&a, None);
        assert_eq!(g.cap, 3.0);
        assert_eq!(g.red_flags.len(), 1);
        assert!(g.missing.is_empty());
    }
}
