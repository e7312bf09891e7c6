//! `dataready history` and `interview --focus weak` over real scripted sessions (the real binary).

mod support;

use std::path::Path;

use serde_json::Value;

fn scripted(home: &Path, script: &Path, questions: &str) {
    support::scripted_mid(home, script, questions);
    // Sessions are ordered by their start time, to the second.
    std::thread::sleep(std::time::Duration::from_millis(1100));
}

#[test]
fn history_shows_trends_flags_thin_sessions_and_focus_weak_picks_the_weakest_skills() {
    let home = tempfile::tempdir().unwrap();
    let empty = support::offline(home.path()).arg("history").output().unwrap();
    assert!(String::from_utf8_lossy(&empty.stdout).contains("No finished sessions yet"));

    scripted(home.path(), &support::example_script("strong"), "10");
    scripted(home.path(), &support::example_script("strong"), "2");
    scripted(home.path(), &support::example_script("strong"), "10");
    scripted(home.path(), &support::example_script("weak"), "10");

    let out = support::offline(home.path())
        .args(["history", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let h: Value = serde_json::from_slice(&out.stdout).unwrap();
    let sessions = h["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 4);
    let thin: Vec<&Value> = sessions
        .iter()
        .filter(|s| !s["too_little_evidence"].is_null())
        .collect();
    assert_eq!(
        thin.len(),
        1,
        "the 2-question session is shown as too little evidence: {sessions:?}"
    );
    assert!(
        thin[0]["too_little_evidence"]
            .as_str()
            .unwrap()
            .contains("opening questions answered")
    );
    let skills = h["skills"].as_array().unwrap();
    assert_eq!(skills.len(), 4, "{skills:?}");
    for s in skills {
        // Three sessions with enough evidence: strong, strong, weak; the thin one is not averaged in.
        assert_eq!(s["scores"].as_array().unwrap().len(), 3, "{s}");
        assert!(s["change"].as_i64().unwrap() < -40, "{s}");
    }
    let next = h["next_focus"].as_str().unwrap();
    assert!(next.contains("fell from") && next.contains("over 3 sessions"), "{next}");
    let weakest: Vec<&str> = h["weakest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(weakest[0], "data-quality", "{weakest:?}");

    let text = support::offline(home.path()).arg("history").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(
        text.contains("too little (") && text.contains("Next: ") && text.contains("▇▇▂"),
        "{text}"
    );
    let one = support::offline(home.path())
        .args(["history", "--skill", "spark", "--json"])
        .output()
        .unwrap();
    let one: Value = serde_json::from_slice(&one.stdout).unwrap();
    assert_eq!(one["skills"].as_array().unwrap().len(), 1);
    assert!(
        !support::offline(home.path())
            .args(["history", "--skill", "cobol"])
            .output()
            .unwrap()
            .status
            .success()
    );

    // --focus weak: the next interview covers the two weakest focus skills only.
    let generic = home.path().join("generic.csv");
    std::fs::write(
        &generic,
        "answer\n".to_string() + &"\"I would check the logs and retry.\"\n".repeat(10),
    )
    .unwrap();
    let out = support::offline(home.path())
        .args([
            "interview",
            "--role",
            "mid",
            "--seed",
            "1",
            "--focus",
            "weak",
            "--json",
            "--script",
        ])
        .arg(&generic)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("Focusing on your weakest skills: Data quality, Workflow orchestration"),
        "{stderr}"
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(summary["report_json"].as_str().unwrap()).unwrap()).unwrap();
    let asked: Vec<&str> = report["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["skill"].as_str().unwrap())
        .collect();
    assert!(!asked.is_empty());
    assert!(
        asked.iter().all(|s| weakest[..2].contains(s)),
        "{asked:?} vs {weakest:?}"
    );
}

/// Moves a session's start back by `days` in its journal (the first record), keeping its checksum valid.
fn age_session(home: &Path, days: u64) {
    let dir = std::fs::read_dir(home.join("sessions"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let path = dir.join("journal.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let (_, json) = lines[0].split_once(' ').unwrap();
    let mut record: Value = serde_json::from_str(json).unwrap();
    let at = record["at_ms"].as_u64().unwrap() - days * 86_400_000;
    record["at_ms"] = at.into();
    let json = record.to_string();
    lines[0] = format!("{:08x} {json}", crc32fast::hash(json.as_bytes()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn sessions_left_in_progress_for_a_week_are_stale_and_resume_asks_first() {
    use std::io::{BufRead, BufReader};
    let home = tempfile::tempdir().unwrap();
    // An interview killed while waiting for its first answer stays in progress.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("dataready"))
        .args([
            "interview",
            "--role",
            "mid",
            "--seed",
            "4",
            "--plain",
            "--input",
            "text",
        ])
        .env("DATAREADY_HOME", home.path())
        .env("DATAREADY_CONFIG", home.path().join("no-config.toml"))
        .env("DATAREADY_NO_VOICE", "1")
        .env_remove("DATAREADY_LLM")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while out.read_line(&mut line).unwrap() > 0 && !line.contains("Interviewer:") {
        line.clear();
    }
    child.kill().unwrap();
    let _ = child.wait();
    age_session(home.path(), 9);

    let list = support::offline(home.path())
        .args(["sessions", "--json"])
        .output()
        .unwrap();
    let rows: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows[0]["status"], "in progress");
    assert_eq!(rows[0]["stale"], true, "{rows}");
    let text =
        String::from_utf8_lossy(&support::offline(home.path()).arg("sessions").output().unwrap().stdout).to_string();
    assert!(text.contains("in progress, stale"), "{text}");

    // Without a terminal to ask on, resume says how to continue instead of going on.
    let refused = support::offline(home.path()).args(["resume", "last"]).output().unwrap();
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(err.contains("9 days ago") && err.contains("--yes"), "{err}");
    let script = home.path().join("a.csv");
    std::fs::write(&script, "answer\n\"I would partition by date and check the logs.\"\n").unwrap();
    let ok = support::offline(home.path())
        .args(["resume", "last", "--yes", "--script"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
}

/// The plain prompt left alone says it has paused and how to continue, then takes the answer as usual.
#[test]
fn the_plain_prompt_says_it_paused_when_left_alone() {
    use std::io::{Read, Write};
    let home = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dataready"))
        .env("DATAREADY_HOME", home.path())
        .env("DATAREADY_CONFIG", home.path().join("no-config.toml"))
        .env("DATAREADY_NO_VOICE", "1")
        .env("DATAREADY_IDLE_PAUSE", "1s")
        .env_remove("DATAREADY_LLM")
        .args([
            "interview",
            "--role",
            "mid",
            "--questions",
            "2",
            "--seed",
            "1",
            "--input",
            "text",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Past the grader's start and the idle time, then an answer and the end.
    let mut stdin = child.stdin.take().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    while std::time::Instant::now() < deadline && !home.path().join("sessions").exists() {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(3000));
    writeln!(
        stdin,
        "Window functions compute over a partition of rows without collapsing them."
    )
    .unwrap();
    writeln!(stdin, "/end").unwrap();
    drop(stdin);
    let status = child.wait().unwrap();
    let err = reader.join().unwrap();
    assert!(status.success(), "{err}");
    assert!(
        err.contains("Paused: no answer for 1s") && err.contains("dataready resume "),
        "{err}"
    );
    assert_eq!(
        support::journal_turns(home.path()),
        1,
        "the answer after the pause was saved"
    );
}
