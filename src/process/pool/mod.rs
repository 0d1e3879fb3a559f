//! `Pool`: long-lived worker processes fed from one task queue.
//!
//! Each worker is a daemon child (re-executed like any `Process`) that runs
//! tasks from its socket until the pool closes it. A supervisor task per worker
//! slot, on the process driver thread, takes the next task from the shared
//! queue, sends it, and waits for the answer; when the worker dies mid-task, that
//! task fails with [`PoolError::WorkerDied`] and the slot starts a new worker.

pub(crate) mod chunks;
mod results;
mod shared;
mod worker;

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use self::results::{AsyncResult, PoolStream};
use self::results::{ChunkAnswers, collect};
use self::shared::{PoolJob, PoolShared, Reply};
use super::blocking::refuse_runtime_thread;
use super::current::{self, INITIALIZED};
use super::driver;
use crate::error::PoolError;
use crate::wait::blocking::block_on_deadline;
use crate::wait::loom::lock;
use crate::wait::timeout::deadline;

/// A pool of worker processes: Python's `multiprocessing.Pool`.
///
/// `Pool::new(n)` starts `n` long-lived daemon workers (not a process per task).
/// Work is a [`register`](super::register)ed function applied to serde values:
/// [`map`](Pool::map) (order kept), [`apply`](Pool::apply) /
/// [`apply_async`](Pool::apply_async), [`imap`](Pool::imap) (an ordered
/// `Stream`) and [`imap_unordered`](Pool::imap_unordered). A worker that dies
/// mid-task (panic=abort, SIGKILL, OOM) is replaced and the task it held fails
/// with [`PoolError::WorkerDied`] naming it — Python's pool hangs there. A
/// panicking task fails with its message; the worker lives on.
///
/// [`close`](Pool::close) stops new work and lets the queue drain;
/// [`terminate`](Pool::terminate) kills the workers at once; [`join`](Pool::join)
/// waits for the workers to exit after either. Dropping the pool terminates it.
///
/// # Examples
///
/// ```
/// use threadlet::process::{self, Pool};
///
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// fn main() {
///     process::register(square);
///     process::init();
///     let rt = tokio::runtime::Runtime::new().unwrap();
///     rt.block_on(async {
///         let pool = Pool::new(2).unwrap();
///         assert_eq!(pool.map(square, 1..=5).await.unwrap(), vec![1, 4, 9, 16, 25]);
///         assert_eq!(pool.apply(square, 7).await.unwrap(), 49);
///         pool.close();
///         pool.join().await.unwrap();
///     });
/// }
/// ```
pub struct Pool {
    shared: Arc<PoolShared>,
    /// Held while a call queues its chunks, so `close` comes before or after
    /// a whole call, never in its middle.
    submitting: Mutex<()>,
    processes: usize,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("processes", &self.processes)
            .field("running", &!self.shared.is_closed())
            .finish()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.terminate();
    }
}

impl Pool {
    /// Starts a pool of `processes` worker processes.
    ///
    /// Workers are daemons named `PoolWorker-N`; they start in the background,
    /// so this returns at once.
    ///
    /// # Errors
    ///
    /// [`PoolError::InvalidProcesses`] for 0; [`PoolError::DaemonChild`] in a
    /// daemon process; [`PoolError::NotInitialized`] before
    /// [`init`](super::init).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::PoolError;
    /// use threadlet::process::Pool;
    ///
    /// assert_eq!(Pool::new(0).unwrap_err(), PoolError::InvalidProcesses);
    /// ```
    pub fn new(processes: usize) -> Result<Self, PoolError> {
        if processes == 0 {
            return Err(PoolError::InvalidProcesses);
        }
        if current::i_am_daemon() {
            return Err(PoolError::DaemonChild);
        }
        if !INITIALIZED.load(Ordering::Acquire) {
            return Err(PoolError::NotInitialized);
        }
        let shared = Arc::new(PoolShared::new(processes));
        let slots = Arc::clone(&shared);
        driver::call(move || {
            for _ in 0..processes {
                tokio::spawn(worker::run_slot(Arc::clone(&slots)));
            }
        })
        .map_err(|e| PoolError::WorkerStart(e.to_string()))?;
        Ok(Self {
            shared,
            submitting: Mutex::new(()),
            processes,
        })
    }

    /// The number of worker processes.
    ///
    /// # Examples
    ///
    /// ```
    /// fn noop(_: ()) {}
    ///
    /// fn main() {
    ///     threadlet::process::register(noop);
    ///     threadlet::process::init();
    ///     let pool = threadlet::process::Pool::new(3).unwrap();
    ///     assert_eq!(pool.processes(), 3);
    /// }
    /// ```
    #[must_use]
    pub fn processes(&self) -> usize {
        self.processes
    }

    /// The pids of the workers running now (fewer while they start or are
    /// being replaced).
    ///
    /// # Examples
    ///
    /// ```
    /// fn noop(_: ()) {}
    ///
    /// fn main() {
    ///     threadlet::process::register(noop);
    ///     threadlet::process::init();
    ///     let pool = threadlet::process::Pool::new(1).unwrap();
    ///     assert!(pool.worker_pids().len() <= 1);
    /// }
    /// ```
    #[must_use]
    pub fn worker_pids(&self) -> Vec<u32> {
        lock(&self.shared.pids).clone()
    }

    /// Encodes `items` and queues them in chunks of `chunksize` (about four
    /// chunks per worker without one, as Python's `map`); returns the answer
    /// queue and the number of chunks.
    fn submit<A, R, F>(
        &self,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<(ChunkAnswers, usize), PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
    {
        let key = chunks::target_key::<A, R, F>()?;
        let encoded = chunks::encode_chunks(items, chunksize, self.processes * 4)?;
        let _submitting = lock(&self.submitting);
        if self.shared.is_closed() {
            return Err(PoolError::NotRunning);
        }
        let answers = ChunkAnswers::new(0);
        let chunks = encoded.len();
        for (index, args) in encoded.into_iter().enumerate() {
            let job = PoolJob {
                key,
                args,
                reply: Reply::new(answers.clone(), index),
            };
            if self.shared.jobs.put_nowait(job).is_err() {
                return Err(lock(&self.shared.failure).clone());
            }
        }
        Ok((answers, chunks))
    }

    /// The one body of the async `map` forms: queues the call, then collects
    /// its values for at most `timeout` of real time (`Duration::MAX`: no
    /// limit, zero: only what is there at once).
    async fn map_within<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
        timeout: Duration,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        drop(f);
        let (answers, chunks) = self.submit::<A, R, F>(items, chunksize)?;
        driver::real_timeout(timeout, collect(answers, chunks))
            .await
            .unwrap_or(Err(PoolError::Timeout))
    }

    /// The one body of the blocking `map` forms (after their public method
    /// refused a runtime thread): `map_within` on this thread, by the crate's
    /// blocking driver.
    fn blocking_map_within<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
        timeout: Duration,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        drop(f);
        let (answers, chunks) = self.submit::<A, R, F>(items, chunksize)?;
        block_on_deadline(collect(answers, chunks), deadline(timeout))
            .unwrap_or(Err(PoolError::Timeout))
    }

    /// Applies `f` to every item in worker processes and returns the values in
    /// the items' order (Python's `Pool.map`), sending about four chunks per
    /// worker.
    ///
    /// # Errors
    ///
    /// The first failed chunk's error (a panic, a dead worker), or
    /// [`PoolError::NotRunning`] after `close`, an unregistered `f`, or items
    /// that cannot be encoded (nothing is sent then).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the results; the queued chunks still run.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::process::{self, Pool};
    ///
    /// fn len(s: String) -> usize {
    ///     s.len()
    /// }
    ///
    /// fn main() {
    ///     process::register(len);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = Pool::new(2).unwrap();
    ///     let words = ["a", "bb", "ccc"].map(String::from);
    ///     assert_eq!(rt.block_on(pool.map(len, words)).unwrap(), vec![1, 2, 3]);
    /// }
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
        self.map_within(f, items, None, Duration::MAX).await
    }

    /// [`map`](Pool::map) for at most `timeout` of real time (`Duration::MAX`
    /// waits forever; measured as
    /// [`Process::join_timeout`](crate::process::Process::join_timeout) is). On a
    /// timeout the chunks already queued still run; their values are dropped.
    ///
    /// # Errors
    ///
    /// As `map`, plus [`PoolError::Timeout`].
    ///
    /// # Cancel safety
    ///
    /// As `map`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::process::{self, Pool};
    ///
    /// fn inc(x: i32) -> i32 {
    ///     x + 1
    /// }
    ///
    /// fn main() {
    ///     process::register(inc);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = Pool::new(2).unwrap();
    ///     let got = rt.block_on(pool.map_timeout(inc, 0..3, Duration::from_secs(60)));
    ///     assert_eq!(got.unwrap(), vec![1, 2, 3]);
    /// }
    /// ```
    pub async fn map_timeout<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        timeout: Duration,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        self.map_within(f, items, None, timeout).await
    }

    /// [`map`](Pool::map) for a plain OS thread: blocks it until every value
    /// is back. It needs no tokio runtime (the driver thread collects the
    /// values); in async code use `map(..).await`.
    ///
    /// # Errors
    ///
    /// As `map`.
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.map(f, items).await` there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::process::{self, Pool};
    ///
    /// fn inc(x: i32) -> i32 {
    ///     x + 1
    /// }
    ///
    /// fn main() {
    ///     process::register(inc);
    ///     process::init();
    ///     let pool = Pool::new(2).unwrap();
    ///     assert_eq!(pool.blocking_map(inc, 0..3).unwrap(), vec![1, 2, 3]);
    /// }
    /// ```
    #[track_caller]
    pub fn blocking_map<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        refuse_runtime_thread("Pool::blocking_map", "`.map(f, items).await`");
        self.blocking_map_within(f, items, None, Duration::MAX)
    }

    /// [`blocking_map`](Pool::blocking_map) for at most `timeout`
    /// (`Duration::MAX` waits forever). On a timeout the chunks already
    /// queued still run; their values are dropped.
    ///
    /// # Errors
    ///
    /// As `map`, plus [`PoolError::Timeout`].
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.map_timeout(f, items, timeout).await` there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::error::PoolError;
    /// use threadlet::process::{self, Pool};
    ///
    /// fn slow(ms: u64) {
    ///     std::thread::sleep(Duration::from_millis(ms));
    /// }
    ///
    /// fn main() {
    ///     process::register(slow);
    ///     process::init();
    ///     let pool = Pool::new(1).unwrap();
    ///     let got = pool.blocking_map_timeout(slow, [5_000], Duration::from_millis(10));
    ///     assert_eq!(got, Err(PoolError::Timeout));
    /// }
    /// ```
    #[track_caller]
    pub fn blocking_map_timeout<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        timeout: Duration,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        refuse_runtime_thread(
            "Pool::blocking_map_timeout",
            "`.map_timeout(f, items, timeout).await`",
        );
        self.blocking_map_within(f, items, None, timeout)
    }

    /// [`map`](Pool::map) with an explicit chunk size (items per message).
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
    /// ```
    /// use threadlet::process::{self, Pool};
    ///
    /// fn inc(x: i32) -> i32 {
    ///     x + 1
    /// }
    ///
    /// fn main() {
    ///     process::register(inc);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = Pool::new(2).unwrap();
    ///     assert_eq!(rt.block_on(pool.map_chunked(inc, 0..4, 1)).unwrap(), vec![1, 2, 3, 4]);
    /// }
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
        self.map_within(f, items, Some(chunksize), Duration::MAX)
            .await
    }

    /// [`map_chunked`](Pool::map_chunked) for at most `timeout` of real time
    /// (`Duration::MAX` waits forever; measured as
    /// [`map_timeout`](Pool::map_timeout) is). On a timeout the chunks already
    /// queued still run; their values are dropped.
    ///
    /// # Errors
    ///
    /// As `map_chunked`, plus [`PoolError::Timeout`].
    ///
    /// # Cancel safety
    ///
    /// As `map`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::process::{self, Pool};
    ///
    /// fn inc(x: i32) -> i32 {
    ///     x + 1
    /// }
    ///
    /// fn main() {
    ///     process::register(inc);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = Pool::new(2).unwrap();
    ///     let got = rt.block_on(pool.map_chunked_timeout(inc, 0..4, 2, Duration::from_secs(60)));
    ///     assert_eq!(got.unwrap(), vec![1, 2, 3, 4]);
    /// }
    /// ```
    pub async fn map_chunked_timeout<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
        timeout: Duration,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        self.map_within(f, items, Some(chunksize), timeout).await
    }

    /// [`map_chunked`](Pool::map_chunked) for a plain OS thread: blocks it
    /// until every value is back; it needs no tokio runtime.
    ///
    /// # Errors
    ///
    /// As `map_chunked`.
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.map_chunked(f, items, chunksize).await` there, or call it
    /// from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::process::{self, Pool};
    ///
    /// fn inc(x: i32) -> i32 {
    ///     x + 1
    /// }
    ///
    /// fn main() {
    ///     process::register(inc);
    ///     process::init();
    ///     let pool = Pool::new(2).unwrap();
    ///     assert_eq!(pool.blocking_map_chunked(inc, 0..4, 3).unwrap(), vec![1, 2, 3, 4]);
    /// }
    /// ```
    #[track_caller]
    pub fn blocking_map_chunked<A, R, F>(
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
        refuse_runtime_thread(
            "Pool::blocking_map_chunked",
            "`.map_chunked(f, items, chunksize).await`",
        );
        self.blocking_map_within(f, items, Some(chunksize), Duration::MAX)
    }

    /// [`blocking_map_chunked`](Pool::blocking_map_chunked) for at most
    /// `timeout` (`Duration::MAX` waits forever). On a timeout the chunks
    /// already queued still run; their values are dropped.
    ///
    /// # Errors
    ///
    /// As `map_chunked`, plus [`PoolError::Timeout`].
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.map_chunked_timeout(f, items, chunksize, timeout).await`
    /// there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::error::PoolError;
    /// use threadlet::process::{self, Pool};
    ///
    /// fn slow(ms: u64) {
    ///     std::thread::sleep(Duration::from_millis(ms));
    /// }
    ///
    /// fn main() {
    ///     process::register(slow);
    ///     process::init();
    ///     let pool = Pool::new(1).unwrap();
    ///     let got = pool.blocking_map_chunked_timeout(slow, [5_000], 1, Duration::from_millis(10));
    ///     assert_eq!(got, Err(PoolError::Timeout));
    /// }
    /// ```
    #[track_caller]
    pub fn blocking_map_chunked_timeout<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
        timeout: Duration,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        refuse_runtime_thread(
            "Pool::blocking_map_chunked_timeout",
            "`.map_chunked_timeout(f, items, chunksize, timeout).await`",
        );
        self.blocking_map_within(f, items, Some(chunksize), timeout)
    }

    /// Runs `f(args)` in a worker and waits for the value (Python's `apply`).
    ///
    /// # Errors
    ///
    /// As [`map`](Pool::map) for one item.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the value; the task still runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::process::{self, Pool};
    ///
    /// fn pid(_: ()) -> u32 {
    ///     process::getpid()
    /// }
    ///
    /// fn main() {
    ///     process::register(pid);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = Pool::new(1).unwrap();
    ///     assert_ne!(rt.block_on(pool.apply(pid, ())).unwrap(), process::getpid());
    /// }
    /// ```
    pub async fn apply<A, R, F>(&self, f: F, args: A) -> Result<R, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        self.apply_async(f, args)?.get().await
    }

    /// [`apply`](Pool::apply) for at most `timeout` of real time
    /// (`Duration::MAX` waits forever); the task still runs after a timeout.
    ///
    /// # Errors
    ///
    /// As `apply`, plus [`PoolError::Timeout`].
    ///
    /// # Cancel safety
    ///
    /// As `apply`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::process::{self, Pool};
    ///
    /// fn double(x: u8) -> u8 {
    ///     x * 2
    /// }
    ///
    /// fn main() {
    ///     process::register(double);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = Pool::new(1).unwrap();
    ///     let got = rt.block_on(pool.apply_timeout(double, 4, Duration::from_secs(60)));
    ///     assert_eq!(got, Ok(8));
    /// }
    /// ```
    pub async fn apply_timeout<A, R, F>(
        &self,
        f: F,
        args: A,
        timeout: Duration,
    ) -> Result<R, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        self.apply_async(f, args)?.get_timeout(timeout).await
    }

    /// [`apply`](Pool::apply) for a plain OS thread: blocks it until the
    /// value is back; it needs no tokio runtime.
    ///
    /// # Errors
    ///
    /// As `apply`.
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.apply(f, args).await` there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::process::{self, Pool};
    ///
    /// fn double(x: u8) -> u8 {
    ///     x * 2
    /// }
    ///
    /// fn main() {
    ///     process::register(double);
    ///     process::init();
    ///     let pool = Pool::new(1).unwrap();
    ///     assert_eq!(pool.blocking_apply(double, 4), Ok(8));
    /// }
    /// ```
    #[track_caller]
    pub fn blocking_apply<A, R, F>(&self, f: F, args: A) -> Result<R, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        refuse_runtime_thread("Pool::blocking_apply", "`.apply(f, args).await`");
        self.apply_async(f, args)?.blocking_get()
    }

    /// [`blocking_apply`](Pool::blocking_apply) for at most `timeout`
    /// (`Duration::MAX` waits forever); the task still runs after a timeout.
    ///
    /// # Errors
    ///
    /// As `apply`, plus [`PoolError::Timeout`].
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.apply_timeout(f, args, timeout).await` there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::error::PoolError;
    /// use threadlet::process::{self, Pool};
    ///
    /// fn slow(ms: u64) {
    ///     std::thread::sleep(Duration::from_millis(ms));
    /// }
    ///
    /// fn main() {
    ///     process::register(slow);
    ///     process::init();
    ///     let pool = Pool::new(1).unwrap();
    ///     let got = pool.blocking_apply_timeout(slow, 5_000, Duration::from_millis(10));
    ///     assert_eq!(got, Err(PoolError::Timeout));
    /// }
    /// ```
    #[track_caller]
    pub fn blocking_apply_timeout<A, R, F>(
        &self,
        f: F,
        args: A,
        timeout: Duration,
    ) -> Result<R, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
        R: DeserializeOwned,
    {
        refuse_runtime_thread(
            "Pool::blocking_apply_timeout",
            "`.apply_timeout(f, args, timeout).await`",
        );
        self.apply_async(f, args)?.blocking_get_timeout(timeout)
    }

    /// Queues `f(args)` and returns at once with a handle to its value
    /// (Python's `apply_async`).
    ///
    /// # Errors
    ///
    /// [`PoolError::NotRunning`] after `close`, an unregistered `f`, or
    /// arguments that cannot be encoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::process::{self, Pool};
    ///
    /// fn double(x: u8) -> u8 {
    ///     x * 2
    /// }
    ///
    /// fn main() {
    ///     process::register(double);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = Pool::new(2).unwrap();
    ///     let pending: Vec<_> = (1..=3).map(|x| pool.apply_async(double, x).unwrap()).collect();
    ///     for (x, r) in (1..=3).zip(&pending) {
    ///         assert_eq!(rt.block_on(r.get()).unwrap(), x * 2);
    ///     }
    /// }
    /// ```
    pub fn apply_async<A, R, F>(&self, f: F, args: A) -> Result<AsyncResult<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
    {
        drop(f);
        let (answers, _) = self.submit::<A, R, F>([args], Some(1))?;
        Ok(AsyncResult::new(answers))
    }

    /// Applies `f` to every item, yielding the values in order as they become
    /// available (Python's `imap`, chunk size 1).
    ///
    /// # Errors
    ///
    /// As [`map`](Pool::map) for submitting; each stream item carries its own
    /// task's error.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use threadlet::process::{self, Pool};
    ///
    /// fn neg(x: i64) -> i64 {
    ///     -x
    /// }
    ///
    /// fn main() {
    ///     process::register(neg);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = Pool::new(2).unwrap();
    ///     let stream = pool.imap(neg, 1..=3).unwrap();
    ///     let got: Vec<i64> = rt.block_on(stream.map(Result::unwrap).collect());
    ///     assert_eq!(got, vec![-1, -2, -3]);
    /// }
    /// ```
    pub fn imap<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> Result<PoolStream<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
    {
        self.stream(f, items, true)
    }

    /// Like [`imap`](Pool::imap), but yields each value as soon as it is ready,
    /// in any order (Python's `imap_unordered`).
    ///
    /// # Errors
    ///
    /// As [`imap`](Pool::imap).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use threadlet::process::{self, Pool};
    ///
    /// fn neg(x: i64) -> i64 {
    ///     -x
    /// }
    ///
    /// fn main() {
    ///     process::register(neg);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = Pool::new(2).unwrap();
    ///     let stream = pool.imap_unordered(neg, 1..=3).unwrap();
    ///     let mut got: Vec<i64> = rt.block_on(stream.map(Result::unwrap).collect());
    ///     got.sort();
    ///     assert_eq!(got, vec![-3, -2, -1]);
    /// }
    /// ```
    pub fn imap_unordered<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> Result<PoolStream<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
    {
        self.stream(f, items, false)
    }

    /// The body of `imap` (`ordered`) and `imap_unordered`: one item a chunk.
    fn stream<A, R, F>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
        ordered: bool,
    ) -> Result<PoolStream<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
    {
        drop(f);
        let (answers, chunks) = self.submit::<A, R, F>(items, Some(1))?;
        Ok(PoolStream::new(answers, chunks, ordered))
    }

    /// Accepts no more work; the workers exit once the queued work is done
    /// (Python's `close`). Calling it again does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::PoolError;
    /// use threadlet::process::{self, Pool};
    ///
    /// fn one(_: ()) -> u8 {
    ///     1
    /// }
    ///
    /// fn main() {
    ///     process::register(one);
    ///     process::init();
    ///     let pool = Pool::new(1).unwrap();
    ///     pool.close();
    ///     assert_eq!(pool.apply_async(one, ()).unwrap_err(), PoolError::NotRunning);
    /// }
    /// ```
    pub fn close(&self) {
        let _submitting = lock(&self.submitting);
        self.shared.jobs.shutdown();
    }

    /// Kills the workers at once (SIGKILL); queued and running tasks fail with
    /// [`PoolError::Terminated`] (Python's `terminate`). Dropping the pool does
    /// the same.
    ///
    /// # Examples
    ///
    /// ```
    /// fn noop(_: ()) {}
    ///
    /// fn main() {
    ///     threadlet::process::register(noop);
    ///     threadlet::process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = threadlet::process::Pool::new(2).unwrap();
    ///     pool.terminate();
    ///     rt.block_on(pool.join()).unwrap();
    ///     assert!(pool.worker_pids().is_empty());
    /// }
    /// ```
    pub fn terminate(&self) {
        self.close();
        self.shared.stop(PoolError::Terminated);
    }

    /// Waits until every worker has exited, after [`close`](Pool::close) or
    /// [`terminate`](Pool::terminate) (Python's `join`).
    ///
    /// # Errors
    ///
    /// [`PoolError::StillRunning`] if neither was called.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future only stops this caller's wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::PoolError;
    ///
    /// fn noop(_: ()) {}
    ///
    /// fn main() {
    ///     threadlet::process::register(noop);
    ///     threadlet::process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = threadlet::process::Pool::new(1).unwrap();
    ///     assert_eq!(rt.block_on(pool.join()), Err(PoolError::StillRunning));
    ///     pool.close();
    ///     rt.block_on(pool.join()).unwrap();
    /// }
    /// ```
    pub async fn join(&self) -> Result<(), PoolError> {
        if !self.shared.is_closed() {
            return Err(PoolError::StillRunning);
        }
        self.shared.all_exited().await;
        Ok(())
    }

    /// [`join`](Pool::join) without waiting: `Ok` once every worker has
    /// exited, [`PoolError::Timeout`] while some still run.
    ///
    /// # Errors
    ///
    /// [`PoolError::StillRunning`] if neither `close` nor `terminate` was
    /// called; [`PoolError::Timeout`] while a worker still runs.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::PoolError;
    ///
    /// fn noop(_: ()) {}
    ///
    /// fn main() {
    ///     threadlet::process::register(noop);
    ///     threadlet::process::init();
    ///     let pool = threadlet::process::Pool::new(1).unwrap();
    ///     assert_eq!(pool.try_join(), Err(PoolError::StillRunning));
    ///     pool.terminate();
    ///     pool.blocking_join().unwrap();
    ///     assert_eq!(pool.try_join(), Ok(()));
    /// }
    /// ```
    pub fn try_join(&self) -> Result<(), PoolError> {
        // Polled once, never parked.
        block_on_deadline(self.join(), Some(std::time::Instant::now()))
            .unwrap_or(Err(PoolError::Timeout))
    }

    /// [`join`](Pool::join) for at most `timeout` of real time
    /// (`Duration::MAX` waits forever, zero is [`try_join`](Pool::try_join)).
    ///
    /// # Errors
    ///
    /// As `join`, plus [`PoolError::Timeout`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as `join`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// fn noop(_: ()) {}
    ///
    /// fn main() {
    ///     threadlet::process::register(noop);
    ///     threadlet::process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = threadlet::process::Pool::new(1).unwrap();
    ///     pool.close();
    ///     rt.block_on(pool.join_timeout(Duration::from_secs(60))).unwrap();
    /// }
    /// ```
    pub async fn join_timeout(&self, timeout: Duration) -> Result<(), PoolError> {
        driver::real_timeout(timeout, self.join())
            .await
            .unwrap_or(Err(PoolError::Timeout))
    }

    /// [`join`](Pool::join) for a plain OS thread: blocks it until every
    /// worker has exited; it needs no tokio runtime.
    ///
    /// # Errors
    ///
    /// As `join`.
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.join().await` there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// fn noop(_: ()) {}
    ///
    /// fn main() {
    ///     threadlet::process::register(noop);
    ///     threadlet::process::init();
    ///     let pool = threadlet::process::Pool::new(1).unwrap();
    ///     pool.close();
    ///     pool.blocking_join().unwrap();
    ///     assert!(pool.worker_pids().is_empty());
    /// }
    /// ```
    #[track_caller]
    pub fn blocking_join(&self) -> Result<(), PoolError> {
        refuse_runtime_thread("Pool::blocking_join", "`.join().await`");
        self.blocking_join_timeout(Duration::MAX)
    }

    /// [`blocking_join`](Pool::blocking_join) for at most `timeout`
    /// (`Duration::MAX` waits forever, zero is [`try_join`](Pool::try_join)).
    ///
    /// # Errors
    ///
    /// As `join`, plus [`PoolError::Timeout`].
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.join_timeout(timeout).await` there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::error::PoolError;
    ///
    /// fn noop(_: ()) {}
    ///
    /// fn main() {
    ///     threadlet::process::register(noop);
    ///     threadlet::process::init();
    ///     let pool = threadlet::process::Pool::new(1).unwrap();
    ///     let not_closed = pool.blocking_join_timeout(Duration::ZERO);
    ///     assert_eq!(not_closed, Err(PoolError::StillRunning));
    ///     pool.close();
    ///     assert_eq!(pool.blocking_join_timeout(Duration::from_secs(60)), Ok(()));
    /// }
    /// ```
    #[track_caller]
    pub fn blocking_join_timeout(&self, timeout: Duration) -> Result<(), PoolError> {
        refuse_runtime_thread(
            "Pool::blocking_join_timeout",
            "`.join_timeout(timeout).await`",
        );
        block_on_deadline(self.join(), deadline(timeout)).unwrap_or(Err(PoolError::Timeout))
    }
}
