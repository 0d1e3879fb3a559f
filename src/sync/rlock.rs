//! [`RLock`]: a [`Lock`](crate::Lock)'s permit plus an owner and a depth.
//!
//! The owner is an id in one atomic word, so re-entry is a load and a store:
//! a tokio task id (`tokio::task::try_id`) inside a task, otherwise the OS
//! thread id tagged with the high bit.

use std::cell::Cell;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use super::error::RLockReleaseError;
use crate::wait::core::{Mode, RawSemaphore};
use crate::wait::loom::{Arc, AtomicU64, AtomicUsize, Ordering};
use crate::wait::timeout::{deadline, with_timeout};

/// Nobody owns the lock.
const UNOWNED: u64 = 0;
/// Tags an owner id taken from an OS thread rather than from a tokio task.
const THREAD_TAG: u64 = 1 << 63;

/// A `Hasher` that records the one `u64` a `tokio::task::Id` or a
/// `std::thread::ThreadId` hashes (both derive `Hash` over a `NonZeroU64`),
/// which gives their numeric value without allocating.
struct IdExtractor(u64);

impl Hasher for IdExtractor {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not used by the derives above; fold anyway so any id stays distinct.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

fn id_value(id: impl Hash) -> u64 {
    let mut h = IdExtractor(0);
    id.hash(&mut h);
    h.0
}

thread_local! {
    static THREAD_OWNER: Cell<u64> = const { Cell::new(UNOWNED) };
}

/// The id of the caller: its tokio task, or (outside any task) its OS thread.
pub(crate) fn current_owner() -> u64 {
    if let Some(id) = tokio::task::try_id() {
        return id_value(id) & !THREAD_TAG;
    }
    // Loom runs its threads on one OS thread: take loom's thread id there.
    #[cfg(threadlet_loom)]
    return id_value(crate::wait::loom::current_thread().id()) | THREAD_TAG;
    #[cfg(not(threadlet_loom))]
    THREAD_OWNER.with(|cell| {
        let mut id = cell.get();
        if id == UNOWNED {
            id = id_value(std::thread::current().id()) | THREAD_TAG;
            cell.set(id);
        }
        id
    })
}

/// Test hook: the numeric value `current_owner` uses for a task id.
#[doc(hidden)]
pub fn __task_id_value(id: tokio::task::Id) -> u64 {
    id_value(id)
}

#[derive(Debug)]
struct Inner {
    raw: RawSemaphore,
    /// The owner's id, [`UNOWNED`] when free. Written only by the owner (or a
    /// guard, which proves ownership) while it holds the permit.
    owner: AtomicU64,
    /// Recursion depth; written only by the owner.
    depth: AtomicUsize,
}

/// A re-entrant lock, Python's `threading.RLock`: the owner may acquire it
/// again (the count goes up) and must release it as often.
///
/// # Who is the owner?
///
/// Inside a tokio task the owner is the **task** (its `tokio::task::Id`), not
/// the OS thread: on a multi-thread runtime a task may resume on another worker
/// after any `.await` and still owns its locks. Outside any task — the body of a
/// `#[tokio::test]` or of `block_on`, a plain `std::thread` using the
/// `blocking_` forms — the owner is the OS thread. So it works in a test body
/// and in `threadlet::run`'s main.
///
/// **Sharp edge**: sub-futures of one task (`tokio::join!`, `select!`,
/// `FuturesUnordered`) share its task id, so they count as *one* owner: while
/// one of them holds the lock, another's `acquire` re-enters at once instead of
/// waiting. Give each concurrent worker its own task (`tokio::spawn`) when they
/// must exclude each other.
///
/// The handle is a cheap [`Clone`]; clones are the same lock.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::RLock;
///
/// let lock = RLock::new();
/// lock.acquire().await;
/// lock.acquire().await; // re-entry: no deadlock
/// assert_eq!(lock.recursion_count(), 2);
/// lock.release().unwrap();
/// lock.release().unwrap();
/// assert!(!lock.locked());
/// # }
/// ```
#[derive(Clone)]
pub struct RLock {
    inner: Arc<Inner>,
}

impl RLock {
    /// Creates an unowned re-entrant lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// assert!(!lock.locked());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Inner {
                raw: RawSemaphore::new(1, Mode::Counting),
                owner: AtomicU64::new(UNOWNED),
                depth: AtomicUsize::new(0),
            }),
        }
    }

    /// Re-enters at once if the caller owns the lock.
    fn try_reenter(&self, me: u64) -> bool {
        if self.inner.owner.load(Ordering::Relaxed) == me {
            let depth = self.inner.depth.load(Ordering::Relaxed);
            self.inner.depth.store(depth + 1, Ordering::Relaxed);
            true
        } else {
            false
        }
    }

    /// Records the caller as owner after taking the permit.
    fn set_owner(&self, me: u64, depth: usize) {
        self.inner.depth.store(depth, Ordering::Relaxed);
        self.inner.owner.store(me, Ordering::Relaxed);
    }

    /// Acquires the lock: at once if the caller owns it (the count goes up),
    /// else waiting in FIFO order until it is free.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. A dropped future holds nothing and passes on any release
    /// handed to it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = threadlet::RLock::new();
    /// lock.acquire().await;
    /// assert!(lock.is_owned());
    /// lock.release().unwrap();
    /// # }
    /// ```
    pub async fn acquire(&self) {
        let me = current_owner();
        if self.try_reenter(me) {
            return;
        }
        self.acquire_depth_as(me, 1).await;
    }

    async fn acquire_depth_as(&self, me: u64, depth: usize) {
        if self.inner.raw.try_acquire().is_err() {
            let _ = self.inner.raw.acquire().await;
        }
        self.set_owner(me, depth);
    }

    /// For Condition: takes the free lock and restores `depth` levels.
    pub(crate) async fn acquire_depth(&self, depth: usize) {
        self.acquire_depth_as(current_owner(), depth).await;
    }

    pub(crate) fn blocking_acquire_depth(&self, depth: usize) {
        let me = current_owner();
        if self.inner.raw.try_acquire().is_err() {
            let _ = self.inner.raw.blocking_acquire(None);
        }
        self.set_owner(me, depth);
    }

    /// Takes the lock if the caller owns it or it is free right now; `false`
    /// if another task or thread holds it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// assert!(lock.try_acquire());
    /// assert!(lock.try_acquire()); // re-entry
    /// assert_eq!(lock.recursion_count(), 2);
    /// ```
    #[doc(alias = "acquire_nowait")]
    #[must_use = "if the lock was taken it must be released"]
    pub fn try_acquire(&self) -> bool {
        let me = current_owner();
        if self.try_reenter(me) {
            return true;
        }
        if self.inner.raw.try_acquire().is_ok() {
            self.set_owner(me, 1);
            true
        } else {
            false
        }
    }

    /// [`acquire`](RLock::acquire) waiting at most `timeout`; `false` if the
    /// time ran out first. `Duration::MAX` waits forever.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like [`acquire`](RLock::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let lock = threadlet::RLock::new();
    /// assert!(lock.acquire_timeout(Duration::from_millis(10)).await);
    /// let other = lock.clone();
    /// let got = tokio::spawn(async move { other.acquire_timeout(Duration::from_millis(10)).await });
    /// assert!(!got.await.unwrap());
    /// # }
    /// ```
    #[must_use = "if the lock was taken it must be released"]
    pub async fn acquire_timeout(&self, timeout: Duration) -> bool {
        let me = current_owner();
        if self.try_reenter(me) {
            return true;
        }
        with_timeout(timeout, self.acquire_depth_as(me, 1))
            .await
            .is_some()
    }

    /// Releases one level; the lock is free once the count reaches zero.
    ///
    /// # Errors
    ///
    /// [`RLockReleaseError`] ("cannot release un-acquired lock") if the caller
    /// does not own the lock (including when nobody does); nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// assert!(lock.release().is_err());
    /// assert!(lock.try_acquire());
    /// assert_eq!(lock.release(), Ok(()));
    /// ```
    pub fn release(&self) -> Result<(), RLockReleaseError> {
        if self.inner.owner.load(Ordering::Relaxed) != current_owner() {
            return Err(RLockReleaseError);
        }
        self.release_level();
        Ok(())
    }

    /// Releases one level on behalf of the owner (a guard proves ownership).
    fn release_level(&self) {
        let depth = self.inner.depth.load(Ordering::Relaxed);
        if depth > 1 {
            self.inner.depth.store(depth - 1, Ordering::Relaxed);
        } else {
            self.inner.depth.store(0, Ordering::Relaxed);
            self.inner.owner.store(UNOWNED, Ordering::Relaxed);
            let _ = self.inner.raw.release_bounded(1, 1);
        }
    }

    /// For Condition: releases every level; returns the depth, or `None` if
    /// the caller does not own the lock.
    pub(crate) fn release_all(&self) -> Option<usize> {
        if self.inner.owner.load(Ordering::Relaxed) != current_owner() {
            return None;
        }
        let depth = self.inner.depth.load(Ordering::Relaxed);
        self.inner.depth.store(0, Ordering::Relaxed);
        self.inner.owner.store(UNOWNED, Ordering::Relaxed);
        let _ = self.inner.raw.release_bounded(1, 1);
        Some(depth)
    }

    /// Whether anybody owns the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// assert!(!lock.locked());
    /// assert!(lock.try_acquire());
    /// assert!(lock.locked());
    /// ```
    #[must_use]
    pub fn locked(&self) -> bool {
        self.inner.raw.available() == 0
    }

    /// Whether the caller (this task, or this OS thread outside any task)
    /// owns the lock (Python's `_is_owned()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// assert!(!lock.is_owned());
    /// assert!(lock.try_acquire());
    /// assert!(lock.is_owned());
    /// let other = lock.clone();
    /// assert!(!std::thread::spawn(move || other.is_owned()).join().unwrap());
    /// ```
    #[must_use]
    pub fn is_owned(&self) -> bool {
        self.inner.owner.load(Ordering::Relaxed) == current_owner()
    }

    /// How many times the caller holds the lock; 0 if it does not own it
    /// (Python's `_recursion_count()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// assert_eq!(lock.recursion_count(), 0);
    /// assert!(lock.try_acquire() && lock.try_acquire());
    /// assert_eq!(lock.recursion_count(), 2);
    /// ```
    #[must_use]
    pub fn recursion_count(&self) -> usize {
        if self.is_owned() {
            self.inner.depth.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// How many times its owner, whoever it is, holds the lock (Python's
    /// `repr` shows this `count=`); 0 when unowned. A snapshot that may be
    /// stale by the time it is read.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// assert!(lock.try_acquire());
    /// let other = lock.clone();
    /// assert_eq!(std::thread::spawn(move || other.count()).join().unwrap(), 1);
    /// ```
    #[must_use]
    pub fn count(&self) -> usize {
        self.inner.depth.load(Ordering::Relaxed)
    }

    /// Acquires (or re-enters) the lock and returns a guard that releases one
    /// level when dropped: Python's `with rlock:`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like [`acquire`](RLock::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = threadlet::RLock::new();
    /// let outer = lock.lock().await;
    /// let inner = lock.lock().await;
    /// assert_eq!(lock.recursion_count(), 2);
    /// drop(inner);
    /// drop(outer);
    /// assert!(!lock.locked());
    /// # }
    /// ```
    pub async fn lock(&self) -> RLockGuard<'_> {
        self.acquire().await;
        RLockGuard { lock: self }
    }

    /// Takes (or re-enters) the lock if possible right now and returns its
    /// guard.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// let guard = lock.try_lock().unwrap();
    /// assert!(lock.is_owned());
    /// ```
    #[must_use = "if unused the RLock will immediately unlock"]
    pub fn try_lock(&self) -> Option<RLockGuard<'_>> {
        self.try_acquire().then(|| RLockGuard { lock: self })
    }

    /// [`acquire`](RLock::acquire) for a plain OS thread; the owner is the
    /// thread. Calling it from inside an async task blocks a runtime worker.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// lock.blocking_acquire();
    /// lock.blocking_acquire();
    /// assert_eq!(lock.recursion_count(), 2);
    /// ```
    pub fn blocking_acquire(&self) {
        self.blocking_acquire_until(None);
    }

    /// [`acquire_timeout`](RLock::acquire_timeout) for a plain OS thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lock = threadlet::RLock::new();
    /// assert!(lock.try_acquire());
    /// let other = lock.clone();
    /// let got = std::thread::spawn(move || other.blocking_acquire_timeout(Duration::from_millis(5)));
    /// assert!(!got.join().unwrap());
    /// ```
    #[must_use = "if the lock was taken it must be released"]
    pub fn blocking_acquire_timeout(&self, timeout: Duration) -> bool {
        self.blocking_acquire_until(deadline(timeout))
    }

    /// [`lock`](RLock::lock) for a plain OS thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// let guard = lock.blocking_lock();
    /// assert!(lock.is_owned());
    /// ```
    pub fn blocking_lock(&self) -> RLockGuard<'_> {
        self.blocking_acquire();
        RLockGuard { lock: self }
    }

    pub(crate) fn blocking_acquire_until(&self, deadline: Option<Instant>) -> bool {
        let me = current_owner();
        if self.try_reenter(me) {
            return true;
        }
        let got = self.inner.raw.try_acquire().is_ok()
            || self.inner.raw.blocking_acquire(deadline).unwrap_or(false);
        if got {
            self.set_owner(me, 1);
        }
        got
    }

    /// Test introspection: (free permits, queued waiters, slots in use).
    #[doc(hidden)]
    pub fn __debug_state(&self) -> (usize, usize, usize) {
        let s = self.inner.raw.snapshot();
        (s.permits, s.waiters, s.slots)
    }
}

impl Default for RLock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("locked", &self.locked())
            .field("count", &self.count())
            .finish()
    }
}

/// The guard of [`RLock::lock`]: holds one level of the lock until dropped.
///
/// The guard itself proves ownership, so its drop releases the level even if
/// it runs on another task (a guard moved into a spawned task or a scoped
/// thread).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = threadlet::RLock::new();
/// let guard = lock.lock().await;
/// assert_eq!(lock.recursion_count(), 1);
/// drop(guard);
/// assert_eq!(lock.recursion_count(), 0);
/// # }
/// ```
#[must_use = "if unused the RLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct RLockGuard<'a> {
    lock: &'a RLock,
}

impl RLockGuard<'_> {
    /// The lock this guard holds a level of.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// let guard = lock.try_lock().unwrap();
    /// assert!(guard.lock().locked());
    /// ```
    #[must_use]
    pub fn lock(&self) -> &RLock {
        self.lock
    }
}

impl Drop for RLockGuard<'_> {
    fn drop(&mut self) {
        if self.lock.inner.owner.load(Ordering::Relaxed) != UNOWNED {
            self.lock.release_level();
        }
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard").finish_non_exhaustive()
    }
}
