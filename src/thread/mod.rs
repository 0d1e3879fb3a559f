//! Threads: Python's `threading.Thread` and its module functions, as green
//! tasks on tokio.
//!
//! | Python | threadlet |
//! |---|---|
//! | `Thread(target=f, args=a).start()` | [`spawn`]`(f(a))`, or [`Thread::new`]`(f(a))` + [`Thread::start`] |
//! | `class T(Thread): def run(self)` | `impl` [`ThreadRun`] `for T`, then [`Thread::from_run`] |
//! | `Thread(name=..., daemon=...)` | [`Builder`] |
//! | `t.join()`, `t.join(timeout)` | [`Thread::join`] (the value, to the handle's one owner) and [`ThreadRef::join`] (the status, for any number of joiners), each with `try_join`, `join_timeout`, `blocking_join`, `blocking_join_timeout`; a [`JoinError`] says how a thread failed |
//! | `Timer.finished` | [`Timer::finished`] (an [`Event`](crate::Event)) |
//! | `t.name`, `t.ident`, `t.daemon`, `t.is_alive()` | [`Thread::name`] / [`set_name`](Thread::set_name), [`Thread::ident`] (the tokio task id), [`Thread::is_daemon`] / [`set_daemon`](Thread::set_daemon), [`Thread::is_alive`] |
//! | `current_thread()`, `main_thread()`, `enumerate()`, `active_count()` | [`current_thread`], [`main_thread`], [`enumerate`], [`active_count`] (as [`ThreadRef`]s) |
//! | `threading.excepthook` | [`set_excepthook`], [`default_excepthook`], [`ExceptHookArgs`] |
//! | interpreter exit waits for non-daemon threads | [`run`](crate::run) / `#[threadlet::main]`, `#[threadlet::test]`, [`scope`](crate::scope), each for its own threads ([scopes](crate::runtime#scopes)); [`wait_non_daemon`](crate::wait_non_daemon) |
//! | `Timer(interval, f)`, `cancel()` | [`Timer`], [`Timer::cancel`] |
//!
//! # Which one should I use?
//!
//! A threadlet thread is a tokio task plus what Python promises about threads:
//! a name, a registry, a daemon flag that decides whether [`run`](crate::run) waits for
//! it, a panic report, and an end any number of tasks may join. When none
//! of that matters, `tokio::spawn` is the leaner tool: starting and joining a
//! threadlet thread costs about 1.55x (spawn) to 1.7x (`Thread::new` +
//! `start`) a bare tokio task on a multi-thread runtime, about 1.75x to 2x on
//! a current-thread one (see BENCHMARKS.md).
//!
//! # Differences from Python
//!
//! - [`Thread::join`] returns the thread's value or a [`JoinError`] saying
//!   it panicked or was cancelled; Python's returns `None`. The value goes to
//!   the one owner of the [`Thread`] handle (it is not `Clone`, like
//!   `std::thread::JoinHandle`), so it needs no `Clone`; everyone else joins
//!   a [`ThreadRef`], which gives the status only, as Python's `join` does.
//!   A panic still goes to the excepthook first.
//! - Daemon threads are cancelled when [`run`](crate::run) returns: their futures are
//!   dropped, so destructors run (Python stops them abruptly). Blocking work
//!   still running then (`spawn_blocking`, a `blocking_*` call on a worker)
//!   cannot be interrupted: `run` waits for it a bounded time, then returns
//!   and leaves it detached (see [`run`](crate::run)).
//! - Dummy threads are not listed by [`enumerate`]: threadlet cannot observe
//!   when a task it did not start ends. A thread created outside any
//!   threadlet thread is non-daemon (Python would inherit the dummy's
//!   `daemon=True`), so the scope it starts in waits for it.
//! - Default names are `Thread-N` without Python's `(target)` suffix: a
//!   future has no name to give.
//! - `MainThread` is [`run`](crate::run)'s main task; elsewhere (`#[tokio::main]`, a
//!   `block_on`) the caller is a dummy thread, and [`main_thread`] is an
//!   alive `MainThread` with no ident standing for the program's main thread.
//! - The registry ([`enumerate`], [`active_count`]) is process-wide, as in
//!   Python, even when several tokio runtimes run in the process; the wait
//!   for non-daemon threads is per [scope](crate::runtime#scopes), so tests
//!   running in parallel do not wait for each other's threads.

// Layers, each file importing only the ones above it in this list:
// error; core (the shared thread state, "current thread"); thread_ref;
// registry (which also finds the current thread's handle); excepthook;
// task (the wrapper every thread runs in); thread (`Thread<T>`, `spawn`);
// builder and timer. Nothing here imports `process`
// or the runtime entry point (`crate::runtime`), which sit above.
mod builder;
mod core;
pub(crate) mod error;
mod excepthook;
mod registry;
mod scope;
mod task;
#[allow(clippy::module_inception)]
mod thread;
mod thread_ref;
mod timer;
mod trace;

pub(crate) use self::core::Shared;
#[cfg(doc)]
use crate::error::{DaemonError, JoinError, JoinTimeoutError, StartError};
pub use builder::Builder;
pub use excepthook::{ExceptHookArgs, default_excepthook, set_excepthook};
pub use registry::{active_count, current_thread, enumerate, main_thread};
pub(crate) use registry::{addr_of, current_addr, registered};
pub use thread::{Thread, ThreadRun, spawn};
pub use thread_ref::ThreadRef;
pub use timer::Timer;

// What the runtime entry point (`crate::runtime`) and a child process need.
pub(crate) use excepthook::install_panic_hook;
#[cfg(all(feature = "process", target_os = "linux"))]
pub(crate) use registry::join_non_daemon;
pub(crate) use registry::{abort_daemons, caller_scope, cancel_daemons, end_main, join_scope};
pub(crate) use scope::{
    ScopeId, adopt, enter_body, forget, leave_body, next as next_scope, set_runtime,
};
pub(crate) use task::run_main;
// The loom models of thread join.
#[cfg(all(test, threadlet_loom))]
pub(crate) use core::{Core, Kind, STARTED};
