//! The offline rubric grader: compares what an answer says with a question's rubric by meaning
//! (sentence embeddings), and reads how it is said (reasoning, experience, fillers, hedges).
//! Guards against the answers that fool naive graders: keyword lists, echoes, off-topic talk,
//! instructions to the grader, "I don't know", and padding.

pub mod contrast;
pub mod delivery;
pub mod free;
pub mod guards;
mod index;
pub mod signals;

use std::path::Path;
use std::sync::Arc;

use crate::bank::{Bank, Question};
use crate::embed::{Embedder, Tokens, cosine};
use crate::interview::{Evaluation, GradeConfidence, GradeRequest, Scores, TurnKind};
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
    /// A chunk that restates the question is still evidence when it is this close to a key point (chosen by
    /// 6-fold CV grouped by question on the tuning part, against never keeping it and against 0.45 with at
    /// most half its content words taken from the question).
    pub const ECHO_KEEP_KP: f32 = 0.45;
    /// A chunk this close to a misconception, and this much closer to it than to any key point, states it.
    pub const MISCONCEPTION: f32 = 0.62;
    pub const MISCONCEPTION_GAP: f32 = 0.20;
    /// A chunk about the rubric, for measuring how much of an answer is on point.
    pub const ON_POINT: f32 = 0.40;
    pub const SIGNAL: f32 = 0.55;
    /// Sentences at least this close to a contrast claim are checked for stating it.
    pub const CONTRAST_CANDIDATE: f32 = 0.40;
    /// Weight of a keyword-list chunk's evidence.
    pub const SALAD_WEIGHT: f32 = 0.25;
    /// An "I don't know" is a pass only in an answer with fewer content words than this; in a longer one it
    /// hedges a detail ("I don't remember the exact syntax"). Passes in the tuning part have at most 13.
    pub const IDK_MAX_CONTENT: usize = 25;
    /// Fewest words a sentence needs to state a claim (a wrong version of a key point) at all.
    pub const MIN_CLAIM_WORDS: usize = 3;
}

pub struct RubricGrader {
    embedder: Embedder,
    index: BankIndex,
    bank: Arc<Bank>,
    /// Contextual token vectors of rubric texts (key points, contrast claims) by index row, computed when a
    /// sentence first comes close to one of them.
    rubric_tokens: std::sync::Mutex<std::collections::HashMap<usize, Arc<Tokens>>>,
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
    /// The chunk's embedding (for grading without a rubric).
    #[serde(skip)]
    pub vector: Vec<f32>,
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
    /// Sentences that may state a contrast claim, with their measurements.
    pub candidates: Vec<contrast::Candidate>,
}

impl Analysis {
    /// Sentences that state a contrast claim (a wrong version of a key point), at most one per key point.
    pub fn contradictions(&self, rule: &contrast::Rule) -> Vec<Contradiction> {
        let mut stated: Vec<&contrast::Candidate> = self.candidates.iter().filter(|c| rule.states(c)).collect();
        stated.sort_by(|a, b| (b.sim - b.rival_sim).total_cmp(&(a.sim - a.rival_sim)));
        let mut out: Vec<Contradiction> = Vec::new();
        for c in stated {
            if out.iter().all(|x| x.key_point != c.key_point) {
                out.push(Contradiction {
                    key_point: c.key_point,
                    contrast: c.contrast,
                    sentence: self.chunks.get(c.chunk).map(|m| m.text.clone()).unwrap_or_default(),
                });
            }
        }
        out
    }
}

/// An answer sentence that states a wrong version of a key point.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Contradiction {
    pub key_point: usize,
    pub contrast: usize,
    pub sentence: String,
}

/// Settings learned from the tuning part by scripts/train-grader.py (grouped cross-validation).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Learned {
    pub contrast_rule: contrast::Rule,
    /// Technical points taken off per contradicted key point (at most two count).
    pub contradiction_penalty: f32,
    /// Score caps with one, and with two or more, contradicted key points.
    pub contradiction_cap: [f32; 2],
    /// Maps the grader's measurements to a score; without it the hand-set formula's score stands.
    #[serde(default)]
    pub combiner: Option<Combiner>,
}

pub fn learned() -> &'static Learned {
    static LEARNED: std::sync::OnceLock<Learned> = std::sync::OnceLock::new();
    LEARNED.get_or_init(|| {
        serde_json::from_str(include_str!("learned.json"))
            .expect("src/grade/learned.json is valid (a unit test checks it)")
    })
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
        Ok(Self {
            embedder,
            index,
            bank,
            rubric_tokens: Default::default(),
        })
    }

    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    /// The bank question closest in meaning to `text` (optionally within a skill), with its similarity.
    pub fn nearest_question(&self, text: &str, skill: Option<&str>) -> Option<(Arc<Question>, f32)> {
        self.nearest_question_except(text, skill, None)
    }

    /// [`Self::nearest_question`] leaving out the bank question `except` (to measure grading without its rubric).
    pub fn nearest_question_except(
        &self,
        text: &str,
        skill: Option<&str>,
        except: Option<&str>,
    ) -> Option<(Arc<Question>, f32)> {
        self.nearest_to(&self.embedder.embed_one(text), skill, except)
    }

    /// The bank question nearest to an embedded question `v` (see [`Self::nearest_question_except`]).
    fn nearest_to(&self, v: &[f32], skill: Option<&str>, except: Option<&str>) -> Option<(Arc<Question>, f32)> {
        self.bank
            .questions
            .iter()
            .zip(&self.index.rows)
            .filter(|(q, _)| skill.is_none_or(|s| q.skill == s) && except.is_none_or(|e| q.id != e))
            .map(|(q, r)| (Arc::clone(q), cosine(v, self.index.vector(r.question))))
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// Contextual token vectors of the rubric texts `(row, text)`, from the cache or computed in one batch.
    fn rubric_tokens(&self, wanted: &[(usize, &str)]) -> std::collections::HashMap<usize, Arc<Tokens>> {
        let mut cache = self.rubric_tokens.lock().unwrap_or_else(|e| e.into_inner());
        let mut missing: Vec<(usize, &str)> = wanted.iter().filter(|(r, _)| !cache.contains_key(r)).copied().collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            let texts: Vec<&str> = missing.iter().map(|(_, t)| *t).collect();
            let (_, toks) = self.embedder.embed_with_tokens(&texts);
            for ((r, _), t) in missing.iter().zip(toks) {
                cache.insert(*r, Arc::new(t));
            }
        }
        wanted.iter().map(|(r, _)| (*r, Arc::clone(&cache[r]))).collect()
    }

    /// Fills in each contrast candidate's contextual token alignment with its contrast claim, its key point
    /// and the key point closest to its sentence ([`contrast::TokenAlign`]). A measurement for
    /// scripts/contrast-token-features.py: the grade does not use it (it did not help out of fold), so
    /// [`Self::analyse`] leaves it out and grading pays nothing for it.
    pub fn align_tokens(&self, req: &GradeRequest, a: &mut Analysis) {
        let q = &req.question;
        let Some(rows) = self.rows(q) else {
            return;
        };
        if a.candidates.is_empty() {
            return;
        }
        let texts: Vec<&str> = a.chunks.iter().map(|c| c.text.as_str()).collect();
        let (_, chunk_tokens) = self.embedder.embed_with_tokens(&texts);
        let rival = |ci: usize| {
            let kp = &a.chunks[ci].key_points;
            (0..kp.len()).max_by(|&x, &y| kp[x].total_cmp(&kp[y])).unwrap_or(0)
        };
        let mut wanted: Vec<(usize, &str)> = Vec::new();
        for c in &a.candidates {
            wanted.push((
                rows.contrasts[c.key_point][c.contrast],
                &q.key_points[c.key_point].contrasts[c.contrast],
            ));
            for k in [c.key_point, rival(c.chunk)] {
                wanted.push((rows.key_points[k].0, &q.key_points[k].text));
            }
        }
        let toks = self.rubric_tokens(&wanted);
        let aligned: Vec<contrast::TokenAlign> = a
            .candidates
            .iter()
            .map(|c| {
                contrast::align(
                    &chunk_tokens[c.chunk],
                    &toks[&rows.contrasts[c.key_point][c.contrast]],
                    &toks[&rows.key_points[c.key_point].0],
                    &toks[&rows.key_points[rival(c.chunk)].0],
                )
            })
            .collect();
        for (c, t) in a.candidates.iter_mut().zip(aligned) {
            c.tokens = t;
        }
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
        self.grade_free_except(question, answer, skill, None)
    }

    /// [`Self::grade_free`] as if the bank did not hold question `except`: how answers to a bank question
    /// are graded without their own rubric (the evaluation's stand-in for questions outside the bank).
    pub fn grade_free_except(
        &self,
        question: &str,
        answer: &str,
        skill: Option<&str>,
        except: Option<&str>,
    ) -> (Evaluation, Arc<Question>, f32) {
        // The question is embedded once: for the nearest topic, the answer's closeness to it and the pool.
        let qv = self.embedder.embed_one(question);
        let (q, sim) = self
            .nearest_to(&qv, skill, except)
            .or_else(|| self.nearest_to(&qv, None, except))
            .expect("the bank is never empty");
        let req = GradeRequest::outside_interview(Arc::clone(&q), question, answer);
        if req.answer.is_empty() {
            return (Evaluation::no_answer("No answer was given."), q, sim);
        }
        (self.evaluate(&req, Some(sim), except, Some(&qv)), q, sim)
    }

    /// Grades an answer against bank question `q`'s rubric though it was asked as `question` (`grade --rubric`:
    /// the user says it is that question in other words), with the asked wording's similarity to the bank's.
    /// Reworded, the grade says which rubric it rests on; far from it (< `NAME_RUBRIC`), that the two look
    /// unrelated.
    pub fn grade_with_rubric(&self, q: &Arc<Question>, question: &str, answer: &str) -> (Evaluation, f32) {
        let rows = self.rows(q);
        let qv = self.embedder.embed_one(question);
        let sim = match rows {
            _ if question == q.text => 1.0,
            Some(r) => cosine(&qv, self.index.vector(r.question)),
            None => cosine(&qv, &self.embedder.embed_one(&q.text)),
        };
        let req = GradeRequest::outside_interview(Arc::clone(q), question, answer);
        if req.answer.is_empty() {
            return (Evaluation::no_answer("No answer was given."), sim);
        }
        let mut e = self.evaluate(&req, None, None, Some(&qv));
        if sim < SAME_QUESTION {
            let mut why = format!("graded against the rubric chosen ({}), asked in other words", q.id);
            if sim < NAME_RUBRIC {
                why.push_str(&format!(
                    "; the question and that rubric look unrelated (topic match {sim:.2}): lower confidence"
                ));
            }
            lead_confidence_with(&mut e, why);
        }
        (e, sim)
    }

    /// Measures an answer against the rubric. `topic_match` < 1 when the question is not the bank's own.
    pub fn analyse(&self, req: &GradeRequest, topic_match: Option<f32>) -> Analysis {
        self.analyse_with(req, topic_match, None)
    }

    /// [`Self::analyse`] with the prompt already embedded when it is not the bank's own wording.
    fn analyse_with(&self, req: &GradeRequest, topic_match: Option<f32>, prompt_vec: Option<&[f32]>) -> Analysis {
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
            None => prompt_vec.map_or_else(|| self.embedder.embed_one(&req.prompt), <[f32]>::to_vec),
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
        let mut candidates = Vec::new();
        let points: Vec<contrast::Claim> = q.key_points.iter().map(|k| contrast::Claim::new(&k.text)).collect();
        let vocab: Vec<contrast::Claim> = points
            .iter()
            .zip(&q.key_points)
            .map(|(p, k)| p.widened(k.phrasings.iter().map(String::as_str)))
            .collect();
        let topic: Vec<contrast::Claim> = vocab
            .iter()
            .map(|v| v.widened(std::iter::once(q.text.as_str())))
            .collect();
        let claims: Vec<contrast::Claim> = chunks.iter().map(|c| contrast::Claim::from_words(&c.words)).collect();
        let wrong: Vec<Vec<contrast::Claim>> = q
            .key_points
            .iter()
            .map(|k| k.contrasts.iter().map(|c| contrast::Claim::new(c)).collect())
            .collect();
        for (ci, (c, v)) in chunks.iter().zip(&vecs).enumerate() {
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
            // ... unless it also states a key point better than chance: answers often open by putting a point in
            // the question's own words ("the grain is the level of detail of the table"), and a wrong version
            // of a point is often worded like the question too, so such a sentence is evidence either way.
            let states_point = best_kp >= tune::ECHO_KEEP_KP;
            let echo =
                to_prompt >= tune::ECHO || (restates && !states_point) || (overlap >= 0.8 && content.len() <= 14);
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
                vector: v.clone(),
            });
            if echo {
                echo_chunks += 1;
                continue;
            }
            evidence += 1;
            // Contrast claims belong to their own question: they only count when its rubric applies.
            let own_rubric = topic_match.is_none_or(|m| m >= CLOSE_RUBRIC);
            // A claim needs a subject and what is said of it: a fragment ("Recursive CTE.") states nothing wrong.
            let claims_something = c.words.len() >= tune::MIN_CLAIM_WORDS;
            if own_rubric && claims_something && !c.salad && !contrast::refutes(&c.text.to_lowercase()) {
                let answer = &claims[ci];
                let mut context = answer.clone();
                for n in [ci.wrapping_sub(1), ci + 1] {
                    if let Some(near) = claims.get(n) {
                        context = context.joined(near);
                    }
                }
                let rival = (0..kp_sims.len())
                    .max_by(|&a, &b| kp_sims[a].total_cmp(&kp_sims[b]))
                    .unwrap_or(0);
                for (k, rows_k) in rows.contrasts.iter().enumerate() {
                    for (j, r) in rows_k.iter().enumerate() {
                        let sim = cosine(v, self.index.vector(*r));
                        if sim < tune::CONTRAST_CANDIDATE {
                            continue;
                        }
                        let claim = &wrong[k][j];
                        let (mut toward, mut against) = (i32::MAX, 0);
                        let (mut toward_vocab, mut against_vocab, mut against_context) = (i32::MAX, 0, 0);
                        let mut toward_topic = i32::MAX;
                        for p in [k, rival] {
                            let l = contrast::lean(answer, &points[p], claim);
                            toward = toward.min(l.toward_contrast as i32 - l.toward_point as i32);
                            against = against.max(l.toward_point);
                            let l = contrast::lean(answer, &vocab[p], claim);
                            toward_vocab = toward_vocab.min(l.toward_contrast as i32 - l.toward_point as i32);
                            against_vocab = against_vocab.max(l.toward_point);
                            against_context =
                                against_context.max(contrast::lean(&context, &vocab[p], claim).toward_point);
                            let l = contrast::lean(answer, &topic[p], claim);
                            toward_topic = toward_topic.min(l.toward_contrast as i32 - l.toward_point as i32);
                        }
                        candidates.push(contrast::Candidate {
                            chunk: ci,
                            key_point: k,
                            contrast: j,
                            sim,
                            rival_sim: best_kp,
                            overlap: contrast::overlap(answer, claim),
                            toward,
                            against,
                            toward_vocab,
                            against_vocab,
                            against_context,
                            toward_topic,
                            tokens: contrast::TokenAlign::default(),
                        });
                    }
                }
            }
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
            let trust = ramp(m, NAME_RUBRIC, CLOSE_RUBRIC);
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
        let idk = signals::is_idk(&lower) && content_words < tune::IDK_MAX_CONTENT;
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
            candidates,
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

    fn evaluate(
        &self,
        req: &GradeRequest,
        topic_match: Option<f32>,
        except: Option<&str>,
        prompt_vec: Option<&[f32]>,
    ) -> Evaluation {
        let a = self.analyse_with(req, topic_match, prompt_vec);
        let mut e = evaluation_from(&a, &req.question, req.kind);
        if topic_match.is_some_and(|m| m < CLOSE_RUBRIC) {
            // No rubric fits: the score comes from what can be judged without one.
            let f = match prompt_vec {
                Some(qv) => self.free_features_with(qv, &req.answer, &a, except),
                None => self.free_features(&req.prompt, &req.answer, &a, except),
            };
            free::apply(&mut e, &a, &f);
        }
        if let Some(m) = topic_match.filter(|m| *m < SAME_QUESTION) {
            lead_confidence_with(&mut e, rubric_note(m, &req.question.id));
            // The coverage is of another question's key points.
            e.key_points.clear();
            if m < CLOSE_RUBRIC {
                // Another question's key points are not what this answer missed or covered.
                e.what_went_well.retain(|w| !w.starts_with("Covered: "));
                e.what_was_missing.retain(|w| !w.starts_with("Not covered: "));
                e.seniority_signals.clear();
            }
        }
        e
    }
}

impl Grader for RubricGrader {
    fn grade(&self, req: &GradeRequest) -> Evaluation {
        if self.rows(&req.question).is_none() {
            // A question from elsewhere (an LLM, an edited bank): grade it against its nearest topic.
            return self.grade_free(&req.prompt, &req.answer, Some(&req.question.skill)).0;
        }
        self.evaluate(req, None, None, None)
    }
}

/// A key point covered this fully (0–1) is "Covered" in the feedback; below [`MISSED_BELOW`] it is
/// "Not covered"; in between, touched on.
pub const COVERED_FROM: f32 = 0.6;
pub const MISSED_BELOW: f32 = 0.35;

/// Topic similarity from which the nearest bank question's rubric counts in full for another question.
pub const CLOSE_RUBRIC: f32 = 0.8;
/// Topic similarity from which a question could be the nearest bank question asked in other words (a reworded
/// bank question can have a topic match as low as 0.5); the grader starts to borrow a rubric's coverage here.
pub const NAME_RUBRIC: f32 = 0.45;
/// Topic similarity at which a question is the bank's own, worded the same or nearly.
const SAME_QUESTION: f32 = 0.97;

/// Puts `why` first among the reasons for an evaluation's grade confidence (what the grade rests on).
fn lead_confidence_with(e: &mut Evaluation, why: String) {
    let mut reasons = e.grade_confidence.take().map(|c| c.reasons).unwrap_or_default();
    reasons.insert(0, why);
    e.grade_confidence = Some(GradeConfidence::from_reasons(reasons));
}

/// What a grade of a question from outside the bank rests on.
fn rubric_note(topic_match: f32, nearest: &str) -> String {
    if topic_match >= CLOSE_RUBRIC {
        format!("graded against the closest bank question's rubric ({nearest})")
    } else {
        "graded without a rubric: lower confidence".to_string()
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

/// The first `max` characters of `s`, with an ellipsis when cut.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.trim().to_string()
    } else {
        format!("{}…", s.chars().take(max).collect::<String>().trim_end())
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        // Keep acronyms and identifiers ("SQL", "ROW_NUMBER") as written.
        Some(f) if c.clone().next().is_some_and(char::is_lowercase) => f.to_lowercase().chain(c).collect(),
        _ => s.to_string(),
    }
}

fn ramp(x: f32, lo: f32, hi: f32) -> f32 {
    ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
}

/// The five dimension scores and what the feedback needs from computing them.
#[derive(Debug, Clone, Copy)]
struct Dimensions {
    scores: [f32; 5],
    cov: f32,
    rambling: bool,
    practical_raw: f32,
    filler_rate: f32,
}

/// The five 0–10 dimensions by the hand-set formulas, with `technical_off` points taken off technical.
fn dimensions(a: &Analysis, q: &Question, kind: TurnKind, technical_off: f32) -> Dimensions {
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
    technical -= technical_off;
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
    Dimensions {
        scores: [technical, depth, practical, clarity, confidence],
        cov,
        rambling,
        practical_raw,
        filler_rate,
    }
}

/// Names of the combiner's inputs, in order (learned.json lists them too, and must agree).
pub const FEATURES: [&str; 16] = [
    "bias",
    "heuristic",
    "coverage",
    "strong_points",
    "reasoning",
    "signals",
    "experience",
    "log_words",
    "density",
    "hedge_rate",
    "misconceptions",
    "relevance",
    "novelty",
    "contradictions",
    "contrast_gap",
    "misconception_sim",
];

/// The combiner's inputs: the hand-set score (0–1) and the measurements behind it.
pub fn features(a: &Analysis, q: &Question, heuristic: f32, contradictions: usize, rule: &contrast::Rule) -> [f32; 16] {
    let w: Vec<f32> = q.key_points.iter().map(|k| f32::from(k.weight)).collect();
    let total: f32 = w.iter().sum::<f32>().max(1.0);
    let cov = w.iter().zip(&a.coverage).map(|(w, c)| w * c).sum::<f32>() / total;
    let strong = a.coverage.iter().filter(|c| **c >= 0.6).count() as f32 / a.coverage.len().max(1) as f32;
    let words = a.words.max(1) as f32;
    // How much closer than any key point the answer came to a contrast it words like the contrast.
    let contrast_gap = a
        .candidates
        .iter()
        .filter(|c| rule.worded(c))
        .map(|c| c.sim - c.rival_sim)
        .fold(-1.0f32, f32::max);
    [
        1.0,
        heuristic / 100.0,
        cov,
        strong,
        (a.reasoning as f32 / 3.0).min(1.0),
        (a.signals.len() as f32 / 2.0).min(1.0),
        (a.experience as f32 / 3.0).min(1.0),
        words.ln() / 5.0,
        a.density,
        100.0 * a.hedges as f32 / words,
        a.misconceptions.len().min(2) as f32,
        a.relevance,
        a.novelty,
        contradictions.min(2) as f32,
        (contrast_gap + 0.1).max(0.0),
        a.mis_best.0,
    ]
}

/// A linear map from [`features`] to a 0–100 score, fit to expert grades.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Combiner {
    pub features: Vec<String>,
    pub weights: Vec<f32>,
}

impl Combiner {
    pub fn apply(&self, x: &[f32]) -> f32 {
        self.weights.iter().zip(x).map(|(w, x)| w * x).sum()
    }
}

/// The hand-set formula's score before any cap, and the guards' cap, ignoring contradictions (for training).
pub fn plain_parts(a: &Analysis, q: &Question, kind: TurnKind) -> (f32, f32) {
    let d = dimensions(a, q, kind, 0.0);
    (
        weighted_score(&Scores::from_array(d.scores)),
        guards::with_rubric(a, q, d.cov, d.rambling).cap,
    )
}

/// Turns measurements into the five scores, the overall score and the written feedback.
pub fn evaluation_from(a: &Analysis, q: &Question, kind: TurnKind) -> Evaluation {
    evaluation_with(a, q, kind, learned())
}

/// [`evaluation_from`] with given learned settings (the training script compares settings).
pub fn evaluation_with(a: &Analysis, q: &Question, kind: TurnKind, learned: &Learned) -> Evaluation {
    let contradictions = a.contradictions(&learned.contrast_rule);
    let n_wrong = contradictions.len().min(2);
    let plain = dimensions(a, q, kind, 0.0);
    let shown = dimensions(a, q, kind, learned.contradiction_penalty * n_wrong as f32);
    let Dimensions {
        rambling,
        practical_raw,
        filler_rate,
        ..
    } = shown;
    let technical = shown.scores[0];
    let mut scores = Scores::from_array(shown.scores);
    let mut score = match &learned.combiner {
        Some(c) => {
            let heuristic = weighted_score(&Scores::from_array(plain.scores));
            let combined = c
                .apply(&features(a, q, heuristic, n_wrong, &learned.contrast_rule))
                .clamp(0.0, 100.0);
            // Keep the dimensions in proportion with the combined score.
            let total = weighted_score(&scores);
            if total > 0.0 {
                let factor = combined / total;
                scores = Scores::from_array(scores.as_array().map(|d| (d * factor).clamp(0.0, 10.0)));
            }
            combined
        }
        None => weighted_score(&scores),
    };
    // Feedback treats a contradicted key point as not covered.
    let mut coverage = a.coverage.clone();
    for c in &contradictions {
        coverage[c.key_point] = 0.0;
    }

    let guards::Guarded {
        mut cap,
        mut red_flags,
        mut missing,
    } = guards::with_rubric(a, q, shown.cov, rambling);
    for c in &contradictions {
        let kp = &q.key_points[c.key_point];
        red_flags.push(format!(
            "Stated a wrong version of a key point: \"{}\" reads as \"{}\", but {}",
            clip(&c.sentence, 160),
            kp.contrasts[c.contrast],
            lower_first(&kp.text)
        ));
    }
    match contradictions.len() {
        0 => {}
        1 => cap = cap.min(learned.contradiction_cap[0]),
        _ => cap = cap.min(learned.contradiction_cap[1]),
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
        (f32::from(q.key_points[y].weight) * coverage[y]).total_cmp(&(f32::from(q.key_points[x].weight) * coverage[x]))
    });
    if cap >= 25.0 {
        for &k in order.iter().filter(|&&k| coverage[k] >= COVERED_FROM).take(3) {
            went_well.push(format!("Covered: {}", q.key_points[k].text));
        }
        if a.experience >= 2 && practical_raw >= 6.0 {
            went_well.push("Grounded the answer in hands-on experience.".to_string());
        }
        if a.reasoning >= 3 && technical >= 5.0 {
            went_well.push("Explained the reasons and trade-offs, not just the facts.".to_string());
        }
    }
    for &k in order.iter().rev().filter(|&&k| coverage[k] < MISSED_BELOW).take(3) {
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
        grade_confidence: Some(GradeConfidence::from_reasons(if contradictions.is_empty() {
            Vec::new()
        } else {
            vec!["a wrong claim was recognised by its wording; check the flagged sentence".to_string()]
        })),
        key_points: coverage.iter().map(|c| c.clamp(0.0, 1.0)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learned_settings_parse_and_name_the_features_in_order() {
        let l = learned();
        assert!(l.contrast_rule.min_sim > 0.0 && l.contradiction_cap[0] <= 100.0);
        if let Some(c) = &l.combiner {
            assert_eq!(c.features, FEATURES.map(String::from).to_vec());
            assert_eq!(c.weights.len(), FEATURES.len());
        }
    }

    #[test]
    fn lower_first_keeps_acronyms() {
        assert_eq!(lower_first("HAVING filters groups"), "HAVING filters groups");
        assert_eq!(lower_first("Merge keeps both histories"), "merge keeps both histories");
    }
}
