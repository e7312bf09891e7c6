//! Candidates without a microphone: answers typed at a prompt, or read from a script.

use std::io::{BufRead, Write};

use crate::bank::{Bank, Question};
use crate::core::{Answer, Line, Turn};
use crate::script::Script;
use crate::session::{Candidate, Response};

/// Answers typed at a prompt, one line each, with `/skip`, `/repeat` and `/end` commands.
pub struct Typed<'a, R: BufRead, W: Write> {
    pub input: R,
    pub out: W,
    pub bank: &'a Bank,
}

impl<R: BufRead, W: Write> Candidate for Typed<'_, R, W> {
    fn hear(&mut self, line: &Line, q: &Question) {
        let _ = writeln!(
            self.out,
            "\n[{}/{}] {} · {}\nInterviewer: {}",
            line.number,
            line.of,
            self.bank.skill_name(&q.skill),
            line.kind.label(),
            line.text
        );
    }

    fn respond(&mut self, _line: &Line, _q: &Question) -> Response {
        let _ = write!(self.out, "You (Enter to submit; /skip, /repeat, /end): ");
        let _ = self.out.flush();
        let mut buf = Vec::new();
        match self.input.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return Response::End,
            Ok(_) => {}
        }
        // Invalid UTF-8 becomes U+FFFD, which the core strips.
        let text = String::from_utf8_lossy(&buf).into_owned();
        match text.trim() {
            "/skip" => Response::Skip,
            "/repeat" => Response::Repeat,
            "/end" | "/quit" => Response::End,
            _ => Response::Answer(Answer::Text(text)),
        }
    }

    fn feedback(&mut self, turn: &Turn) {
        let e = &turn.evaluation;
        let _ = writeln!(self.out, "  Score {}/100", e.score);
        for (label, items) in [
            ("+", &e.what_went_well),
            ("-", &e.what_was_missing),
            ("!", &e.red_flags),
        ] {
            for i in items.iter().take(3) {
                let _ = writeln!(self.out, "  {label} {i}");
            }
        }
    }

    fn thinking(&mut self) {
        let _ = writeln!(self.out, "  (thinking…)");
        let _ = self.out.flush();
    }
}

/// Answers from a script; silent, since scripted runs print one summary at the end.
pub struct Scripted {
    pub script: Script,
}

impl Candidate for Scripted {
    fn hear(&mut self, _line: &Line, _q: &Question) {}

    fn respond(&mut self, line: &Line, q: &Question) -> Response {
        match self.script.take(line, q) {
            Some(row) => Response::Answer(match row.audio {
                Some(path) => Answer::Audio(path),
                None => Answer::Text(row.answer),
            }),
            None => Response::Exhausted,
        }
    }

    fn feedback(&mut self, _turn: &Turn) {}
}
