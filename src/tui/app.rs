//! The room's state and how every event changes it. No drawing and no I/O here: the loop in
//! `mod.rs` feeds events in and carries out the returned [`Action`]s.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::crossterm;

use crate::bank::Bank;
use crate::doctor::Check;
use crate::interview::{Config, Line, Mode, Turn};
use crate::report::Report;
use crate::review::{ModelAnswer, Review};

/// Everything that happens, from keys, the clock, or the interview thread.
#[derive(Debug)]
pub enum AppEvent {
    Key(KeyEvent),
    /// Time since the app started, in milliseconds.
    Tick(u64),
    Resize,
    Session(SessionMsg),
    /// SIGTERM / SIGHUP: save and leave.
    Terminate,
    /// A recording played in the review stopped (its question's number), or could not play (why).
    PlayEnded(usize, Option<String>),
    /// What to practise next, read from earlier sessions after the first frame.
    Suggestion(Option<String>),
}

/// Reports from the interview thread.
#[derive(Debug, Clone)]
pub enum SessionMsg {
    Preparing(String),
    Started {
        session: String,
    },
    Asking {
        line: Line,
        skill: String,
    },
    /// Waiting for the answer; `voice`: the microphone is recording it.
    Listening {
        voice: bool,
    },
    /// Microphone level, 0–1, about ten times a second.
    Level(f32),
    /// The spoken answer's transcript so far.
    Partial(String),
    /// Seconds left before the longest answer is reached.
    TimeWarning(u64),
    /// The spoken answer ended; its last words are being transcribed.
    Transcribing,
    /// Nothing was heard: the candidate is asked to answer again.
    NotHeard,
    /// Spoken answers stopped working; the rest are typed.
    TypedFromNow(String),
    /// Something to tell the candidate (a voice problem, a dropped torn write), shown as the notice line.
    Notice(String),
    Grading,
    Feedback(Box<Turn>, Box<ModelAnswer>),
    /// The interview is over: its report and its review.
    Finished(Box<Report>, Box<Review>),
    Failed(String),
}

/// What the candidate decided, sent back to the interview thread.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Answer(String),
    /// Typing began while the microphone listened: the recording stops and the typed answer follows.
    Typing,
    Skip,
    Repeat,
    End,
}

/// What the loop must do after an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Start the interview; `voice`: answers are spoken.
    Start(Box<Config>, bool),
    Reply(Reply),
    /// End the spoken answer now (the candidate is done talking).
    StopListening,
    Export {
        markdown: bool,
    },
    /// Play an answer's recording (the question's number and the file).
    Play(usize, String),
    StopPlaying,
    Quit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Preparing,
    Asking,
    Listening,
    Transcribing,
    Grading,
    Finished,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Self::Preparing => "getting ready",
            Self::Asking => "asking",
            Self::Listening => "listening",
            Self::Transcribing => "transcribing",
            Self::Grading => "grading",
            Self::Finished => "finished",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Role,
    Years,
    Skills,
    Mode,
    Questions,
    Input,
    Start,
}

const FIELDS: [Field; 7] = [
    Field::Role,
    Field::Years,
    Field::Skills,
    Field::Mode,
    Field::Questions,
    Field::Input,
    Field::Start,
];

#[derive(Debug, Clone)]
pub struct SetupForm {
    pub roles: Vec<(String, String, u32)>,
    pub role: usize,
    pub years: u32,
    /// All skills (id, name) and which are selected.
    pub skills: Vec<(String, String, bool)>,
    pub skill_cursor: usize,
    pub mode: Mode,
    pub questions: usize,
    pub field: Field,
    pub checks: Vec<Check>,
    pub seed: u64,
    /// Spoken answers; only offered when a microphone and the Whisper model are there.
    pub voice: bool,
    pub voice_available: bool,
    /// What to practise next, from earlier sessions (`dataready history`).
    pub suggestion: Option<String>,
    /// What the CV and job description shaped (`--cv`, `--job`), kept for the interview's config.
    pub tailoring: Option<crate::profile::Tailoring>,
    /// What was found in them and where they go, said before the interview starts.
    pub tailoring_note: Option<String>,
}

impl SetupForm {
    pub fn new(bank: &Bank, config: &Config, checks: Vec<Check>, voice: bool) -> Self {
        let roles: Vec<(String, String, u32)> = bank
            .roles
            .iter()
            .map(|r| (r.id.clone(), r.name.clone(), r.min_years))
            .collect();
        let role = roles.iter().position(|r| r.0 == config.role).unwrap_or(1);
        let mut form = Self {
            years: config.years.unwrap_or(roles[role].2),
            roles,
            role,
            skills: bank
                .skills
                .iter()
                .map(|s| (s.id.clone(), s.name.clone(), false))
                .collect(),
            skill_cursor: 0,
            mode: config.mode,
            questions: config.questions,
            field: Field::Role,
            checks,
            seed: config.seed,
            voice,
            voice_available: voice,
            suggestion: None,
            tailoring: config.tailoring.clone(),
            tailoring_note: None,
        };
        form.select_role_skills(bank);
        form
    }

    /// Selects the current role's focus skills.
    pub fn select_role_skills(&mut self, bank: &Bank) {
        let focus: Vec<&str> = bank
            .role(&self.roles[self.role].0)
            .map(|r| r.focus.iter().map(|f| f.0.as_str()).collect())
            .unwrap_or_default();
        for s in &mut self.skills {
            s.2 = focus.contains(&s.0.as_str());
        }
        self.skill_cursor = self.skills.iter().position(|s| s.2).unwrap_or(0);
    }

    pub fn config(&self, bank: &Bank) -> Config {
        let role = &self.roles[self.role].0;
        let focus: Vec<String> = bank
            .role(role)
            .map(|r| r.focus.iter().map(|f| f.0.clone()).collect())
            .unwrap_or_default();
        let mut chosen: Vec<String> = self.skills.iter().filter(|s| s.2).map(|s| s.0.clone()).collect();
        // The role's own focus selected as-is keeps its weights: leave `skills` empty then.
        let mut sorted_focus = focus.clone();
        sorted_focus.sort();
        chosen.sort();
        let skills = if chosen == sorted_focus || chosen.is_empty() {
            Vec::new()
        } else {
            chosen
        };
        Config {
            role: role.clone(),
            skills,
            questions: self.questions,
            mode: self.mode,
            seed: self.seed,
            years: Some(self.years),
            tailoring: self.tailoring.clone(),
            ask_first: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Room {
    pub session: Option<String>,
    pub stage: Stage,
    pub status: String,
    pub line: Option<Line>,
    pub skill: String,
    pub draft: String,
    pub feedback: Option<(Turn, ModelAnswer)>,
    pub answered: usize,
    pub of: usize,
    pub skills_covered: Vec<String>,
    /// When the current stage began (ms since start), for the animation.
    pub stage_since: u64,
    /// Answers are spoken (the microphone records while listening).
    pub voice: bool,
    pub level: f32,
    /// What has been recognised of the spoken answer so far.
    pub heard: String,
    /// A line for the candidate under their answer ("I didn't catch that", time running out).
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Setup,
    Room,
    Report,
    /// The report's answers one by one, with recordings and model answers.
    Review,
}

pub struct App {
    pub screen: Screen,
    pub setup: Option<SetupForm>,
    pub room: Room,
    pub report: Option<Report>,
    pub review: Option<Review>,
    /// The item of the review on screen.
    pub review_at: usize,
    /// The question whose recording is playing.
    pub playing: Option<usize>,
    pub scroll: u16,
    pub now_ms: u64,
    /// Interview time, paused while paused.
    pub elapsed_ms: u64,
    pub paused: bool,
    /// When the candidate last pressed a key or was heard speaking (for the idle pause).
    pub last_activity_ms: u64,
    pub confirm_end: bool,
    pub help: bool,
    pub notice: Option<String>,
    pub color: bool,
    pub done: bool,
}

/// An interview left this long with no key and no speech pauses itself.
pub const IDLE_PAUSE_MS: u64 = 10 * 60_000;

impl App {
    pub fn new(setup: Option<SetupForm>, questions: usize, color: bool) -> Self {
        Self {
            screen: if setup.is_some() { Screen::Setup } else { Screen::Room },
            setup,
            room: Room {
                session: None,
                stage: Stage::Preparing,
                status: "Loading the grader...".into(),
                line: None,
                skill: String::new(),
                draft: String::new(),
                feedback: None,
                answered: 0,
                of: questions,
                skills_covered: Vec::new(),
                stage_since: 0,
                voice: false,
                level: 0.0,
                heard: String::new(),
                hint: None,
            },
            report: None,
            review: None,
            review_at: 0,
            playing: None,
            scroll: 0,
            now_ms: 0,
            elapsed_ms: 0,
            paused: false,
            last_activity_ms: 0,
            confirm_end: false,
            help: false,
            notice: None,
            color,
            done: false,
        }
    }

    /// A report-only app (for `dataready report` on a terminal).
    pub fn for_report(report: Report, color: bool) -> Self {
        let mut app = Self::new(None, report.questions_planned, color);
        app.screen = Screen::Report;
        app.room.stage = Stage::Finished;
        app.report = Some(report);
        app
    }

    /// The report with its review behind `r` (for `dataready review` and `report` on a terminal).
    pub fn for_review(report: Report, review: Review, open_review: bool, color: bool) -> Self {
        let mut app = Self::for_report(report, color);
        app.review = Some(review);
        if open_review {
            app.screen = Screen::Review;
        }
        app
    }

    fn set_stage(&mut self, stage: Stage) {
        self.room.stage = stage;
        self.room.stage_since = self.now_ms;
    }

    pub fn update(&mut self, event: AppEvent, bank: &Bank) -> Vec<Action> {
        match event {
            AppEvent::Tick(now) => {
                let dt = now.saturating_sub(self.now_ms);
                self.now_ms = now;
                let running = matches!(
                    self.room.stage,
                    Stage::Asking | Stage::Listening | Stage::Transcribing | Stage::Grading
                );
                if self.screen == Screen::Room && running && !self.paused {
                    self.elapsed_ms += dt;
                }
                let idle = now.saturating_sub(self.last_activity_ms);
                if self.screen == Screen::Room
                    && self.room.stage == Stage::Listening
                    && !self.paused
                    && idle >= IDLE_PAUSE_MS
                {
                    self.paused = true;
                    self.notice = Some(format!(
                        "Paused after {} minutes with no key and no speech. Ctrl-P continues. Everything answered \
                         is saved: you can also close the room and continue later with `dataready resume {}`.",
                        IDLE_PAUSE_MS / 60_000,
                        self.room.session.as_deref().unwrap_or("last")
                    ));
                }
                Vec::new()
            }
            AppEvent::Resize => Vec::new(),
            AppEvent::PlayEnded(number, why) => {
                if self.playing == Some(number) {
                    self.playing = None;
                    self.notice = why.or(Some(format!("Q{number}'s recording ended · p plays it again")));
                }
                Vec::new()
            }
            AppEvent::Suggestion(suggestion) => {
                if let Some(form) = self.setup.as_mut() {
                    form.suggestion = suggestion;
                }
                Vec::new()
            }
            AppEvent::Terminate => {
                self.done = true;
                vec![Action::Quit]
            }
            AppEvent::Session(msg) => {
                if matches!(msg, SessionMsg::Partial(_) | SessionMsg::Listening { .. }) {
                    self.last_activity_ms = self.now_ms;
                }
                self.on_session(msg)
            }
            AppEvent::Key(key) => {
                self.last_activity_ms = self.now_ms;
                self.on_key(key, bank)
            }
        }
    }

    fn on_session(&mut self, msg: SessionMsg) -> Vec<Action> {
        match msg {
            SessionMsg::Preparing(s) => self.room.status = s,
            SessionMsg::Started { session } => {
                self.room.status = format!("Session {session}");
                self.room.session = Some(session);
            }
            SessionMsg::Asking { line, skill } => {
                if !self.room.skills_covered.contains(&skill) {
                    self.room.skills_covered.push(skill.clone());
                }
                self.room.of = line.of;
                self.room.skill = skill;
                self.room.line = Some(line);
                // A half-typed draft or an old hint belongs to the last question.
                self.room.draft.clear();
                self.room.hint = None;
                self.set_stage(Stage::Asking);
            }
            SessionMsg::Listening { voice } => {
                self.room.voice = voice;
                self.room.heard.clear();
                self.room.level = 0.0;
                self.set_stage(Stage::Listening);
            }
            SessionMsg::Level(l) => self.room.level = l,
            SessionMsg::Partial(text) => self.room.heard = text,
            SessionMsg::TimeWarning(secs) => self.room.hint = Some(format!("{secs} s left for this answer.")),
            SessionMsg::Transcribing => {
                self.room.level = 0.0;
                self.set_stage(Stage::Transcribing);
            }
            SessionMsg::NotHeard => {
                self.room.hint = Some("I didn't catch that — please answer again.".into());
                self.room.heard.clear();
                self.set_stage(Stage::Listening);
            }
            SessionMsg::TypedFromNow(why) => {
                self.room.voice = false;
                self.notice = Some(format!("Answers are typed from here: {why}"));
            }
            SessionMsg::Notice(text) => self.notice = Some(text),
            SessionMsg::Grading => {
                self.room.hint = None;
                self.set_stage(Stage::Grading);
            }
            SessionMsg::Feedback(turn, model) => self.room.feedback = Some((*turn, *model)),
            SessionMsg::Finished(report, review) => {
                self.room.answered = report.questions_answered;
                self.report = Some(*report);
                self.review = Some(*review);
                self.set_stage(Stage::Finished);
                self.screen = Screen::Report;
                self.scroll = 0;
            }
            SessionMsg::Failed(e) => {
                self.notice = Some(format!("Error: {e}"));
                self.set_stage(Stage::Finished);
            }
        }
        Vec::new()
    }

    fn on_key(&mut self, key: KeyEvent, bank: &Bank) -> Vec<Action> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && key.code == KeyCode::Char('c') {
            // Answers are saved as they are given; leaving now loses nothing answered.
            self.done = true;
            return vec![Action::Quit];
        }
        if self.help {
            self.help = false;
            return Vec::new();
        }
        if key.code == KeyCode::F(1) {
            self.help = true;
            return Vec::new();
        }
        match self.screen {
            Screen::Setup => self.setup_key(key, bank),
            Screen::Room => self.room_key(key, ctrl),
            Screen::Report => self.report_key(key),
            Screen::Review => self.review_key(key),
        }
    }

    fn setup_key(&mut self, key: KeyEvent, bank: &Bank) -> Vec<Action> {
        let Some(form) = self.setup.as_mut() else {
            return Vec::new();
        };
        let at = FIELDS.iter().position(|f| *f == form.field).unwrap_or(0);
        let step: i64 = match key.code {
            KeyCode::Left => -1,
            KeyCode::Right => 1,
            _ => 0,
        };
        match key.code {
            KeyCode::Esc => {
                self.done = true;
                return vec![Action::Quit];
            }
            KeyCode::Up | KeyCode::BackTab => form.field = FIELDS[(at + FIELDS.len() - 1) % FIELDS.len()],
            KeyCode::Down | KeyCode::Tab => form.field = FIELDS[(at + 1) % FIELDS.len()],
            KeyCode::Enter if form.field == Field::Start || key.modifiers.contains(KeyModifiers::CONTROL) => {
                let config = form.config(bank);
                self.screen = Screen::Room;
                self.room.of = config.questions;
                return vec![Action::Start(Box::new(config), form.voice)];
            }
            KeyCode::Enter => form.field = FIELDS[(at + 1) % FIELDS.len()],
            KeyCode::Char(' ') if form.field == Field::Skills => {
                let c = form.skill_cursor;
                form.skills[c].2 = !form.skills[c].2;
            }
            _ if step != 0 => match form.field {
                Field::Role => {
                    form.role = (form.role as i64 + step).rem_euclid(form.roles.len() as i64) as usize;
                    form.years = form.roles[form.role].2;
                    form.select_role_skills(bank);
                }
                Field::Years => form.years = (form.years as i64 + step).clamp(0, 40) as u32,
                Field::Skills => {
                    form.skill_cursor = (form.skill_cursor as i64 + step).rem_euclid(form.skills.len() as i64) as usize;
                }
                Field::Mode => {
                    form.mode = if form.mode == Mode::Mock {
                        Mode::Practice
                    } else {
                        Mode::Mock
                    }
                }
                Field::Questions => form.questions = (form.questions as i64 + step).clamp(1, 30) as usize,
                Field::Input => form.voice = form.voice_available && !form.voice,
                Field::Start => {}
            },
            _ => {}
        }
        Vec::new()
    }

    fn room_key(&mut self, key: KeyEvent, ctrl: bool) -> Vec<Action> {
        if self.confirm_end {
            self.confirm_end = false;
            if matches!(key.code, KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter) {
                return vec![Action::Reply(Reply::End)];
            }
            return Vec::new();
        }
        if ctrl {
            return match key.code {
                KeyCode::Char('e') => {
                    self.confirm_end = true;
                    Vec::new()
                }
                KeyCode::Char('p') => {
                    self.paused = !self.paused;
                    Vec::new()
                }
                KeyCode::Char('r') if self.room.stage == Stage::Listening && !self.paused => {
                    vec![Action::Reply(Reply::Repeat)]
                }
                KeyCode::Char('s') if self.room.stage == Stage::Listening && !self.paused => {
                    self.room.draft.clear();
                    self.set_stage(Stage::Grading);
                    vec![Action::Reply(Reply::Skip)]
                }
                KeyCode::Char('u') => {
                    self.room.draft.clear();
                    Vec::new()
                }
                _ => Vec::new(),
            };
        }
        if self.paused || self.room.stage != Stage::Listening {
            return Vec::new();
        }
        self.notice = None;
        match key.code {
            // Done talking: the last words are transcribed and the answer is graded.
            KeyCode::Enter if self.room.voice && self.room.draft.trim().is_empty() => {
                self.room.feedback = None;
                self.room.hint = None;
                self.set_stage(Stage::Transcribing);
                vec![Action::StopListening]
            }
            KeyCode::Enter if !self.room.draft.trim().is_empty() => {
                let answer = std::mem::take(&mut self.room.draft);
                self.room.answered += 1;
                self.room.feedback = None;
                self.set_stage(Stage::Grading);
                vec![Action::Reply(Reply::Answer(answer))]
            }
            KeyCode::Backspace => {
                self.room.draft.pop();
                Vec::new()
            }
            KeyCode::Char(c) if self.room.draft.chars().count() < crate::text::MAX_ANSWER_CHARS => {
                self.room.draft.push(c);
                if self.room.voice {
                    // Typing instead of talking: the microphone stops and this answer is typed.
                    self.room.voice = false;
                    self.room.hint = None;
                    return vec![Action::Reply(Reply::Typing)];
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn report_key(&mut self, key: KeyEvent) -> Vec<Action> {
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => {
                self.done = true;
                vec![Action::Quit]
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.scroll = self.scroll.saturating_add(1);
                Vec::new()
            }
            KeyCode::Up | KeyCode::Char('k') => {
                self.scroll = self.scroll.saturating_sub(1);
                Vec::new()
            }
            KeyCode::PageDown | KeyCode::Char(' ') => {
                self.scroll = self.scroll.saturating_add(10);
                Vec::new()
            }
            KeyCode::PageUp => {
                self.scroll = self.scroll.saturating_sub(10);
                Vec::new()
            }
            KeyCode::Home | KeyCode::Char('g') => {
                self.scroll = 0;
                Vec::new()
            }
            KeyCode::Char('m') => vec![Action::Export { markdown: true }],
            KeyCode::Char('J') | KeyCode::Char('x') => vec![Action::Export { markdown: false }],
            KeyCode::Char('r') if self.review.is_some() => {
                self.screen = Screen::Review;
                self.scroll = 0;
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn review_key(&mut self, key: KeyEvent) -> Vec<Action> {
        let count = self.review.as_ref().map_or(0, |r| r.items.len());
        // A notice stays until the next key.
        self.notice = None;
        let mut actions = Vec::new();
        let mut stop = |app: &mut Self| {
            if app.playing.take().is_some() {
                actions.push(Action::StopPlaying);
            }
        };
        match key.code {
            KeyCode::Char('q') => {
                stop(self);
                self.done = true;
                actions.push(Action::Quit);
            }
            KeyCode::Esc | KeyCode::Char('r') => {
                stop(self);
                self.screen = Screen::Report;
                self.scroll = 0;
            }
            KeyCode::Right | KeyCode::Char('l') | KeyCode::Char('n') | KeyCode::Tab if self.review_at + 1 < count => {
                stop(self);
                self.review_at += 1;
                self.scroll = 0;
            }
            KeyCode::Left | KeyCode::Char('h') | KeyCode::BackTab if self.review_at > 0 => {
                stop(self);
                self.review_at -= 1;
                self.scroll = 0;
            }
            KeyCode::Down | KeyCode::Char('j') => self.scroll = self.scroll.saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => self.scroll = self.scroll.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll = self.scroll.saturating_add(10),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(10),
            KeyCode::Char('p') | KeyCode::Enter => {
                let item = self.review.as_ref().and_then(|r| r.items.get(self.review_at));
                let Some(item) = item else { return actions };
                let number = item.number;
                if self.playing == Some(number) {
                    stop(self);
                    self.notice = Some(format!("Stopped Q{number}'s recording."));
                } else {
                    match item.recording.clone() {
                        Some(path) => {
                            stop(self);
                            self.playing = Some(number);
                            self.notice = Some(format!("Playing Q{number}'s recording · p stops"));
                            actions.push(Action::Play(number, path));
                        }
                        None => self.notice = Some(format!("Q{number} was typed, not spoken: no recording to play.")),
                    }
                }
            }
            _ => {}
        }
        actions
    }
}
