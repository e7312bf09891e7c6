//! A MiniLM/BERT encoder forward pass on the CPU (f32, safetensors weights, mean pooling).

use memmap2::Mmap;
use safetensors::{Dtype, SafeTensors};

const EPS: f32 = 1e-12;

/// The model's shape, read from `config.json`.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub struct BertConfig {
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub vocab_size: usize,
}

struct Linear {
    /// `[out, in]`, row-major, as PyTorch stores it.
    weight: Vec<f32>,
    bias: Vec<f32>,
    inp: usize,
    out: usize,
}

struct LayerNorm {
    weight: Vec<f32>,
    bias: Vec<f32>,
}

struct Layer {
    qkv: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    ffn_in: Linear,
    ffn_out: Linear,
    ffn_norm: LayerNorm,
}

pub struct Bert {
    cfg: BertConfig,
    mmap: Mmap,
    word_offset: usize,
    position: Vec<f32>,
    token_type: Vec<f32>,
    emb_norm: LayerNorm,
    layers: Vec<Layer>,
}

impl Bert {
    pub fn load(cfg: BertConfig, weights: &std::path::Path) -> Result<Self, String> {
        let file = std::fs::File::open(weights).map_err(|e| format!("cannot open {}: {e}", weights.display()))?;
        // SAFETY: the model file is opened read-only and not modified while mapped.
        let mmap = unsafe { Mmap::map(&file) }.map_err(|e| format!("cannot map weights: {e}"))?;
        let st = SafeTensors::deserialize(&mmap).map_err(|e| format!("bad safetensors: {e}"))?;
        let get = |name: &str, len: usize| -> Result<Vec<f32>, String> {
            let t = st.tensor(name).map_err(|_| format!("weights lack tensor {name}"))?;
            if t.dtype() != Dtype::F32 || t.shape().iter().product::<usize>() != len {
                return Err(format!("tensor {name} has shape {:?} {:?}", t.dtype(), t.shape()));
            }
            Ok(t.data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect())
        };
        let h = cfg.hidden_size;
        let norm = |p: &str| -> Result<LayerNorm, String> {
            Ok(LayerNorm {
                weight: get(&format!("{p}.weight"), h)?,
                bias: get(&format!("{p}.bias"), h)?,
            })
        };
        let linear = |p: &str, inp: usize, out: usize| -> Result<Linear, String> {
            Ok(Linear {
                weight: get(&format!("{p}.weight"), inp * out)?,
                bias: get(&format!("{p}.bias"), out)?,
                inp,
                out,
            })
        };
        let mut layers = Vec::with_capacity(cfg.num_hidden_layers);
        for i in 0..cfg.num_hidden_layers {
            let p = format!("encoder.layer.{i}");
            let (q, k, v) = (
                linear(&format!("{p}.attention.self.query"), h, h)?,
                linear(&format!("{p}.attention.self.key"), h, h)?,
                linear(&format!("{p}.attention.self.value"), h, h)?,
            );
            // One fused projection: three matmuls become one larger, faster one.
            let qkv = Linear {
                weight: [q.weight, k.weight, v.weight].concat(),
                bias: [q.bias, k.bias, v.bias].concat(),
                inp: h,
                out: 3 * h,
            };
            layers.push(Layer {
                qkv,
                attn_out: linear(&format!("{p}.attention.output.dense"), h, h)?,
                attn_norm: norm(&format!("{p}.attention.output.LayerNorm"))?,
                ffn_in: linear(&format!("{p}.intermediate.dense"), h, cfg.intermediate_size)?,
                ffn_out: linear(&format!("{p}.output.dense"), cfg.intermediate_size, h)?,
                ffn_norm: norm(&format!("{p}.output.LayerNorm"))?,
            });
        }
        let word = st
            .tensor("embeddings.word_embeddings.weight")
            .map_err(|_| "weights lack word embeddings".to_string())?;
        if word.dtype() != Dtype::F32 || word.shape() != [cfg.vocab_size, h] {
            return Err(format!("word embeddings have shape {:?}", word.shape()));
        }
        let word_offset = word.data().as_ptr() as usize - mmap.as_ptr() as usize;
        let position = get("embeddings.position_embeddings.weight", cfg.max_position_embeddings * h)?;
        let token_type = get("embeddings.token_type_embeddings.weight", 2 * h)?;
        let emb_norm = norm("embeddings.LayerNorm")?;
        Ok(Self {
            cfg,
            word_offset,
            position,
            token_type,
            emb_norm,
            layers,
            mmap,
        })
    }

    /// Mean-pooled, L2-normalized embeddings of each id sequence. Sequences are packed
    /// end to end (no padding): dense layers run once over all tokens, attention per sequence.
    pub fn embed(&self, seqs: &[Vec<u32>]) -> Vec<Vec<f32>> {
        let (x, spans) = self.hidden(seqs);
        spans.iter().map(|&span| self.pool(&x, span)).collect()
    }

    /// [`Self::embed`] and, from the same forward pass, each sequence's last hidden states: one row per
    /// token for which `keep(position, id)` holds, each L2-normalized (`hidden_size` floats a row).
    pub fn embed_with_tokens(
        &self,
        seqs: &[Vec<u32>],
        keep: impl Fn(usize, u32) -> bool,
    ) -> Vec<(Vec<f32>, Vec<u32>, Vec<f32>)> {
        let h = self.cfg.hidden_size;
        let (x, spans) = self.hidden(seqs);
        seqs.iter()
            .zip(&spans)
            .map(|(seq, &(start, len))| {
                let mut ids = Vec::new();
                let mut rows = Vec::new();
                for (pos, &id) in seq.iter().take(len).enumerate() {
                    if !keep(pos, id) {
                        continue;
                    }
                    let row = &x[(start + pos) * h..(start + pos + 1) * h];
                    let norm = row.iter().map(|a| a * a).sum::<f32>().sqrt().max(1e-12);
                    ids.push(id);
                    rows.extend(row.iter().map(|a| a / norm));
                }
                (self.pool(&x, (start, len)), ids, rows)
            })
            .collect()
    }

    fn pool(&self, x: &[f32], (start, len): (usize, usize)) -> Vec<f32> {
        let h = self.cfg.hidden_size;
        let mut v = vec![0f32; h];
        for t in start..start + len {
            for (d, acc) in v.iter_mut().enumerate() {
                *acc += x[t * h + d];
            }
        }
        let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt().max(1e-12);
        v.iter_mut().for_each(|a| *a /= norm);
        v
    }

    /// The last layer's hidden states of the packed sequences, with each sequence's (start, length).
    fn hidden(&self, seqs: &[Vec<u32>]) -> (Vec<f32>, Vec<(usize, usize)>) {
        let h = self.cfg.hidden_size;
        let spans: Vec<(usize, usize)> = seqs
            .iter()
            .scan(0, |at, s| {
                let len = s.len().min(self.cfg.max_position_embeddings);
                let span = (*at, len);
                *at += len;
                Some(span)
            })
            .collect();
        let total: usize = spans.iter().map(|s| s.1).sum();
        let mut x = vec![0f32; total * h];
        for (seq, &(start, len)) in seqs.iter().zip(&spans) {
            for (pos, &id) in seq.iter().take(len).enumerate() {
                let row = &mut x[(start + pos) * h..(start + pos + 1) * h];
                let id = (id as usize).min(self.cfg.vocab_size - 1);
                let bytes = &self.mmap[self.word_offset + id * h * 4..self.word_offset + (id + 1) * h * 4];
                for (d, v) in row.iter_mut().enumerate() {
                    let b = &bytes[d * 4..d * 4 + 4];
                    *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]) + self.position[pos * h + d] + self.token_type[d];
                }
            }
        }
        layer_norm(&mut x, &self.emb_norm, h);
        for layer in &self.layers {
            self.layer_forward(layer, &mut x, &spans);
        }
        (x, spans)
    }

    fn layer_forward(&self, l: &Layer, x: &mut [f32], spans: &[(usize, usize)]) {
        let h = self.cfg.hidden_size;
        let heads = self.cfg.num_attention_heads;
        let dh = h / heads;
        let t = x.len() / h;
        let qkv = linear(&l.qkv, x, t);
        let mut ctx = vec![0f32; t * h];
        let scale = 1.0 / (dh as f32).sqrt();
        let mut scores = Vec::new();
        for &(start, len) in spans {
            scores.resize(len * len, 0.0);
            for head in 0..heads {
                let q = &qkv[start * 3 * h + head * dh..];
                let k = &qkv[start * 3 * h + h + head * dh..];
                let v = &qkv[start * 3 * h + 2 * h + head * dh..];
                // scores = q · kᵀ (len × len), reading the heads in place through strides.
                unsafe {
                    matrixmultiply::sgemm(
                        len,
                        dh,
                        len,
                        scale,
                        q.as_ptr(),
                        (3 * h) as isize,
                        1,
                        k.as_ptr(),
                        1,
                        (3 * h) as isize,
                        0.0,
                        scores.as_mut_ptr(),
                        len as isize,
                        1,
                    );
                }
                for row in scores.chunks_exact_mut(len) {
                    softmax(row);
                }
                let out = &mut ctx[start * h + head * dh..];
                unsafe {
                    matrixmultiply::sgemm(
                        len,
                        len,
                        dh,
                        1.0,
                        scores.as_ptr(),
                        len as isize,
                        1,
                        v.as_ptr(),
                        (3 * h) as isize,
                        1,
                        0.0,
                        out.as_mut_ptr(),
                        h as isize,
                        1,
                    );
                }
            }
        }
        let attn = linear(&l.attn_out, &ctx, t);
        x.iter_mut().zip(&attn).for_each(|(a, b)| *a += b);
        layer_norm(x, &l.attn_norm, h);
        let mut inner = linear(&l.ffn_in, x, t);
        inner.iter_mut().for_each(|v| *v = gelu(*v));
        let out = linear(&l.ffn_out, &inner, t);
        x.iter_mut().zip(&out).for_each(|(a, b)| *a += b);
        layer_norm(x, &l.ffn_norm, h);
    }
}

/// `x · Wᵀ + b` for `rows` rows.
fn linear(l: &Linear, x: &[f32], rows: usize) -> Vec<f32> {
    let mut y: Vec<f32> = Vec::with_capacity(rows * l.out);
    for _ in 0..rows {
        y.extend_from_slice(&l.bias);
    }
    // SAFETY: all pointers cover the full extents given by the dimensions and strides.
    unsafe {
        matrixmultiply::sgemm(
            rows,
            l.inp,
            l.out,
            1.0,
            x.as_ptr(),
            l.inp as isize,
            1,
            l.weight.as_ptr(),
            1,
            l.inp as isize,
            1.0,
            y.as_mut_ptr(),
            l.out as isize,
            1,
        );
    }
    y
}

fn layer_norm(x: &mut [f32], n: &LayerNorm, h: usize) {
    for row in x.chunks_exact_mut(h) {
        let mean = row.iter().sum::<f32>() / h as f32;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / h as f32;
        let inv = 1.0 / (var + EPS).sqrt();
        for (d, v) in row.iter_mut().enumerate() {
            *v = (*v - mean) * inv * n.weight[d] + n.bias[d];
        }
    }
}

fn softmax(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    row.iter_mut().for_each(|v| *v /= sum);
}

/// The exact (erf) GELU BERT uses.
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x / std::f32::consts::SQRT_2))
}

/// Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7), plenty for f32 activations.
fn erf(x: f32) -> f32 {
    let sign = x.signum();
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let y = 1.0
        - (((((1.061_405_4 * t - 1.453_152_1) * t) + 1.421_413_8) * t - 0.284_496_74) * t + 0.254_829_6)
            * t
            * (-x * x).exp();
    sign * y
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_reference_values() {
        for (x, want) in [(0.0, 0.0), (0.5, 0.520_499_9), (1.0, 0.842_700_8), (-2.0, -0.995_322_3)] {
            assert!((erf(x) - want).abs() < 1e-6, "erf({x})");
        }
    }

    #[test]
    fn softmax_sums_to_one_and_survives_large_inputs() {
        let mut row = [1000.0, 1001.0, 999.0];
        softmax(&mut row);
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(row[1] > row[0] && row[0] > row[2]);
    }
}
