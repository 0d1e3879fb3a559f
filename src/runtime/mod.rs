//! The runtime entry points and scopes: Python's interpreter life cycle, and
//! which threads a program, a test or a block of async code waits for.
//!
//! | Python | threadlet |
//! |---|---|
//! | a script: run it, wait for the non-daemon threads at exit, drop the daemons | [`run`]`(async { … })`, or `#[threadlet::main] async fn main` |
//! | — (each test its own interpreter) | `#[threadlet::test]`, or [`RuntimeBuilder::block_on`] |
//! | — (`concurrent.futures`' `with` block, trio's nursery) | [`scope()`]`(async { … }).await` |
//! | `threading._shutdown()` | [`wait_non_daemon`] and its timed and blocking forms |
//!
//! # Scopes
//!
//! Threads belong to the *scope* that started them, and the threads they
//! start belong to it too. [`run`], `#[threadlet::main]`,
//! `#[threadlet::test]` ([`RuntimeBuilder::block_on`]) and [`scope()`] each
//! make a scope, and each waits for **its own** non-daemon threads only and
//! cancels **its own** daemon threads only. So tests running in parallel in
//! one process never wait for each other's threads, and a library's
//! background threads do not hold up a caller's scope.
//!
//! A thread's scope is decided when it starts, in this order:
//!
//! 1. started by the body of a [`scope()`] (polled directly in it, not in a
//!    task it spawned): that scope;
//! 2. started by a threadlet thread: that thread's scope;
//! 3. started on a runtime built by [`RuntimeBuilder`] (any task or blocking
//!    closure on it: `#[threadlet::main]`'s, `#[threadlet::test]`'s): that
//!    runtime's scope;
//! 4. anywhere else (a `#[tokio::test]`, a plain OS thread): the *root*
//!    scope, which no one waits for unless it calls [`wait_non_daemon`].
//!
//! A [`scope()`] future dropped before it finished (cancelled) cancels its
//! daemon threads and hands its non-daemon threads to the scope it was in,
//! which then waits for them.
//!
//! [`enumerate`](crate::enumerate), [`active_count`](crate::active_count) and
//! [`main_thread`](crate::main_thread) stay process-wide, as in Python.
//!
//! It sits above both the thread layer and the process layer: neither
//! imports it. Everything here is also re-exported at the crate root.

mod builder;
mod scope;
mod wait;
mod watchdog;

pub use builder::RuntimeBuilder;
pub use scope::scope;
pub use wait::{
    blocking_wait_non_daemon, blocking_wait_non_daemon_timeout, wait_non_daemon,
    wait_non_daemon_timeout,
};

use std::future::Future;

/// Runs `main` as Python runs a script: on a new multi-thread tokio runtime,
/// as the thread `MainThread`; then waits for every non-daemon thread of its
/// scope (the threads main started, the threads those started, threads
/// started while waiting — see [Scopes](self#scopes)), then cancels the
/// daemon threads and returns main's value.
///
/// If main panics, the panic is printed as Rust prints any panic, the
/// non-daemon threads are still waited for, and then the panic is resumed
/// (Python waits for non-daemon threads after an uncaught exception in the
/// main thread too).
///
/// With the `process` feature, `run` first calls `process::init()` (a child
/// process re-executed by `threadlet::process` runs its target there and
/// never returns) and, after the wait, joins the non-daemon child processes
/// and kills the daemon ones, as Python does at exit.
///
/// Main runs as a spawned task, so `tokio::task::try_id()` (and with it
/// `RLock`'s ownership) works there. Daemon threads are cancelled by shutting
/// the runtime down: their futures are dropped, so unlike Python their
/// destructors run; their joiners get
/// [`JoinError::Cancelled`](crate::error::JoinError::Cancelled).
///
/// `#[threadlet::main]` on `async fn main` expands to this call.
///
/// # Blocking calls at exit
///
/// Shutting down does not wait without limit for blocking work. A blocking
/// call still running when `run` ends (a `spawn_blocking` closure, a daemon
/// thread inside a `blocking_*` method on a worker, a read from stdin) cannot
/// be interrupted: the shutdown waits for it at most the
/// [`shutdown_timeout`](RuntimeBuilder::shutdown_timeout) (100 ms by
/// default), then `run` returns and leaves it running on its OS thread,
/// detached. Its result is discarded, and it is stopped abruptly when the
/// process exits, as Python stops a daemon thread.
///
/// # A program that hangs at exit
///
/// With `THREADLET_WATCHDOG=5s` in the environment (or
/// [`RuntimeBuilder::watchdog`], or `#[threadlet::main(watchdog = "5s")]`),
/// `run` prints [`dump`](crate::dump) to stderr when it has waited that long
/// for non-daemon threads after main returned, and the cycles of
/// [`deadlocks`](crate::deadlocks) when one appears.
///
/// Use [`RuntimeBuilder`] to choose the flavour and the number of worker
/// threads, [`scope()`] for the same wait inside async code, and
/// [`wait_non_daemon`] to wait for the threads of the caller's scope.
///
/// # Panics
///
/// - Called on a thread that is driving a tokio runtime (an async task, a
///   `block_on`, `#[tokio::test]` or `#[threadlet::test]` body), where a
///   runtime cannot be started: at once, at the caller's location, saying
///   what to use instead ([`scope()`]). From `spawn_blocking` or a plain OS
///   thread it works.
/// - If `main` panics (after the wait, as described), or if the runtime
///   cannot be built (see [`RuntimeBuilder::try_run`]).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::time::Duration;
///
/// let finished = Arc::new(AtomicBool::new(false));
/// let f = finished.clone();
/// let answer = threadlet::run(async move {
///     // Not joined: `run` waits for it anyway, since it is not a daemon.
///     threadlet::spawn(async move {
///         tokio::time::sleep(Duration::from_millis(20)).await;
///         f.store(true, Ordering::SeqCst);
///     });
///     42
/// });
/// assert_eq!(answer, 42);
/// assert!(finished.load(Ordering::SeqCst));
/// ```
#[track_caller]
pub fn run<F>(main: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    RuntimeBuilder::new().run(main)
}

/// Panics at the caller's location if this thread is driving a tokio
/// runtime, where `what` cannot start one (tokio would panic inside
/// `block_on`, far from the call).
#[track_caller]
fn refuse_inside_runtime(what: &str) {
    if crate::wait::blocking::driving_runtime() {
        let caller = std::panic::Location::caller();
        panic!(
            "threadlet: `{what}` called at {caller} on a thread that is driving a tokio \
             runtime (an async task, or a `block_on` / `#[tokio::test]` / `#[threadlet::test]` \
             body): a runtime cannot be started there; in async code use \
             `threadlet::scope(async {{ … }}).await` to wait for the threads a block starts \
             (or `threadlet::wait_non_daemon().await`), and call `{what}` from a plain \
             `fn main` (or write `#[threadlet::main]`), `spawn_blocking` or a plain thread"
        );
    }
}

/// `start_paused(true)` for `#[threadlet::test(start_paused = true)]`; a
/// compile error naming the missing feature when threadlet is built without
/// `test-util` (rather than "no method named `start_paused`").
#[cfg(feature = "test-util")]
#[doc(hidden)]
#[macro_export]
macro_rules! __start_paused {
    ($builder:expr) => {
        $builder.start_paused(true)
    };
}

/// See the `test-util` version.
#[cfg(not(feature = "test-util"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __start_paused {
    ($builder:expr) => {
        ::core::compile_error!(
            "`start_paused = true` needs threadlet's `test-util` feature (tokio's clock can \
             only be paused with tokio's `test-util`): add `features = [\"test-util\"]` to \
             threadlet in [dev-dependencies]"
        )
    };
}
