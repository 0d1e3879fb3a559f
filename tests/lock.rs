//! `Lock`: Python parity (CPython `Lib/test/lock_tests.py` `BaseLockTests` /
//! `LockTests`, rewritten), poll-level FIFO order, cancel safety at every
//! state, and the starvation bound under barging.

#[path = "common/sync_util.rs"]
mod sync_util;
use sync_util::State;

use std::time::Duration;

use threadlet::Lock;
use threadlet::error::LockReleaseError;
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

const FREE: (usize, usize) = (1, 0);

#[test]
fn release_unlocked_is_an_error_with_pythons_message() {
    let lock = Lock::new();
    assert_eq!(lock.release(), Err(LockReleaseError));
    assert_eq!(
        lock.release().unwrap_err().to_string(),
        "release unlocked lock"
    );
    assert!(lock.try_acquire());
    assert_eq!(lock.release(), Ok(()));
    assert_eq!(lock.release(), Err(LockReleaseError));
    assert_eq!(lock.state(), FREE);
}

#[tokio::test]
async fn any_task_may_release() {
    let lock = Lock::new();
    lock.acquire().await;
    let l = lock.clone();
    tokio::spawn(async move { l.release() })
        .await
        .unwrap()
        .unwrap();
    assert!(!lock.locked());
    // And from a plain thread.
    lock.acquire().await;
    let l = lock.clone();
    std::thread::spawn(move || l.release())
        .join()
        .unwrap()
        .unwrap();
    assert!(!lock.locked());
}

#[tokio::test]
async fn guard_releases_on_drop_and_try_lock_respects_it() {
    let lock = Lock::new();
    let guard = lock.lock().await;
    assert!(lock.locked());
    assert!(lock.try_lock().is_none());
    assert!(guard.lock().locked());
    drop(guard);
    assert!(!lock.locked());
    {
        let _g = lock.try_lock().unwrap();
        assert!(lock.locked());
    }
    assert!(!lock.locked());
    // Blocking forms run off the runtime thread (on it they panic).
    let l = lock.clone();
    tokio::task::spawn_blocking(move || drop(l.blocking_lock()))
        .await
        .unwrap();
    assert_eq!(lock.state(), FREE);
}

#[tokio::test(start_paused = true)]
async fn lock_timeout_gives_a_guard_or_none() {
    let lock = Lock::new();
    let g = lock.lock_timeout(Duration::from_secs(1)).await.unwrap();
    let start = tokio::time::Instant::now();
    assert!(lock.lock_timeout(Duration::from_secs(1)).await.is_none());
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    drop(g);
    assert_eq!(lock.state(), FREE);
}

#[test]
fn blocking_acquire_timeout_times_out_and_recovers() {
    let lock = Lock::new();
    assert!(lock.try_acquire());
    assert!(!lock.blocking_acquire_timeout(Duration::from_millis(20)));
    assert_eq!(lock.state(), (0, 0));
    lock.release().unwrap();
    assert!(lock.blocking_acquire_timeout(Duration::MAX));
    lock.release().unwrap();
}

#[test]
fn waiters_are_woken_in_fifo_order() {
    let lock = Lock::new();
    assert!(lock.try_acquire());
    let mut waiters: Vec<_> = (0..4).map(|_| spawn(lock.acquire())).collect();
    for w in &mut waiters {
        assert_pending!(w.poll());
    }
    for i in 0..4 {
        lock.release().unwrap();
        for (j, w) in waiters.iter().enumerate() {
            assert_eq!(w.is_woken(), j == i, "release {i}: waiter {j}");
        }
        assert_ready!(waiters[i].poll());
        for w in &mut waiters[i + 1..] {
            assert_pending!(w.poll());
        }
    }
    lock.release().unwrap();
    drop(waiters);
    assert_eq!(lock.state(), FREE);
}

#[test]
fn cancel_before_first_poll_changes_nothing() {
    let lock = Lock::new();
    drop(lock.acquire());
    assert!(lock.try_acquire());
    drop(lock.acquire());
    assert_eq!(lock.state(), (0, 0));
}

#[test]
fn cancel_while_queued_leaves_the_queue_intact() {
    let lock = Lock::new();
    assert!(lock.try_acquire());
    let mut a = spawn(lock.acquire());
    let mut b = spawn(lock.acquire());
    let mut c = spawn(lock.acquire());
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    assert_pending!(c.poll());
    drop(b); // from the middle
    assert_eq!(lock.state(), (0, 2));
    lock.release().unwrap();
    assert!(a.is_woken());
    assert!(!c.is_woken());
    assert_ready!(a.poll());
    lock.release().unwrap();
    assert!(c.is_woken());
    assert_ready!(c.poll());
    lock.release().unwrap();
    assert_eq!(lock.state(), FREE);
}

#[test]
fn cancel_after_wakeup_passes_it_on() {
    let lock = Lock::new();
    assert!(lock.try_acquire());
    let mut a = spawn(lock.acquire());
    let mut b = spawn(lock.acquire());
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    lock.release().unwrap();
    assert!(a.is_woken());
    drop(a); // woken, never ran
    assert!(b.is_woken());
    assert_ready!(b.poll());
    lock.release().unwrap();
    assert_eq!(lock.state(), FREE);
}

#[test]
fn cancel_after_direct_handoff_passes_the_lock_on() {
    let lock = Lock::new();
    assert!(lock.try_acquire());
    let mut a = spawn(lock.acquire());
    let mut b = spawn(lock.acquire());
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    lock.release().unwrap(); // wakes a
    assert!(lock.try_acquire()); // a barger wins
    assert_pending!(a.poll()); // a is passed over
    std::thread::sleep(threadlet::STARVATION_BOUND); // and has waited past the bound
    lock.release().unwrap(); // handed to a directly
    assert!(!lock.try_acquire());
    drop(a); // holding the hand-off, dropped before returning
    assert!(b.is_woken());
    assert_ready!(b.poll());
    lock.release().unwrap();
    assert_eq!(lock.state(), FREE);

    // With nobody behind, the handed-off lock goes back to free.
    assert!(lock.try_acquire());
    let mut a = spawn(lock.acquire());
    assert_pending!(a.poll());
    lock.release().unwrap();
    assert!(lock.try_acquire());
    assert_pending!(a.poll());
    lock.release().unwrap();
    drop(a);
    assert_eq!(lock.state(), FREE);
}

#[test]
fn cancel_after_completion_keeps_the_lock() {
    let lock = Lock::new();
    let mut a = spawn(lock.acquire());
    assert_ready!(a.poll());
    drop(a);
    assert!(lock.locked());
}

/// The documented bound, deterministically: a barger takes every permit that
/// reaches the counter before a woken waiter runs, and every holder keeps the
/// lock longer than `STARVATION_BOUND`. Waiters still complete in FIFO order,
/// each overtaken during at most one wake-up.
#[test]
fn starvation_bound_under_a_barging_storm() {
    let lock = Lock::new();
    assert!(lock.try_acquire()); // the barger holds it
    let mut waiters: Vec<_> = (0..5).map(|_| spawn(lock.acquire())).collect();
    for w in &mut waiters {
        assert_pending!(w.poll());
    }
    let mut done = Vec::new();
    let mut head_rounds = 0;
    let mut barges = 0;
    for _round in 0..100 {
        if done.len() == waiters.len() {
            break;
        }
        std::thread::sleep(threadlet::STARVATION_BOUND); // a long critical section
        lock.release().unwrap(); // the holder (barger or waiter) lets go
        if lock.try_acquire() {
            barges += 1; // the barger grabs it before any waiter runs
        }
        head_rounds += 1;
        for (i, w) in waiters.iter_mut().enumerate() {
            if !done.contains(&i) && w.is_woken() && w.poll().is_ready() {
                done.push(i);
                head_rounds = 0;
            }
        }
        assert!(
            head_rounds <= 2,
            "the head waiter was overtaken for {head_rounds} releases"
        );
    }
    assert_eq!(done, [0, 1, 2, 3, 4]);
    assert!(barges >= 5, "the storm never barged: {barges}");
    lock.release().unwrap();
    drop(waiters);
    assert_eq!(lock.state(), FREE);
}

#[tokio::test(start_paused = true)]
async fn duration_max_waits_forever_without_overflow() {
    let lock = Lock::new();
    assert!(lock.acquire_timeout(Duration::MAX).await);
    let l = lock.clone();
    let t = tokio::spawn(async move { l.acquire_timeout(Duration::MAX).await });
    tokio::time::sleep(Duration::from_secs(86_400 * 365)).await;
    assert!(!t.is_finished());
    lock.release().unwrap();
    assert!(t.await.unwrap());
}

#[test]
fn debug_does_not_block() {
    let lock = Lock::new();
    let _g = lock.try_lock().unwrap();
    assert_eq!(format!("{lock:?}"), "Lock { locked: true }");
}
