//! The one shard picker of the crate's sharded tables (the thread registry,
//! the wait records): each OS thread gets a number, round-robin, the first
//! time it asks, and keeps it, so entries made on one worker share a lock
//! that other workers rarely touch.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

static NEXT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This OS thread's number (assigned on first use).
    static HOME: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// The caller's OS thread's shard among `shards`.
pub(crate) fn home(shards: usize) -> usize {
    HOME.with(|home| {
        let mut n = home.get();
        if n == usize::MAX {
            n = NEXT.fetch_add(1, Ordering::Relaxed);
            home.set(n);
        }
        n % shards
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn home_is_stable_per_thread_and_spread_across_threads() {
        let mine = super::home(16);
        assert_eq!(super::home(16), mine);
        assert!(mine < 16);
        let others: std::collections::HashSet<usize> = (0..4)
            .map(|_| std::thread::spawn(|| super::home(1 << 20)).join().unwrap())
            .collect();
        // Four new threads draw four distinct numbers.
        assert_eq!(others.len(), 4);
    }
}
