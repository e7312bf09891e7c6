//! Embeddings of every bank text the grader compares answers with, computed once per bank version
//! and cached on disk (a few seconds to build, milliseconds to load).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::bank::{Bank, Question};
use crate::embed::{DIM, Embedder};

const MAGIC: &[u8; 8] = b"DRIDX02\n";

/// Where each question's texts sit in the embedding table.
#[derive(Debug, Clone)]
pub struct QuestionRows {
    pub question: usize,
    pub follow_ups: [usize; 3],
    /// Per key point: its statement's row, then its phrasings' rows.
    pub key_points: Vec<(usize, Vec<usize>)>,
    /// Per key point: its contrast claims' rows.
    pub contrasts: Vec<Vec<usize>>,
    pub misconceptions: Vec<usize>,
    pub signals: Vec<usize>,
}

pub struct BankIndex {
    vectors: Vec<f32>,
    pub rows: Vec<QuestionRows>,
}

/// The texts to embed, in a fixed order derived from the bank.
fn layout(bank: &Bank) -> (Vec<&str>, Vec<QuestionRows>) {
    let mut texts: Vec<&str> = Vec::new();
    let mut rows = Vec::with_capacity(bank.questions.len());
    for q in &bank.questions {
        let q: &Question = q;
        let question = texts.len();
        texts.push(&q.text);
        let follow_ups = [question + 1, question + 2, question + 3];
        texts.extend([
            q.follow_ups.deeper.as_str(),
            q.follow_ups.example.as_str(),
            q.follow_ups.harder.as_str(),
        ]);
        let mut key_points = Vec::new();
        let mut contrasts = Vec::new();
        for kp in &q.key_points {
            let at = texts.len();
            texts.push(&kp.text);
            texts.extend(kp.phrasings.iter().map(String::as_str));
            key_points.push((at, (at + 1..texts.len()).collect()));
            let at = texts.len();
            texts.extend(kp.contrasts.iter().map(String::as_str));
            contrasts.push((at..texts.len()).collect());
        }
        let at = texts.len();
        texts.extend(q.misconceptions.iter().map(String::as_str));
        let misconceptions = (at..texts.len()).collect();
        let at = texts.len();
        texts.extend(q.seniority_signals.iter().map(String::as_str));
        let signals = (at..texts.len()).collect();
        rows.push(QuestionRows {
            question,
            follow_ups,
            key_points,
            contrasts,
            misconceptions,
            signals,
        });
    }
    (texts, rows)
}

impl BankIndex {
    pub fn cache_path(cache_dir: &Path, bank: &Bank) -> PathBuf {
        cache_dir.join(format!("bank-{}-minilm.idx", bank.digest))
    }

    /// Loads the cached index for this bank, or builds and caches it (`progress(done, total)` while building).
    pub fn load_or_build(
        bank: &Bank,
        embedder: &Embedder,
        cache_dir: &Path,
        progress: &mut dyn FnMut(usize, usize),
    ) -> std::io::Result<Self> {
        let (texts, rows) = layout(bank);
        let path = Self::cache_path(cache_dir, bank);
        if let Ok(bytes) = std::fs::read(&path) {
            let want = MAGIC.len() + texts.len() * DIM * 4;
            if bytes.len() == want && &bytes[..MAGIC.len()] == MAGIC {
                let vectors = bytes[MAGIC.len()..]
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                return Ok(Self { vectors, rows });
            }
        }
        let mut vectors = Vec::with_capacity(texts.len() * DIM);
        for (i, part) in texts.chunks(256).enumerate() {
            progress(i * 256, texts.len());
            for v in embedder.embed(part) {
                vectors.extend(v);
            }
        }
        progress(texts.len(), texts.len());
        std::fs::create_dir_all(cache_dir)?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(MAGIC)?;
            let bytes: Vec<u8> = vectors.iter().flat_map(|v: &f32| v.to_le_bytes()).collect();
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        Ok(Self { vectors, rows })
    }

    pub fn vector(&self, row: usize) -> &[f32] {
        &self.vectors[row * DIM..(row + 1) * DIM]
    }
}
