//! Repetition loops in Whisper's output: the compression-ratio test faster-whisper uses (text that
//! zlib squeezes too well repeats itself), and trimming the repeats that survive a retry.

use std::io::Write;

/// faster-whisper's threshold: above it a decode is taken as looping and retried at a higher temperature.
pub const COMPRESSION_RATIO_LIMIT: f64 = 2.4;

/// Bytes of text / bytes of its zlib compression (0 for empty text).
pub fn compression_ratio(text: &str) -> f64 {
    if text.is_empty() {
        return 0.0;
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec can't fail.
    let _ = z.write_all(text.as_bytes());
    let packed = z.finish().map(|v| v.len()).unwrap_or(text.len());
    text.len() as f64 / packed.max(1) as f64
}

/// A word as the repeat check compares it: lower case, no punctuation, and a plural "s" dropped (a loop
/// often bends its last saying: "so rerun, rerun, reruns").
fn norm(w: &str) -> String {
    let mut k: String = w
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '\'')
        .flat_map(char::to_lowercase)
        .collect();
    if k.len() > 3 && k.ends_with('s') && !k.ends_with("ss") {
        k.pop();
    }
    k
}

/// Whether the text loops: it compresses too well, or a run of words comes back straight after itself.
pub fn is_looping(text: &str) -> bool {
    compression_ratio(text) > COMPRESSION_RATIO_LIMIT || trim_repeats(text) != text
}

/// Longest repeated run looked for, in words (a long sentence).
const MAX_RUN: usize = 40;

/// Drops a run of words (a phrase of 3+ words, or any word 3+ times) that immediately repeats what
/// was just said, keeping the first saying: "back for a month of data? back for a month of data?" → once.
/// Speech rarely repeats itself word for word; Whisper's loops always do.
pub fn trim_repeats(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let keys: Vec<String> = words.iter().map(|w| norm(w)).collect();
    let mut keep: Vec<usize> = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let mut skipped = false;
        // Longest repeated run first, so a repeated sentence goes as a whole.
        let max = keep.len().min(words.len() - i).min(MAX_RUN);
        for n in (1..=max).rev() {
            let prev: Vec<&String> = keep[keep.len() - n..].iter().map(|&k| &keys[k]).collect();
            let next: Vec<&String> = keys[i..i + n].iter().collect();
            if prev != next || next.iter().all(|k| k.is_empty()) {
                continue;
            }
            // Short runs only count when they are already a repeat (the third saying): "very very" is speech.
            let enough = n >= 3
                || (keep.len() >= 2 * n
                    && keep[keep.len() - 2 * n..keep.len() - n]
                        .iter()
                        .map(|&k| &keys[k])
                        .eq(prev.iter().copied()));
            if enough {
                i += n;
                skipped = true;
                break;
            }
        }
        if !skipped {
            keep.push(i);
            i += 1;
        }
    }
    if keep.len() == words.len() {
        return text.to_string();
    }
    keep.iter().map(|&k| words[k]).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOP: &str = "Walk me through how you would design an idempotent Airflow DAG. What happens when you \
        backfill a month of data? What happens when you backfill a month of data? What happens when you backfill \
        a month of data?";

    #[test]
    fn a_repeated_sentence_is_kept_once() {
        assert!(is_looping(LOOP));
        assert_eq!(
            trim_repeats(LOOP),
            "Walk me through how you would design an idempotent Airflow DAG. What happens when you backfill a \
             month of data?"
        );
    }

    #[test]
    fn an_ngram_loop_compresses_too_well_and_is_trimmed() {
        let text = format!("We partition by {}", "ROW_ ".repeat(40));
        assert!(compression_ratio(&text) > COMPRESSION_RATIO_LIMIT);
        assert_eq!(trim_repeats(&text), "We partition by ROW_ ROW_");
    }

    #[test]
    fn a_loop_that_bends_its_last_word_is_still_a_loop() {
        assert_eq!(
            trim_repeats("so rerun, rerun, reruns, instead of duplicating them."),
            "so rerun, rerun, instead of duplicating them."
        );
        assert!(is_looping("so rerun, rerun, reruns, instead"));
    }

    #[test]
    fn ordinary_speech_is_left_alone() {
        for s in [
            "A watermark bounds how late an event can be, so the state for old windows can be dropped.",
            "It was very very slow, so we had to, um, had to rethink the partitioning.",
            "Yes, yes. The join is a broadcast join: the small table goes to every executor.",
            "One one three is what rank gives for a tie, and one one two is dense rank.",
        ] {
            assert!(!is_looping(s), "{s}");
            assert_eq!(trim_repeats(s), s);
        }
    }
}
