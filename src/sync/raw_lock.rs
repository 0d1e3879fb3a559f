//! The locks a [`Condition`](crate::Condition) can sit on: [`Lock`] and
//! [`RLock`], through a sealed trait so that nobody else implements it.

use std::future::Future;
use std::time::Instant;

use super::lock::Lock;
use super::rlock::RLock;

/// A lock a [`Condition`](crate::Condition) can be built over: [`Lock`] or
/// [`RLock`]. Sealed: it cannot be implemented outside threadlet.
///
/// # Examples
///
/// ```
/// use threadlet::{Condition, ConditionLock, Lock, RLock};
///
/// fn over<L: ConditionLock>(lock: L) -> Condition<L> {
///     Condition::with_lock(lock)
/// }
/// let a = over(Lock::new());
/// let b = over(RLock::new());
/// ```
pub trait ConditionLock: sealed::Sealed {}

impl ConditionLock for Lock {}
impl ConditionLock for RLock {}

pub(crate) mod sealed {
    use super::*;

    /// What [`Condition`](crate::Condition) needs of its lock. The methods live
    /// here, out of reach of users, so the public trait stays sealed.
    pub trait Sealed: Clone + Send + Sync + std::fmt::Debug + 'static {
        /// The error of a Python-style `release`.
        type ReleaseError: std::error::Error + Copy + Eq + Send + Sync + 'static;

        /// Python-style `acquire` (re-entrant for an RLock).
        fn acquire_one(&self) -> impl Future<Output = ()> + Send + '_;
        /// Non-blocking `acquire`.
        fn try_acquire_one(&self) -> bool;
        /// `acquire` for an OS thread, until `deadline`.
        fn blocking_acquire_one(&self, deadline: Option<Instant>) -> bool;
        /// Python-style `release` (one level for an RLock).
        fn release_one(&self) -> Result<(), Self::ReleaseError>;
        /// Whether anybody holds the lock.
        fn is_locked(&self) -> bool;
        /// What Condition checks before a wait or notify: a Lock is held by
        /// someone (it has no owner), an RLock by the caller.
        fn held_by_caller(&self) -> bool;
        /// Releases the lock completely (every level of an RLock) before a
        /// wait; returns what [`acquire_restore`](Self::acquire_restore) needs,
        /// or `None` if the caller did not hold it.
        fn release_save(&self) -> Option<usize>;
        /// Re-acquires after a wait, restoring what `release_save` returned.
        /// Cancel safe: dropped early, it holds nothing.
        fn acquire_restore(&self, saved: usize) -> impl Future<Output = ()> + Send + '_;
        /// [`acquire_restore`](Self::acquire_restore) for an OS thread.
        fn blocking_acquire_restore(&self, saved: usize);
    }

    impl Sealed for Lock {
        type ReleaseError = crate::sync::error::LockReleaseError;

        fn acquire_one(&self) -> impl Future<Output = ()> + Send + '_ {
            self.acquire()
        }
        fn try_acquire_one(&self) -> bool {
            self.try_acquire()
        }
        fn blocking_acquire_one(&self, deadline: Option<Instant>) -> bool {
            self.blocking_acquire_until(deadline)
        }
        fn release_one(&self) -> Result<(), Self::ReleaseError> {
            self.release()
        }
        fn is_locked(&self) -> bool {
            self.locked()
        }
        fn held_by_caller(&self) -> bool {
            self.locked()
        }
        fn release_save(&self) -> Option<usize> {
            self.release().ok().map(|()| 1)
        }
        fn acquire_restore(&self, _saved: usize) -> impl Future<Output = ()> + Send + '_ {
            self.acquire()
        }
        fn blocking_acquire_restore(&self, _saved: usize) {
            self.blocking_acquire();
        }
    }

    impl Sealed for RLock {
        type ReleaseError = crate::sync::error::RLockReleaseError;

        fn acquire_one(&self) -> impl Future<Output = ()> + Send + '_ {
            self.acquire()
        }
        fn try_acquire_one(&self) -> bool {
            self.try_acquire()
        }
        fn blocking_acquire_one(&self, deadline: Option<Instant>) -> bool {
            self.blocking_acquire_until(deadline)
        }
        fn release_one(&self) -> Result<(), Self::ReleaseError> {
            self.release()
        }
        fn is_locked(&self) -> bool {
            self.locked()
        }
        fn held_by_caller(&self) -> bool {
            self.is_owned()
        }
        fn release_save(&self) -> Option<usize> {
            self.release_all()
        }
        fn acquire_restore(&self, saved: usize) -> impl Future<Output = ()> + Send + '_ {
            self.acquire_depth(saved)
        }
        fn blocking_acquire_restore(&self, saved: usize) {
            self.blocking_acquire_depth(saved);
        }
    }
}
