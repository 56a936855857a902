//! autochase: uploads every finished Rocket League replay to ballchasing.com, and
//! `autochase::api` re-exports the `ballchasing-api` client crate.

pub use ballchasing_api as api;
pub mod config;
pub mod core;
pub mod daemon;
pub mod discover;
pub mod engine;
pub mod groups;
pub mod inbox;
pub mod notify;
pub mod reload;
pub mod replay;
pub mod service;
pub mod state;
pub mod title;
pub mod watch;
