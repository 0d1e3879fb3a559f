//! What a [`RawSemaphore`](super::RawSemaphore) stores, and what happens to
//! the wake-up of a waiter that is dropped after it was woken (the mode's
//! name says it).
//!
//! Lock, RLock, Semaphore and BoundedSemaphore count permits
//! ([`Mode::Counting`]). Condition and the queues' getters and putters hand
//! each wake-up to one waiter, which must pass it on if it is dropped
//! ([`Mode::PassOn`]); Event, Barrier, thread join and the queues' `join`
//! wake every waiter, so a dropped waiter's wake-up is discarded
//! ([`Mode::Discard`]). In the two signal modes nothing is stored: a
//! notification ([`notify_waiters`]) wakes only the waiters already in the
//! list.

use super::list::{List, NIL, Wakes};
use crate::wait::loom::planted;

/// How released permits and notifications behave, named after what happens
/// to a dropped waiter's wake-up (`[I-passon]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Permits are counted and wait in the counter for future acquirers; a
    /// dropped waiter gives back the permit it was handed.
    Counting,
    /// Nothing is counted: a notification wakes waiters already in the list;
    /// a woken waiter dropped before it returned passes its wake-up to the
    /// next waiter (Condition, the queues' getters and putters).
    PassOn,
    /// Like `PassOn`, but a wake-up given to a waiter that is then dropped is
    /// discarded: every waiter is woken anyway (Event, Barrier, thread join,
    /// queue `join`). A notification drains the waiters it wakes from the
    /// list in one pass, freeing their slots, and they return without its
    /// lock (`[I-drain]`).
    Discard,
}

impl Mode {
    /// With the list locked: a waiter that was handed a permit (Counting) or
    /// a notification (signal modes) was dropped before it returned; passes
    /// on what it was handed as this mode says (`[I-passon]`). `true` when
    /// it was a permit, which the caller must give back.
    pub(super) fn pass_on_granted(self, list: &mut List, wakes: &mut Wakes) -> bool {
        match self {
            // Back to the next waiter or the counter, by the caller.
            Mode::Counting => true,
            Mode::PassOn if planted("lost-notify") => false,
            // To the oldest sleeper ([I-fifo]).
            Mode::PassOn => {
                if let Some(next) = list.first_waiting() {
                    wakes.push(list.grant(next));
                }
                false
            }
            // Every waiter was woken: nothing to pass on.
            Mode::Discard => false,
        }
    }
}

/// With the list locked: hands a notification to up to `n` queued waiters,
/// oldest first (`[I-fifo]`; signal modes); returns how many were woken.
pub(super) fn notify_waiters(list: &mut List, n: usize, wakes: &mut Wakes) -> usize {
    let mut woken = 0;
    while woken < n {
        let head = list.head;
        if head == NIL {
            break;
        }
        wakes.push(list.grant(head));
        woken += 1;
    }
    woken
}
