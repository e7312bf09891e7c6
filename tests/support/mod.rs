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
