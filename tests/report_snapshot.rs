//! Snapshots of the rendered report (Markdown and JSON) for a fixed interview.

use std::sync::Arc;

use dataready::bank::Bank;
use dataready::interview::{Answer, Config, Effect, Evaluation, Event, Interview, Mode, Scores};
use dataready::report;

fn evaluation(score: u8, flag: Option<&str>) -> Evaluation {
    let s = score as f32 / 10.0;
    Evaluation {
        scores: Scores::from_array([s, s * 0.9, s * 0.6, s.min(8.0), 7.0]),
        score,
        what_went_well: if score >= 60 {
            vec!["Covered: the mechanism, precisely.".into()]
        } else {
            vec![]
        },
        what_was_missing: if score < 70 {
            vec!["Not covered: a concrete example from production.".into()]
        } else {
            vec![]
        },
        red_flags: flag.map(|f| vec![f.to_string()]).unwrap_or_default(),
        seniority_signals: vec![],
        grader: "offline-rubric/1".into(),
        offline: None,
        fallback: None,
        grade_confidence: None,
        key_points: Vec::new(),
    }
}

fn interview(scores: &[u8]) -> Interview {
    interview_of(scores, 8)
}

/// An interview of `questions` turns (follow-ups included), answered with `scores` in turn.
fn interview_of(scores: &[u8], questions: usize) -> Interview {
    let bank = Arc::new(Bank::builtin().unwrap());
    let config = Config {
        role: "senior".into(),
        skills: vec![],
        questions,
        mode: Mode::Mock,
        seed: 99,
        years: Some(6),
        tailoring: None,
        ask_first: Vec::new(),
    };
    let mut iv = Interview::new(bank, config).unwrap();
    iv.handle(Event::Start {
        at_ms: 1_764_000_000_000,
    })
    .unwrap();
    iv.handle(Event::Begin {
        at_ms: 1_764_000_001_000,
    })
    .unwrap();
    let mut i = 0;
    while iv.phase() != dataready::interview::Phase::Complete {
        iv.handle(Event::Spoken).unwrap();
        let at_ms = 1_764_000_060_000 + i as u64 * 60_000;
        let effects = iv
            .handle(Event::Answered {
                answer: Answer::Text(format!("Answer number {i} with *markdown* | pipes")),
                at_ms,
            })
            .unwrap();
        assert!(effects.iter().any(|e| matches!(e, Effect::Grade(_))));
        let flag = (i == 5).then_some("Stated a misconception: \"Exactly-once is free in Kafka.\"");
        iv.handle(Event::Graded {
            evaluation: evaluation(scores[i % scores.len()], flag),
        })
        .unwrap();
        i += 1;
    }
    iv
}

fn build(iv: &Interview) -> report::Report {
    report::build(&report::Source {
        session: "20251124-000000-senior-test",
        bank: iv.bank(),
        config: iv.config(),
        turns: iv.turns(),
        started_at_ms: iv.started_at_ms(),
        ended: iv.ended(),
    })
}

#[test]
fn report_markdown_and_json() {
    let iv = interview(&[82, 64, 45, 91, 30, 58]);
    let r = build(&iv);
    insta::assert_snapshot!("report_markdown", report::to_markdown(&r));
    insta::assert_snapshot!("report_json", report::to_json(&r));
}

#[test]
fn verdicts_follow_the_documented_thresholds() {
    use report::Verdict::*;
    for (score, want) in [
        (100, StrongHire),
        (80, StrongHire),
        (79, Hire),
        (65, Hire),
        (64, Borderline),
        (50, Borderline),
        (49, NeedsImprovement),
        (0, NeedsImprovement),
    ] {
        assert_eq!(report::Verdict::from_score(score), want, "{score}");
    }
    let strong = build(&interview(&[95]));
    assert_eq!(strong.verdict, StrongHire);
    // Too few opening questions for a firm verdict: provisional, and readiness says what is missing.
    assert!(
        !strong.readiness.ready && strong.verdict_provisional,
        "{:?}",
        strong.evidence
    );
    assert!(
        strong.readiness.summary.starts_with("Not enough evidence yet: "),
        "{}",
        strong.readiness.summary
    );
    let thorough = build(&interview_of(&[95], 20));
    assert!(thorough.evidence.enough, "{:?}", thorough.evidence);
    assert!(thorough.readiness.ready && !thorough.verdict_provisional);
    let weak = build(&interview(&[20]));
    assert_eq!(weak.verdict, NeedsImprovement);
    assert!(!weak.readiness.ready);
    assert!(!weak.roadmap.is_empty());
}
