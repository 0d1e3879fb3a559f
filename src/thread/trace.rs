//! The `tracing` feature: every threadlet thread's future runs inside a
//! span `thread` whose fields say which thread it is (`name`, `ident`,
//! `daemon`), so each event a thread emits is attributed to it (with
//! `tracing-subscriber`'s `fmt`: `thread{name="worker" ident=4
//! daemon=false}: …`). A span's own name is fixed when the program is
//! compiled (tracing's rule), so the thread's name is the field `name`.
//!
//! Without the feature, [`instrument`] hands the future back untouched:
//! nothing is built, allocated or polled differently.

use std::future::Future;

use super::core::Core;

/// Wraps a thread's future in its span; the span is made now, as a child of
/// the span current where the thread starts, and its `ident` is recorded
/// when the thread's task first runs.
#[cfg(feature = "tracing")]
pub(super) fn instrument<F: Future>(
    core: &Core,
    future: F,
) -> impl Future<Output = F::Output> + use<F> {
    use tracing::Instrument as _;
    let span = tracing::info_span!(
        "thread",
        name = %core.name(),
        ident = tracing::field::Empty,
        daemon = core.is_daemon(),
    );
    // No subscriber wants it: no ident to record.
    let record = (!span.is_disabled()).then(|| span.clone());
    async move {
        if let (Some(record), Some(id)) = (record, tokio::task::try_id()) {
            record.record("ident", tracing::field::display(id));
        }
        future.await
    }
    .instrument(span)
}

/// Without the `tracing` feature: the future itself.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(super) fn instrument<F: Future>(_core: &Core, future: F) -> F {
    future
}
