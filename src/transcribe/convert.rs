//! CTranslate2 Whisper models (faster-whisper's format) → the ggml file whisper.cpp loads, in the
//! layout of whisper.cpp's `convert-pt-to-ggml.py`: hparams, mel filters, vocabulary, tensors.

use std::collections::HashMap;
use std::io::Write;

#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error("not a CTranslate2 model file: {0}")]
    Format(String),
    #[error("the CTranslate2 model lacks tensor {0}")]
    Missing(String),
    #[error("tensor {name} has an unexpected shape {shape:?}")]
    Shape { name: String, shape: Vec<usize> },
    #[error("could not write the model: {0}")]
    Io(#[from] std::io::Error),
}

/// How the large matrices are stored in the ggml file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Weights {
    /// As shipped (fp16).
    F16,
    /// 8-bit blocks (ggml q8_0): about half the size and faster on CPU, accuracy unchanged in our tests.
    Q8_0,
}

const GGML_F32: i32 = 0;
const GGML_F16: i32 = 1;
const GGML_Q8_0: i32 = 8;
const QK8_0: usize = 32;

/// One CT2 variable: shape, CT2 dtype id, raw little-endian bytes.
struct Var<'a> {
    shape: Vec<usize>,
    dtype: u8,
    data: &'a [u8],
}

const CT2_F32: u8 = 0;
const CT2_INT16: u8 = 2;
const CT2_F16: u8 = 4;

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ConvertError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| ConvertError::Format(format!("truncated at byte {}", self.at)))?;
        let s = &self.buf[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, ConvertError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, ConvertError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap_or_default()))
    }
    fn u32(&mut self) -> Result<u32, ConvertError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap_or_default()))
    }
    fn string(&mut self) -> Result<String, ConvertError> {
        let n = self.u16()? as usize;
        let b = self.take(n)?;
        let b = b.strip_suffix(&[0]).unwrap_or(b);
        String::from_utf8(b.to_vec()).map_err(|_| ConvertError::Format("a name is not UTF-8".into()))
    }
}

fn parse_ct2(buf: &[u8]) -> Result<HashMap<String, Var<'_>>, ConvertError> {
    let mut r = Reader { buf, at: 0 };
    let version = r.u32()?;
    if !(5..=6).contains(&version) {
        return Err(ConvertError::Format(format!("binary version {version}")));
    }
    let spec = r.string()?;
    if spec != "WhisperSpec" {
        return Err(ConvertError::Format(format!("spec {spec:?}, expected WhisperSpec")));
    }
    let _revision = r.u32()?;
    let n = r.u32()? as usize;
    let mut vars = HashMap::with_capacity(n);
    for _ in 0..n {
        let name = r.string()?;
        let rank = r.u8()? as usize;
        let mut shape = Vec::with_capacity(rank);
        for _ in 0..rank {
            shape.push(r.u32()? as usize);
        }
        let dtype = r.u8()?;
        let bytes = r.u32()? as usize;
        let data = r.take(bytes)?;
        vars.insert(name, Var { shape, dtype, data });
    }
    Ok(vars)
}

/// IEEE half → single.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let frac = u32::from(h & 0x3ff);
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: normalize.
            let mut e = 127 - 15 + 1;
            let mut f = frac;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            sign | (e << 23) | ((f & 0x3ff) << 13)
        }
        (0x1f, _) => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

/// Single → IEEE half, round to nearest even (values here are small, finite scales).
pub fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32;
    let mut mant = bits & 0x7f_ffff;
    if exp == 0xff {
        return sign | 0x7c00 | if mant != 0 { 0x200 } else { 0 };
    }
    let e = exp - 127 + 15;
    if e >= 0x1f {
        return sign | 0x7c00;
    }
    if e <= 0 {
        if e < -10 {
            return sign;
        }
        mant |= 0x80_0000;
        let shift = (14 - e) as u32;
        let half = 1 << (shift - 1);
        let rest = mant & ((1 << shift) - 1);
        let mut m = (mant >> shift) as u16;
        if rest > half || (rest == half && m & 1 == 1) {
            m += 1;
        }
        return sign | m;
    }
    let rest = mant & 0x1fff;
    let mut out = sign | ((e as u16) << 10) | (mant >> 13) as u16;
    if rest > 0x1000 || (rest == 0x1000 && out & 1 == 1) {
        out += 1;
    }
    out
}

impl Var<'_> {
    fn to_f32(&self, name: &str) -> Result<Vec<f32>, ConvertError> {
        match self.dtype {
            CT2_F16 => Ok(self
                .data
                .chunks_exact(2)
                .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
                .collect()),
            CT2_F32 => Ok(self
                .data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()),
            d => Err(ConvertError::Format(format!(
                "{name} has dtype {d}; only fp16/fp32 models convert"
            ))),
        }
    }

    fn to_f16(&self, name: &str) -> Result<Vec<u16>, ConvertError> {
        match self.dtype {
            CT2_F16 => Ok(self
                .data
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect()),
            _ => Ok(self.to_f32(name)?.into_iter().map(f32_to_f16).collect()),
        }
    }

    fn scalar_int(&self) -> Option<usize> {
        match self.dtype {
            CT2_INT16 if self.data.len() >= 2 => Some(i16::from_le_bytes([self.data[0], self.data[1]]) as usize),
            3 if self.data.len() >= 4 => Some(i32::from_le_bytes(self.data[..4].try_into().ok()?) as usize),
            _ => None,
        }
    }
}

/// A tensor for the ggml file: numpy-order shape and f32 values (split/reshaped as needed).
struct Tensor {
    name: String,
    shape: Vec<usize>,
    values: Vec<u16>,
}

/// Model dimensions, as whisper.cpp's hparams.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Dims {
    pub n_vocab: usize,
    pub n_audio_ctx: usize,
    pub n_audio_state: usize,
    pub n_audio_head: usize,
    pub n_audio_layer: usize,
    pub n_text_ctx: usize,
    pub n_text_state: usize,
    pub n_text_head: usize,
    pub n_text_layer: usize,
    pub n_mels: usize,
}

fn shape_of<'a>(vars: &'a HashMap<String, Var<'_>>, name: &str) -> Result<&'a [usize], ConvertError> {
    vars.get(name)
        .map(|v| v.shape.as_slice())
        .ok_or_else(|| ConvertError::Missing(name.into()))
}

fn dims(vars: &HashMap<String, Var<'_>>) -> Result<Dims, ConvertError> {
    let layers = |prefix: &str| {
        (0..)
            .take_while(|i| vars.contains_key(&format!("{prefix}/layer_{i}/ffn/linear_0/weight")))
            .count()
    };
    let emb = shape_of(vars, "decoder/embeddings/weight")?;
    let enc_pos = shape_of(vars, "encoder/position_encodings/encodings")?;
    let dec_pos = shape_of(vars, "decoder/position_encodings/encodings")?;
    let conv1 = shape_of(vars, "encoder/conv1/weight")?;
    let heads = |name: &str, state: usize| vars.get(name).and_then(Var::scalar_int).unwrap_or(state / 64);
    if emb.len() != 2 || enc_pos.len() != 2 || dec_pos.len() != 2 || conv1.len() != 3 {
        return Err(ConvertError::Format(
            "unexpected embedding or convolution shapes".into(),
        ));
    }
    Ok(Dims {
        n_vocab: emb[0],
        n_audio_ctx: enc_pos[0],
        n_audio_state: enc_pos[1],
        n_audio_head: heads("encoder/num_heads", enc_pos[1]),
        n_audio_layer: layers("encoder"),
        n_text_ctx: dec_pos[0],
        n_text_state: emb[1],
        n_text_head: heads("decoder/num_heads", emb[1]),
        n_text_layer: layers("decoder"),
        n_mels: conv1[1],
    })
}

/// Copies one CT2 variable into the output under a whisper.cpp name.
type Copier<'c> = dyn FnMut(&mut Vec<Tensor>, &str, &str) -> Result<(), ConvertError> + 'c;

/// Collects the whisper.cpp tensors from the CT2 variables (fused projections split into q/k/v).
fn tensors(vars: &HashMap<String, Var<'_>>, d: &Dims) -> Result<Vec<Tensor>, ConvertError> {
    let get = |n: &str| vars.get(n).ok_or_else(|| ConvertError::Missing(n.into()));
    let mut out = Vec::new();
    let mut copy = |out: &mut Vec<Tensor>, from: &str, to: &str| -> Result<(), ConvertError> {
        let v = get(from)?;
        out.push(Tensor {
            name: to.into(),
            shape: v.shape.clone(),
            values: (v.to_f16(from)?),
        });
        Ok(())
    };
    // Splits a fused [k*n, n] projection into k row blocks; `bias_skip` marks the block without a bias (keys).
    let split = |out: &mut Vec<Tensor>, from: &str, to: &[&str], no_bias: usize| -> Result<(), ConvertError> {
        let w = get(&format!("{from}/weight"))?;
        let b = get(&format!("{from}/bias"))?;
        let parts = to.len();
        if w.shape.len() != 2 || w.shape[0] % parts != 0 {
            return Err(ConvertError::Shape {
                name: from.into(),
                shape: w.shape.clone(),
            });
        }
        let (rows, cols) = (w.shape[0] / parts, w.shape[1]);
        let wv = w.to_f16(from)?;
        let bv = b.to_f16(from)?;
        for (i, name) in to.iter().enumerate() {
            out.push(Tensor {
                name: format!("{name}.weight"),
                shape: vec![rows, cols],
                values: (wv[i * rows * cols..(i + 1) * rows * cols].to_vec()),
            });
            if i != no_bias {
                out.push(Tensor {
                    name: format!("{name}.bias"),
                    shape: vec![rows],
                    values: (bv[i * rows..(i + 1) * rows].to_vec()),
                });
            }
        }
        Ok(())
    };
    let linear = |out: &mut Vec<Tensor>, copy: &mut Copier, from: &str, to: &str| -> Result<(), ConvertError> {
        copy(out, &format!("{from}/weight"), &format!("{to}.weight"))?;
        copy(out, &format!("{from}/bias"), &format!("{to}.bias"))
    };
    let norm = |out: &mut Vec<Tensor>, copy: &mut Copier, from: &str, to: &str| -> Result<(), ConvertError> {
        copy(out, &format!("{from}/gamma"), &format!("{to}.weight"))?;
        copy(out, &format!("{from}/beta"), &format!("{to}.bias"))
    };
    // A layer's self-attention: its norm, the fused q/k/v projection (split, key without bias), the output.
    let self_attention = |out: &mut Vec<Tensor>, copy: &mut Copier, f: &str, t: &str| -> Result<(), ConvertError> {
        norm(
            out,
            copy,
            &format!("{f}/self_attention/layer_norm"),
            &format!("{t}.attn_ln"),
        )?;
        let qkv = [
            format!("{t}.attn.query"),
            format!("{t}.attn.key"),
            format!("{t}.attn.value"),
        ];
        split(
            out,
            &format!("{f}/self_attention/linear_0"),
            &[&qkv[0], &qkv[1], &qkv[2]],
            1,
        )?;
        linear(
            out,
            copy,
            &format!("{f}/self_attention/linear_1"),
            &format!("{t}.attn.out"),
        )
    };

    copy(
        &mut out,
        "encoder/position_encodings/encodings",
        "encoder.positional_embedding",
    )?;
    linear(&mut out, &mut copy, "encoder/conv1", "encoder.conv1")?;
    linear(&mut out, &mut copy, "encoder/conv2", "encoder.conv2")?;
    for i in 0..d.n_audio_layer {
        let (f, t) = (format!("encoder/layer_{i}"), format!("encoder.blocks.{i}"));
        self_attention(&mut out, &mut copy, &f, &t)?;
        norm(
            &mut out,
            &mut copy,
            &format!("{f}/ffn/layer_norm"),
            &format!("{t}.mlp_ln"),
        )?;
        linear(&mut out, &mut copy, &format!("{f}/ffn/linear_0"), &format!("{t}.mlp.0"))?;
        linear(&mut out, &mut copy, &format!("{f}/ffn/linear_1"), &format!("{t}.mlp.2"))?;
    }
    norm(&mut out, &mut copy, "encoder/layer_norm", "encoder.ln_post")?;

    copy(
        &mut out,
        "decoder/position_encodings/encodings",
        "decoder.positional_embedding",
    )?;
    copy(&mut out, "decoder/embeddings/weight", "decoder.token_embedding.weight")?;
    for i in 0..d.n_text_layer {
        let (f, t) = (format!("decoder/layer_{i}"), format!("decoder.blocks.{i}"));
        self_attention(&mut out, &mut copy, &f, &t)?;
        norm(
            &mut out,
            &mut copy,
            &format!("{f}/attention/layer_norm"),
            &format!("{t}.cross_attn_ln"),
        )?;
        linear(
            &mut out,
            &mut copy,
            &format!("{f}/attention/linear_0"),
            &format!("{t}.cross_attn.query"),
        )?;
        split(
            &mut out,
            &format!("{f}/attention/linear_1"),
            &[&format!("{t}.cross_attn.key"), &format!("{t}.cross_attn.value")],
            0,
        )?;
        linear(
            &mut out,
            &mut copy,
            &format!("{f}/attention/linear_2"),
            &format!("{t}.cross_attn.out"),
        )?;
        norm(
            &mut out,
            &mut copy,
            &format!("{f}/ffn/layer_norm"),
            &format!("{t}.mlp_ln"),
        )?;
        linear(&mut out, &mut copy, &format!("{f}/ffn/linear_0"), &format!("{t}.mlp.0"))?;
        linear(&mut out, &mut copy, &format!("{f}/ffn/linear_1"), &format!("{t}.mlp.2"))?;
    }
    norm(&mut out, &mut copy, "decoder/layer_norm", "decoder.ln")?;
    Ok(out)
}

/// librosa's `filters.mel(sr=16000, n_fft=400, n_mels)` (Slaney scale and norm), as Whisper uses.
pub fn mel_filters(n_mels: usize) -> Vec<Vec<f32>> {
    const SR: f64 = 16000.0;
    const N_FFT: usize = 400;
    let f_sp = 200.0 / 3.0;
    let min_log_hz = 1000.0;
    let min_log_mel = min_log_hz / f_sp;
    let logstep = (6.4f64).ln() / 27.0;
    let hz_to_mel = |f: f64| {
        if f >= min_log_hz {
            min_log_mel + (f / min_log_hz).ln() / logstep
        } else {
            f / f_sp
        }
    };
    let mel_to_hz = |m: f64| {
        if m >= min_log_mel {
            min_log_hz * (logstep * (m - min_log_mel)).exp()
        } else {
            f_sp * m
        }
    };
    let bins = 1 + N_FFT / 2;
    let fft: Vec<f64> = (0..bins).map(|i| i as f64 * (SR / 2.0) / (bins - 1) as f64).collect();
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(SR / 2.0));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    (0..n_mels)
        .map(|i| {
            let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
            fft.iter()
                .map(|&f| {
                    let lower = (f - mel_f[i]) / (mel_f[i + 1] - mel_f[i]);
                    let upper = (mel_f[i + 2] - f) / (mel_f[i + 2] - mel_f[i + 1]);
                    (lower.min(upper).max(0.0) * enorm) as f32
                })
                .collect()
        })
        .collect()
}

/// GPT-2's byte-level alphabet: the character each byte is written as in `vocabulary.txt`.
fn byte_of_char() -> HashMap<char, u8> {
    let mut printable: Vec<u32> = (u32::from('!')..=u32::from('~')).collect();
    printable.extend(0xa1..=0xac);
    printable.extend(0xae..=0xff);
    let mut map = HashMap::new();
    let mut extra = 0;
    for b in 0u32..256 {
        let c = if printable.contains(&b) {
            b
        } else {
            extra += 1;
            255 + extra
        };
        if let Some(ch) = char::from_u32(c) {
            map.insert(ch, b as u8);
        }
    }
    map
}

/// The text tokens (before `<|endoftext|>`) as raw bytes, in id order.
pub fn vocabulary(text: &str) -> Result<Vec<Vec<u8>>, ConvertError> {
    let map = byte_of_char();
    let mut out = Vec::new();
    for line in text.lines() {
        if line == "<|endoftext|>" {
            return Ok(out);
        }
        let bytes: Option<Vec<u8>> = line.chars().map(|c| map.get(&c).copied()).collect();
        out.push(bytes.ok_or_else(|| ConvertError::Format(format!("token {line:?} is not byte-level BPE")))?);
    }
    Err(ConvertError::Format("vocabulary has no <|endoftext|>".into()))
}

fn quantize_q8_0(values: &[f32], out: &mut Vec<u8>) {
    for block in values.chunks(QK8_0) {
        let amax = block.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f32_to_f16(d).to_le_bytes());
        out.extend(block.iter().map(|v| (v * id).round() as i8 as u8));
    }
}

/// Writes the ggml model; `progress` is told after each tensor (done, total).
pub fn convert(
    model_bin: &[u8],
    vocabulary_txt: &str,
    weights: Weights,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Dims, ConvertError> {
    let vars = parse_ct2(model_bin)?;
    let d = dims(&vars)?;
    let tokens = vocabulary(vocabulary_txt)?;
    let tensors = tensors(&vars, &d)?;

    let i32le = |out: &mut dyn Write, v: i32| out.write_all(&v.to_le_bytes());
    i32le(out, 0x6767_6d6c)?;
    for v in [
        d.n_vocab,
        d.n_audio_ctx,
        d.n_audio_state,
        d.n_audio_head,
        d.n_audio_layer,
        d.n_text_ctx,
        d.n_text_state,
        d.n_text_head,
        d.n_text_layer,
        d.n_mels,
    ] {
        i32le(out, v as i32)?;
    }
    // ftype: 1 = mostly f16; 2007 = mostly q8_0 with ggml's quantization version 2.
    i32le(out, if weights == Weights::Q8_0 { 2007 } else { 1 })?;

    let filters = mel_filters(d.n_mels);
    i32le(out, filters.len() as i32)?;
    i32le(out, filters[0].len() as i32)?;
    for row in &filters {
        for v in row {
            out.write_all(&v.to_le_bytes())?;
        }
    }
    i32le(out, tokens.len() as i32)?;
    for t in &tokens {
        i32le(out, t.len() as i32)?;
        out.write_all(t)?;
    }

    let total = tensors.len();
    let mut buf = Vec::new();
    for (done, t) in tensors.into_iter().enumerate() {
        let mut shape = t.shape.clone();
        if t.name == "encoder.conv1.bias" || t.name == "encoder.conv2.bias" {
            shape = vec![shape[0], 1];
        }
        let keep_f32 = shape.len() < 2
            || t.name.ends_with("conv1.bias")
            || t.name.ends_with("conv2.bias")
            || t.name.ends_with("positional_embedding");
        let as_f32 = |v: &[u16]| v.iter().map(|&h| f16_to_f32(h)).collect::<Vec<f32>>();
        buf.clear();
        let ttype = if keep_f32 {
            for v in as_f32(&t.values) {
                buf.extend_from_slice(&v.to_le_bytes());
            }
            GGML_F32
        } else if weights == Weights::Q8_0 && shape.len() == 2 && shape[1] % QK8_0 == 0 {
            quantize_q8_0(&as_f32(&t.values), &mut buf);
            GGML_Q8_0
        } else {
            t.values.iter().for_each(|h| buf.extend_from_slice(&h.to_le_bytes()));
            GGML_F16
        };
        let name = t.name.as_bytes();
        i32le(out, shape.len() as i32)?;
        i32le(out, name.len() as i32)?;
        i32le(out, ttype)?;
        for dim in shape.iter().rev() {
            i32le(out, *dim as i32)?;
        }
        out.write_all(name)?;
        out.write_all(&buf)?;
        progress(done + 1, total);
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_round_trips() {
        for x in [0.0f32, 1.0, -2.5, 0.000_123, 65504.0, -0.333_251_95] {
            let back = f16_to_f32(f32_to_f16(x));
            assert!((back - x).abs() <= x.abs() * 1e-3 + 1e-7, "{x} -> {back}");
        }
    }

    #[test]
    fn mel_filters_match_librosa() {
        // Reference values from librosa.filters.mel(sr=16000, n_fft=400, n_mels=80).
        let f = mel_filters(80);
        assert_eq!((f.len(), f[0].len()), (80, 201));
        assert!((f[0][1] - 0.024_862_4).abs() < 1e-5, "{}", f[0][1]);
        assert!((f[79][200]).abs() < 1e-6);
        let row_max = f[40].iter().cloned().fold(0.0, f32::max);
        assert!(row_max > 0.0);
    }

    #[test]
    fn byte_level_tokens_decode() {
        let v = vocabulary("!\nĠthe\nĊ\n<|endoftext|>\n<|startoftranscript|>\n").unwrap();
        assert_eq!(v, vec![b"!".to_vec(), b" the".to_vec(), b"\n".to_vec()]);
    }

    #[test]
    fn not_a_model_is_an_error() {
        let mut sink = Vec::new();
        let r = convert(b"hello", "", Weights::F16, &mut sink, &mut |_, _| {});
        assert!(matches!(r, Err(ConvertError::Format(_))));
    }
}
