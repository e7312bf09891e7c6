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
/// common English (then only the question's own terms may replace it, and more strictly); `single`: the run is
/// one word. Whisper breaks jargon it does not know into several words ("idane potent", "item potent"), so a
/// run of them that sounds like a term is good evidence; one uncommon word is more often a name or a rare
/// word spelled right ("Licensor", "Tcl", "mitigate"), so outside the question it must sound nearly the same.
fn limit(tier: Tier, common: bool, single: bool) -> Option<f32> {
    match (tier, common, single) {
        (Tier::Question, false, _) => Some(0.34),
        (Tier::Question, true, _) => Some(0.2),
        (Tier::Skill, false, false) => Some(0.26),
        (Tier::Skill, false, true) => Some(0.2),
        (Tier::Bank, false, false) => Some(0.2),
        (Tier::Bank, false, true) => Some(0.1),
        (_, true, _) => None,
    }
}

/// A function word ("a", "to", "for"), unless it is a capital letter said on its own ("Park A").
fn is_function(w: &Word) -> bool {
    !w.letter && crate::grade::signals::is_function_word(&w.core.to_lowercase())
}

/// Whether a run of recognised words may be rewritten into `term` at all, before any sound is compared.
/// A single common word never is (people say "park" and "table"); a run of common words only as a
/// compound ("time stamp" → "timestamp", "back full" → "backfill") and never as the first word with
/// an ending ("window is" → "windowing"); nor an inflection of the term ("tables" → "table").
fn may_become(span: &[Word], term: &lexicon::Term) -> bool {
    let term_lower = term.text.to_lowercase();
    // "a big" → "Iceberg", "a key" → "AQE": a run never starts or ends with a function word.
    if span.len() > 1 && (is_function(&span[0]) || is_function(&span[span.len() - 1])) {
        return false;
    }
    // "new pipelines" is not "pipelines": a run that already says the term keeps its other words.
    if span.len() > 1 && span.iter().any(|w| lexicon::same_stem(w.core, &term.text)) {
        return false;
    }
    let common = span.iter().all(|w| w.common);
    if span.len() == 1 {
        let heard = span[0].core.to_lowercase();
        // "processing" is not "reprocessing", "ID" not "ids": a word inside the term is a different word.
        let inside = term_lower.contains(&heard) || heard.contains(&term_lower);
        let rare = common && rare_common(span[0].core) && term.tier == Tier::Question && term.jargon;
        return (!common || rare)
            && !inside
            && !lexicon::same_stem(span[0].core, &term.text)
            && !lexicon::derived_from(span[0].core, &term.text);
    }
    if !common {
        return true;
    }
    let joined: String = span.iter().map(|w| w.core.to_lowercase()).collect();
    let first = span[0].core.to_lowercase();
    joined == term_lower || term_lower.strip_prefix(&first).is_none_or(|rest| rest.len() > 3)
}

/// Common words past this rank ("flank", "absurd") are rare enough in an answer about the question
/// that, sounding like one of its jargon terms, they are taken for it.
const RARE_RANK: usize = 7000;

fn rare_common(word: &str) -> bool {
    !word.contains(['\'', '’', '-']) && lexicon::common_rank(word).is_some_and(|r| r >= RARE_RANK)
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
    crate::text::edit_distance(&a, &b) as f32 / a.len().max(b.len()) as f32
}

struct Word<'a> {
    lead: &'a str,
    core: &'a str,
    tail: &'a str,
    /// Ordinary English (the article "a" and the pronoun "I" included).
    common: bool,
    /// A capital letter said on its own mid-sentence ("Park A", "T V T"): a letter, not the article.
    letter: bool,
}

fn split_word(w: &str) -> Word<'_> {
    let start = w.find(|c: char| c.is_alphanumeric()).unwrap_or(w.len());
    let end = w
        .rfind(|c: char| c.is_alphanumeric())
        .map_or(start, |i| i + w[i..].chars().next().map_or(1, char::len_utf8));
    let core = &w[start..end.max(start)];
    Word {
        lead: &w[..start],
        core,
        tail: &w[end.max(start)..],
        common: lexicon::is_common_heard(core) || (core.len() == 1 && core.chars().all(char::is_alphabetic)),
        letter: false,
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
    let mut words: Vec<Word> = raw.iter().map(|w| split_word(w)).collect();
    // Whisper writes the article "a" in lower case mid-sentence; a capital there is a letter said.
    for i in 1..words.len() {
        let mid_sentence = !words[i - 1].tail.contains(['.', '?', '!']);
        let w = &words[i];
        if mid_sentence
            && w.lead.is_empty()
            && w.core.len() == 1
            && w.core != "I"
            && w.core.chars().all(|c| c.is_ascii_uppercase())
        {
            words[i].letter = true;
            words[i].common = false;
        }
    }
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
            if span
                .iter()
                .any(|w| w.core.is_empty() || (lexicon.knows(w.core) && !w.common))
                || span[..len - 1].iter().any(|w| !w.tail.is_empty())
                || span[1..].iter().any(|w| !w.lead.is_empty())
                || sounds[from..from + len].iter().any(Vec::is_empty)
            {
                continue;
            }
            let common = span.iter().all(|w| w.common);
            let heard: Vec<char> = sounds[from..from + len].concat();
            let spelled: String = span.iter().map(|w| w.core.to_lowercase()).collect();
            // A compound heard as its parts ("back fill", "life cycle", "re-running") is the term when the
            // question or its skill talks about it. Not from the rest of the bank: English writes "white space",
            // "file system", "check out" as two words as often as one, and so does a candidate.
            let compact: String = spelled.chars().filter(|c| *c != '-').collect();
            if (len > 1 || spelled.contains('-'))
                && compact.len() >= 6
                // "for each" is English, foreach code: not from function words alone.
                && !span.iter().all(is_function)
                // Not into code-style names: "with column" is English, withColumn code.
                && let Some(i) = lexicon.spelled(&compact).filter(|&i| {
                    let t = &lexicon.terms[i];
                    // One word with a prefix hyphened ("re-running", "pre-aggregate") is the term at any tier.
                    let prefixed = len == 1 && spelled.split('-').next().is_some_and(|p| p.len() <= 3);
                    t.jargon && (t.tier >= Tier::Skill || prefixed) && !t.text.chars().any(char::is_uppercase)
                })
            {
                candidates.push(Candidate {
                    from,
                    len,
                    term: i,
                    distance: 0.0,
                });
                continue;
            }
            // A single common word is never rewritten unless it is a rare one (only into the question's
            // jargon, see `may_become`); a run of them only into the question's terms.
            if common && len == 1 && !rare_common(span[0].core) {
                continue;
            }
            let mut near: Vec<(usize, f32)> = Vec::new();
            for (i, t) in lexicon.terms.iter().enumerate() {
                if common && t.tier != Tier::Question {
                    continue;
                }
                let (hl, tl) = (heard.len() as f32, t.phonemes.len() as f32);
                if hl < 0.6 * tl || hl > 1.6 * tl {
                    continue;
                }
                near.push((i, phonetic_distance(&heard, &t.phonemes)));
            }
            near.sort_by(|a, b| a.1.total_cmp(&b.1));
            let best = near.first().copied();
            // The runner-up is the nearest term that is not a form of the best one: the margin keeps a
            // different term from being chosen, not another ending of the same word.
            let second = best.map_or(f32::MAX, |(b, _)| {
                near.iter()
                    .find(|(i, _)| !lexicon::same_family(&lexicon.terms[*i].text, &lexicon.terms[b].text))
                    .map_or(f32::MAX, |x| x.1)
            });
            let Some((term, d)) = best else { continue };
            let t = &lexicon.terms[term];
            let Some(max) = limit(t.tier, common, len == 1) else {
                continue;
            };
            if !may_become(span, t) {
                continue;
            }
            // Sounds alike and is not spelled entirely unlike (which would be a different word said).
            if d <= max && second - d >= MARGIN && spelling_distance(&spelled, &t.text.to_lowercase()) <= 0.75 {
                // A plural heard stays plural ("terror bytes" → "terabytes").
                let lower = t.text.to_lowercase();
                let term = match lexicon.spelled(&format!("{lower}s")) {
                    Some(plural) if spelled.ends_with('s') && !lower.ends_with('s') => plural,
                    _ => term,
                };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::Bank;

    fn lexicon(question: Option<&str>) -> Lexicon {
        let bank = Bank::builtin().unwrap();
        let q = question.map(|id| bank.question(id).unwrap().clone());
        Lexicon::new(&bank, q.as_deref())
    }

    /// Each sentence comes back as it was said.
    fn assert_kept(sentences: &[&str], l: &Lexicon) {
        for &s in sentences {
            let (text, fixes) = correct(s, l);
            assert_eq!(text, s, "{fixes:?}");
        }
    }

    #[test]
    fn sound_alike_runs_become_the_questions_terms() {
        let l = lexicon(Some("etl-backfill-no-double-count"));
        let (text, fixes) = correct("Then we back full the last month, and the job is item potent.", &l);
        assert_eq!(
            text, "Then we backfill the last month, and the job is idempotent.",
            "{fixes:?}"
        );
        let l = lexicon(Some("st-event-time-watermarks"));
        let (text, _) = correct("The wagermark is the latest event time seen.", &l);
        assert_eq!(text, "The watermark is the latest event time seen.");
    }

    #[test]
    fn common_english_words_are_never_rewritten_by_the_bank_wide_vocabulary() {
        let l = lexicon(None);
        assert_kept(
            &[
                "We walked in the park and had lunch by the river, then took the train home.",
                "It seemed absurd to emerge from the calf shed at dawn with a watering can.",
                "My sister bought a new phone, a small table and some bread for the weekend.",
                "The market was busy, so we parked near the bridge and walked for an hour.",
            ],
            &l,
        );
    }

    #[test]
    fn one_uncommon_word_from_outside_the_question_must_sound_nearly_the_same() {
        let l = lexicon(None);
        assert_kept(
            &[
                "The Licensor may mitigate the risk.",
                "Tcl scripts fetch files over FTP.",
                "Nettle is a small library.",
            ],
            &l,
        );
        // Several words that sound like a term are still the term: Whisper breaks jargon it does not know apart.
        let (text, fixes) = correct("The job is idane potent.", &l);
        assert_eq!(text, "The job is idempotent.", "{fixes:?}");
    }

    #[test]
    fn compounds_heard_as_parts_and_spelled_letters_are_corrected() {
        let l = lexicon(Some("cost-bill-spike-investigation"));
        let (text, fixes) = correct("We back fill it and check the life cycle rules.", &l);
        assert_eq!(text, "We backfill it and check the lifecycle rules.", "{fixes:?}");
        // The rest of the bank's compounds stay as English writes them.
        let s = "Trailing white space is kept, and we check out the file system.";
        assert_eq!(correct(s, &l).0, s);
        let l = lexicon(None);
        let (text, fixes) = correct("Models in T-BT are tested.", &l);
        assert_eq!(text, "Models in dbt are tested.", "{fixes:?}");
        // Code-style names are not made from English words, and a run that says the term keeps its words.
        assert_kept(
            &["We start with column names.", "We build new pipelines every week."],
            &l,
        );
    }

    #[test]
    fn a_rare_word_becomes_the_questions_jargon_but_a_frequent_one_never() {
        let l = lexicon(Some("st-state-checkpointing"));
        let (text, fixes) = correct("In flank you declare it on the stream.", &l);
        assert_eq!(text, "In Flink you declare it on the stream.", "{fixes:?}");
        let s = "We log the late events and read the log.";
        assert_eq!(correct(s, &l).0, s);
    }

    #[test]
    fn the_article_is_english_but_a_capital_letter_mid_sentence_is_a_letter_said() {
        let l = lexicon(Some("spark-skew-debugging"));
        let s = "A salted key spreads a hot partition over a few tasks.";
        assert_eq!(correct(s, &l).0, s);
        let l = lexicon(Some("mc-why-multi-cloud"));
        let (text, fixes) = correct("I'd push for open formats like Park A and Iceberg.", &l);
        assert_eq!(text, "I'd push for open formats like Parquet and Iceberg.", "{fixes:?}");
    }

    #[test]
    fn words_made_from_a_term_and_function_word_compounds_stay_english() {
        let l = lexicon(None);
        assert_kept(
            &[
                "A change can invalidate the cache.",
                "Keep personally identifiable information out of logs.",
                "For each customer we keep one row.",
            ],
            &l,
        );
    }

    #[test]
    fn another_ending_of_the_same_term_is_no_rival_for_the_margin() {
        let l = lexicon(Some("sql-customers-without-orders"));
        let (text, fixes) = correct("Most optimizeers turn it into an anti join.", &l);
        assert_eq!(text, "Most optimizers turn it into an anti join.", "{fixes:?}");
        assert!(lexicon::same_family("optimizers", "optimizes"));
        assert!(!lexicon::same_family("optimizer", "option"));
        assert!(lexicon::derived_from("identifiable", "identifier"));
        assert!(!lexicon::derived_from("optimizeers", "optimizers"));
    }

    #[test]
    fn terms_said_right_and_numbers_are_left_alone() {
        let l = lexicon(Some("st-kafka-basics"));
        let s = "Kafka keeps 40 million events in partitions, and Spark reads them with a watermark.";
        assert_eq!(correct(s, &l).0, s);
    }

    #[test]
    fn phonetic_distance_is_small_for_sound_alikes_and_large_otherwise() {
        let p = |s: &str| lexicon::phonemes(s);
        assert!(phonetic_distance(&p("back full"), &p("backfill")) < 0.2);
        assert!(phonetic_distance(&p("table"), &p("backfill")) > 0.5);
        assert_eq!(phonetic_distance(&p("Kafka"), &p("Kafka")), 0.0);
    }
}
