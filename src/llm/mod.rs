//! The LLM interviewer: an OpenAI-compatible chat client, prompt templates, LLM grading, and
//! question and follow-up writing. Every step has a time budget and an offline fallback.

pub mod background;
pub mod client;
pub mod config;
pub mod grader;
pub mod interviewer;
pub mod prompts;
pub mod review;
pub mod settings;
pub mod sse;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use client::{Budget, ChatRequest, Client, Message, Stream};
use config::LlmConfig;
use prompts::{PromptError, Prompts};

/// One LLM step as it happened, for the run's latency summary.
#[derive(Debug, Clone, Serialize)]
pub struct StepStat {
    /// `evaluate`, `question`, `follow_up`, ...
    pub step: &'static str,
    /// Wall time of the step, retries and repair included, in microseconds.
    pub us: u64,
    pub ok: bool,
    pub attempts: u32,
    pub repaired: bool,
    /// Why the step fell back to the offline path.
    pub fallback: Option<String>,
}

/// One JSON-producing request: which step, which model, the rendered prompt and the reply's schema.
pub struct JsonStep<'a> {
    pub step: &'static str,
    pub model: &'a str,
    /// System and user prompt.
    pub prompt: (String, String),
    pub schema: Value,
    pub max_tokens: u32,
    pub temperature: f32,
}

/// A configured endpoint with its prompts: what the grader, the interviewer and `doctor` share.
pub struct Llm {
    pub config: LlmConfig,
    pub prompts: Prompts,
    pub client: Client,
    stats: Mutex<Vec<StepStat>>,
}

impl Llm {
    /// Loads and checks the prompt templates (built-in, or the configured folder) and sets up the client.
    pub fn new(config: LlmConfig) -> Result<Self, PromptError> {
        let prompts = match &config.prompts {
            Some(dir) => Prompts::load_dir(dir)?,
            None => Prompts::builtin()?,
        };
        Ok(Self::with_prompts(config, prompts))
    }

    pub fn with_prompts(config: LlmConfig, prompts: Prompts) -> Self {
        let client = Client::new(&config.base_url, config.key.clone(), config.client.clone());
        Self {
            config,
            prompts,
            client,
            stats: Mutex::new(Vec::new()),
        }
    }

    pub fn stats(&self) -> Vec<StepStat> {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn record(&self, stat: StepStat) {
        self.stats.lock().unwrap_or_else(|p| p.into_inner()).push(stat);
    }

    /// One line on how the LLM steps went: per step kind, how many, latency, and fallbacks.
    pub fn summary(&self) -> Option<String> {
        let stats = self.stats();
        if stats.is_empty() {
            return None;
        }
        let mut kinds: Vec<&str> = stats.iter().map(|s| s.step).collect();
        kinds.dedup();
        kinds.sort_unstable();
        kinds.dedup();
        let parts: Vec<String> = kinds
            .iter()
            .map(|kind| {
                let mut us: Vec<u64> = stats.iter().filter(|s| s.step == *kind).map(|s| s.us).collect();
                us.sort_unstable();
                let ok = stats.iter().filter(|s| s.step == *kind && s.ok).count();
                format!(
                    "{kind} {ok}/{} ok, median {:.1} ms, max {:.1} ms",
                    us.len(),
                    us[us.len() / 2] as f64 / 1000.0,
                    us[us.len() - 1] as f64 / 1000.0
                )
            })
            .collect();
        let mut line = format!("LLM ({}): {}", self.config.deep_model, parts.join(" · "));
        let mut reasons: Vec<String> = stats.iter().filter_map(|s| s.fallback.clone()).collect();
        reasons.sort();
        reasons.dedup();
        if !reasons.is_empty() {
            line.push_str(&format!("; offline path used after: {}", reasons.join("; ")));
        }
        Some(line)
    }

    /// Asks for a JSON reply following `schema`, with one repair attempt, all within one step budget.
    /// `parse` turns the reply into a value or says what is wrong with it.
    pub fn ask_json<T>(&self, ask: JsonStep<'_>, parse: impl Fn(&str) -> Result<T, String>) -> Result<T, String> {
        self.ask_json_within(ask, parse, Budget::new(self.config.budget))
    }

    /// [`Llm::ask_json`] within `budget` instead of the interview step's.
    pub fn ask_json_within<T>(
        &self,
        ask: JsonStep<'_>,
        parse: impl Fn(&str) -> Result<T, String>,
        budget: Budget,
    ) -> Result<T, String> {
        let JsonStep {
            step,
            model,
            prompt: (system, user),
            schema,
            max_tokens,
            temperature,
        } = ask;
        let mut messages = Vec::new();
        if !system.is_empty() {
            messages.push(Message::system(system));
        }
        messages.push(Message::user(user));
        let mut req = ChatRequest {
            model: model.to_string(),
            messages,
            max_tokens,
            temperature,
            schema: Some((step.to_string(), schema.clone())),
        };
        let mut stat = StepStat {
            step,
            us: 0,
            ok: false,
            attempts: 0,
            repaired: false,
            fallback: None,
        };
        let started = Instant::now();
        let result = (|| {
            let reply = self
                .client
                .chat(&req, &budget, &mut |_: Stream<'_>| {})
                .map_err(|e| e.to_string())?;
            stat.attempts += reply.attempts;
            let why = match parse(&reply.text) {
                Ok(v) => return Ok(v),
                Err(why) => why,
            };
            if budget.remaining() < Duration::from_millis(100) {
                return Err(format!("invalid reply ({why}) and no time left to repair it"));
            }
            // One repair attempt: show the model its reply and what is wrong with it.
            stat.repaired = true;
            let cut: String = reply.text.chars().take(4000).collect();
            let (_, repair) = self
                .prompts
                .repair
                .render(&[("error", &why), ("schema", &schema.to_string())]);
            req.messages.push(Message::assistant(cut));
            req.messages.push(Message::user(repair));
            let reply = self
                .client
                .chat(&req, &budget, &mut |_: Stream<'_>| {})
                .map_err(|e| format!("invalid reply ({why}), then {e}"))?;
            stat.attempts += reply.attempts;
            parse(&reply.text).map_err(|again| format!("invalid reply twice ({again})"))
        })();
        stat.us = started.elapsed().as_micros() as u64;
        stat.ok = result.is_ok();
        stat.fallback = result.as_ref().err().map(|e| text_short(e));
        self.record(stat);
        result
    }
}

fn text_short(s: &str) -> String {
    crate::text::one_line(s, 160)
}

/// The JSON object in a reply: tolerates code fences and text around it.
pub fn extract_json(reply: &str) -> Result<Value, String> {
    let start = reply.find('{').ok_or("the reply has no JSON object")?;
    let end = reply
        .rfind('}')
        .ok_or("the JSON object is not closed (the reply was cut off?)")?;
    if end < start {
        return Err("the JSON object is not closed (the reply was cut off?)".into());
    }
    let v: Value = serde_json::from_str(&reply[start..=end]).map_err(|e| format!("invalid JSON: {e}"))?;
    if v.is_object() {
        Ok(v)
    } else {
        Err("the reply is not a JSON object".into())
    }
}

/// A random marker for delimiting untrusted text in a prompt: an answer cannot guess it to close its block.
pub fn nonce() -> String {
    use std::hash::BuildHasher;
    let h = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    format!("{:012x}", h & 0xffff_ffff_ffff)
}

/// The candidate's words as a delimited data block, with anything marker-like inside neutralized.
pub fn answer_block(answer: &str, nonce: &str, max_chars: usize) -> String {
    let clean = crate::text::clean(answer, max_chars);
    let body = clean.text.replace("<answer", "‹answer").replace("</answer", "‹/answer");
    let cut = if clean.truncated { " […]" } else { "" };
    format!("<answer-{nonce}>\n{body}{cut}\n</answer-{nonce}>")
}

/// Checks the endpoint: settings (key masked), then one short streamed request. Returns the lines to
/// print and whether the endpoint answered.
pub fn doctor(config: &LlmConfig) -> (Vec<String>, bool) {
    let mut lines = vec![
        format!("LLM mode      {}", format!("{:?}", config.mode).to_lowercase()),
        format!("preset        {}", format!("{:?}", config.preset).to_lowercase()),
        format!(
            "endpoint      {}/chat/completions",
            config.base_url.trim_end_matches('/')
        ),
        format!("deep model    {}", config.deep_model),
        format!("fast model    {}", config.fast_model),
        match (&config.key, &config.key_source) {
            (Some(k), Some(src)) => format!("key           {} (from {src})", k.masked()),
            (Some(k), None) => format!("key           {}", k.masked()),
            (None, _) => "key           none".to_string(),
        },
        format!("step budget   {:.1} s", config.budget.as_secs_f64()),
    ];
    match Prompts::builtin().and_then(|p| match &config.prompts {
        Some(dir) => Prompts::load_dir(dir),
        None => Ok(p),
    }) {
        Ok(p) => lines.push(format!(
            "prompts       {} ({}, {}, {}, {}, {}, {})",
            config
                .prompts
                .as_ref()
                .map_or("built-in".to_string(), |d| d.display().to_string()),
            p.evaluate.id(),
            p.question.id(),
            p.follow_up.id(),
            p.repair.id(),
            p.narrative.id(),
            p.model_answer.id()
        )),
        Err(e) => {
            lines.push(format!("prompts       INVALID: {e}"));
            return (lines, false);
        }
    }
    let client = Client::new(&config.base_url, config.key.clone(), config.client.clone());
    let req = ChatRequest {
        model: config.deep_model.clone(),
        messages: vec![Message::user("Reply with the single word: ready")],
        max_tokens: 8,
        temperature: 0.0,
        schema: None,
    };
    let budget = Budget::new(config.budget.max(Duration::from_secs(5)));
    match client.chat(&req, &budget, &mut |_| {}) {
        Ok(reply) => {
            lines.push(format!(
                "check         OK in {:.2} s (first text {:.2} s, {} attempt(s)): {:?}",
                reply.elapsed.as_secs_f64(),
                reply.first_text.map_or(0.0, |d| d.as_secs_f64()),
                reply.attempts,
                crate::text::one_line(&reply.text, 40)
            ));
            (lines, true)
        }
        Err(e) => {
            lines.push(format!("check         FAILED: {e}"));
            lines.push(
                "              interviews still run, offline; fix the endpoint or run with --llm off".to_string(),
            );
            (lines, false)
        }
    }
}
