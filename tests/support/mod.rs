//! Helpers shared by the integration tests; each test binary uses some of them.
#![allow(dead_code)]

pub mod openai_server;
pub mod tmux;
