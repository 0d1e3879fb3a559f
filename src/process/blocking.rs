//! The rule every process `blocking_*` form applies first. A leaf: it
//! imports nothing else from `process/`.

/// The crate's rule for every `blocking_*` form (see
/// [`wait::blocking`](crate::wait::blocking)): on a thread that drives a tokio
/// runtime it panics at the caller's line, naming `instead`, because what the
/// wait needs (a task that puts, sends or lets a child go on) may have to run
/// on that very thread. Plain threads, `spawn_blocking`, `block_in_place` and
/// process targets may block.
///
/// # Panics
///
/// On a thread driving a tokio runtime.
#[track_caller]
pub(crate) fn refuse_runtime_thread(name: &'static str, instead: &'static str) {
    crate::wait::blocking::assert_may_block(crate::wait::blocking::Op { name, instead });
}
