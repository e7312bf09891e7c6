//! The terminal interview room (ratatui + crossterm): setup, live interview and report screens.
//! The UI thread only draws and reacts to events; the interview runs on its own thread through
//! the same session driver as scripted runs, talking to the UI over channels.

pub mod app;
pub mod draw;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::crossterm::event::{self, Event, KeyEventKind};

use crate::assemble::{self, Adapters};
use crate::bank::{Bank, Question};
use crate::interview::{Config, Line, Turn};
use crate::listen::ListenEvent;
use crate::listen::ear::{Ear, Listened, Listener};
use crate::notice::Notice;
use crate::report::{self, Report};
use crate::review::{ModelAnswer, Review};
use crate::session::{Candidate, Response, Session};
use crate::store::Store;
use crate::voice;
use app::{Action, App, AppEvent, Reply, SessionMsg, SetupForm, Stage};

/// Frame interval while something moves (speaking, listening, thinking): 20 fps.
const ANIMATION_TICK: Duration = Duration::from_millis(50);
const IDLE_TICK: Duration = Duration::from_millis(250);

/// How the room should begin.
pub enum Start {
    /// Show the setup screen, prefilled with this config.
    Setup(Config),
    /// Flags gave everything: go straight to the interview.
    New(Config),
    Resume(String),
}

/// What the room leaves behind when it closes.
pub struct Closed {
    pub session: Option<String>,
    pub report: Option<Report>,
}

/// The candidate side of the session, played by the UI across a channel.
struct RoomCandidate {
    events: Sender<AppEvent>,
    replies: Receiver<Reply>,
    bank: Arc<Bank>,
    /// Spoken answers: the microphone and Whisper, and the flag the room sets to end an answer.
    ear: Option<Ear>,
    stop: Arc<AtomicBool>,
}

impl RoomCandidate {
    fn send(&self, msg: SessionMsg) {
        let _ = self.events.send(AppEvent::Session(msg));
    }
}

impl Candidate for RoomCandidate {
    fn hear(&mut self, line: &Line, question: &Question) {
        let skill = self.bank.skill_name(&question.skill).to_string();
        self.send(SessionMsg::Asking {
            line: line.clone(),
            skill,
        });
    }

    fn respond(&mut self, line: &Line, question: &Question) -> Response {
        if let Some(ear) = self.ear.take() {
            return self.spoken(ear, line, question);
        }
        self.send(SessionMsg::Listening { voice: false });
        self.reply(self.replies.recv())
    }

    fn feedback(&mut self, turn: &Turn, model: &ModelAnswer) {
        self.send(SessionMsg::Feedback(Box::new(turn.clone()), Box::new(model.clone())));
    }

    fn thinking(&mut self) {
        self.send(SessionMsg::Grading);
    }

    fn notice(&mut self, n: Notice) {
        self.send(SessionMsg::Notice(n.to_string()));
    }
}

impl RoomCandidate {
    fn reply(&self, r: Result<Reply, mpsc::RecvError>) -> Response {
        match r {
            // The plain prompt's commands typed in the room (`/end`) are commands here too, not answers.
            Ok(Reply::Answer(text)) => match crate::prompt::typed_response(text, false) {
                Response::Answer(a) => {
                    self.send(SessionMsg::Grading);
                    Response::Answer(a)
                }
                command => command,
            },
            Ok(Reply::Skip) => Response::Skip,
            Ok(Reply::Repeat) => Response::Repeat,
            Ok(Reply::End) => Response::End,
            // The candidate started typing instead of talking: wait for the typed answer.
            Ok(Reply::Typing) => self.reply(self.replies.recv()),
            // The room closed: stop here and leave the session open for `resume`.
            Err(_) => Response::Leave,
        }
    }

    /// Records and transcribes the answer, showing the level and the words as they are recognised.
    /// A key from the room (a typed answer, skip, repeat, end) stops the recording and wins.
    fn spoken(&mut self, mut ear: Ear, line: &Line, question: &Question) -> Response {
        let mut room = RoomListener {
            events: &self.events,
            replies: &self.replies,
        };
        match ear.answer(&self.bank, line, question, &self.stop, &mut room) {
            Ok(Listened::Instead(r)) => {
                self.ear = Some(ear);
                self.reply(Ok(r))
            }
            Ok(Listened::Spoken(heard)) => {
                self.ear = Some(ear);
                self.send(SessionMsg::Grading);
                Response::Answer(heard.into())
            }
            Err(e) => {
                tracing::warn!("listening failed: {e}");
                self.send(SessionMsg::TypedFromNow(e.to_string()));
                self.send(SessionMsg::Listening { voice: false });
                self.reply(self.replies.recv())
            }
        }
    }
}

/// The room while an answer is heard: levels, words and stages go to the UI as messages, and keys
/// pressed meanwhile (skip, end, typing) take over from the recording.
struct RoomListener<'a> {
    events: &'a Sender<AppEvent>,
    replies: &'a Receiver<Reply>,
}

impl RoomListener<'_> {
    fn send(&self, msg: SessionMsg) {
        let _ = self.events.send(AppEvent::Session(msg));
    }
}

impl Listener for RoomListener<'_> {
    type Key = Reply;

    fn attempt(&mut self, n: usize) {
        if n > 0 {
            self.send(SessionMsg::NotHeard);
        }
        self.send(SessionMsg::Listening { voice: true });
    }

    fn event(&mut self, e: ListenEvent) {
        self.send(match e {
            ListenEvent::Level(l) => SessionMsg::Level(l),
            ListenEvent::Partial(t) => SessionMsg::Partial(t),
            ListenEvent::Warning { remaining_ms } => SessionMsg::TimeWarning(remaining_ms / 1000),
            ListenEvent::Ended(_) => SessionMsg::Transcribing,
            ListenEvent::SpeechStarted => return,
        });
    }

    fn interrupt(&mut self) -> Option<Reply> {
        self.replies.try_recv().ok()
    }
}

fn spawn_interview(
    bank: Arc<Bank>,
    store: Store,
    start: Start,
    adapters: Adapters,
    stop: Arc<AtomicBool>,
    events: Sender<AppEvent>,
) -> Sender<Reply> {
    let (reply_tx, reply_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let send = |m: SessionMsg| {
            let _ = events.send(AppEvent::Session(m));
        };
        send(SessionMsg::Preparing("Loading the grader...".into()));
        let grader = match assemble::load_grader(Arc::clone(&bank), &mut |done, total| {
            send(SessionMsg::Preparing(format!(
                "Preparing the grader: {done}/{total} texts"
            )))
        }) {
            Ok(g) => g,
            Err(e) => return send(SessionMsg::Failed(format!("{e:#}"))),
        };
        let session = match start {
            Start::Resume(id) => Session::resume(store, Arc::clone(&bank), &id),
            Start::New(config) | Start::Setup(config) => Session::start(store, Arc::clone(&bank), config),
        };
        let mut session = match session {
            Ok(s) => s,
            Err(e) => return send(SessionMsg::Failed(format!("{e:#}"))),
        };
        send(SessionMsg::Started {
            session: session.id.clone(),
        });
        let ear = adapters.ear.as_ref().and_then(|setup| {
            send(SessionMsg::Preparing("Loading speech recognition...".into()));
            setup
                .open(&session.dir())
                .map_err(|why| send(SessionMsg::TypedFromNow(why)))
                .ok()
        });
        let mut candidate = RoomCandidate {
            events: events.clone(),
            replies: reply_rx,
            bank: Arc::clone(&bank),
            ear,
            stop,
        };
        match assemble::conduct(&mut session, &mut candidate, &grader, adapters, true) {
            Ok(outcome) if outcome.report.status.is_over() => {
                let iv = &session.interview;
                let review = crate::review::build(&session.id, &iv.config().role, &bank, iv.turns());
                send(SessionMsg::Finished(Box::new(outcome.report), Box::new(review)))
            }
            Ok(_) => {}
            Err(e) => send(SessionMsg::Failed(format!("{e:#}"))),
        }
    });
    reply_tx
}

/// Keys, resizes and termination signals, all into the one event channel.
fn spawn_inputs(tx: Sender<AppEvent>) {
    let keys = tx.clone();
    std::thread::spawn(move || {
        loop {
            let sent = match event::read() {
                Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => keys.send(AppEvent::Key(k)),
                Ok(Event::Resize(..)) => keys.send(AppEvent::Resize),
                Ok(_) => Ok(()),
                Err(_) => break,
            };
            if sent.is_err() {
                break;
            }
        }
    });
    use signal_hook::consts::{SIGHUP, SIGTERM};
    if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP]) {
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                let _ = tx.send(AppEvent::Terminate);
            }
        });
    }
}

fn color() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Opens the room full-screen; the terminal is restored however it closes (ratatui's panic hook
/// covers panics; signals and Ctrl-C arrive as events).
pub fn run_interview(bank: Arc<Bank>, store: Store, start: Start, adapters: Adapters) -> anyhow::Result<Closed> {
    let Adapters { llm, voice, ear } = adapters;
    let llm_url = llm.as_ref().map(|l| l.config.base_url.as_str());
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let (app, pending) = match start {
        Start::Setup(config) => {
            let mut form = SetupForm::new(
                &bank,
                &config,
                crate::doctor::checks(llm.as_ref().map(|l| &l.config)),
                ear.is_some(),
            );
            // Earlier sessions are read after the first frame: with many of them it takes a while.
            let (bank, store, tx) = (Arc::clone(&bank), store.clone(), tx.clone());
            std::thread::spawn(move || {
                let reports = crate::history::reports(&store, &bank)
                    .map(|(r, _)| r)
                    .unwrap_or_default();
                let _ = tx.send(AppEvent::Suggestion(
                    crate::history::build(&bank, &reports, None, None).next_focus,
                ));
            });
            form.tailoring_note = config
                .tailoring
                .as_ref()
                .map(|t| crate::profile::privacy_note(t, llm_url));
            (App::new(Some(form), config.questions, color()), None)
        }
        Start::New(ref config) => {
            let mut app = App::new(None, config.questions, color());
            app.notice = config
                .tailoring
                .as_ref()
                .map(|t| crate::profile::privacy_note(t, llm_url));
            (app, Some(start))
        }
        Start::Resume(_) => (App::new(None, 0, color()), Some(start)),
    };
    let mut app = app;
    let mut voice = voice;
    let mut replies = pending.map(|s| {
        spawn_interview(
            Arc::clone(&bank),
            store.clone(),
            s,
            Adapters {
                llm: llm.clone(),
                voice: voice.take(),
                ear: ear.clone(),
            },
            Arc::clone(&stop),
            tx.clone(),
        )
    });
    spawn_inputs(tx.clone());
    let mut playback = Playback::new(None, tx.clone());
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut app, &rx, &bank, |action, app| match action {
        Action::Start(config, spoken) => {
            replies = Some(spawn_interview(
                Arc::clone(&bank),
                store.clone(),
                Start::New(*config),
                Adapters {
                    llm: llm.clone(),
                    voice: voice.take(),
                    ear: ear.clone().filter(|_| spoken),
                },
                Arc::clone(&stop),
                tx.clone(),
            ));
        }
        Action::Reply(r) => {
            if let Some(tx) = &replies {
                let _ = tx.send(r);
            }
            // A key that answers for the candidate also ends a recording in progress.
            stop.store(true, Ordering::Relaxed);
        }
        Action::StopListening => stop.store(true, Ordering::Relaxed),
        Action::Export { markdown } => export(app, markdown),
        Action::Play(..) | Action::StopPlaying => playback.act(action, app),
        Action::Quit => {}
    });
    drop(playback);
    ratatui::restore();
    result?;
    Ok(Closed {
        session: app.room.session.clone(),
        report: app.report.clone(),
    })
}

/// Which view of a saved session the dashboard opens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    Report,
    Review,
}

/// Shows a saved report as the dashboard; with its review, `r` switches to it (and `p` there plays
/// an answer's recording on `speaker`).
pub fn show_report(
    bank: &Bank,
    report: Report,
    review: Option<Review>,
    opening: Opening,
    speaker: Option<String>,
) -> anyhow::Result<()> {
    let (tx, rx) = mpsc::channel();
    spawn_inputs(tx.clone());
    let mut app = match review {
        Some(r) => App::for_review(report, r, opening == Opening::Review, color()),
        None => App::for_report(report, color()),
    };
    let mut playback = Playback::new(speaker, tx);
    let mut terminal = ratatui::init();
    let result = event_loop(&mut terminal, &mut app, &rx, bank, |action, app| match action {
        Action::Export { markdown } => export(app, markdown),
        Action::Play(..) | Action::StopPlaying => playback.act(action, app),
        _ => {}
    });
    drop(playback);
    ratatui::restore();
    result
}

/// Plays the review's recordings: one at a time, each reporting its end as an event.
struct Playback {
    replay: Option<voice::Replay>,
    speaker: Option<String>,
    tx: Sender<AppEvent>,
}

impl Playback {
    fn new(speaker: Option<String>, tx: Sender<AppEvent>) -> Self {
        Self {
            replay: None,
            speaker,
            tx,
        }
    }

    fn act(&mut self, action: Action, app: &mut App) {
        if let Some(r) = self.replay.take() {
            r.stop();
        }
        let Action::Play(number, path) = action else { return };
        match voice::Replay::start(std::path::Path::new(&path), self.speaker.as_deref()) {
            Ok(r) => {
                let (done, tx) = (r.handle(), self.tx.clone());
                std::thread::spawn(move || {
                    done.wait();
                    let _ = tx.send(AppEvent::PlayEnded(number, None));
                });
                app.notice = Some(format!("Playing Q{number}'s recording on {} · p stops", r.device()));
                self.replay = Some(r);
            }
            Err(e) => {
                let why = format!("No speaker to play it on ({e}). The recording is at {path}");
                let _ = self.tx.send(AppEvent::PlayEnded(number, Some(why)));
            }
        }
    }
}

fn export(app: &mut App, markdown: bool) {
    let Some(r) = &app.report else { return };
    let (name, text) = if markdown {
        (format!("dataready-report-{}.md", r.session), report::to_markdown(r))
    } else {
        (format!("dataready-report-{}.json", r.session), report::to_json(r))
    };
    app.notice = Some(
        match crate::store::write_private(std::path::Path::new(&name), text.as_bytes()) {
            Ok(()) => format!("Wrote {name}"),
            Err(e) => format!("Could not write {name}: {e}"),
        },
    );
}

/// The one loop: draw, wait for the next event (or the next frame), update, act.
pub fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    rx: &Receiver<AppEvent>,
    bank: &Bank,
    mut act: impl FnMut(Action, &mut App),
) -> anyhow::Result<()>
where
    B::Error: Send + Sync + 'static,
{
    let start = Instant::now();
    let mut first = true;
    while !app.done {
        terminal.draw(|f| draw::draw(f, app))?;
        if first {
            tracing::info!(ms = crate::logging::since_start_ms(), "first frame drawn");
            first = false;
        }
        let moving = matches!(
            app.room.stage,
            Stage::Asking | Stage::Listening | Stage::Transcribing | Stage::Grading | Stage::Preparing
        ) && app.screen == app::Screen::Room;
        let tick = if moving { ANIMATION_TICK } else { IDLE_TICK };
        let event = match rx.recv_timeout(tick) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => AppEvent::Tick(start.elapsed().as_millis() as u64),
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let is_tick = matches!(event, AppEvent::Tick(_));
        if !is_tick {
            app.update(AppEvent::Tick(start.elapsed().as_millis() as u64), bank);
        }
        for action in app.update(event, bank) {
            act(action, app);
        }
    }
    Ok(())
}
