//! Beyond one machine: Python's `queue` and `multiprocessing.Pool` vocabulary
//! across hosts, on a Redis 7 server (feature `cluster`, off by default).
//!
//! * [`Queue`], [`LifoQueue`], [`PriorityQueue`]: connected by a Redis URL and
//!   a name; any number of processes on any number of hosts share one queue.
//!   Every operation is one Lua script, atomic on the server; `maxsize` is
//!   enforced there; waits block in `BLPOP` on a wake-up list instead of polling.
//! * Delivery is **at least once**: [`get`](BaseQueue::get) leases the item
//!   ([`Leased`]); [`Leased::task_done`] acknowledges it; an unacknowledged
//!   lease expires after [`Options::visibility_timeout`] and the item is
//!   delivered again, once per expiry. A consumer that was slow rather than dead
//!   may therefore finish an item that someone else also processes; its late
//!   `task_done` returns [`TaskDoneError::NotLeased`] so it can tell.
//!   [`join`](BaseQueue::join) waits until every item put by anyone was
//!   acknowledged; shutdown is seen by every client.
//! * [`Pool`] and [`worker()`]: `multiprocessing.Pool`'s `map` / `map_chunked` /
//!   `apply_async` / `imap` / `imap_unordered` over a job queue served by
//!   worker processes on any host, functions registered with
//!   [`process::register`](crate::process::register). A job whose worker died
//!   is retried on another after its lease expires ([`PoolOptions::retries`]),
//!   then fails with [`PoolError::GaveUp`] naming the job.
//!
//! The client is the `redis` crate (tokio, with a reconnecting
//! `ConnectionManager`): after the server restarts, the same handles work again.
//! Items are serde values encoded with postcard, as in [`crate::process`].
//!
//! # Examples
//!
//! ```no_run
//! use threadlet::cluster::{Options, Queue};
//! use std::time::Duration;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let options = Options::default().visibility_timeout(Duration::from_secs(10));
//! let q: Queue<u64> = Queue::connect_with("redis://127.0.0.1/", "numbers", 100, options).await?;
//! q.put(7).await?;
//! let n = q.get().await?;
//! println!("got {}", *n);
//! n.task_done().await?;
//! q.join().await?;
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

mod conn;
mod error;
mod pool;
mod queue;
mod scripts;
mod worker;

pub use error::{ClusterError, DecodeError, GetError, PoolError, PutError, TaskDoneError};
pub use pool::{AsyncResult, Pool, PoolOptions, PoolStream};
pub use queue::{
    BaseQueue, Fifo, LeaseStream, Leased, Lifo, LifoQueue, Order, Priority, PriorityQueue, Queue,
    QueueStats,
};
pub use worker::{worker, worker_with};

/// Connection and delivery settings shared by a queue's clients.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadlet::cluster::Options;
///
/// let o = Options::default().visibility_timeout(Duration::from_secs(5));
/// assert_eq!(o.get_visibility_timeout(), Duration::from_secs(5));
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) visibility_timeout: Duration,
    pub(crate) op_timeout: Duration,
    pub(crate) recheck: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(30),
            op_timeout: Duration::from_secs(5),
            recheck: Duration::from_secs(1),
        }
    }
}

impl Options {
    /// How long a lease taken by this client lasts before its item goes back
    /// to the queue (default 30 s).
    ///
    /// # Examples
    ///
    /// ```
    /// let o = threadlet::cluster::Options::default()
    ///     .visibility_timeout(std::time::Duration::from_secs(2));
    /// ```
    #[must_use]
    pub fn visibility_timeout(mut self, d: Duration) -> Self {
        self.visibility_timeout = d;
        self
    }

    /// The visibility timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(
    ///     threadlet::cluster::Options::default().get_visibility_timeout(),
    ///     Duration::from_secs(30)
    /// );
    /// ```
    #[must_use]
    pub fn get_visibility_timeout(&self) -> Duration {
        self.visibility_timeout
    }

    /// The longest one server round-trip (or connection attempt) may take
    /// before the operation fails with [`ClusterError::Timeout`] (default 5 s).
    /// A caller's own timeout bounds it further.
    ///
    /// # Examples
    ///
    /// ```
    /// let o = threadlet::cluster::Options::default()
    ///     .op_timeout(std::time::Duration::from_secs(1));
    /// ```
    #[must_use]
    pub fn op_timeout(mut self, d: Duration) -> Self {
        self.op_timeout = d;
        self
    }

    /// How often a blocked waiter re-checks the queue even without a wake-up
    /// (default 1 s). Wake-ups are pushed by the server; this only bounds the
    /// delay after a waiter was cancelled while holding one.
    ///
    /// # Examples
    ///
    /// ```
    /// let o = threadlet::cluster::Options::default()
    ///     .recheck(std::time::Duration::from_millis(250));
    /// ```
    #[must_use]
    pub fn recheck(mut self, d: Duration) -> Self {
        self.recheck = d.max(Duration::from_millis(10));
        self
    }
}
