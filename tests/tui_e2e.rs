//! The real binary in a real pseudo-terminal (tmux): set nothing up by hand, answer by typing,
//! finish, read the report screen, and find the saved report.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::tmux::Tmux;

#[test]
fn a_typed_interview_in_the_room_ends_on_the_report_and_is_saved() {
    let home = tempfile::tempdir().unwrap();
    let tmux = Tmux {
        socket: format!("dataready-test-{}", std::process::id()),
    };
    let cmd = format!(
        "env DATAREADY_HOME={} {} interview --role junior --questions 2 --seed 4 --mode practice --input text",
        home.path().display(),
        env!("CARGO_BIN_EXE_dataready")
    );
    let started = Instant::now();
    tmux.run(&["new-session", "-d", "-s", "room", "-x", "100", "-y", "30", &cmd]);
    let first = tmux.wait_for("Q1/2");
    eprintln!("room visible after {:?}", started.elapsed());
    assert!(first.contains("Interviewer"), "{first}");
    tmux.wait_for("Type your answer");
    tmux.run(&[
        "send-keys",
        "-t",
        "room",
        "-l",
        "A primary key uniquely identifies each row and cannot be null, and a foreign key references it.",
    ]);
    tmux.run(&["send-keys", "-t", "room", "Enter"]);
    let second = tmux.wait_for("Q2/2");
    assert!(second.contains("Feedback"), "practice mode shows feedback:\n{second}");
    tmux.wait_for("Type your answer");
    tmux.run(&["send-keys", "-t", "room", "-l", "I am not sure."]);
    tmux.run(&["send-keys", "-t", "room", "Enter"]);
    let report = tmux.wait_for("Overall");
    assert!(
        report.contains("2 of 2 answered") && report.contains("Report"),
        "{report}"
    );
    // r: the answers one by one, with the rubric's points and a model answer; ← → between them.
    tmux.run(&["send-keys", "-t", "room", "r"]);
    let review = tmux.wait_for("Review · Q1 of 2");
    assert!(
        review.contains("What a strong answer covers") && review.contains("A primary key"),
        "{review}"
    );
    tmux.run(&["send-keys", "-t", "room", "p"]);
    tmux.wait_for("typed, not spoken");
    tmux.run(&["send-keys", "-t", "room", "Right"]);
    tmux.wait_for("Review · Q2 of 2");
    tmux.run(&["send-keys", "-t", "room", "r"]);
    tmux.wait_for("r review answers");
    tmux.run(&["send-keys", "-t", "room", "q"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while tmux.run(&["list-sessions"]).contains("room") {
        assert!(Instant::now() < deadline, "the app did not quit");
        std::thread::sleep(Duration::from_millis(50));
    }
    let report = support::only_report(home.path());
    assert_eq!(report["status"], "completed");
    assert_eq!(report["turns"].as_array().unwrap().len(), 2);
    assert!(
        report["turns"][0]["answer"]
            .as_str()
            .unwrap()
            .starts_with("A primary key")
    );
}

#[test]
fn ctrl_c_and_sigterm_leave_a_resumable_session_and_a_clean_terminal() {
    for how in ["ctrl-c", "sigterm"] {
        let home = tempfile::tempdir().unwrap();
        let tmux = Tmux {
            socket: format!("dataready-test-{}-{how}", std::process::id()),
        };
        let cmd = format!(
            "env DATAREADY_HOME={} {} interview --role mid --questions 5 --seed 9 --input text; echo EXITED $?; sleep 30",
            home.path().display(),
            env!("CARGO_BIN_EXE_dataready")
        );
        tmux.run(&["new-session", "-d", "-s", "room", "-x", "100", "-y", "30", &cmd]);
        tmux.wait_for("Type your answer");
        tmux.run(&[
            "send-keys",
            "-t",
            "room",
            "-l",
            "Window functions compute over partitions without collapsing rows.",
        ]);
        tmux.run(&["send-keys", "-t", "room", "Enter"]);
        tmux.wait_for("Q2/5");
        tmux.wait_for("Type your answer");
        if how == "ctrl-c" {
            tmux.run(&["send-keys", "-t", "room", "C-c"]);
        } else {
            // The pane runs a shell; the app is its child.
            let shell = tmux.run(&["display-message", "-p", "-t", "room", "#{pane_pid}"]);
            let out = Command::new("pkill").args(["-TERM", "-P", shell.trim()]).status();
            assert!(out.is_ok_and(|s| s.success()), "could not signal the app");
        }
        let screen = tmux.wait_for("EXITED");
        assert!(screen.contains("EXITED 0"), "{how}: {screen}");
        assert!(screen.contains("Continue with: dataready resume"), "{how}: {screen}");
        assert!(
            !screen.contains("Type your answer"),
            "{how}: the terminal was restored:\n{screen}"
        );
        let out = Command::new(env!("CARGO_BIN_EXE_dataready"))
            .env("DATAREADY_HOME", home.path())
            .args(["report", "last", "--format", "json"])
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["status"], "in progress", "{how}");
        assert_eq!(report["turns"].as_array().unwrap().len(), 1, "{how}");
    }
}
