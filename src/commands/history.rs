//! `history`: progress across finished sessions, a trend per skill and what to practise next.

use std::process::ExitCode;

use dataready::bank::Bank;
use dataready::history::{self, History};

use super::Context;

/// The history of this store, optionally for one role or skill.
pub fn load(ctx: &Context, bank: &Bank, role: Option<&str>, skill: Option<&str>) -> anyhow::Result<History> {
    let (reports, warnings) = history::reports(&ctx.store(), bank)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(history::build(bank, &reports, role, skill))
}

pub fn history(ctx: &Context, role: Option<&str>, skill: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    if let Some(r) = role.filter(|r| bank.role(r).is_none()) {
        anyhow::bail!("unknown role {r:?}; valid roles: {}", bank.role_ids().join(", "));
    }
    if let Some(s) = skill.filter(|s| bank.skill(s).is_none()) {
        anyhow::bail!("unknown skill {s:?}; valid skills: {}", bank.skill_ids().join(", "));
    }
    let h = load(ctx, &bank, role, skill)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&h)?);
        return Ok(ExitCode::SUCCESS);
    }
    if h.sessions.is_empty() {
        match (role, skill) {
            (None, None) => println!("No finished sessions yet. Start one with: dataready interview --role mid"),
            _ => println!(
                "No finished sessions{}{} yet (`dataready history` shows every role and skill). Start one with: \
                 dataready interview --role {}",
                role.map(|r| format!(" for role {r}")).unwrap_or_default(),
                skill.map(|s| format!(" with skill {s}")).unwrap_or_default(),
                role.unwrap_or("mid")
            ),
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:20} {:10} {:>7}  {:18} EVIDENCE",
        "STARTED", "ROLE", "OVERALL", "VERDICT"
    );
    for s in &h.sessions {
        println!(
            "{:20} {:10} {:>7}  {:18} {}",
            s.started_at,
            s.role,
            s.overall,
            s.verdict,
            s.too_little_evidence
                .as_ref()
                .map_or("enough".to_string(), |why| format!(
                    "too little ({why}): not in the trends"
                ))
        );
    }
    if h.skills.is_empty() {
        println!(
            "\nNo session has enough evidence for trends yet (at least 5 answered opening questions and 60% of the role's focus skills)."
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "\n{:28} {:>6} {:>7}  TREND (oldest → latest)",
        "SKILL", "LATEST", "CHANGE"
    );
    for s in &h.skills {
        println!(
            "{:28} {:>6} {:>+7}  {} {}",
            s.name,
            s.latest,
            s.change,
            s.sparkline,
            s.scores.iter().map(u8::to_string).collect::<Vec<_>>().join(" → ")
        );
    }
    let names = |ids: &[String]| {
        ids.iter()
            .map(|i| bank.skill_name(i).to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    println!("\nWeakest: {}", names(&h.weakest));
    if !h.most_improved.is_empty() {
        println!("Most improved: {}", names(&h.most_improved));
    }
    if let Some(n) = &h.next_focus {
        println!("Next: {n}");
    }
    Ok(ExitCode::SUCCESS)
}
