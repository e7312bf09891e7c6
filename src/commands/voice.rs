//! `dataready say` and `dataready voices install|list`.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

use dataready::voice::install::{self, Installed};
use dataready::voice::{Manifest, Voice, VoiceError, VoiceOptions, resolve_voice, runtime, split_sentences};

use super::flags::VoiceFlags;
use super::to_stderr;

#[derive(Args, Debug)]
pub struct SayArgs {
    /// The text to speak ("-" reads it from standard input)
    pub text: String,
    /// Write the speech to this WAV file instead of playing it
    #[arg(long, value_name = "FILE.wav")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub voice: VoiceFlags,
    /// Neither read nor fill the sentence cache
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Subcommand, Debug)]
pub enum VoicesAction {
    /// Install a voice from the manifest (checked against its sha256) [default: the default voice]
    Install {
        /// The voice's name (`dataready voices` lists them)
        name: Option<String>,
        /// Download and unpack again even if installed
        #[arg(long)]
        force: bool,
    },
    /// The known voices, which are installed, ONNX Runtime and the output devices
    List,
}

pub fn say(a: SayArgs) -> anyhow::Result<ExitCode> {
    let text = if a.text == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read standard input")?;
        s
    } else {
        a.text.clone()
    };
    let sentences = split_sentences(&text).len();
    if sentences == 0 {
        bail!("nothing to say: the text has no words");
    }
    let files = resolve_voice(a.voice.voice.as_deref())?;
    let options = VoiceOptions {
        rate: a.voice.rate,
        speaker: a.voice.speaker.clone(),
        cache_dir: if a.no_cache {
            None
        } else {
            VoiceOptions::default().cache_dir
        },
        ..VoiceOptions::default()
    };
    let t = Instant::now();
    match &a.out {
        Some(out) => {
            let voice = Voice::open_silent(&files, &options)?;
            let loaded = t.elapsed();
            let audio = voice.synthesize(&text)?;
            voice.write_wav(out, &audio)?;
            eprintln!(
                "wrote {} ({:.1} s of speech, {sentences} sentence(s); voice loaded in {:.2} s, synthesized in {:.2} s)",
                out.display(),
                audio.len() as f64 / f64::from(voice.sample_rate),
                loaded.as_secs_f64(),
                (t.elapsed() - loaded).as_secs_f64()
            );
        }
        None => {
            let voice = match Voice::open(&files, &options) {
                Err(VoiceError::NoOutput(why)) => {
                    bail!("no audio output ({why}); write the speech to a file instead with --out FILE.wav")
                }
                other => other?,
            };
            let u = voice.speak(&text);
            u.wait();
            for e in u.errors() {
                eprintln!("warning: could not speak part of the text: {e}");
            }
            let audio = u.audio();
            eprintln!(
                "spoke {:.1} s on {} (first audio after {:.3} s)",
                audio.len() as f64 / f64::from(voice.sample_rate),
                voice.device().unwrap_or("?"),
                u.first_audio().unwrap_or_default().as_secs_f64()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn voices(action: VoicesAction) -> anyhow::Result<ExitCode> {
    let manifest = Manifest::load()?;
    match action {
        VoicesAction::Install { name, force } => {
            let entry = match &name {
                Some(n) => manifest.get(n).ok_or_else(|| VoiceError::UnknownVoice {
                    given: n.clone(),
                    known: manifest.names(),
                })?,
                None => manifest.default_voice().context("the voices manifest lists no voice")?,
            };
            match install::install(entry, force, &mut to_stderr)? {
                Installed::Already(dir) => println!("{}: installed and verified ({})", entry.name, dir.display()),
                Installed::Now(dir) => println!("{}: installed and verified ({})", entry.name, dir.display()),
            }
        }
        VoicesAction::List => {
            println!("Voices (install with: dataready voices install NAME)");
            for v in &manifest.voices {
                let state = if install::is_installed(v) {
                    format!("installed   {}", install::voice_dir(&v.name).display())
                } else {
                    "not installed".to_string()
                };
                println!(
                    "  {}{:24} {} · {} Hz · {} · {}\n  {:25} {state}",
                    if v.default { "*" } else { " " },
                    v.name,
                    v.description,
                    v.sample_rate,
                    v.license,
                    v.language,
                    ""
                );
            }
            if let Ok(entries) = std::fs::read_dir(dataready::voice::voices_dir()) {
                for e in entries.flatten() {
                    let n = e.file_name().to_string_lossy().into_owned();
                    if !n.starts_with('.') && manifest.get(&n).is_none() {
                        println!("   {n:24} (not in the manifest)  {}", e.path().display());
                    }
                }
            }
            let candidates = runtime::candidates();
            match candidates.iter().find(|p| p.is_file()) {
                Some(p) => println!("ONNX Runtime: {}", p.display()),
                None => println!("ONNX Runtime: not installed (run scripts/setup-voice.sh)"),
            }
            let devices = dataready::voice::output_devices();
            if devices.is_empty() {
                println!("Output devices: none found (the interview will show questions as text)");
            } else {
                println!("Output devices (--speaker NAME): {}", devices.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
