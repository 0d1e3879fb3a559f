//! The one queue core under [`Queue`](super::Queue), [`LifoQueue`](super::LifoQueue)
//! and [`PriorityQueue`](super::PriorityQueue).
//!
//! One mutex guards the store, the places held by sinks and the shutdown
//! flag, and is held only for a push or a pop, never across an `.await` and
//! never while waking anybody. Waiting goes through the crate's one wait list
//! ([`RawSemaphore`]) in [`Mode::PassOn`]: `getters` (waiting for an item),
//! `putters` (waiting for a place) and, in [`Mode::Discard`], `all_done`
//! (`join`). An uncontended put + get costs one lock and one unlock each, plus
//! one atomic load per side to see that nobody waits (the old two counting
//! semaphores over a store cost eight atomic read-modify-writes).
//!
//! The count behind `unfinished_tasks` lives outside the mutex, as two
//! monotonic counters (I6): `puts`, raised by the section that stores an item
//! (a plain store under the mutex, no read-modify-write), and `done`, raised
//! by `task_done` with one compare-and-swap and no lock. So the accounting
//! Python's users write — a `task_done()` per item and a final `join()` —
//! costs one atomic read-modify-write per item.
//!
//! # Invariants
//!
//! * **I1 (register under the lock).** A getter (putter) that finds nothing
//!   to do joins its wait list *before* it releases the state mutex; whoever
//!   changes the state wakes after releasing it. So a change made after the
//!   check always sees the waiter: no wake-up is lost. (A joiner takes no
//!   lock: it registers before it re-checks the counts, I6.)
//! * **I2 (wake by difference).** Every locked section ([`Section`]) records
//!   the stored items and the places in use when it locks; when it ends —
//!   normally or by unwinding from user code (`Ord::cmp`) — it settles the
//!   task counts (I3, I6) and wakes one getter per item added, one putter
//!   per place freed, and every joiner if it marked the last unfinished task
//!   done. No path that can change items or places has its
//!   own wake-up code to forget; the one exception is `task_done`, which
//!   changes only the `done` counter, runs no user code, and wakes the
//!   joiners itself (I6). A getter or putter wake-up is skipped only when
//!   its list has no sleeper (`has_sleepers`: exact, since those waiters
//!   register under the state mutex, I1).
//! * **I3 (counts derive from the store).** Capacity is checked against the
//!   store's own length, and the task counters are settled from the store's
//!   length too: a section counts as put every item by which the store grew
//!   beyond the items it handed out, and as done (never below 0 unfinished)
//!   every item that left the store without being handed out. A push or pop
//!   that unwinds half way therefore leaves the counts consistent with
//!   whatever the store then holds: an item still stored is still counted and
//!   retrievable, an item lost in a panicking pop counts as done and frees
//!   its place, and the items `shutdown_immediate` drops count as done
//!   (Python's drain).
//! * **I4 (FIFO service).** A woken getter or putter that finds its item or
//!   place already taken by a caller that did not wait (barging, as in
//!   Python) waits again at the head of its list, not the tail. A waiter
//!   dropped after it was woken passes the wake-up to the next waiter
//!   ([`Mode::PassOn`]), so nothing it was woken for is stranded.
//! * **I5 (shutdown).** The flag is set under the mutex, then both wait lists
//!   are closed: every waiter wakes and re-checks under the mutex, and nobody
//!   registers after the flag is set. Nothing enters a shut-down queue.
//! * **I6 (task counts without the lock).** `unfinished_tasks` is
//!   `puts − done`. `puts` only grows, and only under the state mutex (I3);
//!   `done` only grows, by compare-and-swap, and never past a `puts` value
//!   read after the `done` value the swap replaces (`done` is loaded with
//!   Acquire, and every writer read `puts` before its Release swap, so that
//!   read sees at least the `puts` every earlier writer saw): `done ≤ puts`
//!   always, and a `task_done` that finds `done == puts` fails and changes
//!   nothing (Python's `ValueError`). The low bit of the `done` word is
//!   `JOINING`: a joiner that finds tasks unfinished first registers in
//!   `all_done`, then sets `JOINING` with a read-modify-write of the same
//!   word, then re-reads the counts. The swaps on one word are totally
//!   ordered, so either the joiner's `fetch_or` reads the count already at
//!   `puts` (it returns without waiting), or the swap that brings `done` to
//!   `puts` comes after it, reads `JOINING`, and — its Acquire seeing the
//!   registration made before the Release `fetch_or` — notifies every
//!   registered joiner and clears the bit. A joiner so woken re-checks
//!   (puts may have grown meanwhile) and registers again. So `join` returns
//!   exactly at the last `task_done`, and a `task_done` that is not the last,
//!   or finds no `JOINING`, touches nothing but its one swap.
//! * **I7 (one item in or out).** The commonest sections — a put that
//!   stored one item, a get that took one — do not end by the general
//!   comparison of counts (I2, I3) but by [`Inner::stored_one`] and
//!   [`Inner::took_one`], which do what that comparison would derive: a put
//!   raises `puts` by one under the mutex (I6), unlocks, and wakes one
//!   getter if one sleeps; a get unlocks and wakes one putter if one sleeps
//!   (exact by I1). They run only after the store's `push` or `pop`
//!   returned, so a push or pop that unwinds (a panicking `Ord::cmp`) still
//!   ends by the general drop (I3). For stores whose `push` and `pop` run no
//!   user code and cannot unwind (FIFO, LIFO: `Store::PLAIN`), a put or get
//!   not yet in line skips the [`Section`] altogether (`put_plain`,
//!   `get_plain`); a full put or an empty get falls through to the step,
//!   which re-checks and registers under the lock (I1), and both honour the
//!   shutdown flag (I5).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use super::error::{GetError, PutError, TaskDoneError};
use super::statistics::QueueStatistics;
use crate::wait::blocking::{Op, block_on_forever, block_on_timed};
use crate::wait::loom::{Arc, AtomicUsize, Mutex, MutexGuard, Ordering, planted};
use crate::wait::timeout::{Wait, deadline};
use crate::wait::{Acquire, Mode, RawSemaphore};

pub(crate) mod sealed {
    /// Only this crate's orderings implement [`Order`](super::Order).
    pub trait Sealed {}

    /// The storage of one ordering. Sealed: only this crate implements it.
    pub trait Store<T>: Default {
        /// Stores an item.
        fn push(&mut self, item: T);
        /// Removes the next item in this ordering.
        fn pop(&mut self) -> Option<T>;
        /// Items stored.
        fn len(&self) -> usize;
        /// `push` and `pop` run no user code and cannot unwind (a failed
        /// allocation aborts), so a put or get may skip the unwinding
        /// bookkeeping of a [`Section`](super::Section) (I3) and take the
        /// plain path (I7). False unless a store says so.
        const PLAIN: bool = false;
    }
}

use sealed::Store;

/// The ordering of a [`BaseQueue`]: [`Fifo`](super::Fifo),
/// [`Lifo`](super::Lifo) or [`Priority`](super::Priority).
///
/// Sealed: the three orderings are all there is, and each is only a type-level
/// marker (it cannot be constructed). Use the aliases [`Queue`](super::Queue),
/// [`LifoQueue`](super::LifoQueue) and [`PriorityQueue`](super::PriorityQueue).
pub trait Order<T>: sealed::Sealed + 'static {
    /// The store holding the items in this order.
    #[doc(hidden)]
    type Store: sealed::Store<T>;
    /// The queue's name in `Debug` output.
    #[doc(hidden)]
    const NAME: &'static str;
}

struct State<S> {
    store: S,
    /// Places held by sinks between `poll_ready` and `start_send`.
    reserved: usize,
    shutdown: bool,
}

impl<S> State<S> {
    fn len<T>(&self) -> usize
    where
        S: Store<T>,
    {
        self.store.len()
    }
}

struct Inner<S> {
    state: Mutex<State<S>>,
    /// Getters waiting for an item (I1, I4).
    getters: RawSemaphore,
    /// Putters waiting for a place.
    putters: RawSemaphore,
    /// `join` waits here.
    all_done: RawSemaphore,
    /// Items ever stored, times [`ONE`] (I6): written only under the state
    /// mutex (a load and a store, no read-modify-write), read by anybody.
    puts: AtomicUsize,
    /// Tasks ever marked done, times [`ONE`], with the [`JOINING`] bit (I6).
    done: AtomicUsize,
    maxsize: usize,
    /// `maxsize`, or `usize::MAX` when unbounded.
    cap: usize,
}

/// One task in [`Inner::puts`] and [`Inner::done`]: the counts sit above the
/// [`JOINING`] bit (both counters use the same unit, so they subtract
/// directly; they wrap, and only their difference is read).
const ONE: usize = 2;
/// In [`Inner::done`]: a joiner waits for `unfinished_tasks` to reach 0 (I6).
const JOINING: usize = 1;

/// Unfinished tasks from a `puts` and a `done` word (I6).
fn unfinished(puts: usize, done: usize) -> usize {
    puts.wrapping_sub(done & !JOINING) / ONE
}

/// The counts Python reports: stored items and `unfinished_tasks` (I6).
#[derive(Clone, Copy)]
struct Marks {
    len: usize,
    unfinished: usize,
}

/// The state mutex, locked. Dropping it — at the end of the section or while
/// unwinding from user code inside it — unlocks, then wakes whoever the
/// section's change made runnable (I2). A section that stored or took one
/// item ends by [`end_put`](Self::end_put) / [`end_get`](Self::end_get)
/// instead (I7), so the general end runs for the rest: a push or pop that
/// unwound, `shutdown_immediate`'s drain, a sink's reserved place, and the
/// sections that changed nothing (a full put, an empty get, a shutdown).
struct Section<'a, T, S: Store<T>> {
    inner: &'a Inner<S>,
    state: Option<MutexGuard<'a, State<S>>>,
    before: Counts,
    _item: PhantomData<fn(T)>,
}

/// The raw counts a section's end compares (I2): plain copies, so that
/// starting and ending a section costs no arithmetic beyond the checks.
#[derive(Clone, Copy)]
struct Counts {
    len: usize,
    /// Places in use: stored items plus places held by sinks. Never above
    /// `cap` (capacity), so places freed = `used` before − after.
    used: usize,
}

impl Counts {
    fn of<T, S: Store<T>>(state: &State<S>) -> Self {
        let len = state.len();
        Self {
            len,
            used: len + state.reserved,
        }
    }
}

impl<S> Inner<S> {
    fn marks<T>(&self, state: &State<S>) -> Marks
    where
        S: Store<T>,
    {
        Marks {
            len: state.len(),
            unfinished: self.unfinished(),
        }
    }

    /// `unfinished_tasks` now (I6): `done` first, so that the `puts` read
    /// after it is at least as large.
    fn unfinished(&self) -> usize {
        let done = self.done.load(Ordering::Acquire);
        unfinished(self.puts.load(Ordering::Acquire), done)
    }

    /// Marks up to `n` tasks done, never more than are unfinished (I6);
    /// returns how many it marked and whether the joiners are owed a
    /// wake-up (it marked the last unfinished task while one waited), which
    /// the caller gives after releasing any lock it holds (I2).
    fn finish(&self, n: usize) -> (usize, bool) {
        let mut done = self.done.load(Ordering::Acquire);
        loop {
            let left = unfinished(self.puts.load(Ordering::Acquire), done);
            let marked = n.min(left);
            if marked == 0 {
                return (0, false);
            }
            let wake = marked == left && done & JOINING != 0;
            let mut next = done.wrapping_add(marked * ONE);
            if wake {
                // Every joiner that set the bit is registered: the wake-up
                // below reaches it, and a later joiner sets the bit again.
                next &= !JOINING;
            }
            match self
                .done
                .compare_exchange_weak(done, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return (marked, wake),
                Err(actual) => done = actual,
            }
        }
    }

    /// Wakes every joiner (after [`finish`](Self::finish) said so).
    fn wake_joiners(&self) {
        self.all_done.notify(usize::MAX);
    }

    /// Ends a locked section whose only change was one item stored (I7):
    /// counts it put under the mutex (I6), unlocks, wakes one getter if one
    /// sleeps (I2, exact by I1).
    #[inline]
    fn stored_one<T>(&self, state: MutexGuard<'_, State<S>>)
    where
        S: Store<T>,
    {
        let puts = self.puts.load(Ordering::Relaxed);
        self.puts.store(puts.wrapping_add(ONE), Ordering::Release);
        drop(state);
        if planted("queue-stored-one-no-wake") {
            return; // the classic lost wake-up: stored, nobody told
        }
        if self.getters.has_sleepers() {
            self.getters.notify(1);
        }
    }

    /// Ends a locked section whose only change was one item taken out and
    /// handed to a getter (I7): unlocks, wakes one putter if one sleeps
    /// (I2, exact by I1).
    #[inline]
    fn took_one(&self, state: MutexGuard<'_, State<S>>) {
        drop(state);
        if self.putters.has_sleepers() {
            self.putters.notify(1);
        }
    }

    fn lock<T>(&self) -> Section<'_, T, S>
    where
        S: Store<T>,
    {
        let state = self.state.lock();
        let before = Counts::of(&state);
        Section {
            inner: self,
            state: Some(state),
            before,
            _item: PhantomData,
        }
    }
}

impl<T, S: Store<T>> Section<'_, T, S> {
    fn state(&mut self) -> &mut State<S> {
        self.state.as_mut().expect("section is locked")
    }

    /// Ends a section whose only change was one item stored by a `push`
    /// that returned (I7), skipping the general end.
    #[inline]
    fn end_put(mut self) {
        let state = self.state.take().expect("section is locked");
        let inner = self.inner;
        // Nothing is left to drop (the guard is out): no general end.
        std::mem::forget(self);
        inner.stored_one::<T>(state);
    }

    /// Ends a section whose only change was one item taken by a `pop` that
    /// returned it (I7), skipping the general end.
    #[inline]
    fn end_get(mut self) {
        let state = self.state.take().expect("section is locked");
        let inner = self.inner;
        // Nothing is left to drop (the guard is out): no general end.
        std::mem::forget(self);
        inner.took_one(state);
    }

    /// No free place: the stored items and the places held by sinks fill
    /// the capacity (`cap` is `usize::MAX` when unbounded).
    fn is_full(&self) -> bool {
        let state = self.state.as_ref().expect("section is locked");
        state.len() + state.reserved >= self.inner.cap
    }
}

impl<T, S: Store<T>> Drop for Section<'_, T, S> {
    #[inline]
    fn drop(&mut self) {
        let Some(state) = self.state.take() else {
            return;
        };
        let after = Counts::of(&state);
        let before = self.before;
        let inner = self.inner;
        // I3: the items still stored against the items stored before (a
        // section that handed an item to a getter ends by `end_get`, I7).
        // Settled under the mutex, the only writer of `puts` (I6).
        let kept = after.len;
        let mut wake_joiners = false;
        if kept > before.len {
            let puts = inner.puts.load(Ordering::Relaxed);
            let added = (kept - before.len) * ONE;
            inner
                .puts
                .store(puts.wrapping_add(added), Ordering::Release);
        } else if kept < before.len {
            // Lost in a panicking pop, or dropped by `shutdown_immediate`:
            // done, as far as any task is unfinished.
            wake_joiners = inner.finish(before.len - kept).1;
        }
        drop(state);
        if wake_joiners {
            inner.wake_joiners();
        }
        if after.len > before.len && inner.getters.has_sleepers() {
            inner.getters.notify(after.len - before.len);
        }
        if after.used < before.used && inner.putters.has_sleepers() {
            inner.putters.notify(before.used - after.used);
        }
    }
}

/// One try of an operation: done, or a waiter registered under the lock (I1)
/// to wait on before trying again, with what the caller keeps meanwhile (a
/// put's item).
pub(super) enum Step<'a, R, K> {
    Done(R),
    Wait(K, Acquire<'a>),
}

/// The put of every form, written once (the others run this future): one
/// [`put_step`](BaseQueue::put_step) per poll, and while the queue is full
/// the item waits here beside the putter's place in line — so a put dropped
/// while it waits inserted nothing, and one that ran out of time hands its
/// item back ([`into_item`](Self::into_item)). A hand-written future: the
/// uncontended put is one step with no `async` layers around it.
struct Put<'a, T, O: Order<T>> {
    queue: &'a BaseQueue<T, O>,
    /// `None` only once the put completed.
    item: Option<T>,
    /// The place in line while the queue is full (registered under the
    /// lock: I1).
    waiter: Option<Acquire<'a>>,
}

// The item is never pinned (it is moved in and out by value), so the future
// may move freely whatever `T` is.
impl<T, O: Order<T>> Unpin for Put<'_, T, O> {}

impl<'a, T, O: Order<T>> Put<'a, T, O> {
    fn new(queue: &'a BaseQueue<T, O>, item: T) -> Self {
        Self {
            queue,
            item: Some(item),
            waiter: None,
        }
    }

    /// The item of a put that did not complete.
    fn into_item(mut self) -> T {
        self.item
            .take()
            .expect("a put that did not complete keeps its item")
    }
}

impl<T, O: Order<T>> Future for Put<'_, T, O> {
    type Output = Result<(), PutError<T>>;

    /// The plain path inline (I7); the loop that waits in a function of its
    /// own, so the common put does not pay for the waiting one's frame.
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.waiter.is_none() {
            let item = this.item.take().expect("`Put` polled after it completed");
            if O::Store::PLAIN {
                match this.queue.put_plain(item) {
                    Ok(done) => return Poll::Ready(done),
                    Err(item) => this.item = Some(item), // full: the step waits (I7)
                }
            } else {
                // The first step inline (the priority queue's Section).
                match this.queue.put_step(item, true, false) {
                    Step::Done(done) => return Poll::Ready(done),
                    Step::Wait(item, waiter) => {
                        this.item = Some(item);
                        this.waiter = Some(waiter);
                    }
                }
            }
        }
        this.poll_steps(cx)
    }
}

impl<T, O: Order<T>> Put<'_, T, O> {
    /// One [`put_step`](BaseQueue::put_step) after another, waiting in line
    /// between them.
    #[inline(never)]
    fn poll_steps(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), PutError<T>>> {
        let queue = self.queue;
        loop {
            let again = match &mut self.waiter {
                Some(waiter) => {
                    // `Err(Closed)` means shut down: the step sees it (I5).
                    let _ = ready!(Pin::new(waiter).poll(cx));
                    self.waiter = None;
                    true // woken: if the place is gone, wait first in line (I4)
                }
                None => false,
            };
            let item = self.item.take().expect("`Put` polled after it completed");
            match queue.put_step(item, true, again) {
                Step::Done(done) => return Poll::Ready(done),
                Step::Wait(item, waiter) => {
                    self.item = Some(item);
                    self.waiter = Some(waiter);
                }
            }
        }
    }
}

/// The get of every form, written once (the others run this future): one
/// [`get_step`](BaseQueue::get_step) per poll, waiting in line while the
/// queue is empty. Dropped while it waits, it took nothing.
struct Get<'a, T, O: Order<T>> {
    queue: &'a BaseQueue<T, O>,
    waiter: Option<Acquire<'a>>,
}

impl<'a, T, O: Order<T>> Get<'a, T, O> {
    fn new(queue: &'a BaseQueue<T, O>) -> Self {
        Self {
            queue,
            waiter: None,
        }
    }
}

impl<T, O: Order<T>> Future for Get<'_, T, O> {
    type Output = Result<T, GetError>;

    /// The plain path inline (I7); the loop that waits in a function of its
    /// own, so the common get does not pay for the waiting one's frame.
    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.waiter.is_none() {
            if O::Store::PLAIN {
                if let Some(item) = this.queue.get_plain() {
                    return Poll::Ready(Ok(item));
                }
            } else {
                // The first step inline (the priority queue's Section).
                match this.queue.get_step(true, false) {
                    Step::Done(done) => return Poll::Ready(done),
                    Step::Wait((), waiter) => this.waiter = Some(waiter),
                }
            }
        }
        this.poll_steps(cx)
    }
}

impl<T, O: Order<T>> Get<'_, T, O> {
    /// One [`get_step`](BaseQueue::get_step) after another, waiting in line
    /// between them.
    #[inline(never)]
    fn poll_steps(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, GetError>> {
        let queue = self.queue;
        loop {
            let again = match &mut self.waiter {
                Some(waiter) => {
                    // `Err(Closed)` means shut down: the step sees it (I5).
                    let _ = ready!(Pin::new(waiter).poll(cx));
                    self.waiter = None;
                    true // woken: if the item is gone, wait first in line (I4)
                }
                None => false,
            };
            match queue.get_step(true, again) {
                Step::Done(done) => return Poll::Ready(done),
                Step::Wait((), waiter) => self.waiter = Some(waiter),
            }
        }
    }
}

/// The one generic queue under [`Queue`](super::Queue) (FIFO),
/// [`LifoQueue`](super::LifoQueue) (LIFO) and
/// [`PriorityQueue`](super::PriorityQueue) (smallest first, stable); `O`
/// picks the ordering. Use those aliases: they are this type.
///
/// The API is Python's `queue.Queue`, with every blocking call in three
/// forms (`.await`, `_nowait`, `_timeout`) plus `blocking_` forms for plain
/// OS threads. The handle is a cheap [`Clone`] (an `Arc` inside): clones
/// share one queue, the way Python threads share one `Queue` object.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::Queue;
///
/// let q = Queue::new(10);
/// let producer = {
///     let q = q.clone();
///     tokio::spawn(async move {
///         for i in 0..3 {
///             q.put(i).await.unwrap();
///         }
///     })
/// };
/// for expected in 0..3 {
///     assert_eq!(q.get().await.unwrap(), expected);
///     q.task_done().unwrap();
/// }
/// producer.await.unwrap();
/// q.join().await; // every item put has been marked done
/// # }
/// ```
pub struct BaseQueue<T, O: Order<T>> {
    inner: Arc<Inner<O::Store>>,
    _order: PhantomData<fn() -> (T, O)>,
}

impl<T, O: Order<T>> Clone for BaseQueue<T, O> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            _order: PhantomData,
        }
    }
}

impl<T, O: Order<T>> Default for BaseQueue<T, O> {
    /// An unbounded queue, as Python's `Queue()`.
    fn default() -> Self {
        Self::new(0)
    }
}

impl<T, O: Order<T>> fmt::Debug for BaseQueue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (marks, shutdown) = {
            let state = self.inner.state.lock();
            (self.inner.marks::<T>(&state), state.shutdown)
        };
        f.debug_struct(O::NAME)
            .field("maxsize", &self.inner.maxsize)
            .field("qsize", &marks.len)
            .field("unfinished_tasks", &marks.unfinished)
            .field("is_shutdown", &shutdown)
            .finish()
    }
}

impl<T, O: Order<T>> BaseQueue<T, O> {
    /// A queue holding at most `maxsize` items; `0` means unbounded, as in
    /// Python's `Queue(maxsize=0)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::{LifoQueue, PriorityQueue, Queue};
    ///
    /// let fifo: Queue<&str> = Queue::new(0); // unbounded
    /// let lifo: LifoQueue<&str> = LifoQueue::new(8);
    /// let prio: PriorityQueue<(u8, &str)> = PriorityQueue::new(8);
    /// assert_eq!(fifo.maxsize(), 0);
    /// assert_eq!(lifo.maxsize(), 8);
    /// assert!(prio.is_empty());
    /// ```
    #[track_caller]
    pub fn new(maxsize: usize) -> Self {
        let meta =
            crate::introspect::meta::Meta::new(crate::introspect::PrimitiveKind::QueueGet, None);
        let putters = meta.sibling(crate::introspect::PrimitiveKind::QueuePut);
        let all_done = meta.sibling(crate::introspect::PrimitiveKind::QueueJoin);
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    store: O::Store::default(),
                    reserved: 0,
                    shutdown: false,
                }),
                getters: RawSemaphore::with_meta(0, Mode::PassOn, meta),
                putters: RawSemaphore::with_meta(0, Mode::PassOn, putters),
                all_done: RawSemaphore::with_meta(0, Mode::Discard, all_done),
                puts: AtomicUsize::new(0),
                done: AtomicUsize::new(0),
                maxsize,
                cap: if maxsize == 0 { usize::MAX } else { maxsize },
            }),
            _order: PhantomData,
        }
    }

    /// The capacity given to [`new`](Self::new); `0` means unbounded.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadlet::Queue::<u8>::new(3).maxsize(), 3);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.inner.maxsize
    }

    /// Locks the state for one section (I2).
    fn lock(&self) -> Section<'_, T, O::Store> {
        self.inner.lock::<T>()
    }

    /// The number of items in the queue right now (Python's `qsize()`).
    ///
    /// Like Python's, the answer may be stale by the time it is used: another
    /// task can put or get in between.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait('a').unwrap();
    /// q.put_nowait('b').unwrap();
    /// assert_eq!(q.len(), 2);
    /// ```
    #[doc(alias = "qsize")]
    pub fn len(&self) -> usize {
        Store::<T>::len(&self.inner.state.lock().store)
    }

    /// Whether the queue holds no item right now (Python's `empty()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// assert!(q.is_empty());
    /// q.put_nowait(1).unwrap();
    /// assert!(!q.is_empty());
    /// ```
    #[doc(alias = "empty")]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a bounded queue holds `maxsize` items right now (Python's
    /// `full()`); an unbounded queue is never full.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(1);
    /// assert!(!q.is_full());
    /// q.put_nowait(1).unwrap();
    /// assert!(q.is_full());
    /// ```
    #[doc(alias = "full")]
    pub fn is_full(&self) -> bool {
        self.inner.maxsize > 0 && self.len() >= self.inner.maxsize
    }

    /// Items put and not yet marked done with [`task_done`](Self::task_done)
    /// (Python's `unfinished_tasks`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.get_nowait().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1); // taken, not yet done
    /// q.task_done().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.inner.unfinished()
    }

    /// Test introspection: (stored items, waiter slots of getters, of
    /// putters, of joiners, places held by sinks). At quiescence everything
    /// but the stored items is 0.
    #[cfg(all(test, not(threadlet_loom)))]
    pub(crate) fn debug_state(&self) -> (usize, usize, usize, usize, usize) {
        let (stored, reserved) = {
            let state = self.inner.state.lock();
            (Store::<T>::len(&state.store), state.reserved)
        };
        (
            stored,
            self.inner.getters.snapshot().slots,
            self.inner.putters.snapshot().slots,
            self.inner.all_done.snapshot().slots,
            reserved,
        )
    }

    /// A snapshot of the queue: its items, capacity, unfinished tasks, who
    /// waits in a get, a put and a join, and whether it is shut down (trio's
    /// `statistics()`). The numbers are read together under the queue's
    /// lock, except `unfinished_tasks`: `task_done` takes no lock, so a
    /// call made meanwhile may or may not be counted.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(5);
    /// q.put_nowait(1).unwrap();
    /// q.put_nowait(2).unwrap();
    /// q.get_nowait().unwrap();
    /// let stats = q.statistics();
    /// assert_eq!((stats.len, stats.maxsize, stats.unfinished_tasks), (1, 5, 2));
    /// assert_eq!((stats.getters, stats.putters, stats.joiners), (0, 0, 0));
    /// assert!(!stats.is_shutdown);
    /// ```
    #[must_use]
    pub fn statistics(&self) -> QueueStatistics {
        let inner = &*self.inner;
        let state = inner.state.lock();
        let marks = inner.marks::<T>(&state);
        // Waiters register under the state lock (I1): read under it too, the
        // counts agree with the items and the flag.
        QueueStatistics {
            len: marks.len,
            maxsize: inner.maxsize,
            unfinished_tasks: marks.unfinished,
            getters: inner.getters.waiters(),
            putters: inner.putters.waiters(),
            joiners: inner.all_done.waiters(),
            is_shutdown: state.shutdown,
        }
    }

    /// Whether [`shutdown`](Self::shutdown) or
    /// [`shutdown_immediate`](Self::shutdown_immediate) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::<u8>::new(0);
    /// assert!(!q.is_shutdown());
    /// q.shutdown();
    /// assert!(q.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.inner.state.lock().shutdown
    }

    // ----- the plain path (I7) -----

    /// A put by a caller not in line, on a [`Store::PLAIN`] store: stored
    /// (`Ok`), refused after a shutdown (`Ok(Err)`), or, when full, the item
    /// back (`Err`) for [`put_step`](Self::put_step) to wait with.
    #[inline]
    fn put_plain(&self, item: T) -> Result<Result<(), PutError<T>>, T> {
        let inner = &*self.inner;
        let mut state = inner.state.lock();
        if state.shutdown {
            return Ok(Err(PutError::ShutDown(item)));
        }
        if state.store.len() + state.reserved >= inner.cap {
            return Err(item);
        }
        state.store.push(item);
        inner.stored_one::<T>(state);
        Ok(Ok(()))
    }

    /// A get by a caller not in line, on a [`Store::PLAIN`] store: the next
    /// item, or `None` (empty) for [`get_step`](Self::get_step) to fail or
    /// wait.
    #[inline]
    fn get_plain(&self) -> Option<T> {
        let inner = &*self.inner;
        let mut state = inner.state.lock();
        let item = state.store.pop()?;
        inner.took_one(state);
        Some(item)
    }

    // ----- put -----

    /// One try of a put: stores the item, or fails, or (with `wait`)
    /// registers a putter to wait for a place — at the head of the line if
    /// `again` (it was woken and the place was taken: I4).
    fn put_step(&self, item: T, wait: bool, again: bool) -> Step<'_, Result<(), PutError<T>>, T> {
        let mut section = self.lock();
        if section.state().shutdown {
            return Step::Done(Err(PutError::ShutDown(item)));
        }
        if section.is_full() {
            if !wait {
                return Step::Done(Err(PutError::Full(item)));
            }
            let putters = &self.inner.putters;
            let waiter = if again {
                putters.register_first()
            } else {
                putters.register()
            };
            return Step::Wait(item, waiter);
        }
        // A panicking `Ord::cmp` leaves the item stored (and counted: I3),
        // and the section's end still wakes a getter for it (I2).
        section.state().store.push(item);
        section.end_put();
        Step::Done(Ok(()))
    }

    /// The one future of every put form that may wait: [`Put`] bounded by
    /// `wait` (a tokio deadline for the async forms, a std one driven by
    /// [`block_on_timed`] for the blocking forms). Out of time, it hands the
    /// item back in [`PutError::Full`]: a waiting [`Put`] keeps its item.
    async fn put_within(&self, item: T, wait: Wait) -> Result<(), PutError<T>> {
        if wait.is_never() {
            return self.put_nowait(item);
        }
        let mut put = Put::new(self, item);
        match wait.run(&mut put).await {
            Some(done) => done,
            None => Err(PutError::Full(put.into_item())),
        }
    }

    /// Stores `item` in the place a sink holds (`QueueSink::poll_ready`),
    /// giving the place up either way.
    pub(super) fn put_reserved(&self, item: T) -> Result<(), PutError<T>> {
        let mut section = self.lock();
        let state = section.state();
        state.reserved -= 1;
        if state.shutdown {
            return Err(PutError::ShutDown(item));
        }
        state.store.push(item);
        Ok(())
    }

    /// Holds a free place for a sink (`Ok(true)`), reports a shutdown
    /// (`Ok(false)`), or registers a putter to wait for one.
    pub(super) fn reserve_step(&self, again: bool) -> Result<bool, Acquire<'_>> {
        let mut section = self.lock();
        if section.state().shutdown {
            return Ok(false);
        }
        if section.is_full() {
            let putters = &self.inner.putters;
            return Err(if again {
                putters.register_first()
            } else {
                putters.register()
            });
        }
        section.state().reserved += 1;
        Ok(true)
    }

    /// Gives back a place held by a sink (the end of the section wakes a
    /// putter for it).
    pub(super) fn unreserve(&self) {
        self.lock().state().reserved -= 1;
    }

    /// The getters' and putters' wait lists, for the stream and the sink.
    pub(super) fn waiters(&self) -> (&RawSemaphore, &RawSemaphore) {
        (&self.inner.getters, &self.inner.putters)
    }

    /// Puts an item, waiting while the queue is full (Python's `put()`).
    ///
    /// Blocked putters are woken in FIFO order as places free up. On an
    /// unbounded queue this never waits.
    ///
    /// # Errors
    ///
    /// [`PutError::ShutDown`] with the item if the queue is shut down, or is
    /// shut down while this waits.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a `put` dropped before it completed inserted nothing (the
    /// item is dropped with the future), and a free place it had been handed
    /// passes to the next waiting putter.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let q = threadlet::Queue::new(1);
    /// q.put("baozi").await.unwrap();
    /// assert_eq!(q.len(), 1);
    /// # }
    /// ```
    pub fn put(&self, item: T) -> impl Future<Output = Result<(), PutError<T>>> + '_ {
        Put::new(self, item)
    }

    /// Puts an item if there is room right now (Python's `put_nowait()`).
    ///
    /// # Errors
    ///
    /// [`PutError::ShutDown`] if the queue is shut down (checked first, as in
    /// Python), else [`PutError::Full`] if it is full; both hand the item back.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(1);
    /// q.put_nowait(1).unwrap();
    /// assert!(q.put_nowait(2).unwrap_err().is_full());
    /// ```
    #[doc(alias = "try_put")]
    pub fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
        let item = if O::Store::PLAIN {
            match self.put_plain(item) {
                Ok(done) => return done,
                Err(item) => item,
            }
        } else {
            item
        };
        match self.put_step(item, false, false) {
            Step::Done(done) => done,
            Step::Wait(..) => unreachable!("put_nowait never waits"),
        }
    }

    /// Puts an item, waiting at most `timeout` for room (Python's
    /// `put(timeout=...)`). `Duration::MAX` waits forever.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] if no place freed up in time, [`PutError::ShutDown`]
    /// if the queue is or gets shut down; both hand the item back.
    ///
    /// # Panics
    ///
    /// If polled outside a tokio runtime (e.g. under
    /// `futures::executor::block_on`) with a timeout other than zero and
    /// `Duration::MAX`, since the wait needs a tokio timer; the message names
    /// the caller's location. The check is made on the first poll, before
    /// the queue is tried, so it fails the same way every time, whatever the
    /// queue holds. A runtime without its time driver panics there too
    /// (tokio's own message). A zero
    /// timeout is [`put_nowait`](Self::put_nowait) and needs no runtime; `Duration::MAX` waits
    /// without a timer.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`put`](Self::put).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let q = threadlet::Queue::new(1);
    /// q.put(1).await.unwrap();
    /// let err = q.put_timeout(2, Duration::from_millis(10)).await.unwrap_err();
    /// assert!(err.is_full());
    /// # }
    /// ```
    #[track_caller]
    pub fn put_timeout(
        &self,
        item: T,
        timeout: Duration,
    ) -> impl Future<Output = Result<(), PutError<T>>> + '_ {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(timeout, "Queue::put_timeout", caller);
            self.put_within(item, wait).await
        }
    }

    /// Puts an item from a plain OS thread, blocking it while the queue is
    /// full: a queue links sync threads and async tasks. It runs the same
    /// future as [`put`](Self::put), on this thread.
    ///
    /// # Errors
    ///
    /// [`PutError::ShutDown`] with the item if the queue is or gets shut down.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`put(item).await`](Self::put) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(1);
    /// let producer = {
    ///     let q = q.clone();
    ///     std::thread::spawn(move || {
    ///         q.blocking_put(1).unwrap();
    ///         q.blocking_put(2).unwrap(); // waits until 1 is taken
    ///     })
    /// };
    /// assert_eq!(q.blocking_get(), Ok(1));
    /// assert_eq!(q.blocking_get(), Ok(2));
    /// producer.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_put(&self, item: T) -> Result<(), PutError<T>> {
        let op = Op {
            name: "Queue::blocking_put",
            instead: "`.put(item).await`",
        };
        block_on_forever(op, self.put(item))
    }

    /// [`blocking_put`](Self::blocking_put) waiting at most `timeout`; it
    /// needs no tokio runtime (a zero timeout is
    /// [`put_nowait`](Self::put_nowait), `Duration::MAX` waits forever).
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] if no place freed up in time, [`PutError::ShutDown`]
    /// if the queue is or gets shut down; both hand the item back.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`put_timeout(item, timeout).await`](Self::put_timeout) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let q = threadlet::Queue::new(1);
    /// q.blocking_put_timeout(1, Duration::from_millis(10)).unwrap();
    /// let err = q.blocking_put_timeout(2, Duration::from_millis(10)).unwrap_err();
    /// assert!(err.is_full());
    /// ```
    #[track_caller]
    pub fn blocking_put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        let op = Op {
            name: "Queue::blocking_put_timeout",
            instead: "`.put_timeout(item, timeout).await`",
        };
        block_on_timed(op, deadline(timeout), |wait| self.put_within(item, wait))
    }

    // ----- get -----

    /// One try of a get: takes the next item, or fails, or (with `wait`)
    /// registers a getter to wait for one — at the head of the line if
    /// `again` (I4).
    pub(super) fn get_step(&self, wait: bool, again: bool) -> Step<'_, Result<T, GetError>, ()> {
        let mut section = self.lock();
        // A panicking `Ord::cmp` inside `pop` loses the popped item; it then
        // counts as done and its place is free (I3), and the section's end
        // wakes a putter and, at 0, the joiners (I2).
        if let Some(item) = section.state().store.pop() {
            section.end_get();
            return Step::Done(Ok(item));
        }
        let state = section.state();
        if state.shutdown {
            return Step::Done(Err(GetError::ShutDown));
        }
        if !wait {
            return Step::Done(Err(GetError::Empty));
        }
        if planted("queue-register-late") {
            drop(section); // the classic lost wake-up: unlock, then register
        }
        let getters = &self.inner.getters;
        Step::Wait(
            (),
            if again {
                getters.register_first()
            } else {
                getters.register()
            },
        )
    }

    /// The one future of every get form that may wait: [`Get`] bounded by
    /// `wait`; out of time it fails with [`GetError::Empty`].
    pub(super) async fn get_within(&self, wait: Wait) -> Result<T, GetError> {
        if wait.is_never() {
            return self.get_nowait();
        }
        wait.run(Get::new(self))
            .await
            .unwrap_or(Err(GetError::Empty))
    }

    /// Removes and returns the next item, waiting while the queue is empty
    /// (Python's `get()`).
    ///
    /// Blocked getters are woken in FIFO order as items arrive. After
    /// [`shutdown`](Self::shutdown) it still returns the items left, then
    /// fails.
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`] once the queue is shut down and empty (at once
    /// after [`shutdown_immediate`](Self::shutdown_immediate)).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a `get` dropped before it completed took nothing, and a
    /// wake-up it had been given for an item passes to the next getter.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let q = threadlet::Queue::new(0);
    /// let q2 = q.clone();
    /// tokio::spawn(async move { q2.put("baozi").await.unwrap() });
    /// assert_eq!(q.get().await, Ok("baozi"));
    /// # }
    /// ```
    pub fn get(&self) -> impl Future<Output = Result<T, GetError>> + '_ {
        Get::new(self)
    }

    /// Removes and returns the next item if there is one right now (Python's
    /// `get_nowait()`).
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if there is no item, or [`GetError::ShutDown`] if
    /// the queue is shut down and empty (Python checks shutdown first).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::GetError;
    ///
    /// let q = threadlet::Queue::new(0);
    /// assert_eq!(q.get_nowait(), Err(GetError::Empty));
    /// q.put_nowait(7).unwrap();
    /// assert_eq!(q.get_nowait(), Ok(7));
    /// ```
    #[doc(alias = "try_get")]
    pub fn get_nowait(&self) -> Result<T, GetError> {
        if O::Store::PLAIN
            && let Some(item) = self.get_plain()
        {
            return Ok(item);
        }
        match self.get_step(false, false) {
            Step::Done(done) => done,
            Step::Wait(..) => unreachable!("get_nowait never waits"),
        }
    }

    /// Removes and returns the next item, waiting at most `timeout` for one
    /// (Python's `get(timeout=...)`). `Duration::MAX` waits forever.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if no item arrived in time, [`GetError::ShutDown`]
    /// once the queue is shut down and empty.
    ///
    /// # Panics
    ///
    /// If polled outside a tokio runtime (e.g. under
    /// `futures::executor::block_on`) with a timeout other than zero and
    /// `Duration::MAX`, since the wait needs a tokio timer; the message names
    /// the caller's location. The check is made on the first poll, before
    /// the queue is tried, so it fails the same way every time, whatever the
    /// queue holds. A runtime without its time driver panics there too
    /// (tokio's own message). A zero
    /// timeout is [`get_nowait`](Self::get_nowait) and needs no runtime; `Duration::MAX` waits
    /// without a timer.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`get`](Self::get).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use threadlet::error::GetError;
    ///
    /// let q = threadlet::Queue::<u8>::new(0);
    /// assert_eq!(q.get_timeout(Duration::from_millis(10)).await, Err(GetError::Empty));
    /// # }
    /// ```
    #[track_caller]
    pub fn get_timeout(&self, timeout: Duration) -> impl Future<Output = Result<T, GetError>> + '_ {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(timeout, "Queue::get_timeout", caller);
            self.get_within(wait).await
        }
    }

    /// Removes and returns the next item from a plain OS thread, blocking it
    /// while the queue is empty. It runs the same future as
    /// [`get`](Self::get), on this thread.
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`] once the queue is shut down and empty.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`get().await`](Self::get) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let q = threadlet::Queue::new(0);
    /// let consumer = {
    ///     let q = q.clone();
    ///     std::thread::spawn(move || q.blocking_get())
    /// };
    /// q.put(42).await.unwrap();
    /// assert_eq!(consumer.join().unwrap(), Ok(42));
    /// # }
    /// ```
    #[track_caller]
    pub fn blocking_get(&self) -> Result<T, GetError> {
        let op = Op {
            name: "Queue::blocking_get",
            instead: "`.get().await`",
        };
        block_on_forever(op, self.get())
    }

    /// [`blocking_get`](Self::blocking_get) without the refusal on a runtime
    /// thread, for the crate's own wait on a reply that another OS thread
    /// always sends (the process driver's answer queue): that wait ends
    /// without the calling thread's runtime making progress.
    #[cfg(all(feature = "process", target_os = "linux"))]
    pub(crate) fn get_on_thread(&self) -> Result<T, GetError> {
        match crate::wait::blocking::block_on_deadline(self.get(), None) {
            Some(got) => got,
            None => unreachable!("a wait with no deadline only ends when its future does"),
        }
    }

    /// [`blocking_get`](Self::blocking_get) waiting at most `timeout`; it
    /// needs no tokio runtime (a zero timeout is
    /// [`get_nowait`](Self::get_nowait), `Duration::MAX` waits forever).
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if no item arrived in time, [`GetError::ShutDown`]
    /// once the queue is shut down and empty.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`get_timeout(timeout).await`](Self::get_timeout) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::error::GetError;
    ///
    /// let q = threadlet::Queue::<u8>::new(0);
    /// assert_eq!(q.blocking_get_timeout(Duration::from_millis(10)), Err(GetError::Empty));
    /// ```
    #[track_caller]
    pub fn blocking_get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        let op = Op {
            name: "Queue::blocking_get_timeout",
            instead: "`.get_timeout(timeout).await`",
        };
        block_on_timed(op, deadline(timeout), |wait| self.get_within(wait))
    }

    // ----- task_done / join -----

    /// Marks one item taken with a get as done (Python's `task_done()`):
    /// when every item put has been marked done, [`join`](Self::join)
    /// returns.
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if called more times than items were put; the count
    /// is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait("job").unwrap();
    /// let job = q.get_nowait().unwrap();
    /// // ... work on `job` ...
    /// q.task_done().unwrap();
    /// assert!(q.task_done().is_err()); // one more than was put
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        // The one change made outside a `Section` (I2), and without the
        // lock: one swap of `done` (I6). No user code runs here, and the
        // only wake-up it can owe is the joiners'.
        match self.inner.finish(1) {
            (0, _) => Err(TaskDoneError),
            (_, wake) => {
                if wake {
                    self.inner.wake_joiners();
                }
                Ok(())
            }
        }
    }

    /// Nothing unfinished (`None`), or a joiner registered in `all_done`
    /// before it announced itself with `JOINING` (I6).
    fn join_step(&self) -> Option<Acquire<'_>> {
        let inner = &*self.inner;
        if inner.unfinished() == 0 {
            return None; // no registration on the fast path
        }
        // The planted bug checks before it registers: the last `task_done`
        // can then come in between, find nobody to wake, and the joiner
        // sleeps forever.
        let late = planted("queue-join-register-late");
        let waiter = (!late).then(|| inner.all_done.register());
        let done = inner.done.fetch_or(JOINING, Ordering::AcqRel);
        if unfinished(inner.puts.load(Ordering::Acquire), done) == 0 {
            return None; // dropping the waiter gives up its place
        }
        Some(waiter.unwrap_or_else(|| inner.all_done.register()))
    }

    /// The join of every form, written once: waits until nothing is
    /// unfinished.
    async fn join_loop(&self) {
        while let Some(waiter) = self.join_step() {
            // The joiners' list is never closed: `Ok` is the only outcome.
            let _ = waiter.await;
        }
    }

    /// The one future of every join form: [`join_loop`](Self::join_loop)
    /// bounded by `wait`; `false` if it ran out of time.
    async fn join_within(&self, wait: Wait) -> bool {
        if wait.is_never() {
            return self.join_nowait();
        }
        wait.run(self.join_loop()).await.is_some()
    }

    /// Waits until every item put has been marked done with
    /// [`task_done`](Self::task_done) (Python's `join()`). Returns at once if
    /// nothing is unfinished; never fails, even after shutdown.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it only gives up the wait.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let q = threadlet::Queue::new(0);
    /// let worker = {
    ///     let q = q.clone();
    ///     tokio::spawn(async move {
    ///         while let Ok(job) = q.get().await {
    ///             let _ = job * 2; // do the work
    ///             q.task_done().unwrap();
    ///         }
    ///     })
    /// };
    /// for job in 0..10 {
    ///     q.put(job).await.unwrap();
    /// }
    /// q.join().await;
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// q.shutdown();
    /// worker.await.unwrap();
    /// # }
    /// ```
    pub async fn join(&self) {
        self.join_within(Wait::Forever).await;
    }

    /// [`join`](Self::join) giving up after `timeout`: `true` if every item
    /// was marked done in time. (Python's `join()` has no timeout.)
    ///
    /// # Panics
    ///
    /// If polled outside a tokio runtime (e.g. under
    /// `futures::executor::block_on`) with a timeout other than zero and
    /// `Duration::MAX`, since the wait needs a tokio timer; the message names
    /// the caller's location. The check is made on the first poll, before
    /// the queue is tried, so it fails the same way every time, whatever the
    /// queue holds. A runtime without its time driver panics there too
    /// (tokio's own message). A zero
    /// timeout is [`join_nowait`](Self::join_nowait) and needs no runtime; `Duration::MAX` waits
    /// without a timer.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`join`](Self::join).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let q = threadlet::Queue::new(0);
    /// q.put(1).await.unwrap();
    /// assert!(!q.join_timeout(Duration::from_millis(10)).await);
    /// q.get().await.unwrap();
    /// q.task_done().unwrap();
    /// assert!(q.join_timeout(Duration::from_millis(10)).await);
    /// # }
    /// ```
    #[track_caller]
    pub fn join_timeout(&self, timeout: Duration) -> impl Future<Output = bool> + '_ {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(timeout, "Queue::join_timeout", caller);
            self.join_within(wait).await
        }
    }

    /// [`join`](Self::join) from a plain OS thread, blocking it.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`join().await`](Self::join) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// let worker = {
    ///     let q = q.clone();
    ///     std::thread::spawn(move || {
    ///         q.blocking_get().unwrap();
    ///         q.task_done().unwrap();
    ///     })
    /// };
    /// q.blocking_join();
    /// worker.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_join(&self) {
        let op = Op {
            name: "Queue::blocking_join",
            instead: "`.join().await`",
        };
        block_on_forever(op, self.join());
    }

    /// [`blocking_join`](Self::blocking_join) giving up after `timeout`:
    /// `true` if every item was marked done in time. It needs no tokio
    /// runtime (a zero timeout is [`join_nowait`](Self::join_nowait),
    /// `Duration::MAX` waits forever).
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use
    /// [`join_timeout(timeout).await`](Self::join_timeout) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait("job").unwrap();
    /// assert!(!q.blocking_join_timeout(Duration::from_millis(10))); // not done yet
    /// q.get_nowait().unwrap();
    /// q.task_done().unwrap();
    /// assert!(q.blocking_join_timeout(Duration::from_millis(10)));
    /// ```
    #[track_caller]
    pub fn blocking_join_timeout(&self, timeout: Duration) -> bool {
        let op = Op {
            name: "Queue::blocking_join_timeout",
            instead: "`.join_timeout(timeout).await`",
        };
        block_on_timed(op, deadline(timeout), |wait| self.join_within(wait))
    }

    /// The non-waiting form of [`join`](Self::join): whether `join` would
    /// return at once, i.e. every item put has been marked done
    /// (`unfinished_tasks() == 0`). It is what
    /// [`join_timeout`](Self::join_timeout) with a zero timeout returns, and
    /// needs no runtime. (Python's `join()` has no such form.)
    ///
    /// Like [`len`](Self::len), the answer may be stale by the time it is
    /// used: another task can put in between.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// assert!(q.join_nowait()); // nothing was ever put
    /// q.put_nowait(1).unwrap();
    /// assert!(!q.join_nowait());
    /// q.get_nowait().unwrap();
    /// assert!(!q.join_nowait()); // taken, not yet done
    /// q.task_done().unwrap();
    /// assert!(q.join_nowait());
    /// ```
    #[doc(alias = "try_join")]
    pub fn join_nowait(&self) -> bool {
        self.unfinished_tasks() == 0
    }

    // ----- shutdown -----

    /// Shuts the queue down (Python 3.13's `shutdown()`): puts fail with
    /// [`PutError::ShutDown`] from now on, blocked putters wake with it, and
    /// gets return the items left, then fail with [`GetError::ShutDown`]
    /// (blocked getters wake with it once nothing is left). Idempotent; may
    /// follow or precede [`shutdown_immediate`](Self::shutdown_immediate).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::GetError;
    ///
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.shutdown();
    /// assert!(q.put_nowait(2).unwrap_err().is_shut_down());
    /// assert_eq!(q.get_nowait(), Ok(1)); // drains what is left
    /// assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    /// ```
    pub fn shutdown(&self) {
        self.shut_down(false);
    }

    /// Shuts the queue down and drops every item left (Python 3.13's
    /// `shutdown(immediate=True)`): as [`shutdown`](Self::shutdown), but gets
    /// fail at once, and each dropped item counts as done — so
    /// [`join`](Self::join) returns as soon as the items already taken are
    /// marked done.
    ///
    /// The dropped items are dropped on the calling task, after the queue's
    /// lock is released.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use threadlet::error::GetError;
    ///
    /// let q = threadlet::Queue::new(0);
    /// for i in 0..3 {
    ///     q.put(i).await.unwrap();
    /// }
    /// let taken = q.get().await.unwrap();
    /// q.shutdown_immediate();
    /// assert_eq!(q.get_nowait(), Err(GetError::ShutDown)); // 1 and 2 were dropped
    /// assert_eq!(q.unfinished_tasks(), 1); // `taken` is not done yet
    /// q.task_done().unwrap();
    /// q.join().await;
    /// # }
    /// ```
    #[doc(alias = "shutdown(immediate=True)")]
    pub fn shutdown_immediate(&self) {
        self.shut_down(true);
    }

    fn shut_down(&self, immediate: bool) {
        let dropped = {
            let mut section = self.lock();
            let state = section.state();
            state.shutdown = true;
            // Python: each dropped item counts as done, never below zero;
            // the section's end counts them (I3), wakes putters for the
            // freed places and, at 0 unfinished, the joiners (I2).
            immediate.then(|| std::mem::take(&mut state.store))
        };
        // I5: after the flag, so every waiter re-checks and sees it.
        if planted("queue-no-close") {
            return; // forgets to wake the waiters
        }
        self.inner.getters.close();
        self.inner.putters.close();
        drop(dropped);
    }
}
