//! DataReady: voice mock interviews for data engineers. The pure interview core lives in
//! [`core`]; everything else is an adapter that feeds it events or carries out its effects.

pub mod bank;
pub mod core;
pub mod embed;
pub mod paths;
pub mod text;
