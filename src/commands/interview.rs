//! `interview` and `resume`: options → the assembly point (`dataready::assemble`) → the room, the
//! plain prompt or a scripted run → the summary and exit code.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use dataready::assemble::{self, Adapters, Answering, PromptIo};
use dataready::bank::Bank;
use dataready::grade::RubricGrader;
use dataready::interview::{Config, Interview, Phase};
use dataready::script::Script;
use dataready::session::{self, Outcome, Session};
use dataready::tui;

use super::flags::{AdapterFlags, ModeArg};
use super::{Context, to_stderr, use_room};

#[derive(Args)]
pub struct InterviewArgs {
    /// junior, mid, senior, staff or principal [default: mid; on a terminal without it, the setup screen asks]
    #[arg(long)]
    role: Option<String>,
    /// Comma-separated skills to cover [default: the role's focus skills]
    #[arg(long, value_delimiter = ',', value_name = "SKILLS")]
    skills: Vec<String>,
    /// weak: cover your weakest skills from earlier sessions (`dataready history`) instead of all focus skills
    #[arg(long, value_enum, value_name = "WHAT", conflicts_with = "skills")]
    focus: Option<FocusArg>,
    /// How many questions, follow-ups included
    #[arg(long, default_value_t = 10)]
    questions: usize,
    /// practice: feedback after each answer; mock: feedback only in the report
    #[arg(long, value_enum, default_value = "mock")]
    mode: ModeArg,
    /// Seed for question choice; the same seed and answers give the same interview [default: random]
    #[arg(long)]
    seed: Option<u64>,
    /// Years of experience (recorded in the report)
    #[arg(long)]
    years: Option<u32>,
    /// Your CV (plain text or Markdown): the plan leans toward its technologies and one question asks
    /// about an item on it. Read on this machine; not sent anywhere unless an LLM is configured
    #[arg(long, value_name = "FILE")]
    cv: Option<PathBuf>,
    /// The job description (plain text or Markdown): the plan leans toward what it asks for
    #[arg(long, value_name = "FILE")]
    job: Option<PathBuf>,
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
    adapters: AdapterFlags,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FocusArg {
    /// The role's skills you scored lowest on in finished sessions with enough evidence
    Weak,
}

#[derive(Args)]
pub struct ResumeArgs {
    /// The session to continue ("last" for the newest)
    id: String,
    /// Answers from a CSV instead of the prompt
    #[arg(long, value_name = "CSV")]
    script: Option<PathBuf>,
    /// Continue a stale session (in progress for a week or more) without asking
    #[arg(long)]
    yes: bool,
    #[command(flatten)]
    adapters: AdapterFlags,
}

fn seed_or_random(seed: Option<u64>) -> u64 {
    seed.unwrap_or_else(|| session::now_ms() ^ (u64::from(std::process::id()) << 32))
}

pub fn interview(ctx: &Context, a: InterviewArgs) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    if let Some(dir) = &a.out {
        super::check_out_dir(dir)?;
    }
    let room = a.script.is_none() && use_room(a.plain);
    let role = a.role.clone().unwrap_or_else(|| "mid".into());
    let mut skills: Vec<String> = a
        .skills
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(FocusArg::Weak) = a.focus {
        skills = weakest_skills(ctx, &bank, &role)?;
    }
    // A script is read (and checked) first: the questions its rows name open the interview.
    let script = a.script.as_ref().map(|p| Script::load(p, &bank)).transpose()?;
    for w in script.iter().flat_map(|s| &s.warnings) {
        eprintln!("warning: {w}");
    }
    let ask_first = script.as_ref().map_or_else(Vec::new, Script::question_ids);
    let config = Config {
        role: role.clone(),
        skills,
        questions: a.questions,
        mode: a.mode.into(),
        seed: seed_or_random(a.seed),
        years: a.years,
        tailoring: tailoring(ctx, &bank, a.cv.as_deref(), a.job.as_deref())?,
        ask_first,
    };
    // Validate everything before loading models or creating a session.
    Interview::new(Arc::clone(&bank), config.clone())?;
    ctx.store().check_writable().map_err(|e| {
        anyhow::anyhow!("{e}\n  Sessions are saved there; choose a writable folder with --data-dir or DATAREADY_HOME")
    })?;
    let options = a.adapters.options();
    if room {
        let start = if a.role.is_some() {
            tui::Start::New(config)
        } else {
            tui::Start::Setup(config)
        };
        let adapters = Adapters::resolve(&options, &Answering::Room, &mut to_stderr)?;
        return closed(tui::run_interview(bank, ctx.store(), start, adapters)?);
    }
    let answering = match script {
        Some(s) => Answering::Script(s),
        None => answering(None, &bank)?,
    };
    let scripted = matches!(answering, Answering::Script(_));
    let adapters = Adapters::resolve(&options, &answering, &mut to_stderr)?;
    if let Some(t) = &config.tailoring {
        let url = adapters.llm.as_ref().map(|l| l.config.base_url.as_str());
        eprintln!("{}", dataready::profile::privacy_note(t, url));
    }
    let grader = ctx.grader(Arc::clone(&bank))?;
    let mut session = Session::start(ctx.store(), Arc::clone(&bank), config)?;
    if !scripted {
        println!(
            "DataReady · {} interview · {} questions · session {}\n{}",
            bank.role(&role).map_or(role.as_str(), |r| r.name.as_str()),
            a.questions,
            session.id,
            if adapters.ear.is_some() {
                "Answer each question out loud."
            } else {
                "Answer each question in one line."
            }
        );
    }
    let outcome = run_plain(&mut session, answering, &bank, &grader, adapters)?;
    finish(&session.id, outcome, a.out.as_ref(), a.fail_under, a.json, scripted)
}

/// `--cv`, `--job`: what the documents name, read here and kept with the interview's config.
fn tailoring(
    ctx: &Context,
    bank: &Bank,
    cv: Option<&std::path::Path>,
    job: Option<&std::path::Path>,
) -> anyhow::Result<Option<dataready::profile::Tailoring>> {
    use dataready::profile;
    if cv.is_none() && job.is_none() {
        return Ok(None);
    }
    let vocab = profile::Vocabulary::for_bank(bank, ctx.bank_dir.as_deref())?;
    let cv = cv.map(profile::read_doc).transpose().context("--cv")?;
    let job = job.map(profile::read_doc).transpose().context("--job")?;
    Ok(Some(profile::tailor(&vocab, cv.as_ref(), job.as_ref())))
}

/// `--focus weak`: the role's weakest skills in the history, said aloud; none yet means the role's focus.
fn weakest_skills(ctx: &Context, bank: &Bank, role: &str) -> anyhow::Result<Vec<String>> {
    let history = super::history::load(ctx, bank, Some(role), None)?;
    let weak = dataready::history::weak_skills(bank, &history, role, 2);
    if weak.is_empty() {
        eprintln!(
            "No finished {role} session with enough evidence yet: covering the role's focus skills. (dataready history shows why.)"
        );
    } else {
        let names: Vec<&str> = weak.iter().map(|s| bank.skill_name(s)).collect();
        eprintln!(
            "Focusing on your weakest skills: {} (from {} earlier session(s)).",
            names.join(", "),
            history
                .sessions
                .iter()
                .filter(|s| s.too_little_evidence.is_none())
                .count()
        );
    }
    Ok(weak)
}

pub fn resume(ctx: &Context, a: ResumeArgs) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    let store = ctx.store();
    let id = store.resolve(&a.id)?;
    let mut session = Session::resume(store.clone(), Arc::clone(&bank), &id)?;
    if session.interview.phase() == Phase::Complete {
        let outcome = session.write_reports()?;
        println!(
            "Session {id} is already complete. Report: {}",
            outcome.markdown.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    if !a.yes && !confirm_stale(&store, &bank, &id)? {
        println!("Left session {id} as it is.");
        return Ok(ExitCode::SUCCESS);
    }
    let options = a.adapters.options();
    if a.script.is_none() && use_room(false) {
        // The room reopens the session on its own thread; what opening it found is said now.
        session.take_notices().into_iter().for_each(to_stderr);
        drop(session);
        let adapters = Adapters::resolve(&options, &Answering::Room, &mut to_stderr)?;
        return closed(tui::run_interview(bank, store, tui::Start::Resume(id), adapters)?);
    }
    let answering = answering(a.script.as_ref(), &bank)?;
    let scripted = matches!(answering, Answering::Script(_));
    let adapters = Adapters::resolve(&options, &answering, &mut to_stderr)?;
    let grader = ctx.grader(Arc::clone(&bank))?;
    println!(
        "Resuming session {id} after {} answered question(s).",
        session.interview.turns().len()
    );
    let outcome = run_plain(&mut session, answering, &bank, &grader, adapters)?;
    finish(&id, outcome, None, None, false, scripted)
}

/// A session in progress for a week or more: asks before continuing it (on a terminal), or says how to.
fn confirm_stale(store: &dataready::store::Store, bank: &Bank, id: &str) -> anyhow::Result<bool> {
    let report = session::report_from_journal(store, bank, id)?;
    let Some(days) = dataready::history::stale_days(&report, session::now_ms()) else {
        return Ok(true);
    };
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "session {id} was started {days} days ago and is stale; continue it anyway with: dataready resume {id} --yes"
        );
    }
    eprint!(
        "Session {id} was started {days} days ago ({} answered). Continue it? [y/N] ",
        report.questions_answered
    );
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// Answers from the script when there is one (checked now, before anything loads), else from a person.
fn answering(script: Option<&PathBuf>, bank: &Bank) -> anyhow::Result<Answering> {
    Ok(match script {
        Some(path) => Answering::Script(Script::load(path, bank)?),
        None => Answering::Prompt {
            attended: std::io::stdin().is_terminal(),
        },
    })
}

/// Runs the session at the plain prompt (or from the script): standard input, output and error.
fn run_plain(
    session: &mut Session,
    answering: Answering,
    bank: &Bank,
    grader: &RubricGrader,
    mut adapters: Adapters,
) -> anyhow::Result<Outcome> {
    // Scripted answers arrive at once: nothing to write ahead, and each deep grade is waited for.
    let attended = !matches!(answering, Answering::Script(_));
    let (id, idle) = (session.id.clone(), idle_pause());
    let io = PromptIo {
        input: dataready::prompt::IdleInput::stdin(idle, move || {
            eprintln!(
                "\nPaused: no answer for {}. Everything answered is saved. Type your answer to go on, \
                 or leave and continue later with: dataready resume {id}",
                humantime::format_duration(idle)
            );
        }),
        out: std::io::stdout(),
        err: Box::new(std::io::stderr()),
    };
    let ear = adapters.ear.take();
    let mut candidate = assemble::prompt_candidate(answering, ear, &session.dir(), bank, io);
    assemble::conduct(session, candidate.as_mut(), grader, adapters, attended)
}

/// How long the plain prompt waits for an answer before saying it has paused: 10 minutes, or
/// `DATAREADY_IDLE_PAUSE` (e.g. `30s`, `20m`).
fn idle_pause() -> std::time::Duration {
    std::env::var("DATAREADY_IDLE_PAUSE")
        .ok()
        .and_then(|v| humantime::parse_duration(&v).ok())
        .unwrap_or(std::time::Duration::from_secs(10 * 60))
}

/// After the room closes: say where things are, in the normal terminal.
fn closed(c: tui::Closed) -> anyhow::Result<ExitCode> {
    match (&c.session, &c.report) {
        (Some(id), Some(r)) => println!(
            "session {id} · overall {}/100 · {}{} · dataready report {id}",
            r.overall,
            r.verdict.label(),
            if r.verdict_provisional { " (provisional)" } else { "" }
        ),
        (Some(id), None) => println!("Session {id} saved. Continue with: dataready resume {id}"),
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct Summary<'a> {
    session: &'a str,
    role: &'a str,
    overall: u8,
    verdict: &'a str,
    /// Too little evidence for the verdict to be more than a first impression (the report says why).
    verdict_provisional: bool,
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
            verdict_provisional: r.verdict_provisional,
            status: r.status.label(),
            questions_answered: r.questions_answered,
            report_markdown: md_path.display().to_string(),
            report_json: json_path.display().to_string(),
        };
        println!("{}", serde_json::to_string(&s)?);
    } else {
        let provisional = if r.verdict_provisional { " (provisional)" } else { "" };
        if !scripted {
            println!(
                "\nInterview {}. Overall {}/100 · {}{provisional}.",
                r.status,
                r.overall,
                r.verdict.label()
            );
            if matches!(r.status, dataready::report::Status::InProgress) {
                println!("Everything answered is saved. Continue with: dataready resume {id}");
            }
        }
        println!(
            "session {id} · {} · overall {}/100 · {}{provisional} · {} answered · {} · report {}",
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
        // A gate passed on two answers would be a false green: the score is a first impression only.
        Some(min) if r.verdict_provisional => {
            eprintln!(
                "overall score {} is provisional, so it does not pass --fail-under {min}: {}",
                r.overall,
                r.evidence.shortfall().to_lowercase()
            );
            Ok(ExitCode::from(3))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}
