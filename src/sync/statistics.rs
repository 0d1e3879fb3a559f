//! The `statistics()` snapshots of the sync primitives (trio's
//! `statistics()`): plain records of what a primitive looks like right now,
//! for logging and tests. Each is a snapshot that may be stale by the time it
//! is read; fields may be added (`#[non_exhaustive]`).

/// What [`Lock::statistics`](crate::Lock::statistics) reports.
///
/// # Examples
///
/// ```
/// let lock = threadlet::Lock::new();
/// let stats = lock.statistics();
/// assert!(!stats.locked);
/// assert_eq!(stats.waiters, 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LockStatistics {
    /// Whether somebody holds the lock.
    pub locked: bool,
    /// How many tasks and threads wait to take it.
    pub waiters: usize,
}

/// What [`RLock::statistics`](crate::RLock::statistics) reports.
///
/// # Examples
///
/// ```
/// let lock = threadlet::RLock::new();
/// assert!(lock.try_acquire() && lock.try_acquire());
/// let stats = lock.statistics();
/// assert!(stats.locked && stats.owned);
/// assert_eq!(stats.count, 2);
/// assert_eq!(stats.waiters, 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RLockStatistics {
    /// Whether somebody owns the lock.
    pub locked: bool,
    /// Whether the caller owns it (Python's `_is_owned()`).
    pub owned: bool,
    /// How many times its owner, whoever it is, holds it; 0 when unowned.
    pub count: usize,
    /// How many tasks and threads wait to take it.
    pub waiters: usize,
}

/// What [`Semaphore::statistics`](crate::Semaphore::statistics) and
/// [`BoundedSemaphore::statistics`](crate::BoundedSemaphore::statistics)
/// report.
///
/// # Examples
///
/// ```
/// let sem = threadlet::Semaphore::new(2);
/// let stats = sem.statistics();
/// assert_eq!(stats.value, 2);
/// assert_eq!(stats.waiters, 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SemaphoreStatistics {
    /// The free permits (Python's `_value`).
    pub value: usize,
    /// How many tasks and threads wait for a permit.
    pub waiters: usize,
}

/// What [`Condition::statistics`](crate::Condition::statistics) reports.
///
/// # Examples
///
/// ```
/// let cond = threadlet::Condition::new();
/// let stats = cond.statistics();
/// assert!(!stats.locked);
/// assert_eq!(stats.waiters, 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConditionStatistics {
    /// Whether somebody holds the condition's lock.
    pub locked: bool,
    /// How many tasks and threads wait to be notified.
    pub waiters: usize,
}

/// What [`Event::statistics`](crate::Event::statistics) reports.
///
/// # Examples
///
/// ```
/// let event = threadlet::Event::new();
/// let stats = event.statistics();
/// assert!(!stats.set);
/// assert_eq!(stats.waiters, 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventStatistics {
    /// Whether the flag is set.
    pub set: bool,
    /// How many tasks and threads wait for it.
    pub waiters: usize,
}
