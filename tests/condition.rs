//! `Condition`: Python parity (CPython `Lib/test/lock_tests.py`
//! `ConditionTests`, rewritten): ownership checks over Lock and RLock, FIFO
//! notify, wait/wait_for/timeouts, both usage styles, and what a cancelled
//! wait leaves behind.

#[path = "common/sync_util.rs"]
mod sync_util;
use sync_util::State;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use threadlet::error::{
    ConditionNotifyError, ConditionWaitError, LockReleaseError, RLockReleaseError,
};
use threadlet::{Condition, Lock, RLock};
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

/// A condition over a plain `Lock` (Python's `Condition(Lock())`): most
/// tests below take and release it from one thread in turns, which only a
/// lock without an owner allows.
fn plain() -> Condition<Lock> {
    Condition::with_lock(Lock::new())
}

/// `Condition::new()` is Python's `Condition()`: over an `RLock`, so the
/// holder may take it again, and only the holder may wait, notify or release.
#[tokio::test]
async fn new_sits_on_an_rlock_as_in_python() {
    let cond: Condition<RLock> = Condition::new();
    let default: Condition = Condition::default();
    assert!(!default.locked());
    let outer = cond.lock().await;
    let inner = cond.lock().await; // re-entry, no deadlock
    assert_eq!(cond.get_lock().recursion_count(), 2);
    // Another task does not own it: every check is Python's.
    let c = cond.clone();
    let (wait, notify, release, took) = tokio::spawn(async move {
        (
            c.wait_timeout(Duration::from_millis(1)).await,
            c.notify(1),
            c.release(),
            c.try_acquire(),
        )
    })
    .await
    .unwrap();
    assert_eq!(wait, Err(ConditionWaitError));
    assert_eq!(notify, Err(ConditionNotifyError));
    assert_eq!(release, Err(RLockReleaseError));
    assert!(!took);
    // The owner may notify, and a wait gives up both levels and restores them.
    inner.notify(1).unwrap();
    let c = cond.clone();
    let notifier = tokio::spawn(async move {
        let g = c.lock().await; // possible only while the owner waits
        g.notify(1).unwrap();
    });
    let mut inner = inner;
    inner.wait().await.unwrap();
    notifier.await.unwrap();
    assert_eq!(cond.get_lock().recursion_count(), 2);
    drop(inner);
    drop(outer);
    assert!(!cond.locked());
}

#[tokio::test]
async fn wait_and_notify_without_the_lock_are_errors_with_pythons_messages() {
    let cond = plain();
    let err = cond.wait().await.unwrap_err();
    assert_eq!(err, ConditionWaitError);
    assert_eq!(err.to_string(), "cannot wait on un-acquired lock");
    let err = cond.notify(1).unwrap_err();
    assert_eq!(err, ConditionNotifyError);
    assert_eq!(err.to_string(), "cannot notify on un-acquired lock");
    assert_eq!(cond.notify_all(), Err(ConditionNotifyError));
    assert_eq!(
        cond.wait_timeout(Duration::from_millis(1)).await,
        Err(ConditionWaitError)
    );
    assert_eq!(cond.wait_for(|| false).await, Err(ConditionWaitError));
    // A blocking form may not run on this runtime thread: from a blocking one.
    let c = cond.clone();
    let blocking = tokio::task::spawn_blocking(move || c.blocking_wait());
    assert_eq!(blocking.await.unwrap(), Err(ConditionWaitError));
    assert_eq!(cond.release(), Err(LockReleaseError));
}

/// Over a plain Lock, Python only checks that somebody holds it.
#[tokio::test]
async fn over_a_lock_any_holder_counts() {
    let cond = plain();
    cond.acquire().await;
    let c = cond.clone();
    let notified = tokio::spawn(async move { c.notify(1) }).await.unwrap();
    assert_eq!(notified, Ok(()));
    cond.release().unwrap();
}

/// Over an RLock only the owner may wait or notify, and a wait gives up and
/// restores every recursion level.
#[tokio::test]
async fn over_an_rlock_ownership_is_checked_and_depth_restored() {
    let lock = RLock::new();
    let cond = Condition::with_lock(lock.clone());
    lock.acquire().await;
    lock.acquire().await;
    let c = cond.clone();
    let (wait, notify) =
        tokio::spawn(async move { (c.wait_timeout(Duration::from_millis(1)).await, c.notify(1)) })
            .await
            .unwrap();
    assert_eq!(wait, Err(ConditionWaitError));
    assert_eq!(notify, Err(ConditionNotifyError));

    let c = cond.clone();
    let notifier = tokio::spawn(async move {
        c.acquire().await; // possible only once the waiter gave up both levels
        let depth = c.get_lock().recursion_count();
        c.notify(1).unwrap();
        c.release().unwrap();
        depth
    });
    cond.wait().await.unwrap();
    assert_eq!(notifier.await.unwrap(), 1);
    assert_eq!(lock.recursion_count(), 2);
    lock.release().unwrap();
    lock.release().unwrap();
    assert!(!lock.locked());
}

#[test]
fn notify_wakes_the_oldest_waiters_first() {
    let cond = plain();
    let mut w = Vec::new();
    for _ in 0..4 {
        assert!(cond.try_acquire());
        let mut f = spawn(cond.wait());
        assert_pending!(f.poll()); // released the lock while waiting
        assert!(!cond.locked());
        w.push(f);
    }
    assert_eq!(cond.statistics().waiters, 4);
    assert!(cond.try_acquire());
    cond.notify(2).unwrap();
    let woken: Vec<bool> = w.iter().map(|f| f.is_woken()).collect();
    assert_eq!(woken, [true, true, false, false]);
    // Woken waiters return only once they get the lock back.
    assert_pending!(w[0].poll());
    assert_pending!(w[1].poll());
    cond.release().unwrap();
    assert!(w[0].is_woken());
    assert_ready!(w[0].poll()).unwrap();
    assert!(cond.locked());
    cond.release().unwrap();
    assert!(w[1].is_woken());
    assert_ready!(w[1].poll()).unwrap();
    cond.notify_all().unwrap();
    cond.release().unwrap();
    assert_ready!(w[2].poll()).unwrap();
    cond.release().unwrap();
    assert_ready!(w[3].poll()).unwrap();
    cond.release().unwrap();
    drop(w);
    assert_eq!(cond.statistics().waiters, 0);
    assert_eq!(cond.get_lock().state(), (1, 0));
}

#[test]
fn notify_with_nobody_waiting_is_not_remembered() {
    let cond = plain();
    assert!(cond.try_acquire());
    cond.notify(5).unwrap();
    let mut w = spawn(cond.wait());
    assert_pending!(w.poll());
    assert!(!w.is_woken());
}

/// Cancelled while waiting for a notification: the caller holds nothing
/// afterwards, and the condition keeps no trace of it.
#[test]
fn cancelled_while_waiting_holds_nothing() {
    let cond = plain();
    assert!(cond.try_acquire());
    let mut w = spawn(cond.wait());
    assert_pending!(w.poll());
    drop(w);
    assert!(
        !cond.locked(),
        "the lock is free: the dropped waiter does not hold it"
    );
    assert_eq!(cond.statistics().waiters, 0);
    // A Python-style caller must not release after a cancelled wait:
    assert_eq!(cond.release(), Err(LockReleaseError));
}

/// Cancelled after it was notified, while re-acquiring the lock: the
/// notification passes to the next waiter, and the lock is not leaked.
#[test]
fn cancelled_while_reacquiring_passes_the_notification_on() {
    let cond = plain();
    assert!(cond.try_acquire());
    let mut a = spawn(cond.wait());
    assert_pending!(a.poll());
    assert!(cond.try_acquire());
    let mut b = spawn(cond.wait());
    assert_pending!(b.poll());
    assert!(cond.try_acquire());
    cond.notify(1).unwrap(); // a is notified
    assert_pending!(a.poll()); // a now queues for the lock
    drop(a); // cancelled mid re-acquire
    assert!(b.is_woken(), "the notification moved on to b");
    cond.release().unwrap();
    assert_ready!(b.poll()).unwrap();
    cond.release().unwrap();
    assert_eq!(cond.statistics().waiters, 0);
    assert_eq!(cond.get_lock().state(), (1, 0));

    // Notified and handed the lock, then dropped before returning: released.
    assert!(cond.try_acquire());
    let mut c = spawn(cond.wait());
    assert_pending!(c.poll());
    assert!(cond.try_acquire());
    cond.notify(1).unwrap();
    assert_pending!(c.poll());
    cond.release().unwrap(); // the lock goes to c
    drop(c);
    assert!(!cond.locked());
    assert_eq!(cond.get_lock().state(), (1, 0));
}

/// With the guard form a cancelled wait leaves the guard without the lock:
/// it does not release on drop (the lock may be somebody else's by then).
#[tokio::test]
async fn guard_knows_it_lost_the_lock_after_a_cancelled_wait() {
    let cond = plain();
    let mut guard = cond.lock().await;
    assert!(guard.is_held());
    {
        let mut w = spawn(guard.wait());
        assert_pending!(w.poll());
    }
    assert!(!guard.is_held());
    assert!(!cond.locked());
    assert_eq!(guard.notify(1), Err(ConditionNotifyError));
    assert_eq!(guard.wait().await, Err(ConditionWaitError));
    // Somebody else takes the lock; dropping the stale guard must not free it.
    let other = cond.get_lock().clone();
    assert!(other.try_acquire());
    drop(guard);
    assert!(cond.locked());
    other.release().unwrap();

    // A wait that completes leaves the guard holding.
    let mut guard = cond.lock().await;
    assert_eq!(
        guard.wait_timeout(Duration::from_millis(1)).await,
        Ok(false)
    );
    assert!(guard.is_held() && cond.locked());
    drop(guard);
    assert!(!cond.locked());
}

#[tokio::test(start_paused = true)]
async fn wait_timeout_reacquires_and_reports_false() {
    let cond = plain();
    cond.acquire().await;
    let start = tokio::time::Instant::now();
    assert_eq!(
        cond.wait_timeout(Duration::from_millis(30)).await,
        Ok(false)
    );
    assert_eq!(start.elapsed(), Duration::from_millis(30));
    assert!(cond.locked());
    assert_eq!(cond.statistics().waiters, 0);
    cond.release().unwrap();
}

#[tokio::test(start_paused = true)]
async fn wait_for_uses_one_overall_deadline() {
    let cond = plain();
    let value = Arc::new(AtomicUsize::new(0));
    let (c, v) = (cond.clone(), value.clone());
    // A notifier that bumps the value every 10 ms but never reaches 100.
    let bumper = tokio::spawn(async move {
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let g = c.lock().await;
            v.fetch_add(1, Ordering::SeqCst);
            g.notify_all().unwrap();
        }
    });
    cond.acquire().await;
    let start = tokio::time::Instant::now();
    let got = cond
        .wait_for_timeout(
            || value.load(Ordering::SeqCst) >= 100,
            Duration::from_millis(55),
        )
        .await;
    assert_eq!(got, Ok(false));
    assert_eq!(start.elapsed(), Duration::from_millis(55));
    assert!(cond.locked());
    // And a predicate that does come true.
    let got = cond
        .wait_for_timeout(|| value.load(Ordering::SeqCst) >= 8, Duration::from_secs(1))
        .await;
    assert_eq!(got, Ok(true));
    cond.release().unwrap();
    bumper.await.unwrap();
}

/// Python-style and guard-style users share one condition: a bounded buffer
/// with 8 producers and 8 consumers on a multi-thread runtime.
#[test]
fn producer_consumer_with_both_styles() {
    let cond = plain();
    let c = cond.clone();
    let consumed = sync_util::run_mt(60, async move {
        let queue = Arc::new(Mutex::new(VecDeque::new()));
        let consumed = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (c, q) = (c.clone(), queue.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..500 {
                    // Python style.
                    c.acquire().await;
                    q.lock().unwrap().push_back(i);
                    c.notify(1).unwrap();
                    c.release().unwrap();
                }
            }));
        }
        for _ in 0..8 {
            let (c, q, n) = (c.clone(), queue.clone(), consumed.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..500 {
                    // Guard style.
                    let mut g = c.lock().await;
                    g.wait_for(|| !q.lock().unwrap().is_empty()).await.unwrap();
                    q.lock().unwrap().pop_front().unwrap();
                    n.fetch_add(1, Ordering::SeqCst);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        consumed.load(Ordering::SeqCst)
    });
    assert_eq!(consumed, 4000);
    assert_eq!(cond.statistics().waiters, 0);
    assert!(!cond.locked());
}

#[test]
fn blocking_forms_with_threads_and_an_rlock() {
    let cond = Condition::with_lock(RLock::new());
    let ready = Arc::new(AtomicBool::new(false));
    let (c, r) = (cond.clone(), ready.clone());
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let mut g = c.blocking_lock();
        // Nobody notifies before this reports: a pure timeout.
        assert_eq!(g.blocking_wait_timeout(Duration::from_millis(5)), Ok(false));
        drop(g);
        tx.send(()).unwrap();
        c.blocking_acquire();
        let got = c.blocking_wait_for_timeout(|| r.load(Ordering::SeqCst), Duration::MAX);
        c.release().unwrap();
        c.blocking_acquire();
        c.blocking_wait_for(|| r.load(Ordering::SeqCst)).unwrap();
        c.release().unwrap();
        got
    });
    rx.recv().unwrap();
    cond.blocking_acquire();
    ready.store(true, Ordering::SeqCst);
    cond.notify_all().unwrap();
    cond.release().unwrap();
    assert_eq!(waiter.join().unwrap(), Ok(true));
    assert_eq!(cond.statistics().waiters, 0);
}

#[test]
fn condition_over_an_existing_lock_shares_it() {
    let lock = Lock::new();
    let cond = Condition::with_lock(lock.clone());
    assert!(lock.try_acquire());
    assert!(cond.locked());
    assert!(!cond.try_acquire());
    cond.release().unwrap();
    assert!(!lock.locked());
    assert!(format!("{cond:?}").starts_with("Condition {"));
}

/// The lock side has every form: `try_lock`, `lock_timeout` (paused clock),
/// `blocking_lock_timeout`; over the default RLock the owner re-enters.
#[tokio::test(start_paused = true)]
async fn lock_side_forms() {
    let cond = plain();
    let guard = cond.try_lock().unwrap();
    assert!(cond.try_lock().is_none());
    let start = tokio::time::Instant::now();
    assert!(cond.lock_timeout(Duration::from_millis(20)).await.is_none());
    assert_eq!(start.elapsed(), Duration::from_millis(20));
    drop(guard);
    let guard = cond.lock_timeout(Duration::from_millis(20)).await.unwrap();
    assert!(guard.is_held());
    guard.notify_all().unwrap();
    drop(guard);
    assert!(!cond.locked());

    let cond = Condition::new();
    let outer = cond.lock_timeout(Duration::from_millis(20)).await.unwrap();
    let inner = cond.try_lock().unwrap(); // re-entry
    assert_eq!(cond.get_lock().recursion_count(), 2);
    let c = cond.clone();
    let other = tokio::task::spawn_blocking(move || {
        c.blocking_lock_timeout(Duration::from_millis(5)).is_some()
    });
    assert!(!other.await.unwrap());
    drop((inner, outer));
    let c = cond.clone();
    let other = tokio::task::spawn_blocking(move || {
        c.blocking_lock_timeout(Duration::from_millis(5)).is_some()
    });
    assert!(other.await.unwrap());
    assert!(!cond.locked());
}
