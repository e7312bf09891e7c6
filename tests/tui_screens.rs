//! Snapshots of every screen in its main states, drawn on ratatui's TestBackend (80×24 and 120×36),
//! and the room's key handling.

use std::sync::Arc;

use dataready::bank::Bank;
use dataready::interview::{Config, Evaluation, Line, Mode, Scores, Turn, TurnKind};
use dataready::tui::app::{Action, App, AppEvent, Reply, SessionMsg, SetupForm};
use dataready::tui::draw;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn bank() -> Arc<Bank> {
    Arc::new(Bank::builtin().unwrap())
}

fn config() -> Config {
    Config {
        role: "senior".into(),
        skills: vec![],
        questions: 10,
        mode: Mode::Practice,
        seed: 1,
        years: Some(6),
        tailoring: None,
        ask_first: Vec::new(),
    }
}

fn checks() -> Vec<dataready::doctor::Check> {
    vec![
        dataready::doctor::Check {
            name: "Grader model",
            ok: true,
            detail: "installed".into(),
            fix: None,
        },
        dataready::doctor::Check {
            name: "Microphone + Whisper",
            ok: false,
            detail: "no microphone found".into(),
            fix: None,
        },
    ]
}

fn render(app: &App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| draw::draw(f, app)).unwrap();
    t.backend().to_string()
}

fn key(code: KeyCode) -> AppEvent {
    AppEvent::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> AppEvent {
    AppEvent::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn line() -> Line {
    Line {
        text: "How would you design a pipeline that reads change events from Kafka and keeps a warehouse table \
               exactly in sync, including deletes?"
            .into(),
        question_id: "st-cdc-sync".into(),
        kind: TurnKind::Main,
        number: 3,
        of: 10,
    }
}

fn room_app(bank: &Bank) -> App {
    let mut app = App::new(None, 10, false);
    app.update(
        AppEvent::Session(SessionMsg::Started {
            session: "20261125-120000-senior-abcd".into(),
        }),
        bank,
    );
    app.update(
        AppEvent::Session(SessionMsg::Asking {
            line: line(),
            skill: "Stream processing".into(),
        }),
        bank,
    );
    app
}

#[test]
fn setup_screen() {
    let bank = bank();
    let app = App::new(Some(SetupForm::new(&bank, &config(), checks(), false)), 10, false);
    insta::assert_snapshot!("setup_80x24", render(&app, 80, 24));
    insta::assert_snapshot!("setup_120x36", render(&app, 120, 36));
}

/// With `--cv` and `--job`: what was found and where it goes, said on the setup screen before the start;
/// the interview's config keeps the tailoring.
#[test]
fn setup_screen_with_a_cv_and_a_job() {
    let bank = bank();
    let vocab = dataready::profile::Vocabulary::for_bank(&bank, None).unwrap();
    let doc = |file: &str, text: &str| dataready::profile::Doc {
        file: file.into(),
        text: text.into(),
    };
    let tailoring = dataready::profile::tailor(
        &vocab,
        Some(&doc(
            "cv.md",
            "- Built a Kafka pipeline into Snowflake\n- Airflow and dbt\n",
        )),
        Some(&doc("job.txt", "Kafka, Flink and Iceberg.")),
    );
    let mut config = config();
    config.tailoring = Some(tailoring.clone());
    let mut form = SetupForm::new(&bank, &config, checks(), false);
    form.tailoring_note = Some(dataready::profile::privacy_note(&tailoring, None));
    let app = App::new(Some(form), 10, false);
    insta::assert_snapshot!("setup_tailored_120x36", render(&app, 120, 36));
    let started = app.setup.as_ref().unwrap().config(&bank);
    assert_eq!(started.tailoring, Some(tailoring));
}

/// Earlier sessions are read after the first frame; their suggestion appears when it arrives.
#[test]
fn the_next_practice_suggestion_arrives_after_the_first_frame() {
    let bank = bank();
    let mut app = App::new(Some(SetupForm::new(&bank, &config(), checks(), false)), 10, false);
    assert!(!render(&app, 120, 36).contains("Next practice"));
    let actions = app.update(
        AppEvent::Suggestion(Some("Streaming: 2 sessions below 50".into())),
        &bank,
    );
    assert!(actions.is_empty());
    let screen = render(&app, 120, 36);
    assert!(screen.contains("Next practice"), "{screen}");
    assert!(screen.contains("Streaming: 2 sessions below 50"), "{screen}");
}

#[test]
fn setup_keys_change_the_config() {
    let bank = bank();
    let mut app = App::new(Some(SetupForm::new(&bank, &config(), checks(), false)), 10, false);
    app.update(key(KeyCode::Right), &bank); // role: senior -> staff
    for _ in 0..4 {
        app.update(key(KeyCode::Down), &bank); // to Questions
    }
    app.update(key(KeyCode::Left), &bank);
    app.update(key(KeyCode::Left), &bank);
    app.update(key(KeyCode::Down), &bank);
    app.update(key(KeyCode::Down), &bank); // Start
    let actions = app.update(key(KeyCode::Enter), &bank);
    let [Action::Start(c, false)] = actions.as_slice() else {
        panic!("{actions:?}")
    };
    assert_eq!(c.role, "staff");
    assert_eq!(c.questions, 8);
    assert!(c.skills.is_empty(), "the role's own focus keeps its weights");
}

#[test]
fn room_screens() {
    let bank = bank();
    let mut app = room_app(&bank);
    insta::assert_snapshot!("room_asking_80x24", render(&app, 80, 24));
    app.update(AppEvent::Session(SessionMsg::Listening { voice: false }), &bank);
    for c in "We read the topic with a consumer that".chars() {
        app.update(key(KeyCode::Char(c)), &bank);
    }
    insta::assert_snapshot!("room_listening_80x24", render(&app, 80, 24));
    let actions = app.update(key(KeyCode::Enter), &bank);
    assert_eq!(
        actions,
        vec![Action::Reply(Reply::Answer(
            "We read the topic with a consumer that".into()
        ))]
    );
    insta::assert_snapshot!("room_grading_80x24", render(&app, 80, 24));
    let turn = Turn {
        index: 2,
        question_id: "st-cdc-sync".into(),
        skill: "streaming".into(),
        difficulty: 4,
        kind: TurnKind::Main,
        prompt: line().text,
        answer: "We read the topic with a consumer that".into(),
        audio: None,
        speech: None,
        truncated: false,
        skipped: false,
        asked_at_ms: 0,
        answered_at_ms: 0,
        evaluation: Evaluation {
            scores: Scores::from_array([4.0, 3.0, 1.0, 6.0, 7.0]),
            score: 38,
            what_went_well: vec!["Covered: consuming change events in order per key.".into()],
            what_was_missing: vec![
                "Not covered: deletes arrive as tombstones and must become deletes downstream.".into(),
            ],
            red_flags: vec![],
            seniority_signals: vec![],
            grader: "offline-rubric/1".into(),
            offline: None,
            fallback: None,
            grade_confidence: None,
            key_points: Vec::new(),
        },
        generated: None,
        written_by: None,
        moved_on: false,
    };
    let cdc = bank.questions.iter().find(|q| q.skill == "streaming").unwrap();
    let model = dataready::review::model_answer(cdc, TurnKind::Main);
    app.update(
        AppEvent::Session(SessionMsg::Feedback(Box::new(turn), Box::new(model))),
        &bank,
    );
    app.update(
        AppEvent::Session(SessionMsg::Asking {
            line: line(),
            skill: "Stream processing".into(),
        }),
        &bank,
    );
    app.update(AppEvent::Session(SessionMsg::Listening { voice: false }), &bank);
    insta::assert_snapshot!("room_feedback_120x36", render(&app, 120, 36));
    app.update(ctrl('e'), &bank);
    insta::assert_snapshot!("room_confirm_end_80x24", render(&app, 80, 24));
    assert_eq!(
        app.update(key(KeyCode::Char('y')), &bank),
        vec![Action::Reply(Reply::End)]
    );
}

#[test]
fn spoken_answers_show_the_level_and_words_and_enter_ends_them() {
    let bank = bank();
    let mut app = room_app(&bank);
    app.update(AppEvent::Session(SessionMsg::Listening { voice: true }), &bank);
    insta::assert_snapshot!("room_voice_waiting_80x24", render(&app, 80, 24));
    app.update(AppEvent::Session(SessionMsg::Level(0.8)), &bank);
    app.update(
        AppEvent::Session(SessionMsg::Partial(
            "We read the change topic with a consumer that commits offsets after the merge".into(),
        )),
        &bank,
    );
    let screen = render(&app, 80, 24);
    assert!(screen.contains("mic ▮▮▮▮▯"), "{screen}");
    insta::assert_snapshot!("room_voice_hearing_80x24", screen);
    assert_eq!(app.update(key(KeyCode::Enter), &bank), vec![Action::StopListening]);
    assert_eq!(app.room.stage.label(), "transcribing");
    insta::assert_snapshot!("room_voice_transcribing_80x24", render(&app, 80, 24));

    // Nothing heard: asked again; typing instead of speaking sends the typed words.
    app.update(AppEvent::Session(SessionMsg::NotHeard), &bank);
    assert!(render(&app, 80, 24).contains("didn't catch that"));
    assert_eq!(
        app.update(key(KeyCode::Char('t')), &bank),
        vec![Action::Reply(Reply::Typing)],
        "typing stops the recording"
    );
    for c in "yped".chars() {
        assert!(app.update(key(KeyCode::Char(c)), &bank).is_empty());
    }
    assert_eq!(
        app.update(key(KeyCode::Enter), &bank),
        vec![Action::Reply(Reply::Answer("typed".into()))]
    );
    // The microphone fails: a notice, and typed answers from then on.
    app.update(
        AppEvent::Session(SessionMsg::TypedFromNow("no microphone found".into())),
        &bank,
    );
    assert!(!app.room.voice);
    assert!(app.notice.as_deref().is_some_and(|n| n.contains("no microphone")));
}

#[test]
fn setup_offers_spoken_answers_only_when_they_can_work() {
    let bank = bank();
    let mut app = App::new(Some(SetupForm::new(&bank, &config(), checks(), true)), 10, false);
    for _ in 0..5 {
        app.update(key(KeyCode::Down), &bank); // to Input
    }
    assert!(render(&app, 80, 24).contains("spoken (mic + Whisper)"));
    app.update(key(KeyCode::Right), &bank);
    app.update(key(KeyCode::Down), &bank);
    let actions = app.update(key(KeyCode::Enter), &bank);
    assert!(matches!(actions.as_slice(), [Action::Start(_, false)]), "{actions:?}");

    let mut app = App::new(Some(SetupForm::new(&bank, &config(), checks(), false)), 10, false);
    for _ in 0..5 {
        app.update(key(KeyCode::Down), &bank);
    }
    app.update(key(KeyCode::Right), &bank);
    assert!(render(&app, 80, 24).contains("typed (no mic or Whisper)"));
    app.update(key(KeyCode::Down), &bank);
    let actions = app.update(key(KeyCode::Enter), &bank);
    assert!(matches!(actions.as_slice(), [Action::Start(_, false)]), "{actions:?}");
}

#[test]
fn room_keys_skip_repeat_pause_and_quit() {
    let bank = bank();
    let mut app = room_app(&bank);
    app.update(AppEvent::Session(SessionMsg::Listening { voice: false }), &bank);
    assert_eq!(app.update(ctrl('r'), &bank), vec![Action::Reply(Reply::Repeat)]);
    app.update(ctrl('p'), &bank);
    assert!(app.paused);
    app.update(key(KeyCode::Char('x')), &bank);
    assert!(app.room.draft.is_empty(), "no typing while paused");
    app.update(AppEvent::Tick(5_000), &bank);
    assert_eq!(app.elapsed_ms, 0, "the clock stops while paused");
    app.update(ctrl('p'), &bank);
    assert_eq!(app.update(ctrl('s'), &bank), vec![Action::Reply(Reply::Skip)]);
    assert_eq!(app.update(ctrl('c'), &bank), vec![Action::Quit]);
    assert!(app.done);
}

#[test]
fn a_room_left_alone_for_ten_minutes_pauses_itself_and_says_how_to_continue() {
    let bank = bank();
    let mut app = room_app(&bank);
    app.update(AppEvent::Tick(1_000), &bank);
    app.update(AppEvent::Session(SessionMsg::Listening { voice: false }), &bank);
    app.update(AppEvent::Tick(1_000 + 9 * 60_000), &bank);
    app.update(key(KeyCode::Char('a')), &bank);
    app.update(AppEvent::Tick(1_000 + 18 * 60_000), &bank);
    assert!(!app.paused, "a key nine minutes in keeps it going");
    app.update(AppEvent::Tick(1_000 + 19 * 60_000 + 1), &bank);
    assert!(app.paused);
    let notice = app.notice.clone().unwrap();
    assert!(
        notice.contains("Paused after 10 minutes") && notice.contains("dataready resume"),
        "{notice}"
    );
    app.update(ctrl('p'), &bank);
    assert!(!app.paused, "Ctrl-P continues");
}

/// The strong example candidate's report (examples/).
fn strong_report() -> dataready::report::Report {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/strong-candidate/report.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn report_dashboard() {
    let report = strong_report();
    let bank = bank();
    let mut app = App::for_report(report, false);
    insta::assert_snapshot!("report_80x24", render(&app, 80, 24));
    for _ in 0..3 {
        app.update(key(KeyCode::PageDown), &bank);
    }
    insta::assert_snapshot!("report_scrolled_80x24", render(&app, 80, 24));
    assert_eq!(
        app.update(key(KeyCode::Char('m')), &bank),
        vec![Action::Export { markdown: true }]
    );
    assert_eq!(app.update(key(KeyCode::Char('q')), &bank), vec![Action::Quit]);
}

/// The review view: one answer at a time, the rubric's points with what was covered, the model answer;
/// `p` plays the recording and stops it, ←/→ move between answers, `r` goes back to the report.
#[test]
fn review_view() {
    use dataready::review::{Coverage, PointReview, Review, ReviewItem};
    let report = strong_report();
    let bank = bank();
    let q = bank.question("sf-small-files").unwrap();
    let item = |number: usize, recording: Option<&str>| ReviewItem {
        number,
        question_id: q.id.clone(),
        skill: "Storage formats".into(),
        kind: TurnKind::Main,
        question: q.text.clone(),
        answer: "Lots of tiny files slow down reads because every file costs a request and a footer read, \
                 so we compact them nightly into files of about 512 megabytes."
            .into(),
        skipped: false,
        score: 64,
        grader: "offline-rubric/1".into(),
        recording: recording.map(str::to_string),
        points: q
            .key_points
            .iter()
            .enumerate()
            .map(|(i, k)| PointReview {
                text: k.text.clone(),
                coverage: [Coverage::Covered, Coverage::Partly, Coverage::Missed][i % 3],
            })
            .collect(),
        red_flags: vec![],
        model_answer: dataready::review::model_answer(q, TurnKind::Main),
    };
    let review = Review {
        session: "20261201-101500-mid-ab12".into(),
        role: "mid".into(),
        items: vec![item(1, Some("/data/q01-sf-small-files-main.wav")), item(2, None)],
    };
    let mut app = App::for_review(report, review, true, false);
    insta::assert_snapshot!("review_80x24", render(&app, 80, 24));
    insta::assert_snapshot!("review_120x36", render(&app, 120, 36));
    assert_eq!(
        app.update(key(KeyCode::Char('p')), &bank),
        vec![Action::Play(1, "/data/q01-sf-small-files-main.wav".into())]
    );
    assert!(render(&app, 80, 24).contains("▶ playing"));
    assert_eq!(app.update(key(KeyCode::Char('p')), &bank), vec![Action::StopPlaying]);
    app.update(key(KeyCode::Char('p')), &bank);
    app.update(AppEvent::PlayEnded(1, None), &bank);
    assert!(render(&app, 80, 24).contains("recording ended"));
    // Moving on stops nothing that is not playing; the typed answer has nothing to play.
    assert_eq!(app.update(key(KeyCode::Right), &bank), Vec::new());
    assert!(render(&app, 80, 24).contains("Q2 of 2"));
    assert_eq!(app.update(key(KeyCode::Char('p')), &bank), Vec::new());
    assert!(render(&app, 80, 24).contains("typed, not spoken"));
    app.update(key(KeyCode::Char('r')), &bank);
    assert!(render(&app, 80, 24).contains("r review answers"));
    app.update(key(KeyCode::Char('r')), &bank);
    assert!(render(&app, 80, 24).contains("Q2 of 2"));
    assert_eq!(app.update(key(KeyCode::Char('q')), &bank), vec![Action::Quit]);
}
