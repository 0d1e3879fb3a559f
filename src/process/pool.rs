//! `Pool`: long-lived worker processes fed from one task queue.
//!
//! Each worker is a daemon child (re-executed like any `Process`) that runs
//! tasks from its socket until the pool closes it. A supervisor task per worker
//! slot, on the process driver thread, takes the next task from the shared
//! queue, sends it, and waits for the answer; when the worker dies mid-task, that
//! task fails with [`PoolError::WorkerDied`] and the slot starts a new worker.

use std::any::TypeId;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_core::Stream;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::watch;

use super::codec::{self, Launch, POOL_WORKER, PoolReply, Report};
use super::current::{self, INITIALIZED, identity_name, next_identity};
use super::driver;
use super::lock;
use super::registry::{self, Lookup};
use crate::error::PoolError;

/// A chunk's encoded `Vec<R>`, or why it failed.
type ChunkResult = Result<Vec<u8>, PoolError>;

/// One chunk of work and where its answer goes.
struct PoolJob {
    key: &'static str,
    /// The chunk's encoded `Vec<A>`.
    args: Vec<u8>,
    index: usize,
    reply: UnboundedSender<(usize, ChunkResult)>,
}

struct PoolShared {
    /// The task queue every worker slot takes from.
    jobs: tokio::sync::Mutex<UnboundedReceiver<PoolJob>>,
    /// Set by `terminate` (or a worker that cannot start).
    stop: watch::Sender<bool>,
    /// Worker slots still running.
    live: watch::Sender<usize>,
    /// Current workers' pids.
    pids: Mutex<Vec<u32>>,
    /// Slots waiting for work (no task in flight).
    idle: AtomicUsize,
    /// Why queued work fails once the pool stopped.
    failure: Mutex<PoolError>,
}

impl PoolShared {
    /// Stops every slot and fails all queued work with `why` (on the driver).
    fn stop(self: &Arc<Self>, why: PoolError) {
        {
            let mut failure = lock(&self.failure);
            if !*self.stop.borrow() {
                *failure = why;
            }
        }
        self.stop.send_replace(true);
        let shared = Arc::clone(self);
        let _ = driver::call(move || {
            tokio::spawn(async move {
                let mut jobs = shared.jobs.lock().await;
                jobs.close();
                while let Some(job) = jobs.recv().await {
                    let why = lock(&shared.failure).clone();
                    let _ = job.reply.send((job.index, Err(why)));
                }
            });
        });
    }
}

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
    jobs: Mutex<Option<UnboundedSender<PoolJob>>>,
    processes: usize,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("processes", &self.processes)
            .field("running", &lock(&self.jobs).is_some())
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
        let (tx, rx) = unbounded_channel();
        let (stop, _) = watch::channel(false);
        let (live, _) = watch::channel(processes);
        let shared = Arc::new(PoolShared {
            jobs: tokio::sync::Mutex::new(rx),
            stop,
            live,
            pids: Mutex::new(Vec::new()),
            idle: AtomicUsize::new(0),
            failure: Mutex::new(PoolError::Terminated),
        });
        let slots = Arc::clone(&shared);
        driver::call(move || {
            for _ in 0..processes {
                tokio::spawn(worker_slot(Arc::clone(&slots)));
            }
        })
        .map_err(|e| PoolError::WorkerStart(e.to_string()))?;
        Ok(Self {
            shared,
            jobs: Mutex::new(Some(tx)),
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

    /// Encodes `items` and queues them in chunks of `chunksize`; returns the
    /// answer channel and the number of chunks.
    fn submit<A, R, F>(
        &self,
        items: impl IntoIterator<Item = A>,
        chunksize: Option<usize>,
    ) -> Result<(UnboundedReceiver<(usize, ChunkResult)>, usize), PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
    {
        let key = registry::key_of::<F>();
        match registry::lookup(key, Some(TypeId::of::<F>())) {
            Ok(_) => {}
            Err(Lookup::Unknown) => return Err(PoolError::UnknownTarget(key.to_owned())),
            Err(Lookup::Ambiguous) => return Err(PoolError::AmbiguousTarget(key.to_owned())),
        }
        let items: Vec<A> = items.into_iter().collect();
        let chunksize = match chunksize {
            Some(0) => return Err(PoolError::InvalidChunksize),
            Some(n) => n,
            // Python's map default: about four chunks per worker.
            None => items.len().div_ceil(self.processes * 4).max(1),
        };
        // Encode everything first: a bad item means nothing is sent.
        let encoded = items
            .chunks(chunksize)
            .map(|chunk| postcard::to_stdvec(chunk).map_err(|e| PoolError::Encode(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        let jobs = lock(&self.jobs);
        let Some(tx) = jobs.as_ref() else {
            return Err(PoolError::NotRunning);
        };
        let (reply, answers) = unbounded_channel();
        let chunks = encoded.len();
        for (index, args) in encoded.into_iter().enumerate() {
            let job = PoolJob {
                key,
                args,
                index,
                reply: reply.clone(),
            };
            if tx.send(job).is_err() {
                return Err(lock(&self.shared.failure).clone());
            }
        }
        Ok((answers, chunks))
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
        drop(f);
        let (answers, chunks) = self.submit::<A, R, F>(items, None)?;
        collect(answers, chunks).await
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
        drop(f);
        let (answers, chunks) = self.submit::<A, R, F>(items, Some(chunksize))?;
        collect(answers, chunks).await
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
        Ok(AsyncResult {
            slot: tokio::sync::Mutex::new(Slot {
                answers,
                value: None,
            }),
            _ret: PhantomData,
        })
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
        drop(f);
        let (answers, chunks) = self.submit::<A, R, F>(items, Some(1))?;
        Ok(PoolStream::new(answers, chunks, true))
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
        drop(f);
        let (answers, chunks) = self.submit::<A, R, F>(items, Some(1))?;
        Ok(PoolStream::new(answers, chunks, false))
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
        lock(&self.jobs).take();
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
        lock(&self.jobs).take();
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
        if lock(&self.jobs).is_some() {
            return Err(PoolError::StillRunning);
        }
        let mut live = self.shared.live.subscribe();
        let _ = live.wait_for(|n| *n == 0).await;
        Ok(())
    }
}

/// Gathers `chunks` answers and flattens them in order.
async fn collect<R: DeserializeOwned>(
    mut answers: UnboundedReceiver<(usize, ChunkResult)>,
    chunks: usize,
) -> Result<Vec<R>, PoolError> {
    let mut parts: Vec<Option<Vec<u8>>> = (0..chunks).map(|_| None).collect();
    for _ in 0..chunks {
        match answers.recv().await {
            Some((i, Ok(values))) => parts[i] = Some(values),
            Some((_, Err(e))) => return Err(e),
            None => return Err(PoolError::Terminated),
        }
    }
    let mut out = Vec::new();
    for values in parts.into_iter().flatten() {
        out.extend(decode::<Vec<R>>(&values)?);
    }
    Ok(out)
}

fn decode<R: DeserializeOwned>(bytes: &[u8]) -> Result<R, PoolError> {
    postcard::from_bytes(bytes).map_err(|e| PoolError::Codec(format!("cannot decode a value: {e}")))
}

struct Slot {
    answers: UnboundedReceiver<(usize, ChunkResult)>,
    value: Option<ChunkResult>,
}

impl Slot {
    fn take_ready(&mut self) -> bool {
        if self.value.is_none() {
            match self.answers.try_recv() {
                Ok((_, r)) => self.value = Some(r),
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                    self.value = Some(Err(PoolError::Terminated));
                }
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => {}
            }
        }
        self.value.is_some()
    }
}

/// The pending value of [`Pool::apply_async`] (Python's `AsyncResult`).
pub struct AsyncResult<R> {
    slot: tokio::sync::Mutex<Slot>,
    _ret: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for AsyncResult<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult").finish_non_exhaustive()
    }
}

impl<R: DeserializeOwned> AsyncResult<R> {
    /// Waits for the value (Python's `get()`); may be called again, and each
    /// call decodes a fresh copy.
    ///
    /// # Errors
    ///
    /// The task's error: a panic, a dead worker, a terminated pool.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the value is kept for the next call.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::process::{self, Pool};
    ///
    /// fn seven(_: ()) -> u8 {
    ///     7
    /// }
    ///
    /// fn main() {
    ///     process::register(seven);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = Pool::new(1).unwrap();
    ///     let r = pool.apply_async(seven, ()).unwrap();
    ///     assert_eq!(rt.block_on(r.get()).unwrap(), 7);
    ///     assert!(r.ready());
    /// }
    /// ```
    pub async fn get(&self) -> Result<R, PoolError> {
        let mut slot = self.slot.lock().await;
        if slot.value.is_none() {
            let value = match slot.answers.recv().await {
                Some((_, r)) => r,
                None => Err(PoolError::Terminated),
            };
            slot.value = Some(value);
        }
        match slot.value.as_ref() {
            Some(Ok(values)) => decode::<Vec<R>>(values)?
                .into_iter()
                .next()
                .ok_or_else(|| PoolError::Codec("no value".into())),
            Some(Err(e)) => Err(e.clone()),
            None => Err(PoolError::Terminated),
        }
    }

    /// [`get`](AsyncResult::get) for at most `timeout`.
    ///
    /// # Errors
    ///
    /// As `get`, plus [`PoolError::Timeout`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as `get`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::error::PoolError;
    /// use threadlet::process::{self, Pool};
    ///
    /// fn slow(_: ()) {
    ///     std::thread::sleep(Duration::from_secs(5));
    /// }
    ///
    /// fn main() {
    ///     process::register(slow);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = Pool::new(1).unwrap();
    ///     let r = pool.apply_async(slow, ()).unwrap();
    ///     let got = rt.block_on(r.get_timeout(Duration::from_millis(10)));
    ///     assert_eq!(got, Err(PoolError::Timeout));
    /// }
    /// ```
    pub async fn get_timeout(&self, timeout: Duration) -> Result<R, PoolError> {
        crate::wait::timeout::with_timeout(timeout, self.get())
            .await
            .unwrap_or(Err(PoolError::Timeout))
    }

    /// Whether the value (or the error) has arrived (Python's `ready()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::process::{self, Pool};
    ///
    /// fn seven(_: ()) -> u8 {
    ///     7
    /// }
    ///
    /// fn main() {
    ///     process::register(seven);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let pool = Pool::new(1).unwrap();
    ///     let r = pool.apply_async(seven, ()).unwrap();
    ///     rt.block_on(r.get()).unwrap();
    ///     assert!(r.ready());
    /// }
    /// ```
    #[must_use]
    pub fn ready(&self) -> bool {
        self.slot.try_lock().is_ok_and(|mut slot| slot.take_ready())
    }
}

/// The values of [`Pool::imap`] / [`Pool::imap_unordered`], as a
/// `futures::Stream` of `Result<R, PoolError>`.
pub struct PoolStream<R> {
    answers: UnboundedReceiver<(usize, ChunkResult)>,
    chunks: usize,
    received: usize,
    next: usize,
    ordered: bool,
    early: BTreeMap<usize, ChunkResult>,
    ready: VecDeque<R>,
    done: bool,
    _ret: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for PoolStream<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolStream")
            .field("ordered", &self.ordered)
            .field("chunks", &self.chunks)
            .field("received", &self.received)
            .finish()
    }
}

impl<R> PoolStream<R> {
    fn new(answers: UnboundedReceiver<(usize, ChunkResult)>, chunks: usize, ordered: bool) -> Self {
        Self {
            answers,
            chunks,
            received: 0,
            next: 0,
            ordered,
            early: BTreeMap::new(),
            ready: VecDeque::new(),
            done: false,
            _ret: PhantomData,
        }
    }
}

// Nothing in a `PoolStream` is pinned; the values are only moved in and out.
impl<R> Unpin for PoolStream<R> {}

impl<R: DeserializeOwned> PoolStream<R> {
    /// Queues a chunk's values; a chunk that fails (or cannot be decoded) is
    /// one error item.
    fn accept(&mut self, result: ChunkResult) -> Option<PoolError> {
        match result.and_then(|bytes| decode::<Vec<R>>(&bytes)) {
            Ok(values) => {
                self.ready.extend(values);
                None
            }
            Err(e) => Some(e),
        }
    }
}

impl<R: DeserializeOwned> Stream for PoolStream<R> {
    type Item = Result<R, PoolError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(value) = this.ready.pop_front() {
                return Poll::Ready(Some(Ok(value)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            if this.ordered {
                if let Some(result) = this.early.remove(&this.next) {
                    this.next += 1;
                    if let Some(e) = this.accept(result) {
                        return Poll::Ready(Some(Err(e)));
                    }
                    continue;
                }
                if this.next == this.chunks {
                    this.done = true;
                    continue;
                }
            } else if this.received == this.chunks {
                this.done = true;
                continue;
            }
            match this.answers.poll_recv(cx) {
                Poll::Ready(Some((index, result))) => {
                    this.received += 1;
                    if this.ordered {
                        this.early.insert(index, result);
                    } else if let Some(e) = this.accept(result) {
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                Poll::Ready(None) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(PoolError::Terminated)));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// Tasks a worker may hold at once, the one it runs plus those queued in its
/// socket, so it never waits a round trip between tasks: `PIPELINE_SHORT` while
/// its tasks take under `SHORT_TASK` each (trivial tasks, where the per-task
/// overhead matters), else `PIPELINE_LONG`, so long tasks do not queue behind
/// each other while another worker could take them. A slot only takes more
/// than one while no other slot is idle.
const PIPELINE_SHORT: usize = 16;
const PIPELINE_LONG: usize = 2;
const SHORT_TASK: Duration = Duration::from_micros(200);

/// Bytes of task frames a worker may have unanswered beyond the one it runs:
/// well under a socket buffer, so a write never waits on a worker that is itself
/// blocked writing a reply. A larger task is sent only to an idle worker.
const PIPELINE_BYTES: usize = 64 * 1024;

/// A task as it goes on the wire (borrowing the job's arguments).
#[derive(Serialize)]
struct PoolTaskRef<'a> {
    key: &'a str,
    args: &'a [u8],
}

enum Next {
    Job(PoolJob),
    Stop,
    Closed,
}

/// One worker slot, on the driver thread: (re)starts a worker and feeds it
/// tasks until the pool closes or stops.
async fn worker_slot(shared: Arc<PoolShared>) {
    let mut stop = shared.stop.subscribe();
    // Tasks a dead worker had queued but not started: sent to its replacement.
    let mut backlog: VecDeque<PoolJob> = VecDeque::new();
    'respawn: loop {
        let is_stopped = *stop.borrow();
        if is_stopped {
            for job in backlog.drain(..) {
                let _ = job.reply.send((job.index, Err(PoolError::Terminated)));
            }
            break;
        }
        let identity = next_identity();
        let name = identity_name("PoolWorker", &identity);
        let (mut child, sock, _) = match driver::spawn_child(&[]) {
            Ok(spawned) => spawned,
            Err(e) => {
                shared.stop(PoolError::WorkerStart(e.to_string()));
                continue;
            }
        };
        let pid = child.id().unwrap_or(0);
        let (rd, mut wr) = sock.into_split();
        let mut rd = tokio::io::BufReader::new(rd);
        let launch = codec::frame(&Launch {
            target: POOL_WORKER.to_owned(),
            name: name.clone(),
            daemon: true,
            identity,
            parent_pid: current::getpid(),
            parent_name: current::my_name().to_owned(),
            args: Vec::new(),
        });
        let launch = match launch {
            Ok(launch) => launch,
            Err(e) => {
                // Cannot happen for this fixed, small frame; if it did, the
                // worker would wait for a launch forever: stop instead.
                let _ = child.start_kill();
                let _ = child.wait().await;
                shared.stop(PoolError::WorkerStart(e.to_string()));
                continue;
            }
        };
        let started = async {
            wr.write_all(&launch).await?;
            codec::read_frame_async::<Report, _>(&mut rd).await
        };
        if !matches!(started.await, Ok(Report::Started)) {
            // Never dispatched (its `main` lacks `init()`?): stop rather than
            // respawn in a loop.
            let exitcode = exit_code(child.wait().await);
            shared.stop(PoolError::WorkerStart(format!(
                "{name} exited with code {exitcode} before running any task; \
                 does main call threadlet::process::init()?"
            )));
            continue;
        }
        lock(&shared.pids).push(pid);
        let forget_pid = |shared: &PoolShared| lock(&shared.pids).retain(|p| *p != pid);
        // Sent and unanswered: the job, when it was sent, its frame's size.
        let mut inflight: VecDeque<(PoolJob, Instant, usize)> = VecDeque::new();
        let mut inflight_bytes = 0;
        let mut out = Vec::new();
        // The worker's time per task (moving average); unknown at first.
        let mut per_task: Option<Duration> = None;
        let mut last_reply = Instant::now();
        loop {
            // Fill this worker's pipeline.
            out.clear();
            let depth = match per_task {
                Some(t) if t < SHORT_TASK => PIPELINE_SHORT,
                _ => PIPELINE_LONG,
            };
            while inflight.len() < depth {
                let next = if let Some(job) = backlog.pop_front() {
                    Next::Job(job)
                } else if inflight.is_empty() {
                    shared.idle.fetch_add(1, Ordering::SeqCst);
                    let next = tokio::select! {
                        biased;
                        () = stopped(&mut stop) => Next::Stop,
                        job = async { shared.jobs.lock().await.recv().await } => match job {
                            Some(job) => Next::Job(job),
                            None => Next::Closed,
                        },
                    };
                    shared.idle.fetch_sub(1, Ordering::SeqCst);
                    next
                } else if inflight_bytes < PIPELINE_BYTES && shared.idle.load(Ordering::SeqCst) == 0
                {
                    match shared.jobs.try_lock().map(|mut jobs| jobs.try_recv()) {
                        Ok(Ok(job)) => Next::Job(job),
                        _ => break,
                    }
                } else {
                    break;
                };
                match next {
                    Next::Job(job) => {
                        let start = out.len();
                        let task = PoolTaskRef {
                            key: job.key,
                            args: &job.args,
                        };
                        if codec::frame_into(&task, &mut out).is_err() {
                            out.truncate(start);
                            let _ = job
                                .reply
                                .send((job.index, Err(PoolError::Codec("task too large".into()))));
                            continue;
                        }
                        let size = out.len() - start;
                        if !inflight.is_empty() && inflight_bytes + size > PIPELINE_BYTES {
                            // Too big to queue behind others: wait for an idle turn.
                            out.truncate(start);
                            backlog.push_front(job);
                            break;
                        }
                        inflight_bytes += size;
                        inflight.push_back((job, Instant::now(), size));
                    }
                    // Stopped while idle: kill the worker now.
                    Next::Stop => {
                        let _ = child.start_kill();
                        let _ = child.wait().await;
                        forget_pid(&shared);
                        continue 'respawn;
                    }
                    // Closed and drained: the worker sees end of file and exits.
                    Next::Closed => {
                        drop(wr);
                        let _ = child.wait().await;
                        forget_pid(&shared);
                        break 'respawn;
                    }
                }
            }
            let reply = tokio::select! {
                biased;
                () = stopped(&mut stop) => {
                    for (job, _, _) in inflight.drain(..) {
                        let _ = job.reply.send((job.index, Err(PoolError::Terminated)));
                    }
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    forget_pid(&shared);
                    continue 'respawn;
                }
                reply = async {
                    if !out.is_empty() {
                        // A dead worker fails the write; its replies already
                        // sent are still read below, so the death is blamed on
                        // the task it was running.
                        let _ = wr.write_all(&out).await;
                    }
                    codec::read_frame_async::<PoolReply, _>(&mut rd).await
                } => reply,
            };
            let Some((job, sent, size)) = inflight.pop_front() else {
                continue;
            };
            inflight_bytes -= size;
            let now = Instant::now();
            let took = now.saturating_duration_since(sent.max(last_reply));
            last_reply = now;
            per_task = Some(per_task.map_or(took, |avg| (avg * 3 + took) / 4));
            let result = match reply {
                Ok(PoolReply::Done(values)) => Ok(values),
                Ok(PoolReply::Panicked(message)) => Err(PoolError::Panicked {
                    worker: name.clone(),
                    message,
                }),
                Ok(PoolReply::UnknownTarget(key)) => Err(PoolError::UnknownTarget(key)),
                Ok(PoolReply::Codec(msg)) => Err(PoolError::Codec(msg)),
                Err(_) => {
                    // The worker died running this task: report it; its queued
                    // tasks go to the replacement.
                    let exitcode = exit_code(child.wait().await);
                    forget_pid(&shared);
                    let _ = job.reply.send((
                        job.index,
                        Err(PoolError::WorkerDied {
                            worker: name.clone(),
                            exitcode,
                        }),
                    ));
                    backlog.extend(inflight.drain(..).map(|(job, _, _)| job));
                    continue 'respawn;
                }
            };
            let _ = job.reply.send((job.index, result));
        }
    }
    shared.live.send_modify(|n| *n = n.saturating_sub(1));
}

/// Resolves once the pool is stopped.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

fn exit_code(status: std::io::Result<std::process::ExitStatus>) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(status) => status
            .code()
            .unwrap_or_else(|| -status.signal().unwrap_or(0)),
        Err(_) => -1,
    }
}
