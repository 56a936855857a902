//! The queue's table tests and properties: each stage's moves, the bounds on checks, the
//! upload order and holds, with no runtime.

use std::time::Duration;

use super::*;

fn p(name: &str) -> PathBuf {
    PathBuf::from(format!("/demos/{name}.replay"))
}

fn stage(q: &Queue, name: &str) -> Option<Stage> {
    q.get(&p(name)).map(|t| t.stage.clone())
}

/// Checks `name` to the end with `next` as the decision.
fn check(q: &mut Queue, name: &str, next: AfterCheck, now: Instant) {
    q.changed(&p(name), now);
    assert!(q.start_checks(now).iter().any(|(path, _)| *path == p(name)));
    q.checked(&p(name)).expect("fresh result");
    q.settle(&p(name), next);
}

fn upload(id: &str, newest: u64) -> AfterCheck {
    AfterCheck::Upload {
        id: id.into(),
        newest,
    }
}

#[test]
fn a_change_moves_each_stage_where_it_belongs() {
    let t0 = Instant::now();
    let later = t0 + Duration::from_secs(1);
    // (stage before, stage after a change)
    let table = [
        (Stage::Due, Stage::Due),
        (
            Stage::Checking { again: false },
            Stage::Checking { again: true },
        ),
        (Stage::Later(later), Stage::Due),
        (
            Stage::Queued {
                id: "A".into(),
                newest: 1,
            },
            Stage::Due,
        ),
        (
            Stage::Uploading {
                id: "A".into(),
                newest: 1,
                again: false,
            },
            Stage::Uploading {
                id: "A".into(),
                newest: 1,
                again: true,
            },
        ),
    ];
    for (before, after) in table {
        let mut q = Queue::new(2);
        q.found(&p("x"), true, t0);
        q.update(&p("x"), |mut t| {
            t.stage = before.clone();
            Some(t)
        });
        q.changed(&p("x"), later);
        let track = q.get(&p("x")).unwrap();
        assert_eq!(track.stage, after, "after a change in {before:?}");
        assert!(!track.baseline, "a file that changes is new");
        assert_eq!(track.changed, later);
    }
}

#[test]
fn new_rules_send_queued_files_back_to_a_check_and_leave_the_rest() {
    let t0 = Instant::now();
    let t1 = t0 + Duration::from_secs(1);
    let hold = t0 + Duration::from_secs(30);
    let mut q = Queue::new(4);
    check(&mut q, "queued", upload("Q", 1), t0);
    q.update(&p("queued"), |mut t| {
        t.hold = Some(hold);
        Some(t)
    });
    check(&mut q, "later", AfterCheck::Later(t1), t0);
    check(&mut q, "flying", upload("F", 2), t0);
    assert_eq!(q.next_upload(hold), Some((p("flying"), "F".into())));
    q.recheck_queued(t1);
    assert_eq!(stage(&q, "queued"), Some(Stage::Due));
    assert_eq!(
        q.get(&p("queued")).unwrap().hold,
        Some(hold),
        "its wait kept"
    );
    assert_eq!(stage(&q, "later"), Some(Stage::Later(t1)));
    assert!(matches!(stage(&q, "flying"), Some(Stage::Uploading { .. })));
    assert_eq!(q.queued(), 0);
}

#[test]
fn checks_run_at_most_n_at_once_oldest_change_first() {
    let t0 = Instant::now();
    let mut q = Queue::new(2);
    for (i, name) in ["c", "a", "b"].iter().enumerate() {
        q.changed(&p(name), t0 + Duration::from_millis(i as u64));
    }
    assert_eq!(q.start_checks(t0), [(p("c"), false), (p("a"), false)]);
    assert!(q.start_checks(t0).is_empty(), "both slots taken");
    q.checked(&p("c")).unwrap();
    q.settle(&p("c"), AfterCheck::Done);
    assert_eq!(q.start_checks(t0), [(p("b"), false)]);
    // A header that says "upload" makes the next check of that file read all of it.
    q.checked(&p("a")).unwrap();
    q.settle(&p("a"), AfterCheck::Whole);
    q.checked(&p("b")).unwrap();
    q.settle(&p("b"), AfterCheck::Done);
    assert_eq!(q.start_checks(t0), [(p("a"), true)]);
    q.changed(&p("a"), t0);
    assert!(
        !q.get(&p("a")).unwrap().whole,
        "a change starts from the header again"
    );
}

#[test]
fn a_stale_result_is_dropped_and_the_file_checked_again() {
    let t0 = Instant::now();
    let mut q = Queue::new(2);
    q.changed(&p("a"), t0);
    q.start_checks(t0);
    q.changed(&p("a"), t0);
    assert_eq!(q.checked(&p("a")), None, "changed while read");
    assert_eq!(stage(&q, "a"), Some(Stage::Due));
    assert_eq!(q.get(&p("a")).unwrap().checks, 1);
    assert_eq!(q.checked(&p("never")), None);
}

#[test]
fn a_later_check_waits_for_its_time_or_a_change() {
    let t0 = Instant::now();
    let at = t0 + Duration::from_secs(2);
    let mut q = Queue::new(2);
    check(&mut q, "a", AfterCheck::Later(at), t0);
    assert_eq!(q.next_wake(None), Some(at));
    assert!(q.start_checks(t0).is_empty());
    assert_eq!(q.start_checks(at), [(p("a"), false)]);
    // A change brings it forward.
    let mut q = Queue::new(2);
    check(&mut q, "a", AfterCheck::Later(at), t0);
    q.changed(&p("a"), t0);
    assert_eq!(q.start_checks(t0), [(p("a"), false)]);
}

#[test]
fn uploads_go_newest_first_and_only_after_their_hold() {
    let t0 = Instant::now();
    let mut q = Queue::new(4);
    check(&mut q, "old", upload("O", 10), t0);
    check(&mut q, "new", upload("N", 20), t0);
    assert_eq!(q.queued(), 2);
    assert_eq!(q.next_upload(t0), Some((p("new"), "N".into())));
    assert!(q.uploading());
    let retry = t0 + Duration::from_secs(5);
    q.uploaded(&p("new"), AfterUpload::Retry(retry));
    assert_eq!(q.next_upload(t0), Some((p("old"), "O".into())));
    q.uploaded(&p("old"), AfterUpload::Done);
    assert_eq!(stage(&q, "old"), None, "done files leave the queue");
    assert_eq!(q.next_upload(t0), None, "held until {retry:?}");
    assert_eq!(q.next_wake(Some(t0)), Some(retry));
    assert_eq!(q.next_wake(None), None, "no uploader, no wake for uploads");
    assert_eq!(q.next_upload(retry), Some((p("new"), "N".into())));
}

#[test]
fn a_file_someone_asked_for_goes_before_newer_ones_once() {
    let t0 = Instant::now();
    let mut q = Queue::new(4);
    check(&mut q, "new", upload("N", 20), t0);
    q.asked(&p("old"), t0);
    assert!(q.start_checks(t0).iter().any(|(path, _)| *path == p("old")));
    q.checked(&p("old")).expect("fresh result");
    q.settle(&p("old"), upload("O", 10));
    assert_eq!(
        q.next_upload(t0),
        Some((p("old"), "O".into())),
        "asked first"
    );
    // Tried and waiting again: from then on it takes its turn like the others.
    q.uploaded(&p("old"), AfterUpload::Retry(t0));
    assert_eq!(q.next_upload(t0), Some((p("new"), "N".into())));
}

#[test]
fn a_change_cannot_cut_a_retry_wait_short() {
    let t0 = Instant::now();
    let retry = t0 + Duration::from_secs(5);
    let mut q = Queue::new(2);
    check(&mut q, "a", upload("A", 1), t0);
    q.next_upload(t0);
    q.uploaded(&p("a"), AfterUpload::Retry(retry));
    check(&mut q, "a", upload("A", 1), t0);
    assert_eq!(q.next_upload(t0), None);
    assert_eq!(q.next_wake(Some(t0)), Some(retry));
}

#[test]
fn one_id_is_queued_once_whatever_its_file_names() {
    let t0 = Instant::now();
    let mut q = Queue::new(4);
    check(&mut q, "a", upload("X", 1), t0);
    check(&mut q, "copy", upload("X", 2), t0);
    assert_eq!(q.queued(), 1);
    assert_eq!(stage(&q, "a"), None);
    // While X is being uploaded, another copy leaves it to the upload's answer.
    q.next_upload(t0);
    check(&mut q, "third", upload("X", 3), t0);
    assert_eq!(stage(&q, "third"), None);
    assert_eq!(q.in_flight(), Some((p("copy").as_path(), "X")));
}

#[test]
fn a_change_during_an_upload_is_checked_after_it() {
    let t0 = Instant::now();
    for next in [
        AfterUpload::Done,
        AfterUpload::Recheck,
        AfterUpload::Retry(t0),
    ] {
        let mut q = Queue::new(2);
        check(&mut q, "a", upload("A", 1), t0);
        q.next_upload(t0);
        q.changed(&p("a"), t0);
        q.uploaded(&p("a"), next);
        assert_eq!(stage(&q, "a"), Some(Stage::Due), "{next:?}");
    }
}

#[test]
fn idle_settled_and_baseline_reflect_the_stages() {
    let t0 = Instant::now();
    let mut q = Queue::new(2);
    assert!(q.idle() && q.checks_done() && !q.baseline_open());
    q.found(&p("old"), true, t0);
    q.found(&p("old"), false, t0);
    assert!(
        q.get(&p("old")).unwrap().baseline,
        "a scan does not reset a track"
    );
    assert!(q.baseline_open() && !q.idle() && q.checking() == 1);
    q.start_checks(t0);
    q.checked(&p("old")).unwrap();
    q.settle(&p("old"), AfterCheck::Done);
    assert!(!q.baseline_open());
    check(&mut q, "a", upload("A", 1), t0);
    assert!(q.idle() && q.checks_done());
    q.next_upload(t0);
    assert!(!q.idle() && q.checks_done());
}

impl Queue {
    /// The indexes agree with the tracks.
    fn assert_consistent(&self) {
        let count = |f: fn(&Stage) -> bool| self.tracks.values().filter(|t| f(&t.stage)).count();
        assert_eq!(
            self.checking,
            count(|s| matches!(s, Stage::Checking { .. }))
        );
        assert_eq!(self.queued, count(|s| matches!(s, Stage::Queued { .. })));
        assert_eq!(
            self.uploading,
            count(|s| matches!(s, Stage::Uploading { .. }))
        );
        assert_eq!(self.due.len(), count(|s| matches!(s, Stage::Due)));
        assert_eq!(self.later.len(), count(|s| matches!(s, Stage::Later(_))));
        assert_eq!(
            self.baselines,
            self.tracks.values().filter(|t| t.baseline).count()
        );
        for (changed, path) in &self.due {
            assert_eq!(self.tracks[path].changed, *changed);
        }
        for (at, path) in &self.later {
            assert_eq!(self.tracks[path].stage, Stage::Later(*at));
        }
    }
}

use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Changed(u8, u8),
    Found(u8, bool),
    Touched(u8, u8),
    StartChecks(u8),
    Checked(u8, u8),
    NextUpload(u8),
    Uploaded(u8, u8),
}

proptest! {
    #[test]
    fn any_order_of_steps_keeps_the_indexes_right_and_the_checks_bounded(
        ops in proptest::collection::vec(
            prop_oneof![
                (0u8..6, 0u8..20).prop_map(|(f, t)| Op::Changed(f, t)),
                (0u8..6, proptest::bool::ANY).prop_map(|(f, b)| Op::Found(f, b)),
                (0u8..6, 0u8..20).prop_map(|(f, t)| Op::Touched(f, t)),
                (0u8..20).prop_map(Op::StartChecks),
                (0u8..6, 0u8..5).prop_map(|(f, d)| Op::Checked(f, d)),
                (0u8..20).prop_map(Op::NextUpload),
                (0u8..6, 0u8..3).prop_map(|(f, d)| Op::Uploaded(f, d)),
            ],
            0..60,
        )
    ) {
        let t0 = Instant::now();
        let at = |t: u8| t0 + Duration::from_secs(u64::from(t));
        let name = |f: u8| p(&format!("f{f}"));
        let mut q = Queue::new(2);
        for op in ops {
            match op {
                Op::Changed(f, t) => q.changed(&name(f), at(t)),
                Op::Found(f, b) => q.found(&name(f), b, t0),
                Op::Touched(f, t) => q.touched(&name(f), at(t)),
                Op::StartChecks(t) => {
                    q.start_checks(at(t));
                }
                Op::Checked(f, d) => {
                    if q.checked(&name(f)).is_some() {
                        let next = match d {
                            0 => AfterCheck::Done,
                            1 => AfterCheck::Later(at(5)),
                            2 => AfterCheck::Whole,
                            // Two files share an Id now and then.
                            _ => upload(&format!("ID{}", f % 4), u64::from(f)),
                        };
                        q.settle(&name(f), next);
                    }
                }
                Op::NextUpload(t) => {
                    if !q.uploading() {
                        q.next_upload(at(t));
                    }
                }
                Op::Uploaded(f, d) => {
                    let next = match d {
                        0 => AfterUpload::Done,
                        1 => AfterUpload::Retry(at(9)),
                        _ => AfterUpload::Recheck,
                    };
                    q.uploaded(&name(f), next);
                }
            }
            q.assert_consistent();
            prop_assert!(q.checking <= 2, "at most two checks at once");
            prop_assert!(q.uploading <= 1, "at most one upload at once");
        }
    }
}
