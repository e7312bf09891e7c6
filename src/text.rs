//! Cleaning untrusted text (answers, CSV cells, model output) before it reaches the core, a screen or a report.

/// Answers longer than this are cut, with a note in the turn.
pub const MAX_ANSWER_CHARS: usize = 20_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clean {
    pub text: String,
    pub truncated: bool,
}

/// Drops terminal escape sequences and control characters, folds whitespace runs to one
/// space, and truncates at `max` characters.
pub fn clean(input: &str, max: usize) -> Clean {
    let mut out = String::with_capacity(input.len().min(max * 4));
    let mut chars = input.chars().peekable();
    let mut pending_space = false;
    let mut count = 0;
    let mut truncated = false;
    while let Some(c) = chars.next() {
        if c == '\u{1b}' || c == '\u{9b}' {
            skip_escape(c, &mut chars);
            continue;
        }
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if c.is_control() || c == '\u{fffd}' || is_bidi_control(c) {
            continue;
        }
        if count >= max {
            truncated = true;
            break;
        }
        if pending_space {
            out.push(' ');
            count += 1;
            pending_space = false;
        }
        out.push(c);
        count += 1;
    }
    Clean { text: out, truncated }
}

/// Skips the rest of an ANSI escape: CSI (`ESC [ … final`), OSC (`ESC ] … BEL/ST`) or a two-character escape.
fn skip_escape(first: char, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    let kind = if first == '\u{9b}' { Some('[') } else { chars.next() };
    match kind {
        Some('[') => {
            for c in chars.by_ref() {
                if ('\u{40}'..='\u{7e}').contains(&c) {
                    break;
                }
            }
        }
        Some(']') | Some('P') | Some('_') | Some('^') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' || c == '\u{9c}' {
                    break;
                }
                if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                    chars.next();
                    break;
                }
            }
        }
        _ => {}
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A single line for a table cell or a terminal status: cleaned and shortened with an ellipsis.
pub fn one_line(input: &str, max: usize) -> String {
    let c = clean(input, max);
    if c.truncated { format!("{}…", c.text) } else { c.text }
}

/// Levenshtein distance between two sequences (letters, words): the fewest insertions, deletions and
/// substitutions that turn `a` into `b`.
pub fn edit_distance<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(x != y)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escapes_and_controls() {
        let c = clean(
            "\u{1b}[31mred\u{1b}[0m text\u{7}\u{1b}]0;title\u{7} ok\r\n  next\u{0}",
            100,
        );
        assert_eq!(c.text, "red text ok next");
        assert!(!c.truncated);
    }

    #[test]
    fn truncates_by_characters_not_bytes() {
        let c = clean("ééééé", 3);
        assert_eq!(c.text, "ééé");
        assert!(c.truncated);
    }

    #[test]
    fn whitespace_only_is_empty() {
        assert_eq!(clean(" \t\n \u{1b}[2J ", 100).text, "");
    }
}
