//! The interviewer's voice with the real Piper voice (installed by scripts/setup-voice.sh): speech
//! that sounds like sentences, playback through rodio landing in a WAV via ALSA's file plugin, the
//! `--tts-out` interview run, and bad input that must fail clearly and quickly.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;

fn models_dir() -> PathBuf {
    std::env::var_os("DATAREADY_MODELS").map_or_else(
        || {
            let home = std::env::var_os("XDG_DATA_HOME").map_or_else(
                || PathBuf::from(std::env::var_os("HOME").unwrap()).join(".local/share"),
                PathBuf::from,
            );
            home.join("dataready/models")
        },
        PathBuf::from,
    )
}

fn joe() -> PathBuf {
    let p = models_dir().join("voices/en_US-joe-medium/en_US-joe-medium.onnx");
    assert!(
        p.is_file(),
        "the voice is not installed ({}); run scripts/setup-voice.sh",
        p.display()
    );
    p
}

/// The binary with its own session and cache folders, and a time limit: nothing here may hang.
fn cmd(tmp: &Path) -> Command {
    let mut c = Command::cargo_bin("dataready").unwrap();
    c.env("DATAREADY_HOME", tmp.join("home"))
        .env("DATAREADY_TTS_CACHE", tmp.join("tts-cache"))
        .env_remove("DATAREADY_VOICE")
        .env_remove("DATAREADY_BANK")
        .timeout(Duration::from_secs(300));
    c
}

fn ok(c: &mut Command) -> (String, String) {
    let out = c.output().unwrap();
    let (so, se) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "failed ({:?}): {se}", out.status);
    (so, se)
}

fn fails(c: &mut Command) -> String {
    let t = Instant::now();
    let out = c.output().unwrap();
    let se = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a clean failure, got {:?}: {se}",
        out.status
    );
    assert!(!se.contains("panicked"), "{se}");
    assert!(t.elapsed() < Duration::from_secs(60), "took {:?}", t.elapsed());
    se
}

/// Mono samples (channels averaged) and the sample rate.
fn read_wav(path: &Path) -> (Vec<f32>, u32) {
    let mut r = hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = r.spec();
    let ch = spec.channels as usize;
    let raw: Vec<f32> = match spec.sample_format {
        // A device file is read up to what was written, whatever its header promised.
        hound::SampleFormat::Int => r
            .samples::<i16>()
            .map_while(Result::ok)
            .map(|s| f32::from(s) / 32768.0)
            .collect(),
        hound::SampleFormat::Float => r.samples::<f32>().map_while(Result::ok).collect(),
    };
    (
        raw.chunks(ch).map(|c| c.iter().sum::<f32>() / ch as f32).collect(),
        spec.sample_rate,
    )
}

fn rms(s: &[f32]) -> f32 {
    (s.iter().map(|x| x * x).sum::<f32>() / s.len().max(1) as f32).sqrt()
}

/// Silent stretches (20 ms frames under an RMS threshold) at least `min` long, inside the speech.
fn pauses(s: &[f32], rate: u32, min: Duration) -> Vec<Duration> {
    let frame = (rate / 50) as usize;
    let loud: Vec<bool> = s.chunks(frame).map(|f| rms(f) > 0.02).collect();
    let (Some(first), Some(last)) = (loud.iter().position(|&l| l), loud.iter().rposition(|&l| l)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut run = 0;
    for &l in &loud[first..=last] {
        if l {
            if run > 0 && Duration::from_millis(20 * run) >= min {
                out.push(Duration::from_millis(20 * run));
            }
            run = 0;
        } else {
            run += 1;
        }
    }
    out
}

/// The span from the first to the last audible sample.
fn speech_span(s: &[f32], rate: u32) -> Duration {
    let first = s.iter().position(|x| x.abs() > 0.01).unwrap_or(0);
    let last = s.iter().rposition(|x| x.abs() > 0.01).unwrap_or(0);
    Duration::from_secs_f64(last.saturating_sub(first) as f64 / f64::from(rate))
}

const QUESTIONS: &str = "You have an append-only table of customer updates, with several rows per customer. \
    How would you write a query that returns only the latest version of each customer? \
    Walk me through what happens when you run a Spark job. What do the driver and the executors do?";

#[test]
fn questions_come_out_as_speech_with_sentence_pauses() {
    joe();
    let tmp = tempfile::tempdir().unwrap();
    let wav = tmp.path().join("q.wav");
    ok(cmd(tmp.path())
        .args(["say", "--no-cache", "--out"])
        .arg(&wav)
        .arg(QUESTIONS));
    let (s, rate) = read_wav(&wav);
    assert_eq!(rate, 22050);
    let secs = s.len() as f64 / f64::from(rate);
    let words = QUESTIONS.split_whitespace().count() as f64;
    // Conversational English is 2-3.5 words a second; run-together or truncated speech is not.
    assert!(
        (words / 3.5..words / 1.8).contains(&secs),
        "{secs:.1} s for {words} words"
    );
    assert!(rms(&s) > 0.05, "too quiet: rms {}", rms(&s));
    // Four sentences: at least three real pauses between them.
    let long = pauses(&s, rate, Duration::from_millis(300));
    assert!(long.len() >= 3, "sentence pauses: {long:?}");
}

#[test]
fn commas_are_heard_as_pauses() {
    // piper-rs 0.2.0 dropped clause punctuation; the fix puts it back, so commas must make pauses.
    joe();
    let tmp = tempfile::tempdir().unwrap();
    let (plain, commas) = (tmp.path().join("plain.wav"), tmp.path().join("commas.wav"));
    let text = "First we load the raw files then we check the counts and then we publish the table";
    let with = "First, we load the raw files, then we check the counts, and then we publish the table";
    ok(cmd(tmp.path()).args(["say", "--out"]).arg(&plain).arg(text));
    ok(cmd(tmp.path()).args(["say", "--out"]).arg(&commas).arg(with));
    let (a, rate) = read_wav(&plain);
    let (b, _) = read_wav(&commas);
    let min = Duration::from_millis(100);
    let (pa, pb) = (pauses(&a, rate, min), pauses(&b, rate, min));
    assert!(pb.len() >= 3, "comma pauses: {pb:?}");
    let total = |p: &[Duration]| p.iter().sum::<Duration>();
    assert!(
        total(&pb) > total(&pa) + Duration::from_millis(300),
        "with commas {pb:?}, without {pa:?}"
    );
}

#[test]
fn playback_goes_through_rodio_to_the_device() {
    joe();
    let tmp = tempfile::tempdir().unwrap();
    let played = tmp.path().join("played.wav");
    let alsa = tmp.path().join("xdg");
    support::speaker_to_file(&alsa, &played);
    let text = "Thanks, that helps. How would you make that query fast on a billion rows?";
    let reference = tmp.path().join("ref.wav");
    ok(cmd(tmp.path()).args(["say", "--out"]).arg(&reference).arg(text));
    let (_, se) = ok(cmd(tmp.path()).env("XDG_CONFIG_HOME", &alsa).args(["say", text]));
    assert!(se.contains("spoke") && se.contains("first audio after"), "{se}");
    let (r, rr) = read_wav(&reference);
    let (p, pr) = read_wav(&played);
    let (want, got) = (speech_span(&r, rr), speech_span(&p, pr));
    let diff = want.as_secs_f64() - got.as_secs_f64();
    assert!(diff.abs() < 0.15, "played {got:?} of speech, synthesized {want:?}");
    assert!(rms(&p) > 0.0 && !pauses(&p, pr, Duration::from_millis(300)).is_empty());
}

#[test]
fn scripted_interview_speaks_every_line_to_files_and_speaker() {
    joe();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("tts");
    let played = tmp.path().join("played.wav");
    let alsa = tmp.path().join("xdg");
    support::speaker_to_file(&alsa, &played);
    let script = tmp.path().join("answers.csv");
    std::fs::write(
        &script,
        "answer\nIt depends on the data volume; I would measure first.\nI would partition by date.\nNo idea.\n",
    )
    .unwrap();
    let (so, _) = ok(cmd(tmp.path()).env("XDG_CONFIG_HOME", &alsa).args([
        "interview",
        "--role",
        "mid",
        "--seed",
        "7",
        "--questions",
        "3",
        "--json",
        "--speaker",
        "default",
        "--tts-out",
        out.to_str().unwrap(),
        "--script",
        script.to_str().unwrap(),
    ]));
    let summary: serde_json::Value = serde_json::from_str(so.trim()).unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(summary["report_json"].as_str().unwrap()).unwrap()).unwrap();
    let turns = report["turns"].as_array().unwrap();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), turns.len(), "{files:?}");
    let mut last = 0.0;
    for (f, t) in files.iter().zip(turns) {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.contains(t["question_id"].as_str().unwrap()), "{name}");
        let (s, rate) = read_wav(f);
        assert!(s.len() as f64 / f64::from(rate) > 1.0 && rms(&s) > 0.05, "{name}");
        last = speech_span(&s, rate).as_secs_f64();
    }
    // The lines were also played on the (file-backed) speaker; the device is reopened after a pause
    // and each open truncates the file, so at least the last line is there.
    let (p, pr) = read_wav(&played);
    let played_secs = p.iter().filter(|x| x.abs() > 0.01).count() as f64 / f64::from(pr);
    assert!(
        played_secs > last * 0.5,
        "played {played_secs:.1} s of sound, last line {last:.1} s"
    );
}

#[test]
fn no_output_device_is_a_notice_and_the_interview_goes_on() {
    joe();
    let tmp = tempfile::tempdir().unwrap();
    let xdg = tmp.path().join("xdg");
    std::fs::create_dir_all(xdg.join("alsa")).unwrap();
    std::fs::write(xdg.join("alsa/asoundrc"), "pcm.!default { type hw card 57 }\n").unwrap();
    let out = tmp.path().join("tts");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/weak.csv");
    let (_, se) = ok(cmd(tmp.path()).env("XDG_CONFIG_HOME", &xdg).args([
        "interview",
        "--questions",
        "2",
        "--seed",
        "1",
        "--speaker",
        "default",
        "--tts-out",
        out.to_str().unwrap(),
        "--script",
        script.to_str().unwrap(),
    ]));
    assert!(se.contains("no audio output") && se.contains("text only"), "{se}");
    assert!(std::fs::read_dir(&out).unwrap().count() >= 2);
    let e = fails(cmd(tmp.path()).env("XDG_CONFIG_HOME", &xdg).args(["say", "hello"]));
    assert!(e.contains("no audio output") && e.contains("--out FILE.wav"), "{e}");
}

#[test]
fn cached_lines_start_at_once() {
    joe();
    let tmp = tempfile::tempdir().unwrap();
    let played = tmp.path().join("played.wav");
    let alsa = tmp.path().join("xdg");
    support::speaker_to_file(&alsa, &played);
    let text = "Tell me about a pipeline you built. What broke first?";
    ok(cmd(tmp.path()).args(["say", "--out", tmp.path().join("warm.wav").to_str().unwrap(), text]));
    let (_, se) = ok(cmd(tmp.path()).env("XDG_CONFIG_HOME", &alsa).args(["say", text]));
    let secs: f64 = se
        .split("first audio after ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{se}"));
    assert!(secs <= 0.15, "cached first audio after {secs} s");
}

#[test]
fn bad_voices_fail_clearly() {
    let model = joe();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let e = fails(cmd(t).args(["say", "--voice", "en_GB-nobody-low", "--out", "x.wav", "hi"]));
    assert!(e.contains("no voice named") && e.contains("en_US-joe-medium"), "{e}");
    let e = fails(cmd(t).args(["say", "--voice", "/nonexistent/v.onnx", "--out", "x.wav", "hi"]));
    assert!(e.contains("no such voice model"), "{e}");

    let config = std::fs::read_to_string(model.with_extension("onnx.json")).unwrap();
    // A model without its config beside it.
    let lone = t.join("lone.onnx");
    std::fs::copy(&model, &lone).unwrap();
    let e = fails(cmd(t).args(["say", "--voice", lone.to_str().unwrap(), "--out", "x.wav", "hi"]));
    assert!(e.contains("config is missing"), "{e}");
    // A corrupt model (a truncated download).
    let bytes = std::fs::read(&model).unwrap();
    let corrupt = t.join("corrupt.onnx");
    std::fs::write(&corrupt, &bytes[..bytes.len() / 3]).unwrap();
    std::fs::write(t.join("corrupt.onnx.json"), &config).unwrap();
    let e = fails(cmd(t).args(["say", "--voice", corrupt.to_str().unwrap(), "--out", "x.wav", "hi"]));
    assert!(e.contains("not a usable Piper voice model"), "{e}");
    // A config that is not one.
    let garbled = t.join("garbled.onnx");
    std::os::unix::fs::symlink(&model, &garbled).unwrap();
    std::fs::write(t.join("garbled.onnx.json"), "{\"audio\": 5").unwrap();
    let e = fails(cmd(t).args(["say", "--voice", garbled.to_str().unwrap(), "--out", "x.wav", "hi"]));
    assert!(e.contains("not a usable Piper voice config"), "{e}");
    // A config from a multi-speaker voice next to a single-speaker model.
    let other = t.join("other.onnx");
    std::os::unix::fs::symlink(&model, &other).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&config).unwrap();
    v["num_speakers"] = 4.into();
    std::fs::write(t.join("other.onnx.json"), v.to_string()).unwrap();
    let e = fails(cmd(t).args(["say", "--voice", other.to_str().unwrap(), "--out", "x.wav", "hi"]));
    assert!(e.contains("does not match the model"), "{e}");
    // A phoneme map with ids the model has never seen.
    let shifted = t.join("shifted.onnx");
    std::os::unix::fs::symlink(&model, &shifted).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&config).unwrap();
    for ids in v["phoneme_id_map"].as_object_mut().unwrap().values_mut() {
        *ids = serde_json::json!([ids[0].as_i64().unwrap() + 100_000]);
    }
    std::fs::write(t.join("shifted.onnx.json"), v.to_string()).unwrap();
    let e = fails(cmd(t).args(["say", "--voice", shifted.to_str().unwrap(), "--out", "x.wav", "hi"]));
    assert!(e.contains("does not match the model"), "{e}");
}

#[test]
fn missing_or_wrong_onnx_runtime_is_an_error_not_a_hang() {
    joe();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    let say = |c: &mut Command| {
        c.args(["say", "--out", "x.wav", "hello"])
            .timeout(Duration::from_secs(30));
    };
    let mut c = cmd(t);
    say(c.env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so.1.24.2"));
    let e = fails(&mut c);
    assert!(
        e.contains("ONNX Runtime is not installed") && e.contains("setup-voice.sh"),
        "{e}"
    );
    let text = t.join("libonnxruntime.so");
    std::fs::write(&text, "not a library").unwrap();
    let mut c = cmd(t);
    say(c.env("ORT_DYLIB_PATH", &text));
    let e = fails(&mut c);
    assert!(e.contains("not a shared library"), "{e}");
    // A real shared library that is not ONNX Runtime.
    let other = [
        "/usr/lib/x86_64-linux-gnu/libsonic.so.0",
        "/usr/lib/aarch64-linux-gnu/libsonic.so.0",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .expect("libsonic is installed by setup-voice.sh");
    let mut c = cmd(t);
    say(c.env("ORT_DYLIB_PATH", other));
    let e = fails(&mut c);
    assert!(e.contains("not an ONNX Runtime library"), "{e}");
    // The interview asked for speech: same error, before any session is created.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/weak.csv");
    let e = fails(
        cmd(t)
            .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")
            .args(["interview", "--voice", "en_US-joe-medium", "--script"])
            .arg(&script),
    );
    assert!(e.contains("ONNX Runtime is not installed"), "{e}");
}

#[test]
fn awkward_text_is_spoken_or_refused_without_panics() {
    joe();
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    for empty in ["", "   ", "...?!", "😀🚀"] {
        let e = fails(cmd(t).args(["say", "--out", "x.wav", empty]));
        assert!(e.contains("nothing to say"), "{empty:?}: {e}");
    }
    let awkward = [
        "SELECT id, max(ts) FROM events WHERE kind <> 'x' GROUP BY 1; -- latest?",
        "fn main() { let v: Vec<u8> = vec![1, 2]; println!(\"{:?}\", v.iter().sum::<u8>()); }",
        "Great answer 👍🏽! Can you go deeper 🚀 on the shuffle? ありがとう. Ñandú €5 ≥ 3 ∑",
        "s3://bucket/path/a.parquet at 12:30, about 1,000 files of 3.5 GB each.",
    ];
    for (i, text) in awkward.iter().enumerate() {
        let wav = t.join(format!("a{i}.wav"));
        ok(cmd(t).args(["say", "--out"]).arg(&wav).arg(text));
        let (s, rate) = read_wav(&wav);
        assert!(s.len() as f64 / f64::from(rate) > 1.0, "{text}");
    }
    // 5,000 characters (at double speed to keep the test short): spoken whole, in bounded pieces.
    let long: String = "We would partition the table by event date, cluster it by customer id, and compact small \
        files nightly so that readers scan less data. "
        .repeat(40)
        .chars()
        .take(5_000)
        .collect();
    let wav = t.join("long.wav");
    ok(cmd(t).args(["say", "--rate", "2.0", "--out"]).arg(&wav).arg(&long));
    let (s, rate) = read_wav(&wav);
    let secs = s.len() as f64 / f64::from(rate);
    assert!(secs > 100.0, "5,000 characters in {secs:.0} s");
    let out = cmd(t).args(["say", "--rate", "9", "hi"]).output().unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code() == Some(2) && e.contains("outside 0.5"), "{e}");
}

#[test]
fn voices_list_and_install_use_the_manifest() {
    joe();
    let tmp = tempfile::tempdir().unwrap();
    let (so, _) = ok(cmd(tmp.path()).args(["voices", "list"]));
    assert!(
        so.contains("en_US-joe-medium") && so.contains("installed") && so.contains("CC0"),
        "{so}"
    );
    assert!(so.contains("ONNX Runtime: /"), "{so}");
    // Already installed and verified: nothing is downloaded.
    let (so, _) = ok(cmd(tmp.path()).args(["voices", "install"]));
    assert!(so.contains("installed and verified"), "{so}");
    let e = fails(cmd(tmp.path()).args(["voices", "install", "nobody"]));
    assert!(e.contains("no voice named"), "{e}");
    // An edited manifest is validated with file:line.
    let bad = tmp.path().join("voices.toml");
    std::fs::write(&bad, "[[voice]]\nname = \"x\"\nlicense = 3\n").unwrap();
    let e = fails(cmd(tmp.path()).env("DATAREADY_VOICES", &bad).args(["voices", "list"]));
    assert!(e.contains("voices.toml:"), "{e}");
}
