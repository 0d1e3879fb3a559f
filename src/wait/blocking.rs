//! The one driver behind every `blocking_*` method: each wait is written once,
//! as the async future of its operation, and the blocking form runs that very
//! future on the calling OS thread (the way async-lock writes each poll once).
//! So the async and blocking forms cannot drift apart.
//!
//! [`block_on_deadline`] polls the future with a waker that unparks this
//! thread ([`std::thread::Thread::unpark`]), parks between polls, and gives
//! up at the deadline by *dropping* the future — every future driven here is
//! cancel safe, so a wait that times out holds nothing and loses nothing. It
//! never touches tokio's timer: a blocking wait needs no runtime.
//!
//! # When a blocking form refuses to block
//!
//! [`block_on`] first checks that the calling thread may block, with the rule
//! tokio's own `blocking_recv` / `blocking_lock` apply: **a thread that is
//! driving a tokio runtime must not block**, because the tasks that would
//! wake it can then never run (on a current-thread runtime, or in a
//! `#[tokio::test]` body, the call used to hang silently). Such a call panics
//! at once, at the caller's location, naming the async form to use instead.
//!
//! tokio has no public "is this thread driving a runtime?" query, so the test
//! is made from two public facts:
//!
//! 1. [`tokio::runtime::Handle::try_current`] fails: no runtime context at
//!    all (a plain OS thread) — blocking is allowed. This is the common case
//!    and costs one thread-local read.
//! 2. Otherwise the thread is inside a runtime context, and it is *driving*
//!    the runtime exactly when tokio's cooperative budget is active on it:
//!    tokio sets a budget while it polls a task or a `block_on` future
//!    (`#[tokio::test]` body, `Runtime::block_on`, a task on a current-thread
//!    or multi-thread worker, a `LocalSet` task), and runs
//!    `spawn_blocking` closures, `block_in_place` closures and code under a
//!    plain `Runtime::enter` guard with no budget. The budget is probed with
//!    [`tokio::task::coop::poll_proceed`]: it runs out after at most 255
//!    steps when active (then the call panics, so the spent budget does not
//!    matter), never when inactive (then the steps cost nothing).
//!
//! The one case the rule cannot see is code inside
//! [`tokio::task::unconstrained`], which turns the budget off: a blocking call
//! there is not refused (and blocks the worker, as it always did).

use std::future::Future;
use std::panic::Location;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use super::loom::{Thread, current_thread, park_until};
use crate::wait::timeout::Wait;

/// Wakes a thread parked in [`block_on_deadline`].
struct ThreadWaker(Thread);

impl std::task::Wake for ThreadWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `f` with this thread's waker (one per thread, made once: a waiter
/// re-polled with it is recognised by `Waker::will_wake` and not cloned).
#[cfg(not(threadlet_loom))]
fn with_thread_waker<R>(f: impl FnOnce(&Waker) -> R) -> R {
    thread_local! {
        static WAKER: Waker = Waker::from(std::sync::Arc::new(ThreadWaker(current_thread())));
    }
    WAKER.with(f)
}

/// Under loom every model run has new threads: no caching.
#[cfg(threadlet_loom)]
fn with_thread_waker<R>(f: impl FnOnce(&Waker) -> R) -> R {
    f(&Waker::from(std::sync::Arc::new(ThreadWaker(
        current_thread(),
    ))))
}

/// Runs `fut` to completion on this OS thread, parking it between polls,
/// until `deadline` (`None`: forever). `None` when the deadline passed first:
/// the future is then dropped, so it must be cancel safe. A deadline already
/// passed polls the future exactly once (a zero timeout never waits).
///
/// This is the bare driver; public `blocking_*` methods go through
/// [`block_on`], which first refuses to block a runtime thread.
pub(crate) fn block_on_deadline<F: Future>(fut: F, deadline: Option<Instant>) -> Option<F::Output> {
    drive(fut, deadline, Expiry::Drop)
}

/// What the driver does when the deadline passes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expiry {
    /// Drop the future: the whole operation timed out.
    Drop,
    /// Poll it once more and go on until it completes: the future times
    /// itself out (with [`Wait::Thread`]) and may have untimed work left, as
    /// a Condition wait takes its lock back after its timed part.
    Wake,
}

fn drive<F: Future>(fut: F, mut deadline: Option<Instant>, expiry: Expiry) -> Option<F::Output> {
    let mut fut = pin!(fut);
    with_thread_waker(|waker| {
        let mut cx = Context::from_waker(waker);
        loop {
            let poll = if deadline.is_some() {
                // A dump marks a wait parked in here as having a deadline.
                crate::introspect::waits::timed(|| fut.as_mut().poll(&mut cx))
            } else {
                fut.as_mut().poll(&mut cx)
            };
            if let Poll::Ready(out) = poll {
                return Some(out);
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                if expiry == Expiry::Drop {
                    return None;
                }
                // Woken at the deadline: the future saw it on this poll.
                deadline = None;
                continue;
            }
            park_until(deadline);
            // Loom has no clock: a timed wait parks once (a no-op there), is
            // polled once more, and then times out.
            #[cfg(threadlet_loom)]
            if deadline.is_some() && expiry == Expiry::Drop {
                return match fut.as_mut().poll(&mut cx) {
                    Poll::Ready(out) => Some(out),
                    Poll::Pending => None,
                };
            }
        }
    })
}

/// What a public blocking method tells a caller it refuses to serve.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Op {
    /// The method, e.g. "Lock::blocking_lock".
    pub(crate) name: &'static str,
    /// What to write in async code instead, e.g. "`.lock().await`".
    pub(crate) instead: &'static str,
}

/// Whether this thread is driving a tokio runtime (see the module docs for
/// the rule and why it is exactly tokio's own).
pub(crate) fn driving_runtime() -> bool {
    if tokio::runtime::Handle::try_current().is_err() {
        return false;
    }
    let mut cx = Context::from_waker(Waker::noop());
    // tokio's budget is a `u8`: an active one is spent within 255 steps.
    for _ in 0..=u8::MAX {
        match tokio::task::coop::poll_proceed(&mut cx) {
            Poll::Ready(step) => step.made_progress(),
            Poll::Pending => return true,
        }
    }
    false
}

/// Panics, naming `op` and the caller's location, if this thread is driving
/// a tokio runtime.
///
/// # Panics
///
/// On a thread driving a tokio runtime (see the module docs).
#[track_caller]
pub(crate) fn assert_may_block(op: Op) {
    if driving_runtime() {
        let caller = Location::caller();
        panic!(
            "threadlet: `{}` called at {caller} would block a thread that is driving a tokio \
             runtime (an async task, or a `block_on` / `#[tokio::test]` body), and the wait \
             could never end; use {} in async code, or call it from `spawn_blocking` / a \
             plain thread",
            op.name, op.instead
        );
    }
}

/// The body of every public `blocking_*` method: refuses to block a runtime
/// thread ([`assert_may_block`]), then runs `fut` until `deadline`
/// ([`block_on_deadline`]).
///
/// # Panics
///
/// On a thread driving a tokio runtime.
#[track_caller]
pub(crate) fn block_on<F: Future>(op: Op, deadline: Option<Instant>, fut: F) -> Option<F::Output> {
    assert_may_block(op);
    block_on_deadline(fut, deadline)
}

/// [`block_on`] with no deadline.
///
/// # Panics
///
/// On a thread driving a tokio runtime.
#[track_caller]
pub(crate) fn block_on_forever<F: Future>(op: Op, fut: F) -> F::Output {
    match block_on(op, None, fut) {
        Some(out) => out,
        None => unreachable!("a wait with no deadline only ends when its future does"),
    }
}

/// The body of a blocking form whose future times *itself* out (it was
/// made to end by `deadline`, e.g. with [`Wait::Thread`]): the driver wakes
/// the thread at the deadline but never drops the future, which runs to its
/// end — a Condition wait takes its lock back after its timed part, a
/// timed-out queue put hands its item back.
///
/// # Panics
///
/// On a thread driving a tokio runtime.
#[track_caller]
pub(crate) fn block_on_until<F: Future>(op: Op, deadline: Option<Instant>, fut: F) -> F::Output {
    assert_may_block(op);
    match drive(fut, deadline, Expiry::Wake) {
        Some(out) => out,
        None => unreachable!("the driver only gives up a future with `Expiry::Drop`"),
    }
}

/// [`block_on_until`] for a future made from the [`Wait`] of `deadline`
/// (`Wait::Thread`, or `Forever`).
///
/// # Panics
///
/// On a thread driving a tokio runtime.
#[track_caller]
pub(crate) fn block_on_timed<F: Future>(
    op: Op,
    deadline: Option<Instant>,
    make: impl FnOnce(Wait) -> F,
) -> F::Output {
    block_on_until(op, deadline, make(Wait::thread(deadline)))
}

#[cfg(all(test, not(threadlet_loom)))]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn runs_a_future_that_is_woken_from_another_thread() {
        // A foreign future on purpose (tokio's oneshot, not a crate
        // primitive): the driver must run any future woken from elsewhere.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            tx.send(7).unwrap();
        });
        assert_eq!(block_on_deadline(rx, None), Some(Ok(7)));
        t.join().unwrap();
    }

    #[test]
    fn drops_the_future_at_the_deadline() {
        struct Flag<'a>(&'a std::cell::Cell<bool>);
        impl Drop for Flag<'_> {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let dropped = std::cell::Cell::new(false);
        let fut = async {
            let _flag = Flag(&dropped);
            std::future::pending::<()>().await;
        };
        let start = Instant::now();
        let deadline = start + Duration::from_millis(20);
        assert_eq!(block_on_deadline(fut, Some(deadline)), None);
        assert!(Instant::now() >= deadline);
        assert!(dropped.get());
    }

    #[test]
    fn a_passed_deadline_polls_once() {
        let mut polls = 0;
        let fut = std::future::poll_fn(|_| {
            polls += 1;
            Poll::<()>::Pending
        });
        assert_eq!(block_on_deadline(fut, Some(Instant::now())), None);
        assert_eq!(polls, 1);
        assert_eq!(
            block_on_deadline(async { 3 }, Some(Instant::now())),
            Some(3)
        );
    }

    #[test]
    fn the_runtime_rule_matches_tokio() {
        assert!(!driving_runtime(), "a plain thread may block");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        {
            let _enter = rt.enter();
            assert!(!driving_runtime(), "an entered handle alone does not drive");
        }
        rt.block_on(async {
            assert!(driving_runtime(), "a block_on body drives");
            tokio::spawn(async { assert!(driving_runtime(), "a task drives") })
                .await
                .unwrap();
            tokio::task::spawn_blocking(|| assert!(!driving_runtime(), "spawn_blocking may block"))
                .await
                .unwrap();
        });
        let mt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        mt.block_on(async {
            assert!(driving_runtime());
            tokio::spawn(async {
                assert!(driving_runtime(), "a worker task drives");
                tokio::task::block_in_place(|| {
                    assert!(!driving_runtime(), "block_in_place may block");
                });
            })
            .await
            .unwrap();
        });
    }
}
