//! The state loader on arbitrary bytes: it must load or refuse, never panic, and what it
//! loads must survive a compaction and a reload unchanged.
#![no_main]

use autochase::state::State;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((state, _)) = State::parse(data) {
        let (compact, _) = state.encode();
        let (again, skipped) = State::parse(&compact[..]).expect("a compacted state loads");
        assert_eq!(skipped, 0);
        assert_eq!(again, state);
    }
});
