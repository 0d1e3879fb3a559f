//! The wait layer: the one waiting mechanism every primitive and queue sits on.
//!
//! - [`list`]: the FIFO list of waiters (a slab-threaded doubly linked list,
//!   its sleeper cursor, arrival numbers, and the shrink after a burst);
//! - [`semaphore`]: [`RawSemaphore`], the counting
//!   semaphore over that list (permits, barging with a bounded bypass,
//!   hand-off, close, cancellation);
//! - [`mode`]: what a semaphore stores and what happens to a dropped waiter's
//!   wake-up ([`Mode::Counting`],
//!   [`Mode::PassOn`], [`Mode::Discard`]),
//!   and the signal modes' notification of the waiters already queued;
//! - [`flag`]: a flag guarded by a broadcast-mode semaphore: the setter's
//!   [`announce`](flag::announce) and the waiters' [`wait_until`](flag::wait_until)
//!   (Event, thread join);
//! - [`blocking`]: the one driver every `blocking_*` method runs its async
//!   future with (and the rule for when a blocking call is refused);
//! - [`timeout`]: every timeout turned into a deadline by one code path, and
//!   the one rule every timed form follows ([`Wait`](timeout::Wait));
//! - [`shard`]: the one shard picker of the sharded tables (thread
//!   registry, wait records);
//! - [`loom`]: the std / loom switch every atomic and mutex of the cores goes
//!   through (`--cfg threadlet_loom` swaps in loom).
//!
//! # Invariants
//!
//! Every site that enforces one of these names it in a comment, e.g.
//! `// [I-passon]`; the loom models in `src/loom_models/core.rs` check them.
//!
//! - **`[I-fifo]`** Waiters are linked in arrival order and woken or granted
//!   oldest first. The only insertion not at the tail is `register_first`
//!   (a woken waiter whose item was taken goes back to the head, keeping its
//!   turn); arrival numbers (`seq`) stay in list order either way.
//! - **`[I-sleeper]`** The sleeper cursor is the oldest linked waiter that is
//!   asleep (`Waiting`); every linked waiter before it is already woken
//!   (`Notified`). It only moves forward past woken waiters, except when an
//!   older woken waiter goes back to sleep and becomes the cursor.
//! - **`[I-flag]`** The `WAITERS` bit of the state is set whenever a linked
//!   waiter is asleep: it is set under the list's lock before a waiter goes
//!   to sleep, and cleared only under the lock once every linked waiter is
//!   woken. So a release that sees it clear may just add to the counter.
//! - **`[I-counter]`** (Counting) Every woken waiter has a permit in the
//!   counter waiting for it: a sleeper is woken for the counter only while
//!   the counter holds more permits than there are woken waiters.
//! - **`[I-handoff]`** A woken waiter that lost its permit to a barger and has
//!   waited [`STARVATION_BOUND`] since is handed the
//!   next released permit directly, out of the barger's reach (barging with a
//!   bounded bypass).
//! - **`[I-passon]`** A waiter that stops waiting (its future dropped, its
//!   blocking call timed out) loses nothing: woken for a counter permit, it
//!   wakes the next sleeper for it; handed a permit, it gives it back (to the
//!   next waiter, or the counter); handed a notification, it passes it to the
//!   next sleeper in [`Mode::PassOn`] and drops it in
//!   [`Mode::Discard`], where every waiter was woken.
//! - **`[I-slot]`** A waiter's slot is owned by exactly one future (or key
//!   holder) and returned to the slab by it alone, when it completes or is
//!   cancelled — or, in [`Mode::Discard`], by the
//!   notification that drains it (`[I-drain]`): either way exactly once.
//!   The slab is shrunk only when no slot is in use.
//! - **`[I-drain]`** (Discard) A notification takes the waiters it wakes
//!   (the oldest `n`; every one for a broadcast) off the head of the list
//!   in one pass under the lock: it collects their wakers, returns their
//!   slots to the slab and moves the semaphore's drain epoch (`drained`) to
//!   the arrival number of the last one, before the lock is released. In
//!   this mode waiters are only linked at the tail, so arrival numbers are
//!   in list order: a waiter whose arrival number is at most the drain
//!   epoch was drained, and its key is no longer its own. Woken, it returns
//!   without taking the lock (the epoch's `Acquire` load pairs with the
//!   notifier's `Release` store); dropped, it reads the epoch under the
//!   lock and frees nothing. So a waiter dropped concurrently with a
//!   broadcast frees its slot exactly once (itself before the broadcast
//!   took the lock, or the broadcast) and loses nothing (every waiter is
//!   woken in this mode). No waiter is ever `Granted` or `Closed` here
//!   (`close` is not used in this mode).
//! - **`[I-wake-unlocked]`** Wakers are collected under the list's lock and
//!   woken after it is released, so a woken task never contends for it with
//!   its waker.
//! - **`[I-close]`** `close` wakes every queued waiter with `Closed`; permits
//!   already in the counter are still handed out before acquires fail.
//! - **`[I-unchanged]`** A refused `release_bounded` (overflow) changes
//!   nothing: no permit is added and no waiter is woken.

pub(crate) mod blocking;
pub(crate) mod flag;
pub(crate) mod list;
pub(crate) mod loom;
pub(crate) mod mode;
pub(crate) mod semaphore;
pub(crate) mod shard;
pub(crate) mod timeout;

pub(crate) use mode::Mode;
pub use semaphore::STARVATION_BOUND;
#[allow(unused_imports)] // `Snapshot`: the tests', fuzz's and loom models'
pub(crate) use semaphore::{Acquire, MAX_PERMITS, Parked, RawSemaphore, Snapshot};
