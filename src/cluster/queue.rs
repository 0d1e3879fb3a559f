//! `cluster::Queue`, `LifoQueue` and `PriorityQueue`: one generic queue on a
//! Redis sorted set with three orderings, and the lease handle `get` returns.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Options;
use super::conn::{Conn, HEADER, Keys, MAGIC, SCRIPTS, deadline, remaining};
use super::error::{ClusterError, DecodeError, GetError, PutError, TaskDoneError};

/// How a queue orders its items on the server: [`Fifo`], [`Lifo`] or
/// [`Priority`]. Sealed: the three orderings are the only ones.
pub trait Order<T>: sealed::Sealed + Send + Sync + 'static {
    /// The kind stored with the queue (`fifo`, `lifo`, `priority`).
    const KIND: &'static str;
    /// Whether newer items leave first.
    const LIFO: bool;
    /// The item's priority (smaller leaves first); 0 for FIFO and LIFO.
    fn priority(item: &T) -> i64;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Fifo {}
    impl Sealed for super::Lifo {}
    impl Sealed for super::Priority {}
}

/// First in, first out (Python's `queue.Queue`).
#[derive(Debug, Clone, Copy)]
pub struct Fifo;
/// Last in, first out (Python's `queue.LifoQueue`).
#[derive(Debug, Clone, Copy)]
pub struct Lifo;
/// Smallest priority first, stable among equals (Python's `queue.PriorityQueue`
/// of `(priority, payload)` tuples).
#[derive(Debug, Clone, Copy)]
pub struct Priority;

impl<T> Order<T> for Fifo {
    const KIND: &'static str = "fifo";
    const LIFO: bool = false;
    fn priority(_: &T) -> i64 {
        0
    }
}

impl<T> Order<T> for Lifo {
    const KIND: &'static str = "lifo";
    const LIFO: bool = true;
    fn priority(_: &T) -> i64 {
        0
    }
}

impl<T> Order<(i64, T)> for Priority {
    const KIND: &'static str = "priority";
    const LIFO: bool = false;
    fn priority(item: &(i64, T)) -> i64 {
        item.0
    }
}

/// A FIFO queue shared by name through Redis (Python's `queue.Queue`, across hosts).
pub type Queue<T> = BaseQueue<T, Fifo>;
/// A LIFO queue shared by name through Redis (Python's `queue.LifoQueue`).
pub type LifoQueue<T> = BaseQueue<T, Lifo>;
/// A priority queue of `(priority, payload)` items shared by name through Redis,
/// smallest priority first and stable among equal priorities (Python's
/// `queue.PriorityQueue`).
pub type PriorityQueue<T> = BaseQueue<(i64, T), Priority>;

pub(crate) struct Shared {
    pub(crate) conn: Arc<Conn>,
    pub(crate) keys: Keys,
    pub(crate) name: String,
    pub(crate) maxsize: usize,
}

impl Shared {
    async fn ack(&self, token: u64, counted: bool) -> Result<(), TaskDoneError> {
        let token = token.to_string();
        let flag: &[u8] = if counted { b"1" } else { b"0" };
        let code: i64 = self
            .conn
            .script(&SCRIPTS.ack, &self.keys, &[token.as_bytes(), flag], None)
            .await?;
        if code == 1 {
            Ok(())
        } else {
            Err(TaskDoneError::NotLeased)
        }
    }
}

/// What a queue holds now, read in one atomic step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueStats {
    /// Items waiting (Python's `qsize()`).
    pub len: usize,
    /// Items put and not yet acknowledged, waiting or leased.
    pub unfinished: usize,
    /// Items under a lease now.
    pub leased: usize,
    /// Leases that expired and put their item back, since the queue was created.
    pub redelivered: u64,
    /// Whether the queue was shut down.
    pub shut_down: bool,
}

/// A queue on a Redis server, shared by every client that connects with the
/// same name: Python's `queue.Queue` vocabulary across processes and hosts.
///
/// Use the aliases [`Queue`], [`LifoQueue`] and [`PriorityQueue`]. Each
/// operation is one Lua script on the server, so it is atomic however many
/// clients share the queue, and `maxsize` is enforced there. Items travel as
/// serde values encoded with postcard.
///
/// # Delivery: leases and at-least-once
///
/// [`get`](BaseQueue::get) takes an item under a *lease* and returns it as a
/// [`Leased`] handle; [`Leased::task_done`] acknowledges that lease (Python's
/// `task_done()` has no argument, but a lease must be named, so the
/// acknowledgement lives on the handle). An item whose lease is not
/// acknowledged within the visibility timeout ([`Options::visibility_timeout`]),
/// because its consumer died, hung, lost its connection or simply dropped the
/// handle, goes back to the queue, once per expiry, and is delivered again
/// ([`Leased::deliveries`] counts). Delivery is therefore **at least once**: a
/// consumer that was only slow may finish an item after its lease expired, while
/// another consumer works on the redelivered copy. That late consumer's
/// `task_done` returns [`TaskDoneError::NotLeased`], which tells it that its
/// work may be duplicated; make processing idempotent, or extend long leases
/// with [`Leased::extend`]. [`join`](BaseQueue::join) returns once every item
/// ever put was acknowledged, by any client.
///
/// # Examples
///
/// ```no_run
/// use threadlet::cluster::Queue;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let q: Queue<String> = Queue::connect("redis://127.0.0.1/", "jobs", 0).await?;
/// q.put("wash".to_string()).await?;
/// let job = q.get().await?;
/// assert_eq!(*job, "wash");
/// job.task_done().await?;
/// q.join().await?;
/// # Ok(())
/// # }
/// ```
pub struct BaseQueue<T, O> {
    shared: Arc<Shared>,
    _marker: PhantomData<fn(T) -> (T, O)>,
}

impl<T, O> Clone for BaseQueue<T, O> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            _marker: PhantomData,
        }
    }
}

impl<T, O> fmt::Debug for BaseQueue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("cluster::Queue")
            .field("name", &self.shared.name)
            .field("maxsize", &self.shared.maxsize)
            .finish()
    }
}

impl<T, O> BaseQueue<T, O>
where
    T: Serialize + DeserializeOwned + Send + 'static,
    O: Order<T>,
{
    /// Connects to the queue `name` on the server at `url`, creating it with
    /// `maxsize` (0 = unbounded) if it does not exist, with default [`Options`].
    ///
    /// # Errors
    ///
    /// [`ClusterError::InvalidUrl`], [`ClusterError::Unreachable`] /
    /// [`ClusterError::Timeout`] when the server does not answer, and
    /// [`ClusterError::Mismatch`] when the queue exists with another kind or
    /// `maxsize`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future may leave the queue created; nothing else changes.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::cluster::{ClusterError, Queue};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let err = Queue::<u32>::connect("not a url", "q", 0).await.unwrap_err();
    /// assert!(matches!(err, ClusterError::InvalidUrl(_)));
    /// # });
    /// ```
    pub async fn connect(url: &str, name: &str, maxsize: usize) -> Result<Self, ClusterError> {
        Self::connect_with(url, name, maxsize, Options::default()).await
    }

    /// [`connect`](BaseQueue::connect) with explicit [`Options`].
    ///
    /// # Errors
    ///
    /// As `connect`.
    ///
    /// # Cancel safety
    ///
    /// As `connect`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::cluster::{ClusterError, Options, Queue};
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// // Nothing listens on port 1: a typed error, within the timeout.
    /// let options = Options::default().op_timeout(Duration::from_millis(500));
    /// let err = Queue::<u32>::connect_with("redis://127.0.0.1:1/", "q", 0, options)
    ///     .await
    ///     .unwrap_err();
    /// assert!(matches!(err, ClusterError::Unreachable(_) | ClusterError::Timeout));
    /// # });
    /// ```
    pub async fn connect_with(
        url: &str,
        name: &str,
        maxsize: usize,
        options: Options,
    ) -> Result<Self, ClusterError> {
        let conn = Conn::open(url, options)?;
        Self::on(conn, name, maxsize).await
    }

    /// Opens the queue `name` over an existing connection.
    pub(crate) async fn on(
        conn: Arc<Conn>,
        name: &str,
        maxsize: usize,
    ) -> Result<Self, ClusterError> {
        let keys = Keys::new(name);
        let size = maxsize.to_string();
        let (kind, stored): (String, String) = conn
            .script(
                &SCRIPTS.create,
                &keys,
                &[O::KIND.as_bytes(), size.as_bytes()],
                None,
            )
            .await?;
        if kind != O::KIND || stored != size {
            return Err(ClusterError::Mismatch {
                name: name.to_owned(),
                existing: format!("{kind} maxsize {stored}"),
                requested: format!("{} maxsize {size}", O::KIND),
            });
        }
        Ok(Self {
            shared: Arc::new(Shared {
                conn,
                keys,
                name: name.to_owned(),
                maxsize,
            }),
            _marker: PhantomData,
        })
    }

    /// The queue's name.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), threadlet::cluster::ClusterError> {
    /// let q = threadlet::cluster::Queue::<u8>::connect("redis://127.0.0.1/", "q", 0).await?;
    /// assert_eq!(q.name(), "q");
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The bound (0 = unbounded), as stored on the server.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), threadlet::cluster::ClusterError> {
    /// let q = threadlet::cluster::Queue::<u8>::connect("redis://127.0.0.1/", "q4", 4).await?;
    /// assert_eq!(q.maxsize(), 4);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn maxsize(&self) -> usize {
        self.shared.maxsize
    }

    /// Puts `item`, waiting while the queue is full.
    ///
    /// # Errors
    ///
    /// [`PutError::ShutDown`] once any client shut the queue down;
    /// [`PutError::Encode`]; [`PutError::Cluster`] when the server does not
    /// answer within the operation timeout. The item is handed back.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while it waits for room puts nothing. Dropped while
    /// the put script is in flight, the item may or may not have been put.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::connect("redis://127.0.0.1/", "q", 0).await?;
    /// q.put(1u32).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_inner(item, None, true).await
    }

    /// Puts `item` if there is room now (Python's `put_nowait`).
    ///
    /// # Errors
    ///
    /// [`PutError::Full`], and as [`put`](BaseQueue::put).
    ///
    /// # Cancel safety
    ///
    /// As `put`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::connect("redis://127.0.0.1/", "one", 1).await?;
    /// q.put_nowait(1u32).await?;
    /// assert!(matches!(q.put_nowait(2).await, Err(threadlet::cluster::PutError::Full(2))));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
        self.put_inner(item, None, false).await
    }

    /// Puts `item`, waiting at most `timeout` for room (`Duration::MAX` =
    /// forever). The server round-trips are bounded by the same deadline.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] after the timeout, and as [`put`](BaseQueue::put).
    ///
    /// # Cancel safety
    ///
    /// As `put`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let q = threadlet::cluster::Queue::connect("redis://127.0.0.1/", "q", 0).await?;
    /// q.put_timeout(1u32, Duration::from_secs(1)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        self.put_inner(item, deadline(timeout), true).await
    }

    async fn put_inner(
        &self,
        item: T,
        deadline: Option<Instant>,
        block: bool,
    ) -> Result<(), PutError<T>> {
        let payload = match postcard::to_stdvec(&item) {
            Ok(p) => p,
            Err(e) => return Err(PutError::Encode(item, e.to_string())),
        };
        let prefix = header_prefix(O::priority(&item));
        let lifo: &[u8] = if O::LIFO { b"1" } else { b"0" };
        let s = &self.shared;
        loop {
            let code: i64 = match s
                .conn
                .script(&SCRIPTS.put, &s.keys, &[&prefix, lifo, &payload], deadline)
                .await
            {
                Ok(c) => c,
                Err(e) => return Err(PutError::Cluster(item, e)),
            };
            match code {
                1 => return Ok(()),
                -1 => return Err(PutError::ShutDown(item)),
                _ => {
                    let left = remaining(deadline);
                    if !block || left.is_zero() {
                        return Err(PutError::Full(item));
                    }
                    let wait = left.min(s.conn.options.recheck);
                    match s
                        .conn
                        .block_on_signal(s.keys.sig_put(), wait, deadline)
                        .await
                    {
                        Ok(false) if remaining(deadline).is_zero() => {
                            return Err(PutError::Full(item));
                        }
                        Ok(_) => {}
                        Err(e) => return Err(PutError::Cluster(item, e)),
                    }
                }
            }
        }
    }

    /// Takes the next item under a lease, waiting while the queue is empty.
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`] once the queue is shut down and empty (at once
    /// after [`shutdown_immediate`](BaseQueue::shutdown_immediate));
    /// [`GetError::Decode`] for an item that does not decode (it is removed
    /// and acknowledged; the next get goes on); [`GetError::Cluster`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while it waits takes nothing. Dropped while the get
    /// script is in flight, an item may have been leased to nobody: it goes back
    /// to the queue when the lease expires, so nothing is lost.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::connect("redis://127.0.0.1/", "q", 0).await?;
    /// q.put(5u32).await?;
    /// let item = q.get().await?;
    /// assert_eq!(*item, 5);
    /// item.task_done().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(&self) -> Result<Leased<T>, GetError> {
        self.get_inner(None, true).await
    }

    /// Takes an item if one is waiting now (Python's `get_nowait`).
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`], and as [`get`](BaseQueue::get).
    ///
    /// # Cancel safety
    ///
    /// As `get`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::<u32>::connect("redis://127.0.0.1/", "empty", 0).await?;
    /// assert!(matches!(q.get_nowait().await, Err(threadlet::cluster::GetError::Empty)));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_nowait(&self) -> Result<Leased<T>, GetError> {
        self.get_inner(None, false).await
    }

    /// Takes an item, waiting at most `timeout` (`Duration::MAX` = forever).
    /// The server round-trips are bounded by the same deadline.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] after the timeout, and as [`get`](BaseQueue::get).
    ///
    /// # Cancel safety
    ///
    /// As `get`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let q = threadlet::cluster::Queue::<u32>::connect("redis://127.0.0.1/", "q", 0).await?;
    /// let r = q.get_timeout(Duration::from_millis(100)).await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_timeout(&self, timeout: Duration) -> Result<Leased<T>, GetError> {
        self.get_inner(deadline(timeout), true).await
    }

    async fn get_inner(
        &self,
        deadline: Option<Instant>,
        block: bool,
    ) -> Result<Leased<T>, GetError> {
        let s = &self.shared;
        let vis = s
            .conn
            .options
            .visibility_timeout
            .as_millis()
            .max(1)
            .to_string();
        loop {
            let (code, value, member, deliveries): (i64, i64, Vec<u8>, u64) = s
                .conn
                .script(&SCRIPTS.get, &s.keys, &[vis.as_bytes()], deadline)
                .await?;
            match code {
                1 => return self.decode(value as u64, member, deliveries).await,
                -1 => return Err(GetError::ShutDown),
                _ => {
                    let left = remaining(deadline);
                    if !block || left.is_zero() {
                        return Err(GetError::Empty);
                    }
                    let mut wait = left.min(s.conn.options.recheck);
                    if let Ok(ms) = u64::try_from(value) {
                        // Wake when the next lease expires, to put its item back.
                        wait = wait.min(Duration::from_millis(ms + 5));
                    }
                    let woken = s
                        .conn
                        .block_on_signal(s.keys.sig_get(), wait, deadline)
                        .await?;
                    if !woken && remaining(deadline).is_zero() {
                        return Err(GetError::Empty);
                    }
                }
            }
        }
    }

    async fn decode(
        &self,
        token: u64,
        member: Vec<u8>,
        deliveries: u64,
    ) -> Result<Leased<T>, GetError> {
        let ours = member.len() >= HEADER && member.starts_with(MAGIC);
        let message = if ours {
            match postcard::take_from_bytes::<T>(&member[HEADER..]) {
                Ok((item, [])) => {
                    return Ok(Leased {
                        item,
                        token,
                        deliveries,
                        shared: Arc::clone(&self.shared),
                    });
                }
                Ok(_) => "trailing bytes after the item".to_owned(),
                Err(e) => e.to_string(),
            }
        } else {
            "not an item written by threadlet (no header)".to_owned()
        };
        // Take the undecodable item out for good, so the queue goes on; count it
        // as done only if a `put` counted it.
        match self.shared.ack(token, ours).await {
            Ok(()) | Err(TaskDoneError::NotLeased) => {}
            Err(TaskDoneError::Cluster(e)) => return Err(GetError::Cluster(e)),
        }
        Err(GetError::Decode(DecodeError {
            message,
            bytes: member,
        }))
    }

    /// Acknowledges `lease` (the same as [`Leased::task_done`]).
    ///
    /// # Errors
    ///
    /// As [`Leased::task_done`].
    ///
    /// # Cancel safety
    ///
    /// Dropped in flight, the acknowledgement may or may not have happened.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::connect("redis://127.0.0.1/", "q", 0).await?;
    /// q.put(1u8).await?;
    /// let item = q.get().await?;
    /// q.task_done(&item).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn task_done(&self, lease: &Leased<T>) -> Result<(), TaskDoneError> {
        lease.task_done().await
    }

    /// Waits until every item ever put on the queue, by any client, was
    /// acknowledged (Python's `join`).
    ///
    /// # Errors
    ///
    /// [`ClusterError`] when the server does not answer.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::<u8>::connect("redis://127.0.0.1/", "q", 0).await?;
    /// q.join().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn join(&self) -> Result<(), ClusterError> {
        if self.join_timeout(Duration::MAX).await? {
            Ok(())
        } else {
            Err(ClusterError::Timeout)
        }
    }

    /// [`join`](BaseQueue::join) for at most `timeout`; `Ok(false)` if items
    /// were still unacknowledged then.
    ///
    /// # Errors
    ///
    /// As `join`.
    ///
    /// # Cancel safety
    ///
    /// As `join`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let q = threadlet::cluster::Queue::<u8>::connect("redis://127.0.0.1/", "q", 0).await?;
    /// q.put(1).await?;
    /// assert!(!q.join_timeout(Duration::from_millis(50)).await?);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn join_timeout(&self, timeout: Duration) -> Result<bool, ClusterError> {
        let s = &self.shared;
        let deadline = deadline(timeout);
        loop {
            let done: i64 = s
                .conn
                .script(&SCRIPTS.joined, &s.keys, &[], deadline)
                .await?;
            if done == 1 {
                return Ok(true);
            }
            let left = remaining(deadline);
            if left.is_zero() {
                return Ok(false);
            }
            let woken = s
                .conn
                .block_on_signal(
                    s.keys.sig_join(),
                    left.min(s.conn.options.recheck),
                    deadline,
                )
                .await?;
            if !woken && remaining(deadline).is_zero() {
                return Ok(false);
            }
        }
    }

    /// Shuts the queue down for every client: puts fail, gets drain what is
    /// left and then fail (Python's `shutdown()`).
    ///
    /// # Errors
    ///
    /// [`ClusterError`] when the server does not answer.
    ///
    /// # Cancel safety
    ///
    /// Dropped in flight, the shutdown may or may not have happened.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::<u8>::connect("redis://127.0.0.1/", "q", 0).await?;
    /// q.shutdown().await?;
    /// assert!(q.put(1).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn shutdown(&self) -> Result<(), ClusterError> {
        self.shutdown_inner(false).await
    }

    /// Shuts the queue down and drops the waiting items (Python's
    /// `shutdown(immediate=True)`): each counts as done for `join`; gets fail at
    /// once; leased items may still be acknowledged, and an expired lease no
    /// longer puts its item back.
    ///
    /// # Errors
    ///
    /// As [`shutdown`](BaseQueue::shutdown).
    ///
    /// # Cancel safety
    ///
    /// As `shutdown`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::<u8>::connect("redis://127.0.0.1/", "q", 0).await?;
    /// q.put(1).await?;
    /// q.shutdown_immediate().await?;
    /// q.join().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn shutdown_immediate(&self) -> Result<(), ClusterError> {
        self.shutdown_inner(true).await
    }

    async fn shutdown_inner(&self, immediate: bool) -> Result<(), ClusterError> {
        let s = &self.shared;
        let flag: &[u8] = if immediate { b"1" } else { b"0" };
        let _: i64 = s
            .conn
            .script(&SCRIPTS.shutdown, &s.keys, &[flag], None)
            .await?;
        Ok(())
    }

    /// The queue's state in one atomic read.
    ///
    /// # Errors
    ///
    /// [`ClusterError`] when the server does not answer.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::<u8>::connect("redis://127.0.0.1/", "q", 0).await?;
    /// let stats = q.stats().await?;
    /// assert_eq!(stats.len, q.len().await?);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stats(&self) -> Result<QueueStats, ClusterError> {
        let s = &self.shared;
        let (len, unfinished, leased, redelivered, shut): (usize, usize, usize, u64, u8) =
            s.conn.script(&SCRIPTS.stats, &s.keys, &[], None).await?;
        Ok(QueueStats {
            len,
            unfinished,
            leased,
            redelivered,
            shut_down: shut == 1,
        })
    }

    /// Items waiting now (Python's `qsize()`); leased items are not counted.
    ///
    /// # Errors
    ///
    /// [`ClusterError`] when the server does not answer.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::<u8>::connect("redis://127.0.0.1/", "q", 0).await?;
    /// let n = q.len().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn len(&self) -> Result<usize, ClusterError> {
        let mut cmd = redis::cmd("ZCARD");
        cmd.arg(self.shared.keys.items());
        self.shared.conn.cmd(&cmd, None).await
    }

    /// Whether no item is waiting (Python's `empty()`).
    ///
    /// # Errors
    ///
    /// As [`len`](BaseQueue::len).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::<u8>::connect("redis://127.0.0.1/", "fresh", 0).await?;
    /// assert!(q.is_empty().await?);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn is_empty(&self) -> Result<bool, ClusterError> {
        Ok(self.len().await? == 0)
    }

    /// Whether `maxsize` items are waiting (Python's `full()`); never for an
    /// unbounded queue.
    ///
    /// # Errors
    ///
    /// As [`len`](BaseQueue::len).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::<u8>::connect("redis://127.0.0.1/", "q", 0).await?;
    /// assert!(!q.is_full().await?);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn is_full(&self) -> Result<bool, ClusterError> {
        Ok(self.shared.maxsize > 0 && self.len().await? >= self.shared.maxsize)
    }

    /// The items as a `Stream` of leases, ending when the queue is shut down
    /// and empty. Decode and server errors are yielded and the stream goes on.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures::StreamExt;
    /// let q = threadlet::cluster::Queue::connect("redis://127.0.0.1/", "s", 0).await?;
    /// q.put(1u8).await?;
    /// q.shutdown().await?;
    /// let mut items = q.stream();
    /// while let Some(item) = items.next().await {
    ///     item?.task_done().await?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn stream(&self) -> LeaseStream<T> {
        let q = self.clone();
        LeaseStream {
            next: Box::new(move || {
                let q = q.clone();
                Box::pin(async move { q.get().await })
            }),
            pending: None,
            done: false,
        }
    }
}

type GetFuture<T> = Pin<Box<dyn Future<Output = Result<Leased<T>, GetError>> + Send>>;

/// The `Stream` of [`BaseQueue::stream`].
pub struct LeaseStream<T> {
    next: Box<dyn Fn() -> GetFuture<T> + Send + Sync>,
    pending: Option<GetFuture<T>>,
    done: bool,
}

impl<T> fmt::Debug for LeaseStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeaseStream")
            .field("done", &self.done)
            .finish()
    }
}

impl<T> Stream for LeaseStream<T> {
    type Item = Result<Leased<T>, GetError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        let fut = this.pending.get_or_insert_with(|| (this.next)());
        match fut.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(r) => {
                this.pending = None;
                match r {
                    Err(GetError::ShutDown) => {
                        this.done = true;
                        Poll::Ready(None)
                    }
                    r => Poll::Ready(Some(r)),
                }
            }
        }
    }
}

/// An item taken from a cluster queue under a lease.
///
/// Dereferences to the item. [`task_done`](Leased::task_done) acknowledges
/// this lease; dropping the handle without it leaves the item leased until the
/// visibility timeout, then it goes back to the queue.
pub struct Leased<T> {
    item: T,
    token: u64,
    deliveries: u64,
    shared: Arc<Shared>,
}

impl<T: fmt::Debug> fmt::Debug for Leased<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leased")
            .field("item", &self.item)
            .field("lease", &self.token)
            .field("deliveries", &self.deliveries)
            .finish()
    }
}

impl<T> Deref for Leased<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.item
    }
}

impl<T> Leased<T> {
    /// How many times this item was delivered, this time included (1 on the
    /// first delivery; more after leases expired).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::connect("redis://127.0.0.1/", "d", 0).await?;
    /// q.put(1u8).await?;
    /// assert_eq!(q.get().await?.deliveries(), 1);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn deliveries(&self) -> u64 {
        self.deliveries
    }

    /// The lease's id, unique per queue.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::connect("redis://127.0.0.1/", "d", 0).await?;
    /// q.put(1u8).await?;
    /// assert!(q.get().await?.lease_id() > 0);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn lease_id(&self) -> u64 {
        self.token
    }

    /// The item, borrowed.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::connect("redis://127.0.0.1/", "d", 0).await?;
    /// q.put(1u8).await?;
    /// assert_eq!(*q.get().await?.item(), 1);
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn item(&self) -> &T {
        &self.item
    }

    /// The item, without acknowledging it: the lease stays held until it
    /// expires and the item is delivered again.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let q = threadlet::cluster::Queue::connect("redis://127.0.0.1/", "d", 0).await?;
    /// q.put(1u8).await?;
    /// assert_eq!(q.get().await?.into_inner(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn into_inner(self) -> T {
        self.item
    }

    /// Acknowledges this lease: the item is done, for `join` on every host.
    ///
    /// # Errors
    ///
    /// [`TaskDoneError::NotLeased`] if it was acknowledged before, or the lease
    /// expired and the item went back to the queue (another consumer may be
    /// processing it: the at-least-once duplicate); [`TaskDoneError::Cluster`]
    /// when the server does not answer (the lease may still be held).
    ///
    /// # Cancel safety
    ///
    /// Dropped in flight, the acknowledgement may or may not have happened.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use threadlet::cluster::TaskDoneError;
    /// let q = threadlet::cluster::Queue::connect("redis://127.0.0.1/", "d", 0).await?;
    /// q.put(1u8).await?;
    /// let item = q.get().await?;
    /// item.task_done().await?;
    /// assert_eq!(item.task_done().await, Err(TaskDoneError::NotLeased));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn task_done(&self) -> Result<(), TaskDoneError> {
        self.shared.ack(self.token, true).await
    }

    /// Moves this lease's deadline to `by` from now (for work that runs longer
    /// than the visibility timeout). Returns whether the lease was still held.
    ///
    /// # Errors
    ///
    /// [`ClusterError`] when the server does not answer.
    ///
    /// # Cancel safety
    ///
    /// Dropped in flight, the deadline may or may not have moved.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let q = threadlet::cluster::Queue::connect("redis://127.0.0.1/", "d", 0).await?;
    /// q.put(1u8).await?;
    /// let item = q.get().await?;
    /// assert!(item.extend(Duration::from_secs(60)).await?);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn extend(&self, by: Duration) -> Result<bool, ClusterError> {
        let token = self.token.to_string();
        let ms = by.as_millis().max(1).to_string();
        let s = &self.shared;
        let held: i64 = s
            .conn
            .script(
                &SCRIPTS.extend,
                &s.keys,
                &[token.as_bytes(), ms.as_bytes()],
                None,
            )
            .await?;
        Ok(held == 1)
    }
}

/// `t1` + the priority as 16 hex digits, order-preserving (sign bit flipped).
fn header_prefix(priority: i64) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(format!("{:016x}", (priority as u64) ^ (1 << 63)).as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::header_prefix;

    #[test]
    fn priority_prefix_orders_like_the_integers() {
        let ps = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        for w in ps.windows(2) {
            assert!(header_prefix(w[0]) < header_prefix(w[1]), "{w:?}");
        }
        assert_eq!(header_prefix(0).len(), 18);
    }
}
