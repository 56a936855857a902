//! Criterion micro-benchmarks: validating a replay (length rule, both CRCs, header), and the
//! cost of recording one upload at 10 and at 20,000 records.
// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;

use autochase::state::{Journal, Record, Status};
use criterion::{Criterion, criterion_group, criterion_main};

const LAN: &[u8] = include_bytes!("../tests/fixtures/good/soccar-lan.replay");

/// A complete 2 MB replay: the 1 MB LAN fixture with its body padded to 2 MB and the body
/// size and CRC fixed. Validation reads every byte, so its cost is that of a real 2 MB file.
fn two_megabytes() -> Vec<u8> {
    let header_size = i32::from_le_bytes(LAN[0..4].try_into().unwrap()) as usize;
    let body_at = 8 + header_size;
    let mut body = LAN[body_at + 8..].to_vec();
    body.resize(2 * 1024 * 1024 - body_at - 8, 0);
    let mut out = LAN[..body_at].to_vec();
    out.extend_from_slice(&(body.len() as i32).to_le_bytes());
    out.extend_from_slice(&boxcars::crc::calc_crc(&body).to_le_bytes());
    out.extend_from_slice(&body);
    assert!(autochase::replay::validate(&out).is_ok());
    out
}

fn validation(c: &mut Criterion) {
    let big = two_megabytes();
    c.bench_function("validate 2 MB replay", |b| {
        b.iter(|| autochase::replay::validate(black_box(&big)).is_ok())
    });
    c.bench_function("validate 1 MB LAN fixture", |b| {
        b.iter(|| autochase::replay::validate(black_box(LAN)).is_ok())
    });
    // A real 2.1 MB replay when the shared corpus is beside the project (not in the repo).
    let shared =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/replays/good/rl-256.replay");
    if let Ok(real) = std::fs::read(&shared) {
        c.bench_function("validate rl-256.replay (2.1 MB, shared corpus)", |b| {
            b.iter(|| autochase::replay::validate(black_box(&real)).is_ok())
        });
    }
}

fn record(id: usize) -> Record {
    let mut r = Record::pending(
        format!("{id:032X}"),
        PathBuf::from(format!("/demos/{id:032X}.replay")),
    );
    r.status = Status::Uploaded;
    r.size = 1_000_000;
    r.digest = "0".repeat(64);
    r
}

fn recording(c: &mut Criterion) {
    for size in [10usize, 20_000] {
        let dir = tempfile::tempdir().unwrap();
        {
            let (mut journal, _) = Journal::open(dir.path()).unwrap();
            for i in 0..size {
                journal.record(&record(i)).unwrap();
            }
        }
        // Reopen: the compacted journal of `size` records, as after a restart.
        let (mut journal, loaded) = Journal::open(dir.path()).unwrap();
        let mut state = loaded.state;
        assert_eq!(state.replays.len(), size);
        let mut next = size;
        c.bench_function(&format!("record one upload at {size} records"), |b| {
            b.iter(|| {
                // What the engine does per upload: append + fsync, update the map, compact
                // when the journal has grown well past the state.
                let r = record(next % (size + 100));
                next += 1;
                journal.record(&r).unwrap();
                state.replays.insert(r.id.clone(), r);
                journal.maybe_compact(&state).unwrap();
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = validation, recording
}
criterion_main!(benches);
