//! Loom models of the crate's cores. Built only with
//! `RUSTFLAGS="--cfg threadlet_loom"`; run by `.ci/loom`, which also plants each
//! classic bug (`THREADLET_PLANTED_BUG=...`) and checks that a model catches it.

mod core;
mod queue;
mod sync;
mod thread;

/// Runs `f` under loom with the preemption bound the CI uses (env
/// `LOOM_MAX_PREEMPTIONS` overrides it; unset there means 3).
pub(crate) fn model<F: Fn() + Sync + Send + 'static>(f: F) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// Polls `fut` once with a waker that does nothing: the model's way of putting
/// a waiter in the queue and then abandoning it at an arbitrary point.
pub(crate) fn poll_once<F: std::future::Future + Unpin>(fut: &mut F) -> std::task::Poll<F::Output> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    std::pin::Pin::new(fut).poll(&mut cx)
}
