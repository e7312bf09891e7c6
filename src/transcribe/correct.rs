//! Bank-vocabulary correction of a transcript: runs of one to three recognised words that sound like a
//! lexicon term (espeak-ng phonemes, weighted edit distance) become that term, when the match is
//! close enough for the term's tier and clearly better than any other term. Common English words are
//! only ever rewritten into the current question's own terms.

use serde::Serialize;

use super::lexicon::{self, Lexicon, Tier};

/// One rewrite, for the JSON transcript and the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Correction {
    pub heard: String,
    pub term: String,
    /// Phonetic distance (0 same sounds, 1 nothing alike).
    pub distance: f32,
}

/// Longest run of recognised words that may become one term.
const MAX_SPAN: usize = 3;
/// The best term must beat the next different term by this much.
const MARGIN: f32 = 0.06;

/// Largest phonetic distance accepted for a term of this tier; `common`: every word of the run is
/// common English (then only the question's own terms may replace it, and more strictly).
fn limit(tier: Tier, common: bool) -> Option<f32> {
    match (tier, common) {
        (Tier::Question, false) => Some(0.34),
        (Tier::Question, true) => Some(0.25),
        (Tier::Skill, false) => Some(0.26),
        (Tier::Bank, false) => Some(0.2),
        (_, true) => None,
    }
}

fn is_vowel(c: char) -> bool {
    "aeiouæɐɑɒɔəɘɚɛɜɝɞɤɨɪɯɵɶʉʊʌʏyøœ".contains(c)
}

/// Consonants that differ only in voicing sound alike to Whisper (t/d in "upsert"/"absurd").
fn voicing_pair(a: char, b: char) -> bool {
    const PAIRS: [(char, char); 8] = [
        ('p', 'b'),
        ('t', 'd'),
        ('k', 'ɡ'),
        ('k', 'g'),
        ('f', 'v'),
        ('s', 'z'),
        ('θ', 'ð'),
        ('ʃ', 'ʒ'),
    ];
    PAIRS.iter().any(|&(x, y)| (a, b) == (x, y) || (a, b) == (y, x))
}

/// Edit distance over phonemes, vowels and voicing pairs half as far apart, over the longer length.
pub fn phonetic_distance(a: &[char], b: &[char]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    let indel = |c: char| if is_vowel(c) { 0.7 } else { 1.0 };
    let mut prev: Vec<f32> = std::iter::once(0.0)
        .chain(b.iter().scan(0.0, |acc, &c| {
            *acc += indel(c);
            Some(*acc)
        }))
        .collect();
    for &x in a {
        let mut cur = vec![prev[0] + indel(x); b.len() + 1];
        for (j, &y) in b.iter().enumerate() {
            let sub = if x == y {
                0.0
            } else if (is_vowel(x) && is_vowel(y)) || voicing_pair(x, y) {
                0.5
            } else {
                1.0
            };
            cur[j + 1] = (prev[j] + sub).min(prev[j + 1] + indel(x)).min(cur[j] + indel(y));
        }
        prev = cur;
    }
    prev[b.len()] / a.len().max(b.len()) as f32
}

/// Edit distance over letters, over the longer length.
fn spelling_distance(a: &str, b: &str) -> f32 {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.is_empty() || b.is_empty() {
        return 1.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()] as f32 / a.len().max(b.len()) as f32
}

struct Word<'a> {
    lead: &'a str,
    core: &'a str,
    tail: &'a str,
}

fn split_word(w: &str) -> Word<'_> {
    let start = w.find(|c: char| c.is_alphanumeric()).unwrap_or(w.len());
    let end = w.rfind(|c: char| c.is_alphanumeric()).map_or(start, |i| i + w[i..].chars().next().map_or(1, char::len_utf8));
    Word {
        lead: &w[..start],
        core: &w[start..end.max(start)],
        tail: &w[end.max(start)..],
    }
}

struct Candidate {
    from: usize,
    len: usize,
    term: usize,
    distance: f32,
}

/// The corrected text and what was rewritten. `text` is Whisper's (guarded) output.
pub fn correct(text: &str, lexicon: &Lexicon) -> (String, Vec<Correction>) {
    let raw: Vec<&str> = text.split_whitespace().collect();
    let words: Vec<Word> = raw.iter().map(|w| split_word(w)).collect();
    if lexicon.terms.is_empty() || words.is_empty() {
        return (text.to_string(), Vec::new());
    }
    let sounds: Vec<Vec<char>> = words
        .iter()
        .map(|w| {
            if w.core.is_empty() || w.core.chars().any(|c| c.is_ascii_digit()) {
                Vec::new()
            } else {
                lexicon::phonemes(w.core)
            }
        })
        .collect();
    let mut candidates = Vec::new();
    for from in 0..words.len() {
        for len in 1..=MAX_SPAN.min(words.len() - from) {
            let span = &words[from..from + len];
            // A run never crosses a clause break, never contains a digit or a word that is already a term.
            if span.iter().any(|w| w.core.is_empty() || lexicon.knows(w.core) || sounds[from].is_empty())
                || span[..len - 1].iter().any(|w| !w.tail.is_empty())
                || span[1..].iter().any(|w| !w.lead.is_empty())
                || sounds[from..from + len].iter().any(Vec::is_empty)
            {
                continue;
            }
            let heard: Vec<char> = sounds[from..from + len].concat();
            let spelled: String = span.iter().map(|w| w.core.to_lowercase()).collect();
            let common = span.iter().all(|w| lexicon::is_common(w.core));
            let mut best: Option<(usize, f32)> = None;
            let mut second = f32::MAX;
            for (i, t) in lexicon.terms.iter().enumerate() {
                let (hl, tl) = (heard.len() as f32, t.phonemes.len() as f32);
                if hl < 0.6 * tl || hl > 1.6 * tl {
                    continue;
                }
                let d = phonetic_distance(&heard, &t.phonemes);
                match best {
                    Some((_, b)) if d >= b => second = second.min(d),
                    _ => {
                        if let Some((_, b)) = best {
                            second = second.min(b);
                        }
                        best = Some((i, d));
                    }
                }
            }
            let Some((term, d)) = best else { continue };
            let t = &lexicon.terms[term];
            let Some(max) = limit(t.tier, common) else { continue };
            // Sounds alike and is not spelled entirely unlike (which would be a different word said).
            if d <= max && second - d >= MARGIN && spelling_distance(&spelled, &t.text.to_lowercase()) <= 0.75 {
                candidates.push(Candidate {
                    from,
                    len,
                    term,
                    distance: d,
                });
            }
        }
    }
    // Closest first, shorter runs first on a tie; runs that overlap a chosen one are dropped.
    candidates.sort_by(|a, b| a.distance.total_cmp(&b.distance).then(a.len.cmp(&b.len)));
    let mut taken = vec![None::<usize>; words.len()];
    let mut chosen: Vec<&Candidate> = Vec::new();
    for c in &candidates {
        if taken[c.from..c.from + c.len].iter().all(Option::is_none) {
            for slot in &mut taken[c.from..c.from + c.len] {
                *slot = Some(chosen.len());
            }
            chosen.push(c);
        }
    }
    if chosen.is_empty() {
        return (text.to_string(), Vec::new());
    }
    let mut out: Vec<String> = Vec::new();
    let mut fixes = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match taken[i] {
            Some(k) => {
                let c = chosen[k];
                let last = &words[c.from + c.len - 1];
                let term = &lexicon.terms[c.term].text;
                out.push(format!("{}{term}{}", words[c.from].lead, last.tail));
                fixes.push(Correction {
                    heard: raw[c.from..c.from + c.len].join(" "),
                    term: term.clone(),
                    distance: c.distance,
                });
                i += c.len;
            }
            None => {
                out.push(raw[i].to_string());
                i += 1;
            }
        }
    }
    (out.join(" "), fixes)
}
