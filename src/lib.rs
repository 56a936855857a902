//! autochase: uploads every finished Rocket League replay to ballchasing.com, and
//! `autochase::api`, a typed client for the whole ballchasing.com API.

pub mod api;
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
