//! A candidate who hears the interviewer: every line is spoken through the voice, then handed to
//! the inner candidate (who shows it, answers it). While the candidate answers, the question's
//! follow-ups are synthesized ahead, since one of them may come next.

use std::path::PathBuf;

use crate::bank::Question;
use crate::interview::{Line, Turn};
use crate::notice::Notice;
use crate::review::ModelAnswer;
use crate::session::{Candidate, Response};

use super::options::InterviewVoice;
use super::{Utterance, Voice};

pub struct Spoken<C: Candidate> {
    pub inner: C,
    voice: Voice,
    tts_out: Option<PathBuf>,
    wait: bool,
    current: Option<(Utterance, Option<PathBuf>)>,
    spoken: usize,
}

impl<C: Candidate> Spoken<C> {
    pub fn new(inner: C, setup: InterviewVoice) -> Self {
        Self {
            inner,
            voice: setup.voice,
            tts_out: setup.tts_out,
            wait: setup.wait,
            current: None,
            spoken: 0,
        }
    }

    pub fn voice(&self) -> &Voice {
        &self.voice
    }

    /// Stops what is playing and writes its `--tts-out` file (the whole line, even if cut off).
    fn settle(&mut self) {
        if let Some((u, wav)) = self.current.take() {
            u.stop();
            if let Some(path) = wav {
                u.wait_synthesized();
                if let Err(e) = self.voice.write_wav(&path, &u.audio()) {
                    self.inner
                        .notice(Notice::Warning(format!("could not write {}: {e}", path.display())));
                }
            }
        }
    }
}

impl<C: Candidate> Candidate for Spoken<C> {
    fn hear(&mut self, line: &Line, question: &Question) {
        self.settle();
        self.spoken += 1;
        let u = self.voice.speak(&line.text);
        let wav = self.tts_out.as_ref().map(|dir| {
            let kind = format!("{:?}", line.kind).to_lowercase();
            dir.join(format!("{:03}-{}-{kind}.wav", self.spoken, line.question_id))
        });
        let f = &question.follow_ups;
        self.voice
            .prefetch(&[f.deeper.as_str(), f.example.as_str(), f.harder.as_str()]);
        self.inner.hear(line, question);
        if self.wait {
            u.wait();
            if let Some(first) = u.first_audio() {
                tracing::info!(ms = first.as_millis() as u64, "first audio of the line");
            }
        }
        for e in u.errors() {
            self.inner
                .notice(Notice::Warning(format!("could not speak part of the line: {e}")));
        }
        self.current = Some((u, wav));
    }

    fn respond(&mut self, line: &Line, question: &Question) -> Response {
        let r = self.inner.respond(line, question);
        // The candidate has answered (or asked for something): the interviewer stops talking.
        self.settle();
        r
    }

    fn feedback(&mut self, turn: &Turn, model: &ModelAnswer) {
        self.inner.feedback(turn, model);
    }

    fn thinking(&mut self) {
        self.inner.thinking();
    }

    fn notice(&mut self, n: Notice) {
        self.inner.notice(n);
    }

    /// The next topic's opening question is synthesized while the candidate answers, beside the
    /// follow-ups, so whichever comes next starts from the cache.
    fn upcoming(&mut self, next: &Question) {
        self.voice.prefetch(&[next.text.as_str()]);
        self.inner.upcoming(next);
    }
}

impl<C: Candidate> Drop for Spoken<C> {
    fn drop(&mut self) {
        if self.wait
            && let Some((u, _)) = &self.current
        {
            u.wait();
        }
        self.settle();
    }
}
