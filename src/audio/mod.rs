//! Audio below listening and transcription: WAV files, resampling to 16 kHz, and where speech is.

pub mod endpoint;
pub mod wav;
