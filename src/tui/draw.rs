//! Drawing the three screens. Pure functions of the app state, so any backend (a terminal or
//! ratatui's TestBackend in snapshot tests) renders the same frame.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::app::{App, Field, Screen, Stage};
use crate::interview::Mode;
use crate::report::Report;

/// Styles that degrade to plain text under NO_COLOR and read on light and dark backgrounds.
struct Theme {
    color: bool,
}

impl Theme {
    fn accent(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD)
        }
    }
    fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }
    fn good(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Green)
        } else {
            Style::new()
        }
    }
    fn bad(&self) -> Style {
        if self.color {
            Style::new().fg(Color::Red)
        } else {
            Style::new()
        }
    }
    fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }
}

pub fn draw(f: &mut Frame, app: &App) {
    let theme = Theme { color: app.color };
    match app.screen {
        Screen::Setup => setup(f, app, &theme),
        Screen::Room => room(f, app, &theme),
        Screen::Report => {
            if let Some(r) = &app.report {
                report(f, r, app.scroll, app.notice.as_deref(), app.review.is_some(), &theme);
            }
        }
        Screen::Review => {
            if let Some(r) = &app.review {
                review(f, app, r, &theme);
            }
        }
    }
    if app.help {
        help(f, app.screen);
    }
}

fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

fn setup(f: &mut Frame, app: &App, t: &Theme) {
    let Some(form) = &app.setup else { return };
    let [title, body, footer] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0), Constraint::Length(1)]).areas(f.area());
    f.render_widget(
        Paragraph::new(Span::styled("DataReady · set up your interview", t.accent())),
        title,
    );
    let [left, right] = Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(body);
    let mark = |field: Field| if form.field == field { "▶ " } else { "  " };
    let style = |field: Field| {
        if form.field == field {
            t.selected()
        } else {
            Style::new()
        }
    };
    let role = &form.roles[form.role];
    let mut lines = vec![
        Line::from(vec![
            Span::raw(mark(Field::Role)),
            Span::styled(format!("Role:      ‹ {} ›", role.1), style(Field::Role)),
        ]),
        Line::from(vec![
            Span::raw(mark(Field::Years)),
            Span::styled(format!("Years:     ‹ {} ›", form.years), style(Field::Years)),
        ]),
        Line::from(vec![
            Span::raw(mark(Field::Skills)),
            Span::styled("Skills:    (←/→ move, space toggles)", style(Field::Skills)),
        ]),
    ];
    // Show a window of skills around the cursor so the list fits 24 rows.
    let window = 6usize;
    let start = form
        .skill_cursor
        .saturating_sub(window / 2)
        .min(form.skills.len().saturating_sub(window));
    for (i, (_, name, on)) in form.skills.iter().enumerate().skip(start).take(window) {
        let cursor = form.field == Field::Skills && i == form.skill_cursor;
        let text = format!("     [{}] {name}", if *on { "x" } else { " " });
        lines.push(Line::styled(text, if cursor { t.selected() } else { Style::new() }));
    }
    let chosen = form.skills.iter().filter(|s| s.2).count();
    lines.push(Line::styled(format!("     {chosen} selected"), t.dim()));
    let mode = match form.mode {
        Mode::Practice => "practice (feedback after each answer)",
        Mode::Mock => "mock (feedback at the end)",
    };
    lines.push(Line::from(vec![
        Span::raw(mark(Field::Mode)),
        Span::styled(format!("Mode:      ‹ {mode} ›"), style(Field::Mode)),
    ]));
    lines.push(Line::from(vec![
        Span::raw(mark(Field::Questions)),
        Span::styled(format!("Questions: ‹ {} ›", form.questions), style(Field::Questions)),
    ]));
    lines.push(Line::from(vec![
        Span::raw(mark(Field::Input)),
        Span::styled(
            match (form.voice, form.voice_available) {
                (true, _) => "Input:     ‹ spoken (mic + Whisper) ›",
                (false, true) => "Input:     ‹ typed answers ›",
                (false, false) => "Input:     typed (no mic or Whisper)",
            },
            style(Field::Input),
        ),
    ]));
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::raw(mark(Field::Start)),
        Span::styled("[ Start the interview ]", style(Field::Start).patch(t.accent())),
    ]));
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Interview ")),
        left,
    );
    let mut checks = Vec::new();
    if let Some(s) = &form.suggestion {
        checks.push(Line::styled("Next practice", t.accent()));
        checks.push(Line::raw(format!("  {s}")));
    }
    if let Some(note) = &form.tailoring_note {
        checks.push(Line::styled("Your CV and the job", t.accent()));
        checks.push(Line::raw(format!("  {note}")));
    }
    for c in &form.checks {
        let (mark, style) = if c.ok { ("✓", t.good()) } else { ("·", t.dim()) };
        checks.push(Line::from(vec![
            Span::styled(format!("{mark} "), style),
            Span::styled(c.name, t.accent()),
        ]));
        checks.push(Line::raw(format!("  {}", c.detail)));
        if let Some(fix) = &c.fix {
            checks.push(Line::styled(format!("  fix: {fix}"), t.bad()));
        }
    }
    f.render_widget(
        Paragraph::new(checks)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" This machine ")),
        right,
    );
    f.render_widget(
        Paragraph::new(Span::styled(
            "↑/↓ field · ←/→ change · Enter next/start · Esc quit · F1 help",
            t.dim(),
        )),
        footer,
    );
}

/// The interviewer: a face that talks while asking, listens, and thinks while grading.
pub fn avatar(stage: Stage, frame: u64) -> [&'static str; 6] {
    let blink = frame % 40 == 39;
    let eyes = if blink { "|  -   -  |" } else { "|  o   o  |" };
    match stage {
        Stage::Asking => [
            " .-------. ",
            eyes,
            "|    ^    |",
            if frame.is_multiple_of(2) {
                "|   \\_/   |"
            } else {
                "|   ---   |"
            },
            " '-------' ",
            "  speaking ",
        ],
        Stage::Listening => [
            " .-------. ",
            eyes,
            "|    ^    |",
            "|   ---   |",
            " '-------' ",
            " listening ",
        ],
        Stage::Grading | Stage::Preparing | Stage::Transcribing => [
            " .-------. ",
            "|  o   o  |",
            "|    ^    |",
            "|   ~~~   |",
            " '-------' ",
            match frame % 4 {
                0 => " thinking  ",
                1 => " thinking. ",
                2 => " thinking..",
                _ => " thinking..",
            },
        ],
        Stage::Finished => [
            " .-------. ",
            "|  ^   ^  |",
            "|    ^    |",
            "|   \\_/   |",
            " '-------' ",
            "   done    ",
        ],
    }
}

fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}", s / 60, s % 60)
}

fn room(f: &mut Frame, app: &App, t: &Theme) {
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(0), Constraint::Length(1)]).areas(f.area());
    room_header(f, app, header, t);
    let [left, right] = Layout::horizontal([Constraint::Length(15), Constraint::Min(0)]).areas(body);
    face_and_meter(f, app, left, t);
    // Practice feedback, with room for the model answer's opening on taller terminals.
    let feedback_h = match (&app.room.feedback, right.height) {
        (None, _) => 0,
        (Some(_), h) if h >= 30 => 10,
        (Some(_), _) => 7,
    };
    let [question, answer, feedback] = Layout::vertical([
        Constraint::Percentage(40),
        Constraint::Min(4),
        Constraint::Length(feedback_h),
    ])
    .areas(right);
    interviewer_panel(f, app, question, t);
    answer_panel(f, app, answer, t);
    feedback_panel(f, app, feedback, t);
    room_footer(f, app, footer, t);
    if let Some(n) = &app.notice {
        let area = centered(f.area(), 60, 5);
        f.render_widget(Clear, area);
        f.render_widget(
            Paragraph::new(n.clone())
                .wrap(Wrap { trim: true })
                .block(Block::bordered().title(" Notice ")),
            area,
        );
    }
}

/// Question number, stage, clock, session and the skills covered so far.
fn room_header(f: &mut Frame, app: &App, area: Rect, t: &Theme) {
    let r = &app.room;
    let number = r.line.as_ref().map_or(0, |l| l.number);
    let mut status = vec![
        Span::styled("DataReady ", t.accent()),
        Span::raw(format!("· Q{number}/{} · ", r.of)),
        Span::styled(if app.paused { "paused" } else { r.stage.label() }, t.accent()),
        Span::raw(format!(" · {}", clock(app.elapsed_ms))),
    ];
    if let Some(s) = &r.session {
        status.push(Span::styled(format!(" · {s}"), t.dim()));
    }
    let covered = if r.skills_covered.is_empty() {
        "—".to_string()
    } else {
        r.skills_covered.join(", ")
    };
    f.render_widget(
        Paragraph::new(vec![
            Line::from(status),
            Line::styled(format!("skills covered: {covered}"), t.dim()),
        ]),
        area,
    );
}

/// The interviewer's animated face, and the microphone level (or typing activity) under it.
fn face_and_meter(f: &mut Frame, app: &App, area: Rect, t: &Theme) {
    let r = &app.room;
    let [face, meter] = Layout::vertical([Constraint::Length(8), Constraint::Min(0)]).areas(area);
    let frame = (app.now_ms.saturating_sub(r.stage_since)) / 250;
    let lines: Vec<Line> = avatar(r.stage, frame).iter().map(|l| Line::raw(*l)).collect();
    f.render_widget(Paragraph::new(lines).block(Block::bordered()), face);
    let listening = r.stage == Stage::Listening;
    let lit = if r.voice {
        if listening {
            (r.level.clamp(0.0, 1.0) * 5.0).round() as usize
        } else {
            0
        }
    } else if listening && !r.draft.is_empty() {
        3
    } else {
        0
    };
    let level = format!("{}{}", "▮".repeat(lit), "▯".repeat(5 - lit));
    f.render_widget(
        Paragraph::new(vec![
            Line::raw(format!("mic {level}")),
            Line::styled(if r.voice { "voice input" } else { "typed input" }, t.dim()),
        ])
        .block(Block::bordered()),
        meter,
    );
}

fn interviewer_panel(f: &mut Frame, app: &App, area: Rect, t: &Theme) {
    let r = &app.room;
    let qtext = match &r.line {
        Some(l) => Text::from(vec![
            Line::styled(format!("{} · {}", r.skill, l.kind.label()), t.dim()),
            Line::raw(l.text.clone()),
        ]),
        None => Text::from(Line::styled(r.status.to_string(), t.dim())),
    };
    f.render_widget(
        Paragraph::new(qtext)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" Interviewer ")),
        area,
    );
}

/// What the candidate is saying or typing, or what the room is doing with it.
fn answer_panel(f: &mut Frame, app: &App, area: Rect, t: &Theme) {
    let r = &app.room;
    let mut answer_text = match r.stage {
        Stage::Listening if r.draft.is_empty() && r.voice && r.heard.is_empty() => Text::from(Line::styled(
            "Listening: answer out loud. Enter when you are done (or type to answer in text).",
            t.dim(),
        )),
        Stage::Listening if r.draft.is_empty() && r.voice => Text::from(format!("{} …", r.heard)),
        Stage::Listening if r.draft.is_empty() => {
            Text::from(Line::styled("Type your answer; Enter sends it.", t.dim()))
        }
        Stage::Listening => Text::from(format!("{}▏", r.draft)),
        Stage::Transcribing => Text::from(vec![
            Line::raw(r.heard.clone()),
            Line::styled("Transcribing your last words...", t.dim()),
        ]),
        Stage::Grading => Text::from(Line::styled("Grading your answer...", t.dim())),
        _ => Text::default(),
    };
    if let Some(h) = r.hint.as_ref().filter(|_| r.stage == Stage::Listening) {
        answer_text.lines.push(Line::styled(h.clone(), t.bad()));
    }
    // Keep the end of a long answer in view.
    let inner_w = area.width.saturating_sub(2).max(1) as usize;
    let rows = r.draft.chars().count() / inner_w + 1;
    let scroll = rows.saturating_sub(area.height.saturating_sub(2) as usize) as u16;
    f.render_widget(
        Paragraph::new(answer_text)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .block(Block::bordered().title(" Your answer ")),
        area,
    );
}

/// Practice mode: the last answer's score, what went well and what was missing, then a model answer.
fn feedback_panel(f: &mut Frame, app: &App, area: Rect, t: &Theme) {
    let Some((turn, model)) = &app.room.feedback else {
        return;
    };
    let e = &turn.evaluation;
    let mut lines = vec![Line::styled(
        format!("Q{}: {}/100", turn.index + 1, e.score),
        t.accent(),
    )];
    for w in e.what_went_well.iter().take(2) {
        lines.push(Line::styled(format!("+ {w}"), t.good()));
    }
    for m in e.what_was_missing.iter().chain(&e.red_flags).take(3) {
        lines.push(Line::styled(format!("- {m}"), t.bad()));
    }
    lines.push(Line::from(vec![
        Span::styled("Model answer: ", t.accent()),
        Span::raw(model.text.lines().next().unwrap_or_default().to_string()),
    ]));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" Feedback ")),
        area,
    );
}

fn room_footer(f: &mut Frame, app: &App, area: Rect, t: &Theme) {
    let r = &app.room;
    let keys = if app.confirm_end {
        "End the interview now? y = yes, any other key = no"
    } else if r.voice && r.draft.is_empty() {
        "Enter done · or type instead · ^R repeat · ^S skip · ^P pause · ^E end · F1 help"
    } else {
        "Enter send · ^R repeat · ^S skip · ^P pause · ^U clear · ^E end · F1 help"
    };
    f.render_widget(
        Paragraph::new(Span::styled(keys, if app.confirm_end { t.bad() } else { t.dim() })),
        area,
    );
}

fn bar(value: f32, max: f32, width: usize) -> String {
    let filled = ((value / max).clamp(0.0, 1.0) * width as f32).round() as usize;
    format!("{}{}", "█".repeat(filled), "░".repeat(width - filled))
}

/// The report as lines for the scrollable body of the dashboard.
pub fn report_lines(r: &Report) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = Vec::new();
    let heading = |s: &str| Line::styled(s.to_string(), Style::new().add_modifier(Modifier::BOLD));
    out.push(heading("Skills"));
    if let Some(radar) = &r.radar {
        out.extend(radar.lines().map(|l| Line::raw(l.to_string())));
    }
    for s in &r.skills {
        out.push(Line::raw(format!(
            "  {:22} {:>3} {}",
            s.name,
            s.score,
            bar(f32::from(s.score), 100.0, 20)
        )));
    }
    out.push(Line::raw(""));
    out.push(heading("Dimensions"));
    for d in &r.dimensions {
        out.push(Line::raw(format!(
            "  {:22} {:>4.1} {}",
            d.name,
            d.score,
            bar(d.score, 10.0, 20)
        )));
    }
    out.push(Line::raw(""));
    out.push(heading("Questions"));
    for t in &r.turns {
        out.push(Line::raw(format!(
            "  {:>2}. {:>3}/100  {:20} {}",
            t.number,
            t.score,
            t.skill,
            crate::text::one_line(&t.question, 60)
        )));
    }
    for (title, items) in [
        ("Strengths", &r.strengths),
        ("Areas to improve", &r.improvements),
        ("Red flags", &r.red_flags),
        ("Next steps", &r.next_steps),
    ] {
        if items.is_empty() && title == "Red flags" {
            continue;
        }
        out.push(Line::raw(""));
        out.push(heading(title));
        if items.is_empty() {
            out.push(Line::raw("  None noted."));
        }
        for i in items {
            out.push(Line::raw(format!("  - {i}")));
        }
    }
    if let Some(t) = &r.tailored {
        out.push(Line::raw(""));
        out.push(heading(&format!("Shaped by your {}", t.sources.join(" and "))));
        if !t.found.is_empty() {
            out.push(Line::raw(format!("  Found: {}", t.found.join(", "))));
        }
        out.extend(t.weighted.iter().map(|s| Line::raw(format!("  Weighted toward {s}"))));
        out.extend(t.questions.iter().map(|q| Line::raw(format!("  {q}"))));
    }
    out.push(Line::raw(""));
    out.push(heading("Study roadmap"));
    for (i, item) in r.roadmap.iter().enumerate() {
        out.push(Line::raw(format!("  {}. {} ({}/100)", i + 1, item.skill, item.score)));
        for topic in &item.topics {
            out.push(Line::raw(format!("     - {topic}")));
        }
    }
    if r.roadmap.is_empty() {
        out.push(Line::raw("  Every skill covered scored 70 or more."));
    }
    out
}

fn report(f: &mut Frame, r: &Report, scroll: u16, notice: Option<&str>, reviewable: bool, t: &Theme) {
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(4), Constraint::Min(0), Constraint::Length(1)]).areas(f.area());
    let verdict_style = if r.overall >= crate::report::HIRE_FROM {
        t.good()
    } else {
        t.bad()
    };
    let head = vec![
        Line::from(vec![
            Span::styled("Overall ", t.accent()),
            Span::styled(
                format!(
                    "{}/100 · {}{}",
                    r.overall,
                    r.verdict.label(),
                    if r.verdict_provisional { " (provisional)" } else { "" }
                ),
                verdict_style.add_modifier(Modifier::BOLD),
            ),
            Span::styled(
                format!(
                    "  · {} · {} of {} answered",
                    r.role.name, r.questions_answered, r.questions_planned
                ),
                t.dim(),
            ),
        ]),
        Line::raw(r.readiness.summary.clone()),
        Line::styled(format!("Session {} · {}", r.session, r.status), t.dim()),
    ];
    f.render_widget(Paragraph::new(head).wrap(Wrap { trim: true }), header);
    let lines = report_lines(r);
    let max_scroll = (lines.len() as u16).saturating_sub(body.height.saturating_sub(2));
    f.render_widget(
        Paragraph::new(lines)
            .scroll((scroll.min(max_scroll), 0))
            .block(Block::bordered().title(" Report ")),
        body,
    );
    let keys = notice.map_or_else(
        || {
            format!(
                "↑/↓ PgUp/PgDn scroll · {}m export Markdown · x export JSON · q quit",
                if reviewable { "r review answers · " } else { "" }
            )
        },
        |n| n.to_string(),
    );
    f.render_widget(Paragraph::new(Span::styled(keys, t.dim())), footer);
}

/// One answer of the review: the question, what was said, the recording, the rubric's points with
/// what was covered, red flags and the model answer.
pub fn review_lines(item: &crate::review::ReviewItem, playing: bool) -> Vec<Line<'static>> {
    let heading = |s: &str| Line::styled(s.to_string(), Style::new().add_modifier(Modifier::BOLD));
    let mut out = vec![
        heading("Question"),
        Line::raw(format!("  {}", item.question)),
        Line::raw(""),
    ];
    out.push(heading("Your answer"));
    out.push(Line::raw(if item.skipped {
        "  (skipped)".to_string()
    } else if item.answer.trim().is_empty() {
        "  (nothing was heard)".to_string()
    } else {
        format!("  {}", item.answer.trim())
    }));
    out.push(Line::raw(""));
    out.push(heading("Recording"));
    out.push(Line::raw(match (&item.recording, playing) {
        (Some(_), true) => "  ▶ playing · p stops".to_string(),
        (Some(path), false) => format!("  p plays it · {path}"),
        (None, _) => "  none: this answer was typed".to_string(),
    }));
    if !item.points.is_empty() {
        out.push(Line::raw(""));
        out.push(heading("What a strong answer covers (✓ covered · ~ partly · ✗ missed)"));
        for p in &item.points {
            out.push(Line::raw(format!("  {} {}", p.coverage.mark(), p.text)));
        }
    }
    if !item.red_flags.is_empty() {
        out.push(Line::raw(""));
        out.push(heading("Red flags"));
        out.extend(item.red_flags.iter().map(|f| Line::raw(format!("  ! {f}"))));
    }
    out.push(Line::raw(""));
    out.push(heading(&format!("Model answer (by {})", item.model_answer.by)));
    out.extend(item.model_answer.text.lines().map(|l| Line::raw(format!("  {l}"))));
    out
}

fn review(f: &mut Frame, app: &App, r: &crate::review::Review, t: &Theme) {
    let [header, body, footer] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(0), Constraint::Length(1)]).areas(f.area());
    let Some(item) = r.items.get(app.review_at) else {
        f.render_widget(
            Paragraph::new("No answers recorded in this session yet. r goes back to the report, q quits."),
            body,
        );
        return;
    };
    let score_style = if item.score >= crate::interview::plan::STRONG_FROM {
        t.good()
    } else if item.score < crate::interview::plan::SHALLOW_BELOW {
        t.bad()
    } else {
        Style::new()
    };
    let head = vec![
        Line::from(vec![
            Span::styled(format!("Review · Q{} of {} ", item.number, r.items.len()), t.accent()),
            Span::styled(format!("{}/100", item.score), score_style.add_modifier(Modifier::BOLD)),
            Span::styled(format!("  · {} · {}", item.skill, item.kind.label()), t.dim()),
        ]),
        Line::styled(format!("Session {} · graded by {}", r.session, item.grader), t.dim()),
    ];
    f.render_widget(Paragraph::new(head), header);
    let lines = review_lines(item, app.playing == Some(item.number));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((app.scroll, 0))
            .block(Block::bordered().title(format!(" Q{} ", item.number))),
        body,
    );
    let keys = app
        .notice
        .clone()
        .unwrap_or_else(|| "←/→ question · ↑/↓ scroll · p play/stop recording · r report · q quit".to_string());
    f.render_widget(Paragraph::new(Span::styled(keys, t.dim())), footer);
}

fn help(f: &mut Frame, screen: Screen) {
    let text = match screen {
        Screen::Setup => {
            "Move between fields with ↑/↓ or Tab, change a value with ←/→, toggle a skill with space, \
                          and start with Enter on Start (or Ctrl-Enter anywhere). Esc quits."
        }
        Screen::Room => {
            "Answer out loud when the microphone is on (the level meter moves) and press Enter when you are done, \
                         or type your answer and press Enter to send it. Ctrl-R asks the question again, Ctrl-S skips it \
                         (scored as no answer), Ctrl-P pauses the clock, Ctrl-U clears your draft, Ctrl-E ends the \
                         interview after you confirm. Every answer is saved when you send it: if you leave, \
                         `dataready resume last` continues."
        }
        Screen::Report => {
            "Scroll with ↑/↓, PgUp/PgDn, Home. r reviews the answers one by one. m writes the report as \
                           Markdown and x as JSON into the current folder. q quits."
        }
        Screen::Review => {
            "←/→ moves between questions, ↑/↓ scrolls. p plays your recording of the answer and stops it. \
                           Each answer shows what a strong answer covers (✓ you covered it, ✗ you missed it) and \
                           a model answer. r goes back to the report, q quits."
        }
    };
    let area = centered(f.area(), 64, 9);
    f.render_widget(Clear, area);
    f.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" Help · any key closes ")),
        area,
    );
}
