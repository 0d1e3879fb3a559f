//! Models of thread join on the wait core (`thread::core::Core`): a thread's
//! joiners queue on a `RawSemaphore` in `Mode::Discard`, with the `DONE` bit
//! of the thread's state word as the flag (the way an `Event`'s waiters do),
//! and finishing the thread sets `DONE`, fences, then wakes every joiner.
//! Planted bug (`.ci/loom`): `join-wake-before-done` (the finisher looks for
//! joiners before setting `DONE`: a joiner queueing in between sleeps forever).

use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

use super::{model, poll_once};
use crate::thread::{Core, Kind, STARTED};

/// A started thread whose joiners' list already exists. The list is made by
/// the first join that has to wait, through a std `OnceLock`, which loom
/// cannot see: a list made inside the model by one thread and used by
/// another would look like an unsynchronised access to loom. So a join is
/// queued and abandoned here, before the model's threads start; what the
/// models check is the wait itself: `DONE`, the fence and the list.
fn started() -> Arc<Core> {
    let core = Arc::new(Core::new(Kind::Thread, None, STARTED));
    let mut join = Box::pin(core.wait_done());
    assert!(poll_once(&mut join).is_pending());
    drop(join);
    assert_eq!(core.join_waiters(), 0);
    core
}

/// Finishing wakes every joiner, blocking or async, and none is left queued.
#[test]
fn finish_wakes_every_joiner() {
    model(|| {
        let core = started();
        let joiners: Vec<_> = (0..2)
            .map(|_| {
                let core = core.clone();
                thread::spawn(move || block_on(core.wait_done()))
            })
            .collect();
        core.mark_done();
        for joiner in joiners {
            joiner.join().unwrap();
        }
        assert!(core.is_done());
        assert_eq!(core.join_waiters(), 0);
    });
}

/// A joiner cancelled at any point (queued, or already woken) neither keeps
/// the other joiner waiting nor leaves a slot behind.
#[test]
fn cancelled_joiner_leaves_nothing() {
    model(|| {
        let core = started();
        let cancelled = {
            let core = core.clone();
            thread::spawn(move || {
                let mut join = Box::pin(core.wait_done());
                let _ = poll_once(&mut join);
                drop(join);
            })
        };
        let waiting = {
            let core = core.clone();
            thread::spawn(move || block_on(core.wait_done()))
        };
        core.mark_done();
        cancelled.join().unwrap();
        waiting.join().unwrap();
        assert_eq!(core.join_waiters(), 0);
    });
}

/// A joiner arriving while the thread finishes (queueing while the finisher
/// sets `DONE` and looks for joiners) is never left asleep.
#[test]
fn finish_racing_a_new_joiner() {
    model(|| {
        let core = started();
        let finisher = {
            let core = core.clone();
            thread::spawn(move || core.mark_done())
        };
        block_on(core.wait_done());
        assert!(core.is_done());
        finisher.join().unwrap();
        assert_eq!(core.join_waiters(), 0);
    });
}
