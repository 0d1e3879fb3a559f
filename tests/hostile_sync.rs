//! Hostile and careless use of the sync primitives (issue 16): panicking user
//! code inside a critical section, guards that outlive their hold, extreme
//! counts, timed calls outside a tokio runtime.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use threadlet::error::SemaphoreReleaseError;
use threadlet::{Barrier, BoundedSemaphore, Condition, ConditionLock, Lock, RLock, Semaphore};

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

// ---- item 1: a panicking wait_for predicate must not leak the lock ----

async fn predicate_panics_on_first_call<L: ConditionLock>(cond: Condition<L>) {
    let c = cond.clone();
    let task = tokio::spawn(async move {
        let mut guard = c.lock().await;
        guard.wait_for(|| panic!("predicate raised")).await.unwrap();
    });
    assert!(task.await.unwrap_err().is_panic());
    assert!(!cond.locked(), "the panicking predicate leaked the lock");
    // And the lock is usable by anybody.
    let guard = tokio::time::timeout(Duration::from_secs(5), cond.lock())
        .await
        .expect("lock() hangs after a panicking predicate");
    drop(guard);
}

async fn predicate_panics_on_recheck<L: ConditionLock>(cond: Condition<L>, timed: bool) {
    let calls = Arc::new(AtomicUsize::new(0));
    let (c, n) = (cond.clone(), calls.clone());
    let task = tokio::spawn(async move {
        let mut guard = c.lock().await;
        let predicate = || {
            if n.fetch_add(1, Ordering::SeqCst) == 0 {
                false
            } else {
                panic!("predicate raised on the re-check")
            }
        };
        if timed {
            let _ = guard
                .wait_for_timeout(predicate, Duration::from_secs(3600))
                .await;
        } else {
            let _ = guard.wait_for(predicate).await;
        }
    });
    while calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    cond.lock().await.notify_all().unwrap();
    assert!(task.await.unwrap_err().is_panic());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(!cond.locked(), "the panicking re-check leaked the lock");
}

#[test]
fn panicking_wait_for_predicate_releases_the_lock() {
    paused_runtime().block_on(async {
        predicate_panics_on_first_call(Condition::new()).await;
        predicate_panics_on_first_call(Condition::with_lock(RLock::new())).await;
        for timed in [false, true] {
            predicate_panics_on_recheck(Condition::new(), timed).await;
            predicate_panics_on_recheck(Condition::with_lock(RLock::new()), timed).await;
        }
    });
}

// ---- item 2: a guard must never release a lock it no longer holds ----

/// (a) over an RLock: `let g = rlock.lock(); timeout(cond.wait()); drop(g)`.
#[test]
fn cancelled_condition_wait_leaves_a_stale_rlock_guard() {
    paused_runtime().block_on(async {
        let rlock = RLock::new();
        let cond = Condition::with_lock(rlock.clone());
        let g = rlock.lock().await;
        let waited = tokio::time::timeout(Duration::from_millis(10), cond.wait()).await;
        assert!(waited.is_err(), "the wait was cancelled by the timeout");
        assert!(
            !rlock.is_owned(),
            "a cancelled wait leaves the caller without the lock"
        );
        // The next holder.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let r = rlock.clone();
        let holder = tokio::spawn(async move {
            let _held = r.lock().await;
            tx.send(()).unwrap();
            done_rx.await.unwrap();
            assert_eq!(r.recursion_count(), 1, "the holder's level was taken");
        });
        rx.await.unwrap();
        drop(g); // stale: must do nothing
        assert!(
            rlock.locked(),
            "a stale guard released the next holder's lock"
        );
        assert_eq!(rlock.count(), 1);
        assert!(!rlock.try_acquire(), "two owners at once");
        done_tx.send(()).unwrap();
        holder.await.unwrap();
        assert!(!rlock.locked());
    });
}

/// (a) over a Lock.
#[test]
fn cancelled_condition_wait_leaves_a_stale_lock_guard() {
    paused_runtime().block_on(async {
        let lock = Lock::new();
        let cond = Condition::with_lock(lock.clone());
        let g = lock.lock().await;
        let waited = tokio::time::timeout(Duration::from_millis(10), cond.wait()).await;
        assert!(waited.is_err());
        assert!(!lock.locked());
        assert!(lock.try_acquire()); // the next holder, Python style
        drop(g); // stale: must do nothing
        assert!(
            lock.locked(),
            "a stale guard released the next holder's lock"
        );
        lock.release().unwrap();
        // A guard that went through a completed wait still holds and releases.
        let g = lock.lock().await;
        assert_eq!(cond.wait_timeout(Duration::from_millis(5)).await, Ok(false));
        assert!(lock.locked());
        drop(g);
        assert!(!lock.locked(), "a guard that waited must still release");
    });
}

/// (b) an explicit release inside the guard's scope, then another acquires.
#[test]
fn explicit_release_makes_the_guard_stale() {
    let lock = Lock::new();
    let g = lock.try_lock().unwrap();
    lock.release().unwrap();
    assert!(lock.try_acquire()); // somebody else now holds it
    drop(g);
    assert!(lock.locked(), "the stale LockGuard released another's hold");
    lock.release().unwrap();

    let rlock = RLock::new();
    let g = rlock.try_lock().unwrap();
    rlock.release().unwrap();
    let other = rlock.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        other.blocking_acquire();
        tx.send(()).unwrap();
        done_rx.recv().unwrap();
        let held = other.recursion_count();
        let released = other.release();
        (held, released)
    });
    rx.recv().unwrap();
    drop(g);
    assert!(
        rlock.locked(),
        "the stale RLockGuard released another's hold"
    );
    done_tx.send(()).unwrap();
    assert_eq!(t.join().unwrap(), (1, Ok(())));
    assert!(!rlock.locked());

    // The same through a ConditionGuard.
    let cond = Condition::new();
    let g = cond.blocking_lock();
    cond.release().unwrap();
    assert!(cond.try_acquire());
    drop(g);
    assert!(
        cond.locked(),
        "the stale ConditionGuard released another's hold"
    );
}

/// (c) an RLockGuard dropped on another thread while the owner re-enters:
/// every depth update must land.
#[test]
fn rlock_guard_dropped_elsewhere_races_reentry_without_losing_depth() {
    let lock = RLock::new();
    for round in 0..10_000 {
        let g = lock.blocking_lock(); // level 1, dropped elsewhere
        lock.blocking_acquire(); // level 2, kept
        let start = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            s.spawn(|| {
                start.wait();
                drop(g);
            });
            start.wait();
            for _ in 0..50 {
                lock.blocking_acquire();
                lock.release().unwrap();
            }
        });
        assert_eq!(
            lock.recursion_count(),
            1,
            "round {round}: depth update lost"
        );
        lock.release().unwrap();
        assert!(!lock.locked(), "round {round}: the RLock stays locked");
    }
}

// ---- item 5: release_n overflow ----

#[test]
fn release_n_overflow_is_a_typed_error_and_changes_nothing() {
    let sem = Semaphore::new(1);
    assert_eq!(
        sem.release_n(usize::MAX),
        Err(SemaphoreReleaseError::Overflow)
    );
    assert_eq!(sem.value(), 1);
    assert_eq!(
        SemaphoreReleaseError::Overflow.to_string(),
        "Semaphore value would exceed its maximum"
    );
    assert_eq!(
        sem.release_n(usize::MAX >> 2),
        Err(SemaphoreReleaseError::Overflow)
    );
    assert_eq!(sem.value(), 1);

    let bounded = BoundedSemaphore::new(3);
    assert!(bounded.try_acquire());
    assert_eq!(
        bounded.release_n(usize::MAX),
        Err(SemaphoreReleaseError::TooManyReleases)
    );
    assert_eq!(bounded.value(), 2);

    // The same with a waiter parked (the slow path under the list's lock).
    let sem = Semaphore::new(0);
    let mut waiter = tokio_test::task::spawn(sem.acquire());
    assert!(waiter.poll().is_pending());
    assert_eq!(
        sem.release_n(usize::MAX),
        Err(SemaphoreReleaseError::Overflow)
    );
    assert!(!waiter.is_woken());
    assert_eq!(sem.value(), 0);
    sem.release().unwrap();
    assert!(waiter.poll().is_ready());
}

// ---- item 10: timed forms outside a tokio runtime ----

#[test]
fn zero_timeouts_need_no_runtime() {
    use futures::executor::block_on;
    let lock = Lock::new();
    assert!(lock.try_acquire());
    assert!(!block_on(lock.acquire_timeout(Duration::ZERO)));
    assert!(block_on(lock.lock_timeout(Duration::ZERO)).is_none());
    lock.release().unwrap();
    assert!(block_on(lock.acquire_timeout(Duration::ZERO)));

    let rlock = RLock::new();
    let other = rlock.clone();
    std::thread::spawn(move || assert!(other.try_acquire()))
        .join()
        .unwrap();
    assert!(!block_on(rlock.acquire_timeout(Duration::ZERO)));

    let sem = Semaphore::new(0);
    assert!(!block_on(sem.acquire_timeout(Duration::ZERO)));
    let bounded = BoundedSemaphore::new(1);
    assert!(bounded.try_acquire());
    assert!(!block_on(bounded.acquire_timeout(Duration::ZERO)));

    let cond = Condition::with_lock(Lock::new());
    assert!(cond.try_acquire());
    assert!(!block_on(cond.acquire_timeout(Duration::ZERO)));
    assert_eq!(block_on(cond.wait_timeout(Duration::ZERO)), Ok(false));
    assert!(cond.locked());
    assert_eq!(
        block_on(cond.wait_for_timeout(|| false, Duration::ZERO)),
        Ok(false)
    );
    let mut guard = block_on(async {
        cond.release().unwrap();
        cond.lock().await
    });
    assert_eq!(block_on(guard.wait_timeout(Duration::ZERO)), Ok(false));
    assert_eq!(
        block_on(guard.wait_for_timeout(|| false, Duration::ZERO)),
        Ok(false)
    );
    drop(guard);

    let barrier = Barrier::new(2).unwrap();
    assert!(block_on(barrier.wait_timeout(Duration::ZERO)).is_err());
    assert!(barrier.broken());

    // Forever needs no timer either.
    let lock = Lock::new();
    assert!(block_on(lock.acquire_timeout(Duration::MAX)));
}

fn panic_message(f: impl FnOnce()) -> String {
    let err = catch_unwind(AssertUnwindSafe(f)).expect_err("must panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[test]
fn non_zero_timeouts_outside_a_runtime_panic_every_time_with_a_clear_message() {
    use futures::executor::block_on;
    let ms = Duration::from_millis(10);
    // Uncontended: the fast path would succeed, yet the call fails the same
    // way as a contended one would, so the bug cannot hide.
    let lock = Lock::new();
    let msg = panic_message(|| {
        let _ = block_on(lock.acquire_timeout(ms));
    });
    assert!(msg.contains("Lock::acquire_timeout"), "{msg}");
    assert!(msg.contains("tokio runtime"), "{msg}");
    assert!(
        msg.contains("hostile_sync.rs"),
        "the caller's location: {msg}"
    );
    assert!(!lock.locked());
    let msg = panic_message(|| {
        let _ = block_on(lock.lock_timeout(ms));
    });
    assert!(msg.contains("Lock::lock_timeout"), "{msg}");

    let rlock = RLock::new();
    let msg = panic_message(|| {
        let _ = block_on(rlock.acquire_timeout(ms));
    });
    assert!(msg.contains("RLock::acquire_timeout"), "{msg}");
    assert!(!rlock.locked());

    let sem = Semaphore::new(1);
    let msg = panic_message(|| {
        let _ = block_on(sem.acquire_timeout(ms));
    });
    assert!(msg.contains("Semaphore::acquire_timeout"), "{msg}");
    assert_eq!(sem.value(), 1);
    let bounded = BoundedSemaphore::new(1);
    let msg = panic_message(|| {
        let _ = block_on(bounded.acquire_timeout(ms));
    });
    assert!(msg.contains("BoundedSemaphore::acquire_timeout"), "{msg}");

    let cond = Condition::new();
    let msg = panic_message(|| {
        let _ = block_on(cond.acquire_timeout(ms));
    });
    assert!(msg.contains("Condition::acquire_timeout"), "{msg}");
    assert!(cond.try_acquire());
    let msg = panic_message(|| {
        let _ = block_on(cond.wait_timeout(ms));
    });
    assert!(msg.contains("Condition::wait_timeout"), "{msg}");
    assert!(cond.locked(), "the panic came before the lock was let go");
    let msg = panic_message(|| {
        let _ = block_on(cond.wait_for_timeout(|| false, ms));
    });
    assert!(msg.contains("Condition::wait_for_timeout"), "{msg}");
    assert!(cond.locked());
    cond.release().unwrap();

    let barrier = Barrier::new(2).unwrap();
    let msg = panic_message(|| {
        let _ = block_on(barrier.wait_timeout(ms));
    });
    assert!(msg.contains("Barrier::wait_timeout"), "{msg}");
    assert!(!barrier.broken(), "the panic came before arriving");
    assert_eq!(barrier.n_waiting(), 0);
}

// ---- extra: a BoundedSemaphore guard after a manual release ----

#[test]
fn bounded_semaphore_guard_reports_an_over_release() {
    let sem = BoundedSemaphore::new(1);
    let permit = sem.try_permit().unwrap();
    sem.release().unwrap(); // manual release while the guard lives
    assert_eq!(
        permit.release(),
        Err(SemaphoreReleaseError::TooManyReleases)
    );
    assert_eq!(sem.value(), 1);

    let permit = sem.try_permit().unwrap();
    assert_eq!(permit.release(), Ok(()));
    assert_eq!(sem.value(), 1);

    // Dropped instead: reported in debug builds, ignored (value unchanged)
    // in release builds.
    let permit = sem.try_permit().unwrap();
    sem.release().unwrap();
    let dropped = catch_unwind(AssertUnwindSafe(|| drop(permit)));
    if cfg!(debug_assertions) {
        let err = dropped.expect_err("the over-release is reported in debug builds");
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("Semaphore released too many times"), "{msg}");
    } else {
        assert!(dropped.is_ok());
    }
    assert_eq!(sem.value(), 1);
}
