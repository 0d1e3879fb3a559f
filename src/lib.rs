//! # threadlet
//!
//! Python's concurrency vocabulary — `threading`, `queue` and `multiprocessing` —
//! as green tasks on a multi-threaded [tokio] runtime. A first program: a bounded
//! queue, three threads, a counter behind a lock.
//!
// The `#[threadlet::main]` examples run as doc tests with the `macros`
// feature (on by default); without it they are marked `ignore`.
#![cfg_attr(feature = "macros", doc = "```")]
#![cfg_attr(not(feature = "macros"), doc = "```ignore")]
//! use threadlet::{Lock, Queue};
//!
//! #[threadlet::main] // runs main, then waits for its non-daemon threads
//! async fn main() {
//!     let queue = Queue::new(10); // bounded, like queue.Queue(maxsize=10)
//!     let eaten = Lock::with_value(0u32); // a counter behind a lock
//!     for _ in 0..3 {
//!         let (queue, eaten) = (queue.clone(), eaten.clone());
//!         threadlet::spawn(async move {
//!             while let Ok(_baozi) = queue.get_task().await { // task_done on drop
//!                 *eaten.lock().await += 1;
//!             }
//!         });
//!     }
//!     for n in 0..30 { queue.put(n).await.unwrap(); }
//!     queue.join().await; // every item taken and done
//!     queue.shutdown(); // the threads' get_task ends: they finish
//!     assert_eq!(*eaten.lock().await, 30);
//! }
//! ```
//!
//! Write `Thread`, `Lock`, `RLock`, `Condition`, `Event`, `Semaphore`, `Barrier`,
//! `Queue` and `Process` and get what Python promises, minus the GIL, plus Rust's
//! guarantees: typed errors whose `Display` is Python's message, RAII guards for
//! `with`, and cancel safety on every `.await`. `#[threadlet::main]` and
//! `#[threadlet::test]` come with the `macros` feature, on by default.
//!
//! | Python | threadlet |
//! |---|---|
//! | `threading.Thread(target=f).start()` | [`spawn`]`(f())`, or [`Thread::new`] + [`Thread::start`] |
//! | `threading.current_thread()`, `main_thread()`, `enumerate()`, `active_count()` | [`current_thread`], [`main_thread`], [`enumerate`], [`active_count`] |
//! | interpreter exit waits for non-daemon threads | [`run`] / `#[threadlet::main]`; per test `#[threadlet::test]`; per block [`scope`] — each waits for its own threads ([scopes](runtime#scopes)) |
//! | `threading.Timer` | [`Timer`] |
//! | `threading.Lock`, `RLock`, `Condition` | [`Lock`], [`RLock`], [`Condition`] |
//! | `threading.Event`, `Semaphore`, `BoundedSemaphore`, `Barrier` | [`Event`], [`Semaphore`], [`BoundedSemaphore`], [`Barrier`] |
//! | `queue.Queue`, `LifoQueue`, `PriorityQueue` | [`Queue`], [`LifoQueue`], [`PriorityQueue`] |
//! | `multiprocessing.Process`, `Pool`, `Queue`, `Pipe` | `process::Process`, `process::Pool`, `process::Queue`, `process::Pipe` (feature `process`, on by default) |
//! | `queue.Queue` / `multiprocessing.Pool` across hosts (a broker such as RQ) | `cluster::Queue`, `cluster::LifoQueue`, `cluster::PriorityQueue`, `cluster::Pool` + `cluster::worker` on Redis 7 (feature `cluster`, off by default) |
//!
//! When a program hangs, [`dump`] lists every thread and what it waits on
//! (kind, label, creation site, holder) and [`deadlocks`] names the cycles:
//! see [Debugging a stuck program](introspect#debugging-a-stuck-program).
//! The optional `tracing` feature runs every thread in a `thread` span
//! (name, ident, daemon) and reports long waits as debug events.
//!
//! A waiting operation has up to five forms: `op().await`, a non-blocking
//! `try_op()` (queues keep Python's `put_nowait` / `get_nowait`),
//! `op_timeout(duration).await`, and for plain OS threads (and
//! `spawn_blocking`) `blocking_op()` and `blocking_op_timeout(duration)`, which
//! run the same future as `op().await` and panic, instead of hanging, if
//! called on a thread that drives a tokio runtime. The README's table of forms
//! lists, operation by operation, which exist.
//!
//! # A small job service
//!
//! A bounded [`PriorityQueue`] of jobs (urgent ones first), worker threads that
//! take them with `get_task` (a worker that panics still marks its job done, so
//! `join` cannot hang), a [`Semaphore`] that lets two outbound calls run at once,
//! a counter in a `Lock<u64>`, an [`Event`] that says "ready" and a [`Timer`]
//! that stops the service if it is ever still busy after 30 s. The same service,
//! with its `#[threadlet::test]`s, is `examples/service.rs`.
//!
#![cfg_attr(feature = "macros", doc = "```")]
#![cfg_attr(not(feature = "macros"), doc = "```ignore")]
//! use std::time::Duration;
//! use threadlet::{Event, Lock, PriorityQueue, Semaphore, Timer};
//!
//! #[threadlet::main]
//! async fn main() {
//!     let jobs: PriorityQueue<(u8, u32)> = PriorityQueue::new(64); // (priority, id)
//!     let outbound = Semaphore::new(2);
//!     let done = Lock::with_value(0u64);
//!     let ready = Event::new();
//!     let stop = jobs.clone();
//!     let watchdog = Timer::new(Duration::from_secs(30), async move {
//!         stop.shutdown_immediate(); // the workers' get_task ends
//!     });
//!     watchdog.start().unwrap();
//!     for _ in 0..4 {
//!         let (jobs, outbound) = (jobs.clone(), outbound.clone());
//!         let (done, ready) = (done.clone(), ready.clone());
//!         threadlet::spawn(async move {
//!             ready.wait().await;
//!             // `job` calls task_done when dropped, also if this body panics
//!             while let Ok(job) = jobs.get_task().await {
//!                 let _call = outbound.permit().await; // at most 2 at once
//!                 let (_priority, id) = *job;
//!                 tokio::time::sleep(Duration::from_millis(u64::from(id % 3))).await;
//!                 *done.lock().await += 1;
//!             }
//!         });
//!     }
//!     for id in 0..40 {
//!         let priority = if id % 5 == 0 { 0 } else { 1 };
//!         jobs.put((priority, id)).await.unwrap();
//!     }
//!     ready.set(); // the workers start: urgent jobs first, then in arrival order
//!     jobs.join().await; // every job taken and done
//!     jobs.shutdown();
//!     watchdog.cancel();
//!     assert_eq!(*done.lock().await, 40);
//! }
//! ```
//!
//! # Misuse
//!
//! Where Python raises, threadlet returns a typed error whose `Display` is
//! Python's message (threadlet's own words where Python's exception has none),
//! and leaves the primitive as it was: a failed call changes nothing, so the
//! primitive stays usable. Each row is a test in `tests/misuse.rs`.
//!
//! | Misuse | Python | threadlet error | `Display` |
//! |---|---|---|---|
//! | [`Lock::release`] while unlocked | `RuntimeError` | [`LockReleaseError`](error::LockReleaseError) | `release unlocked lock` |
//! | [`RLock::release`] by a task or OS thread that does not own it, or while unowned | `RuntimeError` | [`RLockReleaseError`](error::RLockReleaseError) | `cannot release un-acquired lock` |
//! | [`BoundedSemaphore::release`] / `release_n` past the initial value, any `n` up to `usize::MAX` (the value is unchanged) | `ValueError` | [`SemaphoreReleaseError::TooManyReleases`](error::SemaphoreReleaseError::TooManyReleases) | `Semaphore released too many times` |
//! | [`Semaphore::release_n`]`(0)` | `ValueError` | [`SemaphoreReleaseError::ZeroPermits`](error::SemaphoreReleaseError::ZeroPermits) | `n must be one or more` |
//! | [`Semaphore::release`] / [`Semaphore::release_n`] past `usize::MAX >> 2`, any `n` up to `usize::MAX` (the value is unchanged) | none (Python's integers do not overflow) | [`SemaphoreReleaseError::Overflow`](error::SemaphoreReleaseError::Overflow) | `Semaphore value would exceed its maximum` |
//! | a [`SemaphoreGuard`] of a [`BoundedSemaphore`] given back after a manual `release` in its scope | `ValueError` from `with` | [`SemaphoreGuard::release`] returns [`SemaphoreReleaseError::TooManyReleases`](error::SemaphoreReleaseError::TooManyReleases); a plain drop leaves the value unchanged and panics in debug builds only | `Semaphore released too many times` |
//! | a guard ([`LockGuard`], [`RLockGuard`], [`ConditionGuard`]) dropped after its hold ended: an explicit `release` in its scope, or a cancelled [`Condition::wait`] (e.g. under `tokio::time::timeout`) | `RuntimeError` from `with` (a `Lock`'s may instead release the next holder's hold) | none: the stale guard's drop does nothing and never releases the next holder's hold ([`ConditionGuard`]'s `wait` / `notify` return the errors below) | — |
//! | a `wait_for` predicate that panics inside [`ConditionGuard::wait_for`] (first call or re-check) | the exception leaves `with`, which releases | the panic propagates; the guard's drop releases the lock | — |
//! | a timed form (`*_timeout`, a `Barrier` with a timeout) with a non-zero, finite timeout awaited outside a tokio runtime (`futures::executor::block_on`) | — | panics every time, before trying, naming the method and the caller's location; a zero timeout (a non-blocking try) and `Duration::MAX` need no runtime | ``threadlet: `Lock::acquire_timeout` called at {file:line:col} with a non-zero, finite timeout needs a tokio runtime …`` |
//! | a `blocking_*` form called on a thread that is driving a tokio runtime (an async task, a `#[tokio::test]` or `block_on` body), where nothing could ever wake it | — (tokio's `blocking_recv` / `blocking_lock` panic) | panics at once, naming the method, the caller's location and the async form to use; `spawn_blocking`, `block_in_place` and plain OS threads may block | ``threadlet: `Lock::blocking_lock` called at {file:line:col} would block a thread that is driving a tokio runtime …; use `.lock().await` in async code, or call it from `spawn_blocking` / a plain thread`` |
//! | [`Condition::wait`] (and `wait_timeout`, and `wait_for` whose predicate is false) without the lock, over [`Lock`] or [`RLock`] | `RuntimeError` | [`ConditionWaitError`](error::ConditionWaitError) | `cannot wait on un-acquired lock` |
//! | [`Condition::notify`] / `notify_all` without the lock, over [`Lock`] or [`RLock`] | `RuntimeError` | [`ConditionNotifyError`](error::ConditionNotifyError) | `cannot notify on un-acquired lock` |
//! | [`Barrier::new`]`(0)` | `ValueError` | [`BarrierPartiesError`](error::BarrierPartiesError) | `parties must be >= 1` |
//! | [`Barrier::wait`] after [`Barrier::abort`] (until [`Barrier::reset`]) | `BrokenBarrierError` | [`BrokenBarrierError`](error::BrokenBarrierError) | `barrier is broken` |
//! | [`Queue::task_done`](queue::BaseQueue::task_done) more often than items were got | `ValueError` | [`TaskDoneError`](error::TaskDoneError) | `task_done() called too many times` |
//! | [`Queue::put`](queue::BaseQueue::put) / `put_nowait` after `shutdown` (the item is handed back) | `queue.ShutDown` | [`PutError::ShutDown`](error::PutError::ShutDown) | `queue is shut down` |
//! | [`Queue::get`](queue::BaseQueue::get) / `get_nowait` after `shutdown`, once empty | `queue.ShutDown` | [`GetError::ShutDown`](error::GetError::ShutDown) | `queue is shut down` |
//! | [`Thread::start`] twice | `RuntimeError` | [`StartError::AlreadyStarted`](error::StartError::AlreadyStarted) | `threads can only be started once` |
//! | [`Thread::join`] before `start` | `RuntimeError` | [`JoinError::NotStarted`](error::JoinError::NotStarted) | `cannot join thread before it is started` |
//! | [`Thread::set_daemon`] after `start` | `RuntimeError` | [`DaemonError`](error::DaemonError) | `cannot set daemon status of active thread` |
//! | `process::Process::start` twice | `AssertionError` | `ProcessStartError::AlreadyStarted` | `cannot start a process twice` |
//! | `process::Process::join` before `start` | `AssertionError` | `ProcessJoinError::NotStarted` | `can only join a started process` |
//! | `process::Process::new` with arguments whose `Serialize` fails | pickling error | `ProcessStartError::Encode` | `cannot encode the process arguments: {codec message}` |
//! | `process::Process::start` of a target never registered | `AttributeError` in the child | `ProcessStartError::UnknownTarget` | ``unknown process target `{name}`: register it before threadlet::process::init()`` |
// `deny`, not `forbid`: one module (`sync/cell.rs`, the data of a
// `Lock<T>`) allows `unsafe`, with a measured reason and a loom model.
#![deny(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![deny(unused_must_use)]
#![doc(test(attr(deny(warnings), allow(dead_code, unused_variables))))]

#[cfg(all(test, not(threadlet_loom)))]
mod fuzz;
#[cfg(all(test, threadlet_loom))]
mod loom_models;
mod wait;

#[cfg(all(feature = "cluster", target_os = "linux"))]
pub mod cluster;
pub mod error;
pub mod introspect;
#[cfg(all(feature = "process", target_os = "linux"))]
pub mod process;
pub mod queue;
pub mod runtime;
pub mod sync;
pub mod thread;

// The crate root re-exports, by name, the everyday types of `sync`,
// `thread` and `queue` (what `threading` and `queue` export in Python).
// Errors have one path only: `threadlet::error::X`. Modules keep the rest
// (`queue::BaseQueue`, `sync::ConditionLock`, ...).
pub use introspect::{Deadlock, Dump, deadlocks, dump};
pub use queue::{LifoQueue, PriorityQueue, Queue, QueueStatistics};
pub use runtime::{
    RuntimeBuilder, blocking_wait_non_daemon, blocking_wait_non_daemon_timeout, run, scope,
    wait_non_daemon, wait_non_daemon_timeout,
};
pub use sync::{
    Barrier, BarrierBuilder, BoundedSemaphore, Condition, ConditionGuard, ConditionLock,
    ConditionStatistics, Event, EventStatistics, Lock, LockGuard, LockStatistics, OwnedLockGuard,
    OwnedRLockGuard, OwnedSemaphoreGuard, RLock, RLockGuard, RLockStatistics, STARVATION_BOUND,
    Semaphore, SemaphoreGuard, SemaphoreStatistics,
};
pub use thread::{
    Builder, ExceptHookArgs, Thread, ThreadRef, ThreadRun, Timer, active_count, current_thread,
    default_excepthook, enumerate, main_thread, set_excepthook, spawn,
};
/// The attributes `#[threadlet::main]` and `#[threadlet::test]` (feature
/// `macros`, on by default).
#[cfg(feature = "macros")]
pub use threadlet_macros::{main, test};
