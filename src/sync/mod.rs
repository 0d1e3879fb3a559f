//! Synchronization primitives with Python's `threading` vocabulary: [`Lock`],
//! [`RLock`], [`Condition`], [`Event`], [`Semaphore`], [`BoundedSemaphore`] and
//! [`Barrier`].
//!
//! Every primitive serves async tasks (`op().await`, `try_op()`,
//! `op_timeout(d).await`) and plain OS threads (`blocking_op()`,
//! `blocking_op_timeout(d)`) at the same time: every waiting operation has
//! all five forms (Event's non-blocking one is `is_set`; a Barrier wait has
//! none, as in Python). Every handle is a cheap `Clone` (an `Arc` inside)
//! that is `Send + Sync` (a `Lock<T>` when `T: Send`, an `RLock<T>` when
//! `T: Send + Sync`), so it moves into tasks the way Python objects are
//! shared between threads. They are all thin layers over one wait queue, so they
//! share its fairness and cancel-safety guarantees.
//!
//! | Python | threadlet | for |
//! |---|---|---|
//! | `Lock()` | [`Lock`], guards [`LockGuard`] / [`OwnedLockGuard`] | mutual exclusion, optionally over data (`Lock<T>`); any task may release a data-less one |
//! | `RLock()` | [`RLock`], guards [`RLockGuard`] / [`OwnedRLockGuard`] | exclusion that the owning task may re-enter; shared data (`&T`) |
//! | `Condition()`, `Condition(lock)` | [`Condition`] (over an `RLock` by default), guard [`ConditionGuard`] | waiting for a state change made under a lock |
//! | `Event()` | [`Event`] | a one-way "go" signal for many waiters |
//! | `Semaphore(n)` | [`Semaphore`], guards [`SemaphoreGuard`] / [`OwnedSemaphoreGuard`] | at most `n` at once |
//! | `BoundedSemaphore(n)` | [`BoundedSemaphore`] | the same, catching over-release |
//! | `Barrier(parties, action, timeout)` | [`Barrier`] | `parties` tasks meet, then all go on |
//!
//! # Which primitive should I use?
//!
//! * To protect data, put it in the lock and use the guard:
//!   `let n = Lock::with_value(0u64); *n.lock().await += 1;` — the guard is
//!   Python's `with lock:` and the only way to the data. Prefer the guard
//!   forms everywhere: they release on every path, including `?` and
//!   cancellation. A guard that must move into another task is an owned one
//!   (`lock_owned`, `permit_owned`, or `into_owned` on any guard).
//! * If a task calls helpers that take the same lock again (the `rlock_account` example of the article "Python Road [Article 16]: Python Concurrent Programming",
//!   `Account.transfer`), use an [`RLock`]; a [`Lock`] would deadlock.
//! * If the data is a single value and you never hold it across an `.await`,
//!   a plain `std::sync::Mutex` is simpler and faster than any async lock.
//!   A `Lock<T>` is an async `Mutex<T>` (like tokio's or async-lock's) that
//!   also serves plain threads (`blocking_lock`) and has timeouts; Python's
//!   data-less `Lock::new()` additionally lets any task `release` it, which
//!   is why only `Lock<()>` has `acquire` / `release`.
//! * To wait for "something happened once" use an [`Event`]; to wait for a
//!   condition on shared state that changes many times, a [`Condition`]; to
//!   limit concurrency, a [`Semaphore`] (a [`BoundedSemaphore`] if an extra
//!   release would be a bug); to make `n` tasks meet each round, a
//!   [`Barrier`].
//! * For message passing, use [`Queue`](crate::queue) rather than building it
//!   from a Condition.
//!
//! # Fairness
//!
//! Waiters are woken in FIFO order. A task that arrives while the lock (or a
//! permit) is free takes it at once even if others wait — *barging*, as in
//! Python, parking_lot and async-lock, which keeps a contended lock fast. To
//! bound the unfairness, a woken waiter that finds its permit taken by a
//! barger, and has waited [`STARVATION_BOUND`] (200 µs) since, gets the next
//! release handed to it directly, where no barger can take it. So a waiter at
//! the head of the queue is overtaken for at most that bound plus one wake-up,
//! and under any storm of bargers the queue advances in FIFO order. The bound
//! is per waiter (no lock-wide "starvation mode" that could convoy), and in
//! time rather than immediate so that a task releasing and re-acquiring in a
//! loop keeps its fast path (see BENCHMARKS.md).
//!
//! Turn-taking, shown with two waiters queued behind a held lock:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use std::sync::{Arc, Mutex};
//! use threadlet::Lock;
//!
//! let lock = Lock::new();
//! let order = Arc::new(Mutex::new(Vec::new()));
//! lock.acquire().await;
//! let mut tasks = Vec::new();
//! for name in ["first", "second", "third"] {
//!     let (lock, order) = (lock.clone(), order.clone());
//!     tasks.push(tokio::spawn(async move {
//!         let _g = lock.lock().await;
//!         order.lock().unwrap().push(name);
//!     }));
//!     tokio::task::yield_now().await; // let it queue up
//! }
//! lock.release().unwrap();
//! for t in tasks {
//!     t.await.unwrap();
//! }
//! assert_eq!(*order.lock().unwrap(), ["first", "second", "third"]);
//! # }
//! ```
//!
//! # Cancel safety
//!
//! Dropping a pending `acquire` / `lock` / `permit` / Event `wait` future
//! loses nothing: no permit leaks, and a release or wake-up already handed to
//! it passes on to the next waiter. [`Condition::wait`] and [`Barrier::wait`]
//! document what cancellation means for them (the lock is not held
//! afterwards; the barrier breaks).
//!
//! # Guards know their hold
//!
//! Every guard ([`LockGuard`], [`RLockGuard`], [`ConditionGuard`]) remembers
//! which *hold* of the lock it was made for (a hold lasts from taking the free
//! lock to giving it up; an `RLock`'s re-entries and a completed Condition
//! wait stay in it). Its drop releases only that hold. So the common
//! `let g = lock.lock().await; timeout(d, cond.wait()).await; drop(g)` is
//! safe: the cancelled wait leaves the caller without the lock, `g` is then
//! stale, and its drop does nothing — it never releases whoever took the
//! lock next. The same goes for an explicit `release` inside a guard's scope.
//! An [`RLockGuard`] may be dropped on another task; its depth update is a
//! compare-and-swap, so it never races the owner's re-entry into a lost
//! update. A panic anywhere in user code under a guard — including a
//! [`ConditionGuard::wait_for`] predicate — unwinds into the guard's drop,
//! which releases.
//!
//! # Timeouts and runtimes
//!
//! A zero timeout never waits (an acquire is a `try_acquire`, a Condition
//! wait is checked once) and `Duration::MAX` waits with no timer: both work
//! under any executor, `futures::executor::block_on` included. Any other
//! timeout needs tokio's timer, so a timed form awaited outside a tokio
//! runtime panics — every time, before trying, with the caller's location —
//! not only when the lock happens to be taken.
//!
//! # Differences from Python
//!
//! * Errors are typed `Result`s whose `Display` is Python's message; see
//!   [`error`].
//! * `acquire(blocking=False)` is `try_acquire()`, `acquire(timeout=t)` is
//!   `acquire_timeout(t)`; `Duration::MAX` waits forever. Counts are `usize`,
//!   so negative values and negative timeouts cannot be expressed.
//! * [`RLock`] is owned by the tokio *task*, not the OS thread (outside any
//!   task, by the OS thread). Sub-futures of one task (`join!`, `select!`)
//!   count as one owner.
//! * [`Condition::new`] sits on an [`RLock`], as Python's `Condition()`;
//!   `Condition::with_lock(Lock::new())` is the faster condition over a
//!   plain lock. A cancelled `Condition::wait` leaves the caller without the
//!   lock, and the guards of that hold stale (see
//!   [`# Guards know their hold`](#guards-know-their-hold)).
//! * Locks may carry data (`Lock<T>`, `RLock<T>`), which Python's cannot;
//!   a `Lock<T>` is released only by its guard, an `RLock<T>` gives shared
//!   access only.
//! * `Barrier(parties, action, timeout)` is [`Barrier::builder`]; the action
//!   is a Rust closure and a panic in it plays the role of Python's exception.
//!   Dropping a pending `Barrier::wait` breaks the barrier.
//! * Waiters are woken in FIFO order with a bounded bypass (see
//!   [`# Fairness`](#fairness)); Python leaves the order undefined.
//! * Handles are `Arc`s and not `const`: for a global, use
//!   `static L: LazyLock<Lock> = LazyLock::new(Lock::new);`.
//!
//! # Misuse and what it gets
//!
//! | misuse | result |
//! |---|---|
//! | [`Lock::release`] on an unlocked lock | `Err(LockReleaseError)`: "release unlocked lock" |
//! | [`RLock::release`] by a non-owner or when unowned | `Err(RLockReleaseError)`: "cannot release un-acquired lock" |
//! | [`Condition::wait`] without the lock | `Err(ConditionWaitError)`: "cannot wait on un-acquired lock" |
//! | [`Condition::notify`] without the lock | `Err(ConditionNotifyError)`: "cannot notify on un-acquired lock" |
//! | [`BoundedSemaphore::release`] above the initial value | `Err(SemaphoreReleaseError::TooManyReleases)`: "Semaphore released too many times", value unchanged |
//! | `release_n(0)` | `Err(SemaphoreReleaseError::ZeroPermits)`: "n must be one or more" |
//! | [`Semaphore::release`] / [`Semaphore::release_n`] past `usize::MAX >> 2` (any `n`) | `Err(SemaphoreReleaseError::Overflow)`: "Semaphore value would exceed its maximum", value unchanged |
//! | a [`BoundedSemaphore`]'s [`SemaphoreGuard`] (or [`OwnedSemaphoreGuard`]) given back after a manual `release` | [`SemaphoreGuard::release`]: `Err(TooManyReleases)`; a drop: value unchanged, a panic in debug builds only |
//! | `release` / `acquire` on a `Lock<T>` with data | does not compile: only the guard releases a `Lock<T>`, so two guards never reach `&mut T` |
//! | a guard dropped after its hold ended (explicit `release`, cancelled `Condition::wait`) | nothing: never releases the next holder's hold |
//! | a panicking [`ConditionGuard::wait_for`] predicate | the panic propagates; the guard's drop releases the lock |
//! | a non-zero, finite timeout outside a tokio runtime | a panic, every time, with the caller's location (zero and `Duration::MAX` work anywhere) |
//! | [`Barrier::new`]`(0)` | `Err(BarrierPartiesError)`: "parties must be >= 1" |
//! | waiting on a broken [`Barrier`] | `Err(BrokenBarrierError)`: "barrier is broken" |
//! | a `blocking_*` form on a thread driving a tokio runtime (an async task, a `#[tokio::test]` or `block_on` body) | a panic at once, at the caller's line, naming the async form to use (`spawn_blocking`, `block_in_place` and plain threads may block) |
//! | `Duration::MAX` as a timeout | waits forever, never overflows |
//!
//! [`error`]: crate::error

mod barrier;
mod cell;
mod condition;
pub(crate) mod error;
pub(crate) mod event;
mod lock;
mod raw_lock;
mod rlock;
mod semaphore;
mod statistics;

pub use crate::wait::STARVATION_BOUND;
pub(crate) use rlock::{THREAD_TAG, current_owner, task_owner};

pub use barrier::{Barrier, BarrierBuilder};
pub use condition::{Condition, ConditionGuard};
pub use event::Event;
pub use lock::{Lock, LockGuard, OwnedLockGuard};
pub use raw_lock::ConditionLock;
pub use rlock::{OwnedRLockGuard, RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, OwnedSemaphoreGuard, Semaphore, SemaphoreGuard};
pub use statistics::{
    ConditionStatistics, EventStatistics, LockStatistics, RLockStatistics, SemaphoreStatistics,
};

#[cfg(doc)]
use crate::error::*;
