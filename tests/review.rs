//! `dataready review` with the real binary: each answer beside what a strong answer covers and a
//! model answer (offline, and from an LLM on loopback, asked once), recordings played through ALSA's
//! file plugin as the speaker, and practice mode's model answer after the feedback.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;
use serde_json::Value;
use support::openai_server::{Reply, Server};

fn run_ok(c: &mut Command) -> (String, String) {
    let out = c.output().unwrap();
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(out.status.success(), "stdout: {so}\nstderr: {se}");
    (so, se)
}

fn review_json(home: &Path, extra: &[&str]) -> Value {
    let (so, _) = run_ok(
        support::offline(home)
            .args(["review", "last", "--format", "json"])
            .args(extra),
    );
    serde_json::from_str(&so).unwrap()
}

#[test]
fn review_puts_each_answer_beside_the_rubric_and_a_model_answer() {
    let home = tempfile::tempdir().unwrap();
    support::scripted_mid(home.path(), &support::example_script("strong"), "4");
    let r = review_json(home.path(), &[]);
    let items = r["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "{r}");
    let report = support::only_report(home.path());
    for (item, turn) in items.iter().zip(report["turns"].as_array().unwrap()) {
        assert_eq!(item["question"], turn["question"]);
        assert_eq!(item["answer"], turn["answer"]);
        assert_eq!(item["score"], turn["score"]);
        let points = item["points"].as_array().unwrap();
        assert!(points.len() >= 3, "{item}");
        assert!(points.iter().all(|p| p["coverage"] != "not_judged"), "{item}");
        assert_eq!(item["model_answer"]["by"], "the rubric, offline");
        // The offline model answer states the rubric's points.
        let model = item["model_answer"]["text"].as_str().unwrap().to_lowercase();
        let first = points[0]["text"].as_str().unwrap().trim_end_matches('.').to_lowercase();
        assert!(model.contains(&first), "{model}");
    }
    // A strong candidate covers most points; the weak one misses most.
    let covered = |r: &Value| {
        r["items"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| i["points"].as_array().unwrap().clone())
            .filter(|p| p["coverage"] == "covered")
            .count()
    };
    let weak_home = tempfile::tempdir().unwrap();
    support::scripted_mid(weak_home.path(), &support::example_script("weak"), "4");
    let weak = review_json(weak_home.path(), &[]);
    assert!(
        covered(&r) > 2 * covered(&weak),
        "strong {} weak {}",
        covered(&r),
        covered(&weak)
    );

    let (md, _) = run_ok(support::offline(home.path()).args(["review", "last"]));
    assert!(md.starts_with("# Review of "), "{md}");
    assert!(
        md.contains("**What a strong answer covers**") && md.contains("- ✓ "),
        "{md}"
    );
    assert!(md.contains("**Model answer** (from the rubric, offline)"), "{md}");
    // Typed answers have no recording to play, and say so.
    let out = support::offline(home.path())
        .args(["review", "last", "--play", "1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("typed, not spoken"));
    let out = support::offline(home.path())
        .args(["review", "last", "--play", "9"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no question 9 (it has 4)"));
}

#[test]
fn practice_mode_gives_the_model_answer_after_the_feedback() {
    let home = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dataready"))
        .env("DATAREADY_HOME", home.path())
        .env("DATAREADY_CONFIG", home.path().join("no-config.toml"))
        .env("DATAREADY_NO_VOICE", "1")
        .env_remove("DATAREADY_LLM")
        .args([
            "interview",
            "--role",
            "mid",
            "--mode",
            "practice",
            "--questions",
            "2",
            "--seed",
            "3",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        "ROW_NUMBER numbers every row uniquely, RANK leaves gaps after ties, DENSE_RANK does not."
    )
    .unwrap();
    writeln!(stdin, "/end").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let so = String::from_utf8_lossy(&out.stdout);
    let feedback = so.find("Score ").expect("practice feedback");
    let model = so
        .find("Model answer (from the rubric, offline):")
        .expect("a model answer");
    assert!(model > feedback, "{so}");
    assert!(
        so.contains("DENSE_RANK gives tied rows the same rank without leaving gaps"),
        "{so}"
    );
}

/// Seconds from the first to the last sound in a 16-bit WAV (the test device pads with silence while open).
fn speech_seconds(path: &Path) -> f64 {
    let mut r = hound::WavReader::open(path).unwrap();
    let spec = r.spec();
    let frames: Vec<i16> = r
        .samples::<i16>()
        .map(Result::unwrap)
        .step_by(usize::from(spec.channels))
        .collect();
    let loud = |s: &&i16| s.unsigned_abs() > 300;
    let first = frames.iter().position(|s| loud(&s)).unwrap_or(0);
    let last = frames.iter().rposition(|s| loud(&s)).unwrap_or(0);
    (last.saturating_sub(first)) as f64 / f64::from(spec.sample_rate)
}

#[test]
fn review_plays_a_spoken_answer_on_the_speaker_or_says_where_it_is() {
    let home = tempfile::tempdir().unwrap();
    let wav = home.path().join("answer1.wav");
    support::espeak(
        "A shuffle moves rows between executors so that every key ends up in one partition. \
         It writes to local disk and sends data over the network, so it is the slowest part of a job.",
        &wav,
    );
    let csv = home.path().join("script.csv");
    std::fs::write(&csv, "skill,answer,audio\nspark,,answer1.wav\n").unwrap();
    run_ok(
        support::offline(home.path())
            .args([
                "interview",
                "--role",
                "mid",
                "--skills",
                "spark",
                "--questions",
                "1",
                "--script",
            ])
            .arg(&csv),
    );
    let r = review_json(home.path(), &[]);
    let recording = r["items"][0]["recording"]
        .as_str()
        .expect("the spoken answer's recording");
    assert!(Path::new(recording).is_file(), "{recording}");
    assert!(!r["items"][0]["answer"].as_str().unwrap().is_empty());

    let played = home.path().join("played.wav");
    let xdg = home.path().join("xdg");
    support::speaker_to_file(&xdg, &played);
    let (_, se) = run_ok(
        support::offline(home.path())
            .env("XDG_CONFIG_HOME", &xdg)
            .args(["review", "last", "--play", "1"]),
    );
    assert!(se.contains("Playing Q1's recording"), "{se}");
    let (want, got) = (speech_seconds(Path::new(recording)), speech_seconds(&played));
    assert!(want > 3.0, "{want}");
    assert!((want - got).abs() < 0.2, "played {got:.2} s of a {want:.2} s recording");

    // No usable speaker: say so, and where the recording is.
    let none = home.path().join("no-speaker");
    std::fs::create_dir_all(none.join("alsa")).unwrap();
    std::fs::write(none.join("alsa/asoundrc"), "pcm.!default { type hw card 57 }\n").unwrap();
    let out = support::offline(home.path())
        .env("XDG_CONFIG_HOME", &none)
        .args(["review", "last", "--play", "1"])
        .output()
        .unwrap();
    let se = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        se.contains("No speaker to play it on") && se.contains(recording),
        "{se}"
    );
}

#[test]
fn review_asks_the_llm_for_model_answers_once_and_keeps_them() {
    let home = tempfile::tempdir().unwrap();
    support::scripted_mid(home.path(), &support::example_script("strong"), "3");
    let server = Server::start(|n, _| {
        let answer = format!(
            "Model answer number {n}: I would start from how the engine moves data between machines, \
             then explain the trade-off, then give the example of a nightly job I tuned from two hours to \
             twenty minutes by filtering before the join."
        );
        Reply::Json(serde_json::json!({ "answer": answer }).to_string())
    });
    let llm = [
        "--llm",
        "grade",
        "--llm-url",
        &server.url(),
        "--llm-model",
        "loopback-deep",
    ];
    let r = review_json(home.path(), &llm);
    let items = r["items"].as_array().unwrap();
    assert_eq!(server.seen().len(), items.len(), "one request per answer");
    for item in items {
        assert_eq!(item["model_answer"]["by"], "the LLM, loopback-deep");
        assert!(
            item["model_answer"]["text"]
                .as_str()
                .unwrap()
                .starts_with("Model answer number")
        );
    }
    let prompt = server.seen()[0].prompt();
    assert!(prompt.contains(items[0]["question"].as_str().unwrap()), "{prompt}");
    assert!(
        prompt.contains(items[0]["points"][0]["text"].as_str().unwrap()),
        "{prompt}"
    );
    // Reviewed again: the answers come from the session folder, not the server.
    let again = review_json(home.path(), &llm);
    assert_eq!(server.seen().len(), items.len());
    assert_eq!(again, r);
    // Without the LLM, the rubric's answers.
    let offline = review_json(home.path(), &[]);
    assert_eq!(offline["items"][0]["model_answer"]["by"], "the rubric, offline");
}
