//! Observable facts about how an answer was spoken: pace, fillers, hedges, long pauses. They describe
//! behaviour ("14 fillers in 90 s"), never personality.

use crate::grade::signals;
pub use crate::interview::SpeechFacts;

pub use crate::interview::LONG_PAUSE_MS;

impl SpeechFacts {
    /// `speech` are the (start, end) milliseconds of detected speech, in order.
    pub fn measure(text: &str, duration_ms: u64, speech: &[(u64, u64)]) -> Self {
        let words = signals::words(text).len();
        let speaking_ms = match (speech.first(), speech.last()) {
            (Some(a), Some(b)) => b.1.saturating_sub(a.0),
            _ => 0,
        };
        let pauses: Vec<u64> = speech.windows(2).map(|w| w[1].0.saturating_sub(w[0].1)).collect();
        Self {
            duration_ms,
            speaking_ms,
            words,
            words_per_minute: if speaking_ms >= 1000 {
                (words as f64 * 60_000.0 / speaking_ms as f64).round() as u32
            } else {
                0
            },
            fillers: signals::filler_count(text),
            hedges: signals::hedge_count(&text.to_lowercase()),
            long_pauses: pauses.iter().filter(|&&p| p >= LONG_PAUSE_MS).count(),
            longest_pause_ms: pauses.iter().copied().max().unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pace_fillers_and_pauses() {
        let text = "Um, so I think a watermark is, uh, the latest event time you have seen.";
        let f = SpeechFacts::measure(text, 10_000, &[(500, 3000), (5500, 6000), (6300, 8500)]);
        assert_eq!(f.words, 15);
        assert_eq!(f.speaking_ms, 8000);
        assert_eq!(f.words_per_minute, 113);
        assert_eq!(f.fillers, 2);
        assert_eq!(f.hedges, 1);
        assert_eq!((f.long_pauses, f.longest_pause_ms), (1, 2500));
        assert!(f.describe().contains("2 fillers"));
    }

    #[test]
    fn silence_has_no_pace() {
        let f = SpeechFacts::measure("", 3000, &[]);
        assert_eq!((f.words, f.words_per_minute, f.speaking_ms), (0, 0, 0));
        assert_eq!(f.describe(), "no speech recognised");
    }
}
