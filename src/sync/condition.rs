//! [`Condition`]: a lock ([`Lock`] or [`RLock`]) plus the shared core in
//! notify mode.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::time::Duration;

use super::error::{ConditionNotifyError, ConditionWaitError};
#[cfg(doc)]
use super::lock::Lock;
use super::raw_lock::ConditionLock;
use super::rlock::RLock;
use super::statistics::ConditionStatistics;
use crate::wait::blocking::{Op, block_on, block_on_forever, block_on_timed};
use crate::wait::loom::Arc;
use crate::wait::timeout::Wait;
use crate::wait::timeout::deadline;
use crate::wait::{Mode, RawSemaphore};

#[derive(Debug)]
struct Inner<L> {
    lock: L,
    waiters: RawSemaphore,
}

/// Python's `threading.Condition(lock)`: tasks wait until notified, atomically
/// giving up the lock while they wait and holding it again when they return.
///
/// [`Condition::new`] builds it over a new [`RLock`], as Python's
/// `Condition()` does: the task that holds the lock may take it again, and
/// only that task may wait or notify. [`Condition::with_lock`] builds it over
/// any [`Lock`] or [`RLock`], e.g. `Condition::with_lock(Lock::new())` for
/// the faster plain lock, on which any task may release, wait or notify
/// once somebody holds it (Python's `Condition(Lock())`). Two ways to use it:
///
/// * **Python style**: [`acquire`](Condition::acquire), then
///   [`wait`](Condition::wait) / [`notify`](Condition::notify), then
///   [`release`](Condition::release).
/// * **Guard style** (Python's `with cond:`): [`lock`](Condition::lock) returns
///   a [`ConditionGuard`] with its own `wait` / `notify`; dropping it releases.
///
/// Waiting or notifying without holding the lock is an error. Over a `Lock`
/// (which has no owner) that means "the lock is held by somebody", as Python
/// checks; over an `RLock`, "the caller owns it".
///
/// # Cancellation
///
/// A wait gives the lock up while it waits and takes it back before it
/// returns. If the wait future is dropped before it returns (a `select!`, a
/// timeout around it, an aborted task), **the caller no longer holds the
/// lock** (a drop cannot wait to take it back). Every guard knows it:
/// a [`ConditionGuard`], a [`LockGuard`](crate::LockGuard) or an
/// [`RLockGuard`](crate::RLockGuard) taken before the wait — the common
/// `let g = lock.lock().await; timeout(d, cond.wait()).await; drop(g)` — is
/// *stale* afterwards: its drop does nothing, even once another task holds the
/// lock, and a `ConditionGuard`'s `wait`/`notify` fail. A Python-style caller
/// must not `release` it afterwards (with a `Lock` that would release somebody
/// else's hold). A completed wait gives the same hold back, so guards taken
/// before it stay valid. The lock is never left held by nobody, and a
/// notification the dropped waiter had already received passes on to the
/// next waiter.
///
/// # Panics in the predicate
///
/// A `wait_for` predicate runs with the lock held. If it panics inside a
/// guard's [`wait_for`](ConditionGuard::wait_for), the unwinding drops the
/// guard, which releases the lock — Python's `with cond: cond.wait_for(pred)`
/// releases it when `pred` raises. Through the Python-style
/// [`Condition::wait_for`] the caller still holds the lock, as in Python
/// without `with`.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use threadlet::Condition;
///
/// let cond = Condition::new();
/// let ready = Arc::new(AtomicBool::new(false));
/// let (c, r) = (cond.clone(), ready.clone());
/// let consumer = tokio::spawn(async move {
///     let mut guard = c.lock().await;
///     guard.wait_for(|| r.load(Ordering::SeqCst)).await.unwrap();
/// });
/// {
///     let guard = cond.lock().await;
///     ready.store(true, Ordering::SeqCst);
///     guard.notify_all().unwrap();
/// }
/// consumer.await.unwrap();
/// # }
/// ```
pub struct Condition<L: ConditionLock = RLock> {
    inner: Arc<Inner<L>>,
}

impl<L: ConditionLock> Clone for Condition<L> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl Condition<RLock> {
    /// Creates a condition over a new [`RLock`], Python's
    /// `threading.Condition()`: the lock is re-entrant and owned, so only the
    /// task (or OS thread) holding it may wait or notify. For a condition
    /// over a plain [`Lock`] (faster; no owner, as Python's
    /// `Condition(Lock())`) use [`with_lock`](Condition::with_lock).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = threadlet::Condition::new();
    /// let outer = cond.lock().await;
    /// let inner = cond.lock().await; // re-entry, as with Python's RLock
    /// assert!(cond.get_lock().is_owned());
    /// drop((inner, outer));
    /// assert!(!cond.locked());
    /// # }
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new() -> Self {
        Self::with_lock(RLock::new())
    }
}

impl Default for Condition<RLock> {
    fn default() -> Self {
        Self::new()
    }
}

/// Passes a consumed notification on to the next waiter if the wait is
/// dropped while it re-acquires the lock.
struct PassOn<'a> {
    waiters: &'a RawSemaphore,
    armed: bool,
}

impl Drop for PassOn<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.waiters.notify(1);
        }
    }
}

impl<L: ConditionLock> Condition<L> {
    /// Creates a condition over `lock` (a [`Lock`] or an [`RLock`]), which
    /// may be shared with code that uses it directly. Over a plain `Lock`
    /// (Python's `Condition(Lock())`) it is faster than [`new`](Condition::new)'s
    /// `RLock`, and "holding the lock" means held by anybody.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::{Condition, Lock};
    ///
    /// let lock = Lock::new();
    /// let cond = Condition::with_lock(lock.clone());
    /// assert!(lock.try_acquire());
    /// assert!(cond.locked());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn with_lock(lock: L) -> Self {
        let meta =
            crate::introspect::meta::Meta::new(crate::introspect::PrimitiveKind::Condition, None);
        Self {
            inner: Arc::new(Inner {
                lock,
                waiters: RawSemaphore::with_meta(0, Mode::PassOn, meta),
            }),
        }
    }

    /// The underlying lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// assert!(cond.get_lock().try_acquire());
    /// assert!(cond.locked());
    /// ```
    #[must_use]
    pub fn get_lock(&self) -> &L {
        &self.inner.lock
    }

    /// Acquires the underlying lock (Python's `cond.acquire()`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like the lock's `acquire`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = threadlet::Condition::new();
    /// cond.acquire().await;
    /// assert!(cond.locked());
    /// cond.release().unwrap();
    /// # }
    /// ```
    pub async fn acquire(&self) {
        self.inner.lock.acquire_held().await;
    }

    /// Takes the underlying lock if possible right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new(); // over an RLock
    /// assert!(cond.try_acquire());
    /// assert!(cond.try_acquire()); // the owner re-enters
    /// let plain = threadlet::Condition::with_lock(threadlet::Lock::new());
    /// assert!(plain.try_acquire());
    /// assert!(!plain.try_acquire());
    /// ```
    #[doc(alias = "acquire_nowait")]
    #[must_use = "if the lock was taken it must be released"]
    pub fn try_acquire(&self) -> bool {
        self.inner.lock.try_acquire_held().is_some()
    }

    /// Acquires the underlying lock, waiting at most `timeout`; a zero
    /// timeout is [`try_acquire`](Condition::try_acquire), `Duration::MAX`
    /// waits forever.
    ///
    /// # Panics
    ///
    /// When awaited outside a tokio runtime with a non-zero, finite timeout
    /// (it needs tokio's timer) — every time, with the caller's location.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like the lock's `acquire`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let cond = threadlet::Condition::with_lock(threadlet::Lock::new());
    /// assert!(cond.acquire_timeout(Duration::from_millis(5)).await);
    /// assert!(!cond.acquire_timeout(Duration::from_millis(5)).await);
    /// # }
    /// ```
    #[must_use = "if the lock was taken it must be released"]
    #[track_caller]
    pub fn acquire_timeout(&self, timeout: Duration) -> impl Future<Output = bool> + Send + '_ {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(timeout, "Condition::acquire_timeout", caller);
            let lock = &self.inner.lock;
            wait.acquire(|| lock.try_acquire_held(), || lock.acquire_held())
                .await
                .is_some()
        }
    }

    /// [`acquire_timeout`](Condition::acquire_timeout) for a plain OS thread;
    /// `false` if the time ran out first. It needs no tokio runtime.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use
    /// [`acquire_timeout(timeout).await`](Condition::acquire_timeout) in async
    /// code, or call it from `spawn_blocking` / `block_in_place` / a plain
    /// thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let cond = threadlet::Condition::with_lock(threadlet::Lock::new());
    /// assert!(cond.blocking_acquire_timeout(Duration::from_millis(5)));
    /// assert!(!cond.blocking_acquire_timeout(Duration::from_millis(5)));
    /// ```
    #[must_use = "if the lock was taken it must be released"]
    #[track_caller]
    pub fn blocking_acquire_timeout(&self, timeout: Duration) -> bool {
        let op = Op {
            name: "Condition::blocking_acquire_timeout",
            instead: "`.acquire_timeout(timeout).await`",
        };
        block_on(op, deadline(timeout), self.inner.lock.acquire_held()).is_some()
    }

    /// Releases the underlying lock (Python's `cond.release()`).
    ///
    /// # Errors
    ///
    /// The lock's release error if it is not held (by the caller, for an
    /// `RLock`).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// assert!(cond.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), L::ReleaseError> {
        self.inner.lock.release_one()
    }

    /// Whether the underlying lock is held by anybody.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// assert!(!cond.locked());
    /// ```
    #[must_use]
    pub fn locked(&self) -> bool {
        self.inner.lock.is_locked()
    }

    /// Acquires the lock and returns a guard that releases it when dropped
    /// and carries `wait` / `notify`: Python's `with cond:`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like the lock's `acquire`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = threadlet::Condition::new();
    /// let guard = cond.lock().await;
    /// guard.notify(1).unwrap(); // nobody waits: does nothing
    /// drop(guard);
    /// assert!(!cond.locked());
    /// # }
    /// ```
    pub async fn lock(&self) -> ConditionGuard<'_, L> {
        let hold = self.inner.lock.acquire_held().await;
        self.guard(hold)
    }

    /// [`lock`](Condition::lock) for a plain OS thread.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`lock().await`](Condition::lock) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// let guard = cond.blocking_lock();
    /// assert!(cond.locked());
    /// ```
    #[track_caller]
    pub fn blocking_lock(&self) -> ConditionGuard<'_, L> {
        let op = Op {
            name: "Condition::blocking_lock",
            instead: "`.lock().await`",
        };
        let hold = block_on_forever(op, self.inner.lock.acquire_held());
        self.guard(hold)
    }

    fn guard(&self, hold: u64) -> ConditionGuard<'_, L> {
        ConditionGuard {
            cond: self,
            held: true,
            hold,
        }
    }

    /// Takes the lock if possible right now (for an `RLock`, also if the
    /// caller owns it) and returns its guard.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::{Condition, Lock};
    ///
    /// let cond = Condition::with_lock(Lock::new());
    /// let guard = cond.try_lock();
    /// assert!(guard.is_some());
    /// assert!(cond.try_lock().is_none());
    /// ```
    #[must_use = "if unused the Condition's lock will immediately unlock"]
    pub fn try_lock(&self) -> Option<ConditionGuard<'_, L>> {
        self.inner
            .lock
            .try_acquire_held()
            .map(|hold| self.guard(hold))
    }

    /// [`lock`](Condition::lock) waiting at most `timeout`; `None` if the
    /// time ran out first. A zero timeout is
    /// [`try_lock`](Condition::try_lock), `Duration::MAX` waits forever.
    ///
    /// # Panics
    ///
    /// When awaited outside a tokio runtime with a non-zero, finite timeout
    /// (it needs tokio's timer) — every time, with the caller's location.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like the lock's `acquire`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use threadlet::{Condition, Lock};
    ///
    /// let cond = Condition::with_lock(Lock::new());
    /// let guard = cond.lock_timeout(Duration::from_millis(5)).await;
    /// assert!(guard.is_some());
    /// assert!(cond.lock_timeout(Duration::from_millis(5)).await.is_none());
    /// # }
    /// ```
    #[track_caller]
    pub fn lock_timeout(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Option<ConditionGuard<'_, L>>> + Send + '_ {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(timeout, "Condition::lock_timeout", caller);
            let lock = &self.inner.lock;
            wait.acquire(|| lock.try_acquire_held(), || lock.acquire_held())
                .await
                .map(|hold| self.guard(hold))
        }
    }

    /// [`lock_timeout`](Condition::lock_timeout) for a plain OS thread;
    /// `None` if the time ran out first. It needs no tokio runtime.
    ///
    /// # Panics
    ///
    /// On a thread that is driving a tokio runtime, as
    /// [`blocking_lock`](Condition::blocking_lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let cond = threadlet::Condition::new();
    /// let guard = cond.try_lock().unwrap();
    /// let c = cond.clone();
    /// let got = std::thread::spawn(move || c.blocking_lock_timeout(Duration::from_millis(5)).is_some());
    /// assert!(!got.join().unwrap());
    /// ```
    #[track_caller]
    pub fn blocking_lock_timeout(&self, timeout: Duration) -> Option<ConditionGuard<'_, L>> {
        let op = Op {
            name: "Condition::blocking_lock_timeout",
            instead: "`.lock_timeout(timeout).await`",
        };
        block_on(op, deadline(timeout), self.inner.lock.acquire_held()).map(|hold| self.guard(hold))
    }

    /// Acquires the underlying lock on a plain OS thread.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`acquire().await`](Condition::acquire) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// cond.blocking_acquire();
    /// assert!(cond.locked());
    /// ```
    #[track_caller]
    pub fn blocking_acquire(&self) {
        let op = Op {
            name: "Condition::blocking_acquire",
            instead: "`.acquire().await`",
        };
        block_on_forever(op, self.inner.lock.acquire_held());
    }

    /// Releases the lock, waits until notified, and re-acquires the lock
    /// before returning (Python's `cond.wait()`).
    ///
    /// # Errors
    ///
    /// [`ConditionWaitError`] if the caller does not hold the lock.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it returns leaves the caller **without**
    /// the lock, and every guard of the lock taken before the wait stale (see
    /// [`# Cancellation`](Condition#cancellation)); a notification it had
    /// received passes on to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = threadlet::Condition::new();
    /// let c = cond.clone();
    /// cond.acquire().await;
    /// tokio::spawn(async move {
    ///     c.acquire().await;
    ///     c.notify(1).unwrap();
    ///     c.release().unwrap();
    /// });
    /// cond.wait().await.unwrap();
    /// assert!(cond.locked()); // held again
    /// cond.release().unwrap();
    /// # }
    /// ```
    pub async fn wait(&self) -> Result<(), ConditionWaitError> {
        self.wait_inner(Wait::Forever).await.map(|_| ())
    }

    /// [`wait`](Condition::wait) for at most `timeout`; `Ok(false)` if the time
    /// ran out. The lock is re-acquired either way (that part is not timed,
    /// as in Python). `Duration::MAX` waits forever; a zero timeout lets the
    /// lock go and takes it back without waiting for a notification.
    ///
    /// # Errors
    ///
    /// [`ConditionWaitError`] if the caller does not hold the lock.
    ///
    /// # Panics
    ///
    /// When awaited outside a tokio runtime with a non-zero, finite timeout
    /// (it needs tokio's timer) — every time, before the lock is let go, with
    /// the caller's location.
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Condition::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let cond = threadlet::Condition::new();
    /// cond.acquire().await;
    /// assert_eq!(cond.wait_timeout(Duration::from_millis(5)).await, Ok(false));
    /// assert!(cond.locked());
    /// # }
    /// ```
    #[track_caller]
    pub fn wait_timeout(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Result<bool, ConditionWaitError>> + Send + '_ {
        let caller = Location::caller();
        async move {
            self.wait_inner(Wait::plan(timeout, "Condition::wait_timeout", caller))
                .await
        }
    }

    async fn wait_inner(&self, wait: Wait) -> Result<bool, ConditionWaitError> {
        let inner = &*self.inner;
        if !inner.lock.held_by_caller() {
            return Err(ConditionWaitError);
        }
        // Queue first, then let go of the lock: a notify made as soon as the
        // lock is free already finds this waiter.
        let waiter = inner.waiters.register();
        let Some(saved) = inner.lock.release_save() else {
            return Err(ConditionWaitError);
        };
        let notified = wait.run(waiter).await.is_some();
        let mut pass_on = PassOn {
            waiters: &inner.waiters,
            armed: notified,
        };
        inner.lock.acquire_restore(saved).await;
        pass_on.armed = false;
        Ok(notified)
    }

    /// Waits until `predicate` returns `true`, checking it first and after
    /// every wake-up (Python's `wait_for`). The lock is held whenever the
    /// predicate runs and when this returns.
    ///
    /// # Errors
    ///
    /// [`ConditionWaitError`] if the caller does not hold the lock.
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Condition::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = threadlet::Condition::new();
    /// cond.acquire().await;
    /// cond.wait_for(|| true).await.unwrap(); // true at once: no wait
    /// # }
    /// ```
    pub async fn wait_for<F: FnMut() -> bool>(
        &self,
        predicate: F,
    ) -> Result<(), ConditionWaitError> {
        self.wait_for_planned(predicate, Wait::Forever)
            .await
            .map(|_| ())
    }

    /// [`wait_for`](Condition::wait_for) with one overall `timeout`; returns
    /// the predicate's last value (`Ok(false)` when the time ran out). A zero
    /// timeout checks the predicate once and never waits.
    ///
    /// # Errors
    ///
    /// [`ConditionWaitError`] if the caller does not hold the lock.
    ///
    /// # Panics
    ///
    /// When awaited outside a tokio runtime with a non-zero, finite timeout
    /// (it needs tokio's timer) — every time, before the predicate runs, with
    /// the caller's location. A panic of the predicate itself propagates; the
    /// caller still holds the lock (see
    /// [`# Panics in the predicate`](Condition#panics-in-the-predicate)).
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Condition::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let cond = threadlet::Condition::new();
    /// cond.acquire().await;
    /// let done = cond.wait_for_timeout(|| false, Duration::from_millis(5)).await;
    /// assert_eq!(done, Ok(false));
    /// # }
    /// ```
    #[track_caller]
    pub fn wait_for_timeout<F: FnMut() -> bool>(
        &self,
        predicate: F,
        timeout: Duration,
    ) -> impl Future<Output = Result<bool, ConditionWaitError>> {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(timeout, "Condition::wait_for_timeout", caller);
            self.wait_for_planned(predicate, wait).await
        }
    }

    async fn wait_for_planned<F: FnMut() -> bool>(
        &self,
        mut predicate: F,
        wait: Wait,
    ) -> Result<bool, ConditionWaitError> {
        loop {
            if predicate() {
                return Ok(true);
            }
            if wait.is_over() {
                if !self.inner.lock.held_by_caller() {
                    return Err(ConditionWaitError);
                }
                return Ok(false);
            }
            self.wait_inner(wait).await?;
        }
    }

    /// Wakes up to `n` waiters, oldest first; they return once they get the
    /// lock back, after the caller releases it (Python's `notify(n)`).
    ///
    /// # Errors
    ///
    /// [`ConditionNotifyError`] if the caller does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// assert!(cond.notify(1).is_err());
    /// assert!(cond.try_acquire());
    /// assert_eq!(cond.notify(1), Ok(()));
    /// ```
    pub fn notify(&self, n: usize) -> Result<(), ConditionNotifyError> {
        if !self.inner.lock.held_by_caller() {
            return Err(ConditionNotifyError);
        }
        self.inner.waiters.notify(n);
        Ok(())
    }

    /// Wakes every waiter (Python's `notify_all()`).
    ///
    /// # Errors
    ///
    /// [`ConditionNotifyError`] if the caller does not hold the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// assert!(cond.try_acquire());
    /// assert_eq!(cond.notify_all(), Ok(()));
    /// ```
    pub fn notify_all(&self) -> Result<(), ConditionNotifyError> {
        self.notify(usize::MAX)
    }

    /// [`wait`](Condition::wait) for a plain OS thread.
    ///
    /// # Errors
    ///
    /// [`ConditionWaitError`] if the caller does not hold the lock.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`wait().await`](Condition::wait) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// let c = cond.clone();
    /// cond.blocking_acquire();
    /// let t = std::thread::spawn(move || {
    ///     c.blocking_acquire();
    ///     c.notify(1).unwrap();
    ///     c.release().unwrap();
    /// });
    /// cond.blocking_wait().unwrap();
    /// cond.release().unwrap();
    /// t.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_wait(&self) -> Result<(), ConditionWaitError> {
        let op = Op {
            name: "Condition::blocking_wait",
            instead: "`.wait().await`",
        };
        block_on_timed(op, None, |wait| self.wait_inner(wait)).map(|_| ())
    }

    /// [`wait_timeout`](Condition::wait_timeout) for a plain OS thread; it
    /// needs no tokio runtime (the lock is taken back untimed, as there).
    ///
    /// # Errors
    ///
    /// [`ConditionWaitError`] if the caller does not hold the lock.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`wait_timeout(timeout).await`](Condition::wait_timeout) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let cond = threadlet::Condition::new();
    /// cond.blocking_acquire();
    /// assert_eq!(cond.blocking_wait_timeout(Duration::from_millis(5)), Ok(false));
    /// ```
    #[track_caller]
    pub fn blocking_wait_timeout(&self, timeout: Duration) -> Result<bool, ConditionWaitError> {
        let op = Op {
            name: "Condition::blocking_wait_timeout",
            instead: "`.wait_timeout(timeout).await`",
        };
        block_on_timed(op, deadline(timeout), |wait| self.wait_inner(wait))
    }

    /// [`wait_for`](Condition::wait_for) for a plain OS thread.
    ///
    /// # Errors
    ///
    /// [`ConditionWaitError`] if the caller does not hold the lock.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use
    /// [`wait_for(predicate).await`](Condition::wait_for) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// cond.blocking_acquire();
    /// assert_eq!(cond.blocking_wait_for(|| true), Ok(()));
    /// ```
    #[track_caller]
    pub fn blocking_wait_for<F: FnMut() -> bool>(
        &self,
        predicate: F,
    ) -> Result<(), ConditionWaitError> {
        let op = Op {
            name: "Condition::blocking_wait_for",
            instead: "`.wait_for(predicate).await`",
        };
        block_on_timed(op, None, |wait| self.wait_for_planned(predicate, wait)).map(|_| ())
    }

    /// [`wait_for_timeout`](Condition::wait_for_timeout) for a plain OS
    /// thread; `Duration::MAX` waits forever.
    ///
    /// # Errors
    ///
    /// [`ConditionWaitError`] if the caller does not hold the lock.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`wait_for_timeout(predicate, timeout).await`](Condition::wait_for_timeout) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let cond = threadlet::Condition::new();
    /// cond.blocking_acquire();
    /// assert_eq!(cond.blocking_wait_for_timeout(|| false, Duration::from_millis(1)), Ok(false));
    /// ```
    #[track_caller]
    pub fn blocking_wait_for_timeout<F: FnMut() -> bool>(
        &self,
        predicate: F,
        timeout: Duration,
    ) -> Result<bool, ConditionWaitError> {
        let op = Op {
            name: "Condition::blocking_wait_for_timeout",
            instead: "`.wait_for_timeout(predicate, timeout).await`",
        };
        block_on_timed(op, deadline(timeout), |wait| {
            self.wait_for_planned(predicate, wait)
        })
    }

    /// A snapshot: whether the lock is held and how many wait to be
    /// notified (trio's `statistics()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// assert!(cond.try_acquire());
    /// let stats = cond.statistics();
    /// assert!(stats.locked);
    /// assert_eq!(stats.waiters, 0);
    /// ```
    #[must_use]
    pub fn statistics(&self) -> ConditionStatistics {
        ConditionStatistics {
            locked: self.locked(),
            waiters: self.inner.waiters.snapshot().waiters,
        }
    }

    /// Test introspection: (queued waiters, slots in use).
    #[cfg(test)]
    pub(crate) fn debug_state(&self) -> (usize, usize) {
        let s = self.inner.waiters.snapshot();
        (s.waiters, s.slots)
    }
}

impl<L: ConditionLock> fmt::Debug for Condition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &self.inner.lock)
            .field("waiters", &self.inner.waiters.waiters())
            .finish()
    }
}

/// The guard of [`Condition::lock`]: holds the condition's lock (one level of
/// an `RLock`) and releases it when dropped, like Python's `with cond:`.
///
/// Its [`wait`](ConditionGuard::wait) gives the lock up and takes it back. If
/// such a wait is cancelled the guard no longer holds the lock: it does not
/// release on drop, and its `wait`/`notify` return errors from then on. The
/// same holds when the lock was released behind the guard's back (an explicit
/// [`Condition::release`], or a cancelled Python-style wait): the guard knows
/// which hold it was made for and never releases another.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
///
/// let cond = threadlet::Condition::new();
/// let mut guard = cond.lock().await;
/// assert_eq!(guard.wait_timeout(Duration::from_millis(5)).await, Ok(false));
/// assert!(guard.is_held());
/// # }
/// ```
#[must_use = "if unused the Condition's lock will immediately unlock"]
#[clippy::has_significant_drop]
pub struct ConditionGuard<'a, L: ConditionLock = RLock> {
    cond: &'a Condition<L>,
    /// False while a wait has let the lock go, and for good after a
    /// cancelled one.
    held: bool,
    /// The number of the hold this guard was made for.
    hold: u64,
}

impl<L: ConditionLock> ConditionGuard<'_, L> {
    /// Whether the guard still holds the lock: `false` after a cancelled
    /// wait, or once its hold ended behind its back (an explicit `release`).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// let guard = cond.blocking_lock();
    /// assert!(guard.is_held());
    /// ```
    #[must_use]
    pub fn is_held(&self) -> bool {
        self.held && self.cond.inner.lock.holds(self.hold)
    }

    /// [`Condition::wait`] through the guard.
    ///
    /// # Errors
    ///
    /// [`ConditionWaitError`] if the guard lost the lock (a cancelled wait) or
    /// the lock was released behind its back.
    ///
    /// # Cancel safety
    ///
    /// A dropped wait leaves the guard without the lock (see the type's docs).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = threadlet::Condition::new();
    /// let c = cond.clone();
    /// let mut guard = cond.lock().await;
    /// tokio::spawn(async move { c.lock().await.notify(1).unwrap() });
    /// guard.wait().await.unwrap();
    /// # }
    /// ```
    pub async fn wait(&mut self) -> Result<(), ConditionWaitError> {
        self.wait_planned(Wait::Forever).await.map(|_| ())
    }

    /// [`Condition::wait_timeout`] through the guard.
    ///
    /// # Errors
    ///
    /// As [`wait`](ConditionGuard::wait).
    ///
    /// # Panics
    ///
    /// As [`Condition::wait_timeout`]: outside a tokio runtime with a
    /// non-zero, finite timeout, every time (the guard still holds the lock).
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](ConditionGuard::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let cond = threadlet::Condition::new();
    /// let mut guard = cond.lock().await;
    /// assert_eq!(guard.wait_timeout(Duration::from_millis(1)).await, Ok(false));
    /// # }
    /// ```
    #[track_caller]
    pub fn wait_timeout(
        &mut self,
        timeout: Duration,
    ) -> impl Future<Output = Result<bool, ConditionWaitError>> + Send + '_ {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(timeout, "ConditionGuard::wait_timeout", caller);
            self.wait_planned(wait).await
        }
    }

    /// One wait through the guard: `held` is false exactly while the lock is
    /// let go, so a cancelled wait leaves a guard that knows.
    async fn wait_planned(&mut self, wait: Wait) -> Result<bool, ConditionWaitError> {
        if !self.is_held() {
            return Err(ConditionWaitError);
        }
        self.held = false;
        let result = self.cond.wait_inner(wait).await;
        // Reached only if the wait ran to completion: the same hold is back,
        // or (on error) the caller had already lost it.
        self.held = result.is_ok();
        result
    }

    /// [`Condition::wait_for`] through the guard. If the predicate panics,
    /// the guard still holds the lock, and the unwinding drop releases it.
    ///
    /// # Errors
    ///
    /// As [`wait`](ConditionGuard::wait).
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](ConditionGuard::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = threadlet::Condition::new();
    /// let mut guard = cond.lock().await;
    /// guard.wait_for(|| true).await.unwrap();
    /// # }
    /// ```
    pub async fn wait_for<F: FnMut() -> bool>(
        &mut self,
        predicate: F,
    ) -> Result<(), ConditionWaitError> {
        self.wait_for_planned(predicate, Wait::Forever)
            .await
            .map(|_| ())
    }

    /// [`Condition::wait_for_timeout`] through the guard. If the predicate
    /// panics, the guard still holds the lock, and the unwinding drop
    /// releases it.
    ///
    /// # Errors
    ///
    /// As [`wait`](ConditionGuard::wait).
    ///
    /// # Panics
    ///
    /// As [`Condition::wait_for_timeout`]: outside a tokio runtime with a
    /// non-zero, finite timeout, every time (the guard still holds the lock).
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](ConditionGuard::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let cond = threadlet::Condition::new();
    /// let mut guard = cond.lock().await;
    /// let got = guard.wait_for_timeout(|| false, Duration::from_millis(2)).await;
    /// assert_eq!(got, Ok(false));
    /// # }
    /// ```
    #[track_caller]
    pub fn wait_for_timeout<F: FnMut() -> bool>(
        &mut self,
        predicate: F,
        timeout: Duration,
    ) -> impl Future<Output = Result<bool, ConditionWaitError>> {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(timeout, "ConditionGuard::wait_for_timeout", caller);
            self.wait_for_planned(predicate, wait).await
        }
    }

    /// The predicate loop: the predicate only runs while `held` is true, so
    /// a panic in it unwinds into a drop that releases the lock.
    async fn wait_for_planned<F: FnMut() -> bool>(
        &mut self,
        mut predicate: F,
        wait: Wait,
    ) -> Result<bool, ConditionWaitError> {
        if !self.is_held() {
            return Err(ConditionWaitError);
        }
        loop {
            if predicate() {
                return Ok(true);
            }
            if wait.is_over() {
                return Ok(false);
            }
            self.wait_planned(wait).await?;
        }
    }

    /// [`Condition::blocking_wait`] through the guard.
    ///
    /// # Errors
    ///
    /// As [`wait`](ConditionGuard::wait).
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`wait().await`](ConditionGuard::wait) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// let c = cond.clone();
    /// let mut guard = cond.blocking_lock();
    /// let t = std::thread::spawn(move || c.blocking_lock().notify(1).unwrap());
    /// guard.blocking_wait().unwrap();
    /// t.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_wait(&mut self) -> Result<(), ConditionWaitError> {
        let op = Op {
            name: "ConditionGuard::blocking_wait",
            instead: "`.wait().await`",
        };
        block_on_timed(op, None, |wait| self.wait_planned(wait)).map(|_| ())
    }

    /// [`Condition::blocking_wait_for`] through the guard. If the predicate
    /// panics, the unwinding drop of the guard releases the lock.
    ///
    /// # Errors
    ///
    /// As [`wait`](ConditionGuard::wait).
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use
    /// [`wait_for(predicate).await`](ConditionGuard::wait_for) in async code,
    /// or call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// let mut guard = cond.blocking_lock();
    /// assert_eq!(guard.blocking_wait_for(|| true), Ok(()));
    /// assert!(guard.is_held());
    /// ```
    #[track_caller]
    pub fn blocking_wait_for<F: FnMut() -> bool>(
        &mut self,
        predicate: F,
    ) -> Result<(), ConditionWaitError> {
        let op = Op {
            name: "ConditionGuard::blocking_wait_for",
            instead: "`.wait_for(predicate).await`",
        };
        block_on_timed(op, None, |wait| self.wait_for_planned(predicate, wait)).map(|_| ())
    }

    /// [`Condition::blocking_wait_for_timeout`] through the guard.
    ///
    /// # Errors
    ///
    /// As [`wait`](ConditionGuard::wait).
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`wait_for_timeout(predicate, timeout).await`](ConditionGuard::wait_for_timeout) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let cond = threadlet::Condition::new();
    /// let mut guard = cond.blocking_lock();
    /// assert_eq!(guard.blocking_wait_for_timeout(|| false, Duration::from_millis(1)), Ok(false));
    /// assert!(guard.is_held());
    /// ```
    #[track_caller]
    pub fn blocking_wait_for_timeout<F: FnMut() -> bool>(
        &mut self,
        predicate: F,
        timeout: Duration,
    ) -> Result<bool, ConditionWaitError> {
        let op = Op {
            name: "ConditionGuard::blocking_wait_for_timeout",
            instead: "`.wait_for_timeout(predicate, timeout).await`",
        };
        block_on_timed(op, deadline(timeout), |wait| {
            self.wait_for_planned(predicate, wait)
        })
    }

    /// [`Condition::blocking_wait_timeout`] through the guard.
    ///
    /// # Errors
    ///
    /// As [`wait`](ConditionGuard::wait).
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`wait_timeout(timeout).await`](ConditionGuard::wait_timeout) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let cond = threadlet::Condition::new();
    /// let mut guard = cond.blocking_lock();
    /// assert_eq!(guard.blocking_wait_timeout(Duration::from_millis(1)), Ok(false));
    /// ```
    #[track_caller]
    pub fn blocking_wait_timeout(&mut self, timeout: Duration) -> Result<bool, ConditionWaitError> {
        let op = Op {
            name: "ConditionGuard::blocking_wait_timeout",
            instead: "`.wait_timeout(timeout).await`",
        };
        block_on_timed(op, deadline(timeout), |wait| self.wait_planned(wait))
    }

    /// [`Condition::notify`] through the guard.
    ///
    /// # Errors
    ///
    /// [`ConditionNotifyError`] if the guard lost the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// let guard = cond.blocking_lock();
    /// assert_eq!(guard.notify(2), Ok(()));
    /// ```
    pub fn notify(&self, n: usize) -> Result<(), ConditionNotifyError> {
        if !self.is_held() {
            return Err(ConditionNotifyError);
        }
        self.cond.notify(n)
    }

    /// [`Condition::notify_all`] through the guard.
    ///
    /// # Errors
    ///
    /// [`ConditionNotifyError`] if the guard lost the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threadlet::Condition::new();
    /// let guard = cond.blocking_lock();
    /// assert_eq!(guard.notify_all(), Ok(()));
    /// ```
    pub fn notify_all(&self) -> Result<(), ConditionNotifyError> {
        self.notify(usize::MAX)
    }
}

impl<L: ConditionLock> Drop for ConditionGuard<'_, L> {
    fn drop(&mut self) {
        // Releases only the guard's own hold: nothing if it ended (a
        // cancelled wait, an explicit release), whoever holds the lock now.
        if self.held {
            self.cond.inner.lock.release_held(self.hold);
        }
    }
}

impl<L: ConditionLock> fmt::Debug for ConditionGuard<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionGuard")
            .field("held", &self.is_held())
            .finish_non_exhaustive()
    }
}
