//! RLock re-entry (the owner acquires and releases one more level) vs an
//! uncontended Lock acquire+release; target: re-entry <= 1.5x the Lock.
//! Rows inside a tokio task (owner = task id) and in a `block_on` body
//! (owner = OS thread id). Also a first, non-re-entrant RLock acquire.
//!
//! `cargo bench --bench rlock -- --warm-up-time 1 --measurement-time 3`

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use threadlet::{Lock, RLock};

fn in_task<F>(rt: &tokio::runtime::Runtime, f: F) -> Duration
where
    F: std::future::Future<Output = Duration> + Send + 'static,
{
    rt.block_on(async move { tokio::spawn(f).await.unwrap() })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let mut g = c.benchmark_group("rlock/reentrant");
    g.bench_function("lock_uncontended", |b| {
        b.iter_custom(|n| {
            in_task(&rt, async move {
                let lock = Lock::new();
                let start = Instant::now();
                for _ in 0..n {
                    lock.acquire().await;
                    lock.release().unwrap();
                }
                start.elapsed()
            })
        })
    });
    g.bench_function("rlock_reentry_task", |b| {
        b.iter_custom(|n| {
            in_task(&rt, async move {
                let lock = RLock::new();
                lock.acquire().await;
                let start = Instant::now();
                for _ in 0..n {
                    lock.acquire().await;
                    lock.release().unwrap();
                }
                start.elapsed()
            })
        })
    });
    g.bench_function("rlock_reentry_thread", |b| {
        b.iter_custom(|n| {
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
        })
    });
    g.bench_function("rlock_first_acquire_task", |b| {
        b.iter_custom(|n| {
            in_task(&rt, async move {
                let lock = RLock::new();
                let start = Instant::now();
                for _ in 0..n {
                    lock.acquire().await;
                    lock.release().unwrap();
                }
                start.elapsed()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
