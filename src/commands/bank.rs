//! `roles`, `skills` and `bank`: what the question bank holds.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;

use dataready::text;

use super::Context;

#[derive(Subcommand)]
pub enum BankAction {
    /// Validate the bank and summarize it
    Check,
    /// List question ids, skills, roles and difficulty
    Questions {
        /// Only this skill's questions (`dataready skills` lists the ids)
        #[arg(long)]
        skill: Option<String>,
    },
}

pub fn roles(ctx: &Context, json: bool) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&bank.roles)?);
        return Ok(ExitCode::SUCCESS);
    }
    for r in &bank.roles {
        let focus: Vec<&str> = r.focus.iter().map(|(s, _)| bank.skill_name(s)).collect();
        println!(
            "{:10} {} ({} years)\n           focus: {}",
            r.id,
            r.name,
            r.years,
            focus.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn skills(ctx: &Context, role: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    let skills: Vec<&dataready::bank::Skill> = match role {
        Some(r) => {
            let role = bank
                .role(r)
                .with_context(|| format!("unknown role {r:?}; valid roles: {}", bank.role_ids().join(", ")))?;
            role.focus.iter().filter_map(|(s, _)| bank.skill(s)).collect()
        }
        None => bank.skills.iter().collect(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&skills)?);
        return Ok(ExitCode::SUCCESS);
    }
    for s in skills {
        let n = bank.questions.iter().filter(|q| q.skill == s.id).count();
        println!("{:20} {} ({n} questions): {}", s.id, s.name, s.summary);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn bank(ctx: &Context, action: BankAction) -> anyhow::Result<ExitCode> {
    let bank = ctx.bank()?;
    match action {
        BankAction::Check => {
            // The technology vocabulary (`stack.toml`) is part of the bank: `--cv`/`--job` would fail on it later.
            let vocabulary = dataready::profile::Vocabulary::for_bank(&bank, ctx.bank_dir.as_deref())?;
            // A role with no questions would end its interview at once.
            let empty: Vec<&str> = bank
                .roles
                .iter()
                .filter(|r| !bank.questions.iter().any(|q| q.roles.contains(&r.id)))
                .map(|r| r.id.as_str())
                .collect();
            if !empty.is_empty() {
                anyhow::bail!(
                    "role(s) with no questions: {}; give some questions `roles = [\"{}\"]`",
                    empty.join(", "),
                    empty[0]
                );
            }
            println!(
                "bank OK: {} questions, {} skills, {} roles, {} technology terms (digest {})",
                bank.questions.len(),
                bank.skills.len(),
                bank.roles.len(),
                vocabulary.len(),
                bank.digest
            );
            for r in &bank.roles {
                let n = bank.questions.iter().filter(|q| q.roles.contains(&r.id)).count();
                println!("  {:10} {n} questions", r.id);
            }
        }
        BankAction::Questions { skill } => {
            let skill = match skill {
                Some(s) => Some(bank.find_skill(&s).map_err(anyhow::Error::msg)?.id.clone()),
                None => None,
            };
            for q in bank
                .questions
                .iter()
                .filter(|q| skill.as_ref().is_none_or(|s| &q.skill == s))
            {
                println!(
                    "{:40} {:20} d{} {:28} {}",
                    q.id,
                    q.skill,
                    q.difficulty,
                    q.roles.join(","),
                    text::one_line(&q.text, 60)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
