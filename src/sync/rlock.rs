//! [`RLock`]: a [`Lock`](crate::Lock)'s permit plus an owner and a depth.
//!
//! The owner is an id in one atomic word: a tokio task id
//! (`tokio::task::try_id`) inside a task, otherwise the OS thread id tagged
//! with the high bit. The depth shares a second word with the number of the
//! current hold (`hold << 32 | depth`), changed only by compare-and-swap, so
//! a guard dropped on another task never loses an update racing with the
//! owner's re-entry, and a guard whose hold has ended (a cancelled Condition
//! wait, an explicit release) cannot touch the next one.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::panic::Location;
use std::time::Duration;

use super::error::RLockReleaseError;
use super::statistics::RLockStatistics;
use crate::introspect::meta::{Meta, PrimitiveKind};
use crate::wait::blocking::{Op, block_on, block_on_forever};
use crate::wait::loom::{Arc, AtomicU64, Ordering};
use crate::wait::timeout::Wait;
use crate::wait::timeout::deadline;
use crate::wait::{Mode, RawSemaphore};

/// Nobody owns the lock.
const UNOWNED: u64 = 0;
/// Tags an owner id taken from an OS thread rather than from a tokio task.
pub(crate) const THREAD_TAG: u64 = 1 << 63;

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

/// The owner id of the task `id` (what [`current_owner`] returns in it).
pub(crate) fn task_owner(id: tokio::task::Id) -> u64 {
    id_value(id) & !THREAD_TAG
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
        return task_owner(id);
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

/// The depth's bits in [`Inner::level`]; the hold number is above them.
const DEPTH: u64 = u32::MAX as u64;

fn depth_of(level: u64) -> usize {
    (level & DEPTH) as usize
}

fn hold_of(level: u64) -> u64 {
    level >> 32
}

#[derive(Debug)]
struct Inner<T> {
    /// The permit. Its identity's holder word is the owner's id,
    /// [`UNOWNED`] when free (so a dump reads it): written by the taker of
    /// the permit before it sets the depth, and cleared after the depth went
    /// to zero, before the permit goes back.
    raw: RawSemaphore,
    /// `hold << 32 | depth`: the current hold's number (a new one each time
    /// the lock is taken while free; a Condition wait gives the same one back)
    /// and its recursion depth, 0 when free. Every change of a held level is
    /// a compare-and-swap, so no update is lost, and one that names a hold
    /// fails once that hold has ended.
    level: AtomicU64,
    /// The last hold number given out (32 bits are used). Written only by the
    /// permit's taker, right after taking it.
    holds: AtomicU64,
    /// The guarded data, shared: re-entry means two guards of one owner may
    /// be alive at once, so no guard may hand out `&mut`.
    data: T,
}

/// A re-entrant lock, Python's `threading.RLock`: the owner may acquire it
/// again (the count goes up) and must release it as often.
///
/// It may carry data (`RLock<T>`, made by [`RLock::with_value`]) that its
/// guards give **shared** access to (`&T`): re-entry means two guards of one
/// owner can be alive at once, so neither may hand out `&mut T`. Put atomics
/// or other `Sync` interior mutability inside to change it.
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
/// The handle is a cheap [`Clone`]; clones are the same lock. The depth is
/// a 32-bit count: re-entering more than `u32::MAX` times panics.
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
pub struct RLock<T = ()> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for RLock<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl RLock {
    /// Creates an unowned re-entrant lock without data: Python's
    /// `threading.RLock()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// assert!(!lock.locked());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new() -> Self {
        Self::with_value(())
    }

    /// [`new`](RLock::new) with a label that [`dump`](crate::dump) and
    /// [`deadlocks`](crate::deadlocks) show for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::labeled("accounts");
    /// assert!(!lock.locked());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn labeled(label: impl Into<String>) -> Self {
        Self::build((), Some(label.into().into_boxed_str()))
    }
}

impl<T> RLock<T> {
    /// Creates an unowned re-entrant lock guarding `value`; its guards give
    /// shared access (`&T`) to it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let balance = threadlet::RLock::with_value(AtomicU64::new(100));
    /// let outer = balance.lock().await;
    /// let inner = balance.lock().await; // re-entry: both see the data
    /// inner.fetch_sub(30, Ordering::Relaxed);
    /// assert_eq!(outer.load(Ordering::Relaxed), 70);
    /// # }
    /// ```
    #[must_use]
    #[track_caller]
    pub fn with_value(value: T) -> Self {
        Self::build(value, None)
    }

    #[track_caller]
    fn build(value: T, label: Option<Box<str>>) -> Self {
        Self {
            inner: Arc::new(Inner {
                raw: RawSemaphore::with_meta(
                    1,
                    Mode::Counting,
                    Meta::new(PrimitiveKind::RLock, label),
                ),
                level: AtomicU64::new(0),
                holds: AtomicU64::new(0),
                data: value,
            }),
        }
    }

    /// The owner's id, kept in the permit's identity (see [`Inner::raw`]).
    fn owner(&self) -> &AtomicU64 {
        &self.inner.raw.meta().holder
    }

    /// Re-enters at once if the caller owns the lock; returns the hold's
    /// number.
    ///
    /// # Panics
    ///
    /// Past `u32::MAX` levels.
    fn try_reenter(&self, me: u64) -> Option<u64> {
        loop {
            if self.owner().load(Ordering::Acquire) != me {
                return None;
            }
            let level = self.inner.level.load(Ordering::Acquire);
            match depth_of(level) {
                0 => return None, // being released, or not yet set up
                d if d as u64 == DEPTH => panic!("RLock re-entered more than u32::MAX times"),
                _ => {}
            }
            if self
                .inner
                .level
                .compare_exchange(level, level + 1, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return Some(hold_of(level));
            }
        }
    }

    /// Records the caller as owner after taking the permit: a new hold, or
    /// (`restore`, from a Condition wait) the level saved when it let go.
    fn set_owner(&self, me: u64, restore: Option<u64>) -> u64 {
        let level = restore.unwrap_or_else(|| {
            let hold = (self.inner.holds.load(Ordering::Relaxed) + 1) & DEPTH;
            self.inner.holds.store(hold, Ordering::Relaxed);
            hold << 32 | 1
        });
        self.owner().store(me, Ordering::Release);
        self.inner.level.store(level, Ordering::Release);
        hold_of(level)
    }

    /// Releases one level of the hold numbered `hold` (`None`: of whatever
    /// hold `me` owns); `false` if that hold has ended (or `me` owns none).
    fn release_level(&self, hold: Option<u64>, me: u64) -> bool {
        loop {
            if hold.is_none() && self.owner().load(Ordering::Acquire) != me {
                return false;
            }
            let level = self.inner.level.load(Ordering::Acquire);
            if depth_of(level) == 0 || hold.is_some_and(|hold| hold != hold_of(level)) {
                return false;
            }
            if self
                .inner
                .level
                .compare_exchange(level, level - 1, Ordering::AcqRel, Ordering::Acquire)
                .is_err()
            {
                continue;
            }
            if depth_of(level) == 1 {
                self.free();
            }
            return true;
        }
    }

    /// After the depth went to zero: gives the lock up.
    fn free(&self) {
        self.owner().store(UNOWNED, Ordering::Release);
        let _ = self.inner.raw.release_bounded(1, 1);
    }

    /// Takes the permit (waiting) and sets up the caller's hold.
    async fn acquire_as(&self, me: u64, restore: Option<u64>) -> u64 {
        if self.inner.raw.try_acquire().is_err() {
            let _ = self.inner.raw.acquire().await;
        }
        self.set_owner(me, restore)
    }

    /// Acquires (or re-enters); returns the hold's number.
    pub(crate) async fn acquire_held(&self) -> u64 {
        let me = current_owner();
        match self.try_reenter(me) {
            Some(hold) => hold,
            None => self.acquire_as(me, None).await,
        }
    }

    /// Takes (or re-enters) the lock if possible now; the hold's number.
    pub(crate) fn try_acquire_held(&self) -> Option<u64> {
        let me = current_owner();
        if let Some(hold) = self.try_reenter(me) {
            return Some(hold);
        }
        self.inner
            .raw
            .try_acquire()
            .is_ok()
            .then(|| self.set_owner(me, None))
    }

    /// Whether the hold numbered `hold` is still the current one.
    pub(crate) fn holds(&self, hold: u64) -> bool {
        let level = self.inner.level.load(Ordering::Acquire);
        depth_of(level) > 0 && hold_of(level) == hold
    }

    /// A guard's release: one level, only while its hold is current.
    pub(crate) fn release_held(&self, hold: u64) -> bool {
        self.release_level(Some(hold), UNOWNED)
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
        self.acquire_held().await;
    }

    /// For Condition: takes the free lock and restores the level saved by
    /// [`release_all`](Self::release_all) (its depth and its hold number).
    pub(crate) async fn acquire_restore(&self, saved: u64) {
        self.acquire_as(current_owner(), Some(saved)).await;
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
        self.try_acquire_held().is_some()
    }

    /// [`acquire`](RLock::acquire) waiting at most `timeout`; `false` if the
    /// time ran out first. `Duration::MAX` waits forever; a zero timeout is
    /// [`try_acquire`](RLock::try_acquire).
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
    #[track_caller]
    pub fn acquire_timeout(&self, timeout: Duration) -> impl Future<Output = bool> + '_ {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(timeout, "RLock::acquire_timeout", caller);
            wait.acquire(|| self.try_acquire_held(), || self.acquire_held())
                .await
                .is_some()
        }
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
        if self.release_level(None, current_owner()) {
            Ok(())
        } else {
            Err(RLockReleaseError)
        }
    }

    /// For Condition: releases every level; returns the saved level (depth
    /// and hold number) for [`acquire_restore`](Self::acquire_restore), or
    /// `None` if the caller does not own the lock.
    pub(crate) fn release_all(&self) -> Option<u64> {
        let me = current_owner();
        loop {
            if self.owner().load(Ordering::Acquire) != me {
                return None;
            }
            let level = self.inner.level.load(Ordering::Acquire);
            if depth_of(level) == 0 {
                return None;
            }
            if self
                .inner
                .level
                .compare_exchange(level, level & !DEPTH, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                self.free();
                return Some(level);
            }
        }
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
        self.owner().load(Ordering::Acquire) == current_owner() && self.count() > 0
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
        if self.is_owned() { self.count() } else { 0 }
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
        depth_of(self.inner.level.load(Ordering::Acquire))
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
    pub async fn lock(&self) -> RLockGuard<'_, T> {
        let hold = self.acquire_held().await;
        RLockGuard { lock: self, hold }
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
    pub fn try_lock(&self) -> Option<RLockGuard<'_, T>> {
        self.try_acquire_held()
            .map(|hold| RLockGuard { lock: self, hold })
    }

    /// [`acquire`](RLock::acquire) for a plain OS thread; the owner is the
    /// thread.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`acquire().await`](RLock::acquire) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// lock.blocking_acquire();
    /// lock.blocking_acquire();
    /// assert_eq!(lock.recursion_count(), 2);
    /// ```
    #[track_caller]
    pub fn blocking_acquire(&self) {
        let op = Op {
            name: "RLock::blocking_acquire",
            instead: "`.acquire().await`",
        };
        block_on_forever(op, self.acquire_held());
    }

    /// [`acquire_timeout`](RLock::acquire_timeout) for a plain OS thread; it
    /// needs no tokio runtime.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`acquire_timeout(timeout).await`](RLock::acquire_timeout) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
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
    #[track_caller]
    pub fn blocking_acquire_timeout(&self, timeout: Duration) -> bool {
        let op = Op {
            name: "RLock::blocking_acquire_timeout",
            instead: "`.acquire_timeout(timeout).await`",
        };
        block_on(op, deadline(timeout), self.acquire_held()).is_some()
    }

    /// [`lock`](RLock::lock) for a plain OS thread.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`lock().await`](RLock::lock) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// let guard = lock.blocking_lock();
    /// assert!(lock.is_owned());
    /// ```
    #[track_caller]
    pub fn blocking_lock(&self) -> RLockGuard<'_, T> {
        let op = Op {
            name: "RLock::blocking_lock",
            instead: "`.lock().await`",
        };
        let hold = block_on_forever(op, self.acquire_held());
        RLockGuard { lock: self, hold }
    }

    /// [`lock`](RLock::lock) waiting at most `timeout`; `None` if the time
    /// ran out first. A zero timeout is [`try_lock`](RLock::try_lock),
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
    /// let guard = lock.lock_timeout(Duration::from_millis(10)).await;
    /// assert!(guard.is_some());
    /// let other = lock.clone();
    /// let got = tokio::spawn(async move { other.lock_timeout(Duration::from_millis(10)).await.is_some() });
    /// assert!(!got.await.unwrap());
    /// # }
    /// ```
    #[track_caller]
    pub fn lock_timeout(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Option<RLockGuard<'_, T>>> + '_ {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(timeout, "RLock::lock_timeout", caller);
            wait.acquire(|| self.try_acquire_held(), || self.acquire_held())
                .await
                .map(|hold| RLockGuard { lock: self, hold })
        }
    }

    /// [`lock_timeout`](RLock::lock_timeout) for a plain OS thread; the
    /// owner is the thread. It needs no tokio runtime.
    ///
    /// # Panics
    ///
    /// On a thread that is driving a tokio runtime, as
    /// [`blocking_lock`](RLock::blocking_lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lock = threadlet::RLock::new();
    /// let guard = lock.try_lock().unwrap();
    /// let other = lock.clone();
    /// let got = std::thread::spawn(move || other.blocking_lock_timeout(Duration::from_millis(5)).is_some());
    /// assert!(!got.join().unwrap());
    /// ```
    #[track_caller]
    pub fn blocking_lock_timeout(&self, timeout: Duration) -> Option<RLockGuard<'_, T>> {
        let op = Op {
            name: "RLock::blocking_lock_timeout",
            instead: "`.lock_timeout(timeout).await`",
        };
        block_on(op, deadline(timeout), self.acquire_held())
            .map(|hold| RLockGuard { lock: self, hold })
    }

    /// [`lock`](RLock::lock) returning an [`OwnedRLockGuard`], which keeps
    /// its own handle of the lock: it, and this future, can move into a
    /// spawned task. The owner is still the task that took the lock (the
    /// guard releases its level wherever it is dropped). For the other forms
    /// convert a borrowed guard with [`RLockGuard::into_owned`].
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
    /// let lock = threadlet::RLock::with_value(7);
    /// let guard = lock.lock_owned().await;
    /// let seen = tokio::spawn(async move { *guard }).await.unwrap();
    /// assert_eq!(seen, 7);
    /// assert!(!lock.locked()); // released where the guard dropped
    /// # }
    /// ```
    #[doc(alias = "lock_arc")]
    pub fn lock_owned(&self) -> impl Future<Output = OwnedRLockGuard<T>> + use<T> {
        let lock = self.clone();
        async move {
            let hold = lock.acquire_held().await;
            OwnedRLockGuard { lock, hold }
        }
    }

    /// [`try_lock`](RLock::try_lock) returning an [`OwnedRLockGuard`].
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// let guard = lock.try_lock_owned().unwrap();
    /// std::thread::spawn(move || drop(guard)).join().unwrap();
    /// assert!(!lock.locked());
    /// ```
    #[must_use = "if unused the RLock will immediately unlock"]
    pub fn try_lock_owned(&self) -> Option<OwnedRLockGuard<T>> {
        self.try_acquire_held().map(|hold| OwnedRLockGuard {
            lock: self.clone(),
            hold,
        })
    }

    /// A snapshot of the lock: whether it is owned (by anybody, by the
    /// caller), its owner's depth and how many wait for it (trio's
    /// `statistics()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// let _guard = lock.try_lock().unwrap();
    /// let stats = lock.statistics();
    /// assert!(stats.locked && stats.owned);
    /// assert_eq!((stats.count, stats.waiters), (1, 0));
    /// ```
    #[must_use]
    pub fn statistics(&self) -> RLockStatistics {
        let s = self.inner.raw.snapshot();
        RLockStatistics {
            locked: s.permits == 0,
            owned: self.is_owned(),
            count: self.count(),
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

impl<T: Default> Default for RLock<T> {
    /// An unowned lock guarding `T::default()` (for `RLock<()>`,
    /// [`RLock::new`]).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock: threadlet::RLock<Vec<u8>> = Default::default();
    /// assert!(lock.try_lock().unwrap().is_empty());
    /// ```
    fn default() -> Self {
        Self::with_value(T::default())
    }
}

impl<T> From<T> for RLock<T> {
    /// [`RLock::with_value`].
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::from("data");
    /// assert_eq!(*lock.try_lock().unwrap(), "data");
    /// ```
    fn from(value: T) -> Self {
        Self::with_value(value)
    }
}

impl<T> fmt::Debug for RLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("locked", &self.locked())
            .field("count", &self.count())
            .finish()
    }
}

/// The guard of [`RLock::lock`]: holds one level of the lock until dropped.
///
/// The guard proves ownership, so its drop releases the level even if it runs
/// on another task (a guard moved into a spawned task or a scoped thread);
/// the depth changes by compare-and-swap, so that drop may race with the
/// owner's own re-entries and releases without losing any.
///
/// The guard knows which hold it was made for (a hold lasts from taking the
/// free lock to giving it up; re-entries and a completed
/// [`Condition`](crate::Condition) wait stay in it). If that hold ended behind
/// the guard's back — the owner released every level explicitly, or a
/// Condition wait on this lock was cancelled, which leaves the caller without
/// the lock — the guard is *stale*: its drop does nothing, and never releases
/// a level of the next hold, whoever owns it. (Hold numbers are 32 bits: a
/// stale guard kept across 2³² later acquisitions could match again.)
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
pub struct RLockGuard<'a, T = ()> {
    lock: &'a RLock<T>,
    hold: u64,
}

impl<'a, T> RLockGuard<'a, T> {
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
    pub fn lock(&self) -> &'a RLock<T> {
        self.lock
    }

    /// Turns the guard into an [`OwnedRLockGuard`] of the same level, which
    /// can move into a spawned task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::RLockGuard;
    ///
    /// let lock = threadlet::RLock::with_value(3);
    /// let guard = lock.blocking_lock_timeout(Duration::from_secs(1)).map(RLockGuard::into_owned).unwrap();
    /// assert_eq!(std::thread::spawn(move || *guard).join().unwrap(), 3);
    /// assert!(!lock.locked());
    /// ```
    pub fn into_owned(self) -> OwnedRLockGuard<T> {
        let owned = OwnedRLockGuard {
            lock: self.lock.clone(),
            hold: self.hold,
        };
        std::mem::forget(self);
        owned
    }
}

impl<T> Deref for RLockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.lock.inner.data
    }
}

impl<T> Drop for RLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.release_held(self.hold);
    }
}

impl<T> fmt::Debug for RLockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard").finish_non_exhaustive()
    }
}

/// The guard of [`RLock::lock_owned`]: an [`RLockGuard`] that keeps its own
/// handle of the lock, so it is `'static` and can move into a spawned task.
/// Everything said of [`RLockGuard`] holds for it.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = threadlet::RLock::with_value("config");
/// let guard = lock.lock_owned().await;
/// assert_eq!(tokio::spawn(async move { *guard }).await.unwrap(), "config");
/// # }
/// ```
#[must_use = "if unused the RLock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct OwnedRLockGuard<T = ()> {
    lock: RLock<T>,
    hold: u64,
}

impl<T> OwnedRLockGuard<T> {
    /// The lock this guard holds a level of.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threadlet::RLock::new();
    /// let guard = lock.try_lock_owned().unwrap();
    /// assert!(guard.lock().locked());
    /// ```
    #[must_use]
    pub fn lock(&self) -> &RLock<T> {
        &self.lock
    }
}

impl<T> Deref for OwnedRLockGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.lock.inner.data
    }
}

impl<T> Drop for OwnedRLockGuard<T> {
    fn drop(&mut self) {
        self.lock.release_held(self.hold);
    }
}

impl<T> fmt::Debug for OwnedRLockGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedRLockGuard").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(threadlet_loom)))]
mod tests {
    use super::id_value;

    /// The owner id read from a task id through `Hash` is the number tokio
    /// shows for it.
    #[tokio::test]
    async fn task_id_extraction_matches_tokios_display() {
        for _ in 0..3 {
            let (id, shown) = tokio::spawn(async {
                let id = tokio::task::id();
                (id_value(id), id.to_string())
            })
            .await
            .unwrap();
            assert_eq!(id.to_string(), shown);
            assert_ne!(id, 0);
        }
    }
}
