//! autochase: uploads every finished Rocket League replay to ballchasing.com. The typed API
//! client it uses is the `ballchasing-api` crate, re-exported as `autochase::api`.

pub use ballchasing_api as api;
pub mod background;
pub mod cli;
pub mod config;
#[cfg(windows)]
pub mod console;
pub mod daemon;
pub mod dates;
pub mod desktop;
pub mod discover;
pub mod engine;
pub mod fate;
pub mod filter;
pub mod fsutil;
pub mod groups;
pub mod inbox;
#[cfg(windows)]
pub mod job;
pub mod memory;
pub mod platform;
pub mod readiness;
pub mod reload;
pub mod replay;
pub mod service;
pub mod signals;
pub mod state;
pub mod title;
pub mod watcher;
