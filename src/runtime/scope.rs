//! [`scope`], and the scope guard under it, [`run`](crate::run) and
//! [`RuntimeBuilder::block_on`](crate::RuntimeBuilder::block_on).

use std::any::Any;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::pin;
use std::task::Poll;

use crate::thread::{self, ScopeId};

/// A scope in use. Dropped before [`finish`](Self::finish) or
/// [`close`](Self::close) (its future was cancelled), it hands its non-daemon
/// threads to the scope it was made in and cancels its daemon threads.
#[derive(Debug)]
pub(super) struct Scope {
    id: ScopeId,
    parent: ScopeId,
    closed: bool,
}

impl Scope {
    /// A new scope inside the caller's.
    pub(super) fn new() -> Self {
        Self {
            id: thread::next_scope(),
            parent: thread::caller_scope().0,
            closed: false,
        }
    }

    pub(super) fn id(&self) -> ScopeId {
        self.id
    }

    /// Runs `body` as this scope's body: the threads it starts are the
    /// scope's. A panic in `body` is caught and returned, so that the scope
    /// can still wait before resuming it.
    pub(super) async fn body<F: Future>(&self, body: F) -> Result<F::Output, Box<dyn Any + Send>> {
        let mut body = pin!(body);
        poll_fn(|cx| {
            let previous = thread::enter_body(self.id);
            let polled = catch_unwind(AssertUnwindSafe(|| body.as_mut().poll(cx)));
            thread::leave_body(previous);
            match polled {
                Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
                Ok(Poll::Pending) => Poll::Pending,
                Err(payload) => Poll::Ready(Err(payload)),
            }
        })
        .await
    }

    /// Waits until no non-daemon thread of the scope is alive.
    pub(super) async fn join(&self) {
        thread::join_scope(self.id, None).await;
    }

    /// Cancels the scope's daemon threads, waits until they have ended, and
    /// closes the scope.
    pub(super) async fn finish(mut self) {
        thread::cancel_daemons(self.id).await;
        self.closed = true;
        thread::forget(self.id);
    }

    /// Closes the scope, leaving its daemon threads to the shutdown of the
    /// runtime they run on.
    pub(super) fn close(mut self) {
        self.closed = true;
        thread::forget(self.id);
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        if !self.closed {
            // Before the adoption, which makes them the parent's.
            thread::abort_daemons(self.id);
            thread::adopt(self.id, self.parent);
        }
    }
}

/// Runs `body`, then waits for the non-daemon threads it started and cancels
/// the daemon threads it started: [`run`](crate::run)'s life cycle for a
/// block of async code, on the runtime it is awaited on.
///
/// Threads started by the body, and the threads those start, belong to the
/// scope (see [Scopes](crate::runtime#scopes)); threads of other scopes are
/// neither waited for nor cancelled, so scopes running side by side (tests
/// in parallel) never wait for each other. Inside the body,
/// [`wait_non_daemon`](crate::wait_non_daemon) waits for the scope's
/// threads. Threads started by tasks the body hands to `tokio::spawn` are
/// not the scope's (a spawned task carries no scope) but the runtime's:
/// start them with [`threadlet::spawn`](crate::spawn) instead, or use
/// `#[threadlet::test]` / [`RuntimeBuilder`](crate::RuntimeBuilder), whose
/// whole runtime is one scope.
///
/// If the body panics, the non-daemon threads are still waited for (as
/// [`run`](crate::run) and `std::thread::scope` do), the daemon threads are
/// cancelled, then the panic is resumed.
///
/// Like Python's `concurrent.futures.ThreadPoolExecutor` in a `with` block,
/// or a trio nursery, without their handles: threads started anywhere
/// inside belong to it.
///
/// # Cancel safety
///
/// Dropping the future before it completes (a `select!`, a timeout) cannot
/// wait: it cancels the scope's daemon threads and hands its non-daemon
/// threads, still running, to the scope the future was made in, which then
/// waits for them.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let done = Arc::new(AtomicUsize::new(0));
/// let d = done.clone();
/// let daemon = threadlet::scope(async move {
///     for _ in 0..3 {
///         let d = d.clone();
///         threadlet::spawn(async move {
///             tokio::task::yield_now().await;
///             d.fetch_add(1, Ordering::SeqCst);
///         });
///     }
///     threadlet::Builder::new()
///         .daemon(true)
///         .spawn(std::future::pending::<()>())
///         .unwrap()
/// })
/// .await;
/// // The three non-daemon threads were waited for, the daemon cancelled.
/// assert_eq!(done.load(Ordering::SeqCst), 3);
/// assert!(!daemon.is_alive());
/// # }
/// ```
pub async fn scope<F: Future>(body: F) -> F::Output {
    let scope = Scope::new();
    let outcome = scope.body(body).await;
    scope.join().await;
    scope.finish().await;
    match outcome {
        Ok(value) => value,
        Err(payload) => resume_unwind(payload),
    }
}
