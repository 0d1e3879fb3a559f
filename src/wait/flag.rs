//! The flag helper of the wait core: a flag (an atomic word owned by the
//! caller) guarded by a semaphore in [`Mode::Discard`](super::Mode::Discard).
//! The setter raises the flag and calls [`announce`]; waiters call
//! [`wait_until`]. Event, thread join and Barrier's generations wait this way.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use super::RawSemaphore;
use super::loom::seq_cst_fence as fence;

/// The waker's half of a flag guarded by a broadcast-mode `raw`: call it
/// after setting the flag. It wakes every task and OS thread waiting in
/// [`wait_until`].
pub(crate) fn announce(raw: &RawSemaphore) {
    fence();
    raw.notify(usize::MAX);
}

/// Waits until `is_set()` holds, where whoever sets the flag then calls
/// [`announce`] on `raw` (a semaphore in [`Mode::Discard`](super::Mode::Discard)).
/// Used by [`Event::wait`](crate::Event::wait) and by thread joins.
///
/// The first poll queues the waiter with its waker in one pass over the
/// list's lock, then fences and looks at the flag again (the setter sets the
/// flag, fences, then looks for waiters: one of the two sees the other). The
/// wake-up is a direct grant, so the second poll only frees the slot: three
/// lock passes per wait and wake-up, counting the setter's. A wake-up that
/// finds `is_set()` false (an earlier setter's, see `sync/event.rs`) queues
/// again. Dropped early, the waiter leaves the list (broadcast mode passes
/// nothing on).
pub(crate) async fn wait_until(raw: &RawSemaphore, is_set: impl Fn() -> bool) {
    while !is_set() {
        let mut waiter = raw.acquire();
        let mut queued = false;
        poll_fn(|cx| {
            if Pin::new(&mut waiter).poll(cx).is_ready() {
                return Poll::Ready(());
            }
            if !queued {
                queued = true;
                fence();
                if is_set() {
                    // Set between the first look and the queueing: the
                    // waiter's drop takes it out of the list.
                    return Poll::Ready(());
                }
            }
            Poll::Pending
        })
        .await;
    }
}
