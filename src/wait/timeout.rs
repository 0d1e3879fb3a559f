//! Every timeout in the crate becomes a deadline handled here (crossbeam's way):
//! `Duration::MAX`, or any duration too large to add to `Instant::now()`, means
//! "wait forever", never a panic or an overflow.

use std::future::Future;
use std::time::{Duration, Instant};

/// The instant `timeout` from now, or `None` ("forever") when it does not fit.
pub(crate) fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

/// Runs `fut` for at most `timeout`; `None` when the time ran out first (the
/// future is then dropped, so it must be cancel safe).
pub(crate) async fn with_timeout<F: Future>(timeout: Duration, fut: F) -> Option<F::Output> {
    match tokio::time::Instant::now().checked_add(timeout) {
        Some(at) => tokio::time::timeout_at(at, fut).await.ok(),
        None => Some(fut.await),
    }
}
