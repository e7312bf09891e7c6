//! The models an answer is heard with: an accurate one (base) for everything nobody waits for — whole
//! files, scripted audio, the stretches of a live answer decoded while the candidate is still talking —
//! and a quick one (tiny.en) for the stretch left when the answer ends, which the interviewer's next
//! words wait for.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::thread::JoinHandle;

use super::{Segment, TranscribeError, Transcriber, Whisper, model};

/// The model that keeps a live turn within its budget on two cores.
pub const QUICK_MODEL: &str = "tiny.en";
/// The more accurate model, used wherever nobody waits for it.
pub const ACCURATE_MODEL: &str = "base";

/// Which installed models [`Pair::load`] hears with, by name and file.
#[derive(Debug, Clone, PartialEq)]
pub enum Choice {
    Single(String, std::path::PathBuf),
    Pair {
        quick: (String, std::path::PathBuf),
        accurate: (String, std::path::PathBuf),
    },
}

impl Choice {
    /// What each model hears, for `doctor`: "base (whole files) + tiny.en (live answers)".
    pub fn describe(&self) -> String {
        match self {
            Self::Single(n, _) => n.clone(),
            Self::Pair { quick, accurate } => format!("{} (whole files) + {} (live answers)", accurate.0, quick.0),
        }
    }

    /// The models in use, accurate first.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Self::Single(n, _) => vec![n],
            Self::Pair { quick, accurate } => vec![&accurate.0, &quick.0],
        }
    }
}

/// The models to hear with: a named one (here or `DATAREADY_WHISPER_MODEL`) alone, else base and tiny.en
/// as a pair when both are installed, else whichever is.
pub fn choose(name: Option<&str>) -> Result<Choice, model::ModelError> {
    let named = name
        .map(str::to_string)
        .or_else(|| std::env::var("DATAREADY_WHISPER_MODEL").ok());
    if let Some(n) = named {
        return model::find(Some(&n)).map(|(n, p)| Choice::Single(n, p));
    }
    match (model::find(Some(QUICK_MODEL)), model::find(Some(ACCURATE_MODEL))) {
        (Ok(quick), Ok(accurate)) => Ok(Choice::Pair { quick, accurate }),
        (Ok((n, p)), Err(_)) | (Err(_), Ok((n, p))) => Ok(Choice::Single(n, p)),
        (Err(e), Err(_)) => Err(e),
    }
}

pub struct Pair {
    quick: Box<dyn Transcriber>,
    accurate: Option<Accurate>,
    name: String,
}

/// The accurate model, or the thread still finishing a background decode that was stopped: whisper.cpp
/// checks the stop flag only between its passes, so a decode under way may run on for a second or two
/// after the answer ends, and nobody waits for it then.
enum Accurate {
    Ready(Box<dyn Transcriber>),
    Finishing(JoinHandle<Box<dyn Transcriber>>),
}

impl Accurate {
    fn ready(self) -> Option<Box<dyn Transcriber>> {
        match self {
            Self::Ready(t) => Some(t),
            Self::Finishing(h) => match h.join() {
                Ok(mut t) => {
                    t.set_background(None);
                    Some(t)
                }
                Err(_) => {
                    tracing::warn!("the accurate model's worker panicked; the quick model hears the rest");
                    None
                }
            },
        }
    }
}

impl Pair {
    /// One model for everything.
    pub fn single(t: Box<dyn Transcriber>) -> Self {
        let name = t.model_name().to_string();
        Self {
            quick: t,
            accurate: None,
            name,
        }
    }

    /// A quick model for the stretch someone waits for and an accurate one for the rest.
    pub fn new(quick: Box<dyn Transcriber>, accurate: Box<dyn Transcriber>) -> Self {
        let name = format!("{}+{}", accurate.model_name(), quick.model_name());
        Self {
            quick,
            accurate: Some(Accurate::Ready(accurate)),
            name,
        }
    }

    /// A pair whose accurate model is still finishing a stopped background decode on `worker`.
    pub fn finishing(quick: Box<dyn Transcriber>, worker: JoinHandle<Box<dyn Transcriber>>, name: String) -> Self {
        Self {
            quick,
            accurate: Some(Accurate::Finishing(worker)),
            name,
        }
    }

    fn accurate(&mut self) -> Option<&mut Box<dyn Transcriber>> {
        if matches!(self.accurate, Some(Accurate::Finishing(_))) {
            self.accurate = self.accurate.take().and_then(Accurate::ready).map(Accurate::Ready);
        }
        match &mut self.accurate {
            Some(Accurate::Ready(t)) => Some(t),
            _ => None,
        }
    }

    /// The installed models to hear with. A model named here or by `DATAREADY_WHISPER_MODEL` is used for
    /// everything; otherwise base and tiny.en as a pair when both are installed, else whichever is.
    pub fn load(name: Option<&str>) -> Result<Self, TranscribeError> {
        Ok(match choose(name)? {
            Choice::Single(n, path) => Self::single(Box::new(Whisper::load_file(&n, &path)?)),
            Choice::Pair { quick, accurate } => Self::new(
                Box::new(Whisper::load_file(&quick.0, &quick.1)?),
                Box::new(Whisper::load_file(&accurate.0, &accurate.1)?),
            ),
        })
    }

    /// Whether any model is installed for [`Pair::load`] (the error names the install command).
    pub fn check(name: Option<&str>) -> Result<(), model::ModelError> {
        choose(name).map(drop)
    }

    /// The two halves, for hearing a live answer: the quick model, and the accurate one if any.
    pub fn into_parts(self) -> (Box<dyn Transcriber>, Option<Box<dyn Transcriber>>) {
        (self.quick, self.accurate.and_then(Accurate::ready))
    }
}

/// A whole clip has nobody waiting on a turn: the accurate model hears it.
impl Transcriber for Pair {
    fn transcribe(&mut self, samples: &[f32], prompt: &str) -> Result<Vec<Segment>, TranscribeError> {
        match self.accurate() {
            Some(a) => a.transcribe(samples, prompt),
            None => self.quick.transcribe(samples, prompt),
        }
    }

    fn model_name(&self) -> &str {
        &self.name
    }

    fn set_quick(&mut self, quick: bool) {
        self.quick.set_quick(quick);
    }

    fn set_boost(&mut self, terms: &[String]) {
        self.quick.set_boost(terms);
        if let Some(a) = self.accurate() {
            a.set_boost(terms);
        }
    }

    fn set_background(&mut self, flag: Option<Arc<AtomicBool>>) {
        match self.accurate() {
            Some(a) => a.set_background(flag),
            None => self.quick.set_background(flag),
        }
    }
}
