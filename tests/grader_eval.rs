//! The offline grader against graded answers written apart from its code, in these parts:
//! - tuning: tests/devset minus the questions in tests/devset/split.toml (what constants were tuned on);
//! - held out: the split's questions plus tests/heldout (66 more bank questions), never tuned on;
//! - off bank: tests/offbank, questions that are not in the bank, graded as `grade --question` does (held out);
//!   tests/offbank-tuning holds other such questions, on which the rubric-free score was fit, and
//!   tests/offbank2 a second held-out set;
//! - reworded: every bank question asked in other words (tests/reworded), graded as `grade --question` does,
//!   with the answers of the tuning part (tuning) and of the held-out part (held out).
//!
//! Each prints ordering accuracy, rank correlation, adversarial answers below the moderate one and
//! fluent-but-wrong answers below it (and flagged), with "score = word count" beside them. The floors
//! sit just under the figures measured when they were set: they catch regressions, they are not goals.
//! `GRADER_EVAL_DEBUG=kind,question-id` prints the grader's signals for matching answers (tuning part only).
//! `GRADER_EVAL_BASELINE=1` grades bank questions as before contrast claims, for before/after figures.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use dataready::bank::Bank;
use dataready::grade::{Grader, RubricGrader};
use dataready::interview::{Evaluation, GradeRequest, TurnKind};

#[derive(serde::Deserialize)]
struct AnswerFile {
    #[serde(default)]
    question: Vec<OffBankQuestion>,
    answer: Vec<Graded>,
}

#[derive(serde::Deserialize)]
struct OffBankQuestion {
    id: String,
    text: String,
}

#[derive(serde::Deserialize, Clone)]
struct Graded {
    question: String,
    kind: String,
    grade: f64,
    text: String,
    #[serde(default)]
    wrong_claim: Option<String>,
}

#[derive(serde::Deserialize)]
struct Split {
    heldout: Vec<String>,
}

/// Kinds an expert grades on the scale; every other kind is adversarial.
const GRADED: [&str; 4] = ["strong", "good", "moderate", "shallow"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn load(dir: &str) -> AnswerFile {
    let mut paths: Vec<_> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && !p.ends_with("split.toml"))
        .collect();
    paths.sort();
    let mut all = AnswerFile {
        question: Vec::new(),
        answer: Vec::new(),
    };
    for p in paths {
        let f: AnswerFile =
            toml::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        all.question.extend(f.question);
        all.answer.extend(f.answer);
    }
    all
}

fn heldout_ids() -> Vec<String> {
    let s: Split = toml::from_str(&std::fs::read_to_string(root().join("tests/devset/split.toml")).unwrap()).unwrap();
    s.heldout
}

fn bank() -> &'static Arc<Bank> {
    static BANK: OnceLock<Arc<Bank>> = OnceLock::new();
    BANK.get_or_init(|| Arc::new(Bank::builtin().unwrap()))
}

fn grader() -> &'static RubricGrader {
    static GRADER: OnceLock<RubricGrader> = OnceLock::new();
    GRADER.get_or_init(|| {
        RubricGrader::load(
            Arc::clone(bank()),
            &dataready::paths::embedder_dir(),
            &dataready::paths::cache_dir(),
            &mut |_, _| {},
        )
        .unwrap_or_else(|e| panic!("{e}"))
    })
}

/// Grades an answer to a bank question, as an interview does.
fn grade_bank(a: &Graded) -> Evaluation {
    let q = bank()
        .question(&a.question)
        .unwrap_or_else(|| panic!("unknown question {}", a.question));
    let req = GradeRequest {
        question: Arc::clone(q),
        kind: TurnKind::Main,
        prompt: q.text.clone(),
        answer: dataready::text::clean(&a.text, 20_000).text,
        role: "mid".into(),
        speech: None,
    };
    if req.answer.is_empty() {
        return Evaluation::no_answer("");
    }
    let e = if std::env::var("GRADER_EVAL_BASELINE").is_ok() {
        // The grader as it was before contrast claims: no sentence counts as a contradiction.
        let mut plain = dataready::grade::learned().clone();
        plain.contrast_rule.min_sim = f32::INFINITY;
        plain.combiner = None;
        dataready::grade::evaluation_with(&grader().analyse(&req, None), q, TurnKind::Main, &plain)
    } else {
        grader().grade(&req)
    };
    debug(a, &e);
    e
}

fn debug(a: &Graded, e: &Evaluation) {
    if std::env::var("GRADER_EVAL_DEBUG").is_ok_and(|k| k.split(',').any(|k| k == a.kind || k == a.question)) {
        println!(
            "DEBUG {} {} expert {} grader {} {:?} flags {:?}",
            a.question,
            a.kind,
            a.grade,
            e.score,
            e.scores.as_array(),
            e.red_flags
        );
    }
}

fn words(s: &str) -> f64 {
    s.split_whitespace().count() as f64
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        for k in i..=j {
            r[idx[k]] = (i + j) as f64 / 2.0;
        }
        i = j + 1;
    }
    r
}

fn spearman(a: &[f64], b: &[f64]) -> f64 {
    let (ra, rb) = (ranks(a), ranks(b));
    let n = a.len() as f64;
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// One scored answer: the expert's view and a scorer's.
struct Scored<'a> {
    answer: &'a Graded,
    score: f64,
    flagged: bool,
}

#[derive(Debug, Clone, Copy)]
struct Figures {
    answers: usize,
    questions: usize,
    pairwise: f64,
    spearman: f64,
    adversarial: f64,
    fluent_wrong: f64,
    fluent_wrong_flagged: f64,
    /// Share of good and strong answers with a red flag (each one a false accusation).
    good_flagged: f64,
}

fn figures(scored: &[Scored], failures: &mut Vec<String>) -> Figures {
    let mut by_q: BTreeMap<&str, Vec<&Scored>> = BTreeMap::new();
    for s in scored {
        by_q.entry(s.answer.question.as_str()).or_default().push(s);
    }
    // Pairwise: answers to the same question whose expert grades differ by at least 10.
    let (mut agree, mut pairs) = (0.0, 0usize);
    let (mut adv_below, mut adv_total) = (0usize, 0usize);
    let (mut fw_below, mut fw_flagged, mut fw_total) = (0usize, 0usize, 0usize);
    for (q, answers) in &by_q {
        for (i, a) in answers.iter().enumerate() {
            for b in &answers[i + 1..] {
                if (a.answer.grade - b.answer.grade).abs() >= 10.0 {
                    pairs += 1;
                    // f64::signum(0.0) is 1.0, so ties are checked first: a tie is half a correct pair.
                    let same = (a.answer.grade - b.answer.grade).signum() == (a.score - b.score).signum();
                    if a.score == b.score {
                        agree += 0.5;
                    } else if same {
                        agree += 1.0;
                    } else {
                        failures.push(format!(
                            "{q}: {}({}) vs {}({}) scored {} vs {}",
                            a.answer.kind, a.answer.grade, b.answer.kind, b.answer.grade, a.score, b.score
                        ));
                    }
                }
            }
        }
        let Some(moderate) = answers.iter().find(|a| a.answer.kind == "moderate").map(|a| a.score) else {
            continue;
        };
        for a in answers.iter().filter(|a| !GRADED.contains(&a.answer.kind.as_str())) {
            adv_total += 1;
            if a.score < moderate {
                adv_below += 1;
            } else {
                failures.push(format!(
                    "{q}: adversarial {} scored {} >= moderate {moderate}",
                    a.answer.kind, a.score
                ));
            }
            if a.answer.kind == "fluent_wrong" {
                fw_total += 1;
                if a.score < moderate {
                    fw_below += 1;
                    if a.flagged {
                        fw_flagged += 1;
                    }
                }
            }
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { f64::NAN } else { a as f64 / b as f64 };
    Figures {
        answers: scored.len(),
        questions: by_q.len(),
        pairwise: agree / pairs as f64,
        spearman: spearman(
            &scored.iter().map(|s| s.answer.grade).collect::<Vec<_>>(),
            &scored.iter().map(|s| s.score).collect::<Vec<_>>(),
        ),
        adversarial: ratio(adv_below, adv_total),
        fluent_wrong: ratio(fw_below, fw_total),
        fluent_wrong_flagged: ratio(fw_flagged, fw_total),
        good_flagged: ratio(
            scored
                .iter()
                .filter(|s| s.flagged && ["good", "strong"].contains(&s.answer.kind.as_str()))
                .count(),
            scored
                .iter()
                .filter(|s| ["good", "strong"].contains(&s.answer.kind.as_str()))
                .count(),
        ),
    }
}

/// Grades the set, prints the grader's figures beside the word-count baseline's, and returns the grader's.
fn evaluate(name: &str, answers: &[Graded], grade: impl Fn(&Graded) -> Evaluation) -> Figures {
    let mut scored = Vec::new();
    let mut baseline = Vec::new();
    for a in answers {
        let e = grade(a);
        scored.push(Scored {
            answer: a,
            score: f64::from(e.score),
            flagged: !e.red_flags.is_empty(),
        });
        baseline.push(Scored {
            answer: a,
            score: words(&a.text),
            flagged: false,
        });
    }
    let mut failures = Vec::new();
    let g = figures(&scored, &mut failures);
    let w = figures(&baseline, &mut Vec::new());
    println!(
        "{name}: {} answers, {} questions          grader   word count",
        g.answers, g.questions
    );
    for (label, a, b) in [
        ("pairwise ordering", g.pairwise, w.pairwise),
        ("spearman", g.spearman, w.spearman),
        ("adversarial below moderate", g.adversarial, w.adversarial),
        ("fluent-but-wrong below moderate", g.fluent_wrong, w.fluent_wrong),
        ("  ... and red-flagged", g.fluent_wrong_flagged, f64::NAN),
        ("good or strong answers red-flagged", g.good_flagged, f64::NAN),
    ] {
        println!("  {label:34} {a:6.3}   {b:6.3}");
    }
    let mut per_kind: BTreeMap<&str, (f64, f64, usize)> = BTreeMap::new();
    for s in &scored {
        let e = per_kind.entry(s.answer.kind.as_str()).or_default();
        e.0 += s.answer.grade;
        e.1 += s.score;
        e.2 += 1;
    }
    for (k, (g, s, n)) in &per_kind {
        println!(
            "    {k:18} n={n:3}  expert {:5.1}  grader {:5.1}",
            g / *n as f64,
            s / *n as f64
        );
    }
    if std::env::var("GRADER_EVAL_MISSES").is_ok() {
        for f in &failures {
            println!("    miss: {f}");
        }
    }
    g
}

fn devset() -> (Vec<Graded>, Vec<Graded>) {
    let held = heldout_ids();
    let all = load("tests/devset").answer;
    all.into_iter().partition(|a| !held.contains(&a.question))
}

/// `GRADER_EVAL_DUMP=FILE` writes the grader's measurements of every tuning-part answer (one JSON line
/// each) for scripts/train-grader.py. Only the tuning part can be dumped.
fn dump_tuning(tuning: &[Graded]) {
    let Ok(path) = std::env::var("GRADER_EVAL_DUMP") else {
        return;
    };
    let mut out = String::new();
    for a in tuning {
        let q = bank().question(&a.question).unwrap();
        let req = GradeRequest {
            question: Arc::clone(q),
            kind: TurnKind::Main,
            prompt: q.text.clone(),
            answer: dataready::text::clean(&a.text, 20_000).text,
            role: "mid".into(),
            speech: None,
        };
        let mut analysis = grader().analyse(&req, None);
        // Contextual token alignment of each contrast candidate (measured, not used by the grade).
        grader().align_tokens(&req, &mut analysis);
        let e = grade_bank(a);
        // The hand-set score with no sentence counted as a contradiction and no combiner, its cap, and
        // the combiner's inputs, for the script to add its own rule and combiner to.
        let mut plain = dataready::grade::learned().clone();
        plain.contrast_rule.min_sim = f32::INFINITY;
        plain.combiner = None;
        let base = dataready::grade::evaluation_with(&analysis, q, TurnKind::Main, &plain);
        let (heuristic, cap) = dataready::grade::plain_parts(&analysis, q, TurnKind::Main);
        let features =
            dataready::grade::features(&analysis, q, heuristic, 0, &dataready::grade::learned().contrast_rule);
        let line = serde_json::json!({
            "question": a.question, "kind": a.kind, "grade": a.grade, "score": e.score, "base_score": base.score,
            "heuristic": heuristic, "cap": cap, "flagged_without": !base.red_flags.is_empty(), "words": words(&a.text),
            "features": features, "analysis": analysis,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    std::fs::write(&path, out).unwrap();
}

#[test]
fn tuning_part() {
    let (tuning, _) = devset();
    dump_tuning(&tuning);
    assert!(tuning.len() >= 300, "tuning part has only {} answers", tuning.len());
    let f = evaluate("tuning part (tests/devset minus the split)", &tuning, grade_bank);
    // Measured 0.856 / 0.695 / 0.728 / 0.390 on 92 questions when set (in-sample: the contrast rule was chosen
    // here; 6-fold CV grouped by question gives 0.851 / 0.690 / 0.722 / 0.375, before a restating sentence that
    // also states a key point was kept as evidence 0.830 / 0.662 / 0.691 / 0.331). Before part 5 was added, the
    // grader tuned on the first 24 questions scored 0.785 / 0.552 / 0.577 / 0.284 on its 68 new questions.
    assert!(f.pairwise >= 0.84, "pairwise {:.3}", f.pairwise);
    assert!(f.spearman >= 0.68, "spearman {:.3}", f.spearman);
    assert!(f.adversarial >= 0.70, "adversarial {:.3}", f.adversarial);
    assert!(f.fluent_wrong >= 0.36, "fluent-but-wrong {:.3}", f.fluent_wrong);
    // A red flag accuses the candidate: at most one good or strong answer in fifteen may get one.
    assert!(
        f.good_flagged <= 0.067,
        "good or strong answers red-flagged {:.3}",
        f.good_flagged
    );
}

/// The tuning part graded as `grade --question` would grade it if the bank did not hold its questions: the
/// tuning stand-in for off-bank questions (tests/offbank is held out).
#[test]
fn tuning_part_without_its_rubric() {
    let (tuning, _) = devset();
    let f = evaluate("tuning part without its own rubric (grade --question)", &tuning, |a| {
        let q = bank().question(&a.question).unwrap();
        let (e, _, _) = grader().grade_free_except(&q.text, &a.text, None, Some(&q.id));
        debug(a, &e);
        e
    });
    // Measured 0.751 / 0.549 with the restatement guard on the rubric-free path; 0.749 / 0.540 on 92 questions
    // with the rubric-free score for rubrics further than 0.8 (0.747 / 0.519
    // before it; word count 0.685 / 0.405).
    // A "breadth" credit for more sentences on the question (the k-th point needing k+1 of them) was tried on
    // the first 24: pairwise 0.788, adversarial 0.81 → 0.72, so it was left out.
    assert!(f.pairwise >= 0.73, "pairwise {:.3}", f.pairwise);
    assert!(f.spearman >= 0.50, "spearman {:.3}", f.spearman);
}

#[test]
fn held_out() {
    let (_, mut held) = devset();
    let heldout = load("tests/heldout").answer;
    let questions: std::collections::BTreeSet<&str> = heldout.iter().map(|a| a.question.as_str()).collect();
    assert!(heldout.len() >= 250 && questions.len() >= 45);
    let fluent = heldout.iter().filter(|a| a.kind == "fluent_wrong").count();
    assert!(fluent >= 50, "only {fluent} fluent-but-wrong answers");
    assert!(
        heldout
            .iter()
            .filter(|a| a.kind == "fluent_wrong")
            .all(|a| a.wrong_claim.is_some())
    );
    held.extend(heldout);
    let f = evaluate("held out (split questions + tests/heldout)", &held, grade_bank);
    // Measured 0.810 / 0.660 / 0.760 / 0.407 with the echo check that keeps a key point's sentence (0.805 / 0.660 /
    // 0.752 / 0.395 before it; word count: 0.694 / 0.471 / 0.347 / 0.000; the first
    // round's grader: 0.799 / 0.647 / 0.740 / 0.384; before contrast claims: 0.813 / 0.675 / 0.698 / 0.244).
    assert!(f.pairwise >= 0.80, "pairwise {:.3}", f.pairwise);
    assert!(f.spearman >= 0.65, "spearman {:.3}", f.spearman);
    assert!(f.adversarial >= 0.72, "adversarial {:.3}", f.adversarial);
    assert!(f.fluent_wrong >= 0.32, "fluent-but-wrong {:.3}", f.fluent_wrong);
    assert!(
        f.good_flagged <= 0.12,
        "good or strong answers red-flagged {:.3}",
        f.good_flagged
    );
}

#[derive(serde::Deserialize)]
struct Rewordings {
    question: Vec<Reworded>,
}

#[derive(serde::Deserialize)]
struct Reworded {
    id: String,
    short: String,
    reworded: String,
}

/// Bank questions asked in other words (tests/reworded), graded as `grade --question` does: how many find
/// their own rubric, and the figures of their answers graded that way, per wording.
fn reworded_figures(name: &str, answers: &[Graded]) -> [(f64, Figures); 2] {
    let set: Rewordings =
        toml::from_str(&std::fs::read_to_string(root().join("tests/reworded/questions.toml")).unwrap()).unwrap();
    let by_id: BTreeMap<&str, &Reworded> = set.question.iter().map(|q| (q.id.as_str(), q)).collect();
    let questions: std::collections::BTreeSet<&str> = answers.iter().map(|a| a.question.as_str()).collect();
    [("short", true), ("reworded", false)].map(|(style, short)| {
        let text = |id: &str| {
            let r = by_id[id];
            if short { r.short.clone() } else { r.reworded.clone() }
        };
        let found = questions
            .iter()
            .filter(|id| {
                grader()
                    .nearest_question(&text(id), None)
                    .is_some_and(|(q, m)| q.id == **id && m >= dataready::grade::CLOSE_RUBRIC)
            })
            .count() as f64
            / questions.len() as f64;
        println!("{name}, {style} wording: {found:.3} of the questions graded against their own rubric");
        let f = evaluate(&format!("{name}, {style} wording (grade --question)"), answers, |a| {
            grader().grade_free(&text(&a.question), &a.text, None).0
        });
        (found, f)
    })
}

/// The tuning part's questions reworded: a tuning set (a rule that matched reworded questions to the bank was
/// chosen on it and not adopted, see the README).
#[test]
fn reworded_tuning() {
    let (tuning, _) = devset();
    let [short, long] = reworded_figures("tuning part reworded", &tuning);
    // Measured: short 0.576 of the questions on their own rubric, 0.827 / 0.656; reworded 0.837, 0.831 / 0.662
    // (the same answers under the bank's wording: 0.856 / 0.695).
    for (found, f, least) in [(short.0, &short.1, 0.5), (long.0, &long.1, 0.8)] {
        assert!(found >= least, "{found:.3} on their own rubric");
        assert!(f.pairwise >= 0.81, "pairwise {:.3}", f.pairwise);
        assert!(f.spearman >= 0.63, "spearman {:.3}", f.spearman);
    }
}

/// The held-out questions reworded: never tuned on.
#[test]
fn reworded_held_out() {
    let (_, mut held) = devset();
    held.extend(load("tests/heldout").answer);
    let [short, long] = reworded_figures("held out reworded", &held);
    // Measured: short 0.560 of the questions on their own rubric, 0.799 / 0.641; reworded 0.786, 0.804 / 0.649
    // (word count 0.694 / 0.471; under the bank's wording 0.810 / 0.660).
    for (found, f, least) in [(short.0, &short.1, 0.5), (long.0, &long.1, 0.75)] {
        assert!(found >= least, "{found:.3} on their own rubric");
        assert!(f.pairwise >= 0.78, "pairwise {:.3}", f.pairwise);
        assert!(f.spearman >= 0.62, "spearman {:.3}", f.spearman);
    }
}

/// A set of questions outside the bank (its own `[[question]]` texts), graded as `grade --question` does.
fn off_bank_figures(name: &str, dir: &str) -> Figures {
    let set = load(dir);
    let text: BTreeMap<&str, &str> = set.question.iter().map(|q| (q.id.as_str(), q.text.as_str())).collect();
    evaluate(name, &set.answer, |a| {
        let (e, _, _) = grader().grade_free(text[a.question.as_str()], &a.text, None);
        debug(a, &e);
        e
    })
}

/// Questions outside the bank written for tuning the rubric-free score (scripts/train-free-grader.py fits it
/// here and on the tuning part without its rubric): in-sample figures.
#[test]
fn off_bank_tuning() {
    let f = off_bank_figures("off-bank tuning set (grade --question)", "tests/offbank-tuning");
    // Measured 0.740 / 0.520 with the restatement guard on the rubric-free path (an answer whose content words
    // are almost all the question's: the echoes here scored 34 on average, now 8); 0.737 / 0.507 with
    // off-topic answers in the rubric-free score's fit (scripts/train-free-grader.py,
    // 6-fold CV grouped by question: 0.731 / 0.509, 0.724 / 0.494 before); 0.726 / 0.508 before, with the
    // off-topic guard (before the guard 0.717 / 0.478; word count 0.650 / 0.374; before the rubric-free score: 0.469 / 0.044).
    assert!(f.pairwise >= 0.70, "pairwise {:.3}", f.pairwise);
    assert!(f.spearman >= 0.46, "spearman {:.3}", f.spearman);
}

#[test]
fn off_bank() {
    let f = off_bank_figures("off bank (grade --question)", "tests/offbank");
    // Measured 0.809 / 0.624 with off-topic answers in the rubric-free score's fit; 0.807 / 0.617 before, with the
    // rubric-free score and its off-topic guard (0.803 / 0.614 before the guard;
    // word count 0.697 / 0.443; before the rubric-free score: 0.616, below
    // word count). The target is 0.85 (issue 10).
    assert!(f.pairwise >= 0.79, "pairwise {:.3}", f.pairwise);
    assert!(f.spearman >= 0.59, "spearman {:.3}", f.spearman);
}

/// A second set of questions outside the bank (held out). Its answers' lengths follow their grades more
/// closely than in the first set, so word count does well here.
#[test]
fn off_bank_second_set() {
    let f = off_bank_figures("off bank, second set (grade --question)", "tests/offbank2");
    // Measured 0.761 / 0.537 with the restatement guard on the rubric-free path (0.754 / 0.517 before it);
    // word count 0.835 / 0.631.
    assert!(f.pairwise >= 0.74, "pairwise {:.3}", f.pairwise);
    assert!(f.spearman >= 0.50, "spearman {:.3}", f.spearman);
}

/// The offline injection check on every answer the sets hold: how many real injections it catches,
/// and how many honest answers it wrongly accuses (which would cap their grade).
#[test]
fn the_injection_check_accuses_no_honest_answer() {
    let (tuning, held) = devset();
    let all: Vec<Graded> = tuning
        .into_iter()
        .chain(held)
        .chain(load("tests/heldout").answer)
        .collect();
    let (mut caught, mut injections, mut accused) = (0, 0, Vec::new());
    for a in &all {
        let flagged = dataready::grade::signals::is_injection(&a.text.to_lowercase());
        if a.kind == "injection" {
            injections += 1;
            caught += usize::from(flagged);
        } else if flagged {
            accused.push(format!("{} {}", a.question, a.kind));
        }
    }
    println!(
        "injection check: {caught}/{injections} injections caught; {} of {} other answers accused: {accused:?}",
        accused.len(),
        all.len() - injections
    );
    assert!(accused.is_empty(), "{accused:?}");
    assert!(caught * 10 >= injections * 8, "{caught}/{injections}");
}

/// Opt-in: the LLM grader against the offline grader on the same held-out answers (all answers to the first
/// `GRADER_EVAL_LLM_QUESTIONS` questions of tests/heldout, default 3), one request at a time. Needs an
/// OpenAI-compatible server: `DATAREADY_LLM_URL=http://127.0.0.1:PORT/v1 DATAREADY_LLM_MODEL=local
/// cargo test --release --test grader_eval llm_held_out -- --ignored --nocapture`.
#[test]
#[ignore]
fn llm_held_out_sample() {
    use dataready::llm::config::{LlmMode, LlmOptions};
    use dataready::llm::grader::LlmGrader;
    let n: usize = std::env::var("GRADER_EVAL_LLM_QUESTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let heldout = load("tests/heldout").answer;
    let questions: Vec<String> = heldout
        .iter()
        .map(|a| a.question.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .take(n)
        .collect();
    let sample: Vec<Graded> = heldout
        .into_iter()
        .filter(|a| questions.contains(&a.question))
        .collect();
    let options = LlmOptions {
        llm: Some(LlmMode::Grade),
        // A small local model on shared cores takes tens of seconds an answer.
        llm_grade_limit: Some(std::time::Duration::from_secs(300)),
        ..Default::default()
    };
    let config = dataready::llm::config::from_env(&options)
        .unwrap()
        .expect("set DATAREADY_LLM_URL (and DATAREADY_LLM_MODEL) to an OpenAI-compatible server");
    let llm = Arc::new(dataready::llm::Llm::new(config).unwrap());
    let model = llm.config.deep_model.clone();
    let seconds = std::cell::RefCell::new(Vec::new());
    let failures = std::cell::Cell::new(0usize);
    let offline = evaluate("offline grader on the LLM sample", &sample, grade_bank);
    let by_llm = evaluate(&format!("LLM grader ({model}) on the same sample"), &sample, |a| {
        let q = bank().question(&a.question).unwrap();
        let req = GradeRequest {
            question: Arc::clone(q),
            kind: TurnKind::Main,
            prompt: q.text.clone(),
            answer: dataready::text::clean(&a.text, 20_000).text,
            role: "mid".into(),
            speech: None,
        };
        if req.answer.is_empty() {
            return Evaluation::no_answer("");
        }
        let t = std::time::Instant::now();
        let grader = LlmGrader {
            offline: grader(),
            llm: Arc::clone(&llm),
        };
        let e = grader.evaluate(&req).unwrap_or_else(|why| {
            println!("    LLM failed ({why}); counted as the offline grade");
            failures.set(failures.get() + 1);
            grade_bank(a)
        });
        seconds.borrow_mut().push(t.elapsed().as_secs_f64());
        e
    });
    let mut seconds = seconds.into_inner();
    seconds.sort_by(f64::total_cmp);
    println!(
        "{} answers to {} questions; LLM median {:.1} s an answer, {} failed; pairwise {:.3} (offline {:.3}), spearman {:.3} (offline {:.3})",
        sample.len(),
        questions.len(),
        seconds.get(seconds.len() / 2).copied().unwrap_or(f64::NAN),
        failures.get(),
        by_llm.pairwise,
        offline.pairwise,
        by_llm.spearman,
        offline.spearman
    );
}

/// The strong example candidate's MERGE answer is correct, yet "the big one is duplicate keys in the source"
/// once read as the contrast "duplicate keys in the source are fine": the contrast's words "duplicate keys" are
/// ones the rubric's own phrasings use for the correct point, so they must not tell the two apart.
#[test]
fn a_correct_merge_answer_states_no_wrong_version() {
    let mut rows = csv::Reader::from_path(root().join("examples/strong-candidate/answers.csv")).unwrap();
    let row = rows
        .records()
        .map(Result::unwrap)
        .find(|r| &r[0] == "sql-merge-upsert")
        .unwrap();
    let a = Graded {
        question: row[0].to_string(),
        kind: "strong".into(),
        grade: 90.0,
        text: row[1].to_string(),
        wrong_claim: None,
    };
    assert!(a.text.contains("the big one is duplicate keys in the source"));
    assert_states_no_wrong_version(&a, 70);
}

/// The answer is graded with no "wrong version" red flag and at least `min_score`.
fn assert_states_no_wrong_version(a: &Graded, min_score: u8) {
    let e = grade_bank(a);
    assert!(
        e.red_flags.iter().all(|f| !f.starts_with("Stated a wrong version")),
        "{} {:?}",
        e.score,
        e.red_flags
    );
    assert!(e.score >= min_score, "{}", e.score);
}

/// A fragment states no claim: the strong tuning answer that opens "Recursive CTE." is not flagged as
/// stating a wrong version (it was, and capped at 25).
#[test]
fn a_fragment_states_no_wrong_version() {
    let a = Graded {
        question: "sql-recursive-cte".into(),
        kind: "strong".into(),
        grade: 88.0,
        text: "Recursive CTE. Anchor: employees whose manager id is the given manager, depth one. Recursive part: \
               join employees to the CTE where the employee's manager id equals a CTE row's employee id, depth plus \
               one. Union all, and it iterates until no new rows come back. I'd guard against cycles in dirty data \
               with a depth limit or a visited path, and make sure manager id is indexed. If it's hit constantly on \
               a big org, precompute a closure table."
            .into(),
        wrong_claim: None,
    };
    assert_states_no_wrong_version(&a, 60);
}

/// A sentence that puts a key point in the question's own words is evidence, not a restatement of the question
/// (a moderate dm-grain answer from the tuning part: its two sentences on the grain were both skipped as echoes).
#[test]
fn a_key_point_in_the_questions_words_is_not_an_echo() {
    let q = bank().question("dm-grain").unwrap();
    let req = GradeRequest {
        question: Arc::clone(q),
        kind: TurnKind::Main,
        prompt: q.text.clone(),
        answer: "So the grain is like, the level of detail of the table.".into(),
        role: "mid".into(),
        speech: None,
    };
    let a = grader().analyse(&req, None);
    assert!(!a.echo_only);
    assert!(a.chunks.iter().all(|c| !c.echo));
}

/// `GRADER_EVAL_FREE_DUMP=FILE`: what the grader measures without a rubric, for every answer of the off-bank
/// tuning set (tests/offbank-tuning) and of the tuning part graded as if the bank did not hold its question
/// (one JSON line each), for scripts/train-free-grader.py. Never the held-out sets.
#[test]
#[ignore]
fn dump_free_features() {
    let path = std::env::var("GRADER_EVAL_FREE_DUMP").expect("set GRADER_EVAL_FREE_DUMP");
    let mut out = String::new();
    let mut dump = |set: &str, qid: &str, question: &str, except: Option<&str>, a: &Graded| {
        let (e, q, sim) = grader().grade_free_except(question, &a.text, None, except);
        let req = GradeRequest {
            question: Arc::clone(&q),
            kind: TurnKind::Main,
            prompt: question.to_string(),
            answer: dataready::text::clean(&a.text, 20_000).text,
            role: String::new(),
            speech: None,
        };
        let analysis = grader().analyse(&req, Some(sim));
        let f = grader().free_features(question, &req.answer, &analysis, except);
        let line = serde_json::json!({
            "set": set, "question": qid, "kind": a.kind, "grade": a.grade, "score": e.score, "words": words(&a.text),
            "topic_match": sim, "flags": e.red_flags.len(), "features": f,
            "off_topic": analysis.off_topic, "echo_only": analysis.echo_only, "idk": analysis.idk,
            "injection": analysis.injection, "salad_share": analysis.salad_share,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    };
    let set = load("tests/offbank-tuning");
    let text: BTreeMap<&str, &str> = set.question.iter().map(|q| (q.id.as_str(), q.text.as_str())).collect();
    for a in &set.answer {
        dump("offbank", &a.question, text[a.question.as_str()], None, a);
    }
    let (tuning, _) = devset();
    for a in &tuning {
        let q = bank().question(&a.question).unwrap();
        dump("standin", &a.question, &q.text, Some(&q.id), a);
    }
    std::fs::write(&path, out).unwrap();
}

#[derive(serde::Deserialize)]
struct CorrectFile {
    answer: Vec<Correct>,
}

#[derive(serde::Deserialize)]
struct Correct {
    question: String,
    kind: String,
    text: String,
}

/// Correct answers written from the question text alone (`tests/correct`): a red flag on one accuses a
/// candidate who was right. Prints the flagged share on the tuning part's questions and on the rest.
#[test]
fn correct_answers_are_rarely_accused() {
    let tuning: Vec<String> = devset().0.into_iter().map(|a| a.question).collect();
    let mut parts: BTreeMap<(&str, String), (usize, usize, f64)> = BTreeMap::new();
    for file in ["answers-1.toml", "answers-2.toml"] {
        let path = root().join("tests/correct").join(file);
        let f: CorrectFile = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for c in f.answer {
            let a = Graded {
                question: c.question,
                kind: c.kind,
                grade: f64::NAN,
                text: c.text,
                wrong_claim: None,
            };
            let e = grade_bank(&a);
            let part = if tuning.contains(&a.question) {
                "tuning"
            } else {
                "other"
            };
            let entry = parts.entry((part, a.kind.clone())).or_default();
            entry.0 += 1;
            entry.1 += usize::from(!e.red_flags.is_empty());
            entry.2 += f64::from(e.score);
            if std::env::var("GRADER_EVAL_MISSES").is_ok() && !e.red_flags.is_empty() && part == "tuning" {
                println!("    flagged {} ({}): {:?}", a.question, e.score, e.red_flags);
            }
        }
    }
    let (mut n, mut flagged) = (0, 0);
    println!("correct answers (tests/correct)        answers  red-flagged  mean score");
    for ((part, kind), (count, f, score)) in &parts {
        println!(
            "  {part:7} {kind:14}              {count:4}  {:11.3}  {:10.1}",
            *f as f64 / *count as f64,
            score / *count as f64
        );
        n += count;
        flagged += f;
    }
    assert!(n >= 350, "only {n} correct answers");
    // Measured at 0.045 (set 1) and 0.034 (set 2, unseen when the rule was chosen).
    assert!(
        flagged as f64 / n as f64 <= 0.07,
        "{flagged} of {n} correct answers red-flagged"
    );
}
