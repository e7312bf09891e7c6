//! `interview --cv FILE --job FILE` with the real binary: the documents change the plan the same way
//! every time (a seed), one question asks about an item on the CV, the report says what came from
//! where, a resumed session plans the same, and files that are not text are refused before anything starts.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;

const CV: &str = "# Jane Doe, data engineer\n\nPhone: 555-0100\n\n## Experience\n\
    - Built a Kafka clickstream pipeline into Snowflake, 2B events a day, exactly-once into the warehouse\n\
    - Airflow DAGs and dbt models for finance; backfills and checks with Great Expectations\n\
    - Kafka Connect and Debezium CDC from Postgres; Python, SQL, Terraform on AWS\n";
const JOB: &str = "Senior Data Engineer. You will own our streaming platform (Kafka, Flink) and the lakehouse on \
    Iceberg. Spark performance tuning and data quality matter. Snowflake is a plus.";

fn documents(dir: &Path) -> (PathBuf, PathBuf) {
    let (cv, job) = (dir.join("cv.md"), dir.join("job.txt"));
    std::fs::write(&cv, CV).unwrap();
    std::fs::write(&job, JOB).unwrap();
    (cv, job)
}

/// Answers for any question, so a run goes wherever the plan goes.
fn answers(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join(format!("answers-{n}.csv"));
    let mut csv = String::from("answer\n");
    for i in 0..n {
        csv.push_str(&format!(
            "\"Answer {i}: we partitioned by key, made writes idempotent with a merge, watched consumer lag \
             and compacted small files; at my last job that cut the delay from two hours to five minutes.\"\n"
        ));
    }
    std::fs::write(&path, csv).unwrap();
    path
}

/// One scripted senior interview; returns its report and the stderr.
fn run(home: &Path, docs: Option<&(PathBuf, PathBuf)>, script: &Path) -> (Value, String) {
    let mut c = support::offline(home);
    c.args([
        "interview",
        "--role",
        "senior",
        "--questions",
        "8",
        "--seed",
        "11",
        "--script",
    ])
    .arg(script);
    if let Some((cv, job)) = docs {
        c.arg("--cv").arg(cv).arg("--job").arg(job);
    }
    let out = c.output().unwrap();
    let se = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{se}");
    let r = support::offline(home)
        .args(["report", "last", "--format", "json"])
        .output()
        .unwrap();
    (serde_json::from_slice(&r.stdout).unwrap(), se)
}

fn plan(r: &Value) -> Vec<String> {
    r["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| format!("{} {}", t["question_id"].as_str().unwrap(), t["kind"].as_str().unwrap()))
        .collect()
}

/// Opening questions on `skill` (on any skill with `None`).
fn skill_count(r: &Value, skill: Option<&str>) -> usize {
    r["turns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "main" && skill.is_none_or(|s| t["skill"] == s))
        .count()
}

/// Opening questions on `skill` among the first `n` opening questions.
fn skill_count_first(r: &Value, skill: &str, n: usize) -> usize {
    r["turns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "main")
        .take(n)
        .filter(|t| t["skill"] == skill)
        .count()
}

#[test]
fn cv_and_job_shape_the_plan_the_same_way_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let docs = documents(dir.path());
    let script = answers(dir.path(), 10);
    let (plain, _) = run(&dir.path().join("a"), None, &script);
    let (tailored, stderr) = run(&dir.path().join("b"), Some(&docs), &script);
    let (again, _) = run(&dir.path().join("c"), Some(&docs), &script);
    assert_eq!(plan(&tailored), plan(&again), "same documents and seed, same interview");
    assert_ne!(plan(&tailored), plan(&plain), "the documents change the plan");
    assert!(plain.get("tailored").is_none());
    assert!(
        stderr.contains("found Apache Kafka") && stderr.contains("not sent anywhere"),
        "the run says what it read and that it stays here: {stderr}"
    );

    // The second topic asks about the CV's Kafka line; its follow-up stays with the candidate's story.
    let turns = tailored["turns"].as_array().unwrap();
    let mains: Vec<&Value> = turns.iter().filter(|t| t["kind"] == "main").collect();
    let asked = mains[1]["question"].as_str().unwrap();
    assert!(
        asked.starts_with("Your CV mentions Apache Kafka: \"Built a Kafka clickstream pipeline"),
        "{asked}"
    );
    assert!(!asked.contains("555-0100"));
    // Streaming is what both documents are about: at least as many streaming topics as without them, over
    // as many topics (an answer scored as no answer moves on, so the runs need not open as many).
    let n = skill_count(&tailored, None).min(skill_count(&plain, None));
    assert!(
        skill_count_first(&tailored, "streaming", n) >= skill_count_first(&plain, "streaming", n),
        "{:?} against {:?}",
        plan(&tailored),
        plan(&plain)
    );

    let t = &tailored["tailored"];
    assert_eq!(
        t["sources"],
        serde_json::json!(["CV (cv.md)", "job description (job.txt)"])
    );
    let found = t["found"].as_array().unwrap();
    assert!(
        found[0]
            .as_str()
            .unwrap()
            .starts_with("Apache Kafka (CV ×2, job description ×1)"),
        "{t}"
    );
    let questions: Vec<&str> = t["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q.as_str().unwrap())
        .collect();
    assert!(
        questions
            .iter()
            .any(|q| q.ends_with("asked about your CV: Apache Kafka")),
        "{questions:?}"
    );
    let md = support::offline(&dir.path().join("b"))
        .args(["report", "last"])
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(
        md.contains("## Shaped by your CV (cv.md) and job description (job.txt)"),
        "{md}"
    );
}

#[test]
fn a_resumed_tailored_session_plans_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let docs = documents(dir.path());
    let script = answers(dir.path(), 10);
    let (whole, _) = run(&dir.path().join("whole"), Some(&docs), &script);
    // The same answers typed, the process killed after three, then resumed from the journal alone.
    let home = dir.path().join("split");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_dataready"))
        .env("DATAREADY_HOME", &home)
        .env("DATAREADY_CONFIG", home.join("no-config.toml"))
        .env("DATAREADY_NO_VOICE", "1")
        .env_remove("DATAREADY_LLM")
        .env_remove("DATAREADY_LLM_URL")
        .args([
            "interview",
            "--role",
            "senior",
            "--questions",
            "8",
            "--seed",
            "11",
            "--cv",
        ])
        .arg(&docs.0)
        .arg("--job")
        .arg(&docs.1)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lines: Vec<String> = std::fs::read_to_string(&script)
        .unwrap()
        .lines()
        .skip(1)
        .take(3)
        .map(|l| l.trim_matches('"').to_string())
        .collect();
    support::answer_and_wait_until_saved(child.stdin.as_mut().unwrap(), &home, lines);
    child.kill().unwrap();
    child.wait().unwrap();
    let out = support::offline(&home)
        .args(["resume", "last", "--script"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r = support::offline(&home)
        .args(["report", "last", "--format", "json"])
        .output()
        .unwrap();
    let resumed: Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(plan(&resumed), plan(&whole));
    assert_eq!(resumed["tailored"], whole["tailored"]);
}

#[test]
fn documents_that_are_not_text_are_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("cv.pdf");
    std::fs::write(&pdf, b"%PDF-1.7\n%binary").unwrap();
    let out = support::offline(dir.path())
        .args(["interview", "--role", "mid", "--script"])
        .arg(answers(dir.path(), 3))
        .arg("--cv")
        .arg(&pdf)
        .output()
        .unwrap();
    let se = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(se.contains("--cv") && se.contains("pdftotext"), "{se}");
    assert!(!dir.path().join("sessions").exists(), "no session was started");
    let out = support::offline(dir.path())
        .args(["interview", "--role", "mid", "--job"])
        .arg(dir.path().join("missing.txt"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}
