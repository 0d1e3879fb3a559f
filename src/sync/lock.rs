//! [`Lock`] and its guard [`LockGuard`]: one permit of the shared core.

use std::fmt;
use std::time::{Duration, Instant};

use super::error::LockReleaseError;
use crate::wait::core::{Mode, RawSemaphore};
use crate::wait::loom::Arc;
use crate::wait::timeout::{deadline, with_timeout};

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
    raw: Arc<RawSemaphore>,
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
            raw: Arc::new(RawSemaphore::new(1, Mode::Counting)),
        }
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
        if self.raw.try_acquire().is_err() {
            // A Lock is never closed.
            let _ = self.raw.acquire().await;
        }
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
        self.raw.try_acquire().is_ok()
    }

    /// Acquires the lock, waiting at most `timeout` (Python's
    /// `acquire(timeout=t)`); `false` if the time ran out first.
    /// `Duration::MAX` waits forever.
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
    pub async fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.try_acquire() || with_timeout(timeout, self.acquire()).await.is_some()
    }

    /// Releases the lock. Any task or thread may release it, as in Python.
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
        self.raw.release_bounded(1, 1).map_err(|_| LockReleaseError)
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
        self.raw.available() == 0
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
        self.acquire().await;
        LockGuard { lock: self }
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
        self.try_acquire().then(|| LockGuard { lock: self })
    }

    /// [`lock`](Lock::lock) waiting at most `timeout`; `None` if the time ran
    /// out first.
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
    pub async fn lock_timeout(&self, timeout: Duration) -> Option<LockGuard<'_>> {
        self.acquire_timeout(timeout)
            .await
            .then(|| LockGuard { lock: self })
    }

    /// [`acquire`](Lock::acquire) for a plain OS thread (`std::thread`,
    /// `spawn_blocking`): parks the thread until the lock is taken. Tasks and
    /// threads can share one lock.
    ///
    /// # Panics
    ///
    /// Never panics, but calling it from inside an async task blocks a runtime
    /// worker: use [`acquire`](Lock::acquire) there.
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
    pub fn blocking_acquire(&self) {
        self.blocking_acquire_until(None);
    }

    /// [`acquire_timeout`](Lock::acquire_timeout) for a plain OS thread;
    /// `false` if the time ran out first.
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
    pub fn blocking_acquire_timeout(&self, timeout: Duration) -> bool {
        self.blocking_acquire_until(deadline(timeout))
    }

    /// [`lock`](Lock::lock) for a plain OS thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::new();
    /// let guard = lock.blocking_lock();
    /// assert!(lock.locked());
    /// ```
    pub fn blocking_lock(&self) -> LockGuard<'_> {
        self.blocking_acquire();
        LockGuard { lock: self }
    }

    pub(crate) fn blocking_acquire_until(&self, deadline: Option<Instant>) -> bool {
        self.try_acquire() || self.raw.blocking_acquire(deadline).unwrap_or(false)
    }

    /// Test introspection: (free permits, queued waiters, slots in use).
    #[doc(hidden)]
    pub fn __debug_state(&self) -> (usize, usize, usize) {
        let s = self.raw.snapshot();
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
/// The drop releases the lock. If the lock was already released by a direct
/// [`Lock::release`] meanwhile (Python raises in `__exit__` then), the drop does
/// nothing — unless another task has re-acquired it, which it then releases:
/// do not mix the guard with explicit `release` calls.
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
        let _ = self.lock.release();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}
