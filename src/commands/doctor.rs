//! `doctor`: what this machine can do, and the fix for each missing piece.

use std::process::ExitCode;

use dataready::{doctor, llm};

use super::flags::LlmFlags;

/// `dataready doctor`: what this machine can do and the fix for each missing piece, then the LLM
/// endpoint's settings (key masked) and a live check when one is configured.
pub fn doctor(json: bool, args: &LlmFlags) -> anyhow::Result<ExitCode> {
    let config = llm::config::from_env(&args.options())?;
    let mut checks = doctor::checks(config.as_ref());
    // The LLM is described below, with its live check, when one is configured.
    if config.is_some() && !json {
        checks.retain(|c| c.name != "LLM");
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
        return Ok(ExitCode::SUCCESS);
    }
    for c in &checks {
        println!("{} {:22} {}", if c.ok { "ok " } else { "-- " }, c.name, c.detail);
        if let Some(fix) = &c.fix {
            println!("    fix: {fix}");
        }
    }
    // Only a configured endpoint is probed; `--llm full` probes the default local server.
    let Some(config) = config else {
        println!(
            "LLM: not configured; interviews use the question bank and the offline grader. \
             Probe a local server with: dataready doctor --llm full"
        );
        return Ok(ExitCode::SUCCESS);
    };
    let (lines, ok) = llm::doctor(&config);
    for l in lines {
        println!("{l}");
    }
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
