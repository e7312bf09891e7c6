//! `dataready`: the command line. Each subcommand is a few lines that wire adapters to the core.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;
mod cli_listen;

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
        dataready report last"
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
        #[arg(long)]
        json: bool,
    },
    /// List the skills (all, or one role's focus)
    Skills {
        #[arg(long, value_name = "ROLE")]
        role: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Run an interview: typed answers at a prompt, or a scripted run from a CSV
    Interview(cli::InterviewArgs),
    /// Continue an interrupted interview ("last" for the newest)
    Resume {
        id: String,
        /// Answers from a CSV instead of the prompt
        #[arg(long, value_name = "CSV")]
        script: Option<PathBuf>,
        #[command(flatten)]
        llm: dataready::llm::config::LlmArgs,
        #[command(flatten)]
        ear: dataready::listen::ear::EarArgs,
    },
    /// Grade answers to any question (from the bank or not)
    Grade(cli::GradeArgs),
    /// Show a session's report ("last" for the newest): a dashboard on a terminal, Markdown otherwise
    Report {
        id: String,
        #[arg(long, value_enum, default_value = "md")]
        format: cli::Format,
        /// Write to FILE instead of standard output
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// List saved sessions with date, role, status and score
    Sessions {
        #[arg(long)]
        json: bool,
    },
    /// Check what this machine can do (models, microphone, speaker, LLM) and how to fix what is missing
    Doctor {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        llm: dataready::llm::config::LlmArgs,
    },
    /// Show installed models, or prepare the grader's caches
    Models {
        #[command(subcommand)]
        action: cli::ModelsAction,
    },
    /// Print the transcript of a recorded answer (any WAV), with --json the segments and speech facts
    Transcribe(cli_listen::TranscribeArgs),
    /// Record one answer from the microphone until its end, then print the transcript
    Listen(cli_listen::ListenArgs),
    /// Question bank tools
    Bank {
        #[command(subcommand)]
        action: cli::BankAction,
    },
    /// Speak a line with the interviewer's voice, or write it to a WAV file (for trying voices)
    Say(dataready::voice::SayArgs),
    /// Install and list the interviewer's voices
    Voices {
        #[command(subcommand)]
        action: dataready::voice::VoicesAction,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    dataready::logging::init(&dataready::paths::data_dir(cli.data_dir.clone()));
    let ctx = cli::Context {
        data_dir: cli.data_dir,
        bank_dir: cli.bank,
    };
    let result = match cli.command {
        Command::Roles { json } => cli::roles(&ctx, json),
        Command::Skills { role, json } => cli::skills(&ctx, role.as_deref(), json),
        Command::Interview(args) => cli::interview(&ctx, args),
        Command::Resume { id, script, llm, ear } => cli::resume(&ctx, &id, script, &llm, &ear),
        Command::Grade(args) => cli::grade(&ctx, args),
        Command::Report { id, format, out } => cli::report(&ctx, &id, format, out),
        Command::Sessions { json } => cli::sessions(&ctx, json),
        Command::Bank { action } => cli::bank(&ctx, action),
        Command::Models { action } => cli::models(&ctx, action),
        Command::Doctor { json, llm } => cli::doctor(json, &llm),
        Command::Say(args) => dataready::voice::say(args),
        Command::Voices { action } => dataready::voice::voices(action),
        Command::Transcribe(args) => ctx.bank_ref().and_then(|b| cli_listen::transcribe_cmd(&b, args)),
        Command::Listen(args) => ctx.bank_ref().and_then(|b| cli_listen::listen_cmd(&b, args)),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
