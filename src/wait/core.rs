//! The one wait queue of the crate.
//!
//! [`RawSemaphore`] is a permit counter with a FIFO list of waiters. Lock,
//! RLock, Semaphore and BoundedSemaphore are permits in [`Mode::Counting`];
//! Condition, Event, Barrier and the queue's `join` use the same list in
//! [`Mode::Notify`] / [`Mode::Broadcast`], where nothing is stored and a
//! `notify` hands wake-ups to the tasks already waiting. The queues keep
//! their getters and putters in two lists in `Mode::Notify` beside one mutex
//! over the store (`queue::core`).
//!
//! # Fairness: barging with a bounded bypass
//!
//! The uncontended paths are one compare-and-swap on `state` and take no lock
//! and allocate nothing. A task that finds a free permit takes it even while
//! others wait (barging, as in Python, parking_lot and async-lock): a woken
//! waiter then has to win the permit when it runs. Waiters are woken in FIFO
//! order, and a woken waiter that loses the race to a barger is marked *passed
//! over*; once it has been passed over for [`HANDOFF_AFTER`] (200 µs), the
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
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use crate::wait::loom::{AtomicUsize, Mutex, MutexGuard, Ordering, now, planted};

/// How long a waiter that lost its permit to a barger may keep losing before
/// the next release is handed to it directly (see the module docs). Chosen by
/// measurement (BENCHMARKS.md): long enough that a task which releases and
/// re-acquires in a loop keeps its fast path, short enough that no waiter
/// waits more than about this plus one wake-up once it reaches the head.
pub(crate) const HANDOFF_AFTER: std::time::Duration = std::time::Duration::from_micros(200);

/// Whether a waiter passed over at `since` has waited long enough to be
/// handed the next permit. Under loom there is no clock: at once.
fn starved(since: Instant) -> bool {
    cfg!(threadlet_loom) || since.elapsed() >= HANDOFF_AFTER
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

/// How released permits and notifications behave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Permits are counted and wait in `state` for future acquirers.
    Counting,
    /// Nothing is counted: [`RawSemaphore::notify`] wakes waiters already in
    /// the list; a woken waiter dropped before it returned passes its wake-up to
    /// the next waiter (Condition).
    Notify,
    /// Like `Notify`, but a wake-up given to a waiter that is then dropped is
    /// discarded (Event, Barrier, queue `join`: every waiter is woken anyway).
    Broadcast,
}

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

/// How to wake a parked waiter (a blocked OS thread is woken through a
/// waker too: see `wait::blocking`).
#[derive(Debug)]
enum Wake {
    None,
    Task(Waker),
}

impl Wake {
    fn wake(self) {
        match self {
            Wake::None => {}
            Wake::Task(waker) => waker.wake(),
        }
    }
}

/// Who is polling: a task, or an OS thread in `wait::blocking`'s driver,
/// with its waker.
#[derive(Clone, Copy)]
enum Source<'a> {
    Task(&'a Waker),
}

impl Source<'_> {
    /// Stores this source's wake handle in `slot` unless it is already there.
    fn store(self, slot: &mut Wake) {
        match (self, &*slot) {
            (Source::Task(new), Wake::Task(old)) if old.will_wake(new) => {}
            (Source::Task(new), _) => *slot = Wake::Task(new.clone()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Queued, asleep.
    Waiting,
    /// Queued and woken: a permit was put in the counter for it to take.
    Notified,
    /// Out of the queue, holding a permit (or a notification) handed over directly.
    Granted,
    /// Out of the queue: the semaphore was closed.
    Closed,
}

const NIL: usize = usize::MAX;

/// The first arrival number: nodes pushed at the back count up from it, nodes
/// pushed at the front count down below it.
const SEQ_START: u64 = 1 << 63;

/// A slab grown past this many slots is given back once no waiter is left.
const SHRINK_ABOVE: usize = 1024;
/// The room a shrunk slab keeps.
const SHRINK_TO: usize = 64;

#[derive(Debug)]
struct Node {
    prev: usize,
    next: usize,
    state: State,
    /// Its place in arrival order (for re-inserting the sleeper cursor).
    seq: u64,
    /// When it was first woken and found its permit taken by a barger.
    passed_over: Option<Instant>,
    wake: Wake,
}

#[derive(Debug)]
enum Slot {
    Used(Node),
    Free { next_free: usize },
}

/// A FIFO of waiters: a doubly linked list threaded through a slab, so a
/// cancelled waiter leaves from the middle in O(1) and slots are reused
/// (no allocation per wait once the slab has grown; a slab grown past
/// [`SHRINK_ABOVE`] by a burst is given back once no waiter is left).
///
/// Woken (`Notified`) waiters stay linked until they run, so the oldest
/// *sleeper* is not always the head: `sleeper` points at it, and moves
/// forward past woken nodes only, so handing out N permits to N sleepers
/// visits O(N) nodes in all, never rescanning those already woken.
#[derive(Debug)]
struct List {
    slots: Vec<Slot>,
    free: usize,
    head: usize,
    tail: usize,
    /// Nodes in the linked FIFO (states `Waiting` and `Notified`).
    linked: usize,
    /// Linked nodes in state `Notified`.
    notified: usize,
    /// Slots in use (linked, or granted/closed and not yet collected).
    used: usize,
    /// The oldest linked node in state `Waiting` (`NIL` if none): every
    /// linked node before it is `Notified`.
    sleeper: usize,
    /// The `seq` of the next node pushed at the back.
    next_seq: u64,
    /// The `seq` of the last node pushed at the front (counts down from
    /// below `next_seq`'s start, so `seq` order is list order).
    first_seq: u64,
    /// Test-only: list nodes visited while looking for a sleeper.
    #[cfg(test)]
    visits: usize,
}

impl List {
    const fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            linked: 0,
            notified: 0,
            used: 0,
            sleeper: NIL,
            next_seq: SEQ_START,
            first_seq: SEQ_START,
            #[cfg(test)]
            visits: 0,
        }
    }

    fn node(&mut self, key: usize) -> &mut Node {
        match &mut self.slots[key] {
            Slot::Used(node) => node,
            Slot::Free { .. } => unreachable!("waiter slot {key} is free"),
        }
    }

    /// Appends a new `Waiting` node and returns its key.
    fn push_back(&mut self, wake: Wake) -> usize {
        let node = Node {
            prev: self.tail,
            next: NIL,
            state: State::Waiting,
            seq: self.next_seq,
            passed_over: None,
            wake,
        };
        self.next_seq += 1;
        let key = if self.free == NIL {
            self.slots.push(Slot::Used(node));
            self.slots.len() - 1
        } else {
            let key = self.free;
            if let Slot::Free { next_free } = self.slots[key] {
                self.free = next_free;
            }
            self.slots[key] = Slot::Used(node);
            key
        };
        if self.tail == NIL {
            self.head = key;
        } else {
            self.node(self.tail).next = key;
        }
        self.tail = key;
        self.linked += 1;
        self.used += 1;
        if self.sleeper == NIL {
            self.sleeper = key;
        }
        key
    }

    /// The first `Waiting` node after `key` in the FIFO (`NIL` if none).
    /// Only woken nodes are stepped over.
    fn next_sleeper(&mut self, key: usize) -> usize {
        let mut key = self.node(key).next;
        while key != NIL {
            #[cfg(test)]
            {
                self.visits += 1;
            }
            let node = self.node(key);
            if node.state == State::Waiting {
                break;
            }
            key = node.next;
        }
        key
    }

    /// Links a new `Waiting` node at the head of the FIFO and returns its key
    /// (a queue's woken waiter that found its item taken goes back first).
    fn push_front(&mut self, wake: Wake) -> usize {
        let key = self.push_back(wake);
        if self.head != key {
            // Move it from the tail to the head.
            let prev = self.node(key).prev;
            self.node(prev).next = NIL;
            self.tail = prev;
            let head = self.head;
            let node = self.node(key);
            node.prev = NIL;
            node.next = head;
            self.node(head).prev = key;
            self.head = key;
        }
        // It is now the oldest node, and asleep: the sleeper cursor, with an
        // arrival number below every other linked node's (keeps `seq` in
        // list order, which `resleep` relies on).
        self.first_seq -= 1;
        self.node(key).seq = self.first_seq;
        self.sleeper = key;
        key
    }

    /// Moves the sleeper cursor off `key`, which stops sleeping.
    fn leave_sleepers(&mut self, key: usize) {
        if self.sleeper == key {
            self.sleeper = self.next_sleeper(key);
        }
    }

    /// A woken linked node goes back to sleep (it lost its permit to a
    /// barger); it becomes the sleeper cursor if it is older than it.
    fn resleep(&mut self, key: usize) -> &mut Node {
        self.notified -= 1;
        let sleeper_seq = match self.sleeper {
            NIL => u64::MAX,
            sleeper => self.node(sleeper).seq,
        };
        let node = self.node(key);
        node.state = State::Waiting;
        if node.seq < sleeper_seq && !planted("lost-sleeper") {
            self.sleeper = key;
        }
        self.node(key)
    }

    /// Takes a linked node out of the FIFO (its slot stays in use).
    fn unlink(&mut self, key: usize) {
        self.leave_sleepers(key);
        let (prev, next, state) = {
            let node = self.node(key);
            let links = (node.prev, node.next, node.state);
            node.prev = NIL;
            node.next = NIL;
            links
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.node(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.node(next).prev = prev;
        }
        self.linked -= 1;
        if state == State::Notified {
            self.notified -= 1;
        }
    }

    /// Returns an unlinked node's slot to the free list.
    fn release_slot(&mut self, key: usize) {
        self.slots[key] = Slot::Free {
            next_free: self.free,
        };
        self.free = key;
        self.used -= 1;
        if self.used == 0 && self.slots.capacity() > SHRINK_ABOVE {
            // The burst is over: give its memory back. Keys are only held by
            // waiters, and none is left.
            self.slots.clear();
            self.slots.shrink_to(SHRINK_TO);
            self.free = NIL;
        }
    }

    /// The oldest linked node that is asleep (not already woken): O(1).
    fn first_waiting(&self) -> Option<usize> {
        (self.sleeper != NIL).then_some(self.sleeper)
    }

    /// Unlinks `key` and marks it `Granted`; returns its wake handle.
    fn grant(&mut self, key: usize) -> Wake {
        self.unlink(key);
        let node = self.node(key);
        node.state = State::Granted;
        std::mem::replace(&mut node.wake, Wake::None)
    }

    /// Marks a linked `Waiting` node `Notified`; returns its wake handle.
    fn notify(&mut self, key: usize) -> Wake {
        self.leave_sleepers(key);
        self.notified += 1;
        let node = self.node(key);
        node.state = State::Notified;
        std::mem::replace(&mut node.wake, Wake::None)
    }
}

/// Wake handles collected under the list's lock, woken after it is released.
#[derive(Debug, Default)]
struct Wakes {
    first: Option<Wake>,
    rest: Vec<Wake>,
}

impl Wakes {
    fn push(&mut self, wake: Wake) {
        if self.first.is_none() {
            self.first = Some(wake);
        } else {
            self.rest.push(wake);
        }
    }

    fn wake_all(self) {
        if let Some(first) = self.first {
            first.wake();
        }
        for wake in self.rest {
            wake.wake();
        }
    }
}

/// The shared wait queue: permits plus a fair, cancel-safe FIFO of waiters.
#[derive(Debug)]
pub(crate) struct RawSemaphore {
    /// `permits * ONE | CLOSED? | WAITERS?`
    state: AtomicUsize,
    list: Mutex<List>,
    mode: Mode,
}

impl RawSemaphore {
    /// A semaphore holding `permits` (at most [`MAX_PERMITS`]).
    #[cfg(not(threadlet_loom))]
    pub(crate) const fn new(permits: usize, mode: Mode) -> Self {
        assert!(permits <= MAX_PERMITS, "too many permits");
        Self {
            state: AtomicUsize::new(permits * ONE),
            list: Mutex::new(List::new()),
            mode,
        }
    }

    /// A semaphore holding `permits` (at most [`MAX_PERMITS`]).
    #[cfg(threadlet_loom)]
    pub(crate) fn new(permits: usize, mode: Mode) -> Self {
        assert!(permits <= MAX_PERMITS, "too many permits");
        Self {
            state: AtomicUsize::new(permits * ONE),
            list: Mutex::new(List::new()),
            mode,
        }
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

    /// Takes a permit if one is free, barging ahead of queued waiters.
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
        if list.linked == list.notified {
            self.state.fetch_and(!WAITERS, Ordering::Release);
        }
    }

    /// Waits for a permit (or, in the signal modes, a notification).
    pub(crate) fn acquire(&self) -> Acquire<'_> {
        Acquire {
            sem: self,
            key: None,
        }
    }

    /// Joins the queue now, before the returned future is first polled: a
    /// Condition or Event waiter registers, then releases its lock or
    /// re-checks its flag, so no notification can slip in between.
    pub(crate) fn register(&self) -> Acquire<'_> {
        let mut list = self.list.lock();
        let key = list.push_back(Wake::None);
        self.state.fetch_or(WAITERS, Ordering::AcqRel);
        drop(list);
        Acquire {
            sem: self,
            key: Some(key),
        }
    }

    /// [`register`](Self::register) at the head of the line instead of the
    /// tail (Notify mode): for a waiter that was woken, found what it was
    /// woken for already taken, and waits again without losing its turn.
    pub(crate) fn register_first(&self) -> Acquire<'_> {
        let mut list = self.list.lock();
        let key = list.push_front(Wake::None);
        self.state.fetch_or(WAITERS, Ordering::AcqRel);
        drop(list);
        Acquire {
            sem: self,
            key: Some(key),
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
        self.poll_acquire(key, Source::Task(cx.waker()))
    }

    /// Gives up the waiter slot kept in `key` by
    /// [`poll_acquire_at`](Self::poll_acquire_at), passing on whatever it was
    /// given; does nothing when `key` is `None`.
    pub(crate) fn cancel_waiter(&self, key: &mut Option<usize>) {
        if let Some(key) = key.take() {
            self.cancel(key);
        }
    }

    /// Waits on this OS thread for a permit until `deadline` (`None`: forever).
    /// `Ok(false)` when the deadline passed first. (The primitives' blocking
    /// forms drive their own futures with `wait::blocking`; this is for the
    /// core's tests and loom models.)
    #[cfg(any(test, threadlet_loom))]
    pub(crate) fn blocking_acquire(&self, deadline: Option<Instant>) -> Result<bool, Closed> {
        self.acquire().blocking(deadline)
    }

    /// Polls the waiter whose slot is `key` (`None`: not queued yet). Written
    /// once for tasks and OS threads. Sets `*key = None` when it completes.
    fn poll_acquire(
        &self,
        key: &mut Option<usize>,
        source: Source<'_>,
    ) -> Poll<Result<(), Closed>> {
        let Some(k) = *key else {
            match self.try_acquire() {
                Ok(()) => return Poll::Ready(Ok(())),
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
                    *key = Some(list.push_back(wake));
                    Poll::Pending
                }
            };
        };
        let mut list = self.list.lock();
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
                    // for a direct hand-off.
                    let node = list.resleep(k);
                    node.passed_over.get_or_insert_with(now);
                    source.store(&mut node.wake);
                    return Poll::Pending;
                }
            },
        };
        list.release_slot(k);
        *key = None;
        Poll::Ready(result)
    }

    /// Gives up the slot `key` of a waiter that stopped waiting before it
    /// returned, passing on whatever it had been given.
    fn cancel(&self, key: usize) {
        let mut wakes = Wakes::default();
        let mut list = self.list.lock();
        let state = list.node(key).state;
        match state {
            State::Waiting => list.unlink(key),
            State::Notified => {
                list.unlink(key);
                // The permit it was woken for is still in the counter: wake
                // the next sleeper for it.
                if !planted("lost-wakeup") {
                    self.wake_for_counter(&mut list, &mut wakes);
                }
            }
            State::Granted => {}
            State::Closed => {}
        }
        list.release_slot(key);
        if state == State::Granted && !planted("lost-permit") {
            match self.mode {
                Mode::Counting => self.give(&mut list, 1, &mut wakes),
                Mode::Notify if planted("lost-notify") => {}
                Mode::Notify => {
                    if let Some(next) = list.first_waiting() {
                        wakes.push(list.grant(next));
                    }
                }
                Mode::Broadcast => {}
            }
        }
        self.settle(&list);
        drop(list);
        wakes.wake_all();
    }

    /// With the list locked: if the counter holds more permits than there are
    /// woken waiters, wakes the oldest sleeper.
    fn wake_for_counter(&self, list: &mut List, wakes: &mut Wakes) {
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
            let Some(next) = list.first_waiting() else {
                break;
            };
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
        while state & WAITERS == 0 {
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
        // Under the lock the counter can only shrink (bargers), so the check holds.
        if !fits(self.available()) {
            return Err(Overflow);
        }
        let mut wakes = Wakes::default();
        self.give(&mut list, n, &mut wakes);
        self.settle(&list);
        drop(list);
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
        if self.state.load(Ordering::Acquire) & WAITERS == 0 {
            return 0;
        }
        let mut wakes = Wakes::default();
        let mut list = self.list.lock();
        let mut woken = 0;
        while woken < n {
            let head = list.head;
            if head == NIL {
                break;
            }
            wakes.push(list.grant(head));
            woken += 1;
        }
        self.settle(&list);
        drop(list);
        wakes.wake_all();
        woken
    }

    /// Closes the semaphore: every queued waiter wakes with [`Closed`], and
    /// later acquires fail once the free permits are gone.
    pub(crate) fn close(&self) {
        let mut wakes = Wakes::default();
        let mut list = self.list.lock();
        self.state.fetch_or(CLOSED, Ordering::AcqRel);
        while list.head != NIL {
            let head = list.head;
            list.unlink(head);
            let node = list.node(head);
            node.state = State::Closed;
            wakes.push(std::mem::replace(&mut node.wake, Wake::None));
        }
        self.settle(&list);
        drop(list);
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
}

impl Acquire<'_> {
    /// Waits on this OS thread (through `wait::blocking`'s driver) instead of
    /// polling; `Ok(false)` if `deadline` passed first (the future is then
    /// dropped, which passes on whatever was handed over meanwhile).
    #[cfg(any(test, threadlet_loom))]
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
        self.key.take()
    }
}

impl Future for Acquire<'_> {
    type Output = Result<(), Closed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        this.sem
            .poll_acquire(&mut this.key, Source::Task(cx.waker()))
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.sem.cancel(key);
        }
    }
}

#[cfg(all(test, not(threadlet_loom)))]
mod tests {
    use super::*;
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
        assert_eq!(
            s.snapshot(),
            Snapshot {
                permits: 1,
                waiters: 0,
                slots: 0,
                closed: false
            }
        );
    }

    #[test]
    fn waiters_are_woken_in_fifo_order() {
        let s = sem(0);
        let mut a = spawn(s.acquire());
        let mut b = spawn(s.acquire());
        assert_pending!(a.poll());
        assert_pending!(b.poll());
        s.release(1);
        assert!(a.is_woken());
        assert!(!b.is_woken());
        assert_ready!(a.poll()).unwrap();
        assert_pending!(b.poll());
        s.release(1);
        assert!(b.is_woken());
        assert_ready!(b.poll()).unwrap();
        assert_eq!(
            s.snapshot(),
            Snapshot {
                permits: 0,
                waiters: 0,
                slots: 0,
                closed: false
            }
        );
    }

    #[test]
    fn passed_over_waiter_gets_the_next_permit_directly() {
        let s = sem(0);
        let mut a = spawn(s.acquire());
        assert_pending!(a.poll());
        s.release(1);
        assert!(a.is_woken());
        // A barger takes the permit before `a` runs.
        assert_eq!(s.try_acquire(), Ok(()));
        assert_pending!(a.poll());
        std::thread::sleep(HANDOFF_AFTER); // `a` has now waited past the bound
        s.release(1);
        // Handed over: the barger cannot take it.
        assert_eq!(s.try_acquire(), Err(TryAcquireError::NoPermits));
        assert!(a.is_woken());
        assert_ready!(a.poll()).unwrap();
    }

    #[test]
    fn dropped_woken_waiter_passes_the_wakeup_on() {
        let s = sem(0);
        let mut a = spawn(s.acquire());
        let mut b = spawn(s.acquire());
        assert_pending!(a.poll());
        assert_pending!(b.poll());
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
        let mut a = spawn(s.acquire());
        let mut b = spawn(s.acquire());
        assert_pending!(a.poll());
        assert_pending!(b.poll());
        s.release(1);
        assert_eq!(s.try_acquire(), Ok(()));
        assert_pending!(a.poll()); // passed over
        std::thread::sleep(HANDOFF_AFTER);
        s.release(1); // granted to a
        drop(a);
        assert!(b.is_woken());
        assert_ready!(b.poll()).unwrap();
        assert_eq!(
            s.snapshot(),
            Snapshot {
                permits: 0,
                waiters: 0,
                slots: 0,
                closed: false
            }
        );
    }

    #[test]
    fn dropped_granted_waiter_without_successor_returns_the_permit() {
        let s = sem(0);
        let mut a = spawn(s.acquire());
        assert_pending!(a.poll());
        s.release(1);
        assert_eq!(s.try_acquire(), Ok(()));
        assert_pending!(a.poll());
        std::thread::sleep(HANDOFF_AFTER);
        s.release(1);
        drop(a);
        assert_eq!(
            s.snapshot(),
            Snapshot {
                permits: 1,
                waiters: 0,
                slots: 0,
                closed: false
            }
        );
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
    fn notify_mode_wakes_only_current_waiters_and_passes_on() {
        let s = RawSemaphore::new(0, Mode::Notify);
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
    fn broadcast_mode_discards_dropped_wakeups() {
        let s = RawSemaphore::new(0, Mode::Broadcast);
        let a = s.register();
        let mut b = spawn(s.register());
        assert_eq!(s.notify(1), 1);
        drop(a);
        assert_pending!(b.poll());
        assert!(!b.is_woken());
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
        assert_eq!(
            s.snapshot(),
            Snapshot {
                permits: 0,
                waiters: 0,
                slots: 0,
                closed: false
            }
        );
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
