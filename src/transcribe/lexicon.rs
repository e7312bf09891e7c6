//! The bank's vocabulary for recognition: terms from every question, key point, phrasing and skill,
//! weighted by how close they are to the question being answered, with their espeak-ng phonemes.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::bank::{Bank, Question};

/// The 20,000 most frequent English words (whole words of BERT's uncased WordPiece vocabulary, in
/// its frequency order): recognised words the bank-wide vocabulary never rewrites.
const COMMON_WORDS: &str = include_str!("../../assets/common-words.txt");

/// Words this frequent (rank in [`COMMON_WORDS`]) are never a question's term: "data", "table", "time".
const QUESTION_TERM_MIN_RANK: usize = 8000;

fn common_ranks() -> &'static HashMap<&'static str, usize> {
    static RANKS: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    RANKS.get_or_init(|| COMMON_WORDS.lines().enumerate().map(|(i, w)| (w, i)).collect())
}

/// A word's rank among the most frequent English words (0 the most frequent), any case.
pub fn common_rank(word: &str) -> Option<usize> {
    common_ranks().get(word.to_lowercase().as_str()).copied()
}

/// Whether a word (any case) is common English.
pub fn is_common(word: &str) -> bool {
    common_ranks().contains_key(word.to_lowercase().as_str())
}

/// The word without an inflection ending ("tables" → "table", "finalized" → "finaliz"), lower-cased.
pub fn stem(word: &str) -> String {
    let w = word.to_lowercase();
    for suffix in ["'s", "ies", "es", "s", "ed", "ing", "ers", "er", "ly", "d"] {
        if let Some(s) = w.strip_suffix(suffix)
            && s.chars().count() >= 3
        {
            return s.to_string();
        }
    }
    w
}

/// Whether a recognised word is ordinary English: in the common list, an inflection of a common word,
/// a contraction ("I'd", "we're") or a hyphenated pair of common words ("multi-cloud").
pub fn is_common_heard(word: &str) -> bool {
    if word.contains(['\'', '’']) || is_common(word) {
        return true;
    }
    let lower = word.to_lowercase();
    if word.contains('-') {
        // Letters spelled out ("T-BT", "D-B-T") are an acronym heard, not English.
        if word.chars().all(|c| c == '-' || c.is_uppercase()) {
            return false;
        }
        return lower.split('-').all(|p| p.is_empty() || is_common_heard(p));
    }
    let s = stem(&lower);
    is_common(&s) || is_common(&format!("{s}e")) || (s.len() < lower.len() && is_common(s.trim_end_matches('e')))
}

/// Whether two words are inflections of each other ("table"/"tables", "finalize"/"finalized").
pub fn same_stem(a: &str, b: &str) -> bool {
    let (a, b) = (stem(a), stem(b));
    a == b || a.trim_end_matches('e') == b.trim_end_matches('e')
}

/// The word with its endings stripped one after another ("optimizers" → "optimiz", "optimizes" → "optimiz").
fn root(word: &str) -> String {
    let mut w = word.to_lowercase();
    for _ in 0..2 {
        let s = stem(&w);
        if s == w {
            break;
        }
        w = s;
    }
    w.trim_end_matches('e').to_string()
}

/// Whether `word` is another word made from `term` with a derivational ending ("identifiable" from
/// "identifier", "validation" from "validate"): said on purpose, not a mishearing of the term.
pub fn derived_from(word: &str, term: &str) -> bool {
    let w = word.to_lowercase();
    ["able", "ible", "ation", "ations", "ment", "ments", "ness", "ity", "ive"]
        .iter()
        .filter_map(|s| w.strip_suffix(s))
        .any(|base| base.chars().count() >= 4 && root(base) == root(term))
}

/// Whether two words are forms of one word ("optimizer", "optimizers", "optimizes", "optimizing").
pub fn same_family(a: &str, b: &str) -> bool {
    same_stem(a, b) || root(a) == root(b)
}

/// How close a term is to the answer: the current question's terms are trusted most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    Bank,
    Skill,
    Question,
}

#[derive(Debug, Clone)]
pub struct Term {
    /// As the bank spells it most often ("Parquet", "dbt", "MERGE").
    pub text: String,
    pub tier: Tier,
    /// espeak-ng IPA without stress and length marks.
    pub phonemes: Vec<char>,
    /// Jargon rather than an ordinary word of the question: what term precision and recall count.
    pub jargon: bool,
}

/// The vocabulary one answer is recognised against.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    pub terms: Vec<Term>,
    /// Lower-cased term texts, for "this word is already a term".
    known: HashSet<String>,
    /// Lower-cased jargon terms.
    jargon: HashSet<String>,
    /// The question's own terms in the order they appear, for Whisper's prompt.
    pub prompt_terms: Vec<String>,
    /// Lower-cased spelling → index in `terms`.
    spelled: HashMap<String, usize>,
}

/// Word tokens of bank text: letters and digits, split at anything else (so `ROW_NUMBER` is two words).
pub fn tokens(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().any(char::is_alphabetic))
        .collect()
}

/// Whether a token of bank text is jargon: not common English, or written as a name or an acronym
/// in the middle of a sentence (Spark, Kafka, MERGE, DuckDB).
/// `names`: common words the bank writes as names (Spark, Delta) more often than not.
fn is_jargon(token: &str, sentence_start: bool, names: &HashSet<String>) -> bool {
    let lower = token.to_lowercase();
    if lower.len() < 2 || token.chars().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let upper_inside = token.chars().skip(1).any(char::is_uppercase);
    let capital = token.chars().next().is_some_and(char::is_uppercase);
    !is_common_heard(&lower) && lower.len() >= 3
        || upper_inside
        || (capital && !sentence_start && names.contains(&lower))
}

/// Words of bank texts written capitalized in mid-sentence more often than not (names: Spark, Delta).
fn names(texts: &[&str]) -> HashSet<String> {
    let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
    for text in texts {
        for piece in text.split_inclusive(['.', '?', '!', ':', ';']) {
            for t in tokens(piece).into_iter().skip(1) {
                let e = counts.entry(t.to_lowercase()).or_default();
                if t.chars().next().is_some_and(char::is_uppercase) {
                    e.0 += 1;
                } else {
                    e.1 += 1;
                }
            }
        }
    }
    counts
        .into_iter()
        .filter(|(_, (up, low))| up > low)
        .map(|(w, _)| w)
        .collect()
}

/// Jargon tokens of a text with their spelling.
fn jargon(text: &str, names: &HashSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = true;
    for piece in text.split_inclusive(['.', '?', '!', ':', ';']) {
        for t in tokens(piece) {
            if is_jargon(t, start, names) {
                out.push(t.to_string());
            }
            start = false;
        }
        start = true;
    }
    out
}

fn question_texts(q: &Question) -> Vec<&str> {
    let mut v = vec![q.text.as_str()];
    for k in &q.key_points {
        v.push(&k.text);
        v.extend(k.phrasings.iter().map(String::as_str));
    }
    v.extend(q.misconceptions.iter().map(String::as_str));
    v.extend(q.seniority_signals.iter().map(String::as_str));
    v.extend([
        q.follow_ups.deeper.as_str(),
        q.follow_ups.example.as_str(),
        q.follow_ups.harder.as_str(),
    ]);
    v
}

/// Strips what espeak-ng marks beyond the sounds: stress, length, syllable breaks, spaces.
pub fn clean_phonemes(ipa: &str) -> Vec<char> {
    ipa.chars()
        .filter(|c| !matches!(c, 'ˈ' | 'ˌ' | 'ː' | '.' | ' ' | '-' | '_' | '\u{0303}' | '\u{0329}'))
        .collect()
}

/// espeak-ng phonemes of some words (en-us), cached: the same words come back in every answer.
pub fn phonemes(text: &str) -> Vec<char> {
    static CACHE: OnceLock<std::sync::Mutex<HashMap<String, Vec<char>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(p) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(text) {
        return p.clone();
    }
    let p = crate::voice::espeak_phonemes(text, "en-us")
        .map(|s| clean_phonemes(&s))
        .unwrap_or_default();
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(text.to_string(), p.clone());
    p
}

impl Lexicon {
    /// The bank's vocabulary, with `question`'s terms (and its skill's) weighted highest.
    pub fn new(bank: &Bank, question: Option<&Question>) -> Self {
        // Spellings counted across the bank, so the most frequent one is used.
        let mut spellings: HashMap<String, HashMap<String, usize>> = HashMap::new();
        let mut tier: HashMap<String, Tier> = HashMap::new();
        let mut jargon_words: HashSet<String> = HashSet::new();
        let mut add = |word: &str, t: Tier, is_jargon: bool, tier: &mut HashMap<String, Tier>| {
            let lower = word.to_lowercase();
            // An acronym that is also a common word (MERGE, ORDER BY) is a target, but not counted as jargon.
            if is_jargon && !(word.chars().all(|c| !c.is_lowercase()) && is_common(&lower)) {
                jargon_words.insert(lower.clone());
            }
            *spellings
                .entry(lower.clone())
                .or_default()
                .entry(word.to_string())
                .or_default() += 1;
            let e = tier.entry(lower).or_insert(t);
            *e = (*e).max(t);
        };
        let skill = question.map(|q| q.skill.as_str());
        let all: Vec<&str> = bank
            .skills
            .iter()
            .flat_map(|s| [s.name.as_str(), s.summary.as_str()])
            .chain(bank.questions.iter().flat_map(|q| question_texts(q)))
            .collect();
        let names = names(&all);
        let jargon = |text: &str| jargon(text, &names);
        for s in &bank.skills {
            let t = if Some(s.id.as_str()) == skill {
                Tier::Skill
            } else {
                Tier::Bank
            };
            for w in jargon(&s.name).into_iter().chain(jargon(&s.summary)) {
                add(&w, t, true, &mut tier);
            }
        }
        for q in &bank.questions {
            let t = if Some(q.skill.as_str()) == skill {
                Tier::Skill
            } else {
                Tier::Bank
            };
            for text in question_texts(q) {
                for w in jargon(text) {
                    add(&w, t, true, &mut tier);
                }
            }
        }
        let mut prompt_terms = Vec::new();
        if let Some(q) = question {
            let ranks = common_ranks();
            for text in question_texts(q) {
                let said: HashSet<String> = jargon(text).into_iter().collect();
                for w in tokens(text) {
                    let lower = w.to_lowercase();
                    let rare = ranks.get(lower.as_str()).is_none_or(|&r| r >= QUESTION_TERM_MIN_RANK);
                    if said.contains(w) || (rare && lower.len() >= 4) {
                        add(w, Tier::Question, said.contains(w), &mut tier);
                        if !prompt_terms.iter().any(|p: &String| p.eq_ignore_ascii_case(w)) {
                            prompt_terms.push(w.to_string());
                        }
                    }
                }
            }
        }
        let terms: Vec<Term> = tier
            .into_iter()
            .map(|(lower, tier)| {
                let text = spellings[&lower]
                    .iter()
                    .max_by_key(|(s, n)| (**n, s.chars().filter(|c| c.is_lowercase()).count()))
                    .map_or(lower.clone(), |(s, _)| s.clone());
                Term {
                    phonemes: phonemes(&text),
                    jargon: jargon_words.contains(&lower),
                    text,
                    tier,
                }
            })
            .collect();
        let known: HashSet<String> = terms.iter().map(|t| t.text.to_lowercase()).collect();
        let jargon = terms
            .iter()
            .filter(|t| t.jargon)
            .map(|t| t.text.to_lowercase())
            .collect();
        let mut terms: Vec<Term> = terms
            .into_iter()
            // A common word is a target only written as a name (Spark), never as a keyword (WHERE, MERGE).
            .filter(|t| {
                let name = t.text.chars().next().is_some_and(char::is_uppercase)
                    && t.text.chars().skip(1).any(char::is_lowercase);
                t.phonemes.len() >= 3 && (!is_common(&t.text) || name)
            })
            .collect();
        // Plurals ("upserts", "terabytes"): Whisper hears them as often as the bank writes the singular,
        // and a plural heard must not lose its ending in the correction.
        let plurals: Vec<Term> = terms
            .iter()
            .filter(|t| {
                t.jargon
                    && t.text.len() >= 4
                    && t.text.starts_with(|c: char| c.is_lowercase())
                    && !t.text.ends_with(['s', 'y'])
                    && !t.text.ends_with("ing")
                    && !t.text.ends_with("ed")
            })
            .filter(|t| !known.contains(&format!("{}s", t.text.to_lowercase())))
            .map(|t| {
                let mut phonemes = t.phonemes.clone();
                let voiceless = phonemes
                    .last()
                    .is_some_and(|c| matches!(c, 'p' | 't' | 'k' | 'f' | 'θ'));
                phonemes.push(if voiceless { 's' } else { 'z' });
                Term {
                    text: format!("{}s", t.text),
                    phonemes,
                    ..t.clone()
                }
            })
            .collect();
        terms.extend(plurals);
        terms.sort_by(|a, b| a.text.cmp(&b.text));
        let spelled = terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.text.to_lowercase(), i))
            .collect();
        Self {
            spelled,
            terms,
            known,
            jargon,
            prompt_terms,
        }
    }

    /// The terms Whisper is nudged toward while it decodes: the question's own jargon, as the bank spells it.
    pub fn boost_terms(&self) -> Vec<String> {
        self.terms
            .iter()
            .filter(|t| t.tier == Tier::Question && t.jargon)
            .map(|t| t.text.clone())
            .collect()
    }

    /// The term spelled exactly so (lower-cased), if any.
    pub fn spelled(&self, lower: &str) -> Option<usize> {
        self.spelled.get(lower).copied()
    }

    /// Whether a word is one of the vocabulary's terms (any case).
    pub fn knows(&self, word: &str) -> bool {
        self.known.contains(&word.to_lowercase())
    }

    /// Bank terms (jargon, not the question's ordinary words) said in a text, lower-cased, with repeats:
    /// what term precision and recall count.
    pub fn jargon_in(&self, text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty() && self.jargon.contains(&w.to_lowercase()))
            .map(str::to_lowercase)
            .collect()
    }
}

/// Term precision and recall of `hypothesis` against `reference`: each bank term said in the
/// reference is found if the hypothesis says it as often (matched by count, per text).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TermCounts {
    /// Term occurrences in the reference.
    pub said: usize,
    /// Term occurrences in the hypothesis.
    pub heard: usize,
    /// Occurrences in both.
    pub matched: usize,
}

impl TermCounts {
    pub fn count(lexicon: &Lexicon, reference: &str, hypothesis: &str) -> Self {
        let (r, h) = (lexicon.jargon_in(reference), lexicon.jargon_in(hypothesis));
        let mut left: HashMap<&str, usize> = HashMap::new();
        for w in &r {
            *left.entry(w).or_default() += 1;
        }
        let mut matched = 0;
        for w in &h {
            if let Some(n) = left.get_mut(w.as_str()).filter(|n| **n > 0) {
                *n -= 1;
                matched += 1;
            }
        }
        Self {
            said: r.len(),
            heard: h.len(),
            matched,
        }
    }

    pub fn add(&mut self, o: Self) {
        self.said += o.said;
        self.heard += o.heard;
        self.matched += o.matched;
    }

    pub fn recall(&self) -> f64 {
        if self.said == 0 {
            1.0
        } else {
            self.matched as f64 / self.said as f64
        }
    }

    pub fn precision(&self) -> f64 {
        if self.heard == 0 {
            1.0
        } else {
            self.matched as f64 / self.heard as f64
        }
    }
}
