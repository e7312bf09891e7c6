//! `grade`: one answer to any question, or a CSV of them, offline and (when configured) by the LLM.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::Args;
use serde::Serialize;
use sha2::Digest;

use dataready::assemble;
use dataready::bank::Bank;
use dataready::grade::RubricGrader;
use dataready::llm::Llm;
use dataready::llm::grader::{beside_offline, evaluate};
use dataready::text;

use super::flags::LlmFlags;
use super::{Context, to_stderr};

#[derive(Args)]
pub struct GradeArgs {
    /// The question asked
    #[arg(long, requires = "answer", conflicts_with = "file")]
    question: Option<String>,
    /// Grade against this bank question's rubric (its id: the nearest one a grade prints, or see `dataready
    /// bank questions`), for a bank question asked in other words; without --question, its own wording is used
    #[arg(long, value_name = "ID", requires = "answer", conflicts_with_all = ["file", "skill"])]
    rubric: Option<String>,
    /// The answer to grade
    #[arg(long)]
    answer: Option<String>,
    /// Hint the skill, to pick the rubric among that skill's questions
    #[arg(long)]
    skill: Option<String>,
    /// CSV with columns id,question,answer (optional: skill, a hint for the rubric; rubric, a bank question id
    /// as --rubric takes, which wins over the hint and fills an empty question; other columns are ignored)
    #[arg(long, value_name = "CSV", requires = "out")]
    file: Option<PathBuf>,
    /// Where to write the graded CSV (needed with --file; not the input file)
    #[arg(long, value_name = "CSV")]
    out: Option<PathBuf>,
    /// Print the grade as JSON (one answer; --file writes a CSV)
    #[arg(long, conflicts_with = "file")]
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
    /// With no close rubric: the bank question near enough to be the one asked in other words (`--rubric` it).
    #[serde(skip_serializing_if = "Option::is_none")]
    suggested_rubric: Option<String>,
}

pub fn grade(ctx: &Context, a: GradeArgs) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    let skill = match &a.skill {
        Some(s) => Some(bank.find_skill(s).map_err(anyhow::Error::msg)?.id.clone()),
        None => None,
    };
    let chosen = match &a.rubric {
        Some(id) => Some(Arc::clone(bank.find_question(id).map_err(anyhow::Error::msg)?)),
        None => None,
    };
    let asked = a.question.clone().or_else(|| chosen.as_ref().map(|q| q.text.clone()));
    match (&asked, &a.file) {
        (Some(q), None) => {
            let question = text::clean(q, 2_000).text;
            if question.is_empty() {
                bail!("--question is empty");
            }
            let llm = assemble::open_llm(&a.llm.options(), &mut to_stderr)?;
            let grader = ctx.grader(Arc::clone(&bank))?;
            let answer = a.answer.clone().unwrap_or_default();
            let (e, matched, sim) = grade_one(
                &grader,
                llm.as_ref(),
                &question,
                &answer,
                skill.as_deref(),
                chosen.as_ref(),
            );
            if let Some(why) = &e.fallback {
                eprintln!("warning: {why}");
            }
            let [t, d, p, c, f] = e.scores.as_array();
            let suggested_rubric = (chosen.is_none()
                && (dataready::grade::NAME_RUBRIC..dataready::grade::CLOSE_RUBRIC).contains(&sim)
                && e.grader != "none")
                .then(|| matched.id.clone());
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
                suggested_rubric,
            };
            if a.json {
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                let rubric = if chosen.is_some() {
                    "rubric chosen with --rubric:"
                } else if sim >= dataready::grade::CLOSE_RUBRIC {
                    "rubric:"
                } else {
                    "no close rubric; nearest bank question"
                };
                println!(
                    "Score {}/100 ({rubric} {}, topic match {:.2})",
                    out.score, out.matched_question, out.topic_similarity
                );
                if let Some(id) = &out.suggested_rubric {
                    println!(
                        "  If you asked {id} (\"{}\") in other words, --rubric {id} grades against its rubric.",
                        text::one_line(&matched.text, 90),
                    );
                }
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

/// Grades one answer to any question offline and, with an LLM, by the LLM too (both kept): against the
/// rubric of bank question `rubric` when one is chosen (`--rubric`), else against the nearest bank question's.
fn grade_one(
    grader: &RubricGrader,
    llm: Option<&Arc<Llm>>,
    question: &str,
    answer: &str,
    skill: Option<&str>,
    rubric: Option<&Arc<dataready::bank::Question>>,
) -> (dataready::interview::Evaluation, Arc<dataready::bank::Question>, f32) {
    let (offline, matched, sim) = match rubric {
        Some(q) => {
            let (e, sim) = grader.grade_with_rubric(q, question, answer);
            (e, Arc::clone(q), sim)
        }
        None => grader.grade_free(question, answer, skill),
    };
    let Some(llm) = llm else {
        return (offline, matched, sim);
    };
    if offline.grader == "none" {
        return (offline, matched, sim);
    }
    let request = dataready::interview::GradeRequest::outside_interview(Arc::clone(&matched), question, answer);
    (beside_offline(evaluate(llm, &request), offline), matched, sim)
}

/// One row of the input.
struct Row {
    id: String,
    question: String,
    answer: String,
    skill: Option<String>,
    /// The bank question whose rubric grades this row (the optional `rubric` column).
    rubric: Option<Arc<dataready::bank::Question>>,
}

/// Reads the input CSV: every row checked up front, problems reported as `file:line`. A skill hint or a
/// rubric id the bank does not know is a warning, and that row is graded without it.
fn read_rows(bank: &Bank, file: &Path) -> anyhow::Result<(Vec<Row>, Vec<u8>)> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {name}"))?;
    if let Some(line) = dataready::script::unclosed_quote(&bytes) {
        bail!("{name}:{line}: {}", dataready::script::UNCLOSED_QUOTE);
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(&bytes[..]);
    let headers = reader.headers().map_err(|e| anyhow::anyhow!("{name}:1: {e}"))?.clone();
    let col = |n: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(n));
    let (Some(id_c), Some(q_c), Some(a_c)) = (col("id"), col("question"), col("answer")) else {
        bail!("{name}:1: the header needs columns id,question,answer (optional skill, rubric)");
    };
    let skill_c = col("skill");
    let rubric_c = col("rubric");
    let mut rows = Vec::new();
    let mut unknown: Vec<(u64, String)> = Vec::new();
    let mut unknown_rubrics: Vec<(u64, String)> = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| {
            let line = dataready::script::line_at(&bytes, e.position());
            let why = match e.kind() {
                csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text".to_string(),
                _ => e.to_string(),
            };
            anyhow::anyhow!("{name}:{line}: {why}")
        })?;
        let line = dataready::script::line_at(&bytes, rec.position());
        let mut skill = skill_c
            .and_then(|c| rec.get(c))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from);
        if let Some(s) = skill.take_if(|s| bank.skill(s).is_none()) {
            unknown.push((line, s));
        }
        let rubric = match rubric_c
            .and_then(|c| rec.get(c))
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(id) => match bank.find_question(id) {
                Ok(q) => Some(Arc::clone(q)),
                Err(why) => {
                    unknown_rubrics.push((line, why));
                    None
                }
            },
            None => None,
        };
        let mut question = text::clean(rec.get(q_c).unwrap_or(""), 2_000).text;
        if let Some(q) = rubric.as_ref().filter(|_| question.is_empty()) {
            // As --rubric without --question: the bank's own wording.
            question = q.text.clone();
        }
        if question.is_empty() {
            match unknown_rubrics.last() {
                Some((l, why)) if *l == line => {
                    bail!("{name}:{line}: the question is empty, and the rubric column: {why}")
                }
                _ => bail!("{name}:{line}: the question is empty (give the question, or a bank id in a rubric column)"),
            }
        }
        rows.push(Row {
            id: rec.get(id_c).unwrap_or("").to_string(),
            question,
            answer: rec.get(a_c).unwrap_or("").to_string(),
            skill,
            rubric,
        });
    }
    if let Some((line, why)) = unknown_rubrics.first() {
        eprintln!(
            "warning: {name}:{line}: rubric column: {why}; graded by the nearest bank question instead{}",
            also_in(&unknown_rubrics),
        );
    }
    if let Some((line, s)) = unknown.first() {
        eprintln!(
            "warning: {name}:{line}: unknown skill {s:?} in the skill column; hint ignored{} (valid skills: {})",
            also_in(&unknown),
            bank.skill_ids().join(", ")
        );
    }
    Ok((rows, bytes))
}

/// ", as in N more rows" when a problem a warning names at its first row recurs.
fn also_in(rows: &[(u64, String)]) -> String {
    match rows.len() {
        0 | 1 => String::new(),
        n => format!(", as in {} more rows", n - 1),
    }
}

/// A graded row as it is written to the output (and to the partial file, for picking up a killed run).
#[derive(Serialize, serde::Deserialize)]
struct Done {
    index: usize,
    record: Vec<String>,
    by_llm: bool,
}

/// The partial file's first line: which input and which grading it belongs to.
#[derive(Serialize, serde::Deserialize, PartialEq)]
struct PartialHeader {
    input_sha256: String,
    graders: String,
    /// The bank the rows were graded with (a `rubric` column's ids resolve against it).
    bank: String,
    /// [`PARTIAL_FORMAT`]: rows graded by a build that read the input differently are not picked up.
    format: u32,
}

/// Version of how `grade --file` reads its input; 2 reads the `rubric` column.
const PARTIAL_FORMAT: u32 = 2;

/// Whether two paths name one file (the output may not exist yet).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn partial_path(out: &Path) -> PathBuf {
    let mut p = out.as_os_str().to_owned();
    p.push(".partial");
    PathBuf::from(p)
}

/// Rows graded by an earlier run of the same input and graders that was stopped before it finished.
fn resume_partial(path: &Path, header: &PartialHeader) -> Vec<Done> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let mut lines = text.lines();
    let same = lines
        .next()
        .and_then(|l| serde_json::from_str::<PartialHeader>(l).ok())
        .is_some_and(|h| &h == header);
    if !same {
        return Vec::new();
    }
    // A torn last line (the run was killed mid-write) is simply graded again.
    lines.filter_map(|l| serde_json::from_str(l).ok()).collect()
}

fn grade_file(
    ctx: &Context,
    bank: Arc<Bank>,
    file: &Path,
    out: &Path,
    llm_args: &LlmFlags,
) -> anyhow::Result<ExitCode> {
    if same_file(file, out) {
        bail!(
            "--out {} is the input file: grading would overwrite your answers; write the grades to another file",
            out.display()
        );
    }
    let (rows, bytes) = read_rows(&bank, file)?;
    let llm = assemble::open_llm(&llm_args.options(), &mut to_stderr)?;
    let grader = ctx.grader(Arc::clone(&bank))?;
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
    let partial = partial_path(out);
    let partial_header = PartialHeader {
        input_sha256: format!("{:x}", sha2::Sha256::digest(&bytes)),
        graders: llm.as_ref().map_or("offline".into(), |l| {
            format!("llm:{}@{}", l.config.deep_model, l.config.base_url)
        }),
        bank: bank.digest.clone(),
        format: PARTIAL_FORMAT,
    };
    let mut done: Vec<Option<Done>> = rows.iter().map(|_| None).collect();
    for d in resume_partial(&partial, &partial_header) {
        if let Some(slot) = done.get_mut(d.index) {
            *slot = Some(d);
        }
    }
    let already = done.iter().filter(|d| d.is_some()).count();
    if already > 0 {
        eprintln!(
            "Picking up where the last run stopped: {already} of {} rows already graded ({})",
            rows.len(),
            partial.display()
        );
    }
    // Each graded row is appended to the partial file at once, so a killed run loses at most the rows in flight.
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&partial)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    if already == 0 {
        log.set_len(0)?;
        writeln!(log, "{}", serde_json::to_string(&partial_header)?)?;
    }
    let todo: Vec<usize> = (0..rows.len()).filter(|i| done[*i].is_none()).collect();
    let progress = Progress::new(todo.len(), already, rows.len(), llm.is_some());
    let grade_row = |i: usize| -> Done {
        let row = &rows[i];
        let (e, matched, _) = grade_one(
            &grader,
            llm.as_ref(),
            &row.question,
            &row.answer,
            row.skill.as_deref(),
            row.rubric.as_ref(),
        );
        let s = e.scores.as_array();
        let mut record = vec![
            row.id.clone(),
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
        Done {
            index: i,
            by_llm: e.offline.is_some(),
            record,
        }
    };
    let log = std::sync::Mutex::new(log);
    let keep = |d: Done| -> anyhow::Result<Done> {
        let mut f = log.lock().unwrap_or_else(|p| p.into_inner());
        writeln!(f, "{}", serde_json::to_string(&d)?)?;
        f.flush()?;
        progress.step(d.by_llm);
        Ok(d)
    };
    match &llm {
        // As many rows at once as the endpoint takes: the client's slots start at one for a local server
        // and adapt for a hosted one; each row waits for its deep grade up to the grade limit.
        Some(l) => {
            let next = std::sync::atomic::AtomicUsize::new(0);
            let workers = l.config.client.concurrency.clamp(1, todo.len().max(1));
            let results: std::sync::Mutex<Vec<Done>> = std::sync::Mutex::new(Vec::new());
            let failed: std::sync::Mutex<Option<anyhow::Error>> = std::sync::Mutex::new(None);
            std::thread::scope(|scope| {
                for _ in 0..workers {
                    scope.spawn(|| {
                        loop {
                            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(&i) = todo.get(k) else { break };
                            match keep(grade_row(i)) {
                                Ok(d) => results.lock().unwrap_or_else(|p| p.into_inner()).push(d),
                                Err(e) => {
                                    *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                                    break;
                                }
                            }
                        }
                    });
                }
            });
            if let Some(e) = failed.into_inner().unwrap_or_else(|p| p.into_inner()) {
                return Err(e);
            }
            for d in results.into_inner().unwrap_or_else(|p| p.into_inner()) {
                let i = d.index;
                done[i] = Some(d);
            }
        }
        None => {
            for &i in &todo {
                done[i] = Some(keep(grade_row(i))?);
            }
        }
    }
    progress.finish();
    // The output appears whole or not at all: written beside it, then renamed over it.
    let tmp = out.with_extension("csv.tmp");
    {
        let mut w = csv::Writer::from_path(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        w.write_record(&header)?;
        for d in done.iter().flatten() {
            w.write_record(&d.record)?;
        }
        w.flush()?;
        w.into_inner()
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", tmp.display()))?
            .sync_all()?;
    }
    std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
    let _ = std::fs::remove_file(&partial);
    eprintln!(
        "graded {} answer{} → {}",
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        out.display()
    );
    if let Some(line) = llm.and_then(|l| l.summary()) {
        eprintln!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress line for long runs: rows done, how many the LLM graded, the pace and time left.
struct Progress {
    todo: usize,
    before: usize,
    total: usize,
    llm: bool,
    started: std::time::Instant,
    state: std::sync::Mutex<(usize, usize, std::time::Instant)>,
    live: bool,
}

impl Progress {
    fn new(todo: usize, before: usize, total: usize, llm: bool) -> Self {
        Self {
            todo,
            before,
            total,
            llm,
            started: std::time::Instant::now(),
            state: std::sync::Mutex::new((0, 0, std::time::Instant::now())),
            live: std::io::stderr().is_terminal(),
        }
    }

    fn step(&self, by_llm: bool) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0 += 1;
        s.1 += usize::from(by_llm);
        // On a terminal every row; in a log every 10 s (and the last one), so long runs show they are alive.
        let due = self.live || s.2.elapsed() >= std::time::Duration::from_secs(10) || s.0 == self.todo;
        if !due || !(self.llm || self.todo >= 50) {
            return;
        }
        s.2 = std::time::Instant::now();
        let per_row = self.started.elapsed().as_secs_f64() / s.0 as f64;
        let left = (self.todo - s.0) as f64 * per_row;
        let line = format!(
            "graded {}/{}{} · {:.1} s a row · about {:.0} s left",
            self.before + s.0,
            self.total,
            if self.llm {
                format!(" ({} by the LLM)", s.1)
            } else {
                String::new()
            },
            per_row,
            left
        );
        if self.live {
            eprint!("\r{line}   ");
        } else {
            eprintln!("{line}");
        }
    }

    fn finish(&self) {
        if self.live && (self.llm || self.todo >= 50) && self.todo > 0 {
            eprintln!();
        }
    }
}
