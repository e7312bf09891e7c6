//! Choosing what to ask: skill coverage in proportion to the role's focus, adaptive difficulty,
//! and the follow-up decision tree (shallow → deeper, moderate → example, strong → harder or move on).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use super::rng::SplitMix64;
use super::types::{Evaluation, TurnKind};
use crate::bank::{Bank, Question, Role};
use crate::profile::Tailoring;

/// A question's text and key points, lower case, for finding technology names in it.
fn question_words(q: &Question) -> String {
    q.text_with_key_points().to_lowercase()
}

/// Whether `form` appears in `text` as whole words.
fn mentions(text: &str, form: &str) -> bool {
    crate::profile::count_mentions(text, form) > 0
}

/// Below this an answer is no answer to follow up: "I don't know" (capped at 8), talk beside the question,
/// a list of terms. Asking such a candidate to go deeper only repeats the question; the next topic follows.
pub const NO_ANSWER_BELOW: u8 = 10;
/// Below this an answer is shallow.
pub const SHALLOW_BELOW: u8 = 45;
/// At or above this an answer is strong.
pub const STRONG_FROM: u8 = 70;
/// At most this many follow-ups per topic.
pub const MAX_FOLLOW_UPS: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Depth {
    NoAnswer,
    Shallow,
    Moderate,
    Strong,
}

impl Depth {
    pub fn of(e: &Evaluation) -> Self {
        if e.grader == "none" || e.score < NO_ANSWER_BELOW {
            Self::NoAnswer
        } else if e.score < SHALLOW_BELOW {
            Self::Shallow
        } else if e.score < STRONG_FROM {
            Self::Moderate
        } else {
            Self::Strong
        }
    }
}

/// What to do after a graded answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    FollowUp(TurnKind),
    NextTopic,
}

/// The follow-up decision tree. `asked` holds the kinds already asked on this topic (main included);
/// `max_follow_ups` is [`MAX_FOLLOW_UPS`], or fewer for a topic a script answers (one a row after the first).
pub fn decide(depth: Depth, asked: &[TurnKind], max_follow_ups: usize) -> Decision {
    let follow_ups = asked.iter().filter(|k| **k != TurnKind::Main).count();
    let want = match depth {
        Depth::NoAnswer => return Decision::NextTopic,
        Depth::Shallow => TurnKind::Deeper,
        Depth::Moderate => TurnKind::Example,
        // A strong answer to the opening question earns a harder variant; after a follow-up, move on.
        Depth::Strong if asked.last() == Some(&TurnKind::Main) => TurnKind::Harder,
        Depth::Strong => return Decision::NextTopic,
    };
    if follow_ups >= max_follow_ups || asked.contains(&want) {
        Decision::NextTopic
    } else {
        Decision::FollowUp(want)
    }
}

/// The planner's memory: which questions were used, how each skill was covered, and the current level.
#[derive(Debug, Clone, PartialEq)]
pub struct Planner {
    role: String,
    /// Skills to cover and their weights.
    weights: Vec<(String, f64)>,
    /// Skills used only when the weighted ones run out of questions.
    fallback: Vec<String>,
    asked: BTreeSet<String>,
    per_skill: BTreeMap<String, u32>,
    /// Target difficulty, 1.0–5.0.
    pub level: f32,
    /// Spellings of the technologies in the candidate's CV and job description (lower case): a question
    /// that mentions one is preferred, as if one difficulty step closer.
    prefer: Vec<String>,
    /// Questions that open the next topics, in order, before any choice (a script's `question_id`s).
    first: Vec<Arc<Question>>,
}

/// A role skill the CV and job description point to gets up to this much more weight (1.0 = double).
const TAILORED_BOOST: f64 = 1.0;
/// A skill outside the role's focus joins the plan when the documents point to it at least this much
/// (relative to their strongest skill); it may only come from the role's `also` list.
const TAILORED_JOIN_FROM: f64 = 0.6;

impl Planner {
    pub fn new(role: &Role, skills: &[String], tailoring: Option<&Tailoring>) -> Self {
        let share = |s: &str| tailoring.map_or(0.0, |t| t.share(s));
        let mut weights: Vec<(String, f64)> = if skills.is_empty() {
            role.focus
                .iter()
                .map(|(s, w)| (s.clone(), f64::from(*w) * (1.0 + TAILORED_BOOST * share(s))))
                .collect()
        } else {
            skills
                .iter()
                .map(|s| {
                    let w = role.focus.iter().find(|(f, _)| f == s).map_or(1, |(_, w)| *w);
                    (s.clone(), f64::from(w))
                })
                .collect()
        };
        let mut fallback = if skills.is_empty() {
            role.also.clone()
        } else {
            Vec::new()
        };
        if skills.is_empty() {
            let mean = weights.iter().map(|w| w.1).sum::<f64>() / weights.len().max(1) as f64;
            for s in role.also.iter().filter(|s| share(s) >= TAILORED_JOIN_FROM) {
                weights.push((s.clone(), mean * share(s)));
            }
            fallback.retain(|s| !weights.iter().any(|w| &w.0 == s));
        }
        let prefer = tailoring
            .map(|t| t.terms.iter().flat_map(|t| t.forms.iter().cloned()).collect())
            .unwrap_or_default();
        Self {
            role: role.id.clone(),
            weights,
            fallback,
            asked: BTreeSet::new(),
            per_skill: BTreeMap::new(),
            level: f32::from(role.difficulty),
            prefer,
            first: Vec::new(),
        }
    }

    /// Opens the next topics with these bank questions, in order (ids the bank lacks are left out).
    pub fn asking_first(mut self, bank: &Bank, ids: &[String]) -> Self {
        self.first = ids.iter().filter_map(|id| bank.question(id).cloned()).collect();
        self
    }

    /// The skills planned and their weights (the tailored ones included).
    pub fn weights(&self) -> &[(String, f64)] {
        &self.weights
    }

    /// The bank question an item on the candidate's CV is asked and graded against: in one of the
    /// item's skills, mentioning it, sharing the most words with the CV's line, on the role and near
    /// the current level. Counted as that skill's topic.
    pub fn experience_question(
        &mut self,
        bank: &Bank,
        exp: &crate::profile::Experience,
        rng: &mut SplitMix64,
    ) -> Option<Arc<Question>> {
        let target = self.level.round() as i32;
        let quote: BTreeSet<String> = exp
            .quote
            .to_lowercase()
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 4)
            .map(str::to_string)
            .collect();
        let rank = |q: &Question| {
            let text = question_words(q);
            let named = exp.forms.iter().any(|f| mentions(&text, f));
            let shared = quote.iter().filter(|w| mentions(&text, w)).count();
            let on_role = q.roles.iter().any(|r| r == &self.role);
            // The term's skills are listed most fitting first.
            let fit = exp.skills.iter().position(|s| *s == q.skill).unwrap_or(usize::MAX);
            (
                !named,
                std::cmp::Reverse(shared),
                !on_role,
                fit,
                (i32::from(q.difficulty) - target).abs(),
            )
        };
        let q = self.pick(bank, rng, |q| exp.skills.contains(&q.skill), rank)?;
        self.take(&q);
        Some(q)
    }

    /// The next topic's opening question, or `None` when the bank has nothing left for these skills.
    pub fn next_question(&mut self, bank: &Bank, rng: &mut SplitMix64) -> Option<Arc<Question>> {
        if let Some(i) = self.first.iter().position(|q| !self.asked.contains(&q.id)) {
            let q = Arc::clone(&self.first[i]);
            self.take(&q);
            return Some(q);
        }
        let total: f64 = self.weights.iter().map(|w| w.1).sum();
        let asked_main: u32 = self.per_skill.values().sum();
        // Largest deficit against the weighted share first; ties broken by the seed.
        let mut order: Vec<(f64, u64, &str)> = self
            .weights
            .iter()
            .map(|(s, w)| {
                let count = f64::from(*self.per_skill.get(s).unwrap_or(&0));
                let deficit = w / total * f64::from(asked_main + 1) - count;
                (deficit, rng.next_u64(), s.as_str())
            })
            .collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let skills: Vec<String> = order
            .into_iter()
            .map(|o| o.2.to_string())
            .chain(self.fallback.iter().cloned())
            .collect();
        for skill in skills {
            if let Some(q) = self.pick_in_skill(bank, &skill, rng) {
                self.take(&q);
                return Some(q);
            }
        }
        None
    }

    /// Counts a question as asked, and as a topic of its skill.
    fn take(&mut self, q: &Question) {
        self.asked.insert(q.id.clone());
        *self.per_skill.entry(q.skill.clone()).or_insert(0) += 1;
    }

    /// The best-ranked question not yet asked among those `keep` allows; ties broken by the seed.
    fn pick<K: Ord>(
        &self,
        bank: &Bank,
        rng: &mut SplitMix64,
        keep: impl Fn(&Question) -> bool,
        rank: impl Fn(&Question) -> K,
    ) -> Option<Arc<Question>> {
        let ranked: Vec<(K, &Arc<Question>)> = bank
            .questions
            .iter()
            .filter(|q| keep(q) && !self.asked.contains(&q.id))
            .map(|q| (rank(q), q))
            .collect();
        let best = ranked.iter().map(|(k, _)| k).min()?;
        let tied: Vec<&Arc<Question>> = ranked.iter().filter(|(k, _)| k == best).map(|(_, q)| *q).collect();
        Some(Arc::clone(tied[rng.below(tied.len())]))
    }

    fn pick_in_skill(&self, bank: &Bank, skill: &str, rng: &mut SplitMix64) -> Option<Arc<Question>> {
        let target = self.level.round() as i32;
        let rank = |q: &Question| {
            let off_role = i32::from(!q.roles.iter().any(|r| r == &self.role));
            let distance = (i32::from(q.difficulty) - target).abs();
            // A question about the candidate's own stack counts as one difficulty step closer.
            let about_their_stack = !self.prefer.is_empty() && {
                let text = question_words(q);
                self.prefer.iter().any(|f| mentions(&text, f))
            };
            (off_role, distance - i32::from(about_their_stack))
        };
        self.pick(bank, rng, |q| q.skill == skill, rank)
    }

    /// Marks a question as used (when restoring or when a question came from elsewhere).
    pub fn mark_asked(&mut self, id: &str) {
        self.asked.insert(id.to_string());
    }

    /// Difficulty follows the candidate: up after strong answers, down after weak ones.
    pub fn adapt(&mut self, depth: Depth) {
        let step = match depth {
            Depth::Strong => 0.5,
            Depth::Moderate => 0.0,
            Depth::Shallow => -0.5,
            Depth::NoAnswer => -0.5,
        };
        self.level = (self.level + step).clamp(1.0, 5.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TurnKind::*;

    #[test]
    fn decision_tree_follows_the_design() {
        assert_eq!(
            decide(Depth::Shallow, &[Main], MAX_FOLLOW_UPS),
            Decision::FollowUp(Deeper)
        );
        assert_eq!(
            decide(Depth::Moderate, &[Main], MAX_FOLLOW_UPS),
            Decision::FollowUp(Example)
        );
        assert_eq!(
            decide(Depth::Strong, &[Main], MAX_FOLLOW_UPS),
            Decision::FollowUp(Harder)
        );
        assert_eq!(
            decide(Depth::Strong, &[Main, Deeper], MAX_FOLLOW_UPS),
            Decision::NextTopic
        );
        assert_eq!(decide(Depth::NoAnswer, &[Main], MAX_FOLLOW_UPS), Decision::NextTopic);
        // Never the same follow-up twice, never more than two.
        assert_eq!(
            decide(Depth::Shallow, &[Main, Deeper], MAX_FOLLOW_UPS),
            Decision::NextTopic
        );
        assert_eq!(
            decide(Depth::Moderate, &[Main, Deeper], MAX_FOLLOW_UPS),
            Decision::FollowUp(Example)
        );
        assert_eq!(
            decide(Depth::Shallow, &[Main, Example, Harder], MAX_FOLLOW_UPS),
            Decision::NextTopic
        );
    }

    #[test]
    fn coverage_follows_focus_weights() {
        let bank = Bank::builtin().unwrap();
        let role = bank.role("mid").unwrap();
        let mut p = Planner::new(role, &[], None);
        let mut rng = SplitMix64::new(7);
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        for _ in 0..10 {
            let q = p.next_question(&bank, &mut rng).unwrap();
            *counts.entry(q.skill.clone()).or_default() += 1;
        }
        // mid: advanced-sql 3, spark 3, orchestration 2, data-quality 2 (of 10).
        assert_eq!(counts.get("advanced-sql"), Some(&3), "{counts:?}");
        assert_eq!(counts.get("spark"), Some(&3), "{counts:?}");
        assert_eq!(counts.get("orchestration"), Some(&2), "{counts:?}");
        assert_eq!(counts.get("data-quality"), Some(&2), "{counts:?}");
    }

    #[test]
    fn a_cv_and_job_weight_the_plan_toward_their_skills() {
        let bank = Bank::builtin().unwrap();
        let vocab = crate::profile::Vocabulary::for_bank(&bank, None).unwrap();
        let job = crate::profile::Doc {
            file: "job.txt".into(),
            text: "Kafka and Flink streaming, Kafka Streams, Debezium CDC, Kafka everywhere.".into(),
        };
        let t = crate::profile::tailor(&vocab, None, Some(&job));
        let count = |tailoring: Option<&Tailoring>| {
            let mut p = Planner::new(bank.role("senior").unwrap(), &[], tailoring);
            let mut rng = SplitMix64::new(7);
            (0..12)
                .filter(|_| p.next_question(&bank, &mut rng).unwrap().skill == "streaming")
                .count()
        };
        // senior: four focus skills of equal weight, 3 of 12 topics each; the job doubles streaming's.
        assert_eq!(count(None), 3);
        assert!(count(Some(&t)) >= 4, "{}", count(Some(&t)));
    }

    #[test]
    fn difficulty_adapts_and_stays_in_range() {
        let bank = Bank::builtin().unwrap();
        let mut p = Planner::new(bank.role("junior").unwrap(), &[], None);
        for _ in 0..20 {
            p.adapt(Depth::Strong);
        }
        assert_eq!(p.level, 5.0);
        for _ in 0..20 {
            p.adapt(Depth::Shallow);
        }
        assert_eq!(p.level, 1.0);
    }
}
