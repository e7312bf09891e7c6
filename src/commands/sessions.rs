//! `report` and `sessions`: saved interviews, read back from their journals.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use dataready::{report, session, tui};

use super::{Context, Format, use_room};

pub fn report(ctx: &Context, id: &str, format: Format, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    let store = ctx.store();
    let id = store.resolve(id)?;
    let saved = session::load_saved(&store, &id)?;
    let r = saved.report(&bank, &id);
    if matches!(format, Format::Md) && out.is_none() && use_room(false) {
        let review = dataready::review::build(&id, &saved.config.role, &bank, &saved.turns);
        tui::show_report(&bank, r, Some(review), tui::Opening::Report, None)?;
        return Ok(ExitCode::SUCCESS);
    }
    let text = match format {
        Format::Md => report::to_markdown(&r),
        Format::Json => report::to_json(&r),
    };
    match out {
        Some(path) => super::write_out_file(&path, &text)?,
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
    /// Too little evidence for a firm verdict (fewer than 5 opening questions answered, or focus skills
    /// uncovered): the verdict is shown as provisional.
    verdict_provisional: bool,
    /// In progress and started at least a week ago.
    stale: bool,
}

pub fn sessions(ctx: &Context, json: bool) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    let store = ctx.store();
    let (reports, warnings) = dataready::history::reports(&store, &bank)?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let rows: Vec<SessionRow> = reports
        .into_iter()
        .map(|r| SessionRow {
            stale: dataready::history::stale_days(&r, session::now_ms()).is_some(),
            id: r.session,
            started_at: r.started_at,
            role: r.role.id,
            status: r.status.to_string(),
            questions_answered: r.questions_answered,
            overall: r.overall,
            verdict: r.verdict.label().to_string(),
            verdict_provisional: r.verdict_provisional,
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() && !warnings.is_empty() {
        println!(
            "No readable sessions in {}: {} could not be read (the warnings above say why and what to do).",
            store.root().display(),
            warnings.len()
        );
    } else if rows.is_empty() {
        println!(
            "No sessions yet in {}. Start one with: dataready interview --role mid",
            store.root().display()
        );
    } else {
        println!(
            "{:32} {:20} {:10} {:>5} {:32} STATUS",
            "SESSION", "STARTED", "ROLE", "SCORE", "VERDICT"
        );
        for r in rows {
            println!(
                "{:32} {:20} {:10} {:>5} {:32} {} ({} answered)",
                r.id,
                r.started_at,
                r.role,
                if r.questions_answered == 0 {
                    "–".to_string()
                } else {
                    r.overall.to_string()
                },
                match (r.questions_answered, r.verdict_provisional) {
                    (0, _) => "no answers yet".to_string(),
                    (_, true) => format!("{} (provisional)", r.verdict),
                    _ => r.verdict.clone(),
                },
                if r.stale {
                    format!("{}, stale", r.status)
                } else {
                    r.status.clone()
                },
                r.questions_answered
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
