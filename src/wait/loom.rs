//! The switch module: every atomic, mutex and thread-parking call made by the
//! crate's cores (`wait::list` and `wait::semaphore`, `queue::core`, a thread's
//! state word in `thread::core`) goes through here, so that the
//! same code runs on `std` normally and on [loom](https://docs.rs/loom) when
//! built with `RUSTFLAGS="--cfg threadlet_loom"` (a crate-specific cfg: a plain
//! `--cfg loom` would also switch tokio's internals and break its process module).

#[cfg(not(threadlet_loom))]
pub(crate) use std::sync::Arc;
#[cfg(not(threadlet_loom))]
pub(crate) use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
#[cfg(not(threadlet_loom))]
pub(crate) use std::thread::{Thread, current as current_thread};

#[cfg(threadlet_loom)]
pub(crate) use loom::sync::Arc;
#[cfg(threadlet_loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
#[cfg(threadlet_loom)]
pub(crate) use loom::thread::{Thread, current as current_thread};

/// A mutex whose `lock` never reports poisoning: the cores never panic while
/// holding it, and a user panic elsewhere must not make a primitive unusable.
#[derive(Debug, Default)]
pub(crate) struct Mutex<T> {
    #[cfg(not(threadlet_loom))]
    inner: std::sync::Mutex<T>,
    #[cfg(threadlet_loom)]
    inner: loom::sync::Mutex<T>,
}

#[cfg(not(threadlet_loom))]
pub(crate) type MutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;
#[cfg(threadlet_loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    #[cfg(not(threadlet_loom))]
    pub(crate) const fn new(value: T) -> Self {
        Self {
            inner: std::sync::Mutex::new(value),
        }
    }

    #[cfg(threadlet_loom)]
    pub(crate) fn new(value: T) -> Self {
        Self {
            inner: loom::sync::Mutex::new(value),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// Locks a plain `std` mutex (one outside the loom-checked cores: thread
/// state, the process layer's tables), ignoring poisoning like [`Mutex`]:
/// every value behind such a lock is valid after any panic (nothing panics
/// while holding one, or the value is replaced whole). The crate's one copy
/// of this rule.
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A sequentially consistent fence between a flag write and the core's
/// "anybody waiting?" check on one side, and a waiter's registration and its
/// flag re-check on the other (Event, Barrier): one side always sees the
/// other, so no wake-up is missed.
pub(crate) fn seq_cst_fence() {
    #[cfg(not(threadlet_loom))]
    std::sync::atomic::fence(Ordering::SeqCst);
    #[cfg(threadlet_loom)]
    loom::sync::atomic::fence(Ordering::SeqCst);
}

/// The current instant (under loom a fixed one: loom has no clock, and the
/// cores only compare instants to decide fairness, never to wait).
#[cfg(not(threadlet_loom))]
pub(crate) fn now() -> std::time::Instant {
    std::time::Instant::now()
}

/// The current instant (under loom a fixed one: loom has no clock, and the
/// cores only compare instants to decide fairness, never to wait).
#[cfg(threadlet_loom)]
pub(crate) fn now() -> std::time::Instant {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *START.get_or_init(std::time::Instant::now)
}

/// Parks the current OS thread until unparked or, with `Some(deadline)`, until
/// the deadline passes. Spurious returns are allowed; callers re-check.
#[cfg(not(threadlet_loom))]
pub(crate) fn park_until(deadline: Option<std::time::Instant>) {
    match deadline {
        None => std::thread::park(),
        Some(deadline) => {
            let now = std::time::Instant::now();
            if deadline > now {
                std::thread::park_timeout(deadline - now);
            }
        }
    }
}

/// Under loom there is no clock: a deadline is treated as "already passed"
/// after one park, which still exercises the timeout path.
#[cfg(threadlet_loom)]
pub(crate) fn park_until(deadline: Option<std::time::Instant>) {
    if deadline.is_none() {
        loom::thread::park();
    }
}

/// Whether the named classic bug is planted in this build. Only loom builds can
/// plant one, through the compile-time variable `THREADLET_PLANTED_BUG`, so that
/// CI can show each loom model catching the bug it exists for; in every other
/// build this is a constant `false` and the bug code paths compile away.
#[cfg(threadlet_loom)]
pub(crate) fn planted(bug: &str) -> bool {
    option_env!("THREADLET_PLANTED_BUG") == Some(bug)
}

/// Whether the named classic bug is planted in this build (never, outside loom).
#[cfg(not(threadlet_loom))]
#[inline(always)]
pub(crate) const fn planted(_bug: &str) -> bool {
    false
}
