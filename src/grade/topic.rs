//! Whether a question from outside the interview is one of the bank's, asked in other words.
//!
//! Similarity alone does not say: a terse rewording of a bank question ("How do you make an Airflow
//! backfill safe to rerun?") can sit further from it (0.60) than a different question on the same topic
//! does from its nearest bank question ("If an executor dies halfway through a Spark job, how does Spark
//! recover ...?": 0.73 to the one on jobs, stages and tasks). Two more things do: a rewording stands clear of
//! every other bank question, and it keeps the question's rarer words (backfill, Airflow).

use std::collections::{HashMap, HashSet};

use crate::bank::Bank;
use crate::grade::signals;

/// How much the nearest bank question's lead over the next one adds to its match.
pub const MARGIN: f32 = 1.0;
/// The least weighted share of a question's content words that the nearest bank question's texts (question,
/// follow-ups, key points) must use for its lead to count. Chosen on the tuning part's questions reworded and
/// the off-bank tuning set: the rewordings the lead lifts past [`super::CLOSE_RUBRIC`] share 0.24, then 0.35
/// or more; the one other question it lifts there ("If an executor dies ...") shares 0.22.
pub const SHARED_TERMS: f32 = 0.3;

/// The content words of every bank question's texts (question, follow-ups, key points), weighted by how
/// rare they are across the bank's questions.
pub struct Terms {
    idf: HashMap<String, f32>,
    texts: Vec<HashSet<String>>,
    /// The weight of a word no bank question uses.
    unseen: f32,
}

fn stems(text: &str) -> HashSet<String> {
    let words = signals::words(text);
    signals::content_words(&words)
        .into_iter()
        .map(|w| signals::stem(w).to_string())
        .collect()
}

impl Terms {
    pub fn new(bank: &Bank) -> Self {
        let questions: Vec<HashSet<String>> = bank.questions.iter().map(|q| stems(&q.text)).collect();
        let mut df: HashMap<&str, usize> = HashMap::new();
        for q in &questions {
            for w in q {
                *df.entry(w).or_default() += 1;
            }
        }
        let texts = bank
            .questions
            .iter()
            .map(|q| {
                let f = &q.follow_ups;
                let mut all = format!("{} {} {} {}", q.text, f.deeper, f.example, f.harder);
                for k in &q.key_points {
                    all.push(' ');
                    all.push_str(&k.text);
                }
                stems(&all)
            })
            .collect();
        let n = questions.len().max(1) as f32;
        let weight = |df: usize| (n / (1 + df) as f32).ln().max(0.0) + 0.5;
        let idf = df.iter().map(|(w, d)| (w.to_string(), weight(*d))).collect();
        Self {
            idf,
            unseen: weight(0),
            texts,
        }
    }

    /// The weighted share of `text`'s content words that bank question `i`'s texts use (0–1).
    pub fn shared(&self, text: &str, i: usize) -> f32 {
        let Some(q) = self.texts.get(i) else {
            return 0.0;
        };
        let t = stems(text);
        let w = |s: &String| self.idf.get(s).copied().unwrap_or(self.unseen);
        let total: f32 = t.iter().map(w).sum();
        if total <= 0.0 {
            0.0
        } else {
            t.intersection(q).map(w).sum::<f32>() / total
        }
    }
}

/// How surely a question is the bank question it is nearest to: its similarity `sim`, raised by its lead over
/// the next nearest bank question when the two share enough of their words (capped at 1).
pub fn strength(sim: f32, next: Option<f32>, shared: f32) -> f32 {
    let lead = next.map_or(0.0, |n| (sim - n).max(0.0));
    if shared >= SHARED_TERMS {
        (sim + MARGIN * lead).min(1.0)
    } else {
        sim
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lead_counts_only_with_shared_words() {
        assert!((strength(0.6, Some(0.4), 0.5) - 0.8).abs() < 1e-6);
        assert_eq!(strength(0.6, Some(0.4), 0.1), 0.6);
        assert_eq!(strength(0.9, Some(0.5), 0.5), 1.0);
        assert_eq!(strength(0.6, None, 0.5), 0.6);
        assert_eq!(strength(0.6, Some(0.7), 0.5), 0.6);
    }

    #[test]
    fn rare_shared_words_weigh_more() {
        let bank = Bank::builtin().unwrap();
        let terms = Terms::new(&bank);
        let i = bank.questions.iter().position(|q| q.id == "orch-backfill").unwrap();
        let rewording = terms.shared("How do you make an Airflow backfill safe to rerun?", i);
        let other = terms.shared("How would you tune a slow Spark shuffle?", i);
        assert!(rewording >= SHARED_TERMS, "{rewording}");
        assert!(other < rewording / 2.0, "{other} against {rewording}");
    }
}
