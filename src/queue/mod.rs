//! Python's `queue` module: [`Queue`], [`LifoQueue`] and [`PriorityQueue`],
//! shared by tasks and OS threads.
//!
//! All three are one generic queue, [`BaseQueue`], with three orderings —
//! the aliases are the names to use. Each offers Python's whole surface:
//!
//! | Python | threadlet |
//! |---|---|
//! | `Queue(maxsize=0)` | [`Queue::new(0)`](BaseQueue::new) (0 = unbounded), [`Default`] |
//! | `q.put(item)`, `put(item, timeout=t)`, `put_nowait(item)` | [`put`](BaseQueue::put)`.await`, [`put_timeout`](BaseQueue::put_timeout), [`put_nowait`](BaseQueue::put_nowait), [`blocking_put`](BaseQueue::blocking_put) |
//! | `q.get()`, `get(timeout=t)`, `get_nowait()` | [`get`](BaseQueue::get)`.await`, [`get_timeout`](BaseQueue::get_timeout), [`get_nowait`](BaseQueue::get_nowait), [`blocking_get`](BaseQueue::blocking_get) |
//! | `qsize()`, `empty()`, `full()`, `maxsize` | [`len`](BaseQueue::len), [`is_empty`](BaseQueue::is_empty), [`is_full`](BaseQueue::is_full), [`maxsize`](BaseQueue::maxsize) |
//! | `task_done()`, `join()`, `unfinished_tasks` | [`task_done`](BaseQueue::task_done), [`join`](BaseQueue::join)`.await` (+ [`join_timeout`](BaseQueue::join_timeout), [`join_nowait`](BaseQueue::join_nowait), [`blocking_join`](BaseQueue::blocking_join)), [`unfinished_tasks`](BaseQueue::unfinished_tasks) |
//! | `item = q.get()` ... `q.task_done()` in `try`/`finally` | [`get_task`](BaseQueue::get_task)`.await`: the item in a [`Task`] that calls `task_done` when dropped |
//! | `shutdown()`, `shutdown(immediate=True)`, `is_shutdown` | [`shutdown`](BaseQueue::shutdown), [`shutdown_immediate`](BaseQueue::shutdown_immediate), [`is_shutdown`](BaseQueue::is_shutdown) |
//! | `queue.Full`, `queue.Empty`, `queue.ShutDown` | [`PutError`](error::PutError) (`Full(item)` / `ShutDown(item)`), [`GetError`](error::GetError) (`Empty` / `ShutDown`) |
//! | `for item in iter(q.get, None)` | [`stream`](BaseQueue::stream) (a [`futures_core::Stream`]); producers also get a [`sink`](BaseQueue::sink) |
//!
//! Handles are cheap to [`Clone`] and `Send + Sync`: clone one into each
//! producer and consumer, as Python threads share one `Queue` object.
//!
//! # Every operation in every form
//!
//! Each waiting operation has the same five forms; the timed and blocking
//! ones run the very future of the `.await` form (a blocking form drives it
//! on the calling OS thread), so they cannot behave differently.
//!
//! | operation | `.await` | non-waiting | async, timed | blocking | blocking, timed |
//! |---|---|---|---|---|---|
//! | put | [`put`](BaseQueue::put) | [`put_nowait`](BaseQueue::put_nowait) | [`put_timeout`](BaseQueue::put_timeout) | [`blocking_put`](BaseQueue::blocking_put) | [`blocking_put_timeout`](BaseQueue::blocking_put_timeout) |
//! | get | [`get`](BaseQueue::get) | [`get_nowait`](BaseQueue::get_nowait) | [`get_timeout`](BaseQueue::get_timeout) | [`blocking_get`](BaseQueue::blocking_get) | [`blocking_get_timeout`](BaseQueue::blocking_get_timeout) |
//! | get a [`Task`] | [`get_task`](BaseQueue::get_task) | [`get_task_nowait`](BaseQueue::get_task_nowait) | [`get_task_timeout`](BaseQueue::get_task_timeout) | [`blocking_get_task`](BaseQueue::blocking_get_task) | [`blocking_get_task_timeout`](BaseQueue::blocking_get_task_timeout) |
//! | join | [`join`](BaseQueue::join) | [`join_nowait`](BaseQueue::join_nowait) | [`join_timeout`](BaseQueue::join_timeout) | [`blocking_join`](BaseQueue::blocking_join) | [`blocking_join_timeout`](BaseQueue::blocking_join_timeout) |
//!
//! The non-waiting form of `join` is [`join_nowait`](BaseQueue::join_nowait),
//! a `bool`: whether `join` would return at once (`unfinished_tasks() == 0`);
//! it is also what `join_timeout` with a zero timeout returns. A zero timeout
//! in any async timed form is the non-waiting form and needs no runtime;
//! `Duration::MAX` waits forever. [`statistics`](BaseQueue::statistics)
//! returns a [`QueueStatistics`] snapshot of the counts and waiters.
//!
//! # The producer–consumer pattern
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use threadlet::Queue;
//!
//! let q = Queue::new(10); // at most 10 baozi waiting
//! let cook = {
//!     let q = q.clone();
//!     tokio::spawn(async move {
//!         for n in 1..=20 {
//!             q.put(format!("baozi {n}")).await.unwrap(); // waits while full
//!         }
//!     })
//! };
//! let eater = {
//!     let q = q.clone();
//!     tokio::spawn(async move {
//!         let mut eaten = 0;
//!         while let Ok(_baozi) = q.get().await {
//!             eaten += 1;
//!             q.task_done().unwrap();
//!         }
//!         eaten // get fails once the queue is shut down and empty
//!     })
//! };
//! cook.await.unwrap();
//! q.join().await; // every baozi eaten
//! q.shutdown(); // let the eater go home
//! assert_eq!(eater.await.unwrap(), 20);
//! # }
//! ```
//!
//! # Workers that cannot hang `join`
//!
//! With a plain [`get`](BaseQueue::get), a worker must call
//! [`task_done`](BaseQueue::task_done) on every path out of its work; one that
//! panics or is cancelled first leaves `join` waiting forever (in Python, the
//! `try`/`finally` nobody writes). [`get_task`](BaseQueue::get_task) hands the
//! item inside a [`Task`] guard that calls `task_done` when it is dropped —
//! after the work, while unwinding, or with a cancelled future — so this is
//! the safe idiom:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use threadlet::Queue;
//!
//! let q = Queue::new(10);
//! let worker = {
//!     let q = q.clone();
//!     tokio::spawn(async move {
//!         while let Ok(order) = q.get_task().await {
//!             if *order == 3 {
//!                 panic!("burnt baozi"); // order 3 is still marked done
//!             }
//!         }
//!     })
//! };
//! for order in 1..=5 {
//!     q.put(order).await.unwrap();
//! }
//! assert!(worker.await.is_err()); // the worker panicked on order 3
//! while let Ok(order) = q.get_task_nowait() {
//!     drop(order); // orders 4 and 5, done by whoever is left
//! }
//! q.join().await; // does not hang
//! # }
//! ```
//!
//! # Which queue should I use?
//!
//! * [`Queue`]: first in, first out — work queues, pipelines, the default.
//! * [`LifoQueue`]: last in, first out — depth-first work such as a crawler's
//!   frontier, or reusing the most recently returned (warmest) resource.
//! * [`PriorityQueue`]: smallest first — schedulers, retries by deadline.
//!   Put `(priority, payload)` tuples or any [`Ord`] type; unlike Python's,
//!   items with equal priority leave in the order they were put, so no
//!   tie-breaking counter is needed.
//!
//! Compared with channels:
//!
//! * [`tokio::sync::mpsc`](https://docs.rs/tokio/latest/tokio/sync/mpsc/) is
//!   single-consumer and closes when every sender is dropped. Pick it for a
//!   one-consumer pipeline that should end when producers go away.
//! * [`async-channel`](https://docs.rs/async-channel) and
//!   [`flume`](https://docs.rs/flume) are multi-consumer FIFO channels that
//!   close when one side is dropped. Pick them if you need only FIFO and
//!   that lifetime rule.
//! * A threadlet queue is a shared object like Python's: it lives while any
//!   handle does and ends only by an explicit [`shutdown`](BaseQueue::shutdown);
//!   it adds LIFO and priority order, Python's `task_done` / `join`
//!   accounting, and blocking forms so OS threads and tasks share one queue.
//!
//! # Guarantees
//!
//! * **Cancel safety.** A `put` future dropped before it completed inserted
//!   nothing; a `get` future dropped before it completed took nothing; a
//!   wake-up or a free place handed to a dropped waiter passes to the next one.
//! * **Fairness.** Blocked getters and blocked putters are woken in FIFO
//!   order, one per item put (or place freed). A caller that finds an item
//!   (or a place) free may take it ahead of a waiter that was woken but has
//!   not run yet, as in Python and in flume; a waiter overtaken that way
//!   waits again at the head of the line, so the next item goes to it before
//!   anyone who started waiting later. (Unlike the crate's locks, the queue
//!   has no time bound on such overtaking: a caller that keeps taking items
//!   without ever waiting can keep overtaking, as in Python.)
//! * **Panics in user code.** An `Ord::cmp` of a [`PriorityQueue`] item that
//!   panics inside a put leaves the item in the queue, counted and
//!   retrievable; one that panics inside a get drops the item being taken,
//!   which then counts as done and frees its place. Either way every count
//!   (`len`, free places, `unfinished_tasks`) stays consistent and waiters
//!   are woken as usual.
//! * **Capacity.** A bounded queue never holds more than `maxsize` items.
//! * **No loss, no duplicates.** Every item put is got exactly once, or is
//!   still in the queue, or was dropped by
//!   [`shutdown_immediate`](BaseQueue::shutdown_immediate).
//!
//! # Fairness
//!
//! Getters waiting on an empty queue are served oldest first:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use threadlet::Queue;
//!
//! let q = Queue::new(0);
//! let mut getters = Vec::new();
//! for name in ["first", "second", "third"] {
//!     let q = q.clone();
//!     getters.push(tokio::spawn(async move { (name, q.get().await.unwrap()) }));
//!     tokio::task::yield_now().await; // let it start waiting
//! }
//! for item in 1..=3 {
//!     q.put(item).await.unwrap();
//! }
//! let mut served = Vec::new();
//! for g in getters {
//!     served.push(g.await.unwrap());
//! }
//! assert_eq!(served, [("first", 1), ("second", 2), ("third", 3)]);
//! # }
//! ```
//!
//! # Differences from Python
//!
//! * Methods use Rust names where Python's read oddly in Rust, with doc
//!   aliases: `qsize()` is [`len`](BaseQueue::len), `empty()` is
//!   [`is_empty`](BaseQueue::is_empty), `full()` is
//!   [`is_full`](BaseQueue::is_full). `block`/`timeout` arguments become
//!   separate methods (`_nowait`, `_timeout`, `blocking_`), and
//!   `shutdown(immediate=True)` is [`shutdown_immediate`](BaseQueue::shutdown_immediate).
//! * Exceptions are typed errors; a failed put hands the item back inside
//!   [`PutError`](error::PutError). A negative timeout, a `ValueError` in
//!   Python, cannot be expressed ([`Duration`](std::time::Duration) is
//!   unsigned); `Duration::MAX` means "wait forever".
//! * `maxsize` is fixed at construction (Python lets you assign it).
//! * [`PriorityQueue`] is stable, and needs [`Ord`] at compile time instead
//!   of raising `TypeError` on incomparable items.
//! * `join` has a [`join_timeout`](BaseQueue::join_timeout) form (Python's
//!   has none) and can be cancelled by dropping it.
//! * There is no `SimpleQueue`: an unbounded [`Queue`] is one.
//! * Subclass hooks (`_put`, `_get`, ...) do not exist; the three orderings
//!   are all there is.

mod core;
pub(crate) mod error;
mod fifo;
mod lifo;
mod priority;
mod statistics;
mod stream;
mod task;

pub use self::core::{BaseQueue, Order};
pub use self::fifo::Fifo;
pub use self::lifo::Lifo;
pub use self::priority::Priority;
pub use self::statistics::QueueStatistics;
pub use self::stream::{QueueSink, QueueStream};
pub use self::task::Task;

/// A first-in, first-out queue, as Python's `queue.Queue`.
///
/// See [`BaseQueue`] for the methods and the [module docs](self) for a guide.
///
/// # Examples
///
/// ```
/// use threadlet::Queue;
///
/// let q = Queue::new(0);
/// for i in 1..=3 {
///     q.put_nowait(i).unwrap();
/// }
/// assert_eq!(q.get_nowait(), Ok(1));
/// assert_eq!(q.get_nowait(), Ok(2));
/// assert_eq!(q.get_nowait(), Ok(3));
/// ```
pub type Queue<T> = BaseQueue<T, Fifo>;

/// A last-in, first-out queue (a stack), as Python's `queue.LifoQueue`.
///
/// See [`BaseQueue`] for the methods and the [module docs](self) for a guide.
///
/// # Examples
///
/// ```
/// use threadlet::LifoQueue;
///
/// let q = LifoQueue::new(0);
/// for i in 1..=3 {
///     q.put_nowait(i).unwrap();
/// }
/// assert_eq!(q.get_nowait(), Ok(3));
/// assert_eq!(q.get_nowait(), Ok(2));
/// assert_eq!(q.get_nowait(), Ok(1));
/// ```
pub type LifoQueue<T> = BaseQueue<T, Lifo>;

/// A priority queue, smallest item first, as Python's `queue.PriorityQueue`
/// — and stable: items that compare equal leave in the order they were put.
///
/// See [`BaseQueue`] for the methods and the [module docs](self) for a guide.
///
/// # Examples
///
/// ```
/// use std::cmp::Reverse;
/// use threadlet::PriorityQueue;
///
/// let q = PriorityQueue::new(0);
/// q.put_nowait((2, "write report")).unwrap();
/// q.put_nowait((1, "fix outage")).unwrap();
/// q.put_nowait((3, "water plants")).unwrap();
/// assert_eq!(q.get_nowait(), Ok((1, "fix outage")));
/// assert_eq!(q.get_nowait(), Ok((2, "write report")));
/// assert_eq!(q.get_nowait(), Ok((3, "water plants")));
///
/// // Stable: a job ordered by priority only keeps its place among equals.
/// #[derive(Debug, PartialEq, Eq)]
/// struct Job(u8, &'static str);
/// impl Ord for Job {
///     fn cmp(&self, other: &Self) -> std::cmp::Ordering {
///         self.0.cmp(&other.0)
///     }
/// }
/// impl PartialOrd for Job {
///     fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
///         Some(self.cmp(other))
///     }
/// }
/// let q = PriorityQueue::new(0);
/// for job in [Job(2, "b"), Job(1, "x"), Job(2, "a"), Job(2, "c")] {
///     q.put_nowait(job).unwrap();
/// }
/// let order: Vec<_> = std::iter::from_fn(|| q.get_nowait().ok()).map(|j| j.1).collect();
/// assert_eq!(order, ["x", "b", "a", "c"]);
///
/// // Largest first: wrap the priority in `Reverse`.
/// let q = PriorityQueue::new(0);
/// q.put_nowait(Reverse(1)).unwrap();
/// q.put_nowait(Reverse(5)).unwrap();
/// assert_eq!(q.get_nowait(), Ok(Reverse(5)));
/// ```
pub type PriorityQueue<T> = BaseQueue<T, Priority>;
