//! Helpers shared by the integration tests; each test binary uses some of them.
#![allow(dead_code)]

pub mod openai_server;
pub mod tmux;

/// The report.json of the one session under `home` (a test's own DATAREADY_HOME).
pub fn only_report(home: &std::path::Path) -> serde_json::Value {
    let sessions = home.join("sessions");
    let id = std::fs::read_dir(&sessions)
        .expect("a sessions folder")
        .next()
        .expect("one session")
        .expect("readable")
        .file_name();
    let text = std::fs::read_to_string(sessions.join(id).join("report.json")).expect("report.json");
    serde_json::from_str(&text).expect("valid JSON")
}

/// Turns saved in the session journals under `home`.
pub fn journal_turns(home: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(home.join("sessions")) else {
        return 0;
    };
    entries
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("journal.jsonl")).ok())
        .map(|j| j.lines().filter(|l| l.contains("\"record\":\"turn\"")).count())
        .sum()
}

/// Types each answer on a running interview's stdin and waits (60 s at most) until its turn is saved.
pub fn answer_and_wait_until_saved(
    stdin: &mut impl std::io::Write,
    home: &std::path::Path,
    answers: impl IntoIterator<Item = String>,
) {
    let saved = journal_turns(home);
    for (i, answer) in answers.into_iter().enumerate() {
        writeln!(stdin, "{answer}").unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while journal_turns(home) < saved + i + 1 {
            assert!(std::time::Instant::now() < deadline, "answer {i} was never saved");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// The real binary, offline and without a voice, keeping its sessions under `home`.
pub fn offline(home: &std::path::Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("dataready").unwrap();
    c.env("DATAREADY_HOME", home)
        .env("DATAREADY_CONFIG", home.join("no-config.toml"))
        .env("DATAREADY_NO_VOICE", "1")
        .env_remove("DATAREADY_BANK")
        .env_remove("DATAREADY_LLM")
        .env_remove("DATAREADY_LLM_URL")
        .env_remove("DATAREADY_WHISPER_MODEL");
    c
}

/// One of `examples/`' candidate scripts: "strong" or "weak".
pub fn example_script(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}-candidate/answers.csv"))
}

/// A scripted mid-level interview (seed 310) with `questions` questions; it must succeed.
pub fn scripted_mid(home: &std::path::Path, script: &std::path::Path, questions: &str) {
    let out = offline(home)
        .args([
            "interview",
            "--role",
            "mid",
            "--seed",
            "310",
            "--questions",
            questions,
            "--script",
        ])
        .arg(script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// Speech from espeak-ng (Debian's `espeak-ng`), as a WAV at its native 22.05 kHz.
pub fn espeak(text: &str, out: &std::path::Path) {
    let status = std::process::Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "160", "-w"])
        .arg(out)
        .arg(text)
        .status()
        .expect("espeak-ng is needed for these tests: apt-get install espeak-ng (scripts/test does it)");
    assert!(status.success());
}

/// A per-test ALSA configuration (`XDG_CONFIG_HOME=dir`) whose default playback device writes `out` as a WAV.
pub fn speaker_to_file(dir: &std::path::Path, out: &std::path::Path) {
    std::fs::create_dir_all(dir.join("alsa")).unwrap();
    std::fs::write(
        dir.join("alsa/asoundrc"),
        format!(
            "pcm.!default {{\n type asym\n playback.pcm {{\n  type plug\n  slave {{\n   pcm {{\n    type file\n    \
             slave.pcm \"null\"\n    file \"{}\"\n    format \"wav\"\n   }}\n   format S16_LE\n  }}\n }}\n \
             capture.pcm \"null\"\n}}\n",
            out.display()
        ),
    )
    .unwrap();
}
