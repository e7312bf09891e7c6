//! What the client needs to reach an endpoint: its key (never shown) and its timeouts and limits.

use std::time::Duration;

/// An API key: shown masked, never serialized, never in errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Option<Self> {
        let s = s.into().trim().to_string();
        (!s.is_empty()).then_some(Self(s))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// The last four characters, for recognizing which key is in use.
    pub fn masked(&self) -> String {
        let n = self.0.chars().count();
        if n < 12 {
            "****".into()
        } else {
            let tail: String = self.0.chars().skip(n - 4).collect();
            format!("****{tail}")
        }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({})", self.masked())
    }
}

#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub connect_timeout: Duration,
    /// Longest single attempt; `None` lets an attempt run as long as its step's budget allows.
    pub request_timeout: Option<Duration>,
    /// Retries after the first attempt, budget permitting.
    pub retries: u32,
    /// Most requests in flight at once from this process.
    pub concurrency: usize,
    /// Requests in flight at first: it grows toward `concurrency` while replies come back fast and
    /// halves on timeouts, 429s and 503s.
    pub initial_concurrency: usize,
    /// First backoff; doubles each retry, with jitter.
    pub backoff: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(3),
            request_timeout: None,
            retries: 2,
            concurrency: 4,
            initial_concurrency: 2,
            backoff: Duration::from_millis(250),
        }
    }
}
