//! The one wait queue of the crate: [`RawSemaphore`], a permit counter over
//! the FIFO [`List`] of waiters.
//!
//! Lock, RLock, Semaphore and BoundedSemaphore are permits in
//! [`Mode::Counting`]; Condition, Event, Barrier, thread join and the queues
//! use the same list in the signal modes ([`Mode::PassOn`],
//! [`Mode::Discard`], see [`mode`](super::mode)), where nothing is stored and
//! a `notify` hands wake-ups to the tasks already waiting. The queues keep
//! their getters and putters in two lists in `Mode::PassOn` beside one mutex
//! over the store (`queue::core`).
//!
//! The invariants (`[I-…]`) are listed once, in the [wait layer's
//! docs](super#invariants); the sites below that enforce them name them.
//!
//! # Fairness: barging with a bounded bypass
//!
//! The uncontended paths are one compare-and-swap on `state` and take no lock
//! and allocate nothing. A task that finds a free permit takes it even while
//! others wait (barging, as in Python, parking_lot and async-lock): a woken
//! waiter then has to win the permit when it runs. Waiters are woken in FIFO
//! order, and a woken waiter that loses the race to a barger is marked *passed
//! over*; once it has been passed over for [`STARVATION_BOUND`] (200 µs), the
//! next permit released while it is the oldest waiter that is not already
//! running is handed to it directly (it never reaches the counter, so no
//! barger can take it). So a waiter at the head of the queue is overtaken for
//! at most that bound plus one wake-up, and the queue advances in FIFO order.
//! A bound in time rather than "at once" matters: a task that releases and
//! re-acquires in a loop would otherwise be forced into the queue on every
//! other release (measured: 1.5x slower than async-lock on a current-thread
//! runtime); unlike async-lock's starvation mode the switch is per waiter, so
//! it does not turn the whole lock into a convoy.
//!
//! # Cancel safety
//!
//! A waiter's place is a slot in the list, owned by its [`Acquire`] future (or
//! its blocking call). Dropping the future removes the slot under the list's
//! lock; a waiter that was already woken passes the wake-up on, and one that
//! was already handed a permit gives the permit back (to the next waiter, or
//! to the counter) — so no permit and no wake-up is ever lost.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use super::list::{List, NIL, NONE_DRAINED, Source, State, Wake, Wakes};
use super::mode::{Mode, notify_waiters};
use crate::introspect::meta::{Meta, NO_HOLDER, PrimitiveKind};
#[cfg(not(threadlet_loom))]
use crate::introspect::waits::{self, WaitSlot};
use crate::wait::loom::{AtomicU64, AtomicUsize, Mutex, MutexGuard, Ordering, now, planted};

/// The fairness bound shared by every primitive and queue: a waiter at the
/// head of the queue that was woken and lost its permit (or item) to a barging
/// caller is handed the next release directly once it has waited this long.
/// A waiter at the head is therefore overtaken for at most about this bound
/// plus one wake-up; waiters are always woken in FIFO order.
///
/// Chosen by measurement (BENCHMARKS.md): long enough that a task which
/// releases and re-acquires in a loop keeps its fast path, short enough that
/// no waiter waits more than about this plus one wake-up once it reaches the
/// head.
///
/// # Examples
///
/// ```
/// assert!(threadlet::STARVATION_BOUND < std::time::Duration::from_millis(1));
/// ```
pub const STARVATION_BOUND: std::time::Duration = std::time::Duration::from_micros(200);

/// Whether a waiter passed over at `since` has waited long enough to be
/// handed the next permit (`[I-handoff]`). Under loom there is no clock: at
/// once.
fn starved(since: Instant) -> bool {
    cfg!(threadlet_loom) || since.elapsed() >= STARVATION_BOUND
}

/// Bit 0 of `state`: the list has waiters asleep (linked and not yet woken),
/// so releases take the slow path to wake or hand over to them. While every
/// linked waiter is already woken, a release only has to add to the counter.
const WAITERS: usize = 1;
/// Bit 1 of `state`: the semaphore is closed (queue shutdown).
const CLOSED: usize = 2;
/// One permit in `state`; the permits are the bits above the two flags.
const ONE: usize = 4;
/// The largest number of permits a semaphore can hold.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 2;

/// The semaphore was closed and had no permit left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Closed;

/// Why [`RawSemaphore::try_acquire`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TryAcquireError {
    /// No permit is free right now.
    NoPermits,
    /// Closed, and no permit is left.
    Closed,
}

/// A release would have raised the free permits above the given bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Overflow;

/// What a test sees of a semaphore at quiescence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)]
pub(crate) struct Snapshot {
    /// Free permits in the counter.
    pub(crate) permits: usize,
    /// Waiters still queued (waiting or woken, not yet returned).
    pub(crate) waiters: usize,
    /// Slots in use: queued waiters plus ones granted or closed not yet returned.
    pub(crate) slots: usize,
    /// Whether [`RawSemaphore::close`] was called.
    pub(crate) closed: bool,
}

/// The shared wait queue: permits plus a fair, cancel-safe FIFO of waiters.
#[derive(Debug)]
pub(crate) struct RawSemaphore {
    /// `permits * ONE | CLOSED? | WAITERS?`
    state: AtomicUsize,
    /// The drain epoch ([`Mode::Discard`] only): the arrival number (`seq`)
    /// of the last waiter a [`notify`](Self::notify) drained from the list.
    /// Written under the list's lock, read without it by a woken waiter
    /// (`[I-drain]`).
    drained: AtomicU64,
    list: Mutex<List>,
    /// What the dump says about this wait list's primitive (kind, id,
    /// creation site, label, holder); read only on the slow path.
    meta: std::sync::Arc<Meta>,
    mode: Mode,
}

impl RawSemaphore {
    /// A semaphore holding `permits` (at most [`MAX_PERMITS`]), for the
    /// crate's internal lists and tests (a dump shows it as `internal`).
    #[allow(dead_code)] // the tests', fuzz's and loom models'
    #[track_caller]
    pub(crate) fn new(permits: usize, mode: Mode) -> Self {
        Self::with_meta(permits, mode, Meta::new(PrimitiveKind::Internal, None))
    }

    /// A semaphore whose waiters a dump shows as waiting on `meta`'s
    /// primitive.
    pub(crate) fn with_meta(permits: usize, mode: Mode, meta: std::sync::Arc<Meta>) -> Self {
        assert!(permits <= MAX_PERMITS, "too many permits");
        Self {
            state: AtomicUsize::new(permits * ONE),
            drained: AtomicU64::new(NONE_DRAINED),
            list: Mutex::new(List::new()),
            meta,
            mode,
        }
    }

    /// The identity of the primitive this list belongs to.
    pub(crate) fn meta(&self) -> &Meta {
        &self.meta
    }

    /// Test hook: how many waiter slots the list's slab has room for.
    #[allow(dead_code)]
    pub(crate) fn slab_capacity(&self) -> usize {
        self.list.lock().slots.capacity()
    }

    /// Free permits right now.
    pub(crate) fn available(&self) -> usize {
        self.state.load(Ordering::Acquire) / ONE
    }

    /// Whether anybody may be asleep in the list: one atomic load, inlined,
    /// so a caller can skip [`notify`](Self::notify) on its fast path (the
    /// queue core). A `false` is exact for a caller that registered-or-checked
    /// under a lock the waiter also takes before registering.
    #[inline]
    pub(crate) fn has_sleepers(&self) -> bool {
        self.state.load(Ordering::Acquire) & WAITERS != 0
    }

    /// Waiters queued right now (asleep or woken, not yet returned).
    pub(crate) fn waiters(&self) -> usize {
        self.list.lock().linked
    }

    /// The state as a test sees it.
    #[allow(dead_code)]
    pub(crate) fn snapshot(&self) -> Snapshot {
        let list = self.list.lock();
        let state = self.state.load(Ordering::Acquire);
        Snapshot {
            permits: state / ONE,
            waiters: list.linked,
            slots: list.used,
            closed: state & CLOSED != 0,
        }
    }

    /// Takes a permit if one is free, barging ahead of queued waiters (the
    /// bypass `[I-handoff]` bounds).
    pub(crate) fn try_acquire(&self) -> Result<(), TryAcquireError> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state < ONE {
                return Err(if state & CLOSED != 0 {
                    TryAcquireError::Closed
                } else {
                    TryAcquireError::NoPermits
                });
            }
            match self.state.compare_exchange_weak(
                state,
                state - ONE,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => state = actual,
            }
        }
    }

    /// With the list locked: takes a free permit (`Ok(true)`), or sets
    /// `WAITERS` so that every later release takes the slow path (`Ok(false)`).
    fn take_or_flag(&self, _list: &MutexGuard<'_, List>) -> Result<bool, Closed> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            let next = if state >= ONE {
                state - ONE
            } else if state & CLOSED != 0 {
                return Err(Closed);
            } else if state & WAITERS != 0 {
                return Ok(false);
            } else {
                // [I-flag]: set under the lock, before the caller sleeps.
                state | WAITERS
            };
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Ok(state >= ONE),
                Err(actual) => state = actual,
            }
        }
    }

    /// With the list locked: clears `WAITERS` once nobody queued is asleep
    /// (a woken waiter that then finds no permit sets it again, in
    /// `take_or_flag`, before it goes back to sleep).
    fn settle(&self, list: &MutexGuard<'_, List>) {
        // [I-flag]: cleared under the lock, only when nobody linked sleeps.
        if list.linked == list.notified {
            self.state.fetch_and(!WAITERS, Ordering::Release);
        }
    }

    /// Waits for a permit (or, in the signal modes, a notification).
    pub(crate) fn acquire(&self) -> Acquire<'_> {
        Acquire {
            sem: self,
            key: None,
            seq: 0,
            #[cfg(not(threadlet_loom))]
            record: None,
        }
    }

    /// Whether the waiter with arrival number `seq` was drained (woken, its
    /// slot freed) by a notification (`[I-drain]`; always `false` outside
    /// [`Mode::Discard`]). Without the list's lock, for a woken waiter:
    /// `Acquire` pairs with the notifier's `Release`, so the slot is no
    /// longer touched once this is `true`.
    fn drained(&self, seq: u64) -> bool {
        self.mode == Mode::Discard && self.drained.load(Ordering::Acquire) >= seq
    }

    /// Joins the queue now, before the returned future is first polled: a
    /// Condition or Event waiter registers, then releases its lock or
    /// re-checks its flag, so no notification can slip in between.
    pub(crate) fn register(&self) -> Acquire<'_> {
        let mut list = self.list.lock();
        let key = list.push_back(Wake::None);
        // [I-flag]
        self.state.fetch_or(WAITERS, Ordering::AcqRel);
        // [I-drain]
        let seq = list.last_seq();
        drop(list);
        Acquire {
            sem: self,
            key: Some(key),
            seq,
            #[cfg(not(threadlet_loom))]
            record: None,
        }
    }

    /// [`register`](Self::register) at the head of the line instead of the
    /// tail (`Mode::PassOn`): for a waiter that was woken, found what it was
    /// woken for already taken, and waits again without losing its turn.
    pub(crate) fn register_first(&self) -> Acquire<'_> {
        let mut list = self.list.lock();
        // [I-fifo]: the one insertion at the head, keeping its turn.
        // [I-drain]: drains go by arrival order from the head; a waiter put
        // first would be mistaken for a drained one.
        debug_assert_ne!(self.mode, Mode::Discard);
        let key = list.push_front(Wake::None);
        // [I-flag]
        self.state.fetch_or(WAITERS, Ordering::AcqRel);
        drop(list);
        Acquire {
            sem: self,
            key: Some(key),
            seq: 0,
            #[cfg(not(threadlet_loom))]
            record: None,
        }
    }

    /// [`acquire`](Self::acquire) for an owner that cannot borrow the
    /// semaphore (a queue's `Stream` holding an `Arc`): the waiter's slot is
    /// kept in `key` (start with `None`; it is `None` again once this returns
    /// `Ready`). An owner that stops waiting while `key` is `Some` must call
    /// [`cancel_waiter`](Self::cancel_waiter), as dropping an [`Acquire`] does.
    pub(crate) fn poll_acquire_at(
        &self,
        key: &mut Option<usize>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Closed>> {
        // A drained key would need its `seq` kept beside it ([I-drain]).
        debug_assert_ne!(self.mode, Mode::Discard);
        self.poll_acquire(key, &mut 0, Source::Task(cx.waker()))
    }

    /// Gives up the waiter slot kept in `key` by
    /// [`poll_acquire_at`](Self::poll_acquire_at), passing on whatever it was
    /// given; does nothing when `key` is `None`.
    pub(crate) fn cancel_waiter(&self, key: &mut Option<usize>) {
        if let Some(key) = key.take() {
            self.cancel(key, 0);
        }
    }

    /// Waits on this OS thread for a permit until `deadline` (`None`: forever).
    /// `Ok(false)` when the deadline passed first. (The primitives' blocking
    /// forms drive their own futures with `wait::blocking`; this is for the
    /// core's tests and loom models.)
    #[cfg(test)]
    pub(crate) fn blocking_acquire(&self, deadline: Option<Instant>) -> Result<bool, Closed> {
        self.acquire().blocking(deadline)
    }

    /// Polls the waiter whose slot is `key` (`None`: not queued yet) and
    /// whose arrival number is `seq` (set when it is queued). Written once
    /// for tasks and OS threads. Sets `*key = None` when it completes.
    fn poll_acquire(
        &self,
        key: &mut Option<usize>,
        seq: &mut u64,
        source: Source<'_>,
    ) -> Poll<Result<(), Closed>> {
        let Some(k) = *key else {
            match self.try_acquire() {
                Ok(()) => return Poll::Ready(Ok(())),
                // [I-close]: the counter's permits first, then `Closed`.
                Err(TryAcquireError::Closed) => return Poll::Ready(Err(Closed)),
                Err(TryAcquireError::NoPermits) => {}
            }
            let mut list = self.list.lock();
            return match self.take_or_flag(&list) {
                Ok(true) => Poll::Ready(Ok(())),
                Err(closed) => Poll::Ready(Err(closed)),
                Ok(false) => {
                    let mut wake = Wake::None;
                    source.store(&mut wake);
                    // [I-fifo]: at the tail, in arrival order.
                    *key = Some(list.push_back(wake));
                    // [I-drain]
                    *seq = list.last_seq();
                    Poll::Pending
                }
            };
        };
        // [I-drain]: a notification freed the slot and woke this waiter; it
        // returns without the lock. Checked again under the lock, which a
        // notification may have taken since.
        if self.drained(*seq) {
            *key = None;
            return Poll::Ready(Ok(()));
        }
        let mut list = self.list.lock();
        if self.drained(*seq) {
            *key = None;
            return Poll::Ready(Ok(()));
        }
        let result = match list.node(k).state {
            State::Waiting => {
                source.store(&mut list.node(k).wake);
                return Poll::Pending;
            }
            State::Granted => Ok(()),
            State::Closed => Err(Closed),
            State::Notified => match self.take_or_flag(&list) {
                Ok(true) => {
                    list.unlink(k);
                    self.settle(&list);
                    Ok(())
                }
                Err(closed) => {
                    list.unlink(k);
                    self.settle(&list);
                    Err(closed)
                }
                Ok(false) => {
                    // A barger took the permit: back to sleep, first in line
                    // for a direct hand-off ([I-handoff], [I-sleeper]).
                    // `take_or_flag` set `WAITERS` again ([I-flag]).
                    let node = list.resleep(k);
                    node.passed_over.get_or_insert_with(now);
                    source.store(&mut node.wake);
                    return Poll::Pending;
                }
            },
        };
        // [I-slot]: the owner returns its slot, once.
        list.release_slot(k);
        *key = None;
        Poll::Ready(result)
    }

    /// Gives up the slot `key` of a waiter (arrival number `seq`) that
    /// stopped waiting before it returned, passing on whatever it had been
    /// given (`[I-passon]`).
    fn cancel(&self, key: usize, seq: u64) {
        let mut wakes = Wakes::default();
        let mut list = self.list.lock();
        // [I-drain], [I-slot]: a notification drained it and freed its slot
        // (which may be another waiter's by now); its wake-up is discarded.
        if self.drained(seq) {
            return;
        }
        let state = list.node(key).state;
        match state {
            State::Waiting => list.unlink(key),
            State::Notified => {
                list.unlink(key);
                // [I-passon], [I-counter]: the permit it was woken for is
                // still in the counter: wake the next sleeper for it.
                if !planted("lost-wakeup") {
                    self.wake_for_counter(&mut list, &mut wakes);
                }
            }
            State::Granted => {}
            State::Closed => {}
        }
        // [I-slot]
        list.release_slot(key);
        // [I-passon]: what the mode does with what it was handed.
        if state == State::Granted
            && !planted("lost-permit")
            && self.mode.pass_on_granted(&mut list, &mut wakes)
        {
            self.give(&mut list, 1, &mut wakes);
        }
        self.settle(&list);
        drop(list);
        // [I-wake-unlocked]
        wakes.wake_all();
    }

    /// With the list locked: if the counter holds more permits than there are
    /// woken waiters, wakes the oldest sleeper.
    fn wake_for_counter(&self, list: &mut List, wakes: &mut Wakes) {
        // [I-counter]: one woken waiter per counter permit at most.
        if self.available() > list.notified
            && let Some(next) = list.first_waiting()
        {
            wakes.push(list.notify(next));
        }
    }

    /// With the list locked: hands `n` released permits out. Each goes to the
    /// oldest sleeper directly if it was passed over before, else into the
    /// counter, waking the oldest sleeper to come and take it.
    fn give(&self, list: &mut List, mut n: usize, wakes: &mut Wakes) {
        while n > 0 {
            // [I-fifo], [I-sleeper]: the oldest sleeper, in O(1).
            let Some(next) = list.first_waiting() else {
                break;
            };
            // [I-handoff]: straight to a starved waiter, out of bargers' reach.
            if list.node(next).passed_over.is_some_and(starved) {
                wakes.push(list.grant(next));
            } else {
                self.state.fetch_add(ONE, Ordering::Release);
                self.wake_for_counter(list, wakes);
            }
            n -= 1;
        }
        if n > 0 {
            self.state.fetch_add(n * ONE, Ordering::Release);
        }
    }

    /// Returns `n` permits (Counting mode).
    #[allow(dead_code)] // the unit tests' and the sync layer's; the queue core no longer uses it
    pub(crate) fn release(&self, n: usize) {
        if self.release_bounded(n, MAX_PERMITS).is_err() {
            panic!("semaphore permit count overflowed {MAX_PERMITS}");
        }
    }

    /// Returns `n` permits unless the free permits would then exceed `max`
    /// (a Lock released while unlocked, a BoundedSemaphore over-released, any
    /// `n` that would overflow); on `Err` nothing changed. `max` is at most
    /// [`MAX_PERMITS`], so the sums below cannot overflow once this passed.
    pub(crate) fn release_bounded(&self, n: usize, max: usize) -> Result<(), Overflow> {
        debug_assert_eq!(self.mode, Mode::Counting);
        // Checked: `n` may be anything up to `usize::MAX`.
        let fits = |available: usize| available.checked_add(n).is_some_and(|total| total <= max);
        let mut state = self.state.load(Ordering::Relaxed);
        // [I-flag]: nobody asleep, so the permits just go to the counter.
        while state & WAITERS == 0 {
            // [I-unchanged]
            if !fits(state / ONE) {
                return Err(Overflow);
            }
            match self.state.compare_exchange_weak(
                state,
                state + n * ONE,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => state = actual,
            }
        }
        let mut list = self.list.lock();
        // Under the lock the counter can only shrink (bargers), so the check
        // holds ([I-unchanged]).
        if !fits(self.available()) {
            return Err(Overflow);
        }
        // A Lock's recorded last acquirer ends with its hold here, before
        // a waiter can take the permit (the fast path above keeps it: no
        // work there; see `introspect`).
        if self.meta.kind == PrimitiveKind::Lock {
            self.meta.set_holder(NO_HOLDER);
        }
        let mut wakes = Wakes::default();
        self.give(&mut list, n, &mut wakes);
        self.settle(&list);
        drop(list);
        // [I-wake-unlocked]
        wakes.wake_all();
        Ok(())
    }

    /// Removes every free permit from the counter; returns how many.
    #[allow(dead_code)] // the queue core no longer uses it
    pub(crate) fn drain(&self) -> usize {
        let state = self.state.fetch_and(WAITERS | CLOSED, Ordering::AcqRel);
        state / ONE
    }

    /// Hands a notification to up to `n` queued waiters, oldest first (signal
    /// modes); returns how many were woken.
    pub(crate) fn notify(&self, n: usize) -> usize {
        debug_assert_ne!(self.mode, Mode::Counting);
        // [I-flag]: nobody asleep, nobody to notify.
        if !self.has_sleepers() {
            return 0;
        }
        let mut wakes = Wakes::default();
        let mut list = self.list.lock();
        let woken = if self.mode == Mode::Discard {
            // Up to `n` waiters from the head in one pass, their slots freed
            // here, and the drain epoch moved past them ([I-drain]).
            let (woken, last) = list.drain_front(n, &mut wakes);
            if woken > 0 && !planted("broadcast-no-epoch") {
                self.drained.store(last, Ordering::Release);
            }
            woken
        } else {
            notify_waiters(&mut list, n, &mut wakes)
        };
        self.settle(&list);
        drop(list);
        // [I-wake-unlocked]
        wakes.wake_all();
        woken
    }

    /// Closes the semaphore: every queued waiter wakes with [`Closed`], and
    /// later acquires fail once the free permits are gone. Not for
    /// [`Mode::Discard`], whose closed waiters would keep slots that a later
    /// drain could be mistaken for (`[I-drain]`).
    pub(crate) fn close(&self) {
        debug_assert_ne!(self.mode, Mode::Discard);
        let mut wakes = Wakes::default();
        let mut list = self.list.lock();
        self.state.fetch_or(CLOSED, Ordering::AcqRel);
        // [I-close]: every queued waiter, asleep or woken.
        while list.head != NIL {
            let head = list.head;
            list.unlink(head);
            let node = list.node(head);
            node.state = State::Closed;
            wakes.push(std::mem::replace(&mut node.wake, Wake::None));
        }
        self.settle(&list);
        drop(list);
        // [I-wake-unlocked]
        wakes.wake_all();
    }
}

/// The future of [`RawSemaphore::acquire`] / [`RawSemaphore::register`]:
/// `Ok(())` once it holds a permit (or was notified), `Err(Closed)` if the
/// semaphore was closed. Dropping it early gives back whatever it was given.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Acquire<'a> {
    sem: &'a RawSemaphore,
    key: Option<usize>,
    /// The arrival number of the waiter linked at `key` ([`Mode::Discard`],
    /// `[I-drain]`).
    seq: u64,
    /// The wait record of a waiter that parked (slow path only): written on
    /// the first `Pending`, removed when it returns or is dropped.
    #[cfg(not(threadlet_loom))]
    record: Option<WaitSlot>,
}

impl Acquire<'_> {
    /// Waits on this OS thread (through `wait::blocking`'s driver) instead of
    /// polling; `Ok(false)` if `deadline` passed first (the future is then
    /// dropped, which passes on whatever was handed over meanwhile).
    #[cfg(test)]
    pub(crate) fn blocking(self, deadline: Option<Instant>) -> Result<bool, Closed> {
        crate::wait::blocking::block_on_deadline(self, deadline)
            .map_or(Ok(false), |got| got.map(|()| true))
    }
}

impl Acquire<'_> {
    /// Gives up ownership of the waiter's slot to a caller that keeps it
    /// in a key and polls with [`RawSemaphore::poll_acquire_at`] (and must
    /// then call [`RawSemaphore::cancel_waiter`] if it stops waiting).
    pub(crate) fn into_key(mut self) -> Option<usize> {
        // The `seq` is not kept with the key ([I-drain]).
        debug_assert_ne!(self.sem.mode, Mode::Discard);
        self.key.take()
    }
}

/// A waiter kept outside an [`Acquire`], by the key of its slot, for an
/// owner that cannot hold a future borrowing the semaphore (the queue's
/// `Stream` and `Sink`): the slot and, while it is parked, its wait record,
/// kept the way [`Acquire`] keeps them, so such waits show in a dump too.
/// The owner calls [`cancel`](Self::cancel) when it stops waiting.
#[derive(Debug, Default)]
pub(crate) struct Parked {
    key: Option<usize>,
    #[cfg(not(threadlet_loom))]
    record: Option<WaitSlot>,
}

impl Parked {
    /// Whether a slot is held (queued, maybe already woken).
    pub(crate) fn is_waiting(&self) -> bool {
        self.key.is_some()
    }

    /// Takes over the slot of a waiter just registered.
    pub(crate) fn hold(&mut self, waiter: Acquire<'_>) {
        debug_assert!(self.key.is_none());
        self.key = waiter.into_key();
    }

    /// Polls the held waiter on `sem` ([`RawSemaphore::poll_acquire_at`]);
    /// the first `Pending` writes the wait record, the end removes it.
    pub(crate) fn poll(
        &mut self,
        sem: &RawSemaphore,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Closed>> {
        let poll = sem.poll_acquire_at(&mut self.key, cx);
        #[cfg(not(threadlet_loom))]
        track(&mut self.record, &poll, sem);
        poll
    }

    /// Stops waiting on `sem`: leaves the list, passing on whatever the slot
    /// was handed ([`RawSemaphore::cancel_waiter`]), and removes the record.
    pub(crate) fn cancel(&mut self, sem: &RawSemaphore) {
        sem.cancel_waiter(&mut self.key);
        #[cfg(not(threadlet_loom))]
        if let Some(record) = self.record.take() {
            waits::leave(record);
        }
    }
}

/// The wait record of a waiter ([`Acquire`], [`Parked`]) after a poll: the
/// first `Pending` means it parked, so it records who waits on what
/// (`introspect`); the end removes the record.
#[cfg(not(threadlet_loom))]
fn track<T>(record: &mut Option<WaitSlot>, poll: &Poll<T>, sem: &RawSemaphore) {
    match poll {
        Poll::Pending if record.is_none() => *record = Some(waits::enter(&sem.meta)),
        Poll::Ready(_) => {
            if let Some(record) = record.take() {
                waits::leave(record);
            }
        }
        Poll::Pending => {}
    }
}

impl Future for Acquire<'_> {
    type Output = Result<(), Closed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let poll = this
            .sem
            .poll_acquire(&mut this.key, &mut this.seq, Source::Task(cx.waker()));
        #[cfg(not(threadlet_loom))]
        track(&mut this.record, &poll, this.sem);
        poll
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.sem.cancel(key, self.seq);
        }
        #[cfg(not(threadlet_loom))]
        if let Some(record) = self.record.take() {
            waits::leave(record);
        }
    }
}

#[cfg(all(test, not(threadlet_loom)))]
mod tests {
    use super::*;
    use crate::wait::list::SHRINK_TO;
    use std::sync::Arc;
    use std::time::Duration;
    use tokio_test::task::spawn;
    use tokio_test::{assert_pending, assert_ready};

    fn sem(n: usize) -> RawSemaphore {
        RawSemaphore::new(n, Mode::Counting)
    }

    /// Parks `n` waiters on `s` and returns them.
    fn park(s: &RawSemaphore, n: usize) -> Vec<tokio_test::task::Spawn<Acquire<'_>>> {
        let mut waiters: Vec<_> = (0..n).map(|_| spawn(s.acquire())).collect();
        for w in &mut waiters {
            assert_pending!(w.poll());
        }
        waiters
    }

    /// Parks two waiters on `s`: the older first.
    fn pair(
        s: &RawSemaphore,
    ) -> (
        tokio_test::task::Spawn<Acquire<'_>>,
        tokio_test::task::Spawn<Acquire<'_>>,
    ) {
        let mut waiters = park(s, 2);
        let b = waiters.pop().unwrap();
        (waiters.pop().unwrap(), b)
    }

    /// What a semaphore with `permits` and nothing else looks like.
    fn idle(permits: usize) -> Snapshot {
        Snapshot {
            permits,
            waiters: 0,
            slots: 0,
            closed: false,
        }
    }

    /// Wakes `a` (the oldest waiter) with a permit that a barger then takes,
    /// and lets `a` wait past the starvation bound: the next permit released
    /// is handed to `a` directly.
    fn pass_over(s: &RawSemaphore, a: &mut tokio_test::task::Spawn<Acquire<'_>>) {
        s.release(1);
        assert!(a.is_woken());
        assert_eq!(s.try_acquire(), Ok(()));
        assert_pending!(a.poll());
        std::thread::sleep(STARVATION_BOUND);
    }

    fn visits(s: &RawSemaphore) -> usize {
        std::mem::take(&mut s.list.lock().visits)
    }

    /// Handing permits to N parked waiters visits O(N) list nodes in all,
    /// through `release(N)` and through N `release(1)` calls (it was O(N²):
    /// each hand-off rescanned the waiters already woken).
    #[test]
    fn waking_many_waiters_is_linear() {
        const N: usize = 4000;
        let s = sem(0);
        let mut waiters = park(&s, N);
        visits(&s);
        s.release(N);
        let bulk = visits(&s);
        assert!(bulk <= 4 * N, "release({N}) visited {bulk} nodes");
        for w in &mut waiters {
            assert!(w.is_woken());
            assert_ready!(w.poll()).unwrap();
        }
        drop(waiters);

        let mut waiters = park(&s, N);
        visits(&s);
        for _ in 0..N {
            s.release(1);
        }
        let single = visits(&s);
        assert!(
            single <= 4 * N,
            "{N} release(1) calls visited {single} nodes"
        );
        for w in &mut waiters {
            assert_ready!(w.poll()).unwrap();
        }
        assert_eq!(s.snapshot().slots, 0);
    }

    /// After a burst of waiters that all left, the wait list gives its memory
    /// back; a small steady state keeps its slab.
    #[test]
    fn wait_list_shrinks_after_a_burst() {
        let s = sem(0);
        let waiters = park(&s, 100_000);
        assert!(s.slab_capacity() >= 100_000);
        drop(waiters);
        assert_eq!(s.snapshot().slots, 0);
        assert!(
            s.slab_capacity() <= SHRINK_TO,
            "an idle semaphore still holds {} slots",
            s.slab_capacity()
        );
        // Also when the burst ends by hand-offs rather than cancellation.
        let mut waiters = park(&s, 50_000);
        s.release(50_000);
        for w in &mut waiters {
            assert_ready!(w.poll()).unwrap();
        }
        drop(waiters);
        assert!(s.slab_capacity() <= SHRINK_TO);
        // A steady state below the threshold keeps its slab: no churn.
        let waiters = park(&s, 100);
        let cap = s.slab_capacity();
        assert!(cap >= 100);
        drop(waiters);
        assert_eq!(s.slab_capacity(), cap);
    }

    #[test]
    fn release_overflow_is_refused_and_changes_nothing() {
        let s = sem(1);
        assert_eq!(s.release_bounded(usize::MAX, MAX_PERMITS), Err(Overflow));
        assert_eq!(s.release_bounded(MAX_PERMITS, MAX_PERMITS), Err(Overflow));
        assert_eq!(s.available(), 1);
        let s = sem(0);
        let mut a = spawn(s.acquire());
        assert_pending!(a.poll());
        assert_eq!(s.release_bounded(usize::MAX, 3), Err(Overflow));
        assert!(!a.is_woken());
        assert_eq!(s.release_bounded(MAX_PERMITS, MAX_PERMITS), Ok(()));
        assert_ready!(a.poll()).unwrap();
        assert_eq!(s.available(), MAX_PERMITS - 1);
    }

    #[test]
    fn fast_paths_touch_only_the_counter() {
        let s = sem(1);
        assert_eq!(s.try_acquire(), Ok(()));
        assert_eq!(s.try_acquire(), Err(TryAcquireError::NoPermits));
        s.release(1);
        assert_eq!(s.snapshot(), idle(1));
    }

    #[test]
    fn waiters_are_woken_in_fifo_order() {
        let s = sem(0);
        let (mut a, mut b) = pair(&s);
        s.release(1);
        assert!(a.is_woken());
        assert!(!b.is_woken());
        assert_ready!(a.poll()).unwrap();
        assert_pending!(b.poll());
        s.release(1);
        assert!(b.is_woken());
        assert_ready!(b.poll()).unwrap();
        assert_eq!(s.snapshot(), idle(0));
    }

    #[test]
    fn passed_over_waiter_gets_the_next_permit_directly() {
        let s = sem(0);
        let mut a = spawn(s.acquire());
        assert_pending!(a.poll());
        pass_over(&s, &mut a);
        s.release(1);
        // Handed over: the barger cannot take it.
        assert_eq!(s.try_acquire(), Err(TryAcquireError::NoPermits));
        assert!(a.is_woken());
        assert_ready!(a.poll()).unwrap();
    }

    #[test]
    fn dropped_woken_waiter_passes_the_wakeup_on() {
        let s = sem(0);
        let (a, mut b) = pair(&s);
        s.release(1);
        assert!(a.is_woken());
        drop(a);
        assert!(b.is_woken());
        assert_ready!(b.poll()).unwrap();
        assert_eq!(s.snapshot().permits, 0);
    }

    #[test]
    fn dropped_granted_waiter_passes_the_permit_on() {
        let s = sem(0);
        let (mut a, mut b) = pair(&s);
        pass_over(&s, &mut a);
        s.release(1); // granted to a
        drop(a);
        assert!(b.is_woken());
        assert_ready!(b.poll()).unwrap();
        assert_eq!(s.snapshot(), idle(0));
    }

    #[test]
    fn dropped_granted_waiter_without_successor_returns_the_permit() {
        let s = sem(0);
        let mut a = spawn(s.acquire());
        assert_pending!(a.poll());
        pass_over(&s, &mut a);
        s.release(1);
        drop(a);
        assert_eq!(s.snapshot(), idle(1));
    }

    #[test]
    fn bounded_release_refuses_and_changes_nothing() {
        let s = sem(1);
        assert_eq!(s.release_bounded(1, 1), Err(Overflow));
        assert_eq!(s.available(), 1);
        s.try_acquire().unwrap();
        assert_eq!(s.release_bounded(1, 1), Ok(()));
    }

    #[test]
    fn pass_on_mode_wakes_only_current_waiters_and_passes_on() {
        let s = RawSemaphore::new(0, Mode::PassOn);
        assert_eq!(s.notify(1), 0);
        let mut a = spawn(s.register());
        let mut b = spawn(s.register());
        assert_eq!(s.notify(1), 1);
        let _ = a.poll(); // granted already: ready on first poll
        drop(a);
        // `a` returned, so its notification was consumed; `b` still waits.
        assert_pending!(b.poll());
        let mut c = spawn(s.register());
        assert_eq!(s.notify(1), 1);
        drop(b); // granted, dropped before returning: passes to c
        assert_ready!(c.poll()).unwrap();
    }

    #[test]
    fn discard_mode_discards_dropped_wakeups() {
        let s = RawSemaphore::new(0, Mode::Discard);
        let a = s.register();
        let mut b = spawn(s.register());
        assert_eq!(s.notify(1), 1);
        drop(a);
        assert_pending!(b.poll());
        assert!(!b.is_woken());
    }

    /// A broadcast frees every queued waiter's slot itself; the woken
    /// waiters return without touching their old keys, even once another
    /// waiter has reused one of the slots ([I-drain]).
    #[test]
    fn broadcast_drains_the_list_and_frees_each_slot_once() {
        let s = RawSemaphore::new(0, Mode::Discard);
        let (mut a, b) = (spawn(s.acquire()), spawn(s.register()));
        assert_pending!(a.poll());
        assert_eq!(s.snapshot().slots, 2);
        assert_eq!(s.notify(usize::MAX), 2);
        assert!(a.is_woken());
        // Both slots are back before either waiter runs.
        assert_eq!(s.snapshot(), idle(0));
        // A new waiter takes one of the freed slots.
        let mut c = spawn(s.register());
        assert_pending!(c.poll());
        assert_ready!(a.poll()).unwrap();
        drop(b); // a drained waiter dropped unpolled
        drop(a);
        let snap = s.snapshot();
        assert_eq!((snap.waiters, snap.slots), (1, 1), "c's slot was freed");
        assert_eq!(s.notify(usize::MAX), 1);
        assert_ready!(c.poll()).unwrap();
        assert_eq!(s.snapshot(), idle(0));
    }

    /// A partial notification drains the oldest waiters only, freeing
    /// their slots one by one; the broadcast after it takes the rest, and
    /// the freed slots are reused ([I-drain]).
    #[test]
    fn partial_notify_then_broadcast() {
        let s = RawSemaphore::new(0, Mode::Discard);
        let mut waiters: Vec<_> = (0..3).map(|_| spawn(s.acquire())).collect();
        for w in &mut waiters {
            assert_pending!(w.poll());
        }
        assert_eq!(s.notify(1), 1);
        assert!(waiters[0].is_woken() && !waiters[1].is_woken());
        let snap = s.snapshot();
        assert_eq!((snap.waiters, snap.slots), (2, 2));
        // The oldest returns; the next ones still wait.
        assert_ready!(waiters[0].poll()).unwrap();
        assert_pending!(waiters[1].poll());
        let mut late = spawn(s.acquire());
        assert_pending!(late.poll()); // reuses the freed slot
        assert_eq!(s.notify(usize::MAX), 3);
        assert_eq!(s.snapshot(), idle(0));
        for w in waiters.iter_mut().skip(1).chain([&mut late]) {
            assert!(w.is_woken());
            assert_ready!(w.poll()).unwrap();
        }
        drop((waiters, late));
        assert_eq!(s.snapshot(), idle(0));
    }

    /// A broadcast to a burst of waiters gives the slab back too.
    #[test]
    fn broadcast_after_a_burst_shrinks_the_slab() {
        let s = RawSemaphore::new(0, Mode::Discard);
        let waiters: Vec<_> = (0..5000).map(|_| s.register()).collect();
        assert_eq!(s.notify(usize::MAX), 5000);
        assert!(s.slab_capacity() <= SHRINK_TO);
        drop(waiters);
        assert_eq!(s.snapshot(), idle(0));
    }

    #[test]
    fn close_wakes_everyone_and_drains_first() {
        let s = sem(1);
        s.close();
        assert_eq!(s.try_acquire(), Ok(()));
        assert_eq!(s.try_acquire(), Err(TryAcquireError::Closed));
        let s = sem(0);
        let mut a = spawn(s.acquire());
        assert_pending!(a.poll());
        s.close();
        assert!(a.is_woken());
        assert_eq!(assert_ready!(a.poll()), Err(Closed));
    }

    #[test]
    fn blocking_waiters_mix_with_tasks() {
        let s = Arc::new(sem(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || s.blocking_acquire(None))
            })
            .collect();
        for _ in 0..4 {
            s.release(1);
        }
        for t in threads {
            assert_eq!(t.join().unwrap(), Ok(true));
        }
        let s = sem(0);
        let deadline = Instant::now() + Duration::from_millis(20);
        assert_eq!(s.blocking_acquire(Some(deadline)), Ok(false));
        assert_eq!(s.snapshot(), idle(0));
    }

    #[test]
    fn counter_under_contention_conserves_permits() {
        let s = Arc::new(sem(3));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let tasks: Vec<_> = (0..32)
                .map(|i| {
                    let s = s.clone();
                    tokio::spawn(async move {
                        for j in 0..2000 {
                            if (i + j) % 7 == 0 {
                                // Cancelled waits must not leak anything.
                                if let Ok(got) =
                                    tokio::time::timeout(Duration::from_micros(1), s.acquire())
                                        .await
                                {
                                    got.unwrap();
                                    s.release(1);
                                }
                                continue;
                            }
                            s.acquire().await.unwrap();
                            tokio::task::yield_now().await;
                            s.release(1);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        // Timed-out acquires that did get a permit before being dropped still
        // hold nothing: every permit is back.
        let snap = s.snapshot();
        assert_eq!(snap.waiters, 0);
        assert_eq!(snap.slots, 0);
        assert!(snap.permits == 3, "permits leaked: {snap:?}");
    }
}
