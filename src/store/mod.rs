//! Sessions on disk: an append-only journal per interview (one checksummed JSON record a line,
//! fsynced before the interview moves on), plus the reports written at the end.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::interview::Record;

const JOURNAL: &str = "journal.jsonl";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("no session {id:?} in {dir}.\n  List sessions with: dataready sessions")]
    NotFound { id: String, dir: String },
    /// The cause is printed here, not chained as a source: `{:#}` printed it twice.
    #[error("cannot use the session folder {path}: {err}")]
    Io { path: String, err: io::Error },
    #[error(
        "session {path} is unreadable at line {line}: {why}.\n  The file is left as it is; the answers before line {line} are intact in it"
    )]
    Corrupt { path: String, line: usize, why: String },
    #[error(
        "session {id} is open in another dataready process.\n  Finish or quit it there first (its answers are saved), then run: dataready resume {id}"
    )]
    Busy { id: String },
    #[error("session {id} changed while it was being resumed (another process wrote to it). Run the command again")]
    Changed { id: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |err| StoreError::Io {
        path: path.display().to_string(),
        err,
    }
}

/// Creates a folder (and its parents) readable only by the user, if missing.
fn private_dir(dir: &Path) -> Result<(), StoreError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err(dir))
}

/// Where sessions live: `<data dir>/sessions/<id>/`.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// What was read back from a journal.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub records: Vec<Record>,
    /// Bytes of a torn final write that were ignored.
    pub torn_bytes: usize,
    /// Length of the valid prefix.
    pub valid_len: u64,
}

impl Store {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            root: data_dir.join("sessions"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Creates a new, private session folder with an empty journal.
    pub fn create(&self, id: &str) -> Result<Journal, StoreError> {
        let dir = self.dir(id);
        private_dir(&dir)?;
        Journal::open(&dir.join(JOURNAL), 0)
    }

    /// Checks up front that sessions can be saved here (the folder is created if missing), so a new
    /// interview fails before its models load rather than at its first save.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        private_dir(&self.root)?;
        let probe = self.root.join(format!(".write-check-{}", std::process::id()));
        File::create(&probe).map_err(io_err(&self.root))?;
        let _ = fs::remove_file(&probe);
        Ok(())
    }

    /// Session ids, newest first.
    pub fn list(&self) -> Result<Vec<String>, StoreError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err(&self.root)(e)),
        };
        let mut ids: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join(JOURNAL).exists())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        ids.sort_by(|a, b| b.cmp(a));
        Ok(ids)
    }

    /// Finds a session by id or unique prefix; `last` means the newest.
    pub fn resolve(&self, id: &str) -> Result<String, StoreError> {
        let ids = self.list()?;
        let not_found = || StoreError::NotFound {
            id: id.to_string(),
            dir: self.root.display().to_string(),
        };
        if id == "last" || id == "latest" {
            return ids.into_iter().next().ok_or_else(not_found);
        }
        if id.contains('/') || id.contains("..") {
            return Err(not_found());
        }
        if ids.iter().any(|i| i == id) {
            return Ok(id.to_string());
        }
        let matches: Vec<&String> = ids.iter().filter(|i| i.starts_with(id)).collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            _ => Err(not_found()),
        }
    }

    pub fn load(&self, id: &str) -> Result<Loaded, StoreError> {
        read_journal(&self.dir(id).join(JOURNAL))
    }

    /// Reopens a session's journal for appending, cutting off a torn final write first.
    pub fn reopen(&self, id: &str, loaded: &Loaded) -> Result<Journal, StoreError> {
        Journal::open(&self.dir(id).join(JOURNAL), loaded.valid_len)
    }

    /// Writes a file in the session folder atomically (temp file, fsync, rename), readable only by the user.
    pub fn write_file(&self, id: &str, name: &str, contents: &[u8]) -> Result<PathBuf, StoreError> {
        let path = self.dir(id).join(name);
        write_private(&path, contents)?;
        Ok(path)
    }
}

pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), StoreError> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    f.write_all(contents).and_then(|_| f.sync_all()).map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))?;
    Ok(())
}

/// The append side of a session journal.
pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Opens the journal for appending, held exclusively (a second process resuming the same session
    /// would interleave its answers with this one's). Bytes past `valid_len` (a torn or damaged last
    /// write) are cut off, after a copy is kept beside the journal.
    fn open(path: &Path, valid_len: u64) -> Result<Self, StoreError> {
        let id = || {
            path.parent()
                .and_then(Path::file_name)
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        };
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .mode(0o600)
            .open(path)
            .map_err(io_err(path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(StoreError::Busy { id: id() }),
            // A filesystem without locks (some network or FUSE mounts) still gets its answers saved.
            Err(fs::TryLockError::Error(e)) => {
                tracing::warn!(path = %path.display(), error = %e, "the session could not be locked; writing without a lock")
            }
        }
        let len = file.metadata().map_err(io_err(path))?.len();
        if len > valid_len {
            // Read again under the lock: another process may have appended since the caller read it.
            let bytes = fs::read(path).map_err(io_err(path))?;
            if parse_journal(path, &bytes)?.valid_len != valid_len {
                return Err(StoreError::Changed { id: id() });
            }
            let kept = path.with_extension("jsonl.dropped");
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(&kept)
                .map_err(io_err(&kept))?;
            f.write_all(&bytes[valid_len as usize..])
                .and_then(|_| f.sync_all())
                .map_err(io_err(&kept))?;
            file.set_len(valid_len).map_err(io_err(path))?;
        }
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one record and waits until it is on disk.
    pub fn append(&mut self, record: &Record) -> Result<(), StoreError> {
        let json = serde_json::to_string(record).expect("records always serialize");
        let line = format!("{:08x} {json}\n", crc32fast::hash(json.as_bytes()));
        self.file.write_all(line.as_bytes()).map_err(io_err(&self.path))?;
        self.file.sync_data().map_err(io_err(&self.path))
    }
}

/// Reads every intact record. A final line that is incomplete or fails its checksum is a torn
/// write from a crash: it is ignored. Damage anywhere else is reported.
pub fn read_journal(path: &Path) -> Result<Loaded, StoreError> {
    parse_journal(path, &fs::read(path).map_err(io_err(path))?)
}

/// A journal's records from its bytes (`path` for messages).
fn parse_journal(path: &Path, bytes: &[u8]) -> Result<Loaded, StoreError> {
    let mut records = Vec::new();
    let mut at = 0usize;
    let mut line_no = 0;
    while at < bytes.len() {
        line_no += 1;
        let end = bytes[at..].iter().position(|&b| b == b'\n').map(|p| at + p);
        let parsed = end.and_then(|end| parse_line(&bytes[at..end]));
        match (end, parsed) {
            (Some(end), Some(Ok(record))) => {
                records.push(record);
                at = end + 1;
            }
            (Some(end), _) if end + 1 < bytes.len() => {
                let why = match parse_line(&bytes[at..end]) {
                    Some(Err(e)) => e,
                    _ => "checksum mismatch".to_string(),
                };
                return Err(StoreError::Corrupt {
                    path: path.display().to_string(),
                    line: line_no,
                    why,
                });
            }
            _ => {
                return Ok(Loaded {
                    records,
                    torn_bytes: bytes.len() - at,
                    valid_len: at as u64,
                });
            }
        }
    }
    Ok(Loaded {
        records,
        torn_bytes: 0,
        valid_len: at as u64,
    })
}

/// `None` for a checksum mismatch (a torn or damaged line); `Some(Err)` for a valid line we cannot read.
fn parse_line(line: &[u8]) -> Option<Result<Record, String>> {
    let text = std::str::from_utf8(line).ok()?;
    let (crc, json) = text.split_once(' ')?;
    let crc = u32::from_str_radix(crc, 16).ok()?;
    if crc32fast::hash(json.as_bytes()) != crc {
        return None;
    }
    Some(serde_json::from_str(json).map_err(|e| format!("unreadable record: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interview::EndReason;

    fn ended(at_ms: u64) -> Record {
        Record::Ended {
            reason: EndReason::EndedEarly,
            at_ms,
        }
    }

    #[test]
    fn torn_final_write_is_dropped_and_cut_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let mut j = store.create("s1").unwrap();
        j.append(&ended(1)).unwrap();
        j.append(&ended(2)).unwrap();
        drop(j);
        let path = store.dir("s1").join(JOURNAL);
        let full = fs::read(&path).unwrap();
        // Every possible torn length of a third record reads back as the first two.
        let mut third = Vec::new();
        {
            let json = serde_json::to_string(&ended(3)).unwrap();
            third.extend(format!("{:08x} {json}\n", crc32fast::hash(json.as_bytes())).bytes());
        }
        for cut in 0..third.len() {
            fs::write(&path, [&full[..], &third[..cut]].concat()).unwrap();
            let loaded = store.load("s1").unwrap();
            assert_eq!(loaded.records, vec![ended(1), ended(2)], "cut at {cut}");
            assert_eq!(loaded.torn_bytes, cut);
        }
        let loaded = store.load("s1").unwrap();
        let mut j = store.reopen("s1", &loaded).unwrap();
        j.append(&ended(4)).unwrap();
        assert_eq!(store.load("s1").unwrap().records, vec![ended(1), ended(2), ended(4)]);
        let kept = fs::read(path.with_extension("jsonl.dropped")).unwrap();
        assert_eq!(
            kept,
            third[..third.len() - 1],
            "what was cut off is kept beside the journal"
        );
    }

    #[test]
    fn a_session_is_written_by_one_process_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let mut first = store.create("s1").unwrap();
        first.append(&ended(1)).unwrap();
        let loaded = store.load("s1").unwrap();
        let err = store.reopen("s1", &loaded).err().expect("a second writer is refused");
        assert!(matches!(err, StoreError::Busy { .. }), "{err}");
        assert!(err.to_string().contains("dataready resume s1"), "{err}");
        // What the first writer appends after the second one read the journal is not cut off.
        first.append(&ended(2)).unwrap();
        drop(first);
        let err = store.reopen("s1", &loaded).err().expect("a stale read is refused");
        assert!(matches!(err, StoreError::Changed { .. }), "{err}");
        assert_eq!(store.load("s1").unwrap().records, vec![ended(1), ended(2)]);
        let fresh = store.load("s1").unwrap();
        store.reopen("s1", &fresh).unwrap().append(&ended(3)).unwrap();
        assert_eq!(store.load("s1").unwrap().records.len(), 3);
    }

    #[test]
    fn damage_in_the_middle_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let mut j = store.create("s1").unwrap();
        for i in 0..3 {
            j.append(&ended(i)).unwrap();
        }
        let path = store.dir("s1").join(JOURNAL);
        let mut bytes = fs::read(&path).unwrap();
        let second = bytes.iter().position(|&b| b == b'\n').unwrap() + 12;
        bytes[second] ^= 0x01;
        fs::write(&path, bytes).unwrap();
        let err = store.load("s1").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        store.create("s1").unwrap();
        let mode = fs::metadata(store.dir("s1").join(JOURNAL))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
        let mode = fs::metadata(store.dir("s1")).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
    }
}
