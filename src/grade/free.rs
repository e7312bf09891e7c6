//! Grading an answer to a question the bank does not hold, on what can be judged without its rubric:
//! how much of the answer speaks to the question, how specific it is (technical terms, numbers,
//! mechanisms), how much expert knowledge of nearby bank topics it shows, and how it hedges.

use crate::embed::cosine;
use crate::grade::{Analysis, RubricGrader, guards, signals, weighted_score};
use crate::interview::{Evaluation, Scores};

/// Bank questions nearest the asked one whose key points stand in for its missing rubric.
const POOL_QUESTIONS: usize = 5;
/// A sentence this close to a pooled key point states it.
const POOL_POINT: f32 = 0.6;
/// A sentence this close to the question speaks to it.
const ON_QUESTION: f32 = 0.35;
/// Words past this frequency rank (or not in the list at all) count as specific vocabulary.
const RARE_RANK: usize = 5000;
/// Below this closeness of the whole answer to the question, and of its best sentences to the nearby bank
/// topics' key points, an answer with no sentence on the question is about something else (chosen by CV
/// grouped by question on the tuning part without its rubric and the off-bank tuning set).
const OFF_QUESTION: f32 = 0.3;
const OFF_POOL: f32 = 0.45;

/// What an answer shows without a rubric of its own.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FreeFeatures {
    pub words: f32,
    pub content_words: f32,
    /// Sentences that are neither echoes of the question nor term lists.
    pub evidence: f32,
    /// Sentences (not echoes or term lists) that speak to the question.
    pub on_question: f32,
    /// Mean closeness of the answer's evidence sentences to the question.
    pub mean_to_question: f32,
    /// Distinct specific words (past the common-English ranks), and their share of the content words.
    pub rare: f32,
    pub rare_share: f32,
    pub numbers: f32,
    /// Key points of the nearest bank questions the answer states, and how close its best three came.
    pub pool_points: f32,
    pub pool_best: f32,
    pub reasoning: f32,
    pub experience: f32,
    pub hedges: f32,
    pub fillers: f32,
    pub novelty: f32,
    pub relevance: f32,
    /// How close the bank question nearest the answer is to the question asked (low when the answer
    /// is about another topic), and how close the answer as a whole is to the question.
    pub topic_agreement: f32,
    pub answer_to_question: f32,
    /// How much closer any sentence came to a wrong version (contrast claim) of a pooled key point than
    /// to the key point itself.
    pub pool_contrast_gap: f32,
    /// The answer's first few specific words, as it said them (for the feedback).
    #[serde(skip)]
    pub terms: Vec<String>,
}

impl RubricGrader {
    /// Measures an answer to `question` that has no rubric of its own; `analysis` is the grader's
    /// analysis against the nearest bank question (for its chunks, echoes and surface signals).
    pub fn free_features(&self, question: &str, answer: &str, a: &Analysis, except: Option<&str>) -> FreeFeatures {
        self.free_features_with(&self.embedder.embed_one(question), answer, a, except)
    }

    /// [`Self::free_features`] with the question already embedded (`qv`).
    pub(super) fn free_features_with(
        &self,
        qv: &[f32],
        answer: &str,
        a: &Analysis,
        except: Option<&str>,
    ) -> FreeFeatures {
        let mut near: Vec<(usize, f32)> = self
            .bank
            .questions
            .iter()
            .zip(&self.index.rows)
            .enumerate()
            .filter(|(_, (q, _))| except.is_none_or(|e| q.id != e))
            .map(|(i, (_, r))| (i, cosine(qv, self.index.vector(r.question))))
            .collect();
        near.sort_by(|x, y| y.1.total_cmp(&x.1));
        near.truncate(POOL_QUESTIONS);
        let evidence: Vec<&super::ChunkMatch> = a.chunks.iter().filter(|c| !c.echo && !c.salad).collect();
        let vecs: Vec<&[f32]> = evidence.iter().map(|c| c.vector.as_slice()).collect();
        let mut best: Vec<f32> = Vec::new();
        for (i, _) in &near {
            for (row, _) in &self.index.rows[*i].key_points {
                let kp = self.index.vector(*row);
                best.push(vecs.iter().map(|v| cosine(v, kp)).fold(0.0, f32::max));
            }
        }
        let mut pool_contrast_gap = -1.0f32;
        for (i, _) in &near {
            let rows = &self.index.rows[*i];
            for ((row, _), contrasts) in rows.key_points.iter().zip(&rows.contrasts) {
                let kp = self.index.vector(*row);
                for v in &vecs {
                    let to_point = cosine(v, kp);
                    for c in contrasts {
                        let to_contrast = cosine(v, self.index.vector(*c));
                        if to_contrast >= 0.5 {
                            pool_contrast_gap = pool_contrast_gap.max(to_contrast - to_point);
                        }
                    }
                }
            }
        }
        let mut mean = vec![0f32; qv.len()];
        for v in &vecs {
            for (m, x) in mean.iter_mut().zip(v.iter()) {
                *m += x;
            }
        }
        let norm = mean.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
        mean.iter_mut().for_each(|x| *x /= norm);
        let answer_to_question = if vecs.is_empty() { 0.0 } else { cosine(&mean, qv) };
        let topic_agreement = if vecs.is_empty() {
            0.0
        } else {
            self.bank
                .questions
                .iter()
                .zip(&self.index.rows)
                .filter(|(q, _)| except.is_none_or(|e| q.id != e))
                .map(|(_, r)| self.index.vector(r.question))
                .max_by(|x, y| cosine(&mean, x).total_cmp(&cosine(&mean, y)))
                .map_or(0.0, |v| cosine(v, qv))
        };
        let pool_points = best.iter().filter(|s| **s >= POOL_POINT).count() as f32;
        best.sort_by(|x, y| y.total_cmp(x));
        let pool_best = best.iter().take(3).sum::<f32>() / best.len().clamp(1, 3) as f32;

        let words = signals::words(answer);
        let content = signals::content_words(&words);
        let mut rare: Vec<&str> = content
            .iter()
            .copied()
            .filter(|w| w.chars().any(char::is_alphabetic))
            .filter(|w| crate::transcribe::lexicon::common_rank(w).is_none_or(|r| r > RARE_RANK))
            .collect();
        let rare_total = rare.len();
        let mut terms: Vec<String> = Vec::new();
        for w in &rare {
            if terms.len() < 4 && !terms.iter().any(|t| t == w) && w.len() > 3 {
                terms.push((*w).to_string());
            }
        }
        rare.sort_unstable();
        rare.dedup();
        let numbers = words.iter().filter(|w| w.chars().any(|c| c.is_ascii_digit())).count();
        let lower = answer.to_lowercase();
        FreeFeatures {
            words: words.len() as f32,
            content_words: content.len() as f32,
            evidence: evidence.len() as f32,
            on_question: evidence.iter().filter(|c| c.to_prompt >= ON_QUESTION).count() as f32,
            mean_to_question: evidence.iter().map(|c| c.to_prompt).sum::<f32>() / evidence.len().max(1) as f32,
            rare: rare.len() as f32,
            rare_share: rare_total as f32 / content.len().max(1) as f32,
            numbers: numbers as f32,
            pool_points,
            pool_best,
            reasoning: signals::reasoning_count(&lower) as f32,
            experience: signals::experience_count(&lower) as f32,
            hedges: signals::hedge_count(&lower) as f32,
            fillers: signals::filler_count(answer) as f32,
            novelty: a.novelty,
            relevance: a.relevance,
            topic_agreement,
            answer_to_question,
            pool_contrast_gap,
            terms,
        }
    }
}

/// The fitted map from [`FreeFeatures`] to a 0–100 score (src/grade/free.json, written by
/// scripts/train-free-grader.py).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct FreeModel {
    pub gate: [f32; 2],
    pub features: Vec<String>,
    pub weights: Vec<f32>,
}

/// The model's inputs in order, as the training script names them.
pub const INPUTS: [&str; 14] = [
    "bias",
    "log_words",
    "on_question",
    "log_rare",
    "pool_best",
    "reasoning",
    "experience",
    "rare_share",
    "pool_points",
    "relevance",
    "hedge_rate",
    "gate",
    "answer_to_question",
    "topic_agreement",
];

pub fn model() -> &'static FreeModel {
    static MODEL: std::sync::OnceLock<FreeModel> = std::sync::OnceLock::new();
    MODEL.get_or_init(|| {
        serde_json::from_str(include_str!("free.json")).expect("src/grade/free.json is valid (a unit test checks it)")
    })
}

impl FreeFeatures {
    /// The model's inputs: the measures of substance count only as far as the answer as a whole speaks
    /// to the question (the gate), so talk beside the question earns nothing.
    pub fn inputs(&self, gate: [f32; 2]) -> [f32; 14] {
        let w = self.words.max(1.0);
        let g = ((self.answer_to_question - gate[0]) / (gate[1] - gate[0])).clamp(0.0, 1.0);
        [
            1.0,
            g * w.ln() / 5.0,
            g * self.on_question.min(10.0) / 10.0,
            g * self.rare.ln_1p() / 3.0,
            g * self.pool_best,
            g * self.reasoning.min(4.0) / 4.0,
            g * self.experience.min(3.0) / 3.0,
            g * self.rare_share,
            g * self.pool_points.min(4.0) / 4.0,
            g * self.relevance,
            (100.0 * self.hedges / w).min(5.0) / 5.0,
            g,
            self.answer_to_question,
            self.topic_agreement,
        ]
    }

    /// Talk beside the question: the answer says something, but no sentence speaks to the question, the
    /// answer as a whole is far from it, and it states nothing of the nearby topics. The borrowed rubric's
    /// off-topic guard misses this, as it also measures the answer against another question's key points.
    pub fn off_question(&self) -> bool {
        self.evidence > 0.0
            && self.on_question == 0.0
            && self.answer_to_question < OFF_QUESTION
            && self.pool_best < OFF_POOL
    }

    /// The 0–100 score the fitted model gives, before the guards' caps.
    pub fn score(&self) -> f32 {
        let m = model();
        let x = self.inputs(m.gate);
        m.weights
            .iter()
            .zip(x)
            .map(|(w, x)| w * x)
            .sum::<f32>()
            .clamp(0.0, 100.0)
    }
}

/// Appends the items `list` does not hold yet.
fn add_new(list: &mut Vec<String>, items: Vec<String>) {
    for item in items {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

/// Rewrites an evaluation made against another question's rubric with the score from `f`: the
/// dimensions are kept in proportion, and what that rubric alone could say is dropped.
pub fn apply(e: &mut Evaluation, a: &Analysis, f: &FreeFeatures) {
    // The guards that need no rubric cap it as they cap a graded answer (their flags are already in `e`,
    // from grading against the borrowed rubric), and talk beside the question is off topic here too.
    let mut guarded = guards::rubric_free(a, None);
    if f.off_question() {
        guarded.off_topic();
    }
    add_new(&mut e.red_flags, guarded.red_flags);
    // What a cap says was missing ("only restated the question"), which grading against the borrowed rubric
    // may not have said: its coverage of another question's points can be high for an echo of this one.
    add_new(&mut e.what_was_missing, guarded.missing);
    let score = f.score().min(guarded.cap);
    let total = weighted_score(&e.scores);
    e.scores = if total > 0.0 {
        Scores::from_array(e.scores.as_array().map(|d| (d * score / total).clamp(0.0, 10.0)))
    } else {
        Scores::from_array([score / 10.0; 5])
    };
    e.score = score.round().clamp(0.0, 100.0) as u8;
    e.red_flags.retain(|r| !r.starts_with("Stated a misconception"));
    e.what_was_missing
        .retain(|w| !w.starts_with("Much of the answer drifted away"));
    if score >= 50.0 && !f.terms.is_empty() {
        e.what_went_well.push(format!(
            "Stayed on the question with specifics ({}).",
            f.terms.join(", ")
        ));
    }
    if f.hedges >= 3.0 {
        e.what_was_missing.push(format!(
            "Hedged {} times; state what you know plainly.",
            f.hedges as usize
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_names_its_inputs_in_order() {
        let m = model();
        assert_eq!(m.features, INPUTS.map(String::from).to_vec());
        assert_eq!(m.weights.len(), INPUTS.len());
        assert!(m.gate[0] < m.gate[1]);
    }

    #[test]
    fn a_specific_answer_on_the_question_beats_a_vague_one() {
        let vague = FreeFeatures {
            words: 60.0,
            content_words: 30.0,
            on_question: 1.0,
            mean_to_question: 0.3,
            answer_to_question: 0.4,
            topic_agreement: 0.3,
            rare: 5.0,
            rare_share: 0.2,
            hedges: 3.0,
            relevance: 0.45,
            pool_best: 0.45,
            ..Default::default()
        };
        let specific = FreeFeatures {
            words: 150.0,
            content_words: 80.0,
            on_question: 5.0,
            mean_to_question: 0.38,
            answer_to_question: 0.55,
            topic_agreement: 0.4,
            evidence: 6.0,
            rare: 30.0,
            rare_share: 0.4,
            reasoning: 3.0,
            relevance: 0.6,
            pool_best: 0.58,
            pool_points: 2.0,
            ..Default::default()
        };
        assert!(
            specific.score() > vague.score() + 20.0,
            "{} vs {}",
            specific.score(),
            vague.score()
        );
        assert!(!specific.off_question() && !vague.off_question());
        let elsewhere = FreeFeatures {
            on_question: 0.0,
            answer_to_question: 0.2,
            pool_best: 0.35,
            ..specific.clone()
        };
        assert!(elsewhere.off_question());
        let beside = FreeFeatures {
            answer_to_question: 0.15,
            topic_agreement: 0.05,
            ..specific.clone()
        };
        assert!(beside.score() < specific.score() - 20.0, "{}", beside.score());
    }
}
