//! [`Lock`] and its guard [`LockGuard`]: one permit of the shared core.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::time::Duration;

use super::error::LockReleaseError;
use super::statistics::LockStatistics;
use crate::wait::blocking::{Op, block_on, block_on_forever};
use crate::wait::loom::{Arc, AtomicU64, Ordering};
use crate::wait::timeout::Wait;
use crate::wait::timeout::deadline;
use crate::wait::{Mode, RawSemaphore};

/// The permit plus the stamp of the current hold, so that a guard can tell
/// whether the hold it was made for is still the current one.
#[derive(Debug)]
struct Inner {
    raw: RawSemaphore,
    /// The last hold number given out. Written only by the permit's holder,
    /// right after taking it (a load and a store, no read-modify-write).
    holds: AtomicU64,
    /// The current hold's number; 0 once released other than by its guard
    /// (cleared *before* the permit goes back, so whoever takes the permit
    /// next, and anything ordered after that release, sees it cleared).
    hold: AtomicU64,
}

/// A primitive lock, Python's `threading.Lock`: locked or unlocked, with no
/// owner.
///
/// Any task or thread may [`release`](Lock::release) it, as in Python;
/// releasing an unlocked lock is an error. For Python's `with lock:` use the
/// guard from [`lock`](Lock::lock), which releases when dropped.
///
/// The handle is a cheap [`Clone`] (an `Arc` inside): clones are the same lock.
/// Waiters are woken in FIFO order and none starves (see the module's
/// [`# Fairness`](crate::sync#fairness)). For a `static`, wrap it in a
/// [`std::sync::LazyLock`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::Lock;
///
/// let lock = Lock::new();
/// {
///     let _guard = lock.lock().await; // `with lock:`
///     assert!(lock.locked());
/// }
/// assert!(!lock.locked());
/// # }
/// ```
#[derive(Clone)]
pub struct Lock {
    inner: Arc<Inner>,
}

impl Lock {
    /// Creates an unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::new();
    /// assert!(!lock.locked());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                raw: RawSemaphore::new(1, Mode::Counting),
                holds: AtomicU64::new(0),
                hold: AtomicU64::new(0),
            }),
        }
    }

    /// Stamps a new hold just after the permit was taken; returns its number.
    fn took(&self) -> u64 {
        let hold = self
            .inner
            .holds
            .load(Ordering::Relaxed)
            .wrapping_add(1)
            .max(1);
        self.inner.holds.store(hold, Ordering::Relaxed);
        self.inner.hold.store(hold, Ordering::Release);
        hold
    }

    /// Takes the permit, waiting for it; returns the hold's number.
    pub(crate) async fn acquire_held(&self) -> u64 {
        if self.inner.raw.try_acquire().is_err() {
            // A Lock is never closed.
            let _ = self.inner.raw.acquire().await;
        }
        self.took()
    }

    /// Takes the permit if it is free; returns the hold's number.
    pub(crate) fn try_acquire_held(&self) -> Option<u64> {
        self.inner.raw.try_acquire().is_ok().then(|| self.took())
    }

    /// Whether `hold` is still the current hold.
    pub(crate) fn holds(&self, hold: u64) -> bool {
        self.inner.hold.load(Ordering::Acquire) == hold && self.locked()
    }

    /// A guard's release: only if `hold` is still the current hold (see
    /// [`LockGuard`]'s docs for what that covers).
    pub(crate) fn release_held(&self, hold: u64) -> bool {
        self.inner.hold.load(Ordering::Acquire) == hold && self.release().is_ok()
    }

    /// For Condition: releases the lock, returning the hold's number so that
    /// [`restore`](Self::restore) can give it back to the same guard.
    pub(crate) fn release_save(&self) -> Option<u64> {
        let hold = self.inner.hold.load(Ordering::Acquire);
        self.release().is_ok().then_some(hold)
    }

    /// For Condition: re-stamps a hold taken back after a wait.
    pub(crate) fn restore(&self, hold: u64) {
        self.inner.hold.store(hold, Ordering::Release);
    }

    /// Acquires the lock, waiting in FIFO order until it is free.
    ///
    /// Like Python's `threading.Lock.acquire()`: the lock is not owned by the
    /// task that took it, so any task may [`release`](Lock::release) it.
    /// Prefer [`lock`](Lock::lock), whose guard releases on drop.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. Dropping the future before it completes leaves the lock as
    /// it was and gives up only this caller's place in the queue; a release
    /// already handed to it passes on to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = threadlet::Lock::new();
    /// lock.acquire().await;
    /// assert!(lock.locked());
    /// lock.release().unwrap();
    /// # }
    /// ```
    pub async fn acquire(&self) {
        self.acquire_held().await;
    }

    /// Takes the lock if it is free right now (Python's
    /// `acquire(blocking=False)`); `false` if it is held.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::new();
    /// assert!(lock.try_acquire());
    /// assert!(!lock.try_acquire());
    /// ```
    #[doc(alias = "acquire_nowait")]
    #[must_use = "if the lock was taken it must be released"]
    pub fn try_acquire(&self) -> bool {
        self.try_acquire_held().is_some()
    }

    /// Acquires the lock, waiting at most `timeout` (Python's
    /// `acquire(timeout=t)`); `false` if the time ran out first.
    /// `Duration::MAX` waits forever; a zero timeout is
    /// [`try_acquire`](Lock::try_acquire).
    ///
    /// # Panics
    ///
    /// When awaited outside a tokio runtime with a non-zero, finite timeout
    /// (it needs tokio's timer) — every time, even if the lock is free, with
    /// the caller's location in the message. A zero timeout and
    /// `Duration::MAX` work under any executor.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like [`acquire`](Lock::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let lock = threadlet::Lock::new();
    /// assert!(lock.acquire_timeout(Duration::from_millis(10)).await);
    /// assert!(!lock.acquire_timeout(Duration::from_millis(10)).await);
    /// # }
    /// ```
    #[must_use = "if the lock was taken it must be released"]
    #[track_caller]
    pub fn acquire_timeout(&self, timeout: Duration) -> impl Future<Output = bool> + Send + '_ {
        let caller = Location::caller();
        async move {
            self.acquire_timeout_held(Wait::plan(timeout, "Lock::acquire_timeout", caller))
                .await
                .is_some()
        }
    }

    /// The timed acquire behind every timed form; the hold's number if taken.
    async fn acquire_timeout_held(&self, wait: Wait) -> Option<u64> {
        wait.acquire(|| self.try_acquire_held(), || self.acquire_held())
            .await
    }

    /// Releases the lock. Any task or thread may release it, as in Python.
    ///
    /// A [`LockGuard`] alive meanwhile becomes stale: its drop will not
    /// release the lock again (see its docs).
    ///
    /// # Errors
    ///
    /// [`LockReleaseError`] ("release unlocked lock") if the lock is not held;
    /// nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::new();
    /// assert!(lock.try_acquire());
    /// assert_eq!(lock.release(), Ok(()));
    /// assert!(lock.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), LockReleaseError> {
        if !self.locked() {
            return Err(LockReleaseError);
        }
        // Clear the stamp first: the next holder, and anything ordered after
        // this release, sees the old hold ended.
        self.inner.hold.store(0, Ordering::Release);
        self.inner
            .raw
            .release_bounded(1, 1)
            .map_err(|_| LockReleaseError)
    }

    /// Whether the lock is held by anybody.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::new();
    /// assert!(!lock.locked());
    /// let guard = lock.try_lock().unwrap();
    /// assert!(lock.locked());
    /// ```
    #[must_use]
    pub fn locked(&self) -> bool {
        self.inner.raw.available() == 0
    }

    /// Acquires the lock and returns a guard that releases it when dropped:
    /// Python's `with lock:`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like [`acquire`](Lock::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = threadlet::Lock::new();
    /// let guard = lock.lock().await;
    /// assert!(lock.locked());
    /// drop(guard);
    /// assert!(!lock.locked());
    /// # }
    /// ```
    pub async fn lock(&self) -> LockGuard<'_> {
        let hold = self.acquire_held().await;
        LockGuard { lock: self, hold }
    }

    /// Takes the lock if it is free right now and returns its guard.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::new();
    /// let guard = lock.try_lock();
    /// assert!(guard.is_some());
    /// assert!(lock.try_lock().is_none());
    /// ```
    #[must_use = "if unused the Lock will immediately unlock"]
    pub fn try_lock(&self) -> Option<LockGuard<'_>> {
        self.try_acquire_held()
            .map(|hold| LockGuard { lock: self, hold })
    }

    /// [`lock`](Lock::lock) waiting at most `timeout`; `None` if the time ran
    /// out first. A zero timeout is [`try_lock`](Lock::try_lock).
    ///
    /// # Panics
    ///
    /// As [`acquire_timeout`](Lock::acquire_timeout): outside a tokio
    /// runtime with a non-zero, finite timeout, every time.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like [`acquire`](Lock::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let lock = threadlet::Lock::new();
    /// let guard = lock.lock_timeout(Duration::from_millis(10)).await;
    /// assert!(guard.is_some());
    /// assert!(lock.lock_timeout(Duration::from_millis(10)).await.is_none());
    /// # }
    /// ```
    #[track_caller]
    pub fn lock_timeout(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Option<LockGuard<'_>>> + Send + '_ {
        let caller = Location::caller();
        async move {
            self.acquire_timeout_held(Wait::plan(timeout, "Lock::lock_timeout", caller))
                .await
                .map(|hold| LockGuard { lock: self, hold })
        }
    }

    /// [`acquire`](Lock::acquire) for a plain OS thread (`std::thread`,
    /// `spawn_blocking`): parks the thread until the lock is taken. Tasks and
    /// threads can share one lock.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line. Use
    /// [`acquire().await`](Lock::acquire) in async code, or call it from
    /// `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::new();
    /// let l = lock.clone();
    /// std::thread::spawn(move || {
    ///     l.blocking_acquire();
    ///     l.release().unwrap();
    /// })
    /// .join()
    /// .unwrap();
    /// assert!(!lock.locked());
    /// ```
    #[track_caller]
    pub fn blocking_acquire(&self) {
        block_on_forever(
            Op {
                name: "Lock::blocking_acquire",
                instead: "`.acquire().await`",
            },
            self.acquire_held(),
        );
    }

    /// [`acquire_timeout`](Lock::acquire_timeout) for a plain OS thread;
    /// `false` if the time ran out first. It needs no tokio runtime: a zero
    /// timeout never waits, `Duration::MAX` waits forever.
    ///
    /// # Panics
    ///
    /// On a thread that is driving a tokio runtime, as
    /// [`blocking_acquire`](Lock::blocking_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lock = threadlet::Lock::new();
    /// assert!(lock.blocking_acquire_timeout(Duration::from_millis(5)));
    /// assert!(!lock.blocking_acquire_timeout(Duration::from_millis(5)));
    /// ```
    #[must_use = "if the lock was taken it must be released"]
    #[track_caller]
    pub fn blocking_acquire_timeout(&self, timeout: Duration) -> bool {
        let op = Op {
            name: "Lock::blocking_acquire_timeout",
            instead: "`.acquire_timeout(timeout).await`",
        };
        block_on(op, deadline(timeout), self.acquire_held()).is_some()
    }

    /// [`lock`](Lock::lock) for a plain OS thread.
    ///
    /// # Panics
    ///
    /// On a thread that is driving a tokio runtime, as
    /// [`blocking_acquire`](Lock::blocking_acquire): use
    /// [`lock().await`](Lock::lock) there.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::new();
    /// let guard = lock.blocking_lock();
    /// assert!(lock.locked());
    /// ```
    #[track_caller]
    pub fn blocking_lock(&self) -> LockGuard<'_> {
        let op = Op {
            name: "Lock::blocking_lock",
            instead: "`.lock().await`",
        };
        let hold = block_on_forever(op, self.acquire_held());
        LockGuard { lock: self, hold }
    }

    /// A snapshot of the lock: whether it is held and how many wait for it
    /// (trio's `statistics()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::new();
    /// let _guard = lock.try_lock().unwrap();
    /// let stats = lock.statistics();
    /// assert!(stats.locked);
    /// assert_eq!(stats.waiters, 0);
    /// ```
    #[must_use]
    pub fn statistics(&self) -> LockStatistics {
        let s = self.inner.raw.snapshot();
        LockStatistics {
            locked: s.permits == 0,
            waiters: s.waiters,
        }
    }

    /// Test introspection: (free permits, queued waiters, slots in use).
    #[cfg(test)]
    pub(crate) fn debug_state(&self) -> (usize, usize, usize) {
        let s = self.inner.raw.snapshot();
        (s.permits, s.waiters, s.slots)
    }
}

impl Default for Lock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish()
    }
}

/// The guard of [`Lock::lock`]: the lock is held until it is dropped, like
/// the body of Python's `with lock:`.
///
/// The guard knows which hold it was made for: its drop releases the lock
/// only while that hold is still the current one. If the hold ended behind its
/// back — a direct [`Lock::release`] (Python raises in `__exit__` then), or a
/// [`Condition`](crate::Condition) wait on this lock that was cancelled (which
/// leaves the caller without the lock) — the guard is *stale* and its drop
/// does nothing, even after another task took the lock: a guard never
/// releases someone else's hold. A completed Condition wait gives the same
/// hold back, so the guard stays valid across it.
///
/// What it cannot see: a `release` by *another* task racing with the guard's
/// own drop (two releases of one hold at once; one of them may then release
/// the next holder, as with Python's `Lock`).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = threadlet::Lock::new();
/// let guard = lock.lock().await;
/// assert!(lock.locked());
/// drop(guard);
/// assert!(!lock.locked());
/// # }
/// ```
#[must_use = "if unused the Lock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct LockGuard<'a> {
    lock: &'a Lock,
    hold: u64,
}

impl LockGuard<'_> {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::new();
    /// let guard = lock.try_lock().unwrap();
    /// assert!(guard.lock().locked());
    /// ```
    #[must_use]
    pub fn lock(&self) -> &Lock {
        self.lock
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        self.lock.release_held(self.hold);
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}
