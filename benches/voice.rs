//! The voice against Python `piper-tts` (same voice, same ONNX Runtime version, same lines), run side by
//! side in alternating rounds: total synthesis time ratio (goal ≤ 1.0×), time to first audio for new
//! text (goal ≤ 0.4 s), and first audio for cached/pre-synthesized lines (goal ≤ 0.15 s).
//! Run: `scripts/bench-voice.sh` (sets up the Python side), or `cargo bench --bench voice` with
//! PIPER_PYTHON pointing at a Python that has piper-tts.

use std::process::Command;
use std::time::{Duration, Instant};

use dataready::voice::{Voice, VoiceOptions, resolve_voice};

/// Bank questions and follow-ups: what the interviewer actually says.
const LINES: &[&str] = &[
    "What is the difference between the row number, rank and dense rank window functions, and when would you pick each one?",
    "You have an append-only table of customer updates, with several rows per customer. How would you write a query that returns only the latest version of each customer?",
    "Walk me through what happens when you run a Spark job: what do the driver and the executors do, and how does the work get split into jobs, stages and tasks?",
    "You said stages are split at shuffles. Why does a shuffle force a stage boundary, and what is written between the two stages?",
    "Tell me about a job where a shuffle was the bottleneck. How did you find it and what did you change?",
    "A job shows two hundred tasks in one stage but only twenty run at a time. What determines that, and how would you decide whether to change it?",
    "How would you design a pipeline that loads late-arriving events without double counting them?",
    "Thanks, that helps. Let's move on to data quality.",
];

const ROUNDS: usize = 3;

struct Round {
    first: Vec<f64>,
    total: f64,
    audio: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn rust_round(voice: &Voice) -> Round {
    let mut first = Vec::new();
    let (mut total, mut audio) = (0.0, 0.0);
    for line in LINES {
        let t = Instant::now();
        let u = voice.speak(line);
        while u.first_audio().is_none() && !u.is_done() {
            std::thread::sleep(Duration::from_micros(200));
        }
        first.push(u.first_audio().unwrap_or_default().as_secs_f64());
        u.wait_synthesized();
        total += t.elapsed().as_secs_f64();
        audio += u.audio().len() as f64 / f64::from(voice.sample_rate);
    }
    Round { first, total, audio }
}

fn python_round(python: &str, model: &std::path::Path, lines: &std::path::Path) -> Option<(f64, Round)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/piper_reference.py");
    let out = Command::new(python).arg(script).arg(model).arg(lines).output().ok()?;
    if !out.status.success() {
        eprintln!("piper-tts failed: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let ls = v["lines"].as_array()?;
    Some((
        v["load"].as_f64()?,
        Round {
            first: ls.iter().filter_map(|l| l["first"].as_f64()).collect(),
            total: ls.iter().filter_map(|l| l["total"].as_f64()).sum(),
            audio: ls.iter().filter_map(|l| l["audio"].as_f64()).sum(),
        },
    ))
}

fn main() {
    let files = resolve_voice(None).expect("install the voice first: scripts/setup-voice.sh");
    let python = std::env::var("PIPER_PYTHON").ok();
    let tmp = std::env::temp_dir().join(format!("dataready-bench-voice-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let lines_file = tmp.join("lines.txt");
    std::fs::write(&lines_file, LINES.join("\n")).unwrap();

    let t = Instant::now();
    let uncached = Voice::open_silent(
        &files,
        &VoiceOptions {
            cache_dir: None,
            sentence_pause_ms: 0,
            ..VoiceOptions::default()
        },
    )
    .expect("voice loads");
    let rust_load = t.elapsed().as_secs_f64();

    let (mut rs, mut py, mut py_load) = (Vec::new(), Vec::new(), None);
    for round in 0..ROUNDS {
        // Alternate who goes first, so neither always gets the quieter moment on shared cores.
        let py_first = round % 2 == 1;
        if py_first
            && let Some(p) = python
                .as_deref()
                .and_then(|p| python_round(p, &files.model, &lines_file))
        {
            py_load.get_or_insert(p.0);
            py.push(p.1);
        }
        rs.push(rust_round(&uncached));
        if !py_first
            && let Some(p) = python
                .as_deref()
                .and_then(|p| python_round(p, &files.model, &lines_file))
        {
            py_load.get_or_insert(p.0);
            py.push(p.1);
        }
    }
    drop(uncached);

    // Cached: pre-synthesize as the interview does while the candidate answers, then speak.
    let cached = Voice::open_silent(
        &files,
        &VoiceOptions {
            cache_dir: Some(tmp.join("cache")),
            ..VoiceOptions::default()
        },
    )
    .expect("voice loads");
    cached.prefetch(LINES);
    cached.wait_idle();
    let mut cached_first = Vec::new();
    for line in LINES {
        let u = cached.speak(line);
        cached_first.push(u.first_audio().map_or(f64::NAN, |d| d.as_secs_f64()));
        u.wait_synthesized();
    }
    drop(cached);
    let _ = std::fs::remove_dir_all(&tmp);

    let audio = rs[0].audio;
    let rs_total = median(rs.iter().map(|r| r.total).collect());
    let rs_first = median(rs.iter().flat_map(|r| r.first.clone()).collect());
    let rs_first_max = rs.iter().flat_map(|r| r.first.clone()).fold(0.0, f64::max);
    println!(
        "voice benchmark: {} lines, {audio:.1} s of speech, {ROUNDS} alternating rounds, medians",
        LINES.len()
    );
    println!(
        "  dataready (piper-rs):  load {rust_load:.2} s · total {rs_total:.2} s (RTF {:.3}) · first audio {rs_first:.3} s (max {rs_first_max:.3})",
        rs_total / audio
    );
    if py.is_empty() {
        println!("  piper-tts: not run (set PIPER_PYTHON, or use scripts/bench-voice.sh)");
    } else {
        let py_total = median(py.iter().map(|r| r.total).collect());
        let py_first = median(py.iter().flat_map(|r| r.first.clone()).collect());
        println!(
            "  piper-tts (Python):    load {:.2} s · total {py_total:.2} s (RTF {:.3}) · first audio {py_first:.3} s",
            py_load.unwrap_or(f64::NAN),
            py_total / py[0].audio.max(1e-9)
        );
        let ratios: Vec<String> = rs
            .iter()
            .zip(&py)
            .map(|(r, p)| format!("{:.2}", r.total / p.total))
            .collect();
        println!(
            "  total synthesis ratio dataready / piper-tts: {:.2}× (per round: {}; goal ≤ 1.0×)",
            rs_total / py_total,
            ratios.join(", ")
        );
    }
    println!(
        "  cached first audio: median {:.4} s, max {:.4} s (goal ≤ 0.15 s); new text: median {rs_first:.3} s (goal ≤ 0.4 s)",
        median(cached_first.clone()),
        cached_first.iter().copied().fold(0.0, f64::max)
    );
}
