//! autochase: uploads every finished Rocket League replay to ballchasing.com, and
//! `autochase::api`, a typed client for the whole ballchasing.com API.

pub mod api;
pub mod replay;
pub mod config;
pub mod state;
