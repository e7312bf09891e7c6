//! Scripted answers from a CSV (`answer`, optional `audio`, `skill`, `question_id`), for CI and batch runs.
//! A row with `audio` is answered by that recording (transcribed like a spoken answer); its `answer` is ignored.

use std::io::Write;
use std::path::Path;

use crate::bank::{Bank, Question};
use crate::interview::{Answer, Line, Turn};
use crate::notice::Notice;
use crate::review::ModelAnswer;
use crate::session::{Candidate, Response};

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// 1-based line in the file, for messages.
    pub line: u64,
    pub answer: String,
    pub audio: Option<String>,
    pub skill: Option<String>,
    pub question_id: Option<String>,
    used: bool,
}

#[derive(Debug, Clone)]
pub struct Script {
    rows: Vec<Row>,
    /// What the script says that may not be meant ("file:4: the answer is empty ..."), for the caller to show.
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {message}", if *line > 0 { format!(":{line}") } else { String::new() })]
pub struct ScriptError {
    pub file: String,
    pub line: u64,
    pub message: String,
}

impl Script {
    pub fn load(path: &Path, bank: &Bank) -> Result<Self, ScriptError> {
        let file = path.display().to_string();
        let err = |line: u64, message: String| ScriptError {
            file: file.clone(),
            line,
            message,
        };
        let bytes = std::fs::read(path).map_err(|e| err(0, format!("cannot read the script: {e}")))?;
        if let Some(line) = unclosed_quote(&bytes) {
            return Err(err(line, UNCLOSED_QUOTE.into()));
        }
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .trim(csv::Trim::Headers)
            .from_reader(&bytes[..]);
        let headers = reader.headers().map_err(|e| err(1, csv_message(&e)))?.clone();
        for (i, h) in headers.iter().enumerate() {
            if !h.is_empty() && headers.iter().take(i).any(|o| o.eq_ignore_ascii_case(h)) {
                return Err(err(
                    1,
                    format!("the column `{h}` appears twice in the header; keep one"),
                ));
            }
        }
        let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        let answer = col("answer").ok_or_else(|| {
            err(
                1,
                format!(
                    "the header needs an `answer` column (found: {})",
                    headers.iter().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        let (audio, skill, qid) = (col("audio"), col("skill"), col("question_id"));
        let mut rows = Vec::new();
        // Every row's problem is reported at once, so one run finds them all.
        let mut problems: Vec<(u64, String)> = Vec::new();
        let mut warnings = Vec::new();
        for rec in reader.records() {
            let rec = rec.map_err(|e| err(line_at(&bytes, e.position()), csv_message(&e)))?;
            let line = line_at(&bytes, rec.position());
            let get = |i: Option<usize>| {
                i.and_then(|i| rec.get(i))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
            };
            let row = Row {
                line,
                answer: rec.get(answer).unwrap_or("").to_string(),
                audio: get(audio),
                skill: get(skill),
                question_id: get(qid),
                used: false,
            };
            if let Some(s) = &row.skill
                && bank.skill(s).is_none()
            {
                problems.push((
                    line,
                    format!("unknown skill {s:?}; valid skills: {}", bank.skill_ids().join(", ")),
                ));
            }
            let mut row = row;
            if let Some(q) = &row.question_id {
                match bank.find_question(q) {
                    Ok(found) => row.question_id = Some(found.id.clone()),
                    Err(why) => problems.push((line, format!("question_id: {why}"))),
                }
            }
            if let Some(a) = &row.audio {
                // Recorded answers are found relative to the script, and checked before the interview starts.
                let file = path.parent().unwrap_or(Path::new(".")).join(a);
                if let Err(e) = crate::audio::wav::read(&file) {
                    problems.push((line, format!("audio: {e}")));
                }
                row.audio = Some(file.display().to_string());
            } else if row.answer.trim().is_empty() {
                warnings.push(format!(
                    "{file}:{line}: the answer is empty, so its question counts as unanswered (scored 0); write \
                     the answer, or give a recording in an `audio` column"
                ));
            }
            rows.push(row);
        }
        if let Some((line, first)) = problems.first() {
            let more: Vec<String> = problems[1..]
                .iter()
                .take(9)
                .map(|(l, m)| format!("\n  {file}:{l}: {m}"))
                .collect();
            let rest = problems.len().saturating_sub(10);
            return Err(err(
                *line,
                format!(
                    "{first}{}{}",
                    more.concat(),
                    if rest > 0 {
                        format!("\n  ... and {rest} more")
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        if rows.is_empty() {
            return Err(err(1, "the script has no answers".into()));
        }
        Ok(Self { rows, warnings })
    }

    pub fn from_rows(answers: &[&str]) -> Self {
        Self {
            rows: answers
                .iter()
                .enumerate()
                .map(|(i, a)| Row {
                    line: i as u64 + 2,
                    answer: a.to_string(),
                    audio: None,
                    skill: None,
                    question_id: None,
                    used: false,
                })
                .collect(),
            warnings: Vec::new(),
        }
    }

    /// The answer for this question: a row naming it, else one naming its skill, else the next unnamed row.
    pub fn take(&mut self, line: &Line, question: &Question) -> Option<Row> {
        let id = bank_id(&line.question_id);
        let by_id = self
            .rows
            .iter()
            .position(|r| !r.used && r.question_id.as_deref() == Some(id));
        let by_skill = || {
            self.rows
                .iter()
                .position(|r| !r.used && r.question_id.is_none() && r.skill.as_deref() == Some(&question.skill))
        };
        let in_turn = || {
            self.rows
                .iter()
                .position(|r| !r.used && r.question_id.is_none() && r.skill.is_none())
        };
        let i = by_id.or_else(by_skill).or_else(in_turn)?;
        self.rows[i].used = true;
        Some(self.rows[i].clone())
    }

    /// The questions the rows name, one entry a row: the interview opens its topics with them in order of
    /// first mention, and asks as many lines of each as rows name it (the main question, then follow-ups).
    pub fn question_ids(&self) -> Vec<String> {
        self.rows.iter().filter_map(|r| r.question_id.clone()).collect()
    }

    /// Rows never answered with: they name a question or skill this interview's plan did not reach.
    pub fn unused(&self) -> Vec<&Row> {
        self.rows.iter().filter(|r| !r.used).collect()
    }
}

/// The bank question a line is asked for: an LLM writes its question in a bank question's place
/// (`llm-<bank id>-q<n>`), and a row naming that bank question answers it.
fn bank_id(line_id: &str) -> &str {
    line_id
        .strip_prefix("llm-")
        .and_then(|rest| rest.rsplit_once("-q"))
        .filter(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .map_or(line_id, |(id, _)| id)
}

/// Why the script ended the interview early although rows are left, or `None` when none are.
fn left_unused(script: &Script, question: &Question, line: &Line) -> Option<String> {
    let unused = script.unused();
    if unused.is_empty() {
        return None;
    }
    let lines: Vec<String> = unused.iter().take(12).map(|r| r.line.to_string()).collect();
    let more = if unused.len() > 12 { ", ..." } else { "" };
    Some(format!(
        "the script has no row for question {} (skill {}), so the interview ends here with {} row(s) unused \
         (lines {}{more}): they name questions or skills this plan did not reach. Add rows without \
         question_id and skill to answer in turn, or try another --seed",
        line.question_id,
        question.skill,
        unused.len(),
        lines.join(", ")
    ))
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text; save the file as UTF-8".into(),
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("has {len} fields but the header has {expected_len}; quote answers that contain commas")
        }
        _ => e.to_string(),
    }
}

/// Answers from a script; silent, since scripted runs print one summary at the end.
pub struct Scripted<'a> {
    pub script: Script,
    /// Where notices go (a voice that could not write a line, say).
    pub err: Box<dyn std::io::Write + 'a>,
}

impl Candidate for Scripted<'_> {
    fn hear(&mut self, _line: &Line, _q: &Question) {}

    fn respond(&mut self, line: &Line, q: &Question) -> Response {
        match self.script.take(line, q) {
            Some(row) => Response::Answer(match row.audio {
                Some(path) => Answer::Audio(path),
                None => Answer::Text(row.answer),
            }),
            None => {
                if let Some(why) = left_unused(&self.script, q, line) {
                    let _ = writeln!(self.err, "{}", Notice::Warning(why));
                }
                Response::Exhausted
            }
        }
    }

    fn feedback(&mut self, _turn: &Turn, _model: &ModelAnswer) {}

    fn notice(&mut self, n: Notice) {
        let _ = writeln!(self.err, "{n}");
    }
}

/// The line a CSV record starts on, counted from the file's bytes. The csv crate's own count was one line
/// short for files with Windows line endings (what Excel and Python's csv module write): a record's offset
/// can sit before the previous line's ending, so the ending is stepped over first.
pub fn line_at(bytes: &[u8], pos: Option<&csv::Position>) -> u64 {
    pos.map_or(0, |p| {
        let mut at = (p.byte() as usize).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        1 + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u64
    })
}

/// What to do about [`unclosed_quote`].
pub const UNCLOSED_QUOTE: &str = "a quoted field opens here and is never closed, so every line after it would be read as part of it; \
     add the closing \" (a quote inside a quoted field is written twice: \"\")";

/// The line of a quoted field that is still open at the end of the file. The csv crate reads such a field
/// to the end without an error, so the rows after it would silently become one answer.
pub fn unclosed_quote(bytes: &[u8]) -> Option<u64> {
    let (mut line, mut opened) = (1u64, 0u64);
    let (mut in_quotes, mut field_start) = (false, true);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            line += 1;
        }
        if in_quotes {
            if b == b'"' {
                if bytes.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_quotes = false;
                }
            }
        } else {
            match b {
                b'"' if field_start => {
                    in_quotes = true;
                    opened = line;
                    field_start = false;
                }
                b',' | b'\n' | b'\r' => field_start = true,
                _ => field_start = false,
            }
        }
        i += 1;
    }
    in_quotes.then_some(opened)
}

#[cfg(test)]
mod tests {
    use super::{Row, Script, bank_id, line_at, unclosed_quote};
    use crate::interview::{Line, TurnKind};

    #[test]
    fn a_row_naming_a_bank_question_answers_the_llm_question_written_in_its_place() {
        assert_eq!(bank_id("llm-dq-quarantine-vs-fail-q3"), "dq-quarantine-vs-fail");
        assert_eq!(bank_id("sql-rank-functions"), "sql-rank-functions");
        assert_eq!(bank_id("llm-odd-q"), "llm-odd-q");
        let bank = crate::bank::Bank::builtin().unwrap();
        let q = bank.question("sql-rank-functions").unwrap();
        let row = |id: Option<&str>, answer: &str| Row {
            line: 2,
            answer: answer.into(),
            audio: None,
            skill: None,
            question_id: id.map(String::from),
            used: false,
        };
        let mut script = Script {
            rows: vec![row(None, "in turn"), row(Some("sql-rank-functions"), "named")],
            warnings: Vec::new(),
        };
        let line = Line {
            text: "An LLM's version of the question".into(),
            question_id: "llm-sql-rank-functions-q1".into(),
            kind: TurnKind::Main,
            number: 1,
            of: 10,
        };
        assert_eq!(script.take(&line, q).unwrap().answer, "named");
        assert_eq!(script.take(&line, q).unwrap().answer, "in turn");
    }

    #[test]
    fn a_question_id_in_any_case_is_the_bank_one_and_a_typo_is_named() {
        let bank = crate::bank::Bank::builtin().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        std::fs::write(&path, "question_id,answer\nSQL-Rank-Functions,one\n").unwrap();
        let script = Script::load(&path, &bank).unwrap();
        assert_eq!(script.rows[0].question_id.as_deref(), Some("sql-rank-functions"));
        std::fs::write(&path, "question_id,answer\nsql-rank-function,one\n").unwrap();
        let err = Script::load(&path, &bank).unwrap_err().to_string();
        assert!(
            err.contains(":2:") && err.contains("did you mean sql-rank-functions?"),
            "{err}"
        );
    }

    #[test]
    fn every_bad_row_is_named_at_once_and_an_empty_answer_is_a_warning() {
        let bank = crate::bank::Bank::builtin().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        std::fs::write(
            &path,
            "question_id,answer,audio\nsql-rank-function,one,\nsql-rank-functions,,\nsql-window-frames,,gone.wav\n",
        )
        .unwrap();
        let err = Script::load(&path, &bank).unwrap_err().to_string();
        assert!(
            err.contains(":2: question_id") && err.contains("s.csv:4: audio"),
            "{err}"
        );
        std::fs::write(
            &path,
            "question_id,answer\nsql-rank-functions,one\nsql-window-frames,\n",
        )
        .unwrap();
        let script = Script::load(&path, &bank).unwrap();
        assert_eq!(script.warnings.len(), 1);
        assert!(
            script.warnings[0].contains("s.csv:3: the answer is empty"),
            "{:?}",
            script.warnings
        );
        let missing = Script::load(&dir.path().join("none.csv"), &bank)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("none.csv: cannot read"), "{missing}");
    }

    #[test]
    fn a_quote_left_open_is_found_on_the_line_it_opens() {
        assert_eq!(unclosed_quote(b"answer,skill\n\"fine\",\n\"open,\nnext,\n"), Some(3));
        assert_eq!(
            unclosed_quote(b"answer\r\n\"a \"\"quoted\"\" word\"\r\n\"two\nlines\"\n"),
            None
        );
        // A quote inside an unquoted field is a character, not an opening.
        assert_eq!(unclosed_quote(b"answer\nsay \"hi\n"), None);
        assert_eq!(unclosed_quote(b"answer\n\"\"\"\n"), Some(2));
    }

    fn lines(text: &str) -> Vec<u64> {
        let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        r.records()
            .map(|rec| line_at(text.as_bytes(), rec.unwrap().position()))
            .collect()
    }

    #[test]
    fn records_are_on_the_lines_an_editor_shows_whatever_the_line_endings() {
        assert_eq!(lines("answer,skill\nfine,\nfine2,\nbad,x\n"), [2, 3, 4]);
        assert_eq!(lines("answer,skill\r\nfine,\r\nfine2,\r\nbad,x\r\n"), [2, 3, 4]);
        assert_eq!(lines("\u{feff}answer,skill\r\nfine,\r\nbad,x\r\n"), [2, 3]);
        assert_eq!(lines("answer,skill\n\"two\nlines\",\nbad,x\n"), [2, 4]);
    }
}
