//! # threadlet
//!
//! Python's concurrency vocabulary — `threading`, `queue` and `multiprocessing` —
//! as green tasks on a multi-threaded [tokio] runtime. Write `Thread`, `Lock`,
//! `RLock`, `Condition`, `Event`, `Semaphore`, `Barrier`, `Queue` and `Process` and
//! get what Python promises, minus the GIL, plus Rust's guarantees: typed errors
//! whose `Display` is Python's message, RAII guards for `with`, and cancel safety
//! on every `.await`.
//!
//! | Python | threadlet |
//! |---|---|
//! | `threading.Thread(target=f).start()` | [`spawn`]`(f())`, or [`Thread::new`] + [`Thread::start`] |
//! | `threading.current_thread()`, `main_thread()`, `enumerate()`, `active_count()` | [`current_thread`], [`main_thread`], [`enumerate`], [`active_count`] |
//! | interpreter exit waits for non-daemon threads | [`run`] |
//! | `threading.Timer` | [`Timer`] |
//! | `threading.Lock`, `RLock`, `Condition` | [`Lock`], [`RLock`], [`Condition`] |
//! | `threading.Event`, `Semaphore`, `BoundedSemaphore`, `Barrier` | [`Event`], [`Semaphore`], [`BoundedSemaphore`], [`Barrier`] |
//! | `queue.Queue`, `LifoQueue`, `PriorityQueue` | [`Queue`], [`LifoQueue`], [`PriorityQueue`] |
//! | `multiprocessing.Process`, `Pool`, `Queue`, `Pipe` | `process::Process`, `process::Pool`, `process::Queue`, `process::Pipe` (feature `process`, on by default) |
//!
//! Every blocking operation has three forms: `op().await`, a non-blocking
//! `try_op()` (queues keep Python's `put_nowait` / `get_nowait`) and
//! `op_timeout(duration).await`; waiting operations also have a `blocking_op`
//! form for plain OS threads.
#![forbid(unsafe_code)]
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
mod loom;
#[cfg(all(test, threadlet_loom))]
mod loom_models;
mod timeout;

pub mod error;
#[cfg(feature = "process")]
pub mod process;
pub mod queue;
pub mod sync;
pub mod thread;

pub use queue::{LifoQueue, PriorityQueue, Queue};
pub use sync::*;
pub use thread::*;
