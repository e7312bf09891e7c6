//! How a spoken answer was delivered, as it moves the grade: pace and long pauses nudge the
//! communication-clarity and confidence dimensions, and the feedback says what was observed
//! ("4 pauses over 2 s in 50 s"), never a judgement of the person. Fillers and hedges are already
//! read from the words by every grader, so they are not counted twice here.

use crate::interview::{Evaluation, LONG_PAUSE_MS, SpeechFacts};

use super::DIMENSION_WEIGHTS;

/// Below this much speech there is too little to judge pace or pauses.
const MIN_SPEAKING_MS: u64 = 8_000;
const MIN_WORDS: usize = 15;
/// A comfortable interview pace, in words a minute.
const SLOW_BELOW: u32 = 95;
const FAST_ABOVE: u32 = 190;
const STEADY: std::ops::RangeInclusive<u32> = 110..=175;
/// Long pauses a minute above which the answer reads as halting.
const HALTING_PER_MIN: f64 = 2.0;
const LONG_SILENCE_MS: u64 = 6_000;

/// `e` adjusted for how the answer was spoken; unchanged for typed answers, non-answers and short clips.
pub fn apply(mut e: Evaluation, speech: Option<&SpeechFacts>) -> Evaluation {
    let Some(s) = speech else { return e };
    if e.score == 0 || s.words < MIN_WORDS || s.speaking_ms < MIN_SPEAKING_MS {
        return e;
    }
    let secs = (s.speaking_ms as f64 / 1000.0).round() as u64;
    let minutes = s.speaking_ms as f64 / 60_000.0;
    let (mut clarity, mut confidence) = (0.0f32, 0.0f32);
    if s.words_per_minute < SLOW_BELOW {
        clarity -= 1.0;
        e.what_was_missing.push(format!(
            "Spoke at {} words a minute; around 120–160 keeps the listener with you.",
            s.words_per_minute
        ));
    } else if s.words_per_minute > FAST_ABOVE {
        clarity -= 1.0;
        e.what_was_missing.push(format!(
            "Spoke at {} words a minute; slowing to 120–160 gives the listener time to follow.",
            s.words_per_minute
        ));
    }
    if s.long_pauses >= 3 && s.long_pauses as f64 / minutes > HALTING_PER_MIN {
        confidence -= 1.0;
        e.what_was_missing.push(format!(
            "{} pauses over {} s in {secs} s of speaking; saying what you are weighing keeps the answer moving.",
            s.long_pauses,
            LONG_PAUSE_MS / 1000
        ));
    } else if s.longest_pause_ms >= LONG_SILENCE_MS {
        confidence -= 0.5;
        e.what_was_missing.push(format!(
            "A {:.0} s silence mid-answer; thinking aloud reads better than silence.",
            s.longest_pause_ms as f64 / 1000.0
        ));
    }
    if STEADY.contains(&s.words_per_minute) && s.long_pauses <= 1 && s.speaking_ms >= 20_000 {
        confidence += 0.5;
        e.what_went_well.push(format!(
            "Steady delivery: {} words a minute over {secs} s with {} long pause{}.",
            s.words_per_minute,
            s.long_pauses,
            if s.long_pauses == 1 { "" } else { "s" }
        ));
    }
    let before = e.scores.as_array();
    let mut after = before;
    after[3] = (after[3] + clarity).clamp(0.0, 10.0);
    after[4] = (after[4] + confidence).clamp(0.0, 10.0);
    // Move the total by the dimensions' weighted change only, so caps set by the grader (an injection,
    // a misconception) still hold but for this small delivery part.
    let delta: f32 = (3..5)
        .map(|i| (after[i] - before[i]) * DIMENSION_WEIGHTS[i] * 10.0)
        .sum();
    e.scores = crate::interview::Scores::from_array(after);
    e.score = (f32::from(e.score) + delta).round().clamp(0.0, 100.0) as u8;
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interview::Scores;

    fn graded() -> Evaluation {
        Evaluation {
            scores: Scores::from_array([6.0, 6.0, 5.0, 6.0, 6.0]),
            score: 60,
            what_went_well: Vec::new(),
            what_was_missing: Vec::new(),
            red_flags: Vec::new(),
            seniority_signals: Vec::new(),
            grader: "test".into(),
            offline: None,
            fallback: None,
            grade_confidence: None,
            key_points: Vec::new(),
        }
    }

    fn facts(words: usize, speaking_s: u64, long_pauses: usize, longest_ms: u64) -> SpeechFacts {
        SpeechFacts {
            duration_ms: speaking_s * 1000 + 3000,
            speaking_ms: speaking_s * 1000,
            words,
            words_per_minute: (words as u64 * 60 / speaking_s) as u32,
            fillers: 0,
            hedges: 0,
            long_pauses,
            longest_pause_ms: longest_ms,
        }
    }

    #[test]
    fn typed_and_short_answers_are_unchanged() {
        assert_eq!(apply(graded(), None), graded());
        assert_eq!(apply(graded(), Some(&facts(10, 5, 3, 9000))), graded());
    }

    #[test]
    fn a_steady_answer_gains_a_little_confidence() {
        let e = apply(graded(), Some(&facts(140, 60, 1, 2500)));
        assert_eq!(e.scores.confidence, 6.5);
        assert_eq!(e.scores.communication_clarity, 6.0);
        assert!(
            e.what_went_well[0].contains("140 words a minute"),
            "{:?}",
            e.what_went_well
        );
        assert!(e.score >= 60);
    }

    #[test]
    fn halting_and_rushed_delivery_cost_clarity_and_confidence_with_the_observation() {
        let e = apply(graded(), Some(&facts(100, 60, 5, 4000)));
        assert_eq!(e.scores.confidence, 5.0);
        assert!(
            e.what_was_missing
                .iter()
                .any(|m| m.contains("5 pauses over 2 s in 60 s"))
        );
        let e = apply(graded(), Some(&facts(220, 60, 0, 0)));
        assert_eq!(e.scores.communication_clarity, 5.0);
        assert!(e.what_was_missing.iter().any(|m| m.contains("220 words a minute")));
        assert!(e.score < 60);
        let e = apply(graded(), Some(&facts(70, 60, 1, 9000)));
        assert_eq!((e.scores.communication_clarity, e.scores.confidence), (5.0, 5.5));
    }

    #[test]
    fn a_capped_grade_moves_only_by_the_delivery_weights() {
        let mut low = graded();
        low.score = 12;
        let e = apply(low, Some(&facts(220, 60, 5, 4000)));
        assert_eq!(e.score, 10);
    }
}
