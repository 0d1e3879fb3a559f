//! Semaphore(4) with 64 tasks x 10,000 acquires vs `tokio::sync::Semaphore`
//! and `async_lock::Semaphore`: once releasing at once, once holding the
//! permit across a `yield_now` (only then do permits run out on 2 workers).
//! On a 2-worker multi-thread runtime (`mt`) and a current-thread one (`ct`).
//!
//! `cargo bench --bench semaphore` (settings and output: `benches/harness/mod.rs`)

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod harness;
use harness::{Harness, Sampler};
use tokio::runtime::Runtime;

const TASKS: usize = 64;
const ACQUIRES: usize = 10_000;
const PERMITS: usize = 4;

trait BenchSem: Clone + Send + Sync + 'static {
    fn make() -> Self;
    fn with_permit(&self, hold: bool) -> impl Future<Output = ()> + Send;
}

#[derive(Clone)]
struct Threadlet(threadlet::Semaphore);
#[derive(Clone)]
struct Tokio(Arc<tokio::sync::Semaphore>);
#[derive(Clone)]
struct AsyncLock(Arc<async_lock::Semaphore>);

impl BenchSem for Threadlet {
    fn make() -> Self {
        Self(threadlet::Semaphore::new(PERMITS))
    }
    async fn with_permit(&self, hold: bool) {
        let _p = self.0.permit().await;
        if hold {
            tokio::task::yield_now().await;
        }
    }
}

impl BenchSem for Tokio {
    fn make() -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new(PERMITS)))
    }
    async fn with_permit(&self, hold: bool) {
        let _p = self.0.acquire().await.unwrap();
        if hold {
            tokio::task::yield_now().await;
        }
    }
}

impl BenchSem for AsyncLock {
    fn make() -> Self {
        Self(Arc::new(async_lock::Semaphore::new(PERMITS)))
    }
    async fn with_permit(&self, hold: bool) {
        let _p = self.0.acquire().await;
        if hold {
            tokio::task::yield_now().await;
        }
    }
}

fn run<S: BenchSem>(rt: &Runtime, hold: bool, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let sem = S::make();
        total += rt.block_on(async {
            let start = Instant::now();
            let handles: Vec<_> = (0..TASKS)
                .map(|_| {
                    let sem = sem.clone();
                    tokio::spawn(async move {
                        for _ in 0..ACQUIRES {
                            sem.with_permit(hold).await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
            start.elapsed()
        });
    }
    total
}

fn main() {
    let mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let ct = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut h = Harness::new("semaphore");
    for (mode, hold) in [("release_at_once", false), ("hold_across_yield", true)] {
        for (rt_name, rt) in [("mt", &mt), ("ct", &ct)] {
            h.row(
                &format!("semaphore/{mode}_64x10k/{rt_name}"),
                "64 tasks x 10k",
                vec![
                    (
                        "threadlet",
                        Box::new(move |n| run::<Threadlet>(rt, hold, n)) as Sampler<'_>,
                    ),
                    ("tokio", Box::new(move |n| run::<Tokio>(rt, hold, n))),
                    (
                        "async_lock",
                        Box::new(move |n| run::<AsyncLock>(rt, hold, n)),
                    ),
                ],
            );
        }
    }
    h.finish();
}
