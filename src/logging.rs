//! Logs go to `<data dir>/logs/dataready.log`, never to the screen (the room owns the terminal).
//! Level from `DATAREADY_LOG` (error, warn, info, debug, trace; default info).

use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

static START: OnceLock<Instant> = OnceLock::new();

/// Milliseconds since `init` ran (process start, near enough), for startup timing in the log.
pub fn since_start_ms() -> f64 {
    START.get().map_or(0.0, |s| s.elapsed().as_secs_f64() * 1000.0)
}

pub fn init(data_dir: &Path) {
    let _ = START.set(Instant::now());
    let dir = data_dir.join("logs");
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("dataready.log"))
    else {
        return;
    };
    let level = std::env::var("DATAREADY_LOG")
        .ok()
        .and_then(|l| l.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_max_level(level)
        .try_init();
}
