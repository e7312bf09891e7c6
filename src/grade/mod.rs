//! The offline rubric grader: compares what an answer says with a question's rubric by meaning
//! (sentence embeddings), and reads how it is said (reasoning, experience, fillers, hedges).
//! Guards against the answers that fool naive graders: keyword lists, echoes, off-topic talk,
//! instructions to the grader, "I don't know", and padding.

pub mod delivery;
mod index;
pub mod signals;

use std::path::Path;
use std::sync::Arc;

use crate::bank::{Bank, Question};
use crate::embed::{Embedder, cosine};
use crate::interview::{Evaluation, GradeRequest, Scores, TurnKind};
pub use index::BankIndex;
use signals::Chunk;

pub const GRADER_ID: &str = "offline-rubric/1";

/// Anything that can grade an answer: the offline rubric grader here, an LLM elsewhere.
pub trait Grader {
    fn grade(&self, request: &GradeRequest) -> Evaluation;
    /// Whether grading may take long enough (a network call) that the room should show it is thinking.
    fn may_be_slow(&self) -> bool {
        false
    }
}

/// Tunable constants of the grader, kept together so the dev-set results can be traced to them.
mod tune {
    /// Cosine similarity at which a chunk starts / fully shows a key point.
    pub const KP_LO: f32 = 0.37;
    pub const KP_HI: f32 = 0.72;
    /// The same for a short phrasing of a key point.
    pub const PH_LO: f32 = 0.45;
    pub const PH_HI: f32 = 0.78;
    /// Below this relevance to the question and rubric, an answer is off topic.
    pub const OFF_TOPIC: f32 = 0.30;
    /// A chunk this close to the question is an echo of it.
    pub const ECHO: f32 = 0.86;
    /// A chunk this close to a misconception, and this much closer to it than to any key point, states it.
    pub const MISCONCEPTION: f32 = 0.62;
    pub const MISCONCEPTION_GAP: f32 = 0.20;
    /// A chunk about the rubric, for measuring how much of an answer is on point.
    pub const ON_POINT: f32 = 0.40;
    pub const SIGNAL: f32 = 0.55;
    /// Weight of a keyword-list chunk's evidence.
    pub const SALAD_WEIGHT: f32 = 0.25;
}

pub struct RubricGrader {
    embedder: Embedder,
    index: BankIndex,
    bank: Arc<Bank>,
}

/// How one chunk of an answer compares with each text of the rubric (cosine similarities).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ChunkMatch {
    pub text: String,
    /// Restates the question (not counted as evidence).
    pub echo: bool,
    pub salad: bool,
    pub to_prompt: f32,
    pub key_points: Vec<f32>,
    /// Per key point, its closest phrasing.
    pub phrasings: Vec<f32>,
    /// Per key point, each of its contrast claims.
    pub contrasts: Vec<Vec<f32>>,
    pub misconceptions: Vec<f32>,
}

/// How one answer measured up, before it becomes an [`Evaluation`].
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Analysis {
    pub coverage: Vec<f32>,
    pub relevance: f32,
    pub words: usize,
    pub off_topic: bool,
    pub echo_only: bool,
    pub idk: bool,
    pub injection: bool,
    pub salad_share: f32,
    pub misconceptions: Vec<usize>,
    pub signals: Vec<usize>,
    pub reasoning: usize,
    pub experience: usize,
    pub hedges: usize,
    pub fillers: usize,
    pub density: f32,
    /// Closest any chunk came to a misconception, and by how much it beat that chunk's best key point.
    pub mis_best: (f32, f32),
    /// Share of the answer's content words that the question did not already say.
    pub novelty: f32,
    pub content_words: usize,
    pub chunks: Vec<ChunkMatch>,
}

impl RubricGrader {
    /// Loads the embedding model and the bank's cached embeddings (building them on first use).
    pub fn load(
        bank: Arc<Bank>,
        model_dir: &Path,
        cache_dir: &Path,
        progress: &mut dyn FnMut(usize, usize),
    ) -> anyhow::Result<Self> {
        let embedder = Embedder::load(model_dir)?;
        let index = BankIndex::load_or_build(&bank, &embedder, cache_dir, progress)
            .map_err(|e| anyhow::anyhow!("cannot write the embedding cache in {}: {e}", cache_dir.display()))?;
        Ok(Self { embedder, index, bank })
    }

    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    /// The bank question closest in meaning to `text` (optionally within a skill), with its similarity.
    pub fn nearest_question(&self, text: &str, skill: Option<&str>) -> Option<(Arc<Question>, f32)> {
        let v = self.embedder.embed_one(text);
        self.bank
            .questions
            .iter()
            .zip(&self.index.rows)
            .filter(|(q, _)| skill.is_none_or(|s| q.skill == s))
            .map(|(q, r)| (Arc::clone(q), cosine(&v, self.index.vector(r.question))))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    fn rows(&self, q: &Question) -> Option<&index::QuestionRows> {
        self.bank
            .questions
            .iter()
            .position(|b| b.id == q.id)
            .map(|i| &self.index.rows[i])
    }

    /// Grades an answer to any question: the nearest bank topic supplies the rubric, and the
    /// answer's relevance to the question as asked decides how much that rubric counts.
    pub fn grade_free(&self, question: &str, answer: &str, skill: Option<&str>) -> (Evaluation, Arc<Question>, f32) {
        let (q, sim) = self
            .nearest_question(question, skill)
            .or_else(|| self.nearest_question(question, None))
            .expect("the bank is never empty");
        let clean = crate::text::clean(answer, crate::text::MAX_ANSWER_CHARS).text;
        if clean.is_empty() {
            return (Evaluation::no_answer("No answer was given."), q, sim);
        }
        let req = GradeRequest {
            question: Arc::clone(&q),
            kind: TurnKind::Main,
            prompt: question.to_string(),
            answer: clean,
            role: String::new(),
            speech: None,
        };
        (self.evaluate(&req, Some(sim)), q, sim)
    }

    /// Measures an answer against the rubric. `topic_match` < 1 when the question is not the bank's own.
    pub fn analyse(&self, req: &GradeRequest, topic_match: Option<f32>) -> Analysis {
        let q = &req.question;
        let Some(rows) = self.rows(q) else {
            return Analysis::default();
        };
        let lower = req.answer.to_lowercase();
        let mut chunks: Vec<Chunk> = signals::chunks(&req.answer);
        let all_words: usize = chunks.iter().map(|c| c.words.len()).sum();
        let fillers = signals::filler_count(&req.answer);
        let injection = chunks.iter().any(|c| c.injection);
        // Instructions to the grader are not evidence of anything.
        chunks.retain(|c| !c.injection && signals::content_words(&c.words).len() >= 2);
        let prompt_vec = match self.prompt_row(req, rows) {
            Some(row) => self.index.vector(row).to_vec(),
            None => self.embedder.embed_one(&req.prompt),
        };
        let question_vec = self.index.vector(rows.question);
        let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
        let vecs = self.embedder.embed(&texts);
        let prompt_words: Vec<String> = signals::words(&format!("{} {}", req.prompt, q.text));
        let prompt_content: std::collections::HashSet<&str> = signals::content_words(&prompt_words)
            .into_iter()
            .map(signals::stem)
            .collect();

        // Stories show the rubric's points indirectly, so their sentences sit further from its wording.
        let story = req.kind == TurnKind::Example || signals::asks_for_story(&req.prompt) || q.skill == "org-impact";
        let (kp_lo, kp_hi, on_point, off_topic) = if story {
            (
                tune::KP_LO - 0.08,
                tune::KP_HI - 0.08,
                tune::ON_POINT - 0.08,
                tune::OFF_TOPIC - 0.06,
            )
        } else {
            (tune::KP_LO, tune::KP_HI, tune::ON_POINT, tune::OFF_TOPIC)
        };
        let mut coverage = vec![0f32; q.key_points.len()];
        let mut relevance: f32 = 0.0;
        let mut relevant_words = 0usize;
        let mut salad_words = 0usize;
        let mut echo_chunks = 0usize;
        let mut misconceptions = Vec::new();
        let mut signals_hit = Vec::new();
        let mut evidence = 0usize;
        let mut mis_best = (0f32, 0f32);
        let mut matches = Vec::with_capacity(chunks.len());
        for (c, v) in chunks.iter().zip(&vecs) {
            let to_prompt = cosine(v, &prompt_vec).max(cosine(v, question_vec));
            let content = signals::content_words(&c.words);
            let overlap = content
                .iter()
                .filter(|w| prompt_content.contains(signals::stem(w)))
                .count() as f32
                / content.len().max(1) as f32;
            let kp_sims: Vec<f32> = rows
                .key_points
                .iter()
                .map(|(r, _)| cosine(v, self.index.vector(*r)))
                .collect();
            let best_kp = kp_sims.iter().copied().fold(0.0, f32::max);
            // Restating the question: as close to it as to anything the rubric asks for.
            let restates = to_prompt >= 0.6 && to_prompt >= best_kp;
            let echo = to_prompt >= tune::ECHO || restates || (overlap >= 0.8 && content.len() <= 14);
            let sim = |r: &usize| cosine(v, self.index.vector(*r));
            matches.push(ChunkMatch {
                text: c.text.clone(),
                echo,
                salad: c.salad,
                to_prompt,
                key_points: kp_sims.clone(),
                phrasings: rows
                    .key_points
                    .iter()
                    .map(|(_, ph)| ph.iter().map(sim).fold(0.0, f32::max))
                    .collect(),
                contrasts: rows.contrasts.iter().map(|cs| cs.iter().map(sim).collect()).collect(),
                misconceptions: rows.misconceptions.iter().map(sim).collect(),
            });
            if echo {
                echo_chunks += 1;
                continue;
            }
            evidence += 1;
            let rel = to_prompt.max(best_kp);
            relevance = relevance.max(rel);
            let weight = if c.salad { tune::SALAD_WEIGHT } else { 1.0 };
            if c.salad {
                salad_words += c.words.len();
            }
            if best_kp >= on_point {
                relevant_words += c.words.len();
            }
            for (k, (_, phrasings)) in rows.key_points.iter().enumerate() {
                let by_statement = ramp(kp_sims[k], kp_lo, kp_hi);
                let by_phrasing = phrasings
                    .iter()
                    .map(|r| ramp(cosine(v, self.index.vector(*r)), tune::PH_LO, tune::PH_HI))
                    .fold(0.0, f32::max);
                let shown = by_statement.max(0.9 * by_phrasing) * weight;
                coverage[k] = coverage[k].max(shown);
            }
            let negated = signals::negated(&c.words);
            let contrast = signals::contrastive(&c.text.to_lowercase());
            for (m, r) in rows.misconceptions.iter().enumerate() {
                let sim = cosine(v, self.index.vector(*r));
                if sim > mis_best.0 {
                    mis_best = (sim, sim - best_kp);
                }
                let m_negated = signals::negated(&signals::words(&q.misconceptions[m]));
                let states = (sim >= tune::MISCONCEPTION && sim - best_kp >= tune::MISCONCEPTION_GAP) || sim >= 0.9;
                let refuting = contrast && !signals::contrastive(&q.misconceptions[m].to_lowercase());
                if states && negated == m_negated && !refuting && !misconceptions.contains(&m) {
                    misconceptions.push(m);
                }
            }
            for (s, r) in rows.signals.iter().enumerate() {
                if cosine(v, self.index.vector(*r)) >= tune::SIGNAL && !c.salad && !signals_hit.contains(&s) {
                    signals_hit.push(s);
                }
            }
        }
        if let Some(m) = topic_match {
            // A question the bank does not hold: its nearest rubric counts as far as the topics agree.
            let trust = ramp(m, 0.45, 0.8);
            let own = ramp(relevance, 0.35, 0.7);
            for c in coverage.iter_mut() {
                *c = trust * *c + (1.0 - trust) * own * 0.8;
            }
        }
        let content_words: usize = chunks.iter().map(|c| signals::content_words(&c.words).len()).sum();
        let novel: usize = chunks
            .iter()
            .map(|c| {
                signals::content_words(&c.words)
                    .iter()
                    .filter(|w| !prompt_content.contains(signals::stem(w)))
                    .count()
            })
            .sum();
        let novelty = novel as f32 / content_words.max(1) as f32;
        let idk = signals::is_idk(&lower) && content_words < 40;
        Analysis {
            coverage,
            relevance,
            words: all_words,
            off_topic: evidence > 0 && relevance < off_topic,
            echo_only: evidence == 0 && echo_chunks > 0,
            idk,
            injection,
            salad_share: salad_words as f32 / all_words.max(1) as f32,
            misconceptions,
            signals: signals_hit,
            reasoning: signals::reasoning_count(&lower),
            experience: signals::experience_count(&lower),
            hedges: signals::hedge_count(&lower),
            fillers,
            density: relevant_words as f32 / all_words.max(1) as f32,
            mis_best,
            novelty,
            content_words,
            chunks: matches,
        }
    }

    fn prompt_row(&self, req: &GradeRequest, rows: &index::QuestionRows) -> Option<usize> {
        let q = &req.question;
        match req.kind {
            _ if req.prompt == q.text => Some(rows.question),
            TurnKind::Deeper if req.prompt == q.follow_ups.deeper => Some(rows.follow_ups[0]),
            TurnKind::Example if req.prompt == q.follow_ups.example => Some(rows.follow_ups[1]),
            TurnKind::Harder if req.prompt == q.follow_ups.harder => Some(rows.follow_ups[2]),
            _ => None,
        }
    }

    fn evaluate(&self, req: &GradeRequest, topic_match: Option<f32>) -> Evaluation {
        let a = self.analyse(req, topic_match);
        evaluation_from(&a, &req.question, req.kind)
    }
}

impl Grader for RubricGrader {
    fn grade(&self, req: &GradeRequest) -> Evaluation {
        if self.rows(&req.question).is_none() {
            // A question from elsewhere (an LLM, an edited bank): grade it against its nearest topic.
            return self.grade_free(&req.prompt, &req.answer, Some(&req.question.skill)).0;
        }
        self.evaluate(req, None)
    }
}

/// Linear 0→1 between `lo` and `hi`.
/// How much each dimension counts in an answer's 0–100 score (every grader uses these).
pub const DIMENSION_WEIGHTS: [f32; 5] = [0.45, 0.25, 0.10, 0.10, 0.10];

/// An answer's 0–100 score from its five 0–10 dimension scores.
pub fn weighted_score(scores: &Scores) -> f32 {
    scores
        .as_array()
        .iter()
        .zip(DIMENSION_WEIGHTS)
        .map(|(s, w)| s * w)
        .sum::<f32>()
        * 10.0
}

fn ramp(x: f32, lo: f32, hi: f32) -> f32 {
    ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
}

/// Turns measurements into the five scores, the overall score and the written feedback.
pub fn evaluation_from(a: &Analysis, q: &Question, kind: TurnKind) -> Evaluation {
    let total_w: f32 = q.key_points.iter().map(|k| f32::from(k.weight)).sum();
    let cov: f32 = q
        .key_points
        .iter()
        .zip(&a.coverage)
        .map(|(k, c)| f32::from(k.weight) * c)
        .sum::<f32>()
        / total_w.max(1.0);
    let strong_points = a.coverage.iter().filter(|c| **c >= 0.6).count() as f32;
    let n_kp = q.key_points.len() as f32;
    // Follow-ups probe one facet, so less of the rubric is needed for full marks.
    let full_at = if kind == TurnKind::Main { 0.6 } else { 0.45 };
    let mut technical = 10.0 * (cov / full_at).min(1.0).powf(0.85);
    technical -= 4.0 * a.misconceptions.len().min(2) as f32;
    let technical = technical.clamp(0.0, 10.0);

    let reasoning = (a.reasoning as f32 / 3.0).min(1.0);
    let signal = (a.signals.len() as f32 / 2.0).min(1.0);
    let depth = (10.0 * (0.6 * (strong_points / (0.5 * n_kp)).min(1.0) + 0.25 * reasoning + 0.15 * signal))
        .min(technical + 2.0)
        - 2.0 * a.misconceptions.len().min(2) as f32;

    let practical_raw = 10.0 * (a.experience as f32 / 3.0).min(1.0);
    let practical =
        practical_raw.min(technical + if kind == TurnKind::Example { 5.0 } else { 3.0 }) * a.density.max(0.2);

    let filler_rate = 100.0 * a.fillers as f32 / a.words.max(1) as f32;
    let mut clarity = 10.0 * (0.55 * a.density + 0.45 * (1.0 - a.salad_share));
    clarity -= (filler_rate / 4.0).min(3.0);
    // Long and mostly off the rubric, or long and hedging all the way: what interviewers call rambling.
    let hedge_rate = 100.0 * a.hedges as f32 / a.words.max(1) as f32;
    let rambling = a.words > 150 && (a.density < 0.45 || hedge_rate >= 1.8);
    if rambling {
        clarity -= 2.0;
    }
    if a.words < 12 {
        clarity -= 3.0;
    }
    let clarity = clarity.min(technical + 4.0);

    let confidence = (9.0 - 1.2 * a.hedges as f32 - (filler_rate / 5.0).min(3.0)).min(technical + 4.0);

    let mut scores = Scores::from_array([technical, depth, practical, clarity, confidence]);
    let mut score = weighted_score(&scores);

    let mut red_flags = Vec::new();
    let mut missing = Vec::new();
    let mut cap = 100.0f32;
    if a.injection {
        red_flags.push("Tried to instruct the grader instead of answering the question.".to_string());
        cap = cap.min(12.0);
    }
    if a.content_words == 0 && !a.injection {
        missing.push("The answer had no content, only filler words.".to_string());
        cap = cap.min(3.0);
    } else if !a.idk && (a.echo_only || (a.content_words >= 4 && a.novelty < 0.35 && cov < 0.5)) {
        missing.push("The answer only restated the question.".to_string());
        cap = cap.min(8.0);
    }
    if a.off_topic {
        red_flags.push("The answer was about something other than the question.".to_string());
        cap = cap.min(5.0);
    }
    if a.idk && cov < 0.5 {
        missing.push("Said they did not know; a reasoned guess shows more than a pass.".to_string());
        cap = cap.min(8.0);
    }
    if rambling {
        cap = cap.min(25.0);
    }
    if a.salad_share > 0.5 {
        red_flags.push("Listed terms without explaining how they work or connect.".to_string());
        cap = cap.min(15.0);
    }
    for &m in &a.misconceptions {
        red_flags.push(format!("Stated a misconception: \"{}\"", q.misconceptions[m]));
    }
    match a.misconceptions.len() {
        0 => {}
        1 => cap = cap.min(40.0),
        _ => cap = cap.min(25.0),
    }
    if cap < 100.0 {
        score = score.min(cap);
        // Keep the dimensions consistent with the capped total.
        let factor = (cap / 100.0 * 10.0 / technical.max(cap / 10.0)).min(1.0);
        let mut arr = scores.as_array();
        arr[0] = arr[0].min(cap / 10.0);
        arr[1] *= factor;
        arr[2] *= factor;
        scores = Scores::from_array(arr);
    }

    let mut went_well = Vec::new();
    let mut order: Vec<usize> = (0..q.key_points.len()).collect();
    order.sort_by(|&x, &y| {
        (f32::from(q.key_points[y].weight) * a.coverage[y])
            .total_cmp(&(f32::from(q.key_points[x].weight) * a.coverage[x]))
    });
    if cap >= 25.0 {
        for &k in order.iter().filter(|&&k| a.coverage[k] >= 0.6).take(3) {
            went_well.push(format!("Covered: {}", q.key_points[k].text));
        }
        if a.experience >= 2 && practical_raw >= 6.0 {
            went_well.push("Grounded the answer in hands-on experience.".to_string());
        }
        if a.reasoning >= 3 && technical >= 5.0 {
            went_well.push("Explained the reasons and trade-offs, not just the facts.".to_string());
        }
    }
    for &k in order.iter().rev().filter(|&&k| a.coverage[k] < 0.35).take(3) {
        missing.push(format!("Not covered: {}", q.key_points[k].text));
    }
    if rambling {
        missing.push("Much of the answer drifted away from the question; lead with the point.".to_string());
    }
    if filler_rate > 6.0 {
        missing.push(format!(
            "{} filler words in {} words; pausing silently reads as more confident.",
            a.fillers, a.words
        ));
    }
    let seniority_signals = if cap >= 25.0 {
        a.signals.iter().map(|&s| q.seniority_signals[s].clone()).collect()
    } else {
        Vec::new()
    };
    Evaluation {
        scores,
        score: score.round().clamp(0.0, 100.0) as u8,
        what_went_well: went_well,
        what_was_missing: missing,
        red_flags,
        seniority_signals,
        grader: GRADER_ID.to_string(),
        offline: None,
        fallback: None,
    }
}
