//! Speech recognition speed: each clip transcribed whole (for the side-by-side with faster-whisper in
//! scripts/bench-listening), and end of answer → final transcript for a 60 s answer played in real time.
//! Env: BENCH_CLIPS (folder of NN.wav), BENCH_RUNS (latency runs, default 3), BENCH_SKIP_LATENCY=1.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use dataready::listen::{self, AnswerEnd, ClipSource, ListenConfig};
use dataready::transcribe::{self, Pair, Transcriber};

fn main() {
    let Ok(dir) = std::env::var("BENCH_CLIPS") else {
        eprintln!("BENCH_CLIPS is not set: run scripts/bench-listening, which makes the clips");
        return;
    };
    let mut clips: Vec<_> = std::fs::read_dir(&dir)
        .expect("BENCH_CLIPS folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wav"))
        .collect();
    clips.sort();
    // DATAREADY_WHISPER_MODEL names one model; unset, base and tiny.en hear as a pair when both are installed.
    let mut whisper = Pair::load(None).unwrap_or_else(|e| panic!("{e}"));
    let model = whisper.model_name().to_string();
    let audio: Vec<Vec<f32>> = clips
        .iter()
        .map(|p| dataready::audio::wav::read(p).unwrap_or_else(|e| panic!("{e}")).samples)
        .collect();
    // No prompt (as the anchors), the bank-wide lexicon for the correction: no question is known here.
    let bank = dataready::bank::Bank::builtin().expect("bank");
    let vocabulary = transcribe::Vocabulary {
        prompt: String::new(),
        ..transcribe::Vocabulary::for_skill(&bank, None)
    };
    // Warm-up: the first run pays for allocations (and the lexicon's phonemes).
    let _ = transcribe::transcribe_clip(&mut whisper, &audio[0], &vocabulary);
    for (path, samples) in clips.iter().zip(&audio) {
        let t = Instant::now();
        let heard = transcribe::transcribe_clip(&mut whisper, samples, &vocabulary).expect("transcribe");
        println!(
            "{}",
            serde_json::json!({
                "clip": path.display().to_string(),
                "ms": t.elapsed().as_millis() as u64,
                "text": heard.text,
                "raw": heard.raw_text,
                "correct_ms": heard.correct_ms,
                "model": model,
            })
        );
    }
    if std::env::var("BENCH_SKIP_LATENCY").is_ok_and(|v| v == "1") {
        return;
    }

    // A 60 s answer: the clips in turn with thinking pauses of 0.8 s between them.
    let mut answer = Vec::new();
    for s in audio.iter().cycle() {
        if answer.len() >= 60 * 16_000 {
            break;
        }
        answer.extend_from_slice(s);
        answer.extend(std::iter::repeat_n(0.0, 16_000 * 8 / 10));
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let prompt = transcribe::prompt_for("data engineering", "pipelines, Spark, Kafka, Airflow and SQL.");
    let mut t = whisper;
    for ending in ["key", "silence"] {
        let mut finals = Vec::new();
        for _ in 0..runs {
            let mut samples = answer.clone();
            if ending == "silence" {
                samples.extend(std::iter::repeat_n(0.0, 16_000 * 3));
            }
            let mut source = ClipSource::new(samples, true);
            let cfg = ListenConfig {
                endpoint: Default::default(),
                vocabulary: transcribe::Vocabulary {
                    prompt: prompt.clone(),
                    boost: Vec::new(),
                    lexicon: vocabulary.lexicon.clone(),
                },
                keep_audio: None,
            };
            let (heard, back) =
                listen::hear_answer(&mut source, t, &cfg, &AtomicBool::new(false), &mut |_| {}).expect("listen");
            t = back;
            assert_eq!(
                heard.reason,
                if ending == "key" {
                    AnswerEnd::Key
                } else {
                    AnswerEnd::Silence
                }
            );
            finals.push(heard.final_ms);
            println!(
                "{}",
                serde_json::json!({
                    "latency_run": ending,
                    "audio_ms": heard.audio_ms,
                    "final_ms": heard.final_ms,
                    "segments": heard.segments.len(),
                    "text": heard.text,
                })
            );
        }
        finals.sort_unstable();
        println!(
            "{}",
            serde_json::json!({"latency": ending, "p50_ms": finals[finals.len() / 2], "runs": finals})
        );
    }
}
