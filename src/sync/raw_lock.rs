//! The locks a [`Condition`](crate::Condition) can sit on: [`Lock`] and
//! [`RLock`], through a sealed trait so that nobody else implements it.

use std::future::Future;

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
    ///
    /// A *hold* is one stretch of holding the lock, from taking it while free
    /// to giving it up; it has a number, which guards keep so that they never
    /// release a hold that is no longer theirs.
    pub trait Sealed: Clone + Send + Sync + std::fmt::Debug + 'static {
        /// The error of a Python-style `release`.
        type ReleaseError: std::error::Error + Copy + Eq + Send + Sync + 'static;

        /// Python-style `acquire` (re-entrant for an RLock); the hold's number.
        fn acquire_held(&self) -> impl Future<Output = u64> + Send + '_;
        /// Non-blocking `acquire`; the hold's number.
        fn try_acquire_held(&self) -> Option<u64>;
        /// Python-style `release` (one level for an RLock).
        fn release_one(&self) -> Result<(), Self::ReleaseError>;
        /// Whether anybody holds the lock.
        fn is_locked(&self) -> bool;
        /// What Condition checks before a wait or notify: a Lock is held by
        /// someone (it has no owner), an RLock by the caller.
        fn held_by_caller(&self) -> bool;
        /// Whether the hold numbered `hold` is still the current one.
        fn holds(&self, hold: u64) -> bool;
        /// A guard's release (one level for an RLock), only while its hold is
        /// current; `false` (and nothing changes) otherwise.
        fn release_held(&self, hold: u64) -> bool;
        /// Releases the lock completely (every level of an RLock) before a
        /// wait; returns what [`acquire_restore`](Self::acquire_restore) needs
        /// to give the same hold back, or `None` if the caller did not hold it.
        fn release_save(&self) -> Option<u64>;
        /// Re-acquires after a wait, restoring what `release_save` returned.
        /// Cancel safe: dropped early, it holds nothing.
        fn acquire_restore(&self, saved: u64) -> impl Future<Output = ()> + Send + '_;
    }

    impl Sealed for Lock {
        type ReleaseError = crate::sync::error::LockReleaseError;

        fn acquire_held(&self) -> impl Future<Output = u64> + Send + '_ {
            Lock::acquire_held(self)
        }
        fn try_acquire_held(&self) -> Option<u64> {
            Lock::try_acquire_held(self)
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
        fn holds(&self, hold: u64) -> bool {
            Lock::holds(self, hold)
        }
        fn release_held(&self, hold: u64) -> bool {
            Lock::release_held(self, hold)
        }
        fn release_save(&self) -> Option<u64> {
            Lock::release_save(self)
        }
        async fn acquire_restore(&self, saved: u64) {
            Lock::acquire_held(self).await;
            self.restore(saved);
        }
    }

    impl Sealed for RLock {
        type ReleaseError = crate::sync::error::RLockReleaseError;

        fn acquire_held(&self) -> impl Future<Output = u64> + Send + '_ {
            RLock::acquire_held(self)
        }
        fn try_acquire_held(&self) -> Option<u64> {
            RLock::try_acquire_held(self)
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
        fn holds(&self, hold: u64) -> bool {
            RLock::holds(self, hold)
        }
        fn release_held(&self, hold: u64) -> bool {
            RLock::release_held(self, hold)
        }
        fn release_save(&self) -> Option<u64> {
            self.release_all()
        }
        fn acquire_restore(&self, saved: u64) -> impl Future<Output = ()> + Send + '_ {
            RLock::acquire_restore(self, saved)
        }
    }
}
