//! RLock re-entry (the owner acquires and releases one more level) vs an
//! uncontended Lock acquire+release; target: re-entry <= 1.5x the Lock.
//! Rows inside a tokio task (owner = task id) and in a `block_on` body
//! (owner = OS thread id). Also a first, non-re-entrant RLock acquire.
//!
//! `cargo bench --bench rlock` (settings and output: `benches/harness/mod.rs`)

use std::time::{Duration, Instant};

mod harness;
use harness::{Harness, Sampler};
use threadlet::{Lock, RLock};

fn in_task<F>(rt: &tokio::runtime::Runtime, f: F) -> Duration
where
    F: std::future::Future<Output = Duration> + Send + 'static,
{
    rt.block_on(async move { tokio::spawn(f).await.unwrap() })
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let rt = &rt;
    let mut h = Harness::new("rlock");
    let lock_uncontended: Sampler<'_> = Box::new(|n| {
        in_task(rt, async move {
            let lock = Lock::new();
            let start = Instant::now();
            for _ in 0..n {
                lock.acquire().await;
                lock.release().unwrap();
            }
            start.elapsed()
        })
    });
    let rlock_reentry_task: Sampler<'_> = Box::new(|n| {
        in_task(rt, async move {
            let lock = RLock::new();
            lock.acquire().await;
            let start = Instant::now();
            for _ in 0..n {
                lock.acquire().await;
                lock.release().unwrap();
            }
            start.elapsed()
        })
    });
    let rlock_reentry_thread: Sampler<'_> = Box::new(|n| {
        rt.block_on(async move {
            let lock = RLock::new();
            lock.acquire().await;
            let start = Instant::now();
            for _ in 0..n {
                lock.acquire().await;
                lock.release().unwrap();
            }
            start.elapsed()
        })
    });
    let rlock_first_acquire_task: Sampler<'_> = Box::new(|n| {
        in_task(rt, async move {
            let lock = RLock::new();
            let start = Instant::now();
            for _ in 0..n {
                lock.acquire().await;
                lock.release().unwrap();
            }
            start.elapsed()
        })
    });
    h.row(
        "rlock/reentrant",
        "acquire+release",
        vec![
            ("rlock_reentry_task", rlock_reentry_task),
            ("lock_uncontended", lock_uncontended),
            ("rlock_reentry_thread", rlock_reentry_thread),
            ("rlock_first_acquire_task", rlock_first_acquire_task),
        ],
    );
    h.finish();
}
