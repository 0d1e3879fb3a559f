//! The caller's side of pool work: collecting a call's chunk answers
//! (`map`), one answer (`AsyncResult`), or a stream of them (`PoolStream`).

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use serde::de::DeserializeOwned;

use super::super::blocking::refuse_runtime_thread;
use super::super::driver;
use super::shared::{Answers, ChunkResult};
use crate::error::PoolError;
use crate::queue::{Fifo, QueueStream};
use crate::sync::Lock;
use crate::wait::blocking::block_on_deadline;
use crate::wait::timeout::deadline;

/// One call's answers, `(chunk index, result)`, in the order they come;
/// exactly one per chunk (see [`Answers`]).
pub(super) type ChunkAnswers = Answers;

/// The next answer; the queue is never shut down, so the error arm is only
/// there to keep the type honest.
async fn next_answer(answers: &ChunkAnswers) -> (usize, ChunkResult) {
    answers
        .get()
        .await
        .unwrap_or((usize::MAX, Err(PoolError::Terminated)))
}

/// Gathers `chunks` answers and flattens them in order.
pub(super) async fn collect<R: DeserializeOwned>(
    answers: ChunkAnswers,
    chunks: usize,
) -> Result<Vec<R>, PoolError> {
    let mut parts: Vec<Option<Vec<u8>>> = (0..chunks).map(|_| None).collect();
    for _ in 0..chunks {
        match next_answer(&answers).await {
            (i, Ok(values)) => parts[i] = Some(values),
            (_, Err(e)) => return Err(e),
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
    answers: ChunkAnswers,
    value: Option<ChunkResult>,
}

impl Slot {
    fn take_ready(&mut self) -> bool {
        if self.value.is_none()
            && let Ok((_, r)) = self.answers.get_nowait()
        {
            self.value = Some(r);
        }
        self.value.is_some()
    }
}

/// The pending value of [`Pool::apply_async`](super::Pool::apply_async) (Python's `AsyncResult`).
pub struct AsyncResult<R> {
    /// The crate's async `Lock`, because a `get` holds the slot across its
    /// wait for the answer; concurrent `get`s queue here (FIFO) and each
    /// reads the one stored answer.
    slot: Lock<Slot>,
    _ret: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for AsyncResult<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult").finish_non_exhaustive()
    }
}

impl<R> AsyncResult<R> {
    /// The result of the one-chunk call whose answer comes on `answers`.
    pub(super) fn new(answers: ChunkAnswers) -> Self {
        Self {
            slot: Lock::with_value(Slot {
                answers,
                value: None,
            }),
            _ret: PhantomData,
        }
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
            let (_, value) = next_answer(&slot.answers).await;
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

    /// [`get`](AsyncResult::get) for at most `timeout` of real time
    /// (`Duration::MAX` waits forever, zero never waits; measured as
    /// [`Process::join_timeout`](crate::process::Process::join_timeout) is, so a
    /// paused tokio clock does not expire it).
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
        driver::real_timeout(timeout, self.get())
            .await
            .unwrap_or(Err(PoolError::Timeout))
    }

    /// [`get`](AsyncResult::get) without waiting: the value if it has
    /// arrived, [`PoolError::Timeout`] if not (Python's `get(0)`).
    ///
    /// # Errors
    ///
    /// As `get`, plus [`PoolError::Timeout`] while the value is not there.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::PoolError;
    /// use threadlet::process::{self, Pool};
    ///
    /// fn slow(_: ()) -> u8 {
    ///     std::thread::sleep(std::time::Duration::from_secs(5));
    ///     1
    /// }
    ///
    /// fn main() {
    ///     process::register(slow);
    ///     process::init();
    ///     let pool = Pool::new(1).unwrap();
    ///     let r = pool.apply_async(slow, ()).unwrap();
    ///     assert_eq!(r.try_get(), Err(PoolError::Timeout));
    /// }
    /// ```
    pub fn try_get(&self) -> Result<R, PoolError> {
        // Polled once, never parked: no runtime and no waiting needed.
        block_on_deadline(self.get(), Some(std::time::Instant::now()))
            .unwrap_or(Err(PoolError::Timeout))
    }

    /// [`get`](AsyncResult::get) for a plain OS thread: blocks it until the
    /// value arrives. It needs no tokio runtime (the pool's driver thread
    /// delivers the value); in async code use `get().await`.
    ///
    /// # Errors
    ///
    /// As `get`.
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.get().await` there, or call it from `spawn_blocking`.
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
    ///     let pool = Pool::new(1).unwrap();
    ///     let r = pool.apply_async(seven, ()).unwrap();
    ///     assert_eq!(r.blocking_get().unwrap(), 7);
    /// }
    /// ```
    #[track_caller]
    pub fn blocking_get(&self) -> Result<R, PoolError> {
        refuse_runtime_thread("AsyncResult::blocking_get", "`.get().await`");
        block_on_deadline(self.get(), None).unwrap_or(Err(PoolError::Terminated))
    }

    /// [`blocking_get`](AsyncResult::blocking_get) for at most `timeout`
    /// (`Duration::MAX` waits forever, zero is
    /// [`try_get`](AsyncResult::try_get)).
    ///
    /// # Errors
    ///
    /// As `get`, plus [`PoolError::Timeout`].
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.get_timeout(timeout).await` there, or call it from `spawn_blocking`.
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
    ///     let pool = Pool::new(1).unwrap();
    ///     let r = pool.apply_async(slow, ()).unwrap();
    ///     assert_eq!(r.blocking_get_timeout(Duration::from_millis(10)), Err(PoolError::Timeout));
    /// }
    /// ```
    #[track_caller]
    pub fn blocking_get_timeout(&self, timeout: Duration) -> Result<R, PoolError> {
        refuse_runtime_thread(
            "AsyncResult::blocking_get_timeout",
            "`.get_timeout(timeout).await`",
        );
        block_on_deadline(self.get(), deadline(timeout)).unwrap_or(Err(PoolError::Timeout))
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
        self.slot
            .try_lock()
            .is_some_and(|mut slot| slot.take_ready())
    }
}

/// The values of [`Pool::imap`](super::Pool::imap) / [`Pool::imap_unordered`](super::Pool::imap_unordered), as a
/// `futures::Stream` of `Result<R, PoolError>`.
pub struct PoolStream<R> {
    answers: QueueStream<(usize, ChunkResult), Fifo>,
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
    pub(super) fn new(answers: ChunkAnswers, chunks: usize, ordered: bool) -> Self {
        Self {
            answers: answers.stream(),
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
            match Pin::new(&mut this.answers).poll_next(cx) {
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
