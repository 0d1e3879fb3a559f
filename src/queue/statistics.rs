//! The `statistics()` snapshot of the queues (trio's `statistics()`, the same
//! style as the sync primitives' in `sync::statistics`).

/// What [`statistics`](crate::queue::BaseQueue::statistics) reports of a
/// [`Queue`](crate::Queue), [`LifoQueue`](crate::LifoQueue) or
/// [`PriorityQueue`](crate::PriorityQueue): a plain record of what the queue
/// looks like right now, for logging and tests. The counts are read together
/// under the queue's lock, so they are consistent with each other, but the
/// snapshot may be stale by the time it is read; fields may be added
/// (`#[non_exhaustive]`).
///
/// A waiter that has been woken (for an item, a place, or the end of the
/// work) and has not run yet still counts as waiting.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::Queue;
///
/// let q = Queue::new(2);
/// q.put("a").await.unwrap();
/// q.put("b").await.unwrap();
/// let putter = {
///     let q = q.clone();
///     tokio::spawn(async move { q.put("c").await })
/// };
/// tokio::task::yield_now().await; // let it start waiting for a place
///
/// let stats = q.statistics();
/// assert_eq!(stats.len, 2);
/// assert_eq!(stats.maxsize, 2);
/// assert_eq!(stats.unfinished_tasks, 2);
/// assert_eq!(stats.getters, 0);
/// assert_eq!(stats.putters, 1);
/// assert_eq!(stats.joiners, 0);
/// assert!(!stats.is_shutdown);
/// # q.get().await.unwrap();
/// # putter.await.unwrap().unwrap();
/// # }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueStatistics {
    /// Items in the queue (Python's `qsize()`).
    pub len: usize,
    /// The capacity; 0 means unbounded (Python's `maxsize`).
    pub maxsize: usize,
    /// Items put and not yet marked done (Python's `unfinished_tasks`).
    pub unfinished_tasks: usize,
    /// How many tasks and threads wait in a get for an item.
    pub getters: usize,
    /// How many tasks and threads wait in a put for a place (or, with a
    /// [`QueueSink`](crate::queue::QueueSink), to hold one).
    pub putters: usize,
    /// How many tasks and threads wait in a `join` for every task to be done.
    pub joiners: usize,
    /// Whether the queue was shut down (Python's `is_shutdown`).
    pub is_shutdown: bool,
}
