//! Deep grades off the turn's critical path: each answer's LLM grade is written on its own thread
//! (queued behind the client's adaptive request slots) while the interview goes on with the offline
//! grade, and lands when ready. A grade that fails or runs past its limit leaves the offline grade,
//! marked with why.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Llm;
use super::grader::{beside_offline, evaluate};
use crate::grade::delivery;
use crate::interview::{Evaluation, GradeRequest};
use crate::session::LateGrader;

pub struct LateGrades {
    llm: Arc<Llm>,
    tx: Sender<(usize, Evaluation)>,
    rx: Mutex<Receiver<(usize, Evaluation)>>,
    pending: Arc<AtomicUsize>,
}

impl LateGrades {
    pub fn new(llm: Arc<Llm>) -> Self {
        let (tx, rx) = mpsc::channel();
        Self {
            llm,
            tx,
            rx: Mutex::new(rx),
            pending: Arc::new(AtomicUsize::new(0)),
        }
    }
}

/// The deep grade of one answer with the offline grade kept beside it, or the offline grade alone
/// with the reason the deep one is missing. Delivery (pace, pauses) applies to whichever stands.
pub fn deep_or_offline(llm: &Llm, request: &GradeRequest, offline: Evaluation) -> Evaluation {
    delivery::apply(beside_offline(evaluate(llm, request), offline), request.speech.as_ref())
}

impl LateGrader for LateGrades {
    fn start(&self, turn: usize, request: GradeRequest, offline: Evaluation) {
        self.pending.fetch_add(1, Ordering::SeqCst);
        let (llm, tx, pending) = (Arc::clone(&self.llm), self.tx.clone(), Arc::clone(&self.pending));
        std::thread::spawn(move || {
            let evaluation = deep_or_offline(&llm, &request, offline);
            let _ = tx.send((turn, evaluation));
            pending.fetch_sub(1, Ordering::SeqCst);
        });
    }

    fn landed(&self) -> Vec<(usize, Evaluation)> {
        let rx = self.rx.lock().unwrap_or_else(|p| p.into_inner());
        rx.try_iter().collect()
    }

    fn next(&self, timeout: Duration) -> Option<(usize, Evaluation)> {
        let rx = self.rx.lock().unwrap_or_else(|p| p.into_inner());
        rx.recv_timeout(timeout).ok()
    }

    fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    fn limit(&self) -> Duration {
        self.llm.config.grade_limit
    }
}
