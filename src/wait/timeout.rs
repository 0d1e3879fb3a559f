//! Every timeout in the crate becomes a deadline handled here (crossbeam's way):
//! `Duration::MAX`, or any duration too large to add to `Instant::now()`, means
//! "wait forever", never a panic or an overflow.
//!
//! [`Wait`] is the one rule every timed form of the primitives follows
//! (`*_timeout`, and `Barrier::wait` with a builder timeout):
//!
//! * a zero timeout never waits and never touches tokio's timer: it is a
//!   non-blocking attempt (an acquire is `try_acquire`; a wait is polled
//!   once), so it works under any executor (`futures::executor::block_on`);
//! * a timeout too large to add to now (`Duration::MAX`) waits forever with
//!   no timer either;
//! * any other timeout needs tokio's timer, hence a tokio runtime: that is
//!   checked *before* the fast path, so a call outside a runtime panics every
//!   time, with the caller's location — not only when the fast path fails,
//!   which made it look random.

use std::future::{Future, poll_fn};
use std::panic::Location;
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

/// The instant `timeout` from now, or `None` ("forever") when it does not fit.
pub(crate) fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Runs `fut` for at most `timeout`; `None` when the time ran out first (the
/// future is then dropped, so it must be cancel safe).
#[cfg(all(feature = "process", target_os = "linux"))]
pub(crate) async fn with_timeout<F: Future>(timeout: Duration, fut: F) -> Option<F::Output> {
    match tokio::time::Instant::now().checked_add(timeout) {
        Some(at) => tokio::time::timeout_at(at, fut).await.ok(),
        None => Some(fut.await),
    }
}

/// How a timed call waits, decided once when it starts.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wait {
    /// Zero timeout: try once, never wait.
    Never,
    /// No deadline (`Duration::MAX` or beyond the clock's range).
    Forever,
    /// Until this instant of tokio's clock.
    Until(tokio::time::Instant),
    /// Until this instant of the std clock, for a future that a blocking
    /// form drives on its OS thread with
    /// [`block_on_timed`](crate::wait::blocking::block_on_timed), which wakes
    /// the thread at that instant (nothing else would: do not await it in a
    /// task). No tokio timer, no runtime.
    Thread(Instant),
}

impl Wait {
    /// Plans a wait of `timeout` for the public method `what` called at
    /// `caller`.
    ///
    /// # Panics
    ///
    /// For a non-zero, finite timeout outside a tokio runtime.
    pub(crate) fn plan(
        timeout: Duration,
        what: &'static str,
        caller: &'static Location<'static>,
    ) -> Self {
        if timeout.is_zero() {
            return Self::Never;
        }
        match tokio::time::Instant::now().checked_add(timeout) {
            None => Self::Forever,
            Some(at) => {
                if tokio::runtime::Handle::try_current().is_err() {
                    panic!(
                        "threadlet: `{what}` called at {caller} with a non-zero, finite timeout \
                         needs a tokio runtime (with time enabled) for its timer, and none is \
                         running; outside a runtime use a zero timeout, `Duration::MAX`, or \
                         the `blocking_` form"
                    );
                }
                Self::Until(at)
            }
        }
    }

    /// The wait of a blocking form with this `deadline` (`None`: forever).
    pub(crate) fn thread(deadline: Option<Instant>) -> Self {
        deadline.map_or(Self::Forever, Self::Thread)
    }

    /// Whether the time is up (`Never` always is).
    pub(crate) fn is_over(self) -> bool {
        match self {
            Self::Never => true,
            Self::Forever => false,
            Self::Until(at) => tokio::time::Instant::now() >= at,
            Self::Thread(at) => Instant::now() >= at,
        }
    }

    /// The shape of every timed acquire: the non-blocking `fast` path, then —
    /// unless the timeout is zero — the `slow` wait for this long.
    pub(crate) async fn acquire<T, F: Future<Output = T>>(
        self,
        fast: impl FnOnce() -> Option<T>,
        slow: impl FnOnce() -> F,
    ) -> Option<T> {
        match fast() {
            Some(out) => Some(out),
            None if self.is_never() => None,
            None => self.run(slow()).await,
        }
    }

    /// Whether the wait may not block at all.
    pub(crate) fn is_never(self) -> bool {
        matches!(self, Self::Never)
    }

    /// Runs `fut` for this long; `None` when the time ran out first (the
    /// future is then dropped, so it must be cancel safe). `Never` polls it
    /// exactly once.
    pub(crate) async fn run<F: Future>(self, fut: F) -> Option<F::Output> {
        match self {
            Self::Forever => Some(fut.await),
            Self::Until(at) => {
                // Polled with the "timed" mark, so a dump says this wait
                // has a deadline.
                let mut timed = pin!(tokio::time::timeout_at(at, fut));
                poll_fn(|cx| crate::introspect::waits::timed(|| timed.as_mut().poll(cx)))
                    .await
                    .ok()
            }
            Self::Never | Self::Thread(_) => {
                let mut fut = pin!(fut);
                poll_fn(|cx| match fut.as_mut().poll(cx) {
                    Poll::Ready(out) => Poll::Ready(Some(out)),
                    Poll::Pending if self.is_over() => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                })
                .await
            }
        }
    }
}
