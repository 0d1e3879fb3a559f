//! Helpers shared by the sync tests.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

/// A multi-thread runtime with 2 workers (this machine's core count) and time.
pub fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Runs `fut` on a 2-worker multi-thread runtime, failing the test (instead of
/// hanging) if it takes longer than `secs` seconds.
pub fn run_mt<F: Future + Send + 'static>(secs: u64, fut: F) -> F::Output
where
    F::Output: Send + 'static,
{
    multi_thread().block_on(async move {
        tokio::time::timeout(Duration::from_secs(secs), tokio::spawn(fut))
            .await
            .expect("test timed out: something is stuck")
            .expect("test task panicked")
    })
}

/// Yields until `cond` holds (polling other tasks meanwhile), at most ~10k times.
pub async fn until(mut cond: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if cond() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("condition never became true");
}

/// `until` for multi-thread runtimes: sleeps 1 ms between checks, up to 10 s.
pub async fn until_mt(mut cond: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("condition never became true");
}

/// A lock's or semaphore's state as the tests compare it: (free permits,
/// waiters), from the public `statistics()`.
pub trait State {
    fn state(&self) -> (usize, usize);
}

impl<T> State for threadlet::Lock<T> {
    fn state(&self) -> (usize, usize) {
        let s = self.statistics();
        (usize::from(!s.locked), s.waiters)
    }
}

impl<T> State for threadlet::RLock<T> {
    fn state(&self) -> (usize, usize) {
        let s = self.statistics();
        (usize::from(!s.locked), s.waiters)
    }
}

impl State for threadlet::Semaphore {
    fn state(&self) -> (usize, usize) {
        let s = self.statistics();
        (s.value, s.waiters)
    }
}

impl State for threadlet::BoundedSemaphore {
    fn state(&self) -> (usize, usize) {
        let s = self.statistics();
        (s.value, s.waiters)
    }
}
