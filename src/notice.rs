//! What the program tells the user beside the interview itself (a voice that can't load, a dropped
//! torn write): one type, shown by whichever front end is running (the plain prompt, the room).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Something the user may want to know; the run goes on as before.
    Note(String),
    /// Something went wrong in part; the run goes on without it.
    Warning(String),
    /// Plain information (a summary line), shown as it is.
    Info(String),
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Note(s) => write!(f, "note: {s}"),
            Notice::Warning(s) => write!(f, "warning: {s}"),
            Notice::Info(s) => f.write_str(s),
        }
    }
}
