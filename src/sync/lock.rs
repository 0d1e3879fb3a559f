//! [`Lock`] and its guards [`LockGuard`] / [`OwnedLockGuard`]: one permit of
//! the shared core, plus the data it guards (`cell.rs` says why the data
//! access is sound).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::time::Duration;

use super::cell::DataCell;

use super::error::LockReleaseError;
use super::statistics::LockStatistics;
use crate::introspect::{
    self,
    meta::{Meta, PrimitiveKind},
};
use crate::wait::blocking::{Op, block_on, block_on_forever};
use crate::wait::loom::{Arc, AtomicU64, Ordering};
use crate::wait::timeout::Wait;
use crate::wait::timeout::deadline;
use crate::wait::{Mode, RawSemaphore};

/// The permit plus the stamp of the current hold, so that a guard can tell
/// whether the hold it was made for is still the current one.
#[derive(Debug)]
struct Inner<T> {
    raw: RawSemaphore,
    /// The last hold number given out. Written only by the permit's holder,
    /// right after taking it (a load and a store, no read-modify-write).
    holds: AtomicU64,
    /// The current hold's number; 0 once released other than by its guard
    /// (cleared *before* the permit goes back, so whoever takes the permit
    /// next, and anything ordered after that release, sees it cleared).
    hold: AtomicU64,
    /// The guarded data: `()` for Python's data-less lock.
    data: DataCell<T>,
}

/// A lock, Python's `threading.Lock`, that may also carry the data it guards
/// (`Lock<T>`, like `tokio::sync::Mutex<T>`).
///
/// A counter shared by many tasks is one line per use: the guard of
/// [`lock`](Lock::lock) dereferences to the data.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::Lock;
///
/// let hits = Lock::with_value(0u64);
/// let mut tasks = Vec::new();
/// for _ in 0..10 {
///     let hits = hits.clone(); // the same lock, the same counter
///     tasks.push(tokio::spawn(async move { *hits.lock().await += 1 }));
/// }
/// for task in tasks {
///     task.await.unwrap();
/// }
/// assert_eq!(*hits.lock().await, 10);
/// # }
/// ```
///
/// [`Lock::new`] is Python's data-less lock (`Lock<()>`): locked or unlocked,
/// with no owner. Any task or thread may [`release`](Lock::release) it, as in
/// Python, and releasing an unlocked lock is an error. Those Python-style
/// `acquire` / `release` methods exist on `Lock<()>` only: a `Lock<T>` is
/// released by dropping its guard, so a release by somebody else can never
/// let two guards reach the data at once. For Python's `with lock:` use the
/// guard from [`lock`](Lock::lock), which releases when dropped; to move a
/// guard into another task, [`lock_owned`](Lock::lock_owned).
///
/// The handle is a cheap [`Clone`] (an `Arc` inside): clones are the same
/// lock and share the data, like an `Arc<Mutex<T>>`. Waiters are woken in
/// FIFO order and none starves (see the module's
/// [`# Fairness`](crate::sync#fairness)). For a `static`, wrap it in a
/// [`std::sync::LazyLock`].
///
/// # Examples
///
/// Python's data-less lock:
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
/// lock.acquire().await; // `lock.acquire()`
/// lock.release().unwrap(); // from any task
/// # }
/// ```
pub struct Lock<T = ()> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Lock<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl Lock {
    /// Creates an unlocked lock without data: Python's `threading.Lock()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::new();
    /// assert!(!lock.locked());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new() -> Self {
        Self::with_value(())
    }

    /// [`new`](Lock::new) with a label that [`dump`](crate::dump) and
    /// [`deadlocks`](crate::deadlocks) show for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::labeled("lockA");
    /// assert!(!lock.locked());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn labeled(label: impl Into<String>) -> Self {
        Self::build((), Some(label.into().into_boxed_str()))
    }

    /// Takes the permit, waiting for it; returns the hold's number.
    pub(crate) async fn acquire_held(&self) -> u64 {
        self.take().await
    }

    /// Takes the permit if it is free; returns the hold's number.
    pub(crate) fn try_acquire_held(&self) -> Option<u64> {
        self.try_take()
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
        self.take().await;
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
        self.try_take().is_some()
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
            self.take_timed(Wait::plan(timeout, "Lock::acquire_timeout", caller))
                .await
                .is_some()
        }
    }

    /// Releases the lock. Any task or thread may release it, as in Python.
    ///
    /// A [`LockGuard`] alive meanwhile becomes stale: its drop will not
    /// release the lock again (see its docs). Only a data-less `Lock` has
    /// this method; a `Lock<T>` is released by dropping its guard.
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
    ///
    /// A `Lock<T>` with data has no `release`: a release by somebody else
    /// could let a second guard reach the data while the first still holds
    /// `&mut T`.
    ///
    /// ```compile_fail
    /// let n = threadlet::Lock::with_value(0u64);
    /// let mut guard = n.try_lock().unwrap();
    /// n.release().unwrap(); // error: no method `release` on `Lock<u64>`
    /// *guard += 1;
    /// ```
    pub fn release(&self) -> Result<(), LockReleaseError> {
        self.give_back()
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
            self.take(),
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
        block_on(op, deadline(timeout), self.take()).is_some()
    }
}

impl<T> Lock<T> {
    /// Creates an unlocked lock guarding `value`; its guards dereference to
    /// it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let names = threadlet::Lock::with_value(Vec::new());
    /// names.lock().await.push("Thread-1");
    /// assert_eq!(names.lock().await.len(), 1);
    /// # }
    /// ```
    #[must_use]
    #[track_caller]
    pub fn with_value(value: T) -> Self {
        Self::build(value, None)
    }

    /// [`with_value`](Lock::with_value) with a label that
    /// [`dump`](crate::dump) and [`deadlocks`](crate::deadlocks) show for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let hits = threadlet::Lock::with_value_labeled(0u64, "hits");
    /// assert!(!hits.locked());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn with_value_labeled(value: T, label: impl Into<String>) -> Self {
        Self::build(value, Some(label.into().into_boxed_str()))
    }

    #[track_caller]
    fn build(value: T, label: Option<Box<str>>) -> Self {
        introspect::meta::init_from_env();
        Self {
            inner: Arc::new(Inner {
                raw: RawSemaphore::with_meta(
                    1,
                    Mode::Counting,
                    Meta::new(PrimitiveKind::Lock, label),
                ),
                holds: AtomicU64::new(0),
                hold: AtomicU64::new(0),
                data: DataCell::new(value),
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
        // The last acquirer, for the dump: one relaxed load when off.
        if introspect::meta::tracking_holders() {
            self.inner
                .raw
                .meta()
                .set_holder(crate::sync::current_owner());
        }
        hold
    }

    /// Takes the permit, waiting for it; returns the hold's number.
    async fn take(&self) -> u64 {
        if self.inner.raw.try_acquire().is_err() {
            // A Lock is never closed.
            let _ = self.inner.raw.acquire().await;
        }
        self.took()
    }

    /// Takes the permit if it is free; returns the hold's number.
    fn try_take(&self) -> Option<u64> {
        if crate::wait::loom::planted("lock-guard-without-permit") {
            // The planted bug: a guard even when the permit is taken.
            let _ = self.inner.raw.try_acquire();
            return Some(self.took());
        }
        self.inner.raw.try_acquire().is_ok().then(|| self.took())
    }

    /// The timed take behind every timed form; the hold's number if taken.
    async fn take_timed(&self, wait: Wait) -> Option<u64> {
        wait.acquire(|| self.try_take(), || self.take()).await
    }

    /// Gives the permit back (Python's `release`); an error if it is free.
    fn give_back(&self) -> Result<(), LockReleaseError> {
        if !self.locked() {
            return Err(LockReleaseError);
        }
        // Clear the stamp first: the next holder, and anything ordered after
        // this release, sees the old hold ended.
        self.inner.hold.store(0, Ordering::Release);
        // The last acquirer stays recorded (no work here when tracking is
        // off); a release with waiters asleep clears it in the wait core.
        self.inner
            .raw
            .release_bounded(1, 1)
            .map_err(|_| LockReleaseError)
    }

    /// Whether `hold` is still the current hold.
    pub(crate) fn holds(&self, hold: u64) -> bool {
        self.inner.hold.load(Ordering::Acquire) == hold && self.locked()
    }

    /// A guard's release: only if `hold` is still the current hold (see
    /// [`LockGuard`]'s docs for what that covers; for a `Lock<T>` nothing
    /// else releases, so it always is).
    pub(crate) fn release_held(&self, hold: u64) -> bool {
        self.inner.hold.load(Ordering::Acquire) == hold && self.give_back().is_ok()
    }

    fn guard(&self, hold: u64) -> LockGuard<'_, T> {
        LockGuard {
            lock: self,
            hold,
            _data: PhantomData,
        }
    }

    fn owned_guard(&self, hold: u64) -> OwnedLockGuard<T> {
        OwnedLockGuard {
            lock: self.clone(),
            hold,
            _data: PhantomData,
        }
    }

    /// The data, for the guards' `Deref` (in `cell.rs`).
    pub(super) fn data(&self) -> &DataCell<T> {
        &self.inner.data
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

    /// Acquires the lock and returns a guard that gives access to the data
    /// and releases the lock when dropped: Python's `with lock:`.
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
    /// let n = threadlet::Lock::with_value(0u64);
    /// *n.lock().await += 1;
    /// let guard = n.lock().await;
    /// assert!(n.locked());
    /// assert_eq!(*guard, 1);
    /// drop(guard);
    /// assert!(!n.locked());
    /// # }
    /// ```
    pub async fn lock(&self) -> LockGuard<'_, T> {
        let hold = self.take().await;
        self.guard(hold)
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
    pub fn try_lock(&self) -> Option<LockGuard<'_, T>> {
        self.try_take().map(|hold| self.guard(hold))
    }

    /// [`lock`](Lock::lock) waiting at most `timeout`; `None` if the time ran
    /// out first. A zero timeout is [`try_lock`](Lock::try_lock),
    /// `Duration::MAX` waits forever.
    ///
    /// # Panics
    ///
    /// When awaited outside a tokio runtime with a non-zero, finite timeout
    /// (it needs tokio's timer) — every time, even if the lock is free, with
    /// the caller's location in the message.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like [`lock`](Lock::lock).
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
    ) -> impl Future<Output = Option<LockGuard<'_, T>>> + '_ {
        let caller = Location::caller();
        async move {
            self.take_timed(Wait::plan(timeout, "Lock::lock_timeout", caller))
                .await
                .map(|hold| self.guard(hold))
        }
    }

    /// [`lock`](Lock::lock) for a plain OS thread (`std::thread`,
    /// `spawn_blocking`).
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line. Use
    /// [`lock().await`](Lock::lock) there, or call it from `spawn_blocking` /
    /// `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let n = threadlet::Lock::with_value(1);
    /// let guard = n.blocking_lock();
    /// assert_eq!(*guard, 1);
    /// ```
    #[track_caller]
    pub fn blocking_lock(&self) -> LockGuard<'_, T> {
        let op = Op {
            name: "Lock::blocking_lock",
            instead: "`.lock().await`",
        };
        let hold = block_on_forever(op, self.take());
        self.guard(hold)
    }

    /// [`lock_timeout`](Lock::lock_timeout) for a plain OS thread; `None` if
    /// the time ran out first. It needs no tokio runtime: a zero timeout
    /// never waits, `Duration::MAX` waits forever.
    ///
    /// # Panics
    ///
    /// On a thread that is driving a tokio runtime, as
    /// [`blocking_lock`](Lock::blocking_lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lock = threadlet::Lock::new();
    /// let guard = lock.blocking_lock_timeout(Duration::from_millis(5));
    /// assert!(guard.is_some());
    /// assert!(lock.blocking_lock_timeout(Duration::from_millis(5)).is_none());
    /// ```
    #[track_caller]
    pub fn blocking_lock_timeout(&self, timeout: Duration) -> Option<LockGuard<'_, T>> {
        let op = Op {
            name: "Lock::blocking_lock_timeout",
            instead: "`.lock_timeout(timeout).await`",
        };
        block_on(op, deadline(timeout), self.take()).map(|hold| self.guard(hold))
    }

    /// [`lock`](Lock::lock) returning an [`OwnedLockGuard`], which keeps its
    /// own handle of the lock instead of borrowing this one: it can move into
    /// a spawned task, and so can this future (tokio's `lock_owned`,
    /// async-lock's `lock_arc`). For the other forms convert a borrowed
    /// guard with [`LockGuard::into_owned`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like [`lock`](Lock::lock).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let log = threadlet::Lock::with_value(Vec::new());
    /// let mut guard = log.lock_owned().await;
    /// let task = tokio::spawn(async move {
    ///     guard.push("written by the task"); // still holding the lock
    /// }); // the guard drops with the task, releasing the lock
    /// task.await.unwrap();
    /// assert_eq!(log.lock().await.len(), 1);
    /// # }
    /// ```
    #[doc(alias = "lock_arc")]
    pub fn lock_owned(&self) -> impl Future<Output = OwnedLockGuard<T>> + use<T> {
        let lock = self.clone();
        async move {
            let hold = lock.take().await;
            OwnedLockGuard {
                lock,
                hold,
                _data: PhantomData,
            }
        }
    }

    /// [`try_lock`](Lock::try_lock) returning an [`OwnedLockGuard`].
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::new();
    /// let guard = lock.try_lock_owned().unwrap();
    /// assert!(lock.try_lock_owned().is_none());
    /// std::thread::spawn(move || drop(guard)).join().unwrap();
    /// assert!(!lock.locked());
    /// ```
    #[must_use = "if unused the Lock will immediately unlock"]
    pub fn try_lock_owned(&self) -> Option<OwnedLockGuard<T>> {
        self.try_take().map(|hold| self.owned_guard(hold))
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

impl<T: Default> Default for Lock<T> {
    /// An unlocked lock guarding `T::default()` (for `Lock<()>`,
    /// [`Lock::new`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let n: threadlet::Lock<u32> = Default::default();
    /// assert_eq!(*n.try_lock().unwrap(), 0);
    /// ```
    fn default() -> Self {
        Self::with_value(T::default())
    }
}

impl<T> From<T> for Lock<T> {
    /// [`Lock::with_value`].
    ///
    /// # Examples
    ///
    /// ```
    /// let n = threadlet::Lock::from(5);
    /// assert_eq!(*n.try_lock().unwrap(), 5);
    /// ```
    fn from(value: T) -> Self {
        Self::with_value(value)
    }
}

impl<T> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish()
    }
}

/// The guard of [`Lock::lock`]: the lock is held until it is dropped, like
/// the body of Python's `with lock:`, and the guard dereferences to the
/// lock's data (`*guard += 1` for a `Lock<u64>`).
///
/// The guard knows which hold it was made for: its drop releases the lock
/// only while that hold is still the current one. A data-less `Lock` can end
/// the hold behind the guard's back — a direct [`Lock::release`] (Python
/// raises in `__exit__` then), or a [`Condition`](crate::Condition) wait on
/// this lock that was cancelled (which leaves the caller without the lock) —
/// and the guard is then *stale*: its drop does nothing, even after another
/// task took the lock, so a guard never releases someone else's hold. A
/// completed Condition wait gives the same hold back, so the guard stays
/// valid across it. (A `Lock<T>` has neither `release` nor a Condition: its
/// guard holds the lock until dropped.)
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
/// let lock = threadlet::Lock::with_value(String::new());
/// let mut guard = lock.lock().await;
/// guard.push_str("held");
/// assert!(lock.locked());
/// drop(guard);
/// assert!(!lock.locked());
/// # }
/// ```
#[must_use = "if unused the Lock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct LockGuard<'a, T = ()> {
    lock: &'a Lock<T>,
    hold: u64,
    /// Send and Sync as `&mut T` is: sharing the guard shares `&T`.
    _data: PhantomData<&'a mut T>,
}

impl<'a, T> LockGuard<'a, T> {
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
    pub fn lock(&self) -> &'a Lock<T> {
        self.lock
    }

    /// Turns the guard into an [`OwnedLockGuard`] of the same hold, which can
    /// move into a spawned task: the owned form of
    /// [`lock_timeout`](Lock::lock_timeout), [`blocking_lock`](Lock::blocking_lock)
    /// and the rest.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use threadlet::LockGuard;
    ///
    /// let n = threadlet::Lock::with_value(0);
    /// let mut guard = n.lock_timeout(Duration::from_secs(1)).await.map(LockGuard::into_owned).unwrap();
    /// tokio::spawn(async move { *guard += 1 }).await.unwrap();
    /// assert_eq!(*n.lock().await, 1);
    /// # }
    /// ```
    pub fn into_owned(self) -> OwnedLockGuard<T> {
        let owned = self.lock.owned_guard(self.hold);
        std::mem::forget(self);
        owned
    }

    /// The data cell, for `Deref` (in `cell.rs`).
    pub(super) fn data(&self) -> &DataCell<T> {
        self.lock.data()
    }
}

impl<T> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release_held(self.hold);
    }
}

impl<T> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}

/// The guard of [`Lock::lock_owned`]: a [`LockGuard`] that keeps its own
/// handle of the lock, so it is `'static` and can move into a spawned task
/// (tokio's `OwnedMutexGuard`). Everything said of [`LockGuard`] holds for it.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let n = threadlet::Lock::with_value(1);
/// let mut guard = n.lock_owned().await;
/// tokio::spawn(async move { *guard *= 10 }).await.unwrap();
/// assert_eq!(*n.lock().await, 10);
/// # }
/// ```
#[must_use = "if unused the Lock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct OwnedLockGuard<T = ()> {
    lock: Lock<T>,
    hold: u64,
    /// Send and Sync as `T` is: sending the guard sends access to `T`.
    _data: PhantomData<T>,
}

impl<T> OwnedLockGuard<T> {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::Lock::new();
    /// let guard = lock.try_lock_owned().unwrap();
    /// assert!(guard.lock().locked());
    /// ```
    #[must_use]
    pub fn lock(&self) -> &Lock<T> {
        &self.lock
    }

    /// The data cell, for `Deref` (in `cell.rs`).
    pub(super) fn data(&self) -> &DataCell<T> {
        self.lock.data()
    }
}

impl<T> Drop for OwnedLockGuard<T> {
    fn drop(&mut self) {
        self.lock.release_held(self.hold);
    }
}

impl<T> fmt::Debug for OwnedLockGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedLockGuard").finish_non_exhaustive()
    }
}
