//! The misuse table: one test per misuse. Each checks the typed error (variant
//! and `Display`, which is Python's message where Python has one) and that the
//! primitive is still usable afterwards. The same table is in the crate docs
//! (`src/lib.rs`, `# Misuse`); keep the two in step.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use threadlet::error::{
    BarrierPartiesError, BrokenBarrierError, ConditionNotifyError, ConditionWaitError, DaemonError,
    GetError, JoinError, LockReleaseError, PutError, RLockReleaseError, SemaphoreReleaseError,
    StartError, TaskDoneError,
};
use threadlet::{
    Barrier, BoundedSemaphore, Condition, ConditionLock, Lock, Queue, RLock, Semaphore, Thread,
};

/// Generous bound for the "still usable" round trips: a hang fails the test.
const LIMIT: Duration = Duration::from_secs(30);

async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(LIMIT, f)
        .await
        .expect("still-usable check hung")
}

// ===== Lock =====

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_release_while_unlocked() {
    let lock = Arc::new(Lock::new());
    let err = lock.release().unwrap_err();
    assert_eq!(err, LockReleaseError);
    assert_eq!(err.to_string(), "release unlocked lock");
    assert!(!lock.locked(), "a failed release must not change the state");

    // Still usable: exclusion between two tasks works as before.
    lock.acquire().await;
    assert!(!lock.try_acquire());
    let l = lock.clone();
    let waiter = tokio::spawn(async move {
        l.acquire().await;
        l.release().unwrap();
    });
    lock.release().unwrap();
    within(waiter).await.unwrap();
    assert!(!lock.locked());
}

// ===== RLock =====

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rlock_release_by_a_task_that_does_not_own_it() {
    let lock = RLock::new();
    lock.acquire().await; // owned by this test body (its OS thread)
    let l = lock.clone();
    let err = tokio::spawn(async move { l.release() })
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err, RLockReleaseError);
    assert_eq!(err.to_string(), "cannot release un-acquired lock");
    assert!(lock.is_owned(), "the owner keeps it");
    assert_eq!(lock.recursion_count(), 1);

    // Still usable: the owner releases, then the other task can take it.
    lock.release().unwrap();
    let l = lock.clone();
    within(tokio::spawn(async move {
        l.acquire().await;
        l.acquire().await;
        l.release().unwrap();
        l.release().unwrap();
    }))
    .await
    .unwrap();
    assert!(!lock.locked());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rlock_release_outside_any_task_by_a_non_owner() {
    let lock = RLock::new();
    let (held_tx, held_rx) = tokio::sync::oneshot::channel();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let l = lock.clone();
    let owner = tokio::spawn(async move {
        l.acquire().await;
        held_tx.send(()).unwrap();
        go_rx.await.unwrap();
        l.release().unwrap();
    });
    held_rx.await.unwrap();

    // A plain OS thread, outside any task, that does not own it.
    let l = lock.clone();
    let err = std::thread::spawn(move || l.release())
        .join()
        .unwrap()
        .unwrap_err();
    assert_eq!(err, RLockReleaseError);
    assert_eq!(err.to_string(), "cannot release un-acquired lock");
    assert!(lock.locked(), "the owning task keeps it");

    // Still usable: the owner releases; the OS thread can then take it.
    go_tx.send(()).unwrap();
    within(owner).await.unwrap();
    let l = lock.clone();
    std::thread::spawn(move || {
        l.blocking_acquire();
        assert!(l.is_owned());
        l.release().unwrap();
    })
    .join()
    .unwrap();
    assert!(!lock.locked());
}

#[tokio::test]
async fn rlock_release_while_unowned() {
    let lock = RLock::new();
    let err = lock.release().unwrap_err();
    assert_eq!(err, RLockReleaseError);
    assert_eq!(err.to_string(), "cannot release un-acquired lock");
    assert!(!lock.locked());
    assert_eq!(lock.recursion_count(), 0);

    lock.acquire().await;
    assert_eq!(lock.recursion_count(), 1);
    lock.release().unwrap();
    assert!(!lock.locked());
}

// ===== Semaphore / BoundedSemaphore =====

#[tokio::test]
async fn bounded_semaphore_released_too_many_times() {
    let sem = BoundedSemaphore::new(2);
    let err = sem.release().unwrap_err();
    assert_eq!(err, SemaphoreReleaseError::TooManyReleases);
    assert_eq!(err.to_string(), "Semaphore released too many times");
    assert_eq!(sem.value(), 2, "the value is unchanged");

    // release_n past the bound: refused as a whole, value unchanged.
    sem.acquire().await;
    assert_eq!(
        sem.release_n(2),
        Err(SemaphoreReleaseError::TooManyReleases)
    );
    assert_eq!(sem.value(), 1);

    // Still usable.
    sem.release().unwrap();
    sem.acquire().await;
    sem.acquire().await;
    assert!(!sem.try_acquire());
    sem.release_n(2).unwrap();
    assert_eq!(sem.value(), 2);
}

#[tokio::test]
async fn semaphore_release_of_zero_permits() {
    let sem = Semaphore::new(1);
    let err = sem.release_n(0).unwrap_err();
    assert_eq!(err, SemaphoreReleaseError::ZeroPermits);
    assert_eq!(err.to_string(), "n must be one or more");
    assert_eq!(sem.value(), 1);

    let bounded = BoundedSemaphore::new(1);
    bounded.acquire().await;
    assert_eq!(
        bounded.release_n(0),
        Err(SemaphoreReleaseError::ZeroPermits)
    );
    assert_eq!(bounded.value(), 0);

    // Still usable.
    sem.acquire().await;
    assert!(!sem.try_acquire());
    sem.release_n(3).unwrap();
    assert_eq!(sem.value(), 3);
    bounded.release_n(1).unwrap();
    assert_eq!(bounded.value(), 1);
}

#[tokio::test]
async fn semaphore_release_past_its_maximum() {
    let sem = Semaphore::new(usize::MAX >> 2);
    let err = sem.release().unwrap_err();
    assert_eq!(err, SemaphoreReleaseError::Overflow);
    assert_eq!(err.to_string(), "Semaphore value would exceed its maximum");
    assert_eq!(sem.value(), usize::MAX >> 2, "the value is unchanged");

    // Still usable.
    sem.acquire().await;
    sem.release().unwrap();
    assert_eq!(sem.value(), usize::MAX >> 2);
}

#[tokio::test]
async fn semaphore_release_n_past_its_maximum() {
    let sem = Semaphore::new(1);
    let err = sem.release_n(usize::MAX).unwrap_err();
    assert_eq!(err, SemaphoreReleaseError::Overflow);
    assert_eq!(err.to_string(), "Semaphore value would exceed its maximum");
    assert_eq!(sem.value(), 1, "the value is unchanged");
    let bounded = BoundedSemaphore::new(3);
    assert_eq!(
        bounded.release_n(usize::MAX),
        Err(SemaphoreReleaseError::TooManyReleases)
    );
    assert_eq!(bounded.value(), 3);

    // Still usable.
    sem.acquire().await;
    sem.release_n(2).unwrap();
    assert_eq!(sem.value(), 2);
}

#[tokio::test]
async fn bounded_semaphore_guard_given_back_after_a_manual_release() {
    let sem = BoundedSemaphore::new(1);
    let permit = sem.permit().await;
    sem.release().unwrap(); // by hand, while the guard lives
    let err = permit.release().unwrap_err();
    assert_eq!(err, SemaphoreReleaseError::TooManyReleases);
    assert_eq!(err.to_string(), "Semaphore released too many times");
    assert_eq!(sem.value(), 1, "the value is unchanged");

    // Still usable.
    let permit = sem.permit().await;
    assert!(!sem.try_acquire());
    permit.release().unwrap();
    assert_eq!(sem.value(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_dropped_after_its_hold_ended() {
    // An explicit release in the guard's scope, then another holder.
    let lock = Lock::new();
    let guard = lock.lock().await;
    lock.release().unwrap();
    assert!(lock.try_acquire());
    drop(guard); // stale: does nothing
    assert!(lock.locked(), "the next holder keeps the lock");
    lock.release().unwrap();

    // A cancelled Condition wait, over an RLock, then another holder.
    let rlock = RLock::new();
    let cond = Condition::with_lock(rlock.clone());
    let guard = rlock.lock().await;
    assert!(
        tokio::time::timeout(Duration::from_millis(1), cond.wait())
            .await
            .is_err()
    );
    let r = rlock.clone();
    let (held_tx, held_rx) = tokio::sync::oneshot::channel();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let holder = tokio::spawn(async move {
        let _g = r.lock().await;
        held_tx.send(()).unwrap();
        go_rx.await.unwrap();
        r.recursion_count()
    });
    held_rx.await.unwrap();
    drop(guard); // stale: does nothing
    assert!(rlock.locked());
    go_tx.send(()).unwrap();
    assert_eq!(within(holder).await.unwrap(), 1);

    // Still usable.
    drop(within(rlock.lock()).await);
    drop(within(lock.lock()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn condition_wait_for_predicate_panics() {
    let cond = Condition::new();
    let c = cond.clone();
    let task = tokio::spawn(async move {
        let mut guard = c.lock().await;
        guard.wait_for(|| panic!("predicate raised")).await.unwrap();
    });
    assert!(task.await.unwrap_err().is_panic());
    assert!(!cond.locked(), "the guard's drop released the lock");

    // Still usable.
    condition_still_works(cond).await;
}

#[test]
fn timed_call_outside_a_tokio_runtime() {
    use futures::executor::block_on;
    let lock = Lock::new();
    // Zero and forever need no runtime.
    assert!(block_on(lock.acquire_timeout(Duration::ZERO)));
    assert!(!block_on(lock.acquire_timeout(Duration::ZERO)));
    lock.release().unwrap();
    assert!(block_on(lock.acquire_timeout(Duration::MAX)));
    lock.release().unwrap();
    // Any other timeout panics every time, even when the lock is free.
    let err = std::panic::catch_unwind(|| block_on(lock.acquire_timeout(Duration::from_secs(1))))
        .unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(
        msg.contains("`Lock::acquire_timeout` called at tests/misuse.rs:"),
        "{msg}"
    );
    assert!(msg.contains("needs a tokio runtime"), "{msg}");

    // Still usable.
    assert!(!lock.locked());
    assert!(block_on(lock.acquire_timeout(Duration::ZERO)));
}

// ===== Condition =====

/// A waiter task and a notifier: the condition still works.
async fn condition_still_works<L: ConditionLock + Send + Sync + 'static>(cond: Condition<L>) {
    let ready = Arc::new(AtomicBool::new(false));
    let (c, r) = (cond.clone(), ready.clone());
    let waiter = tokio::spawn(async move {
        let mut guard = c.lock().await;
        guard.wait_for(|| r.load(Ordering::SeqCst)).await.unwrap();
    });
    {
        let guard = cond.lock().await;
        ready.store(true, Ordering::SeqCst);
        guard.notify_all().unwrap();
    }
    within(waiter).await.unwrap();
    assert!(!cond.locked());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn condition_wait_without_the_lock() {
    let cond = Condition::new();
    let err = cond.wait().await.unwrap_err();
    assert_eq!(err, ConditionWaitError);
    assert_eq!(err.to_string(), "cannot wait on un-acquired lock");
    assert_eq!(
        cond.wait_timeout(Duration::from_secs(1)).await,
        Err(ConditionWaitError)
    );
    assert_eq!(cond.wait_for(|| false).await, Err(ConditionWaitError));
    // As in Python, `wait_for` whose predicate already holds returns at once,
    // without waiting, so without checking the lock either.
    assert_eq!(cond.wait_for(|| true).await, Ok(()));
    assert!(!cond.locked());
    condition_still_works(cond).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn condition_over_rlock_wait_without_the_lock() {
    let cond = Condition::with_lock(RLock::new());
    let err = cond.wait().await.unwrap_err();
    assert_eq!(err, ConditionWaitError);
    assert_eq!(err.to_string(), "cannot wait on un-acquired lock");

    // Held by another task is not held by us.
    cond.acquire().await;
    let c = cond.clone();
    let err = tokio::spawn(async move { c.wait().await })
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err, ConditionWaitError);
    assert_eq!(cond.get_lock().recursion_count(), 1);
    cond.release().unwrap();

    condition_still_works(cond).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn condition_notify_without_the_lock() {
    let cond = Condition::new();
    let err = cond.notify(1).unwrap_err();
    assert_eq!(err, ConditionNotifyError);
    assert_eq!(err.to_string(), "cannot notify on un-acquired lock");
    assert_eq!(cond.notify_all(), Err(ConditionNotifyError));
    assert!(!cond.locked());
    condition_still_works(cond).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn condition_over_rlock_notify_without_the_lock() {
    let cond = Condition::with_lock(RLock::new());
    let err = cond.notify(1).unwrap_err();
    assert_eq!(err, ConditionNotifyError);
    assert_eq!(err.to_string(), "cannot notify on un-acquired lock");
    assert_eq!(cond.notify_all(), Err(ConditionNotifyError));

    // Held by another task is not held by us.
    cond.acquire().await;
    let c = cond.clone();
    let err = tokio::spawn(async move { c.notify_all() })
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err, ConditionNotifyError);
    cond.release().unwrap();

    condition_still_works(cond).await;
}

// ===== Barrier =====

#[tokio::test]
async fn barrier_of_zero_parties() {
    let err = Barrier::new(0).unwrap_err();
    assert_eq!(err, BarrierPartiesError);
    assert_eq!(err.to_string(), "parties must be >= 1");
    assert_eq!(
        Barrier::builder(0).build().unwrap_err(),
        BarrierPartiesError
    );

    // Nothing is poisoned: a valid barrier right after works.
    let barrier = Barrier::new(1).unwrap();
    assert_eq!(barrier.wait().await, Ok(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn barrier_used_after_abort() {
    let barrier = Barrier::new(2).unwrap();
    let b = barrier.clone();
    let early = tokio::spawn(async move { b.wait().await });
    // Let the first party arrive, then abort: it and later callers are broken.
    within(async {
        while barrier.n_waiting() < 1 {
            tokio::task::yield_now().await;
        }
    })
    .await;
    barrier.abort();
    assert_eq!(within(early).await.unwrap(), Err(BrokenBarrierError));
    let err = barrier.wait().await.unwrap_err();
    assert_eq!(err, BrokenBarrierError);
    assert_eq!(err.to_string(), "barrier is broken");
    assert!(barrier.broken());

    // `reset` makes it usable again.
    barrier.reset();
    assert!(!barrier.broken());
    let b = barrier.clone();
    let other = tokio::spawn(async move { b.wait().await });
    let mine = within(barrier.wait()).await.unwrap();
    let theirs = within(other).await.unwrap().unwrap();
    assert_eq!(
        {
            let mut v = [mine, theirs];
            v.sort_unstable();
            v
        },
        [0, 1]
    );
}

// ===== Queue =====

#[tokio::test]
async fn task_done_called_too_many_times() {
    let q: Queue<u8> = Queue::new(0);
    let err = q.task_done().unwrap_err();
    assert_eq!(err, TaskDoneError);
    assert_eq!(err.to_string(), "task_done() called too many times");

    q.put(1).await.unwrap();
    assert_eq!(q.get().await, Ok(1));
    q.task_done().unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert_eq!(q.unfinished_tasks(), 0, "the count never goes below zero");

    // Still usable: join counts as before.
    q.put(2).await.unwrap();
    assert!(!q.join_timeout(Duration::ZERO).await);
    assert_eq!(q.get().await, Ok(2));
    q.task_done().unwrap();
    within(q.join()).await;
}

#[tokio::test]
async fn put_after_shutdown_hands_the_item_back() {
    let q: Queue<String> = Queue::new(0);
    q.put("queued".to_owned()).await.unwrap();
    q.shutdown();
    let err = q.put("late".to_owned()).await.unwrap_err();
    assert!(err.is_shut_down());
    assert_eq!(err.to_string(), "queue is shut down");
    assert_eq!(err.into_inner(), "late", "the item comes back");
    match q.put_nowait("later".to_owned()) {
        Err(PutError::ShutDown(item)) => assert_eq!(item, "later"),
        other => panic!("expected ShutDown, got {other:?}"),
    }
    // Still usable as a shut-down queue: what was queued can still be got.
    assert_eq!(q.len(), 1);
    assert_eq!(q.get().await.as_deref(), Ok("queued"));
    q.task_done().unwrap();
    within(q.join()).await;
}

#[tokio::test]
async fn get_after_shutdown_once_empty() {
    let q: Queue<u8> = Queue::new(0);
    q.put(7).await.unwrap();
    q.shutdown();
    // Python: get drains what is left, then raises ShutDown.
    assert_eq!(q.get().await, Ok(7));
    let err = q.get().await.unwrap_err();
    assert_eq!(err, GetError::ShutDown);
    assert_eq!(err.to_string(), "queue is shut down");
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    assert_eq!(
        q.get_timeout(Duration::from_secs(1)).await,
        Err(GetError::ShutDown)
    );
    // The queue is still consistent: one item got, one task to finish.
    assert_eq!(q.unfinished_tasks(), 1);
    q.task_done().unwrap();
    within(q.join()).await;
    assert!(q.is_shutdown());
}

// ===== Thread =====

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_started_twice() {
    let mut t = Thread::new(async { 6 * 7 });
    t.start().unwrap();
    let err = t.start().unwrap_err();
    assert_eq!(err, StartError::AlreadyStarted);
    assert_eq!(err.to_string(), "threads can only be started once");
    // Still usable: the first start runs to completion and joins normally.
    assert_eq!(within(t.join_timeout(Duration::MAX)).await, Ok(42));
    assert_eq!(t.start(), Err(StartError::AlreadyStarted));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_joined_before_start() {
    let t = Thread::new(async { "done" });
    // Joined through a `ThreadRef`, which keeps the handle (`join` consumes it).
    let err = t.thread_ref().join().await.unwrap_err();
    assert_eq!(err, JoinError::NotStarted);
    assert_eq!(err.to_string(), "cannot join thread before it is started");
    assert!(!t.is_alive());
    // Still usable: start, then join.
    t.start().unwrap();
    assert_eq!(within(t.join()).await, Ok("done"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_daemon_set_after_start() {
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let t = Thread::new(async move {
        go_rx.await.unwrap();
    });
    t.start().unwrap();
    let err = t.set_daemon(true).unwrap_err();
    assert_eq!(err, DaemonError);
    assert_eq!(err.to_string(), "cannot set daemon status of active thread");
    assert!(!t.is_daemon(), "the flag is unchanged");
    // Still usable: it runs and joins normally.
    go_tx.send(()).unwrap();
    assert_eq!(within(t.thread_ref().join()).await, Ok(()));
    assert_eq!(t.set_daemon(true), Err(DaemonError));
}

// ===== Process =====

#[cfg(all(feature = "process", target_os = "linux"))]
mod process {
    use serde::{Deserialize, Serialize};
    use threadlet::error::{ProcessJoinError, ProcessStartError};
    use threadlet::process::{self, Process};

    use super::within;

    fn square(x: u64) -> u64 {
        x * x
    }

    fn never_registered(_: ()) {}

    /// Arguments whose `Serialize` impl fails.
    struct Unencodable;

    impl Serialize for Unencodable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom(
                "this value refuses to be encoded",
            ))
        }
    }

    impl<'de> Deserialize<'de> for Unencodable {
        fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            Ok(Unencodable)
        }
    }

    fn takes_unencodable(_: Unencodable) {}

    fn targets() {
        process::register(square);
        process::register(takes_unencodable);
    }

    process::test_support!(targets);

    #[tokio::test]
    async fn process_started_twice() {
        threadlet_process_setup();
        let p = Process::new(square, 3).unwrap();
        p.start().unwrap();
        let err = p.start().unwrap_err();
        assert_eq!(err, ProcessStartError::AlreadyStarted);
        assert_eq!(err.to_string(), "cannot start a process twice");
        // Still usable: the child started once runs and joins normally.
        assert_eq!(within(p.join()).await, Ok(9));
        assert_eq!(p.exitcode(), Some(0));
    }

    #[tokio::test]
    async fn process_joined_before_start() {
        threadlet_process_setup();
        let p = Process::new(square, 4).unwrap();
        let err = p.join().await.unwrap_err();
        assert_eq!(err, ProcessJoinError::NotStarted);
        assert_eq!(err.to_string(), "can only join a started process");
        assert_eq!(p.try_join(), Err(ProcessJoinError::NotStarted));
        assert_eq!(p.pid(), None);
        // Still usable: start, then join.
        p.start().unwrap();
        assert_eq!(within(p.join()).await, Ok(16));
    }

    #[tokio::test]
    async fn process_with_unencodable_arguments() {
        threadlet_process_setup();
        let err = Process::new(takes_unencodable, Unencodable).unwrap_err();
        // The codec (postcard) reports a failing `Serialize` impl without its
        // custom message: the variant carries the codec's text.
        let ProcessStartError::Encode(ref msg) = err else {
            panic!("expected Encode, got {err:?}");
        };
        assert!(!msg.is_empty());
        assert_eq!(
            err.to_string(),
            format!("cannot encode the process arguments: {msg}")
        );
        // Nothing broken: the next process runs.
        let p = process::spawn_process(square, 5).unwrap();
        assert_eq!(within(p.join()).await, Ok(25));
    }

    #[tokio::test]
    async fn process_with_an_unknown_target() {
        threadlet_process_setup();
        let p = Process::new(never_registered, ()).unwrap();
        let err = p.start().unwrap_err();
        let ProcessStartError::UnknownTarget(ref name) = err else {
            panic!("expected UnknownTarget, got {err:?}");
        };
        assert!(name.ends_with("never_registered"), "{name}");
        assert_eq!(
            err.to_string(),
            format!(
                "unknown process target `{name}`: register it before threadlet::process::init()"
            )
        );
        // Refused before any child exists; the handle stays unstarted.
        assert_eq!(p.pid(), None);
        assert!(!p.is_alive());
        assert_eq!(p.join().await, Err(ProcessJoinError::NotStarted));
        // Nothing broken: a registered target runs.
        let q = process::spawn_process(square, 6).unwrap();
        assert_eq!(within(q.join()).await, Ok(36));
    }
}
