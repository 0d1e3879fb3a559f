//! `cluster::Pool`: `map` / `apply_async` / `imap` over a cluster queue of jobs,
//! served by [`worker`](super::worker()) processes on any host.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::Options;
use super::conn::Conn;
use super::error::{ClusterError, PoolError};
use super::queue::Queue;
use crate::process::pool::chunks;
use crate::sync::Event;
use crate::wait::loom::lock;

chunks::refusal_into!(PoolError);

/// One chunk of work on the job queue.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Job {
    /// `client/call#index`, unique per pool name.
    pub(crate) id: String,
    /// The registry key of the function.
    pub(crate) key: String,
    /// The chunk's encoded `Vec<A>`.
    pub(crate) args: Vec<u8>,
    /// The list the answer goes to.
    pub(crate) reply: String,
    /// The chunk's index in its call.
    pub(crate) index: u32,
    /// Deliveries allowed before the job is abandoned (retries + 1).
    pub(crate) tries: u32,
}

/// A worker's answer to one job.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Reply {
    pub(crate) index: u32,
    pub(crate) outcome: Outcome,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Outcome {
    /// The chunk's encoded `Vec<R>`.
    Done(Vec<u8>),
    Panicked {
        worker: String,
        message: String,
    },
    /// Unknown target or a codec failure, in the worker.
    Failed(String),
    /// Abandoned after this many lost deliveries.
    GaveUp(u64),
}

/// The job queue's name for pool `name`.
pub(crate) fn jobs_name(name: &str) -> String {
    format!("pool:{name}")
}

/// Settings of a [`Pool`] client.
///
/// # Examples
///
/// ```
/// let o = threadlet::cluster::PoolOptions::default().retries(5);
/// assert_eq!(o.get_retries(), 5);
/// ```
#[derive(Debug, Clone)]
pub struct PoolOptions {
    retries: u32,
    options: Options,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            retries: 2,
            options: Options::default(),
        }
    }
}

impl PoolOptions {
    /// How many times a job whose delivery was lost (its worker died or stalled
    /// past the workers' visibility timeout) is delivered again before the
    /// caller gets [`PoolError::GaveUp`] (default 2).
    ///
    /// # Examples
    ///
    /// ```
    /// let o = threadlet::cluster::PoolOptions::default().retries(0);
    /// ```
    #[must_use]
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// The retry count.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadlet::cluster::PoolOptions::default().get_retries(), 2);
    /// ```
    #[must_use]
    pub fn get_retries(&self) -> u32 {
        self.retries
    }

    /// Connection settings of this client.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::cluster::{Options, PoolOptions};
    /// let o = PoolOptions::default().connection(Options::default());
    /// ```
    #[must_use]
    pub fn connection(mut self, options: Options) -> Self {
        self.options = options;
        self
    }
}

struct PoolInner {
    jobs: Queue<Job>,
    conn: Arc<Conn>,
    name: String,
    client: u64,
    calls: AtomicU64,
    closed: AtomicBool,
    /// Set by `terminate`: every collector of this client fails what its
    /// call is still missing.
    terminated: Event,
    /// Calls whose answers are still being collected.
    outstanding: Mutex<usize>,
    /// Set exactly while `outstanding` is 0 (changed under its lock): what
    /// `join` waits on.
    idle: Event,
    retries: u32,
}

impl PoolInner {
    /// A call started collecting.
    fn call_started(&self) {
        let mut n = lock(&self.outstanding);
        *n += 1;
        self.idle.clear();
    }

    /// A call has all its answers (or was failed).
    fn call_ended(&self) {
        let mut n = lock(&self.outstanding);
        *n -= 1;
        if *n == 0 {
            self.idle.set();
        }
    }
}

/// A pool of worker processes anywhere, fed through Redis: Python's
/// `multiprocessing.Pool` across hosts.
///
/// Workers are processes started on any host with
/// [`worker`](super::worker())`(url, name)`; functions are registered in the
/// workers and in the client with [`process::register`](crate::process::register),
/// as for [`process::Pool`](crate::process::Pool). Every call puts its chunks
/// on the pool's job queue (a [`cluster::Queue`](super::Queue) named
/// `pool:NAME`) and collects the answers from a reply list of its own, keyed
/// by job id, in order where the method promises order. Two pools with
/// different names never see each other's jobs.
///
/// A worker that dies mid-job loses its lease; after the workers' visibility
/// timeout the job is delivered to another worker, up to
/// [`PoolOptions::retries`] times, then the call fails with
/// [`PoolError::GaveUp`] naming the job. Delivery is at least once, so a job
/// may run twice (a stalled worker); the client keeps the first answer.
///
/// [`close`](Pool::close) stops this client submitting; [`join`](Pool::join)
/// then waits for its calls to finish; [`terminate`](Pool::terminate) shuts
/// the job queue down for everyone: waiting jobs are dropped, workers exit and
/// unfinished calls fail with [`PoolError::Terminated`].
///
/// # Examples
///
/// ```no_run
/// use threadlet::{cluster, process};
///
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// fn main() {
///     process::register(square);
///     let rt = tokio::runtime::Runtime::new().unwrap();
///     rt.block_on(async {
///         let url = "redis://127.0.0.1/";
///         // Usually on other hosts: `cluster::worker(url, "squares").await`.
///         tokio::spawn(cluster::worker(url, "squares"));
///         let pool = cluster::Pool::connect(url, "squares").await.unwrap();
///         assert_eq!(pool.map(square, 1..=4).await.unwrap(), vec![1, 4, 9, 16]);
///         pool.close();
///         pool.join().await.unwrap();
///     });
/// }
/// ```
#[derive(Clone)]
pub struct Pool {
    inner: Arc<PoolInner>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("cluster::Pool")
            .field("name", &self.inner.name)
            .field("client", &self.inner.client)
            .finish()
    }
}

/// What one call waits on: `(chunk index, encoded Vec<R> or why not)`, an
/// unbounded crate queue that gets exactly one answer per chunk (see
/// [`Delivery`]), so the call counts answers.
type Answers = crate::queue::Queue<(usize, Result<Vec<u8>, PoolError>)>;

/// The collector's side of one call: puts each chunk's first answer on the
/// call's [`Answers`]. Dropped — the collector finished, was aborted, or its
/// runtime went away — it fails every chunk still unanswered with
/// [`PoolError::Terminated`] and ends the call in `outstanding`, so a caller
/// never waits for an answer nobody will give.
struct Delivery {
    inner: Arc<PoolInner>,
    to: Answers,
    seen: Vec<bool>,
    left: usize,
}

impl Delivery {
    /// Counts the call in `outstanding` until dropped.
    fn new(inner: Arc<PoolInner>, to: Answers, chunks: usize) -> Self {
        inner.call_started();
        Self {
            inner,
            to,
            seen: vec![false; chunks],
            left: chunks,
        }
    }

    /// Delivers chunk `i`'s answer; false (and nothing sent) for a duplicate
    /// (delivery is at least once: the first answer is kept) or a bad index.
    fn send(&mut self, i: usize, result: Result<Vec<u8>, PoolError>) -> bool {
        if i >= self.seen.len() || self.seen[i] {
            return false;
        }
        self.seen[i] = true;
        self.left -= 1;
        // Unbounded and never shut down: the put cannot fail.
        let _ = self.to.put_nowait((i, result));
        true
    }

    /// Fails every chunk not answered yet.
    fn fail_all(&mut self, why: &PoolError) {
        for i in 0..self.seen.len() {
            self.send(i, Err(why.clone()));
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        self.fail_all(&PoolError::Terminated);
        self.inner.call_ended();
    }
}

impl Pool {
    /// Connects to the pool `name` on the server at `url`.
    ///
    /// # Errors
    ///
    /// [`ClusterError`] when the server cannot be reached.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), threadlet::cluster::ClusterError> {
    /// let pool = threadlet::cluster::Pool::connect("redis://127.0.0.1/", "p").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect(url: &str, name: &str) -> Result<Self, ClusterError> {
        Self::connect_with(url, name, PoolOptions::default()).await
    }

    /// [`connect`](Pool::connect) with explicit [`PoolOptions`].
    ///
    /// # Errors
    ///
    /// As `connect`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), threadlet::cluster::ClusterError> {
    /// use threadlet::cluster::{Pool, PoolOptions};
    /// let pool = Pool::connect_with("redis://127.0.0.1/", "p", PoolOptions::default().retries(0)).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_with(
        url: &str,
        name: &str,
        options: PoolOptions,
    ) -> Result<Self, ClusterError> {
        let conn = Conn::open(url, options.options.clone())?;
        let jobs = Queue::on(Arc::clone(&conn), &jobs_name(name), 0).await?;
        let mut incr = redis::cmd("INCR");
        incr.arg(format!("threadlet:{{pool:{name}}}:clients"));
        let client: u64 = conn.cmd(&incr, None).await?;
        Ok(Self {
            inner: Arc::new(PoolInner {
                jobs,
                conn,
                name: name.to_owned(),
                client,
                calls: AtomicU64::new(0),
                closed: AtomicBool::new(false),
                terminated: Event::new(),
                outstanding: Mutex::new(0),
                idle: {
                    let idle = Event::new();
                    idle.set();
                    idle
                },
                retries: options.retries,
            }),
        })
    }

    /// The pool's name.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), threadlet::cluster::ClusterError> {
    /// let pool = threadlet::cluster::Pool::connect("redis://127.0.0.1/", "p").await?;
    /// assert_eq!(pool.name(), "p");
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Encodes `items` in chunks, puts them on the job queue and starts the
    /// collector of their answers.
    async fn submit<A, R, F>(
        &self,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<(Answers, usize), PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
    {
        let key = chunks::target_key::<A, R, F>()?;
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(PoolError::NotRunning);
        }
        // The number of workers is unknown here: about 32 chunks a call.
        let encoded = chunks::encode_chunks(items, chunksize, 32)?;
        let inner = &self.inner;
        let call = inner.calls.fetch_add(1, Ordering::Relaxed);
        let reply = format!(
            "threadlet:{{pool:{}}}:reply:{}:{call}",
            inner.name, inner.client
        );
        let ids: Vec<String> = (0..encoded.len())
            .map(|i| format!("{}/{call}#{i}", inner.client))
            .collect();
        let answers = Answers::new(0);
        let chunks = encoded.len();
        let delivery = Delivery::new(Arc::clone(inner), answers.clone(), chunks);
        let collector = tokio::spawn(collect(reply.clone(), ids.clone(), delivery));
        for (index, args) in encoded.into_iter().enumerate() {
            let job = Job {
                id: ids[index].clone(),
                key: key.to_owned(),
                args,
                reply: reply.clone(),
                index: index as u32,
                tries: inner.retries.saturating_add(1),
            };
            if let Err(e) = inner.jobs.put(job).await {
                // Dropping its `Delivery` ends the call in `outstanding`.
                collector.abort();
                return Err(match e {
                    super::PutError::ShutDown(_) => PoolError::Terminated,
                    super::PutError::Encode(_, m) => PoolError::Encode(m),
                    super::PutError::Cluster(_, c) => PoolError::Cluster(c),
                    super::PutError::Full(_) => PoolError::NotRunning,
                });
            }
        }
        Ok((answers, chunks))
    }

    /// Applies `f` to every item on the workers and returns the values in the
    /// items' order (Python's `Pool.map`), in about 32 chunks.
    ///
    /// # Errors
    ///
    /// The first failed chunk's error ([`PoolError::Panicked`],
    /// [`PoolError::GaveUp`], ...), or [`PoolError::NotRunning`] after `close`,
    /// an unregistered `f`, or items that cannot be encoded.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the results; the queued jobs still run.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// fn double(x: i32) -> i32 {
    ///     2 * x
    /// }
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// threadlet::process::register(double);
    /// let pool = threadlet::cluster::Pool::connect("redis://127.0.0.1/", "p").await?;
    /// assert_eq!(pool.map(double, [1, 2]).await?, [2, 4]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn map<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        self.map_with(f, items, None).await
    }

    /// [`map`](Pool::map) with an explicit chunk size (items per job).
    ///
    /// # Errors
    ///
    /// As `map`, plus [`PoolError::InvalidChunksize`] for 0.
    ///
    /// # Cancel safety
    ///
    /// As `map`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// fn double(x: i32) -> i32 {
    ///     2 * x
    /// }
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// threadlet::process::register(double);
    /// let pool = threadlet::cluster::Pool::connect("redis://127.0.0.1/", "p").await?;
    /// assert_eq!(pool.map_chunked(double, 0..3, 1).await?, [0, 2, 4]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn map_chunked<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        self.map_with(f, items, Some(chunksize)).await
    }

    /// The body of `map` and `map_chunked`.
    async fn map_with<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        drop(f);
        let (answers, chunks) = self.submit::<A, R, F>(items, chunksize).await?;
        gather(answers, chunks).await
    }

    /// Runs `f(args)` on a worker and waits for the value (Python's `apply`).
    ///
    /// # Errors
    ///
    /// As [`map`](Pool::map) for one item.
    ///
    /// # Cancel safety
    ///
    /// As `map`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// fn double(x: i32) -> i32 {
    ///     2 * x
    /// }
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// threadlet::process::register(double);
    /// let pool = threadlet::cluster::Pool::connect("redis://127.0.0.1/", "p").await?;
    /// assert_eq!(pool.apply(double, 21).await?, 42);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn apply<A, R, F>(&self, f: F, args: A) -> Result<R, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        self.apply_async(f, args).await?.get().await
    }

    /// Queues `f(args)` and returns a handle to its value (Python's
    /// `apply_async`); the job is on the queue when this returns.
    ///
    /// # Errors
    ///
    /// [`PoolError::NotRunning`] after `close`, an unregistered `f`, arguments
    /// that cannot be encoded, or the server not answering.
    ///
    /// # Cancel safety
    ///
    /// Dropped in flight, the job may or may not have been queued.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// fn double(x: i32) -> i32 {
    ///     2 * x
    /// }
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// threadlet::process::register(double);
    /// let pool = threadlet::cluster::Pool::connect("redis://127.0.0.1/", "p").await?;
    /// let r = pool.apply_async(double, 4).await?;
    /// assert_eq!(r.get().await?, 8);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn apply_async<A, R, F>(&self, f: F, args: A) -> Result<AsyncResult<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        drop(f);
        let (answers, _) = self.submit::<A, R, F>([args], Some(1)).await?;
        Ok(AsyncResult {
            answers,
            _marker: PhantomData,
        })
    }

    /// The values of `f` over `items` as a `Stream`, in the items' order
    /// (Python's `imap`, chunk size 1).
    ///
    /// # Errors
    ///
    /// As `map` for submitting; each failed item is yielded as an `Err`.
    ///
    /// # Cancel safety
    ///
    /// Dropped in flight, some jobs may have been queued; they still run.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// fn double(x: i32) -> i32 {
    ///     2 * x
    /// }
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// threadlet::process::register(double);
    /// let pool = threadlet::cluster::Pool::connect("redis://127.0.0.1/", "p").await?;
    /// let values: Vec<_> = pool.imap(double, 0..3).await?.collect().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn imap<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> Result<PoolStream<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        self.stream(f, items, true).await
    }

    /// As [`imap`](Pool::imap), values in the order they finish (Python's
    /// `imap_unordered`).
    ///
    /// # Errors
    ///
    /// As `imap`.
    ///
    /// # Cancel safety
    ///
    /// As `imap`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// fn double(x: i32) -> i32 {
    ///     2 * x
    /// }
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// threadlet::process::register(double);
    /// let pool = threadlet::cluster::Pool::connect("redis://127.0.0.1/", "p").await?;
    /// let mut values: Vec<i32> = pool
    ///     .imap_unordered(double, 0..3)
    ///     .await?
    ///     .map(Result::unwrap)
    ///     .collect()
    ///     .await;
    /// values.sort();
    /// # Ok(())
    /// # }
    /// ```
    pub async fn imap_unordered<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> Result<PoolStream<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        self.stream(f, items, false).await
    }

    /// The body of `imap` (`ordered`) and `imap_unordered`: one item a job.
    async fn stream<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        ordered: bool,
    ) -> Result<PoolStream<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        drop(f);
        let (answers, chunks) = self.submit::<A, R, F>(items, Some(1)).await?;
        Ok(PoolStream::new(answers, chunks, ordered))
    }

    /// Stops this client submitting work (Python's `close`); calls already
    /// made go on.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = threadlet::cluster::Pool::connect("redis://127.0.0.1/", "p").await?;
    /// pool.close();
    /// pool.join().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
    }

    /// Shuts the pool's job queue down at once, for every client: waiting jobs
    /// are dropped, workers exit after their current job, and this client's
    /// unfinished calls fail with [`PoolError::Terminated`] (Python's
    /// `terminate`; other clients' calls fail the same way within a second).
    ///
    /// # Errors
    ///
    /// [`ClusterError`] when the server does not answer (this client is
    /// closed and its calls are failed anyway).
    ///
    /// # Cancel safety
    ///
    /// Dropped in flight, the queue may or may not have been shut down.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// let pool = threadlet::cluster::Pool::connect("redis://127.0.0.1/", "p").await?;
    /// pool.terminate().await?;
    /// pool.join().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn terminate(&self) -> Result<(), ClusterError> {
        self.close();
        self.inner.terminated.set();
        self.inner.jobs.shutdown_immediate().await
    }

    /// Waits until every call of this client has its answers (Python's
    /// `join`); only after [`close`](Pool::close) or
    /// [`terminate`](Pool::terminate).
    ///
    /// # Errors
    ///
    /// [`PoolError::StillRunning`] before `close`/`terminate`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use threadlet::cluster::PoolError;
    /// let pool = threadlet::cluster::Pool::connect("redis://127.0.0.1/", "p").await?;
    /// assert_eq!(pool.join().await, Err(PoolError::StillRunning));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn join(&self) -> Result<(), PoolError> {
        if !self.inner.closed.load(Ordering::Acquire) {
            return Err(PoolError::StillRunning);
        }
        self.inner.idle.wait().await;
        Ok(())
    }
}

/// Collects the replies of one call from its reply list, keeps the first
/// answer per chunk, and fails what is missing when the pool is terminated.
async fn collect(reply: String, ids: Vec<String>, mut delivery: Delivery) {
    let inner = Arc::clone(&delivery.inner);
    let recheck = inner.conn.options.recheck;
    let mut failing_since: Option<Instant> = None;
    while delivery.left > 0 {
        let got = tokio::select! {
            r = inner.conn.blpop(&reply, recheck, None) => r,
            () = inner.terminated.wait() => {
                delivery.fail_all(&PoolError::Terminated);
                break;
            }
        };
        match got {
            Ok(Some(bytes)) => {
                failing_since = None;
                let Ok(Reply { index, outcome }) = postcard::from_bytes::<Reply>(&bytes) else {
                    continue;
                };
                let i = index as usize;
                let Some(job) = ids.get(i).cloned() else {
                    continue;
                };
                let result = match outcome {
                    Outcome::Done(v) => Ok(v),
                    Outcome::Panicked { worker, message } => Err(PoolError::Panicked {
                        job,
                        worker,
                        message,
                    }),
                    Outcome::Failed(message) => Err(PoolError::Worker { job, message }),
                    Outcome::GaveUp(deliveries) => Err(PoolError::GaveUp { job, deliveries }),
                };
                // A duplicate answer (at-least-once) is dropped: the first is kept.
                delivery.send(i, result);
            }
            Ok(None) => {
                failing_since = None;
                // Terminated by another client: nothing waits, nothing is leased.
                if let Ok(s) = inner.jobs.stats().await
                    && s.shut_down
                    && s.len == 0
                    && s.leased == 0
                {
                    delivery.fail_all(&PoolError::Terminated);
                    break;
                }
            }
            Err(e) => {
                // Ride out a restart; give up after a long outage.
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > inner.conn.options.op_timeout * 6 {
                    delivery.fail_all(&PoolError::Cluster(e));
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    let mut del = redis::cmd("DEL");
    del.arg(&reply);
    let _: Result<i64, _> = inner.conn.cmd(&del, None).await;
    // `delivery` drops here: the call ends in `outstanding`.
}

/// Waits for every chunk and returns the values in order.
async fn gather<R: DeserializeOwned>(answers: Answers, chunks: usize) -> Result<Vec<R>, PoolError> {
    let mut parts: Vec<Option<Vec<R>>> = (0..chunks).map(|_| None).collect();
    for _ in 0..chunks {
        // Never shut down: the error arm is unreachable, mapped for honesty.
        let (i, r) = answers.get().await.map_err(|_| PoolError::Terminated)?;
        parts[i] = Some(decode(&r?)?);
    }
    Ok(parts.into_iter().flatten().flatten().collect())
}

fn decode<R: DeserializeOwned>(bytes: &[u8]) -> Result<Vec<R>, PoolError> {
    postcard::from_bytes(bytes).map_err(|e| PoolError::Worker {
        job: String::new(),
        message: format!("cannot decode the values: {e}"),
    })
}

/// The value of [`Pool::apply_async`], to be fetched once.
pub struct AsyncResult<R> {
    answers: Answers,
    _marker: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for AsyncResult<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("cluster::AsyncResult")
            .finish_non_exhaustive()
    }
}

impl<R: DeserializeOwned> AsyncResult<R> {
    /// Waits for the value.
    ///
    /// # Errors
    ///
    /// The job's error (see [`PoolError`]).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the value.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// fn double(x: i32) -> i32 {
    ///     2 * x
    /// }
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// threadlet::process::register(double);
    /// let pool = threadlet::cluster::Pool::connect("redis://127.0.0.1/", "p").await?;
    /// assert_eq!(pool.apply_async(double, 1).await?.get().await?, 2);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(self) -> Result<R, PoolError> {
        self.get_timeout(Duration::MAX).await
    }

    /// Waits at most `timeout` for the value (Python's `get(timeout)`).
    ///
    /// # Errors
    ///
    /// [`PoolError::Timeout`], or the job's error.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the value.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// fn double(x: i32) -> i32 {
    ///     2 * x
    /// }
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// threadlet::process::register(double);
    /// let pool = threadlet::cluster::Pool::connect("redis://127.0.0.1/", "p").await?;
    /// let r = pool.apply_async(double, 1).await?;
    /// assert_eq!(r.get_timeout(Duration::from_secs(10)).await?, 2);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get_timeout(self, timeout: Duration) -> Result<R, PoolError> {
        let (_, r) = match self.answers.get_timeout(timeout).await {
            Ok(got) => got,
            Err(e) if e.is_empty() => return Err(PoolError::Timeout),
            Err(_) => return Err(PoolError::Terminated),
        };
        decode(&r?)?.pop().ok_or(PoolError::Terminated)
    }
}

/// The `Stream` of [`Pool::imap`] and [`Pool::imap_unordered`].
pub struct PoolStream<R> {
    answers: crate::queue::QueueStream<(usize, Result<Vec<u8>, PoolError>), crate::queue::Fifo>,
    ordered: bool,
    next: usize,
    left: usize,
    held: BTreeMap<usize, Result<Vec<u8>, PoolError>>,
    ready: VecDeque<Result<R, PoolError>>,
}

impl<R> fmt::Debug for PoolStream<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("cluster::PoolStream")
            .field("ordered", &self.ordered)
            .field("left", &self.left)
            .finish()
    }
}

impl<R> PoolStream<R> {
    fn new(answers: Answers, chunks: usize, ordered: bool) -> Self {
        Self {
            answers: answers.stream(),
            ordered,
            next: 0,
            left: chunks,
            held: BTreeMap::new(),
            ready: VecDeque::new(),
        }
    }
}

impl<R: DeserializeOwned> PoolStream<R> {
    fn push(&mut self, r: Result<Vec<u8>, PoolError>) {
        match r.and_then(|b| decode::<R>(&b)) {
            Ok(values) => self.ready.extend(values.into_iter().map(Ok)),
            Err(e) => self.ready.push_back(Err(e)),
        }
    }
}

impl<R: DeserializeOwned> Stream for PoolStream<R> {
    type Item = Result<R, PoolError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(v) = this.ready.pop_front() {
                return Poll::Ready(Some(v));
            }
            if let Some(r) = this.held.remove(&this.next) {
                this.next += 1;
                this.push(r);
                continue;
            }
            if this.left == 0 {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.answers).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => {
                    this.left = 0;
                    this.held.clear();
                    return Poll::Ready(Some(Err(PoolError::Terminated)));
                }
                Poll::Ready(Some((i, r))) => {
                    this.left -= 1;
                    if this.ordered {
                        this.held.insert(i, r);
                    } else {
                        this.push(r);
                    }
                }
            }
        }
    }
}

impl<R> Unpin for PoolStream<R> {}
