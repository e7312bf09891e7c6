//! The subcommands, one file per family. Each parses what the user gave (clap lives here only),
//! turns it into the library's plain options, runs, and prints.

pub mod bank;
pub mod doctor;
pub mod flags;
pub mod grade;
pub mod history;
pub mod interview;
pub mod listen;
pub mod models;
pub mod review;
pub mod sessions;
pub mod voice;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::ValueEnum;

use dataready::bank::Bank;
use dataready::grade::RubricGrader;
use dataready::notice::Notice;
use dataready::paths;
use dataready::store::Store;

/// The global flags every subcommand sees.
pub struct Context {
    pub data_dir: Option<PathBuf>,
    pub bank_dir: Option<PathBuf>,
}

impl Context {
    pub fn bank(&self) -> anyhow::Result<Arc<Bank>> {
        let bank = match &self.bank_dir {
            Some(dir) => Bank::load_dir(dir)?,
            None => Bank::builtin()?,
        };
        Ok(Arc::new(bank))
    }

    pub fn store(&self) -> Store {
        Store::new(&paths::data_dir(self.data_dir.clone()))
    }

    /// The offline grader, with the first-time embedding of the bank shown on stderr.
    pub fn grader(&self, bank: Arc<Bank>) -> anyhow::Result<RubricGrader> {
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
        dataready::assemble::load_grader(bank, &mut progress)
    }
}

/// Writes `--out FILE` (a report or a review). A folder, or a session's own journal, is refused: the
/// report written over `journal.jsonl` destroyed the session it came from.
pub fn write_out_file(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    if path.is_dir() {
        anyhow::bail!(
            "{} is a folder; give --out a file name, such as {}",
            path.display(),
            path.join("report.md").display()
        );
    }
    if path.file_name().is_some_and(|n| n == "journal.jsonl") {
        anyhow::bail!(
            "{} would be written over a session's journal (its answers); choose another file name",
            path.display()
        );
    }
    // Private and atomic like the session files (a report quotes the candidate's answers); the error names
    // the file, not a session folder.
    dataready::store::write_private(path, text.as_bytes()).map_err(|e| match e {
        dataready::store::StoreError::Io { err, .. } => anyhow::anyhow!("cannot write {}: {err}", path.display()),
        other => other.into(),
    })?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// `interview --out DIR`, checked before the interview starts: an existing file there is refused then,
/// not after the last answer.
pub fn check_out_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    if dir.exists() && !dir.is_dir() {
        anyhow::bail!(
            "--out {} is a file; --out takes a folder to copy report.md and report.json into",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create the folder {}", dir.display()))
}

/// Notices before the room opens or at the plain prompt go to stderr, one line each.
pub fn to_stderr(n: Notice) {
    eprintln!("{n}");
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Md,
    Json,
}

/// The room needs a terminal on both ends; otherwise (pipes, CI) the plain prompt is used.
pub fn use_room(plain: bool) -> bool {
    !plain && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
}
