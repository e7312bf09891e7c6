//! State-machine tests: the happy path, resume by replay, and random event sequences.

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;

use super::*;

fn bank() -> Arc<Bank> {
    static BANK: OnceLock<Arc<Bank>> = OnceLock::new();
    Arc::clone(BANK.get_or_init(|| Arc::new(Bank::builtin().unwrap())))
}

fn config(questions: usize, mode: Mode) -> Config {
    Config {
        role: "senior".into(),
        skills: vec![],
        questions,
        mode,
        seed: 42,
        years: None,
        tailoring: None,
        ask_first: Vec::new(),
    }
}

/// A new interview with `cfg`, started and on its first question.
fn begun(cfg: Config) -> Interview {
    let mut iv = Interview::new(bank(), cfg).unwrap();
    iv.handle(Event::Start { at_ms: 0 }).unwrap();
    iv.handle(Event::Begin { at_ms: 0 }).unwrap();
    iv
}

/// Peeks at the next topic (twice: peeking moves nothing), then answers the spoken question moderately;
/// returns what was peeked.
fn peek_then_answer_moderately(iv: &mut Interview) -> Arc<crate::bank::Question> {
    let peeked = iv.peek_next_topic().unwrap();
    assert_eq!(iv.peek_next_topic().unwrap(), peeked, "peeking moves nothing");
    iv.handle(Event::Answered {
        answer: Answer::Text("a moderate answer".into()),
        at_ms: 1,
    })
    .unwrap();
    iv.handle(Event::Graded { evaluation: graded(55) }).unwrap();
    peeked
}

fn graded(score: u8) -> Evaluation {
    Evaluation {
        scores: Scores::from_array([score as f32 / 10.0; 5]),
        score,
        what_went_well: vec![],
        what_was_missing: vec![],
        red_flags: vec![],
        seniority_signals: vec![],
        grader: "test".into(),
        offline: None,
        fallback: None,
        grade_confidence: None,
        key_points: Vec::new(),
    }
}

/// Drives a whole interview, answering with the given scores in turn.
fn run(iv: &mut Interview, scores: &[u8]) -> Vec<Effect> {
    drive(iv, scores, |_, _, _| {})
}

/// Drives a whole interview, answering with the given scores in turn; `before` may act on each line
/// before it is spoken (a model rewriting it), given the line's index and the effects so far.
fn drive(
    iv: &mut Interview,
    scores: &[u8],
    mut before: impl FnMut(&mut Interview, usize, &mut Vec<Effect>),
) -> Vec<Effect> {
    let mut all = iv.handle(Event::Start { at_ms: 1 }).unwrap();
    all.extend(iv.handle(Event::Begin { at_ms: 2 }).unwrap());
    let mut i = 0;
    while iv.phase() != Phase::Complete {
        before(iv, i, &mut all);
        all.extend(iv.handle(Event::Spoken).unwrap());
        let text = format!("answer {i}");
        all.extend(
            iv.handle(Event::Answered {
                answer: Answer::Text(text),
                at_ms: 10 + i as u64,
            })
            .unwrap(),
        );
        all.extend(
            iv.handle(Event::Graded {
                evaluation: graded(scores[i % scores.len()]),
            })
            .unwrap(),
        );
        i += 1;
    }
    all
}

#[test]
fn a_whole_interview_asks_the_configured_number_of_questions() {
    let mut iv = Interview::new(bank(), config(10, Mode::Mock)).unwrap();
    let effects = run(&mut iv, &[30, 60, 90]);
    assert_eq!(iv.turns().len(), 10);
    let speaks = effects.iter().filter(|e| matches!(e, Effect::Speak(_))).count();
    assert_eq!(speaks, 10);
    assert!(matches!(
        effects.last(),
        Some(Effect::Finish {
            reason: EndReason::Completed
        })
    ));
    // Every turn is persisted before the next question is spoken.
    let mut persisted = 0;
    for e in &effects {
        match e {
            Effect::Persist(Record::Turn(_)) => persisted += 1,
            Effect::Speak(line) => assert_eq!(persisted, line.number - 1),
            _ => {}
        }
    }
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Feedback(_))),
        "mock mode gives no feedback"
    );
}

#[test]
fn follow_ups_follow_the_answer_quality() {
    let mut iv = begun(config(10, Mode::Practice));
    let answer = |iv: &mut Interview, score| {
        iv.handle(Event::Spoken).unwrap();
        iv.handle(Event::Answered {
            answer: Answer::Text("x y z".into()),
            at_ms: 0,
        })
        .unwrap();
        iv.handle(Event::Graded {
            evaluation: graded(score),
        })
        .unwrap()
    };
    let first = iv.current_line().unwrap().clone();
    let effects = answer(&mut iv, 20);
    assert!(effects.iter().any(|e| matches!(e, Effect::Feedback(_))));
    assert_eq!(iv.current_line().unwrap().kind, TurnKind::Deeper);
    assert_eq!(iv.current_line().unwrap().question_id, first.question_id);
    answer(&mut iv, 55);
    assert_eq!(iv.current_line().unwrap().kind, TurnKind::Example);
    answer(&mut iv, 55);
    // Two follow-ups on a topic at most.
    assert_eq!(iv.current_line().unwrap().kind, TurnKind::Main);
    answer(&mut iv, 90);
    assert_eq!(iv.current_line().unwrap().kind, TurnKind::Harder);
    answer(&mut iv, 90);
    assert_eq!(iv.current_line().unwrap().kind, TurnKind::Main);
    // "I don't know" (graded, capped at 8) is no answer to dig into: the next topic follows.
    let before = iv.current_line().unwrap().question_id.clone();
    answer(&mut iv, 8);
    assert_eq!(iv.current_line().unwrap().kind, TurnKind::Main);
    assert_ne!(iv.current_line().unwrap().question_id, before);
}

#[test]
fn empty_and_whitespace_answers_are_no_answer_and_the_interview_goes_on() {
    let mut iv = begun(config(3, Mode::Mock));
    iv.handle(Event::Spoken).unwrap();
    let effects = iv
        .handle(Event::Answered {
            answer: Answer::Text(" \t\u{1b}[2J\n".into()),
            at_ms: 5,
        })
        .unwrap();
    assert!(!effects.iter().any(|e| matches!(e, Effect::Grade(_))));
    assert_eq!(iv.turns()[0].evaluation.score, 0);
    assert_eq!(iv.phase(), Phase::Asking);
    assert_eq!(
        iv.current_line().unwrap().kind,
        TurnKind::Main,
        "no follow-up on a non-answer"
    );
}

#[test]
fn invalid_events_are_rejected_without_changing_anything() {
    let mut iv = Interview::new(bank(), config(3, Mode::Mock)).unwrap();
    let err = iv.handle(Event::Spoken).unwrap_err();
    assert_eq!(
        err,
        CoreError::InvalidEvent {
            event: "spoken",
            phase: Phase::Setup
        }
    );
    assert_eq!(iv.phase(), Phase::Setup);
}

#[test]
fn bad_configs_name_the_valid_choices() {
    let mut c = config(10, Mode::Mock);
    c.role = "intern".into();
    let err = Interview::new(bank(), c).unwrap_err().to_string();
    assert!(err.contains("junior, mid, senior, staff, principal"), "{err}");
    let mut c = config(10, Mode::Mock);
    c.skills = vec!["cobol".into()];
    let err = Interview::new(bank(), c).unwrap_err().to_string();
    assert!(
        err.contains("unknown skill \"cobol\"") && err.contains("spark"),
        "{err}"
    );
    assert!(Interview::new(bank(), config(0, Mode::Mock)).is_err());
}

fn journal(effects: &[Effect]) -> Vec<Record> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Persist(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

/// A script's named questions open the interview in order, each with as many lines as rows name it
/// (here: two for the first, so one follow-up; one for the second, so none however it is answered);
/// then the planner goes on as usual, and a resumed interview follows the same course.
#[test]
fn questions_asked_first_come_in_order_with_as_many_lines_as_rows() {
    let mut cfg = config(8, Mode::Mock);
    cfg.ask_first = vec![
        "git-staging-and-commits".into(),
        "git-staging-and-commits".into(),
        "sql-rank-functions".into(),
    ];
    let mut full = Interview::new(bank(), cfg).unwrap();
    // 20: shallow, which would earn a follow-up everywhere.
    let records = journal(&run(&mut full, &[20]));
    let asked: Vec<(&str, TurnKind)> = full.turns().iter().map(|t| (t.question_id.as_str(), t.kind)).collect();
    assert_eq!(
        asked[..4],
        [
            ("git-staging-and-commits", TurnKind::Main),
            ("git-staging-and-commits", TurnKind::Deeper),
            ("sql-rank-functions", TurnKind::Main),
            (asked[3].0, TurnKind::Main),
        ],
        "{asked:?}"
    );
    // The planner's own topics still get their follow-ups.
    assert_eq!(asked[4], (asked[3].0, TurnKind::Deeper), "{asked:?}");
    for cut in 1..records.len() {
        let restored = Interview::restore(bank(), &records[..cut]).unwrap();
        assert_eq!(restored.turns(), &full.turns()[..restored.turns().len()], "cut {cut}");
    }
}

#[test]
fn restoring_any_prefix_of_the_journal_continues_identically() {
    let mut full = Interview::new(bank(), config(8, Mode::Mock)).unwrap();
    let records = journal(&run(&mut full, &[20, 55, 90, 40]));
    for cut in 1..records.len() {
        let restored = Interview::restore(bank(), &records[..cut]).unwrap();
        assert_eq!(restored.turns(), &full.turns()[..restored.turns().len()]);
        if !matches!(restored.phase(), Phase::Complete | Phase::Ready) {
            let next = &full.turns()[restored.turns().len()];
            assert_eq!(
                restored.current_line().unwrap().question_id,
                next.question_id,
                "cut {cut}"
            );
            assert_eq!(restored.current_line().unwrap().kind, next.kind, "cut {cut}");
        }
    }
}

#[test]
fn same_seed_same_interview_different_seed_different_questions() {
    let ids = |seed| {
        let mut c = config(10, Mode::Mock);
        c.seed = seed;
        let mut iv = Interview::new(bank(), c).unwrap();
        run(&mut iv, &[50]);
        iv.turns().iter().map(|t| t.question_id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(1), ids(1));
    assert_ne!(ids(1), ids(2));
}

/// A question as an LLM would write it in place of `seed`.
fn written(seed: &Question, n: usize) -> Box<Question> {
    let mut q = Box::new(seed.clone());
    q.id = format!("llm-{}-q{n}", seed.id);
    q.text = format!("Generated question {n} on {}?", seed.skill);
    q
}

/// Drives an interview where a model writes every opening question and rewords or drops follow-ups.
fn run_composed(iv: &mut Interview, scores: &[u8]) -> Vec<Effect> {
    let mut follow_ups = 0;
    drive(iv, scores, |iv, i, all| {
        if iv.composable() {
            let kind = iv.current_line().unwrap().kind;
            if kind != TurnKind::Main {
                follow_ups += 1;
            }
            let composed = match (kind, follow_ups % 2) {
                (TurnKind::Main, _) => Composed::Question {
                    question: written(iv.current_question().unwrap(), i),
                    by: "llm:test".into(),
                },
                (_, 0) => Composed::MoveOn,
                (_, _) => Composed::FollowUp {
                    kind: *iv.follow_up_options().last().unwrap(),
                    text: format!("Model follow-up {i}?"),
                    by: "llm:fast".into(),
                },
            };
            all.extend(iv.handle(Event::Composed(composed)).unwrap());
            if iv.composable() {
                // After a move-on, the next topic's question is written too.
                let question = written(iv.current_question().unwrap(), i);
                all.extend(
                    iv.handle(Event::Composed(Composed::Question {
                        question,
                        by: "llm:test".into(),
                    }))
                    .unwrap(),
                );
            }
        }
    })
}

#[test]
fn composed_questions_replace_the_bank_line_and_are_journaled() {
    let mut iv = begun(config(10, Mode::Mock));
    let seed = Arc::clone(iv.current_question().unwrap());
    assert!(iv.composable());
    let effects = iv
        .handle(Event::Composed(Composed::Question {
            question: written(&seed, 1),
            by: "llm:m".into(),
        }))
        .unwrap();
    assert!(
        matches!(&effects[..], [Effect::Speak(l)] if l.text == "Generated question 1 on ".to_string() + &seed.skill + "?")
    );
    assert!(!iv.composable(), "one composed line per question");
    let again = Event::Composed(Composed::Question {
        question: written(&seed, 2),
        by: "llm:m".into(),
    });
    assert!(iv.handle(again).is_err());
    iv.handle(Event::Spoken).unwrap();
    let effects = iv
        .handle(Event::Answered {
            answer: Answer::Text("an answer".into()),
            at_ms: 5,
        })
        .unwrap();
    let Effect::Grade(req) = &effects[0] else {
        panic!("{effects:?}")
    };
    assert_eq!(
        req.question.id,
        format!("llm-{}-q1", seed.id),
        "graded against the written rubric"
    );
    iv.handle(Event::Graded { evaluation: graded(20) }).unwrap();
    let t = &iv.turns()[0];
    assert_eq!(t.generated.as_ref().unwrap().id, format!("llm-{}-q1", seed.id));
    assert_eq!(t.written_by.as_deref(), Some("llm:m"));
    // The follow-up to a written question comes from its own follow-ups.
    assert_eq!(iv.current_line().unwrap().question_id, t.question_id);
    assert_eq!(iv.current_line().unwrap().text, seed.follow_ups.deeper);
}

#[test]
fn composed_lines_that_break_the_rules_are_rejected_without_change() {
    let mut iv = begun(config(10, Mode::Mock));
    let seed = Arc::clone(iv.current_question().unwrap());
    let line = iv.current_line().unwrap().clone();
    let mut other_skill = written(&seed, 1);
    other_skill.skill = "git".into();
    let mut bank_id = written(&seed, 1);
    bank_id.id = seed.id.clone();
    let mut empty = written(&seed, 1);
    empty.text = " \u{1b}[2J ".into();
    for bad in [
        Composed::Question {
            question: other_skill,
            by: "m".into(),
        },
        Composed::Question {
            question: bank_id,
            by: "m".into(),
        },
        Composed::Question {
            question: empty,
            by: "m".into(),
        },
        Composed::MoveOn,
        Composed::FollowUp {
            kind: TurnKind::Deeper,
            text: "Why?".into(),
            by: "m".into(),
        },
    ] {
        assert!(iv.handle(Event::Composed(bad.clone())).is_err(), "{bad:?}");
        assert_eq!(iv.current_line(), Some(&line));
        assert!(iv.composable());
    }
    iv.handle(Event::Spoken).unwrap();
    iv.handle(Event::Answered {
        answer: Answer::Text("shallow".into()),
        at_ms: 1,
    })
    .unwrap();
    iv.handle(Event::Graded { evaluation: graded(20) }).unwrap();
    // Planned: deeper. Allowed instead: example or harder, worded by the model; never a second "main".
    assert_eq!(
        iv.follow_up_options(),
        vec![TurnKind::Deeper, TurnKind::Example, TurnKind::Harder]
    );
    let main = Composed::FollowUp {
        kind: TurnKind::Main,
        text: "x".into(),
        by: "m".into(),
    };
    assert!(iv.handle(Event::Composed(main)).is_err());
    iv.handle(Event::Composed(Composed::FollowUp {
        kind: TurnKind::Example,
        text: "Give me an example from your last job.".into(),
        by: "m".into(),
    }))
    .unwrap();
    assert_eq!(iv.current_line().unwrap().kind, TurnKind::Example);
    iv.handle(Event::Spoken).unwrap();
    assert!(
        iv.handle(Event::Composed(Composed::MoveOn)).is_err(),
        "too late once spoken"
    );
    iv.handle(Event::Answered {
        answer: Answer::Text("moderate".into()),
        at_ms: 2,
    })
    .unwrap();
    iv.handle(Event::Graded { evaluation: graded(20) }).unwrap();
    // Example was asked; a second follow-up may be deeper or harder, not example again.
    assert_eq!(iv.follow_up_options(), vec![TurnKind::Deeper, TurnKind::Harder]);
    iv.handle(Event::Composed(Composed::MoveOn)).unwrap();
    assert_eq!(iv.current_line().unwrap().kind, TurnKind::Main);
    assert_ne!(iv.current_question().unwrap().id, seed.id);
}

#[test]
fn peeking_at_the_next_topic_changes_nothing_and_predicts_it() {
    let mut iv = begun(config(10, Mode::Mock));
    iv.handle(Event::Spoken).unwrap();
    // A moderate answer keeps the level, so the prediction holds through the follow-up.
    let peeked = peek_then_answer_moderately(&mut iv);
    assert_eq!(iv.current_line().unwrap().kind, TurnKind::Example);
    iv.handle(Event::Composed(Composed::MoveOn)).unwrap();
    assert_eq!(iv.current_question().unwrap(), &peeked);
}

#[test]
fn restoring_a_composed_interview_continues_identically() {
    let mut full = Interview::new(bank(), config(9, Mode::Mock)).unwrap();
    let records = journal(&run_composed(&mut full, &[20, 55, 90, 40]));
    assert!(full.turns().iter().any(|t| t.generated.is_some()));
    assert!(full.turns().iter().any(|t| t.moved_on));
    assert!(
        full.turns()
            .iter()
            .any(|t| t.kind != TurnKind::Main && t.written_by.is_some())
    );
    for cut in 1..records.len() {
        let restored = Interview::restore(bank(), &records[..cut]).unwrap();
        assert_eq!(restored.turns(), &full.turns()[..restored.turns().len()], "cut {cut}");
    }
    // Through JSON too, as the journal stores it.
    let json: Vec<Record> = records
        .iter()
        .map(|r| serde_json::from_str(&serde_json::to_string(r).unwrap()).unwrap())
        .collect();
    assert_eq!(Interview::restore(bank(), &json).unwrap().turns(), full.turns());
}

#[test]
fn old_journal_records_without_the_new_fields_still_load() {
    let old = r#"{"record":"turn","index":0,"question_id":"q","skill":"spark","difficulty":2,"kind":"main","prompt":"p","answer":"a","truncated":false,"skipped":false,"asked_at_ms":1,"answered_at_ms":2,"evaluation":{"scores":{"technical_correctness":1.0,"depth":1.0,"practical_experience":1.0,"communication_clarity":1.0,"confidence":1.0},"score":10,"what_went_well":[],"what_was_missing":[],"red_flags":[],"seniority_signals":[],"grader":"offline-rubric/1"}}"#;
    let Record::Turn(t) = serde_json::from_str::<Record>(old).unwrap() else {
        panic!()
    };
    assert!(t.generated.is_none() && t.written_by.is_none() && !t.moved_on);
    assert!(t.evaluation.offline.is_none() && t.evaluation.fallback.is_none());
    let again = serde_json::to_string(&Record::Turn(t)).unwrap();
    assert_eq!(again, old, "records without LLM parts serialize exactly as before");
}

fn any_event() -> impl Strategy<Value = Event> {
    prop_oneof![
        (0u64..1000).prop_map(|at_ms| Event::Start { at_ms }),
        (0u64..1000).prop_map(|at_ms| Event::Begin { at_ms }),
        Just(Event::Spoken),
        Just(Event::Repeat),
        (".{0,40}", 0u64..1000).prop_map(|(t, at_ms)| Event::Answered {
            answer: Answer::Text(t),
            at_ms
        }),
        ("[a-z]{1,8}", 0u64..1000).prop_map(|(p, at_ms)| Event::Answered {
            answer: Answer::Audio(p),
            at_ms
        }),
        ".{0,40}".prop_map(|text| Event::Transcribed { text, speech: None }),
        (".{0,40}", proptest::option::of("[a-z]{1,8}"), any::<bool>(), 0u64..1000).prop_map(
            |(text, audio, measured, at_ms)| {
                Event::Answered {
                    answer: Answer::Heard {
                        text,
                        audio,
                        speech: measured.then(|| SpeechFacts {
                            duration_ms: 9000,
                            speaking_ms: 8000,
                            words: 20,
                            words_per_minute: 150,
                            ..SpeechFacts::default()
                        }),
                    },
                    at_ms,
                }
            }
        ),
        (0u8..=100).prop_map(|s| Event::Graded { evaluation: graded(s) }),
        (0u64..1000).prop_map(|at_ms| Event::Skip { at_ms }),
        (0u64..1000).prop_map(|at_ms| Event::End {
            reason: EndReason::EndedEarly,
            at_ms
        }),
        Just(Event::Composed(Composed::MoveOn)),
        (0usize..4, ".{0,20}").prop_map(|(k, text)| Event::Composed(Composed::FollowUp {
            kind: [TurnKind::Main, TurnKind::Deeper, TurnKind::Example, TurnKind::Harder][k],
            text,
            by: "llm:fast".into(),
        })),
        (0usize..176, "[a-z]{0,3}").prop_map(|(i, id)| {
            // Usually a well-formed question, sometimes on another skill or with a bank id.
            let seed = &bank().questions[i % bank().questions.len()];
            let mut q = written(seed, i);
            if !id.is_empty() {
                q.id = format!("llm-{id}");
            }
            Event::Composed(Composed::Question {
                question: q,
                by: "llm:deep".into(),
            })
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any event sequence: no panic, rejected events change nothing, invariants always hold,
    /// and the journal written so far restores to the same turns.
    #[test]
    fn random_event_sequences_keep_the_machine_valid(events in proptest::collection::vec(any_event(), 0..80), n in 1usize..8) {
        let mut iv = Interview::new(bank(), config(n, Mode::Practice)).unwrap();
        let mut records = Vec::new();
        for event in events {
            let before = (iv.phase(), iv.turns().len());
            match iv.handle(event) {
                Ok(effects) => records.extend(journal(&effects)),
                Err(_) => prop_assert_eq!(before, (iv.phase(), iv.turns().len())),
            }
            prop_assert!(iv.turns().len() <= n);
            let asking = matches!(iv.phase(), Phase::Asking | Phase::Listening | Phase::Processing | Phase::Evaluating);
            prop_assert_eq!(asking, iv.current_line().is_some());
            // At most two follow-ups per topic: never three non-main turns in a row on one question.
            for w in iv.turns().windows(3) {
                prop_assert!(!(w.iter().all(|t| t.question_id == w[0].question_id && t.kind != TurnKind::Main)));
            }
            for t in iv.turns() {
                prop_assert!(t.evaluation.score <= 100);
            }
        }
        if !records.is_empty() {
            let restored = Interview::restore(bank(), &records).unwrap();
            prop_assert_eq!(restored.turns(), iv.turns());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random events mixed with well-formed written questions (on the planned skill): the machine stays
    /// valid and the journal restores to the same turns, generated questions included.
    #[test]
    fn random_sequences_with_written_questions_restore_identically(
        steps in proptest::collection::vec(prop_oneof![any_event().prop_map(Some), Just(None)], 0..80),
        n in 1usize..8,
    ) {
        let mut iv = Interview::new(bank(), config(n, Mode::Mock)).unwrap();
        let mut records = Vec::new();
        for (i, step) in steps.into_iter().enumerate() {
            let event = match step {
                Some(e) => e,
                None => match iv.current_question() {
                    Some(q) => Event::Composed(Composed::Question { question: written(q, i), by: "llm:deep".into() }),
                    None => Event::Spoken,
                },
            };
            let before = (iv.phase(), iv.turns().len(), iv.current_line().cloned());
            match iv.handle(event) {
                Ok(effects) => records.extend(journal(&effects)),
                Err(_) => prop_assert_eq!(before, (iv.phase(), iv.turns().len(), iv.current_line().cloned())),
            }
            let asking = matches!(iv.phase(), Phase::Asking | Phase::Listening | Phase::Processing | Phase::Evaluating);
            prop_assert_eq!(asking, iv.current_line().is_some());
            for w in iv.turns().windows(3) {
                prop_assert!(!(w.iter().all(|t| t.question_id == w[0].question_id && t.kind != TurnKind::Main)));
            }
        }
        if !records.is_empty() {
            let restored = Interview::restore(bank(), &records).unwrap();
            prop_assert_eq!(restored.turns(), iv.turns());
        }
    }
}

#[test]
fn late_grades_replace_a_turns_grade_without_changing_the_course_and_survive_replay() {
    let mut iv = Interview::new(bank(), config(6, Mode::Mock)).unwrap();
    let mut effects = run(&mut iv, &[30, 80, 55]);
    let before: Vec<(String, TurnKind)> = iv.turns().iter().map(|t| (t.question_id.clone(), t.kind)).collect();
    // Late grades arrive for turns 0 and 2, even after the interview is complete.
    for (turn, score) in [(2, 95), (0, 12)] {
        let late = iv.handle(Event::Regraded {
            turn,
            evaluation: graded(score),
        });
        let late = late.unwrap();
        assert!(matches!(late.as_slice(), [Effect::Persist(Record::Regraded { turn: t, .. })] if *t == turn));
        effects.extend(late);
        assert_eq!(iv.turns()[turn].evaluation.score, score);
    }
    let after: Vec<(String, TurnKind)> = iv.turns().iter().map(|t| (t.question_id.clone(), t.kind)).collect();
    assert_eq!(before, after, "the course already taken stands");
    // A turn that does not exist is rejected and changes nothing.
    let turns = iv.turns().to_vec();
    assert!(
        iv.handle(Event::Regraded {
            turn: 99,
            evaluation: graded(50)
        })
        .is_err()
    );
    assert_eq!(iv.turns(), &turns[..]);
    // The journal alone rebuilds the same turns, late grades included.
    let restored = Interview::restore(bank(), &journal(&effects)).unwrap();
    assert_eq!(restored.turns(), iv.turns());
    assert_eq!(restored.turns()[2].evaluation.score, 95);
}

#[test]
fn the_peeked_next_topic_is_the_cv_topic_when_that_comes_next() {
    let exp = crate::profile::Experience {
        term: "Kafka".into(),
        quote: "Ran Kafka consumers for the payments stream".into(),
        text: "Your CV mentions Kafka consumers for payments: how did you handle consumer lag?".into(),
        skills: vec!["streaming".into()],
        forms: vec!["kafka".into()],
    };
    let mut cfg = config(10, Mode::Mock);
    cfg.tailoring = Some(crate::profile::Tailoring {
        sources: vec!["CV (cv.md)".into()],
        terms: vec![],
        skills: vec![],
        experience: Some(exp.clone()),
    });
    let mut iv = begun(cfg);
    iv.handle(Event::Spoken).unwrap();
    assert!(iv.next_topic_is_from_cv(), "the second topic is the CV's");
    let peeked = peek_then_answer_moderately(&mut iv);
    assert!(iv.next_topic_is_from_cv(), "still next during the follow-up");
    iv.handle(Event::Composed(Composed::MoveOn)).unwrap();
    assert_eq!(iv.current_line().unwrap().text, exp.text);
    assert_eq!(
        iv.current_question().unwrap().id,
        peeked.id,
        "graded on the peeked rubric"
    );
    iv.handle(Event::Spoken).unwrap();
    assert!(!iv.next_topic_is_from_cv(), "the CV topic comes once");
}
