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

// ===== Lock<T>: data behind the lock (issue 13 item 4) =====

/// A counter shared by many tasks on many workers is one line per use, and
/// no increment is lost.
#[test]
fn a_counter_in_a_lock_loses_no_increment() {
    let hits = Lock::with_value(0u64);
    let h = hits.clone();
    sync_util::run_mt(60, async move {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let h = h.clone();
                tokio::spawn(async move {
                    for _ in 0..1000 {
                        *h.lock().await += 1;
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(*hits.try_lock().unwrap(), 8000);
    assert_eq!(hits.state(), FREE);
}

/// Plain OS threads and tasks share one `Lock<T>` through every guard form.
#[test]
fn every_guard_form_reaches_the_data() {
    let names = Lock::with_value(Vec::<&str>::new());
    names.try_lock().unwrap().push("try_lock");
    names.blocking_lock().push("blocking_lock");
    names
        .blocking_lock_timeout(Duration::from_millis(5))
        .unwrap()
        .push("blocking_lock_timeout");
    names.try_lock_owned().unwrap().push("try_lock_owned");
    let n = names.clone();
    sync_util::run_mt(60, async move {
        n.lock().await.push("lock");
        n.lock_timeout(Duration::from_secs(5))
            .await
            .unwrap()
            .push("lock_timeout");
        n.lock_owned().await.push("lock_owned");
    });
    assert_eq!(
        *names.try_lock().unwrap(),
        [
            "try_lock",
            "blocking_lock",
            "blocking_lock_timeout",
            "try_lock_owned",
            "lock",
            "lock_timeout",
            "lock_owned"
        ]
    );
}

/// The new forms wait and time out like the old ones (paused clock).
#[tokio::test(start_paused = true)]
async fn lock_timeout_waits_then_gives_up_or_gets_the_lock() {
    let n = Lock::with_value(1u8);
    let held = n.lock().await;
    let start = tokio::time::Instant::now();
    assert!(n.lock_timeout(Duration::from_millis(30)).await.is_none());
    assert_eq!(start.elapsed(), Duration::from_millis(30));
    assert_eq!(n.state(), (0, 0), "the timed-out waiter left no trace");
    let m = n.clone();
    let waiter =
        tokio::spawn(async move { *m.lock_timeout(Duration::from_secs(1)).await.unwrap() });
    tokio::time::sleep(Duration::from_millis(10)).await;
    drop(held);
    assert_eq!(waiter.await.unwrap(), 1);
    assert_eq!(n.state(), FREE);
}

/// An owned guard, and the future that takes it, move into spawned tasks;
/// the lock is held until the guard drops there.
#[tokio::test]
async fn owned_guards_move_into_tasks() {
    let n = Lock::with_value(0u32);
    let mut guard = n.lock_owned().await;
    *guard += 1;
    assert!(n.try_lock().is_none());
    let mut task = spawn(async move {
        tokio::task::yield_now().await;
        *guard += 1;
    });
    assert_pending!(task.poll());
    assert!(n.locked(), "still held by the guard inside the task");
    assert_ready!(task.poll());
    assert!(!n.locked());
    // The acquiring future is 'static: it can be spawned itself.
    let got = tokio::spawn(n.lock_owned()).await.unwrap();
    assert_eq!(*got, 2);
    // A borrowed guard becomes an owned one of the same hold.
    drop(got);
    let owned = n.try_lock().unwrap().into_owned();
    assert!(n.locked());
    tokio::spawn(async move { drop(owned) }).await.unwrap();
    assert_eq!(n.state(), FREE);
}

/// Dropping a pending `lock_owned` future leaks nothing (cancel safety).
#[test]
fn a_dropped_lock_owned_waiter_holds_nothing() {
    let n = Lock::with_value(());
    let held = n.try_lock().unwrap();
    let mut waiter = spawn(n.lock_owned());
    assert_pending!(waiter.poll());
    assert_eq!(n.state(), (0, 1));
    drop(waiter);
    assert_eq!(n.state(), (0, 0));
    drop(held);
    assert_eq!(n.state(), FREE);
}

/// A panic under the guard releases the lock on unwind; the data keeps what
/// was written before the panic (no poisoning, as with Python's lock).
#[test]
fn a_panic_under_the_guard_releases_the_lock() {
    let n = Lock::with_value(0);
    let m = n.clone();
    let outcome = std::thread::spawn(move || {
        let mut guard = m.blocking_lock();
        *guard = 7;
        panic!("boom");
    })
    .join();
    assert!(outcome.is_err());
    assert_eq!(*n.try_lock().unwrap(), 7);
}

/// `Default`, `From` and `Debug` (which never waits for the lock).
#[test]
fn constructors_and_debug() {
    let d: Lock<u8> = Lock::default();
    assert_eq!(*d.try_lock().unwrap(), 0);
    let f = Lock::from(String::from("x"));
    let _g = f.try_lock().unwrap();
    assert_eq!(format!("{f:?}"), "Lock { locked: true }");
    assert_eq!(format!("{_g:?}"), "LockGuard { .. }");
}

/// Auto traits as for `tokio::sync::Mutex<T>`: a lock of `Send` data is
/// shared across threads; a guard is shared only if the data is `Sync`; data
/// that is not `Send` keeps the lock on its thread.
#[test]
fn auto_traits_follow_the_data() {
    use std::cell::Cell;
    use std::rc::Rc;
    use threadlet::{LockGuard, OwnedLockGuard};

    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Lock<Cell<u8>>>();
    send_sync::<Lock>();
    send::<LockGuard<'static, Cell<u8>>>();
    send::<OwnedLockGuard<Cell<u8>>>();
    send_sync::<OwnedLockGuard<u8>>();

    // `<T as NotSync<_>>::check()` compiles only if `T` is not `Sync`
    // (ambiguous otherwise); the same for `Send`.
    trait NotSync<A> {
        fn check() {}
    }
    impl<T: ?Sized> NotSync<()> for T {}
    impl<T: ?Sized + Sync> NotSync<u8> for T {}
    trait NotSend<A> {
        fn check() {}
    }
    impl<T: ?Sized> NotSend<()> for T {}
    impl<T: ?Sized + Send> NotSend<u8> for T {}
    <LockGuard<'static, Cell<u8>> as NotSync<_>>::check();
    <OwnedLockGuard<Cell<u8>> as NotSync<_>>::check();
    <Lock<Rc<u8>> as NotSync<_>>::check();
    <Lock<Rc<u8>> as NotSend<_>>::check();
}
