//! Text to Piper phonemes: sentences and clauses split here, each clause phonemized by espeak-ng,
//! punctuation put back the way Python piper does (piper-rs 0.2.0 drops it, so words ran together).

use std::ffi::{CStr, CString, c_char, c_void};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use unicode_normalization::UnicodeNormalization;

use super::VoiceError;

/// Longest piece of text synthesized in one go: longer sentences are cut at word breaks, so a
/// pasted wall of text can't make one inference run for minutes.
const MAX_PIECE_CHARS: usize = 320;

/// One sentence to synthesize: its clauses, each with the punctuation that ended it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sentence {
    /// The sentence as spoken (whitespace tidied): the cache key's text.
    pub text: String,
    pub clauses: Vec<(String, Option<char>)>,
}

/// Splits text into sentences and clauses. A `.?!` ends a sentence and a `,;:` a clause only when
/// followed by a space or the end, so "3.5", "e.g.x", "12:30" and "1,000" stay whole.
pub fn split_sentences(text: &str) -> Vec<Sentence> {
    let cleaned = tidy(text);
    let chars: Vec<char> = cleaned.chars().collect();
    let mut sentences = Vec::new();
    let mut clauses: Vec<(String, Option<char>)> = Vec::new();
    let mut sentence_text = String::new();
    let mut clause = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_break(c) {
            // A run of punctuation ("?!", "...") counts once, by its last sentence mark if any.
            let mut j = i;
            let mut mark = c;
            while j < chars.len() && is_break(chars[j]) {
                if matches!(chars[j], '.' | '?' | '!') || !matches!(mark, '.' | '?' | '!') {
                    mark = chars[j];
                }
                j += 1;
            }
            // Closing quotes/brackets stay with the clause they close.
            let mut k = j;
            while k < chars.len() && matches!(chars[k], '"' | '\'' | ')' | ']' | '”' | '’') {
                k += 1;
            }
            if k == chars.len() || chars[k] == ' ' {
                sentence_text.extend(&chars[i..k]);
                push_clause(&mut clauses, &mut clause, Some(mark));
                if matches!(mark, '.' | '?' | '!') {
                    finish_sentence(&mut sentences, &mut clauses, &mut sentence_text);
                }
                i = k;
                continue;
            }
        }
        clause.push(c);
        sentence_text.push(c);
        i += 1;
    }
    push_clause(&mut clauses, &mut clause, None);
    finish_sentence(&mut sentences, &mut clauses, &mut sentence_text);
    sentences.into_iter().flat_map(cut_long).collect()
}

/// Sentences for speaking a line: as [`split_sentences`], except that a long first sentence's first
/// clause is a piece of its own, so the first sound comes after synthesizing a few words, not a
/// whole question. Deterministic, so pre-synthesis and speaking agree on the pieces.
pub fn split_line(text: &str) -> Vec<Sentence> {
    let mut sentences = split_sentences(text);
    let words = |c: &[(String, Option<char>)]| c.iter().map(|(t, _)| t.split_whitespace().count()).sum::<usize>();
    if let Some(first) = sentences.first()
        && first.clauses.len() > 1
        && words(&first.clauses[..1]) >= 3
        && words(&first.clauses[1..]) >= 3
    {
        let mut rest = sentences.remove(0);
        let head = rest.clauses.remove(0);
        let rest = piece_sentence(rest.clauses);
        sentences.insert(0, rest);
        sentences.insert(0, piece_sentence(vec![head]));
    }
    sentences
}

impl Sentence {
    /// Whether this piece ends a sentence (a pause follows), rather than a clause.
    pub fn ends_sentence(&self) -> bool {
        !matches!(self.clauses.last(), Some((_, Some(',' | ';' | ':'))))
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '.' | '?' | '!' | ',' | ';' | ':')
}

fn push_clause(clauses: &mut Vec<(String, Option<char>)>, clause: &mut String, mark: Option<char>) {
    let text = clause.trim().to_string();
    clause.clear();
    if text.chars().any(char::is_alphanumeric) {
        clauses.push((text, mark));
    } else if let (Some(last), Some(m)) = (clauses.last_mut(), mark) {
        // Punctuation after nothing speakable belongs to the clause before.
        last.1 = Some(m);
    }
}

fn finish_sentence(sentences: &mut Vec<Sentence>, clauses: &mut Vec<(String, Option<char>)>, text: &mut String) {
    let t = text.trim().to_string();
    text.clear();
    if !clauses.is_empty() {
        sentences.push(Sentence {
            text: t,
            clauses: std::mem::take(clauses),
        });
    }
}

/// Cuts a sentence whose clauses are too long into pieces at word breaks.
fn cut_long(s: Sentence) -> Vec<Sentence> {
    if s.text.chars().count() <= MAX_PIECE_CHARS {
        return vec![s];
    }
    let mut out = Vec::new();
    let mut piece: Vec<(String, Option<char>)> = Vec::new();
    let mut len = 0;
    for (clause, mark) in s.clauses {
        let words: Vec<&str> = clause.split(' ').collect();
        let mut part = String::new();
        for w in words {
            if len + part.len() + w.len() + 1 > MAX_PIECE_CHARS && !(part.is_empty() && piece.is_empty()) {
                if !part.is_empty() {
                    piece.push((std::mem::take(&mut part), None));
                }
                out.push(piece_sentence(std::mem::take(&mut piece)));
                len = 0;
            }
            if !part.is_empty() {
                part.push(' ');
            }
            part.push_str(w);
        }
        len += part.len() + 2;
        piece.push((part, mark));
    }
    if !piece.is_empty() {
        out.push(piece_sentence(piece));
    }
    out
}

fn piece_sentence(clauses: Vec<(String, Option<char>)>) -> Sentence {
    let text = clauses
        .iter()
        .map(|(c, m)| match m {
            Some(m) => format!("{c}{m}"),
            None => c.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ");
    Sentence { text, clauses }
}

/// Control characters, emoji and pictographs out; whitespace collapsed. An interviewer doesn't
/// read "grinning face" aloud, and espeak must never see a NUL.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        let skip = c.is_control() && !c.is_whitespace()
            || matches!(c as u32, 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0xFE00..=0xFE0F | 0x200D | 0xE0000..=0xE007F);
        if skip {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

/// espeak-ng keeps global state and is not thread-safe: one lock for every call.
static ESPEAK: Mutex<Option<EspeakState>> = Mutex::new(None);

struct EspeakState {
    voice: String,
}

/// The folder holding `espeak-ng-data/`: `PIPER_ESPEAKNG_DATA_DIRECTORY`, the models folder, the data
/// built with the bundled espeak-ng (found from the executable in a cargo target folder; its version
/// matches the engine), or Debian's `espeak-ng-data` package.
pub fn espeak_data_parent() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(d) = std::env::var_os("PIPER_ESPEAKNG_DATA_DIRECTORY") {
        candidates.push(PathBuf::from(d));
    }
    candidates.push(crate::paths::models_dir());
    if let Ok(exe) = std::env::current_exe() {
        for dir in exe.ancestors().skip(1).take(2) {
            candidates.push(dir.to_path_buf());
            if let Ok(entries) = std::fs::read_dir(dir.join("build")) {
                let mut built: Vec<PathBuf> = entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| {
                        p.file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with("espeak-rs-sys-"))
                    })
                    .map(|p| p.join("out").join("share"))
                    .collect();
                built.sort();
                candidates.extend(built);
            }
        }
    }
    candidates.push(PathBuf::from("/usr/lib/x86_64-linux-gnu"));
    candidates.push(PathBuf::from("/usr/lib/aarch64-linux-gnu"));
    candidates.push(PathBuf::from("/usr/share"));
    candidates
        .into_iter()
        .find(|p| p.join("espeak-ng-data").join("phondata").is_file())
}

/// Phonemizes one sentence: each clause through espeak-ng, its punctuation re-inserted, the result
/// decomposed (NFD) into the code points Piper's phoneme map is keyed by.
pub fn phonemize(sentence: &Sentence, espeak_voice: &str) -> Result<String, VoiceError> {
    let mut out = String::new();
    for (clause, mark) in &sentence.clauses {
        let ph = espeak_phonemes(clause, espeak_voice)?;
        if ph.trim().is_empty() {
            continue;
        }
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        out.push_str(ph.trim());
        if let Some(m) = mark {
            out.push(*m);
            if matches!(m, ',' | ';' | ':') {
                out.push(' ');
            }
        }
    }
    Ok(out.trim_end().nfd().collect())
}

/// espeak-ng's IPA for a clause (its own sub-clauses joined by spaces).
pub fn espeak_phonemes(text: &str, voice: &str) -> Result<String, VoiceError> {
    let mut guard = ESPEAK.lock().unwrap_or_else(|e| e.into_inner());
    if guard.is_none() {
        init(espeak_data_parent().as_deref())?;
        *guard = Some(EspeakState { voice: String::new() });
    }
    let state = guard.as_mut().expect("initialized above");
    if state.voice != voice {
        let name = CString::new(voice).map_err(|_| VoiceError::Espeak("voice name contains NUL".into()))?;
        // SAFETY: espeak is initialized and we hold the lock; `name` outlives the call.
        let rc = unsafe { espeak_rs_sys::espeak_SetVoiceByName(name.as_ptr()) };
        if rc != espeak_rs_sys::espeak_ERROR_EE_OK {
            return Err(VoiceError::Espeak(format!("espeak-ng has no voice {voice:?}")));
        }
        state.voice = voice.to_string();
    }
    let c_text = CString::new(text.replace('\0', " ")).map_err(|_| VoiceError::Espeak("text contains NUL".into()))?;
    let mut ptr: *const c_char = c_text.as_ptr();
    let mut parts: Vec<String> = Vec::new();
    // espeak advances `ptr` one clause per call and sets it to NULL at the end.
    for _ in 0..10_000 {
        if ptr.is_null() {
            break;
        }
        let before = ptr;
        // SAFETY: `ptr` points into `c_text`, alive for the loop; we hold the espeak lock.
        let res = unsafe {
            espeak_rs_sys::espeak_TextToPhonemes(
                &mut ptr as *mut *const c_char as *mut *const c_void,
                espeak_rs_sys::espeakCHARS_UTF8 as i32,
                espeak_rs_sys::espeakINITIALIZE_PHONEME_IPA as i32,
            )
        };
        if !res.is_null() {
            // SAFETY: espeak returns a NUL-terminated string valid until the next call.
            let s = unsafe { CStr::from_ptr(res) }.to_string_lossy().into_owned();
            let s = strip_language_switches(&s);
            if !s.trim().is_empty() {
                parts.push(s.trim().to_string());
            }
        }
        if ptr == before {
            break;
        }
    }
    Ok(parts.join(" "))
}

fn init(parent: Option<&Path>) -> Result<(), VoiceError> {
    let path = parent
        .map(|p| CString::new(p.to_string_lossy().as_bytes()))
        .transpose()
        .map_err(|_| VoiceError::Espeak("data path contains NUL".into()))?;
    let path_ptr = path.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: called once under the lock; `path` outlives the call.
    let rate = unsafe {
        espeak_rs_sys::espeak_Initialize(
            espeak_rs_sys::espeak_AUDIO_OUTPUT_AUDIO_OUTPUT_RETRIEVAL,
            0,
            path_ptr,
            espeak_rs_sys::espeakINITIALIZE_DONT_EXIT as i32,
        )
    };
    if rate <= 0 {
        let at = parent.map_or("its built-in path".to_string(), |p| {
            p.join("espeak-ng-data").display().to_string()
        });
        return Err(VoiceError::Espeak(format!("could not load its data from {at}")));
    }
    Ok(())
}

/// espeak marks words it reads in another language as `(fr)...(en)`; Piper has no phonemes for those marks.
fn strip_language_switches(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_sentences_and_keeps_clause_marks() {
        let s = split_sentences("Thanks, that helps. How would you partition it; by day? Go on!");
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].text, "Thanks, that helps.");
        assert_eq!(
            s[0].clauses,
            vec![("Thanks".to_string(), Some(',')), ("that helps".to_string(), Some('.'))]
        );
        assert_eq!(s[1].clauses.len(), 2);
        assert_eq!(s[1].clauses[0].1, Some(';'));
        assert_eq!(s[1].clauses[1].1, Some('?'));
        assert_eq!(s[2].text, "Go on!");
    }

    #[test]
    fn numbers_names_and_code_stay_whole() {
        let s = split_sentences("Spark 3.5 reads s3://bucket/a.parquet at 12:30, about 1,000 files. Done");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].clauses[0].0, "Spark 3.5 reads s3://bucket/a.parquet at 12:30");
        assert_eq!(s[0].clauses[1].0, "about 1,000 files");
        assert_eq!(s[1].clauses, vec![("Done".to_string(), None)]);
    }

    #[test]
    fn punctuation_runs_and_quotes() {
        let s = split_sentences("Really?! \"Yes.\" Well... maybe");
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].clauses[0].1, Some('!'));
        assert_eq!(s[1].clauses[0], ("\"Yes".to_string(), Some('.')));
        assert_eq!(s[1].text, "\"Yes.\"");
        assert_eq!(s[2].clauses[0], ("Well".to_string(), Some('.')));
        assert_eq!(s[3].clauses[0], ("maybe".to_string(), None));
    }

    #[test]
    fn empty_and_unspeakable_text_gives_nothing() {
        assert!(split_sentences("").is_empty());
        assert!(split_sentences("   \n\t ").is_empty());
        assert!(split_sentences("... ?! ,,").is_empty());
        assert!(split_sentences("😀🚀\u{0}\u{7}").is_empty());
    }

    #[test]
    fn emoji_and_controls_are_dropped() {
        let s = split_sentences("Great 👍 answer.\u{0} Next\u{1b}[0m one");
        assert_eq!(s[0].text, "Great answer.");
        assert_eq!(s[1].text, "Next[0m one");
    }

    #[test]
    fn a_long_first_sentence_starts_with_its_first_clause() {
        let s = split_line("What is a shuffle in Spark, and when does it happen? Give an example.");
        let texts: Vec<&str> = s.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "What is a shuffle in Spark,",
                "and when does it happen?",
                "Give an example."
            ]
        );
        assert!(!s[0].ends_sentence() && s[1].ends_sentence() && s[2].ends_sentence());
        // Short openers stay whole.
        assert_eq!(split_line("Thanks, that helps a lot.").len(), 1);
        assert_eq!(split_line("No clauses here at all.").len(), 1);
    }

    #[test]
    fn long_text_is_cut_into_bounded_pieces() {
        let word = "partition ";
        let text = word.repeat(600);
        let s = split_sentences(&text);
        assert!(s.len() >= 15, "{} pieces", s.len());
        for p in &s {
            assert!(p.text.chars().count() <= MAX_PIECE_CHARS + 2, "{}", p.text.len());
        }
        let words: usize = s.iter().map(|p| p.text.split_whitespace().count()).sum();
        assert_eq!(words, 600);
    }
}

#[cfg(test)]
mod espeak_tests {
    use super::*;

    #[test]
    fn clause_punctuation_survives_phonemization() {
        // The piper-rs 0.2.0 bug: "teammate. How" became one run-on word with no pause marks.
        let s = split_sentences("I asked my teammate. How did it go, and why?");
        assert_eq!(s.len(), 2);
        let first = phonemize(&s[0], "en-us").unwrap();
        let second = phonemize(&s[1], "en-us").unwrap();
        assert!(first.ends_with('.') && first.contains(' '), "{first}");
        assert!(second.ends_with('?') && second.contains(", "), "{second}");
        assert_eq!(second.matches(',').count(), 1, "{second}");
        // Decomposed, as Piper's phoneme map expects (stress marks stay separate code points).
        assert_eq!(first, first.nfd().collect::<String>());
    }

    /// Prints phonemes for comparing with Python piper by hand: `cargo test -- --ignored show_phonemes`.
    #[test]
    #[ignore]
    fn show_phonemes() {
        let text = std::env::var("PHONEMES_FILE")
            .map(|f| std::fs::read_to_string(f).unwrap())
            .unwrap_or_else(|_| "Thanks, that helps. How would you do it?".into());
        for line in text.lines() {
            let ph: Vec<String> = split_sentences(line)
                .iter()
                .map(|s| phonemize(s, "en-us").unwrap())
                .collect();
            println!("PH\t{}", ph.join(" | "));
        }
    }
}
