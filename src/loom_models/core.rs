//! Models of the wait queue (`wait::semaphore::RawSemaphore`).

use std::task::Poll;

use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use super::{model, poll_once};
use crate::wait::{Mode, RawSemaphore, Snapshot};

fn counting(permits: usize) -> Arc<RawSemaphore> {
    Arc::new(RawSemaphore::new(permits, Mode::Counting))
}

fn quiet(sem: &RawSemaphore, permits: usize) {
    assert_eq!(
        sem.snapshot(),
        Snapshot {
            permits,
            waiters: 0,
            slots: 0,
            closed: false
        }
    );
}

/// Mutual exclusion and permit conservation: three tasks through a
/// one-permit semaphore (a Lock), one of them on the blocking path.
#[test]
fn exclusion_and_conservation() {
    model(|| {
        let sem = counting(1);
        let inside = Arc::new(AtomicUsize::new(0));
        let critical = |sem: &RawSemaphore, inside: &AtomicUsize| {
            assert_eq!(
                inside.fetch_add(1, Ordering::SeqCst),
                0,
                "two holders at once"
            );
            inside.fetch_sub(1, Ordering::SeqCst);
            sem.release(1);
        };
        let t1 = {
            let (sem, inside) = (sem.clone(), inside.clone());
            thread::spawn(move || {
                block_on(sem.acquire()).unwrap();
                critical(&sem, &inside);
            })
        };
        let t2 = {
            let (sem, inside) = (sem.clone(), inside.clone());
            thread::spawn(move || {
                assert_eq!(sem.blocking_acquire(None), Ok(true));
                critical(&sem, &inside);
            })
        };
        block_on(sem.acquire()).unwrap();
        critical(&sem, &inside);
        t1.join().unwrap();
        t2.join().unwrap();
        quiet(&sem, 1);
    });
}

/// A waiter abandoned at any point (queued, woken, or after winning) loses
/// nothing: the other waiter still gets the permit, and it comes back.
#[test]
fn cancelled_waiter_passes_on_its_wakeup() {
    model(|| {
        let sem = counting(0);
        let waiter = {
            let sem = sem.clone();
            thread::spawn(move || {
                block_on(sem.acquire()).unwrap();
                sem.release(1);
            })
        };
        let quitter = {
            let sem = sem.clone();
            thread::spawn(move || {
                let mut fut = sem.acquire();
                if let Poll::Ready(got) = poll_once(&mut fut) {
                    got.unwrap();
                    drop(fut);
                    sem.release(1);
                }
            })
        };
        sem.release(1);
        waiter.join().unwrap();
        quitter.join().unwrap();
        quiet(&sem, 1);
    });
}

/// The hand-off path: a waiter passed over by a barger is granted the next
/// permit directly, and dropping it then hands the permit on.
#[test]
fn granted_waiter_dropped_hands_the_permit_on() {
    model(|| {
        let sem = counting(0);
        let mut passed_over = sem.acquire();
        assert!(poll_once(&mut passed_over).is_pending());
        sem.release(1); // wakes `passed_over`
        sem.try_acquire().unwrap(); // a barger takes the permit
        assert!(poll_once(&mut passed_over).is_pending()); // loses: passed over

        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || sem.release(1)) // granted to `passed_over`
        };
        let other = {
            let sem = sem.clone();
            thread::spawn(move || {
                block_on(sem.acquire()).unwrap();
                sem.release(1);
            })
        };
        drop(passed_over);
        releaser.join().unwrap();
        other.join().unwrap();
        sem.release(1); // the barger's permit
        quiet(&sem, 2);
    });
}

/// Condition-style notify: a notified waiter that is dropped before returning
/// passes the notification to the next waiter, so a `notify(1)` is never lost.
#[test]
fn notify_survives_a_cancelled_waiter() {
    model(|| {
        let sem = Arc::new(RawSemaphore::new(0, Mode::PassOn));
        let first = sem.register();
        let second = sem.register();
        let notifier = {
            let sem = sem.clone();
            thread::spawn(move || assert_eq!(sem.notify(1), 1))
        };
        drop(first);
        // Whether `first` was notified before it left or not, `second` wakes.
        block_on(second).unwrap();
        notifier.join().unwrap();
        let snap = sem.snapshot();
        assert_eq!((snap.waiters, snap.slots), (0, 0));
    });
}

/// `Mode::Discard` (Event, Barrier): every queued waiter wakes, blocking or async.
#[test]
fn broadcast_wakes_everyone() {
    model(|| {
        let sem = Arc::new(RawSemaphore::new(0, Mode::Discard));
        let queued = Arc::new(AtomicUsize::new(0));
        let spawn_waiter = |blocking: bool| {
            let (sem, queued) = (sem.clone(), queued.clone());
            thread::spawn(move || {
                let waiter = sem.register();
                queued.fetch_add(1, Ordering::SeqCst);
                if blocking {
                    assert_eq!(waiter.blocking(None), Ok(true));
                } else {
                    block_on(waiter).unwrap();
                }
            })
        };
        let t = spawn_waiter(false);
        let u = spawn_waiter(true);
        while queued.load(Ordering::SeqCst) < 2 {
            thread::yield_now();
        }
        assert_eq!(sem.notify(usize::MAX), 2);
        t.join().unwrap();
        u.join().unwrap();
    });
}

/// Close (queue shutdown) races a waiter and a release: the waiter either
/// gets the permit or `Closed`, never hangs, and no permit is lost.
#[test]
fn close_races_waiters() {
    model(|| {
        let sem = counting(0);
        let waiter = {
            let sem = sem.clone();
            thread::spawn(move || block_on(sem.acquire()).is_ok())
        };
        let closer = {
            let sem = sem.clone();
            thread::spawn(move || sem.close())
        };
        sem.release(1);
        let got = waiter.join().unwrap();
        closer.join().unwrap();
        let snap = sem.snapshot();
        assert_eq!(snap.permits + usize::from(got), 1);
        assert_eq!((snap.waiters, snap.slots, snap.closed), (0, 0, true));
    });
}

/// A bounded release (Lock::release, BoundedSemaphore) racing an acquire
/// never raises the free permits above the bound.
#[test]
fn bounded_release_never_exceeds_the_bound() {
    model(|| {
        let sem = counting(0);
        let releasers: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                thread::spawn(move || sem.release_bounded(1, 1).is_ok())
            })
            .collect();
        let ok: usize = releasers
            .into_iter()
            .map(|t| usize::from(t.join().unwrap()))
            .sum();
        assert_eq!(ok, 1);
        assert_eq!(sem.available(), 1);
    });
}

/// The sleeper cursor (linear wake-ups): two queued waiters, two single
/// releases racing a barger that takes a permit and gives it back. A woken
/// waiter that loses to the barger goes back to sleep ahead of the cursor
/// and must still be found: both waiters get a permit, and every permit
/// comes back.
#[test]
fn sleeper_cursor_survives_a_barger() {
    model(|| {
        let sem = counting(0);
        let mut a = sem.acquire();
        let mut b = sem.acquire();
        assert!(poll_once(&mut a).is_pending());
        assert!(poll_once(&mut b).is_pending());
        let releaser = {
            let sem = sem.clone();
            thread::spawn(move || {
                sem.release(1);
                sem.release(1);
            })
        };
        let barger = {
            let sem = sem.clone();
            thread::spawn(move || {
                if sem.try_acquire().is_ok() {
                    sem.release(1);
                }
            })
        };
        block_on(&mut a).unwrap();
        block_on(&mut b).unwrap();
        drop((a, b));
        releaser.join().unwrap();
        barger.join().unwrap();
        sem.release(2);
        quiet(&sem, 2);
    });
}

/// `[I-drain]`: a broadcast (`Mode::Discard`: Event, Barrier, thread join)
/// takes the whole list and frees the slots itself, racing a waiter that is
/// dropped, a waiter that stays, and a new waiter that may reuse a freed
/// slot. Each slot is freed exactly once (by its owner, or by the broadcast),
/// a reused slot is not freed again by its old owner, the waiter that stays
/// is woken and returns without touching its old slot, and nothing is left
/// in the list.
#[test]
fn broadcast_racing_a_drop_frees_each_slot_once() {
    model(|| {
        let sem = Arc::new(RawSemaphore::new(0, Mode::Discard));
        let quitter = sem.register();
        let stayer = sem.register();
        let broadcaster = {
            let sem = sem.clone();
            thread::spawn(move || sem.notify(usize::MAX))
        };
        drop(quitter);
        // Queued before or after the broadcast, maybe in the quitter's slot.
        let mut late = sem.acquire();
        let late_queued = poll_once(&mut late).is_pending();
        assert!(late_queued, "nothing to take in a broadcast semaphore");
        block_on(stayer).unwrap();
        let woken = broadcaster.join().unwrap();
        // The stayer always, the quitter if it was still queued, the late
        // waiter if it queued first.
        assert!((1..=3).contains(&woken), "woke {woken}");
        drop(late);
        let snap = sem.snapshot();
        assert_eq!((snap.waiters, snap.slots), (0, 0));
    });
}
