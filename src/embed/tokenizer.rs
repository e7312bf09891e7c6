//! BERT uncased WordPiece tokenization (the `BertTokenizer` behaviour MiniLM was trained with).

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Maps text to WordPiece ids from a `vocab.txt` (one token per line; the line number is the id).
pub struct WordPiece {
    vocab: HashMap<String, u32>,
    unk: u32,
    cls: u32,
    sep: u32,
    /// Per id: whether the piece holds a letter or digit (not punctuation, not a special token).
    wordy: Vec<bool>,
}

const MAX_CHARS_PER_WORD: usize = 100;

impl WordPiece {
    pub fn from_vocab(text: &str) -> Result<Self, String> {
        let vocab: HashMap<String, u32> = text
            .lines()
            .enumerate()
            .map(|(i, t)| (t.to_string(), i as u32))
            .collect();
        let id = |t: &str| {
            vocab
                .get(t)
                .copied()
                .ok_or_else(|| format!("vocabulary has no {t} token"))
        };
        let mut wordy = vec![false; vocab.len()];
        for (t, &i) in &vocab {
            if let Some(w) = wordy.get_mut(i as usize) {
                *w = !t.starts_with('[') && t.chars().any(char::is_alphanumeric);
            }
        }
        Ok(Self {
            unk: id("[UNK]")?,
            cls: id("[CLS]")?,
            sep: id("[SEP]")?,
            vocab,
            wordy,
        })
    }

    /// `[CLS] pieces… [SEP]`, truncated so the whole sequence holds at most `max_len` ids.
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<u32> {
        let mut ids = vec![self.cls];
        'words: for word in basic_tokens(text) {
            for id in self.word_pieces(&word) {
                if ids.len() + 1 >= max_len {
                    break 'words;
                }
                ids.push(id);
            }
        }
        ids.push(self.sep);
        ids
    }

    /// Whether a piece holds a letter or digit: not punctuation, not `[CLS]`, `[SEP]` or `[UNK]`.
    pub fn is_wordy(&self, id: u32) -> bool {
        self.wordy.get(id as usize).copied().unwrap_or(false)
    }

    fn word_pieces(&self, word: &str) -> Vec<u32> {
        let chars: Vec<char> = word.chars().collect();
        if chars.len() > MAX_CHARS_PER_WORD {
            return vec![self.unk];
        }
        let mut out = Vec::new();
        let mut start = 0;
        while start < chars.len() {
            let mut end = chars.len();
            let mut found = None;
            while start < end {
                let mut piece: String = chars[start..end].iter().collect();
                if start > 0 {
                    piece.insert_str(0, "##");
                }
                if let Some(&id) = self.vocab.get(&piece) {
                    found = Some(id);
                    break;
                }
                end -= 1;
            }
            match found {
                Some(id) => out.push(id),
                None => return vec![self.unk],
            }
            start = end;
        }
        out
    }
}

/// Clean, lowercase, strip accents, and split on whitespace and punctuation.
fn basic_tokens(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, words: &mut Vec<String>| {
        if !cur.is_empty() {
            words.push(std::mem::take(cur));
        }
    };
    for c in text.nfd() {
        if c == '\0' || c == '\u{fffd}' || (c.is_control() && !c.is_whitespace()) {
            continue;
        }
        if is_combining_mark(c) {
            continue;
        }
        if c.is_whitespace() {
            flush(&mut cur, &mut words);
        } else if is_punctuation(c) || is_cjk(c) {
            flush(&mut cur, &mut words);
            words.push(c.to_string());
        } else {
            cur.extend(c.to_lowercase());
        }
    }
    flush(&mut cur, &mut words);
    words
}

fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c as u32, 0x2010..=0x2027 | 0x2030..=0x205E | 0x3000..=0x303F | 0xFF01..=0xFF0F)
        || matches!(c, '¡' | '§' | '«' | '¶' | '·' | '»' | '¿')
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0x20000..=0x2A6DF | 0x2A700..=0x2B73F
        | 0x2B740..=0x2B81F | 0x2B820..=0x2CEAF | 0xF900..=0xFAFF | 0x2F800..=0x2FA1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> WordPiece {
        let vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nspark\n##s\nshuffle\n,\n.\nun\n##able\ncafe\n";
        WordPiece::from_vocab(vocab).unwrap()
    }

    #[test]
    fn splits_punctuation_lowercases_and_strips_accents() {
        let wp = tiny();
        assert_eq!(wp.encode("Sparks, SHUFFLE. Café", 64), vec![2, 4, 5, 7, 6, 8, 11, 3]);
    }

    #[test]
    fn unknown_words_become_unk_and_truncation_keeps_sep() {
        let wp = tiny();
        assert_eq!(wp.encode("unable xyz", 64), vec![2, 9, 10, 1, 3]);
        assert_eq!(wp.encode("spark spark spark spark", 4), vec![2, 4, 4, 3]);
    }
}
