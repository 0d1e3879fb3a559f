//! Cancellation fuzz (test-only): seeded random sequences of operations on
//! the multi-thread runtime, with pending futures dropped at random through
//! `tokio::time::timeout` of a tiny random length and through `select!`
//! losers. At quiescence the primitive's introspection snapshot must match the
//! sequential account: every permit back, no waiter left, every item once.
//!
//! `THREADLET_FUZZ_OPS` sets the operations per primitive and seed (default
//! 20,000 so `cargo test` stays quick; CI's fuzz step runs 1,000,000 in
//! release); `THREADLET_FUZZ_SEEDS` the number of seeds (default 5).

mod core;
mod queue;
mod sync;
mod thread;

use std::time::Duration;

/// A small, fast, seedable generator (xorshift64*): test-only, reproducible.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A tiny timeout: mostly zero-length (the future is polled once, then
    /// dropped, whether it queued or was already woken), sometimes a few
    /// microseconds — which tokio's millisecond timer wheel turns into a drop
    /// mid-wait, after other tasks have released, notified or been dropped.
    pub(crate) fn tiny(&mut self) -> Duration {
        if self.below(32) == 0 {
            Duration::from_micros(1 + self.below(50))
        } else {
            Duration::ZERO
        }
    }
}

/// Operations per primitive and seed.
pub(crate) fn ops() -> usize {
    std::env::var("THREADLET_FUZZ_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// The seeds to run.
pub(crate) fn seeds() -> impl Iterator<Item = u64> {
    let n = std::env::var("THREADLET_FUZZ_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5u64);
    (1..=n).map(|i| i * 7919)
}

/// Runs `body(seed)` on a fresh 2-worker multi-thread runtime for every seed.
pub(crate) fn for_each_seed<F, Fut>(body: F)
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for seed in seeds() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(body(seed));
    }
}
