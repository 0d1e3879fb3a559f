//! Lock vs `tokio::sync::Mutex<()>` and `async_lock::Mutex<()>`: uncontended
//! acquire+release, and 8 / 64 tasks x 10,000 increments, on a 2-worker
//! multi-thread runtime (`mt`) and on a current-thread runtime (`ct`, whose
//! figures are stable on a noisy VM); the uncontended row on `ct` also runs
//! threadlet with `introspect::set_track_holders(true)` (`threadlet_holders`).
//!
//! `cargo bench --bench lock` (settings and output: `benches/harness/mod.rs`)

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

mod harness;
use harness::{Harness, Sampler};

const INCREMENTS: usize = 10_000;

fn mt() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

fn ct() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// The three locks behind one interface: lock, then unlock on guard drop.
trait BenchLock: Clone + Send + Sync + 'static {
    fn make() -> Self;
    fn with_lock(&self, f: impl FnOnce() + Send) -> impl Future<Output = ()> + Send;
}

#[derive(Clone)]
struct Threadlet(threadlet::Lock);
#[derive(Clone)]
struct Tokio(Arc<tokio::sync::Mutex<()>>);
#[derive(Clone)]
struct AsyncLock(Arc<async_lock::Mutex<()>>);

impl BenchLock for Threadlet {
    fn make() -> Self {
        Self(threadlet::Lock::new())
    }
    async fn with_lock(&self, f: impl FnOnce() + Send) {
        let _g = self.0.lock().await;
        f();
    }
}

impl BenchLock for Tokio {
    fn make() -> Self {
        Self(Arc::new(tokio::sync::Mutex::new(())))
    }
    async fn with_lock(&self, f: impl FnOnce() + Send) {
        let _g = self.0.lock().await;
        f();
    }
}

impl BenchLock for AsyncLock {
    fn make() -> Self {
        Self(Arc::new(async_lock::Mutex::new(())))
    }
    async fn with_lock(&self, f: impl FnOnce() + Send) {
        let _g = self.0.lock().await;
        f();
    }
}

fn uncontended<L: BenchLock>(rt: &Runtime, iters: u64) -> Duration {
    let lock = L::make();
    rt.block_on(async move {
        tokio::spawn(async move {
            let start = Instant::now();
            for _ in 0..iters {
                lock.with_lock(|| {}).await;
            }
            start.elapsed()
        })
        .await
        .unwrap()
    })
}

/// `tasks` tasks x `INCREMENTS` increments of a counter under the lock.
fn contended<L: BenchLock>(rt: &Runtime, tasks: usize, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let lock = L::make();
        let counter = Arc::new(AtomicUsize::new(0));
        total += rt.block_on(async {
            let start = Instant::now();
            let handles: Vec<_> = (0..tasks)
                .map(|_| {
                    let (lock, counter) = (lock.clone(), counter.clone());
                    tokio::spawn(async move {
                        for _ in 0..INCREMENTS {
                            lock.with_lock(|| {
                                let v = counter.load(Ordering::Relaxed);
                                counter.store(v + 1, Ordering::Relaxed);
                            })
                            .await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
            start.elapsed()
        });
        assert_eq!(counter.load(Ordering::Relaxed), tasks * INCREMENTS);
        black_box(&counter);
    }
    total
}

fn main() {
    let mut h = Harness::new("lock");
    harness::cas_row(&mut h);
    let mt = mt();
    let ct = ct();
    h.row(
        "lock/uncontended",
        "acquire+release",
        vec![
            (
                "threadlet",
                Box::new(|n| uncontended::<Threadlet>(&mt, n)) as Sampler<'_>,
            ),
            ("tokio", Box::new(|n| uncontended::<Tokio>(&mt, n))),
            ("async_lock", Box::new(|n| uncontended::<AsyncLock>(&mt, n))),
        ],
    );
    // Issue 14's cost row: the same acquire+release on the current-thread
    // runtime, with `dump()`'s holder tracking off (the default) and on.
    h.row(
        "lock/uncontended/ct",
        "acquire+release",
        vec![
            (
                "threadlet",
                Box::new(|n| uncontended::<Threadlet>(&ct, n)) as Sampler<'_>,
            ),
            (
                "threadlet_holders",
                Box::new(|n| {
                    threadlet::introspect::set_track_holders(true);
                    let t = uncontended::<Threadlet>(&ct, n);
                    threadlet::introspect::set_track_holders(false);
                    t
                }),
            ),
            ("tokio", Box::new(|n| uncontended::<Tokio>(&ct, n))),
            ("async_lock", Box::new(|n| uncontended::<AsyncLock>(&ct, n))),
        ],
    );
    for tasks in [8, 64] {
        for (rt_name, rt) in [("mt", &mt), ("ct", &ct)] {
            h.row(
                &format!("lock/contended_{tasks}/{rt_name}"),
                &format!("{tasks} tasks x {INCREMENTS}"),
                vec![
                    (
                        "threadlet",
                        Box::new(move |n| contended::<Threadlet>(rt, tasks, n)) as Sampler<'_>,
                    ),
                    ("tokio", Box::new(move |n| contended::<Tokio>(rt, tasks, n))),
                    (
                        "async_lock",
                        Box::new(move |n| contended::<AsyncLock>(rt, tasks, n)),
                    ),
                ],
            );
        }
    }
    h.finish();
}
