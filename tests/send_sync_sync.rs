//! Compile-time checks (tokio's `async_send_sync.rs` style): every sync
//! primitive, guard, error and the futures of every async method are
//! `Send + Sync`; handles are `Clone + Unpin`. If any of these stopped
//! holding, this file would fail to compile.

use std::time::Duration;

use threadlet::error::{
    BarrierPartiesError, BrokenBarrierError, ConditionNotifyError, ConditionWaitError,
    LockReleaseError, RLockReleaseError, SemaphoreReleaseError,
};
use threadlet::{
    Barrier, BarrierBuilder, BoundedSemaphore, Condition, ConditionGuard, Event, Lock, LockGuard,
    RLock, RLockGuard, Semaphore, SemaphoreGuard,
};

fn send_sync<T: Send + Sync>(_: &T) {}
fn handle<T: Send + Sync + Clone + Unpin + std::fmt::Debug + 'static>() {}
fn error<T: std::error::Error + Send + Sync + Copy + Eq + 'static>() {}
fn send_sync_type<T: Send + Sync>() {}

#[test]
fn handles_guards_and_errors() {
    handle::<Lock>();
    handle::<RLock>();
    handle::<Condition>();
    handle::<Condition<RLock>>();
    handle::<Event>();
    handle::<Semaphore>();
    handle::<BoundedSemaphore>();
    handle::<Barrier>();
    send_sync_type::<BarrierBuilder>();
    send_sync_type::<LockGuard<'static>>();
    send_sync_type::<RLockGuard<'static>>();
    send_sync_type::<SemaphoreGuard<'static>>();
    send_sync_type::<ConditionGuard<'static>>();
    send_sync_type::<ConditionGuard<'static, RLock>>();
    error::<LockReleaseError>();
    error::<RLockReleaseError>();
    error::<ConditionWaitError>();
    error::<ConditionNotifyError>();
    error::<SemaphoreReleaseError>();
    error::<BrokenBarrierError>();
    error::<BarrierPartiesError>();
}

/// Futures are only created, never polled: this is about their types.
#[test]
#[allow(clippy::let_underscore_future)]
fn futures_of_every_async_method() {
    let d = Duration::from_millis(1);
    let lock = Lock::new();
    send_sync(&lock.acquire());
    send_sync(&lock.acquire_timeout(d));
    send_sync(&lock.lock());
    send_sync(&lock.lock_timeout(d));

    let rlock = RLock::new();
    send_sync(&rlock.acquire());
    send_sync(&rlock.acquire_timeout(d));
    send_sync(&rlock.lock());

    let sem = Semaphore::new(1);
    send_sync(&sem.acquire());
    send_sync(&sem.acquire_timeout(d));
    send_sync(&sem.permit());
    let bsem = BoundedSemaphore::new(1);
    send_sync(&bsem.acquire());
    send_sync(&bsem.acquire_timeout(d));
    send_sync(&bsem.permit());

    let event = Event::new();
    send_sync(&event.wait());
    send_sync(&event.wait_timeout(d));

    let barrier = Barrier::new(2).unwrap();
    send_sync(&barrier.wait());
    send_sync(&barrier.wait_timeout(d));

    let cond = Condition::new();
    send_sync(&cond.acquire());
    send_sync(&cond.acquire_timeout(d));
    send_sync(&cond.lock());
    send_sync(&cond.wait());
    send_sync(&cond.wait_timeout(d));
    send_sync(&cond.wait_for(|| true));
    send_sync(&cond.wait_for_timeout(|| true, d));
    let rcond = Condition::with_lock(RLock::new());
    send_sync(&rcond.wait());
    send_sync(&rcond.lock());
    let mut guard = cond.blocking_lock();
    send_sync(&guard.wait());
    send_sync(&guard.wait_timeout(d));
    send_sync(&guard.wait_for(|| true));
    send_sync(&guard.wait_for_timeout(|| true, d));
}

/// Futures that hold a guard across an `.await` can still be spawned.
#[tokio::test]
async fn guards_held_across_await_in_spawned_tasks() {
    let (lock, rlock, sem, cond) = (
        Lock::new(),
        RLock::new(),
        Semaphore::new(1),
        Condition::new(),
    );
    tokio::spawn(async move {
        let _a = lock.lock().await;
        let _b = rlock.lock().await;
        let _c = sem.permit().await;
        let mut g = cond.lock().await;
        tokio::task::yield_now().await;
        let _ = g.wait_timeout(Duration::from_millis(1)).await;
    })
    .await
    .unwrap();
}
