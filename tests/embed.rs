//! The MiniLM forward pass matches a reference implementation (numpy + HF tokenizers) on real weights.

use dataready::embed::{Embedder, cosine};

#[test]
fn embeddings_match_the_reference() {
    let embedder = Embedder::load(&dataready::paths::embedder_dir()).unwrap_or_else(|e| panic!("{e}"));
    let golden: serde_json::Value = serde_json::from_str(include_str!("data/minilm_golden.json")).unwrap();
    for case in golden.as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        let want: Vec<f32> = case["emb"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let got = embedder.embed_one(text);
        let sim = cosine(&got, &want);
        let max_diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(
            sim > 0.99999 && max_diff < 1e-4,
            "{text:?}: cosine {sim}, max diff {max_diff}"
        );
    }
    // Packed batches give the same vectors as one-at-a-time.
    let texts: Vec<&str> = golden
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["text"].as_str().unwrap())
        .collect();
    let batch = embedder.embed(&texts);
    for (t, b) in texts.iter().zip(&batch) {
        assert!(cosine(&embedder.embed_one(t), b) > 0.99999);
    }
}
