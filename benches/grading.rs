//! Offline grading speed against the anchors: one answer ≤ 50 ms on one core, and a whole
//! scripted 10-question run ≤ 1 s including model loading. Run: `cargo bench --bench grading`.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use dataready::bank::Bank;
use dataready::grade::{Grader, RubricGrader};
use dataready::interview::{GradeRequest, TurnKind};

#[derive(serde::Deserialize)]
struct DevFile {
    answer: Vec<DevAnswer>,
}

#[derive(serde::Deserialize)]
struct Split {
    heldout: Vec<String>,
}

#[derive(serde::Deserialize)]
struct DevAnswer {
    question: String,
    text: String,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    // One core for the per-answer figure, as the anchor states (set before the first matrix multiply).
    // SAFETY: no other thread exists yet.
    unsafe { std::env::set_var("MATMUL_NUM_THREADS", "1") };
    let bank = Arc::new(Bank::builtin().unwrap());
    let t = Instant::now();
    let grader = RubricGrader::load(
        Arc::clone(&bank),
        &dataready::paths::embedder_dir(),
        &dataready::paths::cache_dir(),
        &mut |_, _| {},
    )
    .expect("install the model first: scripts/setup-models.sh");
    let load = t.elapsed().as_secs_f64();

    // The tuning part of the dev set (the split's held-out questions are left alone).
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/devset");
    let split: Split = toml::from_str(&std::fs::read_to_string(format!("{dir}/split.toml")).unwrap()).unwrap();
    let mut answers = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_none_or(|x| x != "toml") || path.ends_with("split.toml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        answers.extend(
            toml::from_str::<DevFile>(&text)
                .unwrap()
                .answer
                .into_iter()
                .filter(|a| !split.heldout.contains(&a.question)),
        );
    }
    let mut times = Vec::new();
    let mut words = 0;
    let start = Instant::now();
    for a in &answers {
        let q = bank.question(&a.question).unwrap();
        let req = GradeRequest {
            question: Arc::clone(q),
            kind: TurnKind::Main,
            prompt: q.text.clone(),
            answer: a.text.clone(),
            role: "mid".into(),
            speech: None,
        };
        words += a.text.split_whitespace().count();
        let t = Instant::now();
        std::hint::black_box(grader.grade(&req));
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let total = start.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    let (p50, p95, max) = (
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        times[times.len() - 1],
    );
    println!("grader load (model + cached bank index): {:.0} ms", load * 1000.0);
    println!(
        "grading {} tuning-part answers ({:.0} words avg) on 1 core: p50 {p50:.1} ms, p95 {p95:.1} ms, max {max:.1} ms, {:.0} answers/s",
        answers.len(),
        words as f64 / answers.len() as f64,
        answers.len() as f64 / total
    );
    println!(
        "  anchor 50 ms/answer: p50 ratio {:.2}x, p95 ratio {:.2}x (below 1 meets it)",
        p50 / 50.0,
        p95 / 50.0
    );

    // A whole scripted 10-question run through the release binary, model loading included.
    let bin = concat!(env!("CARGO_MANIFEST_DIR"), "/target/release/dataready");
    if !std::path::Path::new(bin).exists() {
        println!("scripted run: skipped (build the release binary first: cargo build --release)");
        return;
    }
    let home = tempfile_dir();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/strong-candidate/answers.csv");
    let mut runs = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let out = Command::new(bin)
            .env("DATAREADY_HOME", &home)
            .env_remove("MATMUL_NUM_THREADS")
            .args(["interview", "--role", "mid", "--seed", "310", "--script", script])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        runs.push(t.elapsed().as_secs_f64());
    }
    runs.sort_by(f64::total_cmp);
    let median = runs[runs.len() / 2];
    println!(
        "scripted 10-question run (process start to report written): median {:.0} ms of 5; anchor 1 s: ratio {:.2}x",
        median * 1000.0,
        median
    );
    let _ = std::fs::remove_dir_all(&home);
}

fn tempfile_dir() -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("dataready-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
