//! Contradictions: whether an answer sentence states a key point's contrast claim (a plausible wrong
//! version of it) rather than a correct point, judged by meaning and by the words that tell the two apart.
//!
//! MiniLM alone barely separates "X does Y" from "Z does Y" or a claim from its negation, so a sentence
//! counts as stating a contrast only when it is at least as close to the contrast as to every key point
//! *and* it carries the words that distinguish the contrast from the point (the swapped entity, the
//! negation, the reversed term) while carrying none of the point's own distinguishing words.

use std::collections::HashSet;

use super::signals;
use crate::embed::Tokens;

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
    /// `toward_vocab` with the question's own words counted as the point's too: the topic's words, which
    /// right and wrong answers share.
    pub toward_topic: i32,
    /// Contextual token alignment of the sentence with the contrast and the key points: filled only by
    /// `RubricGrader::align_tokens` (a measurement; the rule does not use it), zero otherwise.
    pub tokens: TokenAlign,
}

/// How a sentence's contextual token vectors (MiniLM's last hidden states, before mean pooling) align with
/// a contrast claim's and with key points': ColBERT-style MaxSim, each token's best cosine on the other side.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct TokenAlign {
    /// Mean over the sentence's tokens of the best match among the contrast's (MaxSim sentence→contrast).
    pub s2c: f32,
    /// The same against the contrast's own key point, and against the key point closest to the sentence.
    pub s2k: f32,
    pub s2r: f32,
    /// Mean over the contrast's tokens of their best match in the sentence (contrast→sentence), and the same
    /// for the contrast's key point and the closest one.
    pub c2s: f32,
    pub k2s: f32,
    pub r2s: f32,
    /// contrast→sentence over the contrast's pieces its key point lacks, and key point→sentence over the
    /// point's pieces the contrast lacks (0 when there are none).
    pub cd2s: f32,
    pub kd2s: f32,
    /// Over the sentence's tokens whose piece both the contrast and its key point hold: mean of how much
    /// closer the token is to that piece in the contrast than in the point (the context tells them apart).
    pub shared_gap: f32,
    pub shared_n: u32,
    /// `shared_gap` weighted by how far apart the piece's two occurrences are (1 − their cosine): pieces whose
    /// context differs between the contrast and the point ("physical" next to RANGE, next to ROWS) count most.
    pub moved_gap: f32,
    /// The weights' sum.
    pub moved_w: f32,
    /// Over the sentence's tokens whose best match is a different piece in the contrast than in the point:
    /// mean of best-in-contrast minus best-in-point.
    pub diff_gap: f32,
    pub diff_n: u32,
}

fn mean(v: impl Iterator<Item = f32>) -> f32 {
    let (sum, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 { 0.0 } else { sum / n as f32 }
}

/// Best match of each token of `a` among the tokens of `b`: (cosine, index in `b`).
fn best(a: &Tokens, b: &Tokens) -> Vec<(f32, usize)> {
    (0..a.len())
        .map(|i| {
            let x = a.row(i);
            (0..b.len())
                .map(|j| (crate::embed::cosine(x, b.row(j)), j))
                .fold((f32::NEG_INFINITY, 0), |m, c| if c.0 > m.0 { c } else { m })
        })
        .collect()
}

/// Best match of token `i` of `a` among the tokens of `b` carrying piece `id`: (cosine, index in `b`).
fn best_of_piece(a: &Tokens, i: usize, b: &Tokens, id: u32) -> Option<(f32, usize)> {
    let x = a.row(i);
    (0..b.len())
        .filter(|&j| b.ids[j] == id)
        .map(|j| (crate::embed::cosine(x, b.row(j)), j))
        .reduce(|m, c| if c.0 > m.0 { c } else { m })
}

/// The sentence's token alignment with a contrast claim, its key point and the closest key point.
pub fn align(sentence: &Tokens, contrast: &Tokens, point: &Tokens, rival: &Tokens) -> TokenAlign {
    if sentence.is_empty() || contrast.is_empty() || point.is_empty() || rival.is_empty() {
        return TokenAlign::default();
    }
    let to_c = best(sentence, contrast);
    let to_k = best(sentence, point);
    let c_in = best(contrast, sentence);
    let k_in = best(point, sentence);
    let (mut shared, mut diff) = (Vec::new(), Vec::new());
    let (mut moved, mut moved_w) = (0.0, 0.0);
    for i in 0..sentence.len() {
        let id = sentence.ids[i];
        if let (Some((c, u)), Some((k, v))) = (
            best_of_piece(sentence, i, contrast, id),
            best_of_piece(sentence, i, point, id),
        ) {
            shared.push(c - k);
            let w = 1.0 - crate::embed::cosine(contrast.row(u), point.row(v));
            moved += w * (c - k);
            moved_w += w;
        }
        if contrast.ids[to_c[i].1] != point.ids[to_k[i].1] {
            diff.push(to_c[i].0 - to_k[i].0);
        }
    }
    TokenAlign {
        s2c: mean(to_c.iter().map(|x| x.0)),
        s2k: mean(to_k.iter().map(|x| x.0)),
        s2r: mean(best(sentence, rival).iter().map(|x| x.0)),
        c2s: mean(c_in.iter().map(|x| x.0)),
        k2s: mean(k_in.iter().map(|x| x.0)),
        r2s: mean(best(rival, sentence).iter().map(|x| x.0)),
        cd2s: mean(
            (0..contrast.len())
                .filter(|&u| !point.ids.contains(&contrast.ids[u]))
                .map(|u| c_in[u].0),
        ),
        kd2s: mean(
            (0..point.len())
                .filter(|&u| !contrast.ids.contains(&point.ids[u]))
                .map(|u| k_in[u].0),
        ),
        shared_gap: mean(shared.iter().copied()),
        shared_n: shared.len() as u32,
        moved_gap: if moved_w > 0.0 { moved / moved_w } else { 0.0 },
        moved_w,
        diff_gap: mean(diff.iter().copied()),
        diff_n: diff.len() as u32,
    }
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
    /// Count the question's own words as the point's (`toward_topic`): the topic's words do not tell a
    /// wrong version from the right one.
    #[serde(default)]
    pub topic: bool,
}

impl Rule {
    pub fn states(&self, c: &Candidate) -> bool {
        c.sim >= self.min_sim && c.sim >= c.rival_sim + self.margin && c.overlap >= self.min_overlap && self.worded(c)
    }

    /// Whether the sentence carries the contrast's distinguishing words and none of the point's.
    pub fn worded(&self, c: &Candidate) -> bool {
        let (toward, against) = if self.topic {
            (c.toward_topic, c.against_vocab)
        } else if self.vocab {
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
