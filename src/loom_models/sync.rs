//! Models of the sync primitives, through their public API.

use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::thread;

use super::{model, poll_once};
use crate::sync::{Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore};

/// Lock: mutual exclusion between an async and a blocking holder, and the
/// lock ends unlocked.
#[test]
fn lock_exclusion() {
    model(|| {
        let lock = Lock::new();
        let inside = Arc::new(AtomicUsize::new(0));
        let t = {
            let (lock, inside) = (lock.clone(), inside.clone());
            thread::spawn(move || {
                lock.blocking_acquire();
                assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                inside.fetch_sub(1, Ordering::SeqCst);
                lock.release().unwrap();
            })
        };
        block_on(lock.acquire());
        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
        inside.fetch_sub(1, Ordering::SeqCst);
        lock.release().unwrap();
        t.join().unwrap();
        assert!(!lock.locked());
    });
}

/// Lock: two racing releases of one acquisition — exactly one succeeds.
#[test]
fn lock_double_release_is_caught() {
    model(|| {
        let lock = Lock::new();
        assert!(lock.try_acquire());
        let t = {
            let lock = lock.clone();
            thread::spawn(move || lock.release().is_ok())
        };
        let mine = lock.release().is_ok();
        assert!(mine ^ t.join().unwrap());
        assert!(!lock.locked());
    });
}

/// RLock: re-entry by the owner, exclusion between OS threads, and the
/// depth returns to zero.
#[test]
fn rlock_reentry_and_exclusion() {
    model(|| {
        let lock = RLock::new();
        let inside = Arc::new(AtomicUsize::new(0));
        let body = |lock: &RLock, inside: &AtomicUsize| {
            lock.blocking_acquire();
            lock.blocking_acquire();
            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
            inside.fetch_sub(1, Ordering::SeqCst);
            lock.release().unwrap();
            lock.release().unwrap();
        };
        let t = {
            let (lock, inside) = (lock.clone(), inside.clone());
            thread::spawn(move || body(&lock, &inside))
        };
        body(&lock, &inside);
        t.join().unwrap();
        assert!(!lock.locked());
        assert!(lock.release().is_err());
    });
}

/// Lock<T>: the data behind the guard is reached by one holder at a time,
/// and each holder's writes happen before the next holder's accesses — loom's
/// `UnsafeCell` (the cell of `sync/cell.rs` under `threadlet_loom`) checks
/// both. Catches the planted bug `lock-guard-without-permit` (a `try_lock`
/// that hands out a guard while another holds the permit).
#[test]
fn lock_data_is_exclusive() {
    model(|| {
        let n = Lock::with_value(0u64);
        let t = {
            let n = n.clone();
            thread::spawn(move || match n.try_lock() {
                Some(mut guard) => *guard += 1,
                None => *n.blocking_lock() += 1,
            })
        };
        match n.try_lock() {
            Some(mut guard) => *guard += 1,
            None => *block_on(n.lock()) += 1,
        }
        t.join().unwrap();
        assert_eq!(*n.try_lock().unwrap(), 2);
        assert!(!n.locked());
    });
}

/// Lock<T>: an owned guard taken on one thread and dropped on another keeps
/// the data exclusive, and the taker's write is seen by the next holder.
#[test]
fn lock_owned_guard_moves_between_threads() {
    model(|| {
        let n = Lock::with_value(1u64);
        let mut guard = n.try_lock_owned().unwrap();
        *guard += 1;
        let t = thread::spawn(move || {
            *guard *= 10;
        });
        let seen = *block_on(n.lock());
        t.join().unwrap();
        assert_eq!(seen, 20);
    });
}

/// Semaphore(2) with three users: never more than two inside, all permits back.
#[test]
fn semaphore_conserves_permits() {
    model(|| {
        let sem = Semaphore::new(2);
        let inside = Arc::new(AtomicUsize::new(0));
        let users: Vec<_> = (0..2)
            .map(|_| {
                let (sem, inside) = (sem.clone(), inside.clone());
                thread::spawn(move || {
                    block_on(sem.acquire());
                    assert!(inside.fetch_add(1, Ordering::SeqCst) < 2);
                    inside.fetch_sub(1, Ordering::SeqCst);
                    sem.release().unwrap();
                })
            })
            .collect();
        block_on(sem.acquire());
        assert!(inside.fetch_add(1, Ordering::SeqCst) < 2);
        inside.fetch_sub(1, Ordering::SeqCst);
        sem.release().unwrap();
        for u in users {
            u.join().unwrap();
        }
        assert_eq!(sem.value(), 2);
    });
}

/// BoundedSemaphore: racing over-releases are refused and change nothing.
#[test]
fn bounded_semaphore_refuses_over_release() {
    model(|| {
        let sem = BoundedSemaphore::new(1);
        assert!(sem.try_acquire());
        let t = {
            let sem = sem.clone();
            thread::spawn(move || sem.release().is_ok())
        };
        let mine = sem.release().is_ok();
        assert!(mine ^ t.join().unwrap());
        assert_eq!(sem.value(), 1);
    });
}

/// Condition (over a plain Lock, the fast one; these two models check the
/// core's notify mode, which both locks share): a notify after the predicate
/// changed always reaches the waiter (no lost wake-up between its check and
/// its wait).
#[test]
fn condition_no_lost_wakeup() {
    model(|| {
        let cond = Arc::new(Condition::with_lock(Lock::new()));
        let ready = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (cond, ready) = (cond.clone(), ready.clone());
            thread::spawn(move || {
                block_on(async {
                    cond.acquire().await;
                    while !ready.load(Ordering::SeqCst) {
                        cond.wait().await.unwrap();
                    }
                    cond.release().unwrap();
                })
            })
        };
        block_on(cond.acquire());
        ready.store(true, Ordering::SeqCst);
        cond.notify(1).unwrap();
        cond.release().unwrap();
        waiter.join().unwrap();
        assert!(!cond.locked());
    });
}

/// Condition: a waiter abandoned mid-wait does not swallow a `notify(1)`
/// meant for another waiter, and does not leave the lock held.
#[test]
fn condition_cancelled_waiter_passes_notify_on() {
    model(|| {
        let cond = Arc::new(Condition::with_lock(Lock::new()));
        let ready = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (cond, ready) = (cond.clone(), ready.clone());
            thread::spawn(move || {
                block_on(async {
                    cond.acquire().await;
                    while !ready.load(Ordering::SeqCst) {
                        cond.wait().await.unwrap();
                    }
                    cond.release().unwrap();
                })
            })
        };
        let quitter = {
            let cond = cond.clone();
            thread::spawn(move || {
                block_on(cond.acquire());
                let mut wait = Box::pin(cond.wait());
                if poll_once(&mut wait).is_ready() {
                    // It returned from the wait, so it consumed the notify:
                    // hand one on as the model's other waiter still needs one.
                    drop(wait);
                    cond.notify(1).unwrap();
                    cond.release().unwrap();
                } else {
                    // Abandoned while waiting: it holds no lock afterwards.
                    drop(wait);
                }
            })
        };
        block_on(cond.acquire());
        ready.store(true, Ordering::SeqCst);
        cond.notify(1).unwrap();
        cond.release().unwrap();
        quitter.join().unwrap();
        waiter.join().unwrap();
    });
}

/// Event: `set` wakes an async and a blocking waiter; `wait` after `set`
/// returns at once.
#[test]
fn event_set_wakes_everyone() {
    model(|| {
        let event = Event::new();
        let a = {
            let event = event.clone();
            thread::spawn(move || block_on(event.wait()))
        };
        let b = {
            let event = event.clone();
            thread::spawn(move || event.blocking_wait())
        };
        event.set();
        a.join().unwrap();
        b.join().unwrap();
        block_on(event.wait());
        assert!(event.is_set());
    });
}

/// Event: a wait that starts after a `set` and a `clear` is not ended by the
/// late wake-up of that `set` (which reaches the wait list after the clear),
/// only by a later `set`.
#[test]
fn event_wait_after_clear_ignores_an_earlier_sets_wakeup() {
    model(|| {
        let event = Event::new();
        let later = Arc::new(AtomicBool::new(false));
        let first = {
            let event = event.clone();
            thread::spawn(move || event.set())
        };
        // Once the first set is seen (its wake-ups may still be on the way):
        if event.is_set() {
            event.clear();
            let second = {
                let (event, later) = (event.clone(), later.clone());
                thread::spawn(move || {
                    later.store(true, Ordering::SeqCst);
                    event.set();
                })
            };
            block_on(event.wait());
            assert!(
                later.load(Ordering::SeqCst),
                "woken by the set before the clear"
            );
            second.join().unwrap();
        }
        first.join().unwrap();
    });
}

/// Barrier of two: both pass, with indexes 0 and 1, in any interleaving.
#[test]
fn barrier_releases_one_generation() {
    model(|| {
        let barrier = Barrier::new(2).unwrap();
        let t = {
            let barrier = barrier.clone();
            thread::spawn(move || block_on(barrier.wait()).unwrap())
        };
        let mine = block_on(barrier.wait()).unwrap();
        let theirs = t.join().unwrap();
        assert_eq!(mine + theirs, 1);
        assert!(!barrier.broken());
    });
}

/// RLock: a guard dropped on another thread (its drop is `release_held`)
/// races the owner's re-entry and release: the depth changes by
/// compare-and-swap, so no update is lost and the lock ends free.
#[test]
fn rlock_guard_dropped_elsewhere_races_reentry() {
    model(|| {
        let lock = RLock::new();
        let hold = lock.try_acquire_held().unwrap(); // the guard's level
        assert!(lock.try_acquire()); // a level the owner keeps
        let t = {
            let lock = lock.clone();
            thread::spawn(move || assert!(lock.release_held(hold)))
        };
        assert!(lock.try_acquire()); // re-entry, racing the drop
        lock.release().unwrap();
        t.join().unwrap();
        assert_eq!(lock.recursion_count(), 1);
        lock.release().unwrap();
        assert!(!lock.locked());
        assert_eq!(lock.count(), 0);
    });
}

/// RLock: a guard dropped elsewhere releasing the last level races the
/// owner's re-entry: the owner either re-enters before the depth reaches
/// zero, or finds the lock being given up and takes it afresh; never both
/// nor a lost level.
#[test]
fn rlock_last_level_dropped_elsewhere_races_reentry() {
    model(|| {
        let lock = RLock::new();
        let hold = lock.try_acquire_held().unwrap();
        let t = {
            let lock = lock.clone();
            thread::spawn(move || lock.release_held(hold))
        };
        let reentered = lock.try_acquire();
        let released = t.join().unwrap();
        assert!(released, "the guard's own hold is current until it drops");
        if reentered {
            // Either it re-entered the old hold (now one level left after
            // the drop) or it took the lock afresh after it: one level.
            assert_eq!(lock.recursion_count(), 1);
            lock.release().unwrap();
        }
        assert!(!lock.locked());
    });
}
