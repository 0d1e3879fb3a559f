//! `RLock`: ownership by task id (or OS thread id outside tasks), re-entry,
//! release by a non-owner, the `join!` sharp edge (CPython
//! `Lib/test/lock_tests.py` `RLockTests`, rewritten for tasks).

#[path = "common/sync_util.rs"]
mod sync_util;
use sync_util::State;

use std::time::Duration;

use threadlet::RLock;
use threadlet::error::RLockReleaseError;

const FREE: (usize, usize) = (1, 0);

#[tokio::test]
async fn reentry_counts_and_must_be_released_as_often() {
    let lock = RLock::new();
    for depth in 1..=3 {
        lock.acquire().await;
        assert_eq!(lock.recursion_count(), depth);
    }
    assert_eq!(lock.count(), 3);
    assert!(lock.try_acquire());
    assert!(lock.acquire_timeout(Duration::from_millis(1)).await);
    assert_eq!(lock.recursion_count(), 5);
    for _ in 0..4 {
        lock.release().unwrap();
        assert!(lock.locked());
    }
    lock.release().unwrap();
    assert!(!lock.locked());
    assert_eq!(lock.release(), Err(RLockReleaseError));
    assert_eq!(lock.state(), FREE);
}

#[tokio::test]
async fn release_by_non_owner_is_an_error_with_pythons_message() {
    let lock = RLock::new();
    let err = lock.release().unwrap_err();
    assert_eq!(err.to_string(), "cannot release un-acquired lock");
    lock.acquire().await; // owned by this test body's OS thread
    let l = lock.clone();
    let (released, owned, count) =
        tokio::spawn(async move { (l.release(), l.is_owned(), l.recursion_count()) })
            .await
            .unwrap();
    assert_eq!(released, Err(RLockReleaseError));
    assert!(!owned);
    assert_eq!(count, 0);
    let l = lock.clone();
    assert_eq!(
        std::thread::spawn(move || l.release()).join().unwrap(),
        Err(RLockReleaseError)
    );
    assert!(lock.is_owned());
    assert_eq!(lock.recursion_count(), 1);
    lock.release().unwrap();
}

#[tokio::test]
async fn a_test_body_and_a_task_are_different_owners() {
    let lock = RLock::new();
    lock.acquire().await;
    let l = lock.clone();
    assert!(!tokio::spawn(async move { l.try_acquire() }).await.unwrap());
    let l = lock.clone();
    let waiter = tokio::spawn(async move {
        l.acquire().await;
        let owned = l.is_owned();
        l.release().unwrap();
        owned
    });
    tokio::task::yield_now().await;
    assert!(!waiter.is_finished());
    lock.release().unwrap();
    assert!(waiter.await.unwrap());
    assert_eq!(lock.state(), FREE);
}

/// A task keeps ownership across `.await`s even when it moves between the
/// workers of a multi-thread runtime.
#[test]
fn ownership_follows_the_task_across_workers() {
    let lock = RLock::new();
    let threads = sync_util::run_mt(30, async move {
        let mut threads = std::collections::HashSet::new();
        lock.acquire().await;
        for _ in 0..2000 {
            threads.insert(std::thread::current().id());
            tokio::task::yield_now().await;
            assert!(lock.is_owned());
            lock.acquire().await; // re-entry from whatever worker we are on
            lock.release().unwrap();
        }
        lock.release().unwrap();
        assert!(!lock.locked());
        threads.len()
    });
    assert!(threads >= 1);
}

/// The sharp edge, by design: sub-futures of one task share its id, so they
/// count as one owner and re-enter instead of excluding each other.
#[tokio::test]
async fn sub_futures_of_one_task_share_ownership() {
    let lock = RLock::new();
    let (a, b) = (lock.clone(), lock.clone());
    let task = tokio::spawn(async move {
        let first = async {
            a.acquire().await;
            tokio::task::yield_now().await;
            tokio::task::yield_now().await;
            let depth = a.recursion_count();
            a.release().unwrap();
            depth
        };
        let second = async {
            tokio::task::yield_now().await;
            // `first` holds the lock, yet this returns at once: same task.
            b.acquire().await;
            let depth = b.recursion_count();
            b.release().unwrap();
            depth
        };
        tokio::join!(first, second)
    });
    let (d1, d2) = task.await.unwrap();
    assert_eq!(d2, 2, "the second sub-future re-entered");
    assert_eq!(d1, 1, "by then the second had released its level");
    assert_eq!(lock.state(), FREE);
}

#[tokio::test]
async fn guard_releases_one_level_even_on_another_task() {
    let lock = RLock::new();
    let outer = lock.lock().await;
    {
        let _inner = lock.lock().await;
        assert_eq!(lock.recursion_count(), 2);
    }
    assert_eq!(lock.recursion_count(), 1);
    // A guard moved into a scoped thread still releases its level there.
    std::thread::scope(|s| {
        s.spawn(move || drop(outer));
    });
    assert!(!lock.locked());
    let g = lock.try_lock().unwrap();
    assert!(g.lock().is_owned());
    drop(g);
    assert_eq!(lock.state(), FREE);
}

#[test]
fn os_threads_own_by_thread_id_with_blocking_forms() {
    let lock = RLock::new();
    lock.blocking_acquire();
    lock.blocking_acquire();
    assert_eq!(lock.recursion_count(), 2);
    let l = lock.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let other = std::thread::spawn(move || {
        tx.send(l.blocking_acquire_timeout(Duration::from_millis(10)))
            .unwrap();
        l.blocking_acquire(); // waits for main to release both levels
        let depth = l.recursion_count();
        l.release().unwrap();
        depth
    });
    assert!(
        !rx.recv().unwrap(),
        "another thread's lock is not re-entrant"
    );
    lock.release().unwrap();
    assert!(lock.locked(), "one level left");
    lock.release().unwrap();
    assert_eq!(other.join().unwrap(), 1);
    let g = lock.blocking_lock();
    drop(g);
    assert_eq!(lock.state(), FREE);
}

/// Python (gh-134323): `locked()` stays true while owned by a thread that has
/// exited without releasing; here, a finished task.
#[tokio::test]
async fn locked_while_owned_by_a_finished_task() {
    let lock = RLock::new();
    let l = lock.clone();
    tokio::spawn(async move { l.acquire().await })
        .await
        .unwrap();
    assert!(lock.locked());
    assert!(!lock.is_owned());
    assert_eq!(lock.count(), 1);
    assert!(!lock.try_acquire());
}

#[tokio::test]
async fn cancelled_acquire_sets_no_owner() {
    let lock = RLock::new();
    lock.acquire().await;
    let l = lock.clone();
    let t = tokio::spawn(async move { l.acquire().await });
    sync_util::until(|| lock.state().1 == 1).await;
    t.abort();
    assert!(t.await.unwrap_err().is_cancelled());
    assert!(lock.is_owned());
    lock.release().unwrap();
    assert_eq!(lock.state(), FREE);
    assert_eq!(lock.count(), 0);
}

#[test]
fn debug_shows_the_real_count() {
    let lock = RLock::new();
    assert!(lock.try_acquire() && lock.try_acquire());
    assert_eq!(format!("{lock:?}"), "RLock { locked: true, count: 2 }");
}

// ===== RLock<T>: shared data, new forms, owned guards (issue 13 items 2, 4) =====

/// Re-entrant guards of one owner all see the data (shared access only).
#[tokio::test]
async fn reentrant_guards_share_the_data() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let account = RLock::with_value(AtomicU64::new(100));
    let outer = account.lock().await;
    let inner = account.lock().await;
    inner.fetch_sub(30, Ordering::SeqCst);
    assert_eq!(outer.load(Ordering::SeqCst), 70);
    assert_eq!(account.recursion_count(), 2);
    drop((inner, outer));
    assert_eq!(account.state(), FREE);
}

/// `lock_timeout`: re-enters at once for the owner, times out for another
/// task (paused clock), and leaves no trace.
#[tokio::test(start_paused = true)]
async fn lock_timeout_reenters_or_times_out() {
    let lock = RLock::with_value(5);
    let outer = lock.lock_timeout(Duration::from_millis(10)).await.unwrap();
    let inner = lock.lock_timeout(Duration::ZERO).await.unwrap();
    assert_eq!((*outer, *inner, lock.recursion_count()), (5, 5, 2));
    let other = lock.clone();
    let start = tokio::time::Instant::now();
    let got = tokio::spawn(async move {
        other
            .lock_timeout(Duration::from_millis(30))
            .await
            .map(|g| *g)
    })
    .await
    .unwrap();
    assert_eq!(got, None);
    assert_eq!(start.elapsed(), Duration::from_millis(30));
    assert_eq!(lock.statistics().waiters, 0);
    drop((inner, outer));
    assert_eq!(lock.state(), FREE);
}

/// `blocking_lock_timeout` on plain threads: the owner re-enters, another
/// thread times out.
#[test]
fn blocking_lock_timeout_on_threads() {
    let lock = RLock::new();
    let guard = lock
        .blocking_lock_timeout(Duration::from_millis(5))
        .unwrap();
    let again = lock.blocking_lock_timeout(Duration::ZERO).unwrap();
    let other = lock.clone();
    let got = std::thread::spawn(move || {
        other
            .blocking_lock_timeout(Duration::from_millis(5))
            .is_some()
    })
    .join()
    .unwrap();
    assert!(!got);
    drop((again, guard));
    assert_eq!(lock.state(), FREE);
}

/// An owned guard moves into a task and releases its level there; the owner
/// stays the task that took it until then.
#[tokio::test]
async fn owned_guard_releases_where_it_drops() {
    let lock = RLock::with_value(String::from("config"));
    let guard = lock.lock_owned().await;
    assert!(lock.is_owned());
    let len = tokio::spawn(async move { guard.len() }).await.unwrap();
    assert_eq!(len, 6);
    assert_eq!(lock.state(), FREE);
    // try_lock_owned, into_owned, and a spawned acquiring future.
    let a = lock.try_lock_owned().unwrap();
    let b = lock.try_lock().unwrap().into_owned();
    assert_eq!(lock.recursion_count(), 2);
    std::thread::spawn(move || drop((a, b))).join().unwrap();
    assert_eq!(lock.state(), FREE);
    let g = tokio::spawn(lock.lock_owned()).await.unwrap();
    assert_eq!(*g, "config");
}

/// Guards give `&T` to whichever task holds them, so sharing an `RLock<T>`
/// needs `T: Send + Sync`: a `Cell` inside keeps it on one thread.
#[test]
fn auto_traits_need_sync_data() {
    use std::cell::Cell;
    fn send_sync<T: Send + Sync>() {}
    send_sync::<RLock<std::sync::atomic::AtomicU8>>();
    send_sync::<threadlet::OwnedRLockGuard<u8>>();
    // `<T as NotSync<_>>::check()` compiles only if `T` is not `Sync`.
    trait NotSync<A> {
        fn check() {}
    }
    impl<T: ?Sized> NotSync<()> for T {}
    impl<T: ?Sized + Sync> NotSync<u8> for T {}
    <RLock<Cell<u8>> as NotSync<_>>::check();
    <threadlet::RLockGuard<'static, Cell<u8>> as NotSync<_>>::check();
}
