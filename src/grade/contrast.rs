//! Contradictions: whether an answer sentence states a key point's contrast claim (a plausible wrong
//! version of it) rather than a correct point, judged by meaning and by the words that tell the two apart.
//!
//! MiniLM alone barely separates "X does Y" from "Z does Y" or a claim from its negation, so a sentence
//! counts as stating a contrast only when it is at least as close to the contrast as to every key point
//! *and* it carries the words that distinguish the contrast from the point (the swapped entity, the
//! negation, the reversed term) while carrying none of the point's own distinguishing words.

use std::collections::HashSet;

use super::signals;

/// A claim reduced to what the token checks need: its content stems and whether it is negated.
#[derive(Debug, Clone)]
pub struct Claim {
    stems: HashSet<String>,
    negated: bool,
}

/// Stands for "this claim is negated" among a claim's distinguishing words.
const NEGATION: &str = "¬";

impl Claim {
    pub fn new(text: &str) -> Self {
        Self::from_words(&signals::words(text))
    }

    pub fn from_words(words: &[String]) -> Self {
        Self {
            stems: signals::content_words(words)
                .into_iter()
                .map(|w| signals::stem(w).to_string())
                .collect(),
            negated: signals::negated(words),
        }
    }

    /// This claim with the content words of `more` added (a key point's phrasings: its whole vocabulary).
    pub fn widened<'a>(&self, more: impl IntoIterator<Item = &'a str>) -> Self {
        let mut out = self.clone();
        for text in more {
            let words = signals::words(text);
            out.stems.extend(
                signals::content_words(&words)
                    .into_iter()
                    .map(|w| signals::stem(w).to_string()),
            );
        }
        out
    }

    /// The union of two claims' words (a sentence and its neighbours), negated if either is.
    pub fn joined(&self, other: &Claim) -> Self {
        Self {
            stems: self.stems.union(&other.stems).cloned().collect(),
            negated: self.negated || other.negated,
        }
    }

    fn has(&self, stem: &str) -> bool {
        if stem == NEGATION {
            self.negated
        } else {
            self.stems.contains(stem)
        }
    }
}

/// How an answer sentence leans between a contrast claim and a key point, by distinguishing words.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Lean {
    /// Words of the contrast (not in the point) that the sentence carries.
    pub toward_contrast: usize,
    /// Words of the point (not in the contrast) that the sentence carries.
    pub toward_point: usize,
}

pub fn lean(answer: &Claim, point: &Claim, contrast: &Claim) -> Lean {
    let mut only_contrast: Vec<&str> = contrast
        .stems
        .iter()
        .filter(|s| !point.stems.contains(*s))
        .map(String::as_str)
        .collect();
    let mut only_point: Vec<&str> = point
        .stems
        .iter()
        .filter(|s| !contrast.stems.contains(*s))
        .map(String::as_str)
        .collect();
    if contrast.negated != point.negated {
        if contrast.negated {
            only_contrast.push(NEGATION);
        } else {
            only_point.push(NEGATION);
        }
    }
    Lean {
        toward_contrast: only_contrast.iter().filter(|s| answer.has(s)).count(),
        toward_point: only_point.iter().filter(|s| answer.has(s)).count(),
    }
}

/// Share of the contrast's content stems that the sentence carries.
pub fn overlap(answer: &Claim, contrast: &Claim) -> f32 {
    let n = contrast.stems.len().max(1);
    contrast.stems.iter().filter(|s| answer.stems.contains(*s)).count() as f32 / n as f32
}

/// Words that mark a sentence as refuting a wrong claim rather than making it.
pub fn refutes(lower: &str) -> bool {
    [
        "mistake",
        "myth",
        "misconception",
        "people think",
        "people assume",
        "people believe",
        "common trap",
        "not true",
        "is wrong",
        "it's wrong",
        "that's wrong",
        "a common error",
        "contrary to",
    ]
    .iter()
    .any(|m| lower.contains(m))
}

/// One sentence that may state a contrast claim, with the measurements the decision uses.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Candidate {
    pub chunk: usize,
    pub key_point: usize,
    pub contrast: usize,
    /// Cosine similarity of the sentence to the contrast claim.
    pub sim: f32,
    /// Its similarity to the key point it is closest to.
    pub rival_sim: f32,

    /// Share of the contrast's content words the sentence carries.
    pub overlap: f32,
    /// Against both the contrast's own key point and the closest one: fewest contrast words minus point words.
    pub toward: i32,
    /// Against both: most point-only words the sentence carries.
    pub against: usize,
    /// `toward` and `against` with each key point's phrasings counted as its words: a contrast word the
    /// rubric also uses for the correct point ("duplicate keys") does not tell the two apart.
    pub toward_vocab: i32,
    pub against_vocab: usize,
    /// Most point-only words (with phrasings) in the sentence and its neighbours together.
    pub against_context: usize,
}

/// Thresholds for calling a candidate a contradiction, chosen by scripts/train-grader.py.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct Rule {
    pub min_sim: f32,
    /// How much closer to the contrast than to the closest key point the sentence must be.
    pub margin: f32,
    pub min_overlap: f32,
    pub min_toward: i32,
    pub max_against: usize,
    /// Judge the distinguishing words against each key point's whole vocabulary (statement and phrasings).
    #[serde(default)]
    pub vocab: bool,
    /// Most point-only words the sentence and its neighbours may carry together.
    #[serde(default)]
    pub max_against_context: Option<usize>,
}

impl Rule {
    pub fn states(&self, c: &Candidate) -> bool {
        c.sim >= self.min_sim && c.sim >= c.rival_sim + self.margin && c.overlap >= self.min_overlap && self.worded(c)
    }

    /// Whether the sentence carries the contrast's distinguishing words and none of the point's.
    pub fn worded(&self, c: &Candidate) -> bool {
        let (toward, against) = if self.vocab {
            (c.toward_vocab, c.against_vocab)
        } else {
            (c.toward, c.against)
        };
        toward >= self.min_toward
            && against <= self.max_against
            && self.max_against_context.is_none_or(|m| c.against_context <= m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swapped_entity_leans_toward_the_contrast() {
        let point = Claim::new("A merge creates a merge commit with two parents.");
        let contrast = Claim::new("A rebase creates a merge commit with two parents.");
        let wrong = Claim::new("Rebase makes a merge commit that has two parents.");
        let right = Claim::new("Merge makes a merge commit that has two parents.");
        assert_eq!(lean(&wrong, &point, &contrast).toward_contrast, 1);
        assert_eq!(lean(&right, &point, &contrast).toward_contrast, 0);
    }

    #[test]
    fn negation_is_a_distinguishing_word() {
        let point = Claim::new("Caching is lazy and stores data only when an action runs.");
        let contrast = Claim::new("Caching is not lazy; it stores data immediately.");
        let wrong = Claim::new("cache isn't lazy, it stores the data right away");
        let l = lean(&wrong, &point, &contrast);
        assert!(l.toward_contrast >= 1, "{l:?}");
        assert_eq!(l.toward_point, 0);
    }

    #[test]
    fn a_word_the_rubric_uses_for_the_point_does_not_lean_toward_the_contrast() {
        let text = "The source must have at most one row per match key; otherwise most engines raise an error.";
        let point = Claim::new(text);
        let vocab = point.widened(["deduplicate the source first", "duplicate keys error"]);
        let contrast =
            Claim::new("The target must have at most one row per match key; duplicate keys in the source are fine.");
        let right = Claim::new("What goes wrong: the big one is duplicate keys in the source.");
        assert!(lean(&right, &point, &contrast).toward_contrast >= 1);
        assert_eq!(lean(&right, &vocab, &contrast).toward_contrast, 0);
        let wrong = Claim::new("Only the target needs one row per key, duplicate source rows are fine.");
        assert!(lean(&wrong, &vocab, &contrast).toward_contrast >= 1);
    }

    #[test]
    fn a_possessive_is_the_word_itself() {
        let point = Claim::new("AQE's skew join optimization is on by default.").widened(["AQE skew join"]);
        let contrast = Claim::new("AQE's skew join optimization is off by default.");
        let right = Claim::new("I'd make sure AQE's skew join handling is enabled.");
        assert_eq!(lean(&right, &point, &contrast).toward_contrast, 0);
    }

    #[test]
    fn a_refutation_is_not_a_claim() {
        assert!(refutes("a common mistake is to think rebase creates a merge commit"));
        assert!(!refutes("rebase replays your commits on top of main"));
    }
}
