//! [`wait_non_daemon`] in every form: `.await`, `_timeout`, `blocking_`,
//! `blocking_…_timeout`.

use std::future::Future;
use std::panic::Location;
use std::time::Duration;

use crate::thread;
use crate::wait::blocking::{Op, block_on, block_on_forever};
use crate::wait::timeout::{Wait, deadline};

/// Waits until no non-daemon thread of the caller's
/// [scope](crate::runtime#scopes) is alive: the wait [`run`](crate::run),
/// `#[threadlet::test]` and [`scope`](crate::scope) do when their body ends
/// (Python's `threading._shutdown()`).
///
/// The caller's scope is decided when it is called: inside a
/// [`scope`](crate::scope) body, that scope; inside a threadlet thread, its
/// scope (the caller itself is not waited for); on a runtime of
/// `#[threadlet::main]`, `#[threadlet::test]` or a
/// [`RuntimeBuilder`](crate::RuntimeBuilder), that runtime's scope;
/// elsewhere (a `#[tokio::test]`, `#[tokio::main]`, a plain OS thread) the
/// root scope: the threads started outside any scope. Threads of other
/// scopes (other tests running in parallel) are not waited for.
///
/// It keeps waiting while threads start threads, and for threads started
/// while it waits. It does not cancel the daemon threads.
///
/// # Cancel safety
///
/// Cancel safe: it only observes.
///
/// # Examples
///
/// ```
/// # #[tokio::main]
/// # async fn main() {
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let done = Arc::new(AtomicUsize::new(0));
/// let d = done.clone();
/// threadlet::spawn(async move {
///     // A thread that starts a thread: both are waited for.
///     let d2 = d.clone();
///     threadlet::spawn(async move {
///         tokio::task::yield_now().await;
///         d2.fetch_add(1, Ordering::SeqCst);
///     });
///     d.fetch_add(1, Ordering::SeqCst);
/// });
/// threadlet::wait_non_daemon().await;
/// assert_eq!(done.load(Ordering::SeqCst), 2);
/// # }
/// ```
pub fn wait_non_daemon() -> impl Future<Output = ()> + Send + 'static {
    let (scope, me) = thread::caller_scope();
    thread::join_scope(scope, me)
}

/// [`wait_non_daemon`] for at most `timeout`: `true` when no non-daemon
/// thread of the caller's scope is alive any more, `false` when the time
/// ran out first (as Python's `Event.wait(timeout)` answers).
///
/// A zero timeout does not wait: it says whether they have all ended.
/// `Duration::MAX` waits forever.
///
/// # Cancel safety
///
/// Cancel safe: it only observes.
///
/// # Panics
///
/// Awaited outside a tokio runtime with a non-zero, finite timeout (its
/// timer needs one), as every timed form; use
/// [`blocking_wait_non_daemon_timeout`] there.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::time::Duration;
///
/// threadlet::scope(async {
///     let gate = std::sync::Arc::new(threadlet::Event::new());
///     let g = gate.clone();
///     threadlet::spawn(async move { g.wait().await });
///     assert!(!threadlet::wait_non_daemon_timeout(Duration::from_millis(10)).await);
///     gate.set();
///     assert!(threadlet::wait_non_daemon_timeout(Duration::from_secs(60)).await);
/// })
/// .await;
/// # }
/// ```
#[track_caller]
pub fn wait_non_daemon_timeout(timeout: Duration) -> impl Future<Output = bool> + Send + 'static {
    let caller = Location::caller();
    let wait = wait_non_daemon();
    async move {
        Wait::plan(timeout, "wait_non_daemon_timeout", caller)
            .run(wait)
            .await
            .is_some()
    }
}

/// [`wait_non_daemon`] for a plain OS thread (or `spawn_blocking`): blocks
/// the calling thread until no non-daemon thread of its scope is alive.
///
/// Called from `spawn_blocking` on a runtime of `#[threadlet::main]`,
/// `#[threadlet::test]` or a [`RuntimeBuilder`](crate::RuntimeBuilder), it
/// waits for that runtime's scope; from a plain OS thread, for the root
/// scope.
///
/// # Panics
///
/// On a thread that is driving a tokio runtime (an async task, a
/// `block_on` or test body), where it could never end: at once, at the
/// caller's location, naming `.wait_non_daemon().await` instead.
///
/// # Examples
///
/// ```
/// let t = threadlet::RuntimeBuilder::new().run(async {
///     tokio::task::spawn_blocking(|| {
///         let d = threadlet::spawn(async { tokio::task::yield_now().await });
///         threadlet::blocking_wait_non_daemon();
///         d.is_alive()
///     })
///     .await
///     .unwrap()
/// });
/// assert!(!t);
/// ```
#[track_caller]
pub fn blocking_wait_non_daemon() {
    let op = Op {
        name: "blocking_wait_non_daemon",
        instead: "`threadlet::wait_non_daemon().await`",
    };
    block_on_forever(op, wait_non_daemon());
}

/// [`blocking_wait_non_daemon`] for at most `timeout`: `true` when no
/// non-daemon thread of the caller's scope is alive any more, `false` when
/// the time ran out first. Needs no runtime.
///
/// # Panics
///
/// On a thread that is driving a tokio runtime, as
/// [`blocking_wait_non_daemon`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// // A plain OS thread: the root scope, where nothing is running here.
/// assert!(threadlet::blocking_wait_non_daemon_timeout(Duration::from_millis(10)));
/// ```
#[track_caller]
pub fn blocking_wait_non_daemon_timeout(timeout: Duration) -> bool {
    let op = Op {
        name: "blocking_wait_non_daemon_timeout",
        instead: "`threadlet::wait_non_daemon_timeout(timeout).await`",
    };
    block_on(op, deadline(timeout), wait_non_daemon()).is_some()
}
