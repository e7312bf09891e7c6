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
