//! Threads: Python's `threading.Thread` and its module functions, as green
//! tasks on tokio.
//!
//! | Python | threadlet |
//! |---|---|
//! | `Thread(target=f, args=a).start()` | [`spawn`]`(f(a))`, or [`Thread::new`]`(f(a))` + [`Thread::start`] |
//! | `class T(Thread): def run(self)` | `impl` [`ThreadRun`] `for T`, then [`Thread::from_run`] |
//! | `Thread(name=..., daemon=...)` | [`Builder`] |
//! | `t.join()`, `t.join(timeout)` | [`Thread::join`], [`Thread::join_timeout`] (with the thread's value or a [`JoinError`]) |
//! | `t.name`, `t.ident`, `t.daemon`, `t.is_alive()` | [`Thread::name`] / [`set_name`](Thread::set_name), [`Thread::ident`] (the tokio task id), [`Thread::is_daemon`] / [`set_daemon`](Thread::set_daemon), [`Thread::is_alive`] |
//! | `current_thread()`, `main_thread()`, `enumerate()`, `active_count()` | [`current_thread`], [`main_thread`], [`enumerate`], [`active_count`] (as [`ThreadRef`]s) |
//! | `threading.excepthook` | [`set_excepthook`], [`default_excepthook`], [`ExceptHookArgs`] |
//! | interpreter exit waits for non-daemon threads | [`run`](crate::run) / [`RuntimeBuilder`](crate::RuntimeBuilder); [`wait_non_daemon`](crate::wait_non_daemon) inside `#[tokio::test]` |
//! | `Timer(interval, f)`, `cancel()` | [`Timer`], [`Timer::cancel`] |
//!
//! # Which one should I use?
//!
//! A threadlet thread is a tokio task plus what Python promises about threads:
//! a name, a registry, a daemon flag that decides whether [`run`](crate::run) waits for
//! it, a panic report, and a result any number of tasks may join. When none
//! of that matters, `tokio::spawn` is the leaner tool: starting and joining a
//! threadlet thread costs about 1.3–1.6x a bare tokio task on a multi-thread
//! runtime, about 1.7x on a current-thread one (see BENCHMARKS.md).
//!
//! # Differences from Python
//!
//! - `join` returns the thread's value (a clone, so every joiner gets it) or a
//!   [`JoinError`] saying it panicked or was cancelled; Python's returns
//!   `None`. A panic still goes to the excepthook first.
//! - Daemon threads are cancelled when [`run`](crate::run) returns: their futures are
//!   dropped, so destructors run (Python stops them abruptly). Blocking work
//!   still running then (`spawn_blocking`, a `blocking_*` call on a worker)
//!   cannot be interrupted: `run` waits for it a bounded time, then returns
//!   and leaves it detached (see [`run`](crate::run)).
//! - Dummy threads are not listed by [`enumerate`]: threadlet cannot observe
//!   when a task it did not start ends. A thread created outside any
//!   threadlet thread is non-daemon (Python would inherit the dummy's
//!   `daemon=True`), so [`wait_non_daemon`](crate::wait_non_daemon) in a `#[tokio::test]` waits for it.
//! - Default names are `Thread-N` without Python's `(target)` suffix: a
//!   future has no name to give.
//! - `MainThread` is [`run`](crate::run)'s main task; elsewhere (`#[tokio::main]`, a
//!   `block_on`) the caller is a dummy thread, and [`main_thread`] is an
//!   alive `MainThread` with no ident standing for the program's main thread.
//! - The registry and the non-daemon count are process-wide, as in Python,
//!   even when several tokio runtimes run in the process.

// Layers, each file importing only the ones above it in this list:
// error; core (the shared thread state, "current thread"); thread_ref;
// registry and excepthook; task (the wrapper every thread runs in); thread
// (`Thread<T>`, `spawn`); builder and timer. Nothing here imports `process`
// or the runtime entry point (`crate::runtime`), which sit above.
mod builder;
mod core;
pub(crate) mod error;
mod excepthook;
mod registry;
mod task;
#[allow(clippy::module_inception)]
mod thread;
mod thread_ref;
mod timer;

#[cfg(doc)]
use crate::error::{DaemonError, JoinError, JoinTimeoutError, StartError};
pub use builder::Builder;
pub use excepthook::{ExceptHookArgs, default_excepthook, set_excepthook};
pub use registry::{active_count, current_thread, enumerate, main_thread};
pub use thread::{Thread, ThreadRun, spawn};
pub use thread_ref::ThreadRef;
pub use timer::Timer;

// What the runtime entry point (`crate::runtime`) and a child process need.
pub(crate) use excepthook::install_panic_hook;
pub(crate) use registry::{end_main, join_non_daemon};
pub(crate) use task::run_main;
