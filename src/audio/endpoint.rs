//! Voice activity and the end of an answer, from 16 kHz samples alone (no clock, no I/O): a long
//! enough silence after speech, the maximum length, or the candidate's key. Silence before the
//! candidate starts never ends the answer.

use serde::Serialize;

use super::wav::RATE;

/// 20 ms analysis frames.
pub const FRAME: usize = (RATE / 50) as usize;
const FRAME_MS: u64 = 20;

#[derive(Debug, Clone, PartialEq)]
pub struct EndpointConfig {
    /// Silence after speech that ends the answer. People pause to think: keep it generous.
    pub silence_limit_ms: u64,
    /// The longest answer; a warning comes `warn_before_ms` earlier.
    pub max_answer_ms: u64,
    pub warn_before_ms: u64,
    /// A pause this long closes a segment that is sent for transcription while the candidate goes on.
    pub segment_pause_ms: u64,
    /// Segments shorter than this wait for the next pause (Whisper does poorly on fragments).
    pub min_segment_ms: u64,
    /// A segment this long is cut even without a pause.
    pub max_segment_ms: u64,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            silence_limit_ms: 2500,
            max_answer_ms: 180_000,
            warn_before_ms: 15_000,
            segment_pause_ms: 350,
            min_segment_ms: 3000,
            max_segment_ms: 25_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerEnd {
    /// The candidate stopped talking for the silence limit.
    Silence,
    /// The candidate pressed the end key (or the input ran out).
    Key,
    /// The answer reached its maximum length.
    MaxLength,
}

/// What the detector noticed in the frames just pushed.
#[derive(Debug, Clone, PartialEq)]
pub enum Cue {
    /// Input level, 0.0 (silence) to 1.0 (full scale), about ten times a second.
    Level(f32),
    SpeechStarted {
        at_ms: u64,
    },
    /// Samples `from..to` (16 kHz) form a finished segment with speech in it.
    Segment {
        from: usize,
        to: usize,
    },
    /// The answer will be cut at the maximum length in `remaining_ms`.
    Warning {
        remaining_ms: u64,
    },
    End(AnswerEnd),
}

/// Frame energy classifier with a noise floor that follows the room.
#[derive(Debug, Clone)]
struct Vad {
    recent_db: Vec<f32>,
    at: usize,
}

impl Vad {
    const WINDOW: usize = 250; // 5 s of frames: long enough to contain a breath between words.

    fn new() -> Self {
        Self {
            recent_db: Vec::with_capacity(Self::WINDOW),
            at: 0,
        }
    }

    fn is_speech(&mut self, db: f32) -> bool {
        if self.recent_db.len() < Self::WINDOW {
            self.recent_db.push(db);
        } else {
            self.recent_db[self.at] = db;
            self.at = (self.at + 1) % Self::WINDOW;
        }
        let floor = self.recent_db.iter().copied().fold(f32::INFINITY, f32::min).max(-75.0);
        // 15 dB over the room's floor; anything louder than -32 dBFS is speech even before the floor is
        // known (a candidate who starts talking at once has no silence in the window yet).
        db > (floor + 15.0).clamp(-50.0, -32.0)
    }
}

pub fn frame_db(frame: &[f32]) -> f32 {
    let energy = frame.iter().map(|v| v * v).sum::<f32>() / frame.len().max(1) as f32;
    10.0 * (energy + 1e-12).log10()
}

/// The end-of-answer detector. Push 16 kHz samples in any chunk size; read the cues.
#[derive(Debug, Clone)]
pub struct Endpoint {
    cfg: EndpointConfig,
    vad: Vad,
    carry: Vec<f32>,
    frames: u64,
    /// Consecutive speech frames (onset needs a few, so clicks don't count).
    voiced_run: u64,
    silent_run: u64,
    started: bool,
    warned: bool,
    ended: Option<AnswerEnd>,
    segment_from: usize,
    segment_has_speech: bool,
    /// (start, end) ms of each stretch of speech.
    speech: Vec<(u64, u64)>,
    level_acc: f32,
}

const ONSET_FRAMES: u64 = 3;

impl Endpoint {
    pub fn new(cfg: EndpointConfig) -> Self {
        Self {
            cfg,
            vad: Vad::new(),
            carry: Vec::new(),
            frames: 0,
            voiced_run: 0,
            silent_run: 0,
            started: false,
            warned: false,
            ended: None,
            segment_from: 0,
            segment_has_speech: false,
            speech: Vec::new(),
            level_acc: 0.0,
        }
    }

    pub fn ended(&self) -> Option<AnswerEnd> {
        self.ended
    }

    pub fn speech_started(&self) -> bool {
        self.started
    }

    /// Stretches of speech so far, in ms.
    pub fn speech(&self) -> &[(u64, u64)] {
        &self.speech
    }

    fn now_ms(&self) -> u64 {
        self.frames * FRAME_MS
    }

    fn samples(&self) -> usize {
        self.frames as usize * FRAME
    }

    pub fn push(&mut self, samples: &[f32]) -> Vec<Cue> {
        let mut cues = Vec::new();
        if self.ended.is_some() {
            return cues;
        }
        self.carry.extend_from_slice(samples);
        let mut at = 0;
        while self.carry.len() - at >= FRAME && self.ended.is_none() {
            let frame = self.carry[at..at + FRAME].to_vec();
            at += FRAME;
            self.frame(&frame, &mut cues);
        }
        self.carry.drain(..at);
        cues
    }

    fn frame(&mut self, frame: &[f32], cues: &mut Vec<Cue>) {
        let db = frame_db(frame);
        let voiced = self.vad.is_speech(db);
        self.frames += 1;
        let now = self.now_ms();
        self.level_acc = self.level_acc.max(((db + 60.0) / 60.0).clamp(0.0, 1.0));
        if self.frames.is_multiple_of(5) {
            cues.push(Cue::Level(self.level_acc));
            self.level_acc = 0.0;
        }
        if voiced {
            self.voiced_run += 1;
            self.silent_run = 0;
            if self.voiced_run == ONSET_FRAMES {
                let start = now - ONSET_FRAMES * FRAME_MS;
                if !self.started {
                    self.started = true;
                    cues.push(Cue::SpeechStarted { at_ms: start });
                }
                self.speech.push((start, now));
                self.segment_has_speech = true;
            } else if self.voiced_run > ONSET_FRAMES
                && let Some(last) = self.speech.last_mut()
            {
                last.1 = now;
            }
        } else {
            self.voiced_run = 0;
            self.silent_run += 1;
        }

        let pause_ms = self.silent_run * FRAME_MS;
        let segment_ms = (self.samples() - self.segment_from) as u64 * 1000 / u64::from(RATE);
        if self.started && self.segment_has_speech {
            // A long pause closes even a short segment, so it is transcribed before the silence limit.
            let cut_at_pause =
                pause_ms >= self.cfg.segment_pause_ms && (segment_ms >= self.cfg.min_segment_ms || pause_ms >= 1000);
            if cut_at_pause || segment_ms >= self.cfg.max_segment_ms {
                // Cut inside the pause, keeping a little of it so word endings are not clipped.
                let keep = (self.silent_run.min(10) as usize / 2) * FRAME;
                let to = self.samples() - self.silent_run as usize * FRAME + keep;
                if to > self.segment_from {
                    cues.push(Cue::Segment {
                        from: self.segment_from,
                        to,
                    });
                    self.segment_from = to;
                    self.segment_has_speech = false;
                }
            }
        } else if !self.segment_has_speech && !self.started {
            // Before speech starts, leading silence is trimmed from the first segment (keep 300 ms).
            self.segment_from = self.samples().saturating_sub(15 * FRAME);
        }

        if self.started && pause_ms >= self.cfg.silence_limit_ms {
            self.end(AnswerEnd::Silence, cues);
        } else if now >= self.cfg.max_answer_ms {
            self.end(AnswerEnd::MaxLength, cues);
        } else if !self.warned && now + self.cfg.warn_before_ms >= self.cfg.max_answer_ms {
            self.warned = true;
            cues.push(Cue::Warning {
                remaining_ms: self.cfg.max_answer_ms - now,
            });
        }
    }

    /// Ends the answer now (the candidate's key, or the input ran out).
    pub fn finish(&mut self, reason: AnswerEnd) -> Vec<Cue> {
        let mut cues = Vec::new();
        if self.ended.is_none() {
            self.end(reason, &mut cues);
        }
        cues
    }

    fn end(&mut self, reason: AnswerEnd, cues: &mut Vec<Cue>) {
        self.ended = Some(reason);
        let end = self.samples()
            - if reason == AnswerEnd::Silence {
                // Keep half a second of the closing silence at most.
                (self.silent_run as usize).saturating_sub(25) * FRAME
            } else {
                0
            };
        if self.segment_has_speech && end > self.segment_from {
            cues.push(Cue::Segment {
                from: self.segment_from,
                to: end,
            });
            self.segment_from = end;
            self.segment_has_speech = false;
        }
        cues.push(Cue::End(reason));
    }
}

/// Stretches of speech (ms) in a whole clip, by the same detector; a stretch with no voiced sound in it
/// (steady hiss, fan or white noise louder than the level detector's ceiling) is not speech.
pub fn speech_regions(samples: &[f32]) -> Vec<(u64, u64)> {
    let mut e = Endpoint::new(EndpointConfig {
        silence_limit_ms: u64::MAX,
        max_answer_ms: u64::MAX,
        warn_before_ms: 0,
        ..EndpointConfig::default()
    });
    e.push(samples);
    // Judged a phrase at a time (stretches less than a second apart), so a short syllable between
    // pauses stays with the words around it.
    let per_ms = RATE as usize / 1000;
    let mut kept = Vec::new();
    let mut phrase: Vec<(u64, u64)> = Vec::new();
    let mut judge = |phrase: &mut Vec<(u64, u64)>| {
        if let (Some(first), Some(last)) = (phrase.first(), phrase.last()) {
            let a = (first.0 as usize * per_ms).min(samples.len());
            let b = (last.1 as usize * per_ms).min(samples.len());
            if has_voice(&samples[a..b]) {
                kept.append(phrase);
            }
        }
        phrase.clear();
    };
    for r in e.speech {
        if phrase.last().is_some_and(|l| r.0 > l.1 + 1000) {
            judge(&mut phrase);
        }
        phrase.push(r);
    }
    judge(&mut phrase);
    kept
}

/// Whether a stretch holds a steady sound: its loud 20 ms frames (90th percentile of energy) are less than
/// [`STEADY_SWING`] times its quiet ones (10th). Speech rises and falls with every syllable, even over a
/// fan; a tone, a hum or a whistle does not, and Whisper turned 5 s of a 120 Hz hum into "Ooh. I'm going
/// to be able to do a lot of research." (a pitch it has, so the voicing check alone let it through).
pub fn steady(samples: &[f32]) -> bool {
    const FRAME: usize = 320;
    let mut energy: Vec<f32> = samples
        .chunks_exact(FRAME)
        .map(|f| f.iter().map(|x| x * x).sum::<f32>() / FRAME as f32)
        .collect();
    if energy.len() < 3 {
        return true;
    }
    energy.sort_unstable_by(f32::total_cmp);
    let at = |p: f32| energy[((energy.len() - 1) as f32 * p).round() as usize];
    at(0.9) < STEADY_SWING * at(0.1)
}

/// How much louder than its quiet frames a stretch's loud ones must be to be speech (about 2 dB). Speech at
/// 0 dB over steady noise still swings about twice; a tone or hum swings under 1.1 times.
const STEADY_SWING: f32 = 1.6;

/// Frames of a stretch with a clear pitch that make it speech: every spoken stretch has vowels.
const VOICED_FRAMES: usize = 3;
/// Normalised autocorrelation at the pitch period above which a frame is voiced. White noise peaks near
/// 0.2 over the lags searched; vowels (and the synthetic voices of the dev set) sit well above 0.5.
const VOICED_CORRELATION: f32 = 0.45;

/// Whether a stretch (16 kHz) holds voiced sound: a pitch between 70 and 400 Hz in at least
/// [`VOICED_FRAMES`] of its 40 ms frames. Pre-emphasis first, so that low rumble and brown noise, which
/// correlate with themselves at every lag, do not pass for a pitch. Stops at the first frames found, so a
/// stretch of speech costs a few frames' work.
pub fn has_voice(samples: &[f32]) -> bool {
    if steady(samples) {
        return false;
    }
    // Down to 8 kHz (pairs averaged) with pre-emphasis: half the work, and the pitch range is unchanged.
    let x: Vec<f32> = samples.chunks_exact(2).map(|p| (p[0] + p[1]) * 0.5).collect();
    let x: Vec<f32> = x.windows(2).map(|w| w[1] - 0.95 * w[0]).collect();
    const WIN: usize = 320; // 40 ms at 8 kHz
    const HOP: usize = 160;
    let (min_lag, max_lag) = (8_000 / 400, 8_000 / 70);
    let mut found = 0;
    let mut at = 0;
    // Energy of every prefix of a frame, so each lag's two halves are normalised in constant time.
    let mut prefix = [0.0f32; WIN + 1];
    while at + WIN <= x.len() {
        let f = &x[at..at + WIN];
        at += HOP;
        for (i, v) in f.iter().enumerate() {
            prefix[i + 1] = prefix[i] + v * v;
        }
        let best = (min_lag..=max_lag)
            .map(|lag| {
                let dot: f32 = f[..WIN - lag].iter().zip(&f[lag..]).map(|(x, y)| x * y).sum();
                let (ea, eb) = (prefix[WIN - lag], prefix[WIN] - prefix[lag]);
                dot / (ea * eb).sqrt().max(1e-12)
            })
            .fold(f32::MIN, f32::max);
        if best >= VOICED_CORRELATION {
            found += 1;
            if found >= VOICED_FRAMES {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speech(ms: u64) -> Vec<f32> {
        // A voiced-like signal: a 150 Hz buzz with harmonics, amplitude varying like syllables.
        (0..(ms * 16) as usize)
            .map(|i| {
                let t = i as f32 / 16000.0;
                let env = 0.3 + 0.7 * (t * 2.0 * std::f32::consts::TAU * 4.0).sin().abs();
                env * 0.2
                    * ((t * 150.0 * std::f32::consts::TAU).sin() + 0.5 * (t * 450.0 * std::f32::consts::TAU).sin())
            })
            .collect()
    }

    fn silence(ms: u64) -> Vec<f32> {
        // Faint room noise, not digital zero.
        (0..(ms * 16) as usize)
            .map(|i| 0.001 * (((i * 7919) % 101) as f32 / 50.0 - 1.0))
            .collect()
    }

    fn run(cfg: EndpointConfig, parts: &[(bool, u64)]) -> (Vec<Cue>, Endpoint) {
        let mut e = Endpoint::new(cfg);
        let mut cues = Vec::new();
        for &(talk, ms) in parts {
            let s = if talk { speech(ms) } else { silence(ms) };
            for c in s.chunks(1234) {
                cues.extend(e.push(c));
            }
        }
        (cues, e)
    }

    fn ends(cues: &[Cue]) -> Vec<AnswerEnd> {
        cues.iter()
            .filter_map(|c| if let Cue::End(r) = c { Some(*r) } else { None })
            .collect()
    }

    #[test]
    fn pauses_shorter_than_the_limit_do_not_end_the_answer() {
        let (cues, e) = run(
            EndpointConfig::default(),
            &[
                (false, 500),
                (true, 3000),
                (false, 2200),
                (true, 2000),
                (false, 1800),
                (true, 1000),
                (false, 500),
            ],
        );
        assert!(ends(&cues).is_empty(), "{cues:?}");
        assert_eq!(e.speech().len(), 3);
        assert!(
            cues.iter()
                .any(|c| matches!(c, Cue::SpeechStarted { at_ms } if (440..=600).contains(at_ms)))
        );
    }

    #[test]
    fn a_pause_longer_than_the_limit_ends_it() {
        let (cues, e) = run(EndpointConfig::default(), &[(true, 2000), (false, 2600), (true, 2000)]);
        assert_eq!(ends(&cues), vec![AnswerEnd::Silence]);
        // The speech after the end is not taken.
        assert_eq!(e.speech().len(), 1);
        // The last segment covers the speech and no more than half a second of the silence.
        let Some(Cue::Segment { from, to }) = cues.iter().rev().find(|c| matches!(c, Cue::Segment { .. })) else {
            panic!("no segment: {cues:?}");
        };
        assert_eq!(*from, 0);
        assert!((32_000..=40_000).contains(to), "{to}");
    }

    #[test]
    fn silence_before_speech_is_not_the_end() {
        let (cues, e) = run(EndpointConfig::default(), &[(false, 8000), (true, 1000)]);
        assert!(ends(&cues).is_empty());
        assert!(e.speech_started());
    }

    #[test]
    fn max_length_warns_then_ends() {
        let cfg = EndpointConfig {
            max_answer_ms: 10_000,
            warn_before_ms: 3000,
            ..EndpointConfig::default()
        };
        let (cues, _) = run(cfg, &[(true, 12_000)]);
        let warn = cues
            .iter()
            .position(|c| matches!(c, Cue::Warning { remaining_ms: 3000 }));
        let end = cues.iter().position(|c| *c == Cue::End(AnswerEnd::MaxLength));
        assert!(warn.is_some() && end.is_some() && warn < end, "{cues:?}");
    }

    #[test]
    fn segments_close_at_pauses_and_cover_the_speech() {
        let (mut cues, mut e) = run(
            EndpointConfig::default(),
            &[(true, 3500), (false, 600), (true, 3500), (false, 600), (true, 1000)],
        );
        cues.extend(e.finish(AnswerEnd::Key));
        let segs: Vec<(usize, usize)> = cues
            .iter()
            .filter_map(|c| {
                if let Cue::Segment { from, to } = c {
                    Some((*from, *to))
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(segs.len(), 3, "{segs:?}");
        assert!(segs.windows(2).all(|w| w[0].1 == w[1].0), "contiguous: {segs:?}");
        assert_eq!(ends(&cues), vec![AnswerEnd::Key]);
    }

    #[test]
    fn only_silence_gives_no_segment() {
        let (mut cues, mut e) = run(EndpointConfig::default(), &[(false, 4000)]);
        cues.extend(e.finish(AnswerEnd::Key));
        assert!(!cues.iter().any(|c| matches!(c, Cue::Segment { .. })));
        assert!(speech_regions(&silence(3000)).is_empty());
    }

    /// Loud noise of three colours, from a fixed generator: white, pink-ish (one-pole low-pass) and brown
    /// (a leaky random walk).
    fn noise(ms: u64, colour: u8) -> Vec<f32> {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut acc = 0.0f32;
        (0..(ms * 16) as usize)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let white = (state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0;
                match colour {
                    0 => 0.3 * white,
                    1 => {
                        acc = 0.9 * acc + 0.1 * white;
                        acc * 1.5
                    }
                    _ => {
                        acc = 0.995 * acc + 0.02 * white;
                        acc
                    }
                }
            })
            .collect()
    }

    #[test]
    fn noise_louder_than_the_level_ceiling_is_not_speech_but_speech_over_it_is() {
        for colour in 0..3 {
            let n = noise(5000, colour);
            assert!(
                frame_db(&n) > -32.0,
                "colour {colour} is loud enough to pass the level detector"
            );
            let mut e = Endpoint::new(EndpointConfig::default());
            e.push(&n);
            assert!(
                !e.speech().is_empty(),
                "colour {colour}: the level detector alone takes it for speech"
            );
            assert!(speech_regions(&n).is_empty(), "colour {colour}");
            assert!(!has_voice(&n), "colour {colour}");
        }
        let mut clip = silence(1000);
        clip.extend(speech(2000));
        clip.extend(silence(1000));
        assert_eq!(speech_regions(&clip).len(), 1);
        // A short syllable on its own between pauses is judged with the phrase around it.
        let mut clip = speech(1500);
        clip.extend(silence(400));
        clip.extend(speech(70));
        clip.extend(silence(400));
        assert_eq!(speech_regions(&clip).len(), 2);
    }

    #[test]
    fn tones_and_hum_are_not_speech_but_speech_over_noise_is() {
        let tone = |hz: f32, ms: u64, harmonics: bool| -> Vec<f32> {
            (0..(ms * 16) as usize)
                .map(|i| {
                    let t = i as f32 / 16000.0;
                    let w = |f: f32| (t * f * std::f32::consts::TAU).sin();
                    0.3 * (w(hz)
                        + if harmonics {
                            0.5 * w(2.0 * hz) + 0.3 * w(3.0 * hz)
                        } else {
                            0.0
                        })
                })
                .collect()
        };
        for (hz, ms, harmonics) in [
            (200.0, 5000, false),
            (120.0, 5000, true),
            (440.0, 1000, false),
            (440.0, 100, false),
        ] {
            let t = tone(hz, ms, harmonics);
            assert!(!has_voice(&t), "{hz} Hz for {ms} ms");
            assert!(speech_regions(&t).is_empty(), "{hz} Hz for {ms} ms");
        }
        // Speech over loud noise still rises and falls: as loud as the noise (0 dB) it is not steady, and
        // 20 dB over it, it is heard as speech.
        let n = noise(3000, 0);
        let s = speech(3000);
        let over = |db: f32| -> Vec<f32> {
            let gain = 10f32.powf((frame_db(&n) - frame_db(&s) + db) / 20.0);
            s.iter().zip(&n).map(|(s, n)| s * gain + n).collect()
        };
        assert!(!steady(&over(0.0)));
        assert!(has_voice(&over(20.0)));
    }

    #[test]
    fn level_rises_with_speech() {
        let (cues, _) = run(EndpointConfig::default(), &[(false, 1000), (true, 1000)]);
        let levels: Vec<f32> = cues
            .iter()
            .filter_map(|c| if let Cue::Level(l) = c { Some(*l) } else { None })
            .collect();
        assert!(
            levels.first().is_some_and(|l| *l < 0.2) && levels.last().is_some_and(|l| *l > 0.6),
            "{levels:?}"
        );
    }
}
