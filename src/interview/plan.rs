//! Choosing what to ask: skill coverage in proportion to the role's focus, adaptive difficulty,
//! and the follow-up decision tree (shallow → deeper, moderate → example, strong → harder or move on).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use super::rng::SplitMix64;
use super::types::{Evaluation, TurnKind};
use crate::bank::{Bank, Question, Role};

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
        if e.grader == "none" {
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

/// The follow-up decision tree. `asked` holds the kinds already asked on this topic (main included).
pub fn decide(depth: Depth, asked: &[TurnKind]) -> Decision {
    let follow_ups = asked.iter().filter(|k| **k != TurnKind::Main).count();
    let want = match depth {
        Depth::NoAnswer => return Decision::NextTopic,
        Depth::Shallow => TurnKind::Deeper,
        Depth::Moderate => TurnKind::Example,
        // A strong answer to the opening question earns a harder variant; after a follow-up, move on.
        Depth::Strong if asked.last() == Some(&TurnKind::Main) => TurnKind::Harder,
        Depth::Strong => return Decision::NextTopic,
    };
    if follow_ups >= MAX_FOLLOW_UPS || asked.contains(&want) {
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
}

impl Planner {
    pub fn new(role: &Role, skills: &[String]) -> Self {
        let weights = if skills.is_empty() {
            role.focus.iter().map(|(s, w)| (s.clone(), f64::from(*w))).collect()
        } else {
            skills
                .iter()
                .map(|s| {
                    let w = role.focus.iter().find(|(f, _)| f == s).map_or(1, |(_, w)| *w);
                    (s.clone(), f64::from(w))
                })
                .collect()
        };
        let fallback = if skills.is_empty() {
            role.also.clone()
        } else {
            Vec::new()
        };
        Self {
            role: role.id.clone(),
            weights,
            fallback,
            asked: BTreeSet::new(),
            per_skill: BTreeMap::new(),
            level: f32::from(role.difficulty),
        }
    }

    /// The next topic's opening question, or `None` when the bank has nothing left for these skills.
    pub fn next_question(&mut self, bank: &Bank, rng: &mut SplitMix64) -> Option<Arc<Question>> {
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
                self.asked.insert(q.id.clone());
                *self.per_skill.entry(skill).or_insert(0) += 1;
                return Some(q);
            }
        }
        None
    }

    fn pick_in_skill(&self, bank: &Bank, skill: &str, rng: &mut SplitMix64) -> Option<Arc<Question>> {
        let target = self.level.round() as i32;
        let rank = |q: &Question| {
            let off_role = i32::from(!q.roles.iter().any(|r| r == &self.role));
            (off_role, (i32::from(q.difficulty) - target).abs())
        };
        let candidates: Vec<&Arc<Question>> = bank
            .questions
            .iter()
            .filter(|q| q.skill == skill && !self.asked.contains(&q.id))
            .collect();
        let best = candidates.iter().map(|q| rank(q)).min()?;
        let tied: Vec<&&Arc<Question>> = candidates.iter().filter(|q| rank(q) == best).collect();
        Some(Arc::clone(tied[rng.below(tied.len())]))
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
        assert_eq!(decide(Depth::Shallow, &[Main]), Decision::FollowUp(Deeper));
        assert_eq!(decide(Depth::Moderate, &[Main]), Decision::FollowUp(Example));
        assert_eq!(decide(Depth::Strong, &[Main]), Decision::FollowUp(Harder));
        assert_eq!(decide(Depth::Strong, &[Main, Deeper]), Decision::NextTopic);
        assert_eq!(decide(Depth::NoAnswer, &[Main]), Decision::NextTopic);
        // Never the same follow-up twice, never more than two.
        assert_eq!(decide(Depth::Shallow, &[Main, Deeper]), Decision::NextTopic);
        assert_eq!(decide(Depth::Moderate, &[Main, Deeper]), Decision::FollowUp(Example));
        assert_eq!(decide(Depth::Shallow, &[Main, Example, Harder]), Decision::NextTopic);
    }

    #[test]
    fn coverage_follows_focus_weights() {
        let bank = Bank::builtin().unwrap();
        let role = bank.role("mid").unwrap();
        let mut p = Planner::new(role, &[]);
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
    fn difficulty_adapts_and_stays_in_range() {
        let bank = Bank::builtin().unwrap();
        let mut p = Planner::new(bank.role("junior").unwrap(), &[]);
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
