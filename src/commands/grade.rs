//! `grade`: one answer to any question, or a CSV of them, offline and (when configured) by the LLM.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Args;
use serde::Serialize;

use dataready::assemble;
use dataready::bank::Bank;
use dataready::grade::RubricGrader;
use dataready::llm::Llm;
use dataready::llm::grader::{LlmGrader, combine};
use dataready::text;

use super::flags::LlmFlags;
use super::{Context, to_stderr};

#[derive(Args)]
pub struct GradeArgs {
    /// The question asked
    #[arg(long, requires = "answer", conflicts_with = "file")]
    question: Option<String>,
    /// The answer to grade
    #[arg(long)]
    answer: Option<String>,
    /// Hint the skill, to pick the rubric among that skill's questions
    #[arg(long)]
    skill: Option<String>,
    /// CSV with columns id,question,answer (optional skill, level)
    #[arg(long, value_name = "CSV", requires = "out")]
    file: Option<PathBuf>,
    /// Where to write the graded CSV
    #[arg(long, value_name = "CSV")]
    out: Option<PathBuf>,
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    llm: LlmFlags,
}

#[derive(Serialize)]
struct GradeOut {
    score: u8,
    technical_correctness: f32,
    depth: f32,
    practical_experience: f32,
    communication_clarity: f32,
    confidence: f32,
    what_went_well: Vec<String>,
    what_was_missing: Vec<String>,
    red_flags: Vec<String>,
    seniority_signals: Vec<String>,
    matched_question: String,
    topic_similarity: f32,
    /// `high`, `medium` or `low`, with the reasons (e.g. "graded without a rubric: lower confidence").
    grade_confidence: Option<dataready::interview::GradeConfidence>,
    grader: String,
}

pub fn grade(ctx: &Context, a: GradeArgs) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    if let Some(s) = &a.skill
        && bank.skill(s).is_none()
    {
        bail!("unknown skill {s:?}; valid skills: {}", bank.skill_ids().join(", "));
    }
    match (&a.question, &a.file) {
        (Some(q), None) => {
            let question = text::clean(q, 2_000).text;
            if question.is_empty() {
                bail!("--question is empty");
            }
            let llm = assemble::open_llm(&a.llm.options(), &mut to_stderr)?;
            let grader = ctx.grader(Arc::clone(&bank))?;
            let answer = a.answer.clone().unwrap_or_default();
            let (e, matched, sim) = grade_one(&grader, llm.as_ref(), &question, &answer, a.skill.as_deref());
            let [t, d, p, c, f] = e.scores.as_array();
            let out = GradeOut {
                score: e.score,
                technical_correctness: t,
                depth: d,
                practical_experience: p,
                communication_clarity: c,
                confidence: f,
                what_went_well: e.what_went_well,
                what_was_missing: e.what_was_missing,
                red_flags: e.red_flags,
                seniority_signals: e.seniority_signals,
                matched_question: matched.id.clone(),
                topic_similarity: (sim * 100.0).round() / 100.0,
                grade_confidence: e.grade_confidence,
                grader: e.grader,
            };
            if a.json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "Score {}/100 (rubric: {}, topic match {:.2})",
                    out.score, out.matched_question, out.topic_similarity
                );
                println!(
                    "  correctness {t:.1} · depth {d:.1} · experience {p:.1} · clarity {c:.1} · confidence {f:.1}"
                );
                if let Some(gc) = &out.grade_confidence {
                    println!("  grade confidence: {}", gc.describe());
                }
                for (label, items) in [
                    ("+", &out.what_went_well),
                    ("-", &out.what_was_missing),
                    ("!", &out.red_flags),
                    ("*", &out.seniority_signals),
                ] {
                    for i in items {
                        println!("  {label} {i}");
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        (None, Some(file)) => grade_file(ctx, bank, file, a.out.as_ref().context("--file needs --out")?, &a.llm),
        _ => bail!("give either --question and --answer, or --file IN.csv --out OUT.csv"),
    }
}

/// Grades one answer to any question offline and, with an LLM, by the LLM too (both kept).
fn grade_one(
    grader: &RubricGrader,
    llm: Option<&Arc<Llm>>,
    question: &str,
    answer: &str,
    skill: Option<&str>,
) -> (dataready::interview::Evaluation, Arc<dataready::bank::Question>, f32) {
    let (offline, matched, sim) = grader.grade_free(question, answer, skill);
    let Some(llm) = llm else {
        return (offline, matched, sim);
    };
    if offline.grader == "none" {
        return (offline, matched, sim);
    }
    let request = dataready::interview::GradeRequest {
        question: Arc::clone(&matched),
        kind: dataready::interview::TurnKind::Main,
        prompt: question.to_string(),
        answer: text::clean(answer, text::MAX_ANSWER_CHARS).text,
        role: String::new(),
        speech: None,
    };
    let llm_grader = LlmGrader {
        offline: grader,
        llm: Arc::clone(llm),
    };
    let e = match llm_grader.evaluate(&request) {
        Ok(e) => combine(e, offline),
        Err(why) => dataready::interview::Evaluation {
            fallback: Some(format!("LLM grade unavailable ({why}); offline grade used")),
            ..offline
        },
    };
    (e, matched, sim)
}

fn grade_file(
    ctx: &Context,
    bank: Arc<Bank>,
    file: &PathBuf,
    out: &PathBuf,
    llm_args: &LlmFlags,
) -> anyhow::Result<ExitCode> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {name}"))?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(&bytes[..]);
    let headers = reader.headers().map_err(|e| anyhow::anyhow!("{name}:1: {e}"))?.clone();
    let col = |n: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(n));
    let (Some(id_c), Some(q_c), Some(a_c)) = (col("id"), col("question"), col("answer")) else {
        bail!("{name}:1: the header needs columns id,question,answer (optional skill, level)");
    };
    let skill_c = col("skill");
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            let why = match e.kind() {
                csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text".to_string(),
                _ => e.to_string(),
            };
            anyhow::anyhow!("{name}:{line}: {why}")
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let mut skill = skill_c
            .and_then(|c| rec.get(c))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from);
        // The skill column is only a hint for picking the rubric: a label the bank does not know is ignored.
        if let Some(s) = &skill
            && bank.skill(s).is_none()
        {
            eprintln!(
                "warning: {name}:{line}: unknown skill {s:?} in the skill column; hint ignored (valid skills: {})",
                bank.skill_ids().join(", ")
            );
            skill = None;
        }
        let question = text::clean(rec.get(q_c).unwrap_or(""), 2_000).text;
        if question.is_empty() {
            bail!("{name}:{line}: the question is empty");
        }
        rows.push((
            rec.get(id_c).unwrap_or("").to_string(),
            question,
            rec.get(a_c).unwrap_or("").to_string(),
            skill,
        ));
    }
    let llm = assemble::open_llm(&llm_args.options(), &mut to_stderr)?;
    let grader = ctx.grader(Arc::clone(&bank))?;
    let mut w = csv::Writer::from_path(out).with_context(|| format!("cannot write {}", out.display()))?;
    let mut header = vec![
        "id",
        "score",
        "technical_correctness",
        "depth",
        "practical_experience",
        "communication_clarity",
        "confidence",
        "red_flags",
        "matched_question",
        "grade_confidence",
    ];
    if llm.is_some() {
        // With an LLM: who scored each row, and the offline score beside it.
        header.extend(["grader", "offline_score"]);
    }
    w.write_record(&header)?;
    let grade_row = |(_, question, answer, skill): &(String, String, String, Option<String>)| {
        grade_one(&grader, llm.as_ref(), question, answer, skill.as_deref())
    };
    let graded: Vec<_> = match &llm {
        // Rows go to the endpoint a few at a time (its `concurrency`), and come back in file order.
        Some(l) => {
            let next = std::sync::atomic::AtomicUsize::new(0);
            let url = &l.config.base_url;
            let local = ["://127.0.0.1", "://localhost", "://[::1]"]
                .iter()
                .any(|h| url.contains(h));
            let workers = if local && l.config.client.concurrency > 1 {
                // A model on this machine serves one request at a time; parallel rows only time each other out.
                eprintln!("note: the LLM at {url} runs on this machine, so rows go to it one at a time");
                1
            } else {
                l.config.client.concurrency
            }
            .clamp(1, rows.len().max(1));
            let mut slots: Vec<std::sync::Mutex<Option<_>>> =
                rows.iter().map(|_| std::sync::Mutex::new(None)).collect();
            std::thread::scope(|scope| {
                for _ in 0..workers {
                    scope.spawn(|| {
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(row) = rows.get(i) else { break };
                            *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(grade_row(row));
                        }
                    });
                }
            });
            slots
                .iter_mut()
                .map(|s| {
                    s.get_mut()
                        .unwrap_or_else(|p| p.into_inner())
                        .take()
                        .expect("every row graded")
                })
                .collect()
        }
        None => rows.iter().map(grade_row).collect(),
    };
    for ((id, ..), (e, matched, _)) in rows.iter().zip(graded) {
        let s = e.scores.as_array();
        let mut record = vec![
            id.clone(),
            e.score.to_string(),
            format!("{:.1}", s[0]),
            format!("{:.1}", s[1]),
            format!("{:.1}", s[2]),
            format!("{:.1}", s[3]),
            format!("{:.1}", s[4]),
            e.red_flags.join(" | "),
            matched.id.clone(),
            e.grade_confidence.as_ref().map_or(String::new(), |c| c.describe()),
        ];
        if llm.is_some() {
            record.push(e.grader.clone());
            record.push(e.offline.as_ref().map_or(String::new(), |o| o.score.to_string()));
        }
        w.write_record(&record)?;
    }
    w.flush()?;
    eprintln!("graded {} answers → {}", rows.len(), out.display());
    if let Some(line) = llm.and_then(|l| l.summary()) {
        eprintln!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}
