//! Finding and loading ONNX Runtime, checked before ort is touched: a missing or wrong library must
//! be a clear error, never the wait forever that ort falls into when its own lazy load fails.

use std::path::PathBuf;
use std::sync::OnceLock;

use super::VoiceError;

/// The version the setup installs (from the PyPI `onnxruntime` wheel); ort 2.0.0-rc.12 needs ≥ 1.24.
pub const ORT_VERSION: &str = "1.24.2";

/// The first load's outcome, kept for the life of the process.
#[derive(Clone)]
enum Loaded {
    Ok(PathBuf),
    Missing(String),
    Bad(PathBuf, String),
}

static LOADED: OnceLock<Loaded> = OnceLock::new();

/// Where to look, in order: `ORT_DYLIB_PATH`, then `<models>/onnxruntime/`.
pub fn candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        out.push(PathBuf::from(p));
    }
    let dir = crate::paths::models_dir().join("onnxruntime");
    out.push(dir.join(format!("libonnxruntime.so.{ORT_VERSION}")));
    if let Ok(entries) = std::fs::read_dir(&dir) {
        let mut others: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libonnxruntime.so"))
            })
            .collect();
        others.sort();
        out.extend(others);
    }
    out
}

/// Loads ONNX Runtime once per process and commits ort's environment. Every later call returns the
/// first outcome, so a failed load is never retried through ort's own (hanging) path.
pub fn ensure() -> Result<PathBuf, VoiceError> {
    let loaded = LOADED.get_or_init(|| {
        let candidates = candidates();
        let explicit = std::env::var_os("ORT_DYLIB_PATH").is_some_and(|p| !p.is_empty());
        // An explicit ORT_DYLIB_PATH that is wrong is reported, not silently replaced.
        let found = if explicit {
            Some(candidates[0].clone()).filter(|p| p.is_file())
        } else {
            candidates.iter().find(|p| p.is_file()).cloned()
        };
        let Some(path) = found else {
            let shown = if explicit { &candidates[..1] } else { &candidates[..] };
            let searched = shown
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ");
            return Loaded::Missing(searched);
        };
        match load(&path) {
            Ok(()) => Loaded::Ok(path),
            Err(reason) => Loaded::Bad(path, reason),
        }
    });
    match loaded.clone() {
        Loaded::Ok(p) => Ok(p),
        Loaded::Missing(searched) => Err(VoiceError::RuntimeMissing { searched }),
        Loaded::Bad(path, reason) => Err(VoiceError::RuntimeBad { path, reason }),
    }
}

fn load(path: &std::path::Path) -> Result<(), String> {
    check(path)?;
    let builder = ort::init_from(path).map_err(|e| e.to_string())?;
    builder.with_name("dataready").commit();
    Ok(())
}

/// The ONNX Runtime C API's entry table (onnxruntime_c_api.h: `OrtApiBase`).
#[repr(C)]
struct OrtApiBase {
    get_api: unsafe extern "C" fn(u32) -> *const std::ffi::c_void,
    get_version_string: unsafe extern "C" fn() -> *const std::ffi::c_char,
}

/// Opens the library ourselves first: ort reports a bad library by building an error that needs the
/// library, and deadlocks on its own load lock instead.
fn check(path: &std::path::Path) -> Result<(), String> {
    // ELF magic first: a truncated or mistaken file gives a clear message.
    let mut head = [0u8; 4];
    use std::io::Read;
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .map_err(|e| format!("cannot read it ({e})"))?;
    if &head != b"\x7fELF" {
        return Err("it is not a shared library".into());
    }
    // SAFETY: loading a library runs its initializers; this is the library the user pointed us at.
    let lib = unsafe { libloading::Library::new(path) }.map_err(|e| format!("cannot load it ({e})"))?;
    // SAFETY: the symbol's type is the C API's `const OrtApiBase* OrtGetApiBase(void)`.
    let get_base = unsafe { lib.get::<unsafe extern "C" fn() -> *const OrtApiBase>(b"OrtGetApiBase") }
        .map_err(|_| "it has no OrtGetApiBase: not an ONNX Runtime library".to_string())?;
    // SAFETY: a real ONNX Runtime returns a static table; checked for null.
    let base = unsafe { get_base() };
    if base.is_null() {
        return Err("OrtGetApiBase returned nothing".into());
    }
    // SAFETY: `base` points at the library's static OrtApiBase; the version string is static too.
    let version = unsafe { std::ffi::CStr::from_ptr(((*base).get_version_string)()) }
        .to_string_lossy()
        .into_owned();
    let minor: u32 = version.split('.').nth(1).and_then(|m| m.parse().ok()).unwrap_or(0);
    if minor < ort::MINOR_VERSION {
        return Err(format!(
            "it is version {version}, and 1.{}.0 or later is needed",
            ort::MINOR_VERSION
        ));
    }
    // SAFETY: as above; GetApi returns null for API versions the library does not provide.
    if unsafe { ((*base).get_api)(ort::MINOR_VERSION) }.is_null() {
        return Err(format!(
            "version {version} does not provide API version {}",
            ort::MINOR_VERSION
        ));
    }
    // Kept loaded: ort opens the same file next, and unloading ONNX Runtime is not safe.
    std::mem::forget(lib);
    Ok(())
}
