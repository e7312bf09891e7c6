//! `review`: a saved interview answer by answer, with the recordings and model answers.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use serde::{Deserialize, Serialize};

use dataready::bank::Bank;
use dataready::llm::Llm;
use dataready::review::{self, ModelAnswer, Review};
use dataready::store::Store;
use dataready::{assemble, session, tui};

use super::flags::LlmFlags;
use super::{Context, Format, use_room};

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    dataready review last              the review view on a terminal (p plays a recording)\n  \
    dataready review last --play 3     play question 3's recording on the speaker\n  \
    dataready review last > review.md  the review as Markdown\n  \
    dataready review last --llm grade  model answers written by the configured LLM")]
pub struct ReviewArgs {
    /// The session ("last" for the newest; `dataready sessions` lists them)
    id: String,
    /// md (Markdown) or json
    #[arg(long, value_enum, default_value = "md")]
    format: Format,
    /// Write to FILE instead of standard output
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Play question N's recording on the speaker, then exit
    #[arg(long, value_name = "N")]
    play: Option<usize>,
    /// Output device for the recordings (names: `dataready voices list`) [default: the system's default]
    #[arg(long, value_name = "NAME")]
    speaker: Option<String>,
    #[command(flatten)]
    llm: LlmFlags,
}

pub fn review(ctx: &Context, a: ReviewArgs) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    let store = ctx.store();
    let id = store.resolve(&a.id)?;
    let saved = session::load_saved(&store, &id)?;
    let mut r = review::build(&id, &saved.config.role, &bank, &saved.turns);
    if let Some(n) = a.play {
        return play(&r, n, a.speaker.as_deref());
    }
    let llm = assemble::open_llm(&a.llm.options(), &mut |n| eprintln!("{n}"))?;
    if let Some(llm) = &llm {
        with_llm_answers(&store, &bank, &saved, llm, &mut r)?;
    }
    if matches!(a.format, Format::Md) && a.out.is_none() && use_room(false) {
        tui::show_report(
            &bank,
            saved.report(&bank, &id),
            Some(r),
            tui::Opening::Review,
            a.speaker,
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let text = match a.format {
        Format::Md => review::to_markdown(&r),
        Format::Json => serde_json::to_string_pretty(&r)? + "\n",
    };
    match a.out {
        Some(path) => super::write_out_file(&path, &text)?,
        None => {
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Plays one answer's recording to its end; without a recording or a speaker, says so and where the file is.
fn play(r: &Review, n: usize, speaker: Option<&str>) -> anyhow::Result<ExitCode> {
    let Some(item) = r.items.iter().find(|i| i.number == n) else {
        anyhow::bail!(
            "session {} has no question {n} (it has {}); `dataready review {}` lists them",
            r.session,
            r.items.len(),
            r.session
        );
    };
    let Some(path) = &item.recording else {
        eprintln!("Q{n} was typed, not spoken: there is no recording to play.");
        return Ok(ExitCode::FAILURE);
    };
    let path = PathBuf::from(path);
    if !path.is_file() {
        eprintln!("The recording of Q{n} is gone: {} no longer exists.", path.display());
        return Ok(ExitCode::FAILURE);
    }
    match dataready::voice::Replay::start(&path, speaker) {
        Ok(replay) => {
            eprintln!("Playing Q{n}'s recording on {} ({})", replay.device(), path.display());
            replay.handle().wait();
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!(
                "No speaker to play it on ({e}). The recording is at {}\n\
                 Check the output with `dataready doctor`, or pick one with --speaker NAME (`dataready voices list`).",
                path.display()
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// An LLM model answer kept with the session, so reviewing again costs nothing.
#[derive(Serialize, Deserialize)]
struct Cached {
    question: String,
    answer: ModelAnswer,
}

const CACHE: &str = "model-answers.json";

/// Replaces the rubric's model answers with the LLM's, from the session's cache or asked now (with
/// progress); an answer the LLM could not write keeps the rubric's, with why on stderr.
fn with_llm_answers(
    store: &Store,
    bank: &Bank,
    saved: &session::Saved,
    llm: &std::sync::Arc<Llm>,
    r: &mut Review,
) -> anyhow::Result<()> {
    let path = store.dir(&r.session).join(CACHE);
    let mut cache: BTreeMap<usize, Cached> = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let by = format!("the LLM, {}", llm.config.deep_model);
    let todo: Vec<usize> = (0..r.items.len())
        .filter(|&i| {
            let item = &r.items[i];
            !item.points.is_empty()
                && !cache
                    .get(&item.number)
                    .is_some_and(|c| c.question == item.question && c.answer.by == by)
        })
        .collect();
    let started = std::time::Instant::now();
    for (done, &i) in todo.iter().enumerate() {
        let item = &r.items[i];
        eprint!(
            "\rWriting model answers with {}: {}/{} ({:.0} s)",
            llm.config.deep_model,
            done + 1,
            todo.len(),
            started.elapsed().as_secs_f64()
        );
        let turn = &saved.turns[item.number - 1];
        let Some(q) = review::question_of(bank, &saved.turns, turn) else {
            continue;
        };
        match dataready::llm::review::model_answer(llm, q, item.kind, &item.question, &saved.config.role) {
            Ok(answer) => {
                cache.insert(
                    item.number,
                    Cached {
                        question: item.question.clone(),
                        answer,
                    },
                );
                let json = serde_json::to_vec_pretty(&cache)?;
                store
                    .write_file(&r.session, CACHE, &json)
                    .with_context(|| format!("cannot save model answers to {}", path.display()))?;
            }
            Err(why) => eprintln!(
                "\nQ{}: the LLM wrote no model answer ({why}); the rubric's is shown.",
                item.number
            ),
        }
    }
    if !todo.is_empty() {
        eprintln!();
    }
    for item in &mut r.items {
        if let Some(c) = cache.get(&item.number).filter(|c| c.question == item.question) {
            item.model_answer = c.answer.clone();
        }
    }
    Ok(())
}
