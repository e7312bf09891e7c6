//! Where DataReady keeps sessions, models and caches (XDG by default, overridable).

use std::path::PathBuf;

/// Sessions and reports: `--data-dir`, else `DATAREADY_HOME`, else `$XDG_DATA_HOME/dataready`.
pub fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    // Set but empty (`DATAREADY_HOME=`) is unset, not the current folder.
    flag.or_else(|| {
        std::env::var_os("DATAREADY_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
    .unwrap_or_else(|| xdg_data().join("dataready"))
}

/// Installed models: `DATAREADY_MODELS`, else `$XDG_DATA_HOME/dataready/models`
/// (independent of `DATAREADY_HOME`, so throwaway session folders share one model install).
pub fn models_dir() -> PathBuf {
    std::env::var_os("DATAREADY_MODELS")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| xdg_data().join("dataready").join("models"))
}

pub fn embedder_dir() -> PathBuf {
    models_dir().join("all-MiniLM-L6-v2")
}

/// Derived data that can be rebuilt (bank embeddings): `DATAREADY_CACHE`, else `$XDG_CACHE_HOME/dataready`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("DATAREADY_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            directories::BaseDirs::new()
                .map(|d| d.cache_dir().to_path_buf())
                .unwrap_or_else(|| PathBuf::from(".cache"))
                .join("dataready")
        })
}

fn xdg_data() -> PathBuf {
    directories::BaseDirs::new()
        .map(|d| d.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from(".local/share"))
}
