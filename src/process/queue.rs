//! `process::Queue`: a FIFO queue shared between processes.
//!
//! The process that creates the queue serves it: a task on its process driver
//! thread listens on an abstract Unix socket (no file to clean up) and keeps the
//! items. A handle is just the socket's name, so it travels to children as an
//! ordinary serde argument; each handle opens its own connection on first use.
//! A `get` is two-phase (the item, then the taker's acknowledgement), so an item
//! whose taker dies or is cancelled before the acknowledgement goes back to the
//! front of the queue instead of being lost.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

use super::codec;
use super::driver;
use crate::error::ProcessQueueError;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How long a request may wait at the server.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum Wait {
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
    Put { item: Vec<u8>, wait: Wait },
    Get { wait: Wait },
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

/// The owner's side: the items and the wake-ups.
struct Server {
    items: Mutex<VecDeque<Vec<u8>>>,
    maxsize: usize,
    not_empty: Notify,
    not_full: Notify,
}

impl Server {
    /// Runs `f` on the items until it returns `Some`, waiting on `notify`
    /// between tries as `wait` allows.
    async fn wait_for<T>(
        &self,
        notify: &Notify,
        wait: Wait,
        mut f: impl FnMut(&mut VecDeque<Vec<u8>>) -> Option<T>,
    ) -> Option<T> {
        let deadline = match wait {
            Wait::Millis(ms) => tokio::time::Instant::now().checked_add(Duration::from_millis(ms)),
            _ => None,
        };
        loop {
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(v) = f(&mut lock(&self.items)) {
                return Some(v);
            }
            match (wait, deadline) {
                (Wait::No, _) => return None,
                (Wait::Millis(_), Some(at)) => {
                    if tokio::time::timeout_at(at, notified).await.is_err() {
                        return f(&mut lock(&self.items));
                    }
                }
                _ => notified.await,
            }
        }
    }

    async fn put(&self, item: Vec<u8>, wait: Wait) -> bool {
        let maxsize = self.maxsize;
        let mut item = Some(item);
        let done = self
            .wait_for(&self.not_full, wait, |items| {
                (maxsize == 0 || items.len() < maxsize).then(|| {
                    items.extend(item.take());
                })
            })
            .await
            .is_some();
        if done {
            self.not_empty.notify_one();
        }
        done
    }

    async fn get(&self, wait: Wait) -> Option<Vec<u8>> {
        let item = self
            .wait_for(&self.not_empty, wait, VecDeque::pop_front)
            .await;
        if item.is_some() {
            self.not_full.notify_one();
        }
        item
    }

    /// Puts back an item whose taker never acknowledged it.
    fn unget(&self, item: Vec<u8>) {
        lock(&self.items).push_front(item);
        self.not_empty.notify_one();
    }
}

/// Serves one connection until it closes.
async fn serve(server: Arc<Server>, stream: tokio::net::UnixStream) {
    let (rd, mut wr) = stream.into_split();
    let mut rd = tokio::io::BufReader::new(rd);
    loop {
        let Ok(request) = codec::read_frame_async::<Request, _>(&mut rd).await else {
            return;
        };
        let response = match request {
            Request::Put { item, wait } => {
                if server.put(item, wait).await {
                    Response::Done
                } else {
                    Response::Full
                }
            }
            Request::Get { wait } => match server.get(wait).await {
                Some(item) => {
                    let frame = codec::frame(&Response::Item(item.clone())).unwrap_or_default();
                    if wr.write_all(&frame).await.is_err() {
                        server.unget(item);
                        return;
                    }
                    if !matches!(
                        codec::read_frame_async::<Request, _>(&mut rd).await,
                        Ok(Request::Ack)
                    ) {
                        // The taker died or gave up before taking it.
                        server.unget(item);
                        return;
                    }
                    continue;
                }
                None => Response::Empty,
            },
            Request::Ack => continue,
            Request::Qsize => Response::Size(lock(&server.items).len() as u64),
        };
        let frame = codec::frame(&response).unwrap_or_default();
        if wr.write_all(&frame).await.is_err() {
            return;
        }
    }
}

/// A connection from this handle to the owner.
struct Client {
    name: String,
    conn: Mutex<Option<UnixStream>>,
    /// Items taken from the owner whose `get` was cancelled: handed out first.
    stash: Mutex<VecDeque<Vec<u8>>>,
}

impl Client {
    fn new(name: String) -> Arc<Self> {
        Arc::new(Self {
            name,
            conn: Mutex::new(None),
            stash: Mutex::new(VecDeque::new()),
        })
    }

    /// Sends `request` and reads the response on this handle's connection
    /// (opened on first use); a broken connection is `Closed`.
    fn call(&self, request: &Request, ack_item: bool) -> Result<Response, ProcessQueueError> {
        self.call_locked(&mut lock(&self.conn), request, ack_item)
    }

    fn call_locked(
        &self,
        conn: &mut Option<UnixStream>,
        request: &Request,
        ack_item: bool,
    ) -> Result<Response, ProcessQueueError> {
        if conn.is_none() {
            let addr = SocketAddr::from_abstract_name(self.name.as_bytes())
                .map_err(|_| ProcessQueueError::Closed)?;
            *conn = Some(UnixStream::connect_addr(&addr).map_err(|_| ProcessQueueError::Closed)?);
        }
        let stream = conn.as_mut().ok_or(ProcessQueueError::Closed)?;
        let result = (|| -> io::Result<Response> {
            codec::write_frame(stream, request)?;
            let response = codec::read_frame::<Response>(stream)?;
            if ack_item && matches!(response, Response::Item(_)) {
                codec::write_frame(stream, &Request::Ack)?;
            }
            Ok(response)
        })();
        result.map_err(|_| {
            *conn = None;
            ProcessQueueError::Closed
        })
    }

    fn put(&self, item: Vec<u8>, wait: Wait) -> Result<(), ProcessQueueError> {
        match self.call(&Request::Put { item, wait }, false)? {
            Response::Done => Ok(()),
            Response::Full => Err(ProcessQueueError::Full),
            _ => Err(ProcessQueueError::Closed),
        }
    }

    /// Takes one item into the stash (unless one is there already).
    fn get(&self, wait: Wait) -> Result<(), ProcessQueueError> {
        // Holding the connection, no other call of this handle is in flight,
        // so a stashed item is not about to arrive behind our back.
        let mut conn = lock(&self.conn);
        if !lock(&self.stash).is_empty() {
            return Ok(());
        }
        match self.call_locked(&mut conn, &Request::Get { wait }, true)? {
            Response::Item(item) => {
                lock(&self.stash).push_back(item);
                Ok(())
            }
            Response::Empty => Err(ProcessQueueError::Empty),
            _ => Err(ProcessQueueError::Closed),
        }
    }
}

static QUEUES: AtomicU32 = AtomicU32::new(0);

/// A FIFO queue shared between processes: Python's `multiprocessing.Queue`.
///
/// Items are serde values. The process that calls [`Queue::new`] owns and
/// serves the queue; pass the handle to children as (part of) a target's
/// arguments and use it from both sides. If the owner exits, every operation
/// fails with [`ProcessQueueError::Closed`] instead of hanging. Async methods
/// for tasks, `blocking_*` ones for process targets (plain functions).
///
/// `qsize` is exact (the owner counts the items). Each handle has its own
/// connection; clones open their own.
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
            .field("name", &self.client.name)
            .finish()
    }
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Self {
            client: Client::new(self.client.name.clone()),
            _item: PhantomData,
        }
    }
}

impl<T> Serialize for Queue<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.client.name.serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for Queue<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self {
            client: Client::new(String::deserialize(deserializer)?),
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
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "threadlet-queue-{}-{}-{nanos}",
            std::process::id(),
            QUEUES.fetch_add(1, Ordering::Relaxed)
        );
        let listener = UnixListener::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes())?)?;
        listener.set_nonblocking(true)?;
        let server = Arc::new(Server {
            items: Mutex::new(VecDeque::new()),
            maxsize,
            not_empty: Notify::new(),
            not_full: Notify::new(),
        });
        let (ready, started) = std::sync::mpsc::sync_channel(1);
        driver::call(move || {
            let listener = match tokio::net::UnixListener::from_std(listener) {
                Ok(listener) => listener,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            let _ = ready.send(Ok(()));
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(Arc::clone(&server), stream));
                }
            });
        })?;
        started
            .recv()
            .map_err(|_| io::Error::other("the process driver stopped"))??;
        Ok(Self {
            client: Client::new(name),
            _item: PhantomData,
        })
    }

    fn encode(item: &T) -> Result<Vec<u8>, ProcessQueueError> {
        postcard::to_stdvec(item).map_err(|e| ProcessQueueError::Codec(e.to_string()))
    }

    fn take_stashed(&self) -> Result<T, ProcessQueueError> {
        let bytes = lock(&self.client.stash)
            .pop_front()
            .ok_or(ProcessQueueError::Empty)?;
        postcard::from_bytes(&bytes).map_err(|e| ProcessQueueError::Codec(e.to_string()))
    }

    /// Puts an item, blocking this thread while the queue is full.
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Closed`] if the owner is gone;
    /// [`ProcessQueueError::Codec`] if the item cannot be encoded.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::process::Queue::new(0).unwrap();
    /// q.blocking_put(1u8).unwrap();
    /// assert_eq!(q.blocking_get().unwrap(), 1);
    /// ```
    pub fn blocking_put(&self, item: T) -> Result<(), ProcessQueueError> {
        self.client.put(Self::encode(&item)?, Wait::Forever)
    }

    /// Takes the oldest item, blocking this thread until there is one.
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Closed`] if the owner is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::process::Queue::new(0).unwrap();
    /// q.blocking_put("x".to_string()).unwrap();
    /// assert_eq!(q.blocking_get().unwrap(), "x");
    /// ```
    pub fn blocking_get(&self) -> Result<T, ProcessQueueError> {
        self.client.get(Wait::Forever)?;
        self.take_stashed()
    }

    /// Takes the oldest item, blocking this thread for at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Empty`] when none came in time; `Closed` as above.
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
    pub fn blocking_get_timeout(&self, timeout: Duration) -> Result<T, ProcessQueueError> {
        self.client.get(Wait::of(timeout))?;
        self.take_stashed()
    }

    /// The number of items in the queue (exact: the owner counts them).
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
        match self.client.call(&Request::Qsize, false)? {
            Response::Size(n) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
            _ => Err(ProcessQueueError::Closed),
        }
    }

    /// Runs a blocking client call on tokio's blocking pool.
    async fn off_thread<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Client) -> Result<R, ProcessQueueError> + Send + 'static,
    ) -> Result<R, ProcessQueueError> {
        let client = Arc::clone(&self.client);
        tokio::task::spawn_blocking(move || f(&client))
            .await
            .unwrap_or(Err(ProcessQueueError::Closed))
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
        let bytes = Self::encode(&item)?;
        self.off_thread(move |c| c.put(bytes, Wait::Forever)).await
    }

    /// Puts an item only if there is room now (Python's `put_nowait`).
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Full`] when full; `Closed` / `Codec` as `put`.
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
    /// use threadlet::error::ProcessQueueError;
    ///
    /// let q = threadlet::process::Queue::new(1).unwrap();
    /// q.put_nowait(1u8).await.unwrap();
    /// assert_eq!(q.put_nowait(2).await, Err(ProcessQueueError::Full));
    /// # }
    /// ```
    pub async fn put_nowait(&self, item: T) -> Result<(), ProcessQueueError> {
        let bytes = Self::encode(&item)?;
        self.off_thread(move |c| c.put(bytes, Wait::No)).await
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
        let bytes = Self::encode(&item)?;
        let wait = Wait::of(timeout);
        self.off_thread(move |c| c.put(bytes, wait)).await
    }

    /// Takes the oldest item, waiting until there is one (Python's `get`).
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Closed`] if the owner is gone.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: an item taken for a dropped `get` stays with this handle
    /// and is the next one its `get` returns; an item whose taker process dies
    /// before acknowledging it goes back to the front of the queue.
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
        self.off_thread(|c| c.get(Wait::Forever)).await?;
        self.take_stashed()
    }

    /// Takes the oldest item if there is one now (Python's `get_nowait`).
    ///
    /// # Errors
    ///
    /// [`ProcessQueueError::Empty`] when empty; `Closed` as `get`.
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
    /// use threadlet::error::ProcessQueueError;
    ///
    /// let q = threadlet::process::Queue::<u8>::new(0).unwrap();
    /// assert_eq!(q.get_nowait().await, Err(ProcessQueueError::Empty));
    /// # }
    /// ```
    #[doc(alias = "try_get")]
    pub async fn get_nowait(&self) -> Result<T, ProcessQueueError> {
        self.off_thread(|c| c.get(Wait::No)).await?;
        self.take_stashed()
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
        let wait = Wait::of(timeout);
        self.off_thread(move |c| c.get(wait)).await?;
        self.take_stashed()
    }
}
