//! Sentence embeddings with all-MiniLM-L6-v2: text in, unit vectors out, for grading by meaning.

mod bert;
mod tokenizer;

use std::path::{Path, PathBuf};

use bert::Bert;
pub use bert::BertConfig;
use tokenizer::WordPiece;

/// sentence-transformers' max_seq_length for this model.
const MAX_TOKENS: usize = 256;
pub const DIM: usize = 384;

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error(
        "the sentence-embedding model is not installed (looked in {0}).\n  Install it with: scripts/setup-models.sh"
    )]
    Missing(PathBuf),
    #[error(
        "the sentence-embedding model in {dir} is unusable: {why}.\n  Reinstall it with: scripts/setup-models.sh --force"
    )]
    Broken { dir: PathBuf, why: String },
}

pub struct Embedder {
    tokenizer: WordPiece,
    model: Bert,
}

impl Embedder {
    /// Loads `config.json`, `vocab.txt` and `model.safetensors` from `dir`.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let weights = dir.join("model.safetensors");
        if !weights.exists() {
            return Err(EmbedError::Missing(dir.to_path_buf()));
        }
        let broken = |why: String| EmbedError::Broken {
            dir: dir.to_path_buf(),
            why,
        };
        let cfg: BertConfig = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| broken(format!("config.json: {e}")))
            .and_then(|s| serde_json::from_str(&s).map_err(|e| broken(format!("config.json: {e}"))))?;
        if cfg.hidden_size != DIM {
            return Err(broken(format!("hidden size {} is not {DIM}", cfg.hidden_size)));
        }
        let vocab = std::fs::read_to_string(dir.join("vocab.txt")).map_err(|e| broken(format!("vocab.txt: {e}")))?;
        let tokenizer = WordPiece::from_vocab(&vocab).map_err(broken)?;
        let model = Bert::load(cfg, &weights).map_err(broken)?;
        Ok(Self { tokenizer, model })
    }

    /// Unit-length embeddings, one per text, computed in batches of packed sequences.
    pub fn embed(&self, texts: &[&str]) -> Vec<Vec<f32>> {
        let ids: Vec<Vec<u32>> = texts.iter().map(|t| self.tokenizer.encode(t, MAX_TOKENS)).collect();
        let mut out = Vec::with_capacity(texts.len());
        let mut batch = Vec::new();
        let mut tokens = 0;
        for seq in ids {
            tokens += seq.len();
            batch.push(seq);
            if tokens >= 2048 {
                out.extend(self.model.embed(&batch));
                batch.clear();
                tokens = 0;
            }
        }
        if !batch.is_empty() {
            out.extend(self.model.embed(&batch));
        }
        out
    }

    /// [`Self::embed`] and, from the same forward pass, each text's contextual token vectors ([`Tokens`]).
    pub fn embed_with_tokens(&self, texts: &[&str]) -> (Vec<Vec<f32>>, Vec<Tokens>) {
        let ids: Vec<Vec<u32>> = texts.iter().map(|t| self.tokenizer.encode(t, MAX_TOKENS)).collect();
        let keep = |_: usize, id: u32| self.tokenizer.is_wordy(id);
        let mut vecs = Vec::with_capacity(texts.len());
        let mut toks = Vec::with_capacity(texts.len());
        let mut run = |batch: &[Vec<u32>]| {
            for (v, ids, rows) in self.model.embed_with_tokens(batch, keep) {
                vecs.push(v);
                toks.push(Tokens { ids, vecs: rows });
            }
        };
        let mut start = 0;
        let mut tokens = 0;
        for (i, seq) in ids.iter().enumerate() {
            tokens += seq.len();
            if tokens >= 2048 {
                run(&ids[start..=i]);
                start = i + 1;
                tokens = 0;
            }
        }
        if start < ids.len() {
            run(&ids[start..]);
        }
        (vecs, toks)
    }

    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        self.embed(&[text]).pop().unwrap_or_else(|| vec![0.0; DIM])
    }

    pub fn token_count(&self, text: &str) -> usize {
        self.tokenizer.encode(text, usize::MAX).len()
    }
}

/// A text's contextual token vectors: the model's last hidden state for each word piece ([CLS], [SEP] and
/// punctuation left out), L2-normalized, before mean pooling mixes them into one sentence vector.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    pub ids: Vec<u32>,
    /// `ids.len()` rows of [`DIM`] floats.
    pub vecs: Vec<f32>,
}

impl Tokens {
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.vecs[i * DIM..(i + 1) * DIM]
    }
}

/// Cosine similarity of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
