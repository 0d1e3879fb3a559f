//! Errors of the `sync` module.
//!
//! Each `Display` is Python's message for the same mistake, verbatim (CPython
//! 3.14's `Modules/_threadmodule.c` and `Lib/threading.py`); Python's
//! `BrokenBarrierError` has no message, so threadlet chose `barrier is broken`.

use std::fmt;

macro_rules! zst_error {
    ($(#[$doc:meta])* $name:ident => $msg:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $name;

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($msg)
            }
        }

        impl std::error::Error for $name {}
    };
}

zst_error! {
    /// [`Lock::release`](crate::Lock::release) was called on an unlocked lock
    /// (Python: `RuntimeError: release unlocked lock`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::{Lock, error::LockReleaseError};
    ///
    /// let lock = Lock::new();
    /// assert_eq!(lock.release(), Err(LockReleaseError));
    /// assert_eq!(LockReleaseError.to_string(), "release unlocked lock");
    /// ```
    LockReleaseError => "release unlocked lock"
}

zst_error! {
    /// [`RLock::release`](crate::RLock::release) was called by a task or thread
    /// that does not own the lock, or on an unowned lock
    /// (Python: `RuntimeError: cannot release un-acquired lock`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::{RLock, error::RLockReleaseError};
    ///
    /// let lock = RLock::new();
    /// assert_eq!(lock.release(), Err(RLockReleaseError));
    /// assert_eq!(RLockReleaseError.to_string(), "cannot release un-acquired lock");
    /// ```
    RLockReleaseError => "cannot release un-acquired lock"
}

zst_error! {
    /// A [`Condition`](crate::Condition) wait was attempted without holding
    /// its lock (Python: `RuntimeError: cannot wait on un-acquired lock`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use threadlet::{Condition, error::ConditionWaitError};
    ///
    /// let cond = Condition::new();
    /// assert_eq!(cond.wait().await, Err(ConditionWaitError));
    /// assert_eq!(ConditionWaitError.to_string(), "cannot wait on un-acquired lock");
    /// # }
    /// ```
    ConditionWaitError => "cannot wait on un-acquired lock"
}

zst_error! {
    /// A [`Condition`](crate::Condition) notify was attempted without holding
    /// its lock (Python: `RuntimeError: cannot notify on un-acquired lock`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::{Condition, error::ConditionNotifyError};
    ///
    /// let cond = Condition::new();
    /// assert_eq!(cond.notify(1), Err(ConditionNotifyError));
    /// assert_eq!(ConditionNotifyError.to_string(), "cannot notify on un-acquired lock");
    /// ```
    ConditionNotifyError => "cannot notify on un-acquired lock"
}

zst_error! {
    /// The [`Barrier`](crate::Barrier) is broken: it was aborted or reset, or a
    /// waiter timed out, was cancelled, or its action panicked
    /// (Python: `threading.BrokenBarrierError`, which has no message).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use threadlet::{Barrier, error::BrokenBarrierError};
    ///
    /// let barrier = Barrier::new(2).unwrap();
    /// barrier.abort();
    /// assert_eq!(barrier.wait().await, Err(BrokenBarrierError));
    /// assert_eq!(BrokenBarrierError.to_string(), "barrier is broken");
    /// # }
    /// ```
    BrokenBarrierError => "barrier is broken"
}

zst_error! {
    /// [`Barrier::new`](crate::Barrier::new) was given zero parties
    /// (Python: `ValueError: parties must be >= 1`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::{Barrier, error::BarrierPartiesError};
    ///
    /// assert_eq!(Barrier::new(0).unwrap_err(), BarrierPartiesError);
    /// assert_eq!(BarrierPartiesError.to_string(), "parties must be >= 1");
    /// ```
    BarrierPartiesError => "parties must be >= 1"
}

/// Why a [`Semaphore`](crate::Semaphore) or
/// [`BoundedSemaphore`](crate::BoundedSemaphore) release failed; on error the
/// value is unchanged.
///
/// # Examples
///
/// ```
/// use threadlet::{BoundedSemaphore, Semaphore, error::SemaphoreReleaseError};
///
/// let sem = Semaphore::new(0);
/// assert_eq!(sem.release_n(0), Err(SemaphoreReleaseError::ZeroPermits));
///
/// let bounded = BoundedSemaphore::new(1);
/// assert_eq!(bounded.release(), Err(SemaphoreReleaseError::TooManyReleases));
/// assert_eq!(bounded.value(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SemaphoreReleaseError {
    /// `release_n(0)` (Python: `ValueError: n must be one or more`).
    ZeroPermits,
    /// The value would exceed a bounded semaphore's initial value (Python:
    /// `ValueError: Semaphore released too many times`).
    TooManyReleases,
    /// The value of a [`Semaphore`](crate::Semaphore) would exceed the
    /// largest it can hold, `usize::MAX >> 2` (Python's integers have no such
    /// limit, so threadlet chose the message).
    ///
    /// ```
    /// use threadlet::{Semaphore, error::SemaphoreReleaseError};
    ///
    /// let sem = Semaphore::new(1);
    /// assert_eq!(sem.release_n(usize::MAX), Err(SemaphoreReleaseError::Overflow));
    /// assert_eq!(sem.value(), 1);
    /// ```
    Overflow,
}

impl fmt::Display for SemaphoreReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ZeroPermits => "n must be one or more",
            Self::TooManyReleases => "Semaphore released too many times",
            Self::Overflow => "Semaphore value would exceed its maximum",
        })
    }
}

impl std::error::Error for SemaphoreReleaseError {}
