//! The daemon in-process against real temp folders and a fake ballchasing on loopback.

#[path = "daemon/after.rs"]
mod after;
#[path = "daemon/control.rs"]
mod control;
#[path = "daemon/pickup.rs"]
mod pickup;
mod support;

use std::time::Duration;

use autochase::engine::Fate;
use autochase::state::{Outcome, Status};
use support::Reply;
use support::harness::{
    Setup, until, until_server, uploaded, write_in_chunks, write_until_created,
};
use support::replays::{HEAT, LAN, SMALL, TINY};

/// The same replay (same header Id) with one byte of network data changed and its body CRC
/// fixed: what an in-game rename looks like on disk.
fn rewritten(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let header_size = i32::from_le_bytes(out[0..4].try_into().unwrap()) as usize;
    let body_start = 16 + header_size;
    let middle = body_start + (out.len() - body_start) / 2;
    out[middle] ^= 0x55;
    let crc = boxcars::crc::calc_crc(&out[body_start..]);
    out[body_start - 4..body_start].copy_from_slice(&crc.to_le_bytes());
    out
}
