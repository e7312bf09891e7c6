//! An OpenAI-compatible chat-completions server on loopback for tests: a std TcpListener thread that
//! replays scripted replies the way real servers send them (SSE chunks, plain JSON, errors, stalls,
//! truncated streams, resets). The client under test talks to it over real TCP.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// `text/event-stream`: the text in chunks, a final chunk with finish_reason "stop", then `[DONE]`.
    Stream { text: String, chunk_delay: Duration },
    /// One `application/json` completion, as a server that ignores `stream: true` sends it.
    Json(String),
    /// An error status with a body and optional `Retry-After`.
    Status {
        code: u16,
        retry_after: Option<String>,
        body: String,
    },
    /// Accepts the request and sends nothing for this long, then closes.
    Stall(Duration),
    /// Starts a stream, sends part of the text, then closes without finish_reason or `[DONE]`.
    Truncated { text: String },
    /// Closes the connection without reading the request, so the client sees a reset.
    Reset,
    /// A stream whose chunk is not JSON.
    Garbled,
}

pub fn stream(text: &str) -> Reply {
    Reply::Stream {
        text: text.to_string(),
        chunk_delay: Duration::ZERO,
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The `response_format` json_schema name (the step: evaluate, question, follow_up), if any.
    pub fn schema_name(&self) -> Option<&str> {
        self.body["response_format"]["json_schema"]["name"].as_str()
    }
    /// All message contents joined, for finding what the prompt said.
    pub fn prompt(&self) -> String {
        self.body["messages"]
            .as_array()
            .map(|m| {
                m.iter()
                    .map(|m| m["content"].as_str().unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
                    .join("\n---\n")
            })
            .unwrap_or_default()
    }
    pub fn last_user(&self) -> String {
        self.body["messages"]
            .as_array()
            .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
            .to_string()
    }
}

type Handler = dyn Fn(usize, &Seen) -> Reply + Send + Sync;

pub struct Server {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    /// Starts serving; `handler` gets the 0-based number of the request and the request.
    pub fn start(handler: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let handler: Arc<Handler> = Arc::new(handler);
        let count = Arc::new(AtomicUsize::new(0));
        let seen2 = Arc::clone(&seen);
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (handler, seen, count) = (Arc::clone(&handler), Arc::clone(&seen2), Arc::clone(&count));
                thread::spawn(move || serve(conn, &*handler, &seen, &count));
            }
        });
        Self { addr, seen }
    }

    /// The base URL a client appends `/chat/completions` to.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(mut conn: TcpStream, handler: &Handler, seen: &Mutex<Vec<Seen>>, count: &AtomicUsize) {
    // A reset is decided before reading: peek at the request number by reserving it now.
    let n = count.fetch_add(1, Ordering::SeqCst);
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut headers = Vec::new();
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let request = Seen {
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let reply = handler(n, &request);
    seen.lock().unwrap().push(request);
    let _ = respond(&mut conn, reply);
}

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let c = json!({
        "id": "chatcmpl-loopback",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "loopback",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
    });
    format!("data: {c}\n\n")
}

/// Splits text the way models stream it: a few characters at a time.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(7).map(|c| c.iter().collect()).collect()
}

const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n";

fn respond(conn: &mut TcpStream, reply: Reply) -> std::io::Result<()> {
    match reply {
        Reply::Stream { text, chunk_delay } => {
            conn.write_all(SSE_HEAD.as_bytes())?;
            conn.write_all(chunk(json!({"role": "assistant", "content": ""}), None).as_bytes())?;
            for p in pieces(&text) {
                conn.write_all(chunk(json!({"content": p}), None).as_bytes())?;
                conn.flush()?;
                if !chunk_delay.is_zero() {
                    thread::sleep(chunk_delay);
                }
            }
            conn.write_all(chunk(json!({}), Some("stop")).as_bytes())?;
            conn.write_all(b"data: [DONE]\n\n")?;
        }
        Reply::Json(text) => {
            let body = json!({
                "id": "chatcmpl-loopback",
                "object": "chat.completion",
                "model": "loopback",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]
            })
            .to_string();
            write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        Reply::Status {
            code,
            retry_after,
            body,
        } => {
            let reason = match code {
                400 => "Bad Request",
                429 => "Too Many Requests",
                500 => "Internal Server Error",
                503 => "Service Unavailable",
                _ => "Error",
            };
            let retry = retry_after.map_or(String::new(), |r| format!("Retry-After: {r}\r\n"));
            write!(
                conn,
                "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n{retry}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        Reply::Stall(d) => thread::sleep(d),
        Reply::Truncated { text } => {
            conn.write_all(SSE_HEAD.as_bytes())?;
            let p = pieces(&text);
            for piece in &p[..p.len() / 2] {
                conn.write_all(chunk(json!({"content": piece}), None).as_bytes())?;
            }
            conn.flush()?;
        }
        Reply::Reset => {
            // Unread bytes in the receive buffer make the close a reset (RST), as a crashed proxy would.
            let _ = conn.shutdown(std::net::Shutdown::Both);
        }
        Reply::Garbled => {
            conn.write_all(SSE_HEAD.as_bytes())?;
            conn.write_all(b"data: {\"choices\": [{\"delta\": {\"content\": \"hal\n\n")?;
            conn.write_all(b"data: [DONE]\n\n")?;
        }
    }
    conn.flush()
}

/// A valid evaluation reply with every score set to `score` (0-10).
pub fn evaluation_json(score: u8) -> String {
    json!({
        "what_went_well": ["Explained the mechanism clearly."],
        "what_was_missing": ["A production example."],
        "red_flags": [],
        "seniority_signals": [],
        "technical_correctness": score,
        "depth": score,
        "practical_experience": score,
        "communication_clarity": score,
        "confidence": score
    })
    .to_string()
}
