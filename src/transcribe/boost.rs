//! Contextual biasing while Whisper decodes: the question's jargon terms get a bonus on their tokens'
//! logits, so that "Parquet" wins over "part-k" where the audio leaves the two close (where it does not,
//! as with espeak-ng's "watermark" heard as "Wagermark", the bonus changes nothing). The first
//! token of a term gets [`Boost::start`]; once a term has begun (the last tokens decoded are a prefix of
//! it), its next token gets [`Boost::next`]. The bonus is added before whisper.cpp's softmax, beside its
//! own filters (`logits_filter_callback`), for every decoder of a beam search.
//!
//! The prompt already names the question's terms; the prompt shifts what Whisper expects over the whole
//! window, the bonus acts token by token where a term has started to be heard.

use whisper_rs::{WhisperContext, WhisperTokenData, WhisperTokenId};

/// The longest term kept, in tokens: a longer one is a phrase, not a word Whisper mishears.
const MAX_TERM_TOKENS: usize = 6;

/// How far back (text tokens) a term counts as just said, and is not favoured again.
const RECENT_TOKENS: usize = 16;

/// Token sequences of the terms to favour and the bonuses (in logits, natural-log units).
#[derive(Debug, Clone, PartialEq)]
pub struct Boost {
    /// Each term's tokens as Whisper writes it mid-sentence (with its leading space).
    terms: Vec<Vec<WhisperTokenId>>,
    /// Bonus for the first token of a term.
    pub start: f32,
    /// Bonus for the next token of a term that has begun.
    pub next: f32,
    /// Tokens at or past this id are special (end of text, timestamps): not text.
    eot: WhisperTokenId,
    n_vocab: usize,
}

/// The bonuses chosen on the listening set's tuning half (see the README's Listening section);
/// `DATAREADY_WHISPER_BOOST="start,next"` sets them ("0" turns the bonus off).
pub const START: f32 = 1.0;
pub const NEXT: f32 = 2.0;

/// The bonuses: [`START`] and [`NEXT`], or `DATAREADY_WHISPER_BOOST`.
pub fn bonuses() -> (f32, f32) {
    match std::env::var("DATAREADY_WHISPER_BOOST") {
        Ok(v) => {
            let mut parts = v.split(',').map(|p| p.trim().parse::<f32>().unwrap_or(0.0));
            let start = parts.next().unwrap_or(0.0);
            (start, parts.next().unwrap_or(start))
        }
        Err(_) => (START, NEXT),
    }
}

impl Boost {
    /// The terms tokenized by `ctx`'s vocabulary; `None` when there is nothing to favour.
    pub fn new(ctx: &WhisperContext, terms: &[String], (start, next): (f32, f32)) -> Option<Self> {
        if terms.is_empty() || (start <= 0.0 && next <= 0.0) {
            return None;
        }
        let mut seqs: Vec<Vec<WhisperTokenId>> = Vec::new();
        for t in terms {
            let Ok(tokens) = ctx.tokenize(&format!(" {}", t.trim()), MAX_TERM_TOKENS + 1) else {
                continue;
            };
            if !tokens.is_empty() && tokens.len() <= MAX_TERM_TOKENS && !seqs.contains(&tokens) {
                seqs.push(tokens);
            }
        }
        (!seqs.is_empty()).then(|| Self {
            terms: seqs,
            start,
            next,
            eot: ctx.token_eot(),
            n_vocab: ctx.n_vocab().max(0) as usize,
        })
    }

    /// Adds the bonuses to `logits` after the text `decoded` so far (special tokens are skipped).
    pub fn apply(&self, decoded: impl DoubleEndedIterator<Item = WhisperTokenId>, logits: &mut [f32]) {
        let mut tail = [0; RECENT_TOKENS];
        let mut n = 0;
        for id in decoded.rev() {
            if n == RECENT_TOKENS {
                break;
            }
            if id < self.eot {
                tail[RECENT_TOKENS - 1 - n] = id;
                n += 1;
            }
        }
        let recent = &tail[RECENT_TOKENS - n..];
        let tail = &recent[n.saturating_sub(MAX_TERM_TOKENS)..];
        let mut bonus: Vec<(WhisperTokenId, f32)> = Vec::with_capacity(self.terms.len() * 2);
        let mut give = |id: WhisperTokenId, b: f32| match bonus.iter_mut().find(|(i, _)| *i == id) {
            Some(e) => e.1 = e.1.max(b),
            None => bonus.push((id, b)),
        };
        // A term just said is not favoured again, nor any term that begins like it ("rerun", "reruns"): the
        // bonus helps a term heard once win over its sound-alike, and given again it made base loop ("so
        // rerun, rerun, reruns").
        let said: Vec<WhisperTokenId> = self
            .terms
            .iter()
            .filter(|t| recent.windows(t.len()).any(|w| w == t.as_slice()))
            .map(|t| t[0])
            .collect();
        for term in &self.terms {
            if !said.contains(&term[0]) {
                give(term[0], self.start);
            }
            // The longest begun prefix of the term that the text ends with.
            if let Some(k) = (1..term.len()).rev().find(|&k| tail.ends_with(&term[..k])) {
                give(term[k], self.next);
            }
        }
        for (id, b) in bonus {
            if let Some(l) = logits.get_mut(id as usize)
                && l.is_finite()
                && b > 0.0
            {
                *l += b;
            }
        }
    }
}

/// whisper.cpp's logits filter: `user_data` is the [`Boost`] the decode was given. Called for every
/// decoder, possibly from several threads at once: it only reads the boost.
///
/// # Safety
/// `user_data` must point to a `Boost` that outlives the decode; `tokens` and `logits` are whisper.cpp's.
pub unsafe extern "C" fn boost_logits(
    _ctx: *mut whisper_rs::WhisperSysContext,
    _state: *mut whisper_rs::WhisperSysState,
    tokens: *const WhisperTokenData,
    n_tokens: std::os::raw::c_int,
    logits: *mut f32,
    user_data: *mut std::ffi::c_void,
) {
    if user_data.is_null() || logits.is_null() {
        return;
    }
    // SAFETY: the caller passes the Boost it holds for the whole decode; whisper.cpp passes its token
    // sequence (n_tokens long) and the logits row of n_vocab floats.
    let boost = unsafe { &*(user_data as *const Boost) };
    let tokens: &[WhisperTokenData] = if tokens.is_null() || n_tokens <= 0 {
        &[]
    } else {
        unsafe { std::slice::from_raw_parts(tokens, n_tokens as usize) }
    };
    let logits = unsafe { std::slice::from_raw_parts_mut(logits, boost.n_vocab) };
    boost.apply(tokens.iter().map(|t| t.id), logits);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boost(terms: Vec<Vec<WhisperTokenId>>) -> Boost {
        Boost {
            terms,
            start: 1.0,
            next: 3.0,
            eot: 100,
            n_vocab: 120,
        }
    }

    #[test]
    fn a_terms_first_token_and_the_next_token_of_a_begun_term_get_their_bonus() {
        let b = boost(vec![vec![10, 11, 12], vec![20]]);
        let mut logits = vec![0.0; 120];
        b.apply([5, 6].into_iter(), &mut logits);
        assert_eq!((logits[10], logits[20], logits[11]), (1.0, 1.0, 0.0));
        // " Ice" heard: "berg" is favoured next; a timestamp in between does not break the term.
        let mut logits = vec![0.0; 120];
        b.apply([5, 10, 105].into_iter(), &mut logits);
        assert_eq!((logits[11], logits[12]), (3.0, 0.0));
        let mut logits = vec![0.0; 120];
        b.apply([10, 11].into_iter(), &mut logits);
        assert_eq!((logits[12], logits[11]), (3.0, 0.0));
        // A term just said is not favoured again; the others still are.
        let mut logits = vec![0.0; 120];
        b.apply([10, 11, 12].into_iter(), &mut logits);
        assert_eq!(logits.iter().filter(|l| **l != 0.0).count(), 1);
        assert_eq!(logits[20], 1.0);
        let mut logits = vec![0.0; 120];
        b.apply([20, 7, 8].into_iter(), &mut logits);
        assert_eq!((logits[10], logits[20]), (1.0, 0.0));
        // ... until enough other words have followed it.
        let mut logits = vec![0.0; 120];
        b.apply([10, 11, 12].into_iter().chain([7; RECENT_TOKENS]), &mut logits);
        assert_eq!((logits[10], logits[20]), (1.0, 1.0));
    }

    #[test]
    fn suppressed_tokens_stay_suppressed() {
        let b = boost(vec![vec![10, 11]]);
        let mut logits = vec![0.0; 120];
        logits[10] = f32::NEG_INFINITY;
        b.apply([].into_iter(), &mut logits);
        assert_eq!(logits[10], f32::NEG_INFINITY);
    }
}
