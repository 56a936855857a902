//! Test replays: the checked-in fixtures, and distinct valid replays made from one of them by
//! giving it a new header `Id` and fixing the header CRC.

/// A 1 MB LAN match (boxcars corpus, MIT).
pub const LAN: &[u8] = include_bytes!("../fixtures/good/soccar-lan.replay");
/// A small replay.
pub const SMALL: &[u8] = include_bytes!("../fixtures/good/small-frames.replay");
/// The smallest fixture.
pub const TINY: &[u8] = include_bytes!("../fixtures/good/6688.replay");
/// A heatseeker match.
pub const HEAT: &[u8] = include_bytes!("../fixtures/good/heatseeker.replay");

/// `base` with the last 8 characters of its header Id replaced by `n` in hex, and the header
/// CRC recomputed: a different, complete replay as far as autochase and ballchasing can tell.
pub fn distinct(base: &[u8], n: u32) -> Vec<u8> {
    let info = autochase::replay::validate(base).expect("a valid base replay");
    let id = info.id.expect("the base replay has an Id");
    let header_size = i32::from_le_bytes(base[0..4].try_into().unwrap()) as usize;
    let header = 8..8 + header_size;
    let at = find(&base[header.clone()], id.as_bytes()).expect("Id in the header") + 8;
    let mut out = base.to_vec();
    let new_id = format!("{}{:08X}", &id[..id.len() - 8], n);
    out[at..at + id.len()].copy_from_slice(new_id.as_bytes());
    let crc = boxcars::crc::calc_crc(&out[header]);
    out[4..8].copy_from_slice(&crc.to_le_bytes());
    let check = autochase::replay::validate(&out).expect("still valid");
    assert_eq!(check.id.as_deref(), Some(new_id.as_str()));
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
