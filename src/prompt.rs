//! The plain prompt (line by line, no full-screen room): answers typed, or spoken into the microphone.
//! Questions and feedback go to `out`; notices, the level meter and partial words to `err`.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};

use crate::bank::{Bank, Question};
use crate::interview::{Answer, Line, Turn};
use crate::listen::ListenEvent;
use crate::listen::ear::{Ear, Listened, Listener};
use crate::notice::Notice;
use crate::review::ModelAnswer;
use crate::session::{Candidate, Response};

/// Answers typed at a prompt, one line each, with `/skip`, `/repeat` and `/end` commands.
pub struct Typed<'a, R: BufRead, W: Write> {
    pub input: R,
    pub out: W,
    pub err: Box<dyn Write + 'a>,
    pub bank: &'a Bank,
}

impl<R: BufRead, W: Write> Candidate for Typed<'_, R, W> {
    fn hear(&mut self, line: &Line, q: &Question) {
        show_line(&mut self.out, self.bank, line, q);
    }

    fn notice(&mut self, n: Notice) {
        let _ = writeln!(self.err, "{n}");
    }

    fn respond(&mut self, _line: &Line, _q: &Question) -> Response {
        let _ = write!(self.out, "You (Enter to submit; /skip, /repeat, /end): ");
        let _ = self.out.flush();
        let mut buf = Vec::new();
        match self.input.read_until(b'\n', &mut buf) {
            // Ctrl-D at a terminal leaves the session open for `resume` (it used to end it for good);
            // the end of piped input is the end of the answers.
            Ok(0) | Err(_) if std::io::stdin().is_terminal() => return Response::Leave,
            Ok(0) | Err(_) => return Response::End,
            Ok(_) => {}
        }
        // Invalid UTF-8 becomes U+FFFD, which the core strips.
        typed_response(String::from_utf8_lossy(&buf).into_owned(), false)
    }

    fn feedback(&mut self, turn: &Turn, model: &ModelAnswer) {
        show_feedback(&mut self.out, turn, model);
    }

    fn thinking(&mut self) {
        let _ = writeln!(self.out, "  (thinking…)");
        let _ = self.out.flush();
    }
}

/// A typed line: a command (`/skip`; the slash optional when `bare` commands are allowed), or the answer.
pub(crate) fn typed_response(text: String, bare: bool) -> Response {
    let t = text.trim();
    let command = match t.strip_prefix('/') {
        Some(c) => c,
        None if bare => t,
        None => "",
    };
    match command {
        "skip" => Response::Skip,
        "repeat" => Response::Repeat,
        "end" | "quit" => Response::End,
        _ => Response::Answer(Answer::Text(text)),
    }
}

fn show_line(out: &mut impl Write, bank: &Bank, line: &Line, q: &Question) {
    let _ = writeln!(
        out,
        "\n[{}/{}] {} · {}\nInterviewer: {}",
        line.number,
        line.of,
        bank.skill_name(&q.skill),
        line.kind.label(),
        line.text
    );
}

fn show_feedback(out: &mut impl Write, turn: &Turn, model: &ModelAnswer) {
    let e = &turn.evaluation;
    let _ = writeln!(out, "  Score {}/100", e.score);
    for (label, items) in [
        ("+", &e.what_went_well),
        ("-", &e.what_was_missing),
        ("!", &e.red_flags),
    ] {
        for i in items.iter().take(3) {
            let _ = writeln!(out, "  {label} {i}");
        }
    }
    let _ = writeln!(out, "  Model answer (from {}):", model.by);
    for line in model.text.lines() {
        let _ = writeln!(out, "    {line}");
    }
}

/// Answers spoken into the microphone at a plain prompt. Enter ends an answer at once; a typed
/// line instead (`skip`, `repeat`, `end`, or any text) is used in place of the recording.
pub struct Speaking<'a, W: Write> {
    ear: Option<Ear>,
    out: W,
    err: Box<dyn Write + 'a>,
    bank: &'a Bank,
    /// Lines typed on stdin, read on their own thread; each also stops the recording.
    lines: Receiver<String>,
    stop: Arc<AtomicBool>,
    /// Show the level meter and partial transcript (stderr is a terminal).
    live: bool,
}

impl<'a, W: Write> Speaking<'a, W> {
    pub fn new(ear: Ear, out: W, err: Box<dyn Write + 'a>, bank: &'a Bank) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let lines = stdin_lines(
            |line| String::from_utf8_lossy(&line).into_owned(),
            move || flag.store(true, Ordering::Relaxed),
        );
        Self {
            ear: Some(ear),
            out,
            err,
            bank,
            lines,
            stop,
            live: std::io::stderr().is_terminal(),
        }
    }

    /// The microphone failed: the rest of the interview is typed.
    fn typed(&mut self) -> Response {
        let _ = write!(self.out, "You (Enter to submit; skip, repeat, end): ");
        let _ = self.out.flush();
        loop {
            match self.lines.recv() {
                // A bare Enter (the one that ended a recording) is not an answer.
                Ok(line) if line.trim().is_empty() => continue,
                Ok(line) => return typed_response(line, true),
                Err(_) => return Response::End,
            }
        }
    }
}

impl<W: Write> Candidate for Speaking<'_, W> {
    fn hear(&mut self, line: &Line, q: &Question) {
        // Lines typed before this question (while the last answer was graded) belong to no question.
        while self.lines.try_recv().is_ok() {}
        show_line(&mut self.out, self.bank, line, q);
    }

    /// Something typed while the question was read out (a command, a typed answer) wins over listening.
    fn respond(&mut self, line: &Line, q: &Question) -> Response {
        let Some(mut ear) = self.ear.take() else {
            return self.typed();
        };
        let mut prompt = PromptListener {
            out: &mut self.out,
            err: &mut self.err,
            lines: &self.lines,
            live: self.live,
            silence_s: ear.endpoint.silence_limit_ms as f64 / 1000.0,
            shown: 0,
            last_level: std::time::Instant::now(),
        };
        let heard = ear.answer(self.bank, line, q, &self.stop, &mut prompt);
        match heard {
            Ok(Listened::Instead(typed)) => {
                self.ear = Some(ear);
                typed_response(typed, true)
            }
            Ok(Listened::Spoken(heard)) => {
                let _ = writeln!(self.out, "You said: {}", heard.text);
                if !heard.text.is_empty() {
                    let _ = writeln!(self.out, "  ({})", heard.speech.describe());
                }
                self.ear = Some(ear);
                Response::Answer(heard.into())
            }
            Err(e) => {
                let _ = writeln!(self.out, "  Could not listen: {e}\n  Type your answers instead.");
                self.typed()
            }
        }
    }

    fn feedback(&mut self, turn: &Turn, model: &ModelAnswer) {
        show_feedback(&mut self.out, turn, model);
    }

    fn thinking(&mut self) {
        let _ = writeln!(self.out, "  (thinking…)");
        let _ = self.out.flush();
    }

    fn notice(&mut self, n: Notice) {
        let _ = writeln!(self.err, "{n}");
    }
}

/// The plain prompt while an answer is heard: a level meter and the words so far on stderr (on a
/// terminal), "I didn't catch that" before a retry, and typed lines taking over from the recording.
struct PromptListener<'a, 'e, W: Write> {
    out: &'a mut W,
    err: &'a mut Box<dyn Write + 'e>,
    lines: &'a Receiver<String>,
    live: bool,
    silence_s: f64,
    /// How much of the partial transcript is already on screen.
    shown: usize,
    last_level: std::time::Instant,
}

impl<W: Write> Listener for PromptListener<'_, '_, W> {
    type Key = String;

    fn attempt(&mut self, n: usize) {
        self.shown = 0;
        let _ = if n == 0 {
            writeln!(
                self.out,
                "  (speak; {} s of silence or Enter ends your answer; or type skip, repeat or end)",
                self.silence_s
            )
        } else {
            writeln!(self.out, "  I didn't catch that — please answer again.")
        };
        let _ = self.out.flush();
    }

    fn event(&mut self, e: ListenEvent) {
        match e {
            ListenEvent::Level(l) if self.live && self.last_level.elapsed().as_millis() >= 50 => {
                self.last_level = std::time::Instant::now();
                let n = (l.clamp(0.0, 1.0) * 20.0).round() as usize;
                let _ = write!(self.err, "\r  mic [{}{}]", "█".repeat(n), " ".repeat(20 - n));
                let _ = self.err.flush();
            }
            ListenEvent::Partial(t) if self.live => {
                let new = t.get(self.shown..).unwrap_or_default().trim();
                if !new.is_empty() {
                    let _ = writeln!(self.err, "\r  … {new}");
                }
                self.shown = t.len();
            }
            ListenEvent::Warning { remaining_ms } => {
                let _ = writeln!(self.err, "\n  {} s left for this answer", remaining_ms / 1000);
            }
            ListenEvent::Ended(_) if self.live => {
                let _ = write!(self.err, "\r{}\r", " ".repeat(30));
                let _ = self.err.flush();
            }
            _ => {}
        }
    }

    /// A typed line (a bare Enter, which only ends the recording, is not one).
    fn interrupt(&mut self) -> Option<String> {
        while let Ok(l) = self.lines.try_recv() {
            if !l.trim().is_empty() {
                return Some(l);
            }
        }
        None
    }
}

/// Lines of standard input, read on their own thread until it ends; `after_each` runs once each line
/// has been handed over.
fn stdin_lines<T: Send + 'static>(convert: fn(Vec<u8>) -> T, after_each: impl Fn() + Send + 'static) -> Receiver<T> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        loop {
            let mut line = Vec::new();
            // Locked per line, so nothing else is kept from standard input between lines.
            match stdin.lock().read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if tx.send(convert(line)).is_err() {
                break;
            }
            after_each();
        }
    });
    rx
}

/// Standard input read on its own thread (started at the first read), so a prompt left alone for
/// `idle` can say it has paused and how to continue, while it keeps waiting for the answer.
pub struct IdleInput {
    rx: Option<Receiver<Vec<u8>>>,
    buf: Vec<u8>,
    pos: usize,
    idle: std::time::Duration,
    on_idle: Box<dyn FnMut()>,
}

impl IdleInput {
    pub fn stdin(idle: std::time::Duration, on_idle: impl FnMut() + 'static) -> Self {
        Self {
            rx: None,
            buf: Vec::new(),
            pos: 0,
            idle,
            on_idle: Box::new(on_idle),
        }
    }

    fn lines(&mut self) -> &Receiver<Vec<u8>> {
        self.rx.get_or_insert_with(|| stdin_lines(|line| line, || {}))
    }
}

impl std::io::Read for IdleInput {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for IdleInput {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos >= self.buf.len() {
            let idle = self.idle;
            let mut told = false;
            loop {
                match self.lines().recv_timeout(idle) {
                    Ok(line) => {
                        self.buf = line;
                        self.pos = 0;
                        break;
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) if !told => {
                        told = true;
                        (self.on_idle)();
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => {
                        self.buf.clear();
                        self.pos = 0;
                        break;
                    }
                }
            }
        }
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.buf.len());
    }
}
