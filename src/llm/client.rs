//! A blocking client for OpenAI-compatible chat completions: streamed replies (SSE), connect and
//! total timeouts, bounded retries with backoff and jitter, and a per-step time budget that no
//! retry may overrun. Keys are sent in a header and never appear in errors.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader, Read};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{Value, json};

use super::settings::{ClientSettings, Secret};
use super::sse::SseParser;
use crate::text;

/// A reply longer than this is cut off: no prompt here asks for more.
const MAX_REPLY_BYTES: usize = 64 * 1024;
/// Consecutive failed steps after which the endpoint is left alone for a while.
const BREAKER_AFTER: u32 = 3;
const BREAKER_PAUSE: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub role: &'static str,
    pub content: String,
}

impl Message {
    pub fn system(content: impl Into<String>) -> Self {
        Self {
            role: "system",
            content: content.into(),
        }
    }
    pub fn user(content: impl Into<String>) -> Self {
        Self {
            role: "user",
            content: content.into(),
        }
    }
    pub fn assistant(content: impl Into<String>) -> Self {
        Self {
            role: "assistant",
            content: content.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ChatRequest {
    pub model: String,
    pub messages: Vec<Message>,
    pub max_tokens: u32,
    pub temperature: f32,
    /// A JSON schema the reply must follow: sent as `response_format` json_schema where the endpoint takes it.
    pub schema: Option<(String, Value)>,
}

/// A complete reply and what it took to get it.
#[derive(Debug, Clone)]
pub struct Reply {
    pub text: String,
    pub finish_reason: Option<String>,
    pub attempts: u32,
    pub elapsed: Duration,
    /// Time to the first streamed text of the successful attempt.
    pub first_text: Option<Duration>,
}

/// What a streaming caller sees while a reply arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream<'a> {
    Text(&'a str),
    /// The attempt failed part-way and is being retried: forget the text seen so far.
    Restart,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    #[error("no reply within {0:.1} s")]
    Timeout(f32),
    #[error("cannot connect to {url}: {why}")]
    Connect { url: String, why: String },
    #[error("the connection broke: {0}")]
    Broken(String),
    #[error("HTTP {status}: {body}")]
    Status {
        status: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    #[error("the reply stream ended before the reply was complete")]
    Truncated,
    #[error("unreadable reply: {0}")]
    BadReply(String),
    #[error("not tried: the endpoint failed {0} steps in a row, so it is rested for a minute")]
    Resting(u32),
}

impl LlmError {
    fn retryable(&self) -> bool {
        match self {
            Self::Timeout(_) | Self::Connect { .. } | Self::Broken(_) | Self::Truncated | Self::BadReply(_) => true,
            Self::Status { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            Self::Resting(_) => false,
        }
    }

    /// A short label for reports and notes ("timeout", "http 429", ...).
    pub fn kind(&self) -> String {
        match self {
            Self::Timeout(_) => "timeout".into(),
            Self::Connect { .. } => "connect".into(),
            Self::Broken(_) => "connection broken".into(),
            Self::Status { status, .. } => format!("http {status}"),
            Self::Truncated => "truncated stream".into(),
            Self::BadReply(_) => "bad reply".into(),
            Self::Resting(_) => "endpoint resting".into(),
        }
    }
}

/// Time allowed for one step (a grade, a question), retries included. A queued budget's clock
/// starts when the request gets one of the client's slots, and waiting for a slot has its own limit.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    start: Instant,
    limit: Duration,
    queue: Option<Duration>,
}

impl Budget {
    pub fn new(limit: Duration) -> Self {
        Self {
            start: Instant::now(),
            limit,
            queue: None,
        }
    }
    /// `limit` from the moment a slot is free; waiting for one may take up to `queue`.
    pub fn queued(limit: Duration, queue: Duration) -> Self {
        Self {
            start: Instant::now(),
            limit,
            queue: Some(queue),
        }
    }
    pub fn remaining(&self) -> Duration {
        self.limit.saturating_sub(self.start.elapsed())
    }
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
    pub fn limit(&self) -> Duration {
        self.limit
    }
    /// How long to wait for a slot.
    fn slot_wait(&self) -> Duration {
        self.queue.unwrap_or_else(|| self.remaining())
    }
    /// The budget once a slot is held: a queued budget starts its clock now.
    fn in_slot(&self) -> Self {
        match self.queue {
            Some(_) => Self::new(self.limit),
            None => *self,
        }
    }
}

/// How a request went, for the adaptive concurrency limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Answered well inside its budget.
    Fast,
    /// Answered, or failed for a reason that says nothing about load.
    Neutral,
    /// Timed out, or the server said it is overloaded (429, 503).
    Overloaded,
}

/// Requests in flight, limited adaptively: one more after a run of fast replies (up to the configured
/// maximum), half as many after a timeout or an overload reply (at least one).
struct Slots {
    state: Mutex<SlotState>,
    freed: Condvar,
}

struct SlotState {
    limit: usize,
    max: usize,
    in_use: usize,
    fast_streak: usize,
}

impl Slots {
    fn new(initial: usize, max: usize) -> Self {
        let max = max.max(1);
        Self {
            state: Mutex::new(SlotState {
                limit: initial.clamp(1, max),
                max,
                in_use: 0,
                fast_streak: 0,
            }),
            freed: Condvar::new(),
        }
    }

    fn acquire(&self, wait: Duration) -> bool {
        let guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (mut s, _) = self
            .freed
            .wait_timeout_while(guard, wait, |s| s.in_use >= s.limit)
            .unwrap_or_else(|p| p.into_inner());
        if s.in_use >= s.limit {
            return false;
        }
        s.in_use += 1;
        true
    }

    fn release(&self, outcome: Outcome) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.in_use = s.in_use.saturating_sub(1);
        match outcome {
            Outcome::Overloaded => {
                s.limit = (s.limit / 2).max(1);
                s.fast_streak = 0;
            }
            Outcome::Fast => {
                s.fast_streak += 1;
                if s.fast_streak >= s.limit && s.limit < s.max {
                    s.limit += 1;
                    s.fast_streak = 0;
                }
            }
            Outcome::Neutral => s.fast_streak = 0,
        }
        drop(s);
        self.freed.notify_all();
    }

    fn limit(&self) -> usize {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).limit
    }
}

pub struct Client {
    agent: ureq::Agent,
    url: String,
    key: Option<Secret>,
    settings: ClientSettings,
    slots: Slots,
    failed_steps: AtomicU32,
    resting_until: Mutex<Option<Instant>>,
    /// Cleared when the endpoint rejects `response_format` json_schema; the schema then goes in the prompt only.
    schema_format: AtomicBool,
}

impl Client {
    /// `base_url` is the API root that `/chat/completions` is appended to (e.g. `http://127.0.0.1:8080/v1`).
    pub fn new(base_url: &str, key: Option<Secret>, settings: ClientSettings) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(settings.connect_timeout))
            .http_status_as_error(false)
            .user_agent(concat!("dataready/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();
        Self {
            agent,
            url: format!("{}/chat/completions", base_url.trim_end_matches('/')),
            key,
            slots: Slots::new(settings.initial_concurrency, settings.concurrency),
            settings,
            failed_steps: AtomicU32::new(0),
            resting_until: Mutex::new(None),
            schema_format: AtomicBool::new(true),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Requests allowed in flight right now (adapts between 1 and the configured concurrency).
    pub fn concurrency_now(&self) -> usize {
        self.slots.limit()
    }

    /// One chat completion within `budget`, retrying what can be retried while time remains.
    /// `on_stream` sees the text as it arrives (for speaking the first sentence early).
    pub fn chat(
        &self,
        req: &ChatRequest,
        budget: &Budget,
        on_stream: &mut dyn FnMut(Stream<'_>),
    ) -> Result<Reply, LlmError> {
        if let Some(until) = *self.resting_until.lock().unwrap_or_else(|p| p.into_inner())
            && Instant::now() < until
        {
            return Err(LlmError::Resting(self.failed_steps.load(Ordering::Relaxed)));
        }
        let result = self.chat_with_retries(req, budget, on_stream);
        if result.is_ok() {
            self.failed_steps.store(0, Ordering::Relaxed);
            *self.resting_until.lock().unwrap_or_else(|p| p.into_inner()) = None;
        } else {
            let failed = self.failed_steps.fetch_add(1, Ordering::Relaxed) + 1;
            if failed >= BREAKER_AFTER {
                *self.resting_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + BREAKER_PAUSE);
            }
        }
        result
    }

    fn chat_with_retries(
        &self,
        req: &ChatRequest,
        budget: &Budget,
        on_stream: &mut dyn FnMut(Stream<'_>),
    ) -> Result<Reply, LlmError> {
        if !self.slots.acquire(budget.slot_wait()) {
            return Err(LlmError::Timeout(budget.limit().as_secs_f32()));
        }
        let budget = &budget.in_slot();
        let mut attempt = 0u32;
        let result = loop {
            attempt += 1;
            let remaining = budget.remaining();
            if remaining < Duration::from_millis(20) {
                break Err(LlmError::Timeout(budget.limit().as_secs_f32()));
            }
            let with_schema = req.schema.is_some() && self.schema_format.load(Ordering::Relaxed);
            let attempt_result = self.once(
                req,
                with_schema,
                self.settings.request_timeout.map_or(remaining, |t| remaining.min(t)),
                on_stream,
            );
            let err = match attempt_result {
                Ok(mut reply) => {
                    reply.attempts = attempt;
                    reply.elapsed = budget.elapsed();
                    break Ok(reply);
                }
                Err(e) => e,
            };
            // An endpoint that does not take json_schema: ask again at once with the schema in the prompt only.
            if let LlmError::Status { status: 400, body, .. } = &err {
                let lower = body.to_lowercase();
                if with_schema && (lower.contains("response_format") || lower.contains("schema")) {
                    self.schema_format.store(false, Ordering::Relaxed);
                    on_stream(Stream::Restart);
                    continue;
                }
            }
            if !err.retryable() || attempt > self.settings.retries {
                break Err(err);
            }
            let wait = match &err {
                LlmError::Status {
                    retry_after: Some(after),
                    ..
                } => *after,
                _ => backoff(self.settings.backoff, attempt),
            };
            // Waiting past the budget would stall the interview: give up now and let the caller fall back.
            if wait + Duration::from_millis(50) >= budget.remaining() {
                break Err(err);
            }
            std::thread::sleep(wait);
            on_stream(Stream::Restart);
        };
        self.slots.release(match &result {
            Ok(reply) if reply.elapsed < budget.limit() / 4 => Outcome::Fast,
            Ok(_) => Outcome::Neutral,
            Err(LlmError::Timeout(_)) => Outcome::Overloaded,
            Err(LlmError::Status { status: 429 | 503, .. }) => Outcome::Overloaded,
            Err(_) => Outcome::Neutral,
        });
        result
    }

    fn once(
        &self,
        req: &ChatRequest,
        with_schema: bool,
        timeout: Duration,
        on_stream: &mut dyn FnMut(Stream<'_>),
    ) -> Result<Reply, LlmError> {
        let started = Instant::now();
        let timeout_secs = timeout.as_secs_f32();
        let mut body = json!({
            "model": req.model,
            "messages": req.messages,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "stream": true,
        });
        if let Some((name, schema)) = &req.schema {
            body["response_format"] = if with_schema {
                json!({"type": "json_schema", "json_schema": {"name": name, "strict": true, "schema": schema}})
            } else {
                json!({"type": "json_object"})
            };
        }
        let mut request = self
            .agent
            .post(&self.url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Content-Type", "application/json")
            .header("Accept", "text/event-stream, application/json");
        if let Some(key) = &self.key {
            request = request.header("Authorization", format!("Bearer {}", key.expose()));
        }
        let response = request
            .send(body.to_string())
            .map_err(|e| self.map_error(e, timeout_secs))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
        let event_stream = header("content-type").is_some_and(|c| c.contains("text/event-stream"));
        let mut reader = BufReader::new(response.into_body().into_reader());
        if status != 200 {
            let mut buf = Vec::new();
            let _ = reader.by_ref().take(4096).read_to_end(&mut buf);
            return Err(LlmError::Status {
                status,
                body: text::one_line(&String::from_utf8_lossy(&buf), 300),
                retry_after,
            });
        }
        if !event_stream {
            // A server that ignored `stream: true` sends one JSON completion.
            let mut buf = Vec::new();
            reader
                .by_ref()
                .take(MAX_REPLY_BYTES as u64)
                .read_to_end(&mut buf)
                .map_err(|e| io_error(e, timeout_secs))?;
            let v: Value = serde_json::from_slice(&buf).map_err(|e| LlmError::BadReply(format!("not JSON: {e}")))?;
            let text = v["choices"][0]["message"]["content"]
                .as_str()
                .ok_or_else(|| LlmError::BadReply("no choices[0].message.content".into()))?
                .to_string();
            on_stream(Stream::Text(&text));
            return Ok(Reply {
                text,
                finish_reason: v["choices"][0]["finish_reason"].as_str().map(str::to_string),
                attempts: 1,
                elapsed: started.elapsed(),
                first_text: Some(started.elapsed()),
            });
        }
        let mut parser = SseParser::default();
        let mut text = String::new();
        let mut finish_reason: Option<String> = None;
        let mut first_text = None;
        let mut done = false;
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader.read_line(&mut line).map_err(|e| io_error(e, timeout_secs))?;
            let event = if n == 0 { parser.finish() } else { parser.line(&line) };
            if let Some(event) = event {
                if event.data.trim() == "[DONE]" {
                    done = true;
                    break;
                }
                let chunk: Value = serde_json::from_str(&event.data)
                    .map_err(|e| LlmError::BadReply(format!("a stream chunk is not JSON: {e}")))?;
                if let Some(err) = chunk.get("error") {
                    let message = err["message"].as_str().map_or_else(|| err.to_string(), str::to_string);
                    return Err(LlmError::BadReply(text::one_line(&message, 300)));
                }
                let choice = &chunk["choices"][0];
                if let Some(delta) = choice["delta"]["content"].as_str()
                    && !delta.is_empty()
                {
                    first_text.get_or_insert_with(|| started.elapsed());
                    text.push_str(delta);
                    on_stream(Stream::Text(delta));
                }
                if let Some(reason) = choice["finish_reason"].as_str() {
                    finish_reason = Some(reason.to_string());
                }
                if text.len() > MAX_REPLY_BYTES {
                    finish_reason = Some("length".into());
                    done = true;
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        if !done && finish_reason.is_none() {
            return Err(LlmError::Truncated);
        }
        Ok(Reply {
            text,
            finish_reason,
            attempts: 1,
            elapsed: started.elapsed(),
            first_text,
        })
    }

    fn map_error(&self, e: ureq::Error, timeout_secs: f32) -> LlmError {
        match e {
            ureq::Error::Timeout(_) => LlmError::Timeout(timeout_secs),
            ureq::Error::Io(io) => match io.kind() {
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::AddrNotAvailable => LlmError::Connect {
                    url: self.url.clone(),
                    why: io.to_string(),
                },
                _ => io_error(io, timeout_secs),
            },
            ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => LlmError::Connect {
                url: self.url.clone(),
                why: e.to_string(),
            },
            other => LlmError::Broken(other.to_string()),
        }
    }
}

fn io_error(e: std::io::Error, timeout_secs: f32) -> LlmError {
    let timed_out = e.kind() == std::io::ErrorKind::TimedOut
        || e.get_ref()
            .and_then(|inner| inner.downcast_ref::<ureq::Error>())
            .is_some_and(|u| matches!(u, ureq::Error::Timeout(_)));
    if timed_out {
        LlmError::Timeout(timeout_secs)
    } else {
        LlmError::Broken(e.to_string())
    }
}

/// Exponential backoff with jitter: half to all of `base · 2^(attempt-1)`, at most 4 s.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let full = base
        .saturating_mul(1 << attempt.saturating_sub(1).min(6))
        .min(Duration::from_secs(4));
    let jitter = (RandomState::new().hash_one(Instant::now()) % 1000) as f64 / 1000.0;
    full.mul_f64(0.5 + 0.5 * jitter)
}

/// `Retry-After` in seconds (the form APIs use); an HTTP date falls back to the backoff.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 1..10 {
            let b = backoff(Duration::from_millis(200), attempt);
            let full = Duration::from_millis(200 * (1 << (attempt - 1).min(6))).min(Duration::from_secs(4));
            assert!(b >= full / 2 && b <= full, "attempt {attempt}: {b:?}");
        }
    }

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
