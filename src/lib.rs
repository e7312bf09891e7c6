//! DataReady: voice mock interviews for data engineers. The pure interview core lives in
//! [`interview`]; everything else is an adapter that feeds it events or carries out its effects.

pub mod assemble;
pub mod audio;
pub mod bank;
pub mod doctor;
pub mod embed;
pub mod grade;
pub mod history;
pub mod interview;
pub mod listen;
pub mod llm;
pub mod logging;
pub mod notice;
pub mod paths;
pub mod profile;
pub mod prompt;
pub mod report;
pub mod review;
pub mod script;
pub mod session;
pub mod store;
pub mod text;
pub mod transcribe;
pub mod tui;
pub mod voice;
