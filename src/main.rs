//! `dataready`: the command line. Each subcommand lives in `commands/`; interviews are put together
//! in one place, `dataready::assemble`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;

use commands::{Context, bank, doctor, flags, grade, history, interview, listen, models, review, sessions, voice};

#[derive(Parser)]
#[command(
    name = "dataready",
    version,
    about = "Voice mock interviews for data engineers, in your terminal, fully offline.",
    long_about = "Voice mock interviews for data engineers, in your terminal, fully offline.\n\n\
        Start with:  dataready interview --role mid\n\
        Roles:       junior (0-2 yrs), mid (2-5), senior (5-8), staff (8+), principal (10+)\n\
        Sessions are saved after every answer; `dataready resume last` continues an interrupted one.",
    after_help = "Examples:\n  \
        dataready interview --role senior --mode practice\n  \
        dataready interview --role mid --script answers.csv --fail-under 60\n  \
        dataready grade --question \"What is a broadcast join?\" --answer \"...\"\n  \
        dataready report last\n  \
        dataready review last"
)]
struct Cli {
    /// Where sessions and reports are kept [default: $DATAREADY_HOME or ~/.local/share/dataready]
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Use an edited question bank folder instead of the built-in one
    #[arg(long, global = true, env = "DATAREADY_BANK", value_name = "DIR")]
    bank: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the roles and what each is interviewed on
    Roles {
        /// Print it as JSON (for scripts)
        #[arg(long)]
        json: bool,
    },
    /// List the skills (all, or one role's focus)
    Skills {
        /// Only this role's focus skills (`dataready roles` lists them)
        #[arg(long, value_name = "ROLE")]
        role: Option<String>,
        /// Print it as JSON (for scripts)
        #[arg(long)]
        json: bool,
    },
    /// Run an interview: typed answers at a prompt, or a scripted run from a CSV
    Interview(interview::InterviewArgs),
    /// Continue an interrupted interview ("last" for the newest)
    Resume(interview::ResumeArgs),
    /// Grade answers to any question (from the bank or not)
    Grade(grade::GradeArgs),
    /// Show a session's report ("last" for the newest): a dashboard on a terminal, Markdown otherwise
    Report {
        /// The session ("last" for the newest; `dataready sessions` lists them)
        id: String,
        /// md (Markdown) or json
        #[arg(long, value_enum, default_value = "md")]
        format: commands::Format,
        /// Write to FILE instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Go back over a session answer by answer: your transcript and recording, what a strong answer
    /// covers, what you covered and missed, and a model answer
    Review(review::ReviewArgs),
    /// Progress across finished sessions: scores over time, a trend per skill, what to practise next
    History {
        /// Only this role's sessions
        #[arg(long, value_name = "ROLE")]
        role: Option<String>,
        /// Only this skill
        #[arg(long, value_name = "SKILL")]
        skill: Option<String>,
        /// Print it as JSON (for scripts)
        #[arg(long)]
        json: bool,
    },
    /// List saved sessions with date, role, status and score
    Sessions {
        /// Print it as JSON (for scripts)
        #[arg(long)]
        json: bool,
    },
    /// Check what this machine can do (models, microphone, speaker, LLM) and how to fix what is missing
    Doctor {
        /// Print it as JSON (for scripts)
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        llm: flags::LlmFlags,
    },
    /// Show installed models, or prepare the grader's caches
    Models {
        #[command(subcommand)]
        action: models::ModelsAction,
    },
    /// Print the transcript of a recorded answer (any WAV), with --json the segments and speech facts
    Transcribe(listen::TranscribeArgs),
    /// Record one answer from the microphone until its end, then print the transcript
    Listen(listen::ListenArgs),
    /// Question bank tools
    Bank {
        #[command(subcommand)]
        action: bank::BankAction,
    },
    /// Speak a line with the interviewer's voice, or write it to a WAV file (for trying voices)
    Say(voice::SayArgs),
    /// Install and list the interviewer's voices
    Voices {
        #[command(subcommand)]
        action: voice::VoicesAction,
    },
}

/// Output piped into a reader that stops early (`dataready bank questions | head -1`) is finished, not a crash:
/// `println!` panics on a closed pipe, and that panic ends the program quietly, as other command-line tools do.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to std") && msg.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

/// How long Whisper's OpenMP threads (libgomp) spin waiting for work before they sleep. libgomp's default
/// (300,000 spins) made a 32 s answer take 72 s instead of 16 s while another Whisper process ran, and 23 s
/// instead of 15 s beside one busy process; on quiet cores 1,000 is no slower (7.3 s against 9.2 s, as the README
/// says; a 26 s clip re-checked on quiet cores, base: 5.3-5.5 s against 5.2-5.6 s).
const GOMP_SPINCOUNT: &str = "1000";

/// libgomp reads its settings once, as the program loads, so they are set by running this program again
/// with them (same process id, arguments and streams). A user's own `GOMP_SPINCOUNT` or `OMP_WAIT_POLICY`
/// is left alone; if the program cannot be run again it goes on with libgomp's defaults.
fn yielding_openmp() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os("GOMP_SPINCOUNT").is_some() || std::env::var_os("OMP_WAIT_POLICY").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
    // Only returns if the exec failed.
    let _ = std::process::Command::new(&exe)
        .arg0(arg0)
        .args(args)
        .env("GOMP_SPINCOUNT", GOMP_SPINCOUNT)
        .exec();
}

fn main() -> ExitCode {
    yielding_openmp();
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    dataready::logging::init(&dataready::paths::data_dir(cli.data_dir.clone()));
    let ctx = Context {
        data_dir: cli.data_dir,
        bank_dir: cli.bank,
    };
    let result = match cli.command {
        Command::Roles { json } => bank::roles(&ctx, json),
        Command::Skills { role, json } => bank::skills(&ctx, role.as_deref(), json),
        Command::Interview(args) => interview::interview(&ctx, args),
        Command::Resume(args) => interview::resume(&ctx, args),
        Command::Grade(args) => grade::grade(&ctx, args),
        Command::Report { id, format, out } => sessions::report(&ctx, &id, format, out),
        Command::Review(args) => review::review(&ctx, args),
        Command::Sessions { json } => sessions::sessions(&ctx, json),
        Command::History { role, skill, json } => history::history(&ctx, role.as_deref(), skill.as_deref(), json),
        Command::Bank { action } => bank::bank(&ctx, action),
        Command::Models { action } => models::models(&ctx, action),
        Command::Doctor { json, llm } => doctor::doctor(json, &llm),
        Command::Say(args) => voice::say(args),
        Command::Voices { action } => voice::voices(action),
        Command::Transcribe(args) => ctx.bank().and_then(|b| listen::transcribe_cmd(&b, args)),
        Command::Listen(args) => ctx.bank().and_then(|b| listen::listen_cmd(&b, args)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
