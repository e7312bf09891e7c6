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
