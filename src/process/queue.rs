//! `process::Queue`: a FIFO queue shared between processes.
//!
//! The process that creates the queue serves it: a task on its process driver
//! thread listens through the process transport ([`transport`]:
//! an abstract Unix socket, peer credentials and a secret proven in a
//! handshake) and keeps the items. A handle is the socket's name and the
//! secret, so it travels to children as an ordinary serde argument; each
//! handle opens its own authenticated connection on first use.
//! A `get` is two-phase: the owner reserves one item for the taking handle and
//! drops it only when the handle acknowledges receiving it. An item whose
//! taker dies, or whose async `get` is dropped, before that goes back to the
//! front of the queue instead of being lost. A handle never holds items of
//! its own, so every handle sees every item and `qsize` is exact. Puts into
//! an unbounded queue need no answer, so a producer never waits a round trip.
//! Async operations use an async connection: no thread waits for the owner.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tokio::io::AsyncWriteExt;

use super::blocking::refuse_runtime_thread;
use super::calls::Idle;
use super::codec::{self, FrameError};
use super::transport::{self, Address, ConnectError, TransportError};
use crate::error::ProcessQueueError;
use crate::queue::PriorityQueue;
use crate::sync::Semaphore;

/// How long a request may wait at the server.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) enum Wait {
    No,
    Forever,
    Millis(u64),
}

impl Wait {
    fn of(timeout: Duration) -> Self {
        if timeout == Duration::MAX {
            Self::Forever
        } else {
            Self::Millis(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX))
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
enum Request {
    /// Put, answered with `Done` or `Full`.
    Put {
        item: Vec<u8>,
        wait: Wait,
    },
    /// Put into an unbounded queue: always succeeds, so no answer (the
    /// producer never waits a round trip).
    PutNoReply {
        item: Vec<u8>,
    },
    /// Take one item, waiting as `wait` allows; answered with `Item` or
    /// `Empty`. The item stays reserved for this connection until
    /// acknowledged. One at a time: no handle can hold items back from the
    /// others.
    Get {
        wait: Wait,
    },
    /// The reserved item arrived: drop it.
    Ack,
    Qsize,
}

#[derive(Debug, Serialize, Deserialize)]
enum Response {
    Done,
    Full,
    Item(Vec<u8>),
    Empty,
    Size(u64),
}

/// One queued item and its place in line. Ordered by `seq` alone, so an
/// item put back (its taker never acknowledged it) keeps its place at the
/// front.
#[derive(Debug)]
pub(super) struct Held {
    pub(super) seq: u64,
    pub(super) item: Vec<u8>,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}

impl Eq for Held {}

impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.seq.cmp(&other.seq)
    }
}

/// The owner's side, on the crate's own primitives: the items in a crate
/// queue (lowest `seq` first) and, for a bounded queue, the room in a crate
/// semaphore. An item keeps its room until its taker acknowledges it, so an
/// item put back always fits. A `Pipe` end's inbox is one too (unbounded).
pub(super) struct Server {
    /// Unbounded: the room is counted by `room`.
    items: PriorityQueue<Held>,
    /// `maxsize` permits, `None` for an unbounded queue.
    room: Option<Semaphore>,
    next_seq: AtomicU64,
}

impl Server {
    pub(super) fn new(maxsize: usize) -> Self {
        Self {
            items: PriorityQueue::new(0),
            room: (maxsize != 0).then(|| Semaphore::new(maxsize)),
            next_seq: AtomicU64::new(0),
        }
    }

    /// Puts `item` once there is room, waiting as `wait` allows; `false` if
    /// the queue stayed full. Cancel safe: cancelled, nothing was put.
    pub(super) async fn put(&self, item: Vec<u8>, wait: Wait) -> bool {
        if let Some(room) = &self.room {
            let got = match wait {
                Wait::No => room.try_acquire(),
                Wait::Forever => {
                    room.acquire().await;
                    true
                }
                Wait::Millis(ms) => room.acquire_timeout(Duration::from_millis(ms)).await,
            };
            if !got {
                return false;
            }
        }
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        // Unbounded and never shut down: cannot fail.
        let _ = self.items.put_nowait(Held { seq, item });
        true
    }

    /// Takes the first item, waiting as `wait` allows. Its room stays taken
    /// until [`ack`](Self::ack). Cancel safe: cancelled, nothing was taken.
    pub(super) async fn get(&self, wait: Wait) -> Option<Held> {
        match wait {
            Wait::No => self.items.get_nowait().ok(),
            Wait::Forever => self.items.get().await.ok(),
            Wait::Millis(ms) => self.items.get_timeout(Duration::from_millis(ms)).await.ok(),
        }
    }

    /// The taker has the item: its room is free.
    pub(super) fn ack(&self) {
        if let Some(room) = &self.room {
            // Gives back a permit taken by `put`: the value stays <= maxsize.
            let _ = room.release();
        }
    }

    /// Puts back, in its old place, an item whose taker never acknowledged
    /// it (its room was never given back, so it fits).
    pub(super) fn unget(&self, reserved: Option<Held>) {
        if let Some(held) = reserved {
            let _ = self.items.put_nowait(held);
        }
    }

    pub(super) fn qsize(&self) -> usize {
        self.items.len()
    }
}

/// Serves one authenticated connection until it closes; items it took but
/// never acknowledged go back to the front of the queue. A malformed or
/// out-of-order request ends this connection only.
async fn serve(server: Arc<Server>, stream: tokio::net::UnixStream) -> Result<(), TransportError> {
    let (rd, mut wr) = stream.into_split();
    let mut rd = tokio::io::BufReader::new(rd);
    let mut reserved: Option<Held> = None;
    let result = serve_requests(&server, &mut rd, &mut wr, &mut reserved).await;
    server.unget(reserved);
    result
}

async fn serve_requests(
    server: &Server,
    rd: &mut tokio::io::BufReader<tokio::net::unix::OwnedReadHalf>,
    wr: &mut tokio::net::unix::OwnedWriteHalf,
    reserved: &mut Option<Held>,
) -> Result<(), TransportError> {
    loop {
        let request = codec::read_frame_async::<Request, _>(rd).await?;
        let response = match request {
            Request::Put { item, wait } => {
                let done = tokio::select! {
                    done = server.put(item, wait) => done,
                    // A putter that gives up while it waits for room stops
                    // waiting here, its item not inserted.
                    () = transport::closed(rd) => return Ok(()),
                };
                if done { Response::Done } else { Response::Full }
            }
            Request::PutNoReply { item } => {
                if server.room.is_some() {
                    return Err(TransportError::Protocol(
                        "a put without answer into a bounded queue",
                    ));
                }
                server.put(item, Wait::Forever).await;
                continue;
            }
            Request::Get { wait } => {
                if reserved.is_some() {
                    return Err(TransportError::Protocol(
                        "a get before acknowledging the previous item",
                    ));
                }
                let got = tokio::select! {
                    got = server.get(wait) => got,
                    // A taker that dies while it waits stops waiting here.
                    () = transport::closed(rd) => return Ok(()),
                };
                match got {
                    Some(held) => {
                        let response = Response::Item(held.item);
                        let frame = codec::frame(&response);
                        if let Response::Item(item) = response {
                            // Reserved first: if the answer cannot be sent,
                            // the caller puts it back.
                            *reserved = Some(Held {
                                seq: held.seq,
                                item,
                            });
                        }
                        wr.write_all(&frame?).await?;
                        continue;
                    }
                    None => Response::Empty,
                }
            }
            Request::Ack => {
                if reserved.take().is_none() {
                    return Err(TransportError::Protocol(
                        "acknowledged an item it was not given",
                    ));
                }
                server.ack();
                continue;
            }
            Request::Qsize => Response::Size(server.qsize() as u64),
        };
        wr.write_all(&codec::frame(&response)?).await?;
    }
}

/// A handle's side: the owner's address and one idle connection.
///
/// A call takes the idle connection (or opens and authenticates a new one),
/// makes one exchange, and puts the connection back. Calls that overlap on
/// one handle each use their own connection, so nothing waits for another
/// call of the same handle; an async call that is dropped midway drops its
/// connection, and the owner puts back whatever that call had taken. Items
/// are never held by a handle: a `get` takes exactly one, acknowledged as it
/// arrives, so every other handle sees the rest and `qsize` is exact.
struct Client {
    address: Address,
    /// 0 = unbounded: puts need no answer.
    maxsize: usize,
    /// A connection no call is using.
    idle: Idle,
}

fn connect_error(e: ConnectError) -> ProcessQueueError {
    match e {
        ConnectError::Unreachable => ProcessQueueError::Closed,
        ConnectError::Refused => ProcessQueueError::Authentication,
    }
}

/// Whether the owner answers `request` (puts into an unbounded queue and
/// acknowledgements need no answer).
fn answered(request: &Request) -> bool {
    !matches!(request, Request::PutNoReply { .. } | Request::Ack)
}

/// Whether an answer carried an item, which must be acknowledged.
fn needs_ack(response: &Response) -> bool {
    matches!(response, Response::Item(_))
}

/// One exchange on a blocking connection.
fn exchange_blocking(
    stream: &mut UnixStream,
    request: &Request,
) -> Result<Option<Response>, FrameError> {
    codec::write_frame(stream, request)?;
    if !answered(request) {
        return Ok(None);
    }
    let response = codec::read_frame::<Response>(stream)?;
    if needs_ack(&response) {
        codec::write_frame(stream, &Request::Ack)?;
    }
    Ok(Some(response))
}

/// One exchange on an async connection. Dropped before it returns, the
/// caller drops the connection: items it had received but not handed out
/// were not acknowledged, or the owner sees the connection break inside the
/// acknowledgement, and puts them back either way.
async fn exchange_async(
    stream: &mut tokio::net::UnixStream,
    request: &Request,
) -> Result<Option<Response>, FrameError> {
    stream.write_all(&codec::frame(request)?).await?;
    if !answered(request) {
        return Ok(None);
    }
    let response = codec::read_frame_async::<Response, _>(stream).await?;
    if needs_ack(&response) {
        stream.write_all(&codec::frame(&Request::Ack)?).await?;
    }
    Ok(Some(response))
}

impl Client {
    fn new(address: Address, maxsize: usize) -> Arc<Self> {
        Arc::new(Self {
            address,
            maxsize,
            idle: Idle::default(),
        })
    }

    /// Makes one exchange, blocking this thread.
    fn blocking_call(&self, request: &Request) -> Result<Option<Response>, ProcessQueueError> {
        let mut stream = self.idle.take_blocking(
            || transport::connect(&self.address).map_err(connect_error),
            ProcessQueueError::Closed,
        )?;
        let response =
            exchange_blocking(&mut stream, request).map_err(|_| ProcessQueueError::Closed)?;
        self.idle.give_back(stream);
        Ok(response)
    }

    /// Makes one exchange without blocking a thread.
    async fn call(&self, request: &Request) -> Result<Option<Response>, ProcessQueueError> {
        let mut stream = self
            .idle
            .take_async(
                || async {
                    transport::connect_async(&self.address)
                        .await
                        .map_err(connect_error)
                },
                ProcessQueueError::Closed,
            )
            .await?;
        let response = exchange_async(&mut stream, request)
            .await
            .map_err(|_| ProcessQueueError::Closed)?;
        self.idle.give_back_async(stream);
        Ok(response)
    }

    fn put_request(&self, item: Vec<u8>, wait: Wait) -> Request {
        if self.maxsize == 0 {
            Request::PutNoReply { item }
        } else {
            Request::Put { item, wait }
        }
    }
}

/// What a put's answer means (`None`: a put that needs no answer).
fn put_result(response: Option<Response>) -> Result<(), ProcessQueueError> {
    match response {
        None | Some(Response::Done) => Ok(()),
        Some(Response::Full) => Err(ProcessQueueError::Full),
        Some(_) => Err(ProcessQueueError::Closed),
    }
}

/// The one item a get's answer carries.
fn get_result(response: Option<Response>) -> Result<Vec<u8>, ProcessQueueError> {
    match response {
        Some(Response::Item(item)) => Ok(item),
        Some(Response::Empty) => Err(ProcessQueueError::Empty),
        _ => Err(ProcessQueueError::Closed),
    }
}

fn qsize_result(response: Option<Response>) -> Result<usize, ProcessQueueError> {
    match response {
        Some(Response::Size(n)) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        _ => Err(ProcessQueueError::Closed),
    }
}

/// A FIFO queue shared between processes: Python's `multiprocessing.Queue`.
///
/// Items are serde values. The process that calls [`Queue::new`] owns and
/// serves the queue; pass the handle to children as (part of) a target's
/// arguments and use it from both sides. If the owner exits, every operation
/// fails with [`ProcessQueueError::Closed`] instead of hanging. Async methods
/// for tasks, `blocking_*` ones for process targets (plain functions), and
/// the non-waiting `put_nowait` / `get_nowait` / `qsize` are plain methods
/// for both.
///
/// `qsize` is what the owner holds (see [`qsize`](Queue::qsize)). Each handle
/// has its own connection; clones open their own. The async methods need a
/// tokio runtime with I/O and time enabled (`#[tokio::main]` and
/// `threadlet::run` have both) and never occupy a thread while they wait.
/// Only this process tree can use the queue: see the module's
/// [security notes](crate::process#security). Python's `close` /
/// `join_thread` have no counterpart: a handle's connection closes when it is
/// dropped, and puts are written at once (no feeder thread to flush).
///
/// # Examples
///
/// ```
/// use threadlet::process::{self, Queue};
///
/// fn produce((q, n): (Queue<u32>, u32)) {
///     for i in 0..n {
///         q.blocking_put(i).unwrap();
///     }
/// }
///
/// fn main() {
///     process::register(produce);
///     process::init();
///     let rt = tokio::runtime::Runtime::new().unwrap();
///     rt.block_on(async {
///         let q = Queue::new(0).unwrap();
///         let p = process::spawn_process(produce, (q.clone(), 3)).unwrap();
///         for i in 0..3 {
///             assert_eq!(q.get().await.unwrap(), i);
///         }
///         p.join().await.unwrap();
///     });
/// }
/// ```
pub struct Queue<T> {
    client: Arc<Client>,
    _item: PhantomData<fn(T) -> T>,
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("name", &self.client.address)
            .finish()
    }
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Self {
            client: Client::new(self.client.address.clone(), self.client.maxsize),
            _item: PhantomData,
        }
    }
}

impl<T> Serialize for Queue<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (&self.client.address, self.client.maxsize as u64).serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for Queue<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (address, maxsize) = <(Address, u64)>::deserialize(deserializer)?;
        Ok(Self {
            client: Client::new(address, usize::try_from(maxsize).unwrap_or(usize::MAX)),
            _item: PhantomData,
        })
    }
}

impl<T: Serialize + DeserializeOwned> Queue<T> {
    /// Creates a queue served by this process; `maxsize` 0 means unbounded, as
    /// in Python.
    ///
    /// # Errors
    ///
    /// The socket could not be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::process::Queue::<String>::new(10).unwrap();
    /// assert_eq!(q.qsize().unwrap(), 0);
    /// ```
    pub fn new(maxsize: usize) -> io::Result<Self> {
        let server = Arc::new(Server::new(maxsize));
        let address = transport::listen("queue", move |stream| serve(Arc::clone(&server), stream))?;
        Ok(Self {
            client: Client::new(address, maxsize),
            _item: PhantomData,
        })
    }

    fn encode(item: &T) -> Result<Vec<u8>, ProcessQueueError> {
        let bytes =
            postcard::to_stdvec(item).map_err(|e| ProcessQueueError::Codec(e.to_string()))?;
        codec::check_item(bytes.len()).map_err(ProcessQueueError::Codec)?;
        Ok(bytes)
    }

    fn decode(bytes: &[u8]) -> Result<T, ProcessQueueError> {
        postcard::from_bytes(bytes).map_err(|e| ProcessQueueError::Codec(e.to_string()))
    }

    fn blocking_put_wait(&self, item: &T, wait: Wait) -> Result<(), ProcessQueueError> {
        let request = self.client.put_request(Self::encode(item)?, wait);
        put_result(self.client.blocking_call(&request)?)
    }

    fn blocking_get_wait(&self, wait: Wait) -> Result<T, ProcessQueueError> {
        Self::decode(&get_result(
            self.client.blocking_call(&Request::Get { wait })?,
        )?)
    }

    async fn put_wait(&self, item: &T, wait: Wait) -> Result<(), ProcessQueueError> {
        let request = self.client.put_request(Self::encode(item)?, wait);
        put_result(self.client.call(&request).await?)
    }

    async fn get_wait(&self, wait: Wait) -> Result<T, ProcessQueueError> {
        Self::decode(&get_result(
            self.client.call(&Request::Get { wait }).await?,
        )?)
    }

    /// Puts an item, blocking this thread while the queue is full.
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Closed`] if the owner is gone;
    /// [`ProcessQueueError::Codec`] if the item cannot be encoded.
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.put(item).await` there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::process::Queue::new(0).unwrap();
    /// q.blocking_put(1u8).unwrap();
    /// assert_eq!(q.blocking_get().unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_put(&self, item: T) -> Result<(), ProcessQueueError> {
        refuse_runtime_thread("Queue::blocking_put", "`.put(item).await`");
        self.blocking_put_wait(&item, Wait::Forever)
    }

    /// Takes the oldest item, blocking this thread until there is one.
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Closed`] if the owner is gone.
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
    /// let q = threadlet::process::Queue::new(0).unwrap();
    /// q.blocking_put("x".to_string()).unwrap();
    /// assert_eq!(q.blocking_get().unwrap(), "x");
    /// ```
    #[track_caller]
    pub fn blocking_get(&self) -> Result<T, ProcessQueueError> {
        refuse_runtime_thread("Queue::blocking_get", "`.get().await`");
        self.blocking_get_wait(Wait::Forever)
    }

    /// Puts `item`, blocking this thread for at most `timeout` while a
    /// bounded queue is full (`Duration::MAX` waits forever).
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Full`] when no room came in time; `Closed`,
    /// `Codec` and `Authentication` as for [`blocking_put`](Queue::blocking_put).
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.put_timeout(item, timeout).await` there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::error::ProcessQueueError;
    ///
    /// let q = threadlet::process::Queue::new(1).unwrap();
    /// q.blocking_put_timeout(1u8, Duration::from_millis(10)).unwrap();
    /// assert_eq!(
    ///     q.blocking_put_timeout(2, Duration::from_millis(10)),
    ///     Err(ProcessQueueError::Full)
    /// );
    /// ```
    #[track_caller]
    pub fn blocking_put_timeout(
        &self,
        item: T,
        timeout: Duration,
    ) -> Result<(), ProcessQueueError> {
        refuse_runtime_thread(
            "Queue::blocking_put_timeout",
            "`.put_timeout(item, timeout).await`",
        );
        self.blocking_put_wait(&item, Wait::of(timeout))
    }

    /// Takes the oldest item, blocking this thread for at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Empty`] when none came in time; `Closed` as above.
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
    /// use threadlet::error::ProcessQueueError;
    ///
    /// let q = threadlet::process::Queue::<u8>::new(0).unwrap();
    /// assert_eq!(q.blocking_get_timeout(Duration::from_millis(10)), Err(ProcessQueueError::Empty));
    /// ```
    #[track_caller]
    pub fn blocking_get_timeout(&self, timeout: Duration) -> Result<T, ProcessQueueError> {
        refuse_runtime_thread(
            "Queue::blocking_get_timeout",
            "`.get_timeout(timeout).await`",
        );
        self.blocking_get_wait(Wait::of(timeout))
    }

    /// The number of items in the queue as the owner counts them: exact (no
    /// handle holds items back), though it may change as soon as it returns.
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Closed`] if the owner is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::process::Queue::new(0).unwrap();
    /// q.blocking_put(1u8).unwrap();
    /// assert_eq!(q.qsize().unwrap(), 1);
    /// ```
    #[doc(alias = "len")]
    pub fn qsize(&self) -> Result<usize, ProcessQueueError> {
        qsize_result(self.client.blocking_call(&Request::Qsize)?)
    }

    /// Puts an item, waiting while the queue is full (Python's `put`).
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Closed`] if the owner is gone;
    /// [`ProcessQueueError::Codec`] if the item cannot be encoded.
    ///
    /// # Cancel safety
    ///
    /// Not fully: once the request left, a dropped `put` may still insert the
    /// item (the owner cannot know the caller gave up).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let q = threadlet::process::Queue::new(0).unwrap();
    /// q.put(5i32).await.unwrap();
    /// assert_eq!(q.get().await.unwrap(), 5);
    /// # }
    /// ```
    pub async fn put(&self, item: T) -> Result<(), ProcessQueueError> {
        self.put_wait(&item, Wait::Forever).await
    }

    /// Puts an item only if there is room now (Python's `put_nowait`).
    ///
    /// A plain method, like the in-process queue's: it never waits for room,
    /// only for the owner's answer (one round trip over a local socket, as
    /// [`qsize`](Queue::qsize)), so it serves async code, plain threads and
    /// process targets without a runtime alike. Into an unbounded queue it
    /// does not even wait for that.
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Full`] when a bounded queue has no room;
    /// `Closed`, `Codec` and `Authentication` as for [`put`](Queue::put).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::ProcessQueueError;
    ///
    /// let q = threadlet::process::Queue::new(1).unwrap();
    /// q.put_nowait(1u8).unwrap();
    /// assert_eq!(q.put_nowait(2), Err(ProcessQueueError::Full));
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), ProcessQueueError> {
        self.blocking_put_wait(&item, Wait::No)
    }

    /// Puts an item, waiting at most `timeout` for room.
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Full`] when no room came in time; as `put` otherwise.
    ///
    /// # Cancel safety
    ///
    /// As [`put`](Queue::put).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use threadlet::error::ProcessQueueError;
    ///
    /// let q = threadlet::process::Queue::new(1).unwrap();
    /// q.put(1u8).await.unwrap();
    /// let full = q.put_timeout(2, Duration::from_millis(10)).await;
    /// assert_eq!(full, Err(ProcessQueueError::Full));
    /// # }
    /// ```
    pub async fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), ProcessQueueError> {
        self.put_wait(&item, Wait::of(timeout)).await
    }

    /// Takes the oldest item, waiting until there is one (Python's `get`).
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Closed`] if the owner is gone.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `get` closes its connection, and an item the
    /// owner had reserved for it goes back to the front of the queue, as does
    /// one whose taker process dies before acknowledging it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let q = threadlet::process::Queue::new(0).unwrap();
    /// q.put('a').await.unwrap();
    /// q.put('b').await.unwrap();
    /// assert_eq!(q.get().await.unwrap(), 'a');
    /// assert_eq!(q.get().await.unwrap(), 'b');
    /// # }
    /// ```
    pub async fn get(&self) -> Result<T, ProcessQueueError> {
        self.get_wait(Wait::Forever).await
    }

    /// Takes the oldest item if there is one now (Python's `get_nowait`).
    ///
    /// A plain method, like the in-process queue's: it never waits for an
    /// item, only for the owner's answer (one round trip over a local
    /// socket, as [`qsize`](Queue::qsize)).
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Empty`] when empty; `Closed` and
    /// `Authentication` as for [`get`](Queue::get).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::ProcessQueueError;
    ///
    /// let q = threadlet::process::Queue::<u8>::new(0).unwrap();
    /// assert_eq!(q.get_nowait(), Err(ProcessQueueError::Empty));
    /// q.put_nowait(7).unwrap();
    /// assert_eq!(q.get_nowait(), Ok(7));
    /// ```
    #[doc(alias = "try_get")]
    pub fn get_nowait(&self) -> Result<T, ProcessQueueError> {
        self.blocking_get_wait(Wait::No)
    }

    /// Takes the oldest item, waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Empty`] when none came in time; `Closed` as `get`.
    ///
    /// # Cancel safety
    ///
    /// As [`get`](Queue::get).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use threadlet::error::ProcessQueueError;
    ///
    /// let q = threadlet::process::Queue::<u8>::new(0).unwrap();
    /// let got = q.get_timeout(Duration::from_millis(10)).await;
    /// assert_eq!(got, Err(ProcessQueueError::Empty));
    /// # }
    /// ```
    pub async fn get_timeout(&self, timeout: Duration) -> Result<T, ProcessQueueError> {
        self.get_wait(Wait::of(timeout)).await
    }
}
