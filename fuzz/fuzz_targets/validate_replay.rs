//! Replay validation on arbitrary bytes: it must return (valid or a reason), never panic,
//! and anything it accepts must satisfy the length rule it claims.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if autochase::replay::validate(data).is_ok() {
        let header = i32::from_le_bytes(data[0..4].try_into().unwrap()) as usize;
        let body_at = 8 + header;
        let body = i32::from_le_bytes(data[body_at..body_at + 4].try_into().unwrap()) as usize;
        assert_eq!(data.len(), 16 + header + body);
    }
});
