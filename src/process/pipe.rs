//! `Pipe`: two connected ends for messages between processes.
//!
//! Like [`Queue`](super::Queue), the process that creates the pipe serves it
//! through the process transport ([`transport`]: an abstract
//! Unix socket, peer credentials and a secret proven in a handshake), and an
//! end (the socket's name and the secret) travels to a child as an ordinary
//! argument. An end *attaches* when it is first used, or when it is decoded in
//! the receiving process (so a child's end attaches before its target runs).
//! `recv` reports EOF once nothing is left and the other end is gone: it had
//! attached and every process using it has dropped it or exited.
//!
//! An end that is encoded (into a child's arguments) is counted as held from
//! then until the receiving process attaches with the encoding's hand-off
//! ticket, so an end passed on to a grandchild keeps working after the child
//! drops its own copy, and an end given to several processes (clone it for
//! each) is gone only once all of them are. Ends are shared as Python's are:
//! sends from every holder reach the other end, and each message is received
//! by exactly one holder.
//!
//! Limit: an end whose encoding is never decoded (its child was killed before
//! decoding its arguments, or the process was never started) is not known to
//! be gone, so a plain `recv` on the other end waits;
//! `blocking_recv_timeout` bounds it. An end that was never encoded or used
//! is not counted at all.

use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tokio::io::AsyncWriteExt;

use super::blocking::refuse_runtime_thread;
use super::calls::Idle;
use super::codec::{self, FrameError};
use super::queue::{Held, Server as Inbox, Wait};
use super::transport::{self, Address, ConnectError, TransportError};
use crate::error::PipeError;
use crate::sync::Event;
use crate::wait::loom::lock;

#[derive(Debug, Serialize, Deserialize)]
enum Request {
    /// This connection holds end `end` (0 or 1) until it closes: the other
    /// end sees EOF once no connection holds this one (nor a hand-off).
    /// It carries nothing else.
    Attach {
        end: u8,
        /// The hand-off this attachment takes over (see `Handoff`).
        ticket: Option<u64>,
    },
    Send {
        msg: Vec<u8>,
    },
    /// Wait for a message: forever (`None`) or for this many milliseconds.
    Recv {
        millis: Option<u64>,
    },
    /// Carry calls for `end` without counting as holding it.
    Use {
        end: u8,
    },
    /// The message arrived: it may be dropped.
    Ack,
    /// This end is being handed on to another process (encoded into its
    /// arguments): count it as held until a connection attaches with the
    /// ticket, so the hand-off itself does not look like the end going away.
    Handoff,
}

#[derive(Debug, Serialize, Deserialize)]
enum Response {
    Sent,
    Msg(Vec<u8>),
    Eof,
    BrokenPipe,
    Timeout,
    Ticket(u64),
}

#[derive(Default)]
struct EndState {
    /// Connections attached to this end now.
    attached: usize,
    /// Whether any connection ever attached to this end.
    ever: bool,
    /// Hand-offs not yet taken over by the receiving process.
    handoffs: Vec<u64>,
}

impl EndState {
    /// Attached once, and no process holds or is being handed the end now.
    fn gone(&self) -> bool {
        self.ever && self.attached == 0 && self.handoffs.is_empty()
    }
}

/// The owner's side: who holds each end, each end's inbox (the process
/// queue's server, unbounded: messages keep their place when put back), and
/// for each end an event set while it is gone.
struct Server {
    ends: Mutex<[EndState; 2]>,
    inbox: [Inbox; 2],
    /// Set while end `i` is gone; set and cleared under `ends`' lock.
    gone: [Event; 2],
    next_ticket: std::sync::atomic::AtomicU64,
}

impl Server {
    /// Re-derives end `e`'s gone event from its state (under `ends`' lock).
    fn update_gone(&self, ends: &[EndState; 2], e: usize) {
        if ends[e].gone() {
            self.gone[e].set();
        } else {
            self.gone[e].clear();
        }
    }

    /// The next message for end `me`, or `None` once none is left and the
    /// other end is gone. Cancel safe.
    async fn recv(&self, me: usize) -> Option<Held> {
        loop {
            tokio::select! {
                biased;
                held = self.inbox[me].get(Wait::Forever) => return held,
                () = self.gone[1 - me].wait() => {
                    if let Some(held) = self.inbox[me].get(Wait::No).await {
                        return Some(held);
                    }
                    if lock(&self.ends)[1 - me].gone() {
                        return None;
                    }
                    // Attached again meanwhile (its event is clear): wait on.
                }
            }
        }
    }
}

/// What one connection is to the server.
#[derive(Default)]
struct Peer {
    /// The end it acts for.
    end: Option<usize>,
    /// Whether it is an attachment (counted in `attached`) rather than a
    /// connection that only carries calls.
    attached: bool,
    /// A message sent to it and not yet acknowledged: put back in its place
    /// in the inbox if the connection ends first.
    reserved: Option<Held>,
}

/// Serves one authenticated connection until it closes. A malformed or
/// out-of-order request ends this connection only.
async fn serve(server: Arc<Server>, stream: tokio::net::UnixStream) -> Result<(), TransportError> {
    let (rd, mut wr) = stream.into_split();
    let mut rd = tokio::io::BufReader::new(rd);
    let mut peer = Peer::default();
    let result = serve_requests(&server, &mut rd, &mut wr, &mut peer).await;
    if let Some(me) = peer.end {
        server.inbox[me].unget(peer.reserved.take());
        if peer.attached {
            let mut ends = lock(&server.ends);
            ends[me].attached -= 1;
            server.update_gone(&ends, me);
        }
    }
    result
}

/// End 0 or 1, or a protocol error.
fn end_index(end: u8) -> Result<usize, TransportError> {
    match end {
        0 | 1 => Ok(usize::from(end)),
        _ => Err(TransportError::Protocol("an end other than 0 or 1")),
    }
}

async fn serve_requests(
    server: &Server,
    rd: &mut tokio::io::BufReader<tokio::net::unix::OwnedReadHalf>,
    wr: &mut tokio::net::unix::OwnedWriteHalf,
    peer: &mut Peer,
) -> Result<(), TransportError> {
    loop {
        let request = codec::read_frame_async::<Request, _>(rd).await?;
        let response = match (request, peer.end) {
            (Request::Attach { end, ticket }, None) => {
                let e = end_index(end)?;
                let mut ends = lock(&server.ends);
                ends[e].attached += 1;
                ends[e].ever = true;
                if let Some(ticket) = ticket {
                    ends[e].handoffs.retain(|t| *t != ticket);
                }
                server.update_gone(&ends, e);
                peer.end = Some(e);
                peer.attached = true;
                continue;
            }
            (Request::Use { end }, None) => {
                peer.end = Some(end_index(end)?);
                continue;
            }
            (Request::Attach { .. } | Request::Use { .. }, Some(_)) => {
                return Err(TransportError::Protocol("bound twice"));
            }
            (Request::Handoff, Some(me)) => {
                let ticket = server
                    .next_ticket
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let mut ends = lock(&server.ends);
                ends[me].handoffs.push(ticket);
                server.update_gone(&ends, me);
                Response::Ticket(ticket)
            }
            (Request::Send { msg }, Some(me)) => {
                let peer_end = 1 - me;
                if lock(&server.ends)[peer_end].gone() {
                    Response::BrokenPipe
                } else {
                    // Unbounded: never waits.
                    server.inbox[peer_end].put(msg, Wait::No).await;
                    Response::Sent
                }
            }
            (Request::Recv { millis }, Some(me)) => {
                if peer.reserved.is_some() {
                    return Err(TransportError::Protocol(
                        "a recv before acknowledging the previous message",
                    ));
                }
                // `Duration::MAX` (or any overflowing deadline) waits forever,
                // as everywhere in the crate.
                let timeout = millis.map_or(Duration::MAX, Duration::from_millis);
                let got = tokio::select! {
                    got = crate::wait::timeout::with_timeout(timeout, server.recv(me)) => got,
                    // A receiver that dies while it waits stops waiting here.
                    () = transport::closed(rd) => return Ok(()),
                };
                match got {
                    Some(Some(Held { seq, item })) => {
                        let response = Response::Msg(item);
                        let frame = codec::frame(&response);
                        if let Response::Msg(item) = response {
                            // Reserved first: if the answer cannot be sent,
                            // or is not acknowledged, `serve` puts it back.
                            peer.reserved = Some(Held { seq, item });
                        }
                        wr.write_all(&frame?).await?;
                        match codec::read_frame_async::<Request, _>(rd).await? {
                            Request::Ack => peer.reserved = None,
                            _ => {
                                return Err(TransportError::Protocol(
                                    "a call before acknowledging a message",
                                ));
                            }
                        }
                        continue;
                    }
                    Some(None) => Response::Eof,
                    None => Response::Timeout,
                }
            }
            (Request::Ack, _) => {
                return Err(TransportError::Protocol("acknowledged nothing"));
            }
            (Request::Send { .. } | Request::Recv { .. } | Request::Handoff, None) => {
                return Err(TransportError::Protocol("a call before attach"));
            }
        };
        wr.write_all(&codec::frame(&response)?).await?;
    }
}

/// One end of a [`Pipe`]: Python's `multiprocessing.connection.Connection`.
///
/// Messages are serde values of type `T`. Move an end into a child's
/// arguments to use it there; [`clone`](Clone::clone) it to give it to
/// several processes, which then share it as Python's do.
pub struct Connection<T> {
    address: Address,
    end: u8,
    can_send: bool,
    can_recv: bool,
    link: Arc<Link>,
    _msg: PhantomData<fn(T) -> T>,
}

/// A handle's (and its clones') hold on its end.
#[derive(Default)]
struct Link {
    /// The attachment: held open, carrying nothing, while the handle lives.
    attachment: Mutex<Option<UnixStream>>,
    /// A call connection no call is using. A call dropped midway drops its
    /// connection; the owner puts back a message it had not acknowledged.
    idle: Idle,
}

/// Another handle to the same end, sharing this one's attachment: pass each
/// clone to a different process to share the end between them, as Python
/// lets several processes hold one `Connection`. The other end sees EOF only
/// once every process holding this end has dropped it or exited.
///
/// # Examples
///
/// ```
/// let (a, b) = threadlet::process::Pipe::<u8>::new(true).unwrap();
/// let b2 = b.clone();
/// a.blocking_send(&1).unwrap();
/// assert_eq!(b2.blocking_recv().unwrap(), 1);
/// drop(b);
/// a.blocking_send(&2).unwrap();
/// assert_eq!(b2.blocking_recv().unwrap(), 2);
/// ```
impl<T> Clone for Connection<T> {
    fn clone(&self) -> Self {
        self.detached()
    }
}

impl<T> fmt::Debug for Connection<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("end", &self.end)
            .field("readable", &self.can_recv)
            .field("writable", &self.can_send)
            .finish()
    }
}

/// An end travels as the owner's address (with the secret), which end, its
/// directions and a hand-off ticket (this process attaches to get one):
/// the owner counts the end as held until the receiving process attaches
/// with the ticket, so a child that hands its end on to a grandchild and
/// drops its own copy does not make the other end see EOF. (An encoding that
/// is never decoded, e.g. arguments of a process never started, keeps the
/// end counted as held: the other end then sees no EOF for it.)
impl<T> Serialize for Connection<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ticket = self.handoff();
        (
            &self.address,
            self.end,
            self.can_send,
            self.can_recv,
            ticket,
        )
            .serialize(serializer)
    }
}

impl<'de, T> Deserialize<'de> for Connection<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (address, end, can_send, can_recv, ticket) =
            <(Address, u8, bool, bool, Option<u64>)>::deserialize(deserializer)?;
        let conn = Connection {
            address,
            end,
            can_send,
            can_recv,
            link: Arc::default(),
            _msg: PhantomData,
        };
        // Attach now, so the other end sees EOF if this process dies before
        // it uses the connection. A failure shows up as `Closed` on use.
        let _ = conn.attach(ticket);
        Ok(conn)
    }
}

/// Creates a pipe served by this process and returns its two ends (Python's
/// `multiprocessing.Pipe(duplex)`): with `duplex` both ends send and receive;
/// otherwise the first only receives and the second only sends.
///
/// # Errors
///
/// The socket could not be created.
///
/// # Examples
///
/// ```
/// use threadlet::process::{self, Connection};
///
/// fn child(conn: Connection<String>) {
///     conn.blocking_send(&"hello from the child".to_string()).unwrap();
/// }
///
/// fn main() {
///     process::register(child);
///     process::init();
///     let rt = tokio::runtime::Runtime::new().unwrap();
///     rt.block_on(async {
///         let (parent_end, child_end) = process::Pipe::<String>::new(true).unwrap();
///         let p = process::spawn_process(child, child_end).unwrap();
///         assert_eq!(parent_end.recv().await.unwrap(), "hello from the child");
///         p.join().await.unwrap();
///         // The child exited: its end is gone.
///         assert_eq!(parent_end.recv().await, Err(threadlet::error::PipeError::Eof));
///     });
/// }
/// ```
#[derive(Debug)]
pub struct Pipe<T>(PhantomData<fn(T) -> T>);

impl<T: Serialize + DeserializeOwned> Pipe<T> {
    /// Creates the pipe; see [`Pipe`].
    ///
    /// # Errors
    ///
    /// The socket could not be created.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = threadlet::process::Pipe::<u8>::new(false).unwrap();
    /// b.blocking_send(&7).unwrap();
    /// assert_eq!(a.blocking_recv().unwrap(), 7);
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new(duplex: bool) -> io::Result<(Connection<T>, Connection<T>)> {
        let server = Arc::new(Server {
            ends: Mutex::new([EndState::default(), EndState::default()]),
            inbox: [Inbox::new(0), Inbox::new(0)],
            gone: [Event::new(), Event::new()],
            next_ticket: std::sync::atomic::AtomicU64::new(0),
        });
        let address = transport::listen("pipe", move |stream| serve(Arc::clone(&server), stream))?;
        let end = |end, can_send, can_recv| Connection {
            address: address.clone(),
            end,
            can_send,
            can_recv,
            link: Arc::default(),
            _msg: PhantomData,
        };
        Ok((end(0, duplex, true), end(1, true, duplex)))
    }
}

/// What a send's answer means.
fn sent(response: Response) -> Result<(), PipeError> {
    match response {
        Response::Sent => Ok(()),
        Response::BrokenPipe => Err(PipeError::BrokenPipe),
        _ => Err(PipeError::Closed),
    }
}

/// What a recv's answer means.
fn received<T: DeserializeOwned>(response: Response) -> Result<T, PipeError> {
    match response {
        Response::Msg(bytes) => decode(&bytes),
        Response::Eof => Err(PipeError::Eof),
        Response::Timeout => Err(PipeError::Timeout),
        _ => Err(PipeError::Closed),
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, PipeError> {
    postcard::from_bytes(bytes).map_err(|e| PipeError::Codec(e.to_string()))
}

/// Encodes a message, within the size limit.
fn encode<T: Serialize>(msg: &T) -> Result<Vec<u8>, PipeError> {
    let bytes = postcard::to_stdvec(msg).map_err(|e| PipeError::Codec(e.to_string()))?;
    codec::check_item(bytes.len()).map_err(PipeError::Codec)?;
    Ok(bytes)
}

fn connect_error(e: ConnectError) -> PipeError {
    match e {
        ConnectError::Unreachable => PipeError::Closed,
        ConnectError::Refused => PipeError::Authentication,
    }
}

/// A bind request (`Attach` or `Use`), as a frame.
fn bind_frame(request: &Request) -> Result<Vec<u8>, PipeError> {
    codec::frame(request).map_err(|_| PipeError::Closed)
}

/// One exchange on a blocking call connection (acknowledging a message).
fn exchange_blocking(stream: &mut UnixStream, request: &Request) -> Result<Response, FrameError> {
    codec::write_frame(stream, request)?;
    let response = codec::read_frame::<Response>(stream)?;
    if matches!(response, Response::Msg(_)) {
        codec::write_frame(stream, &Request::Ack)?;
    }
    Ok(response)
}

/// One exchange on an async call connection. Dropped before it returns, the
/// caller drops the connection, and the owner puts back a message it had
/// not seen acknowledged.
async fn exchange_async(
    stream: &mut tokio::net::UnixStream,
    request: &Request,
) -> Result<Response, FrameError> {
    stream.write_all(&codec::frame(request)?).await?;
    let response = codec::read_frame_async::<Response, _>(stream).await?;
    if matches!(response, Response::Msg(_)) {
        stream.write_all(&codec::frame(&Request::Ack)?).await?;
    }
    Ok(response)
}

impl<T> Connection<T> {
    /// Attaches this handle to its end if it is not yet, taking over hand-off
    /// `ticket` if given. Blocking (the owner answers at once).
    fn attach(&self, ticket: Option<u64>) -> Result<(), PipeError> {
        let mut attachment = lock(&self.link.attachment);
        if attachment.is_none() {
            let mut stream = transport::connect(&self.address).map_err(connect_error)?;
            std::io::Write::write_all(
                &mut stream,
                &bind_frame(&Request::Attach {
                    end: self.end,
                    ticket,
                })?,
            )
            .map_err(|_| PipeError::Closed)?;
            *attachment = Some(stream);
        }
        Ok(())
    }

    /// [`attach`](Self::attach) without blocking a thread.
    async fn attach_async(&self) -> Result<(), PipeError> {
        if lock(&self.link.attachment).is_some() {
            return Ok(());
        }
        let mut stream = transport::connect_async(&self.address)
            .await
            .map_err(connect_error)?;
        stream
            .write_all(&bind_frame(&Request::Attach {
                end: self.end,
                ticket: None,
            })?)
            .await
            .map_err(|_| PipeError::Closed)?;
        let stream = stream.into_std().map_err(|_| PipeError::Closed)?;
        let mut attachment = lock(&self.link.attachment);
        if attachment.is_none() {
            *attachment = Some(stream);
        }
        Ok(())
    }

    /// One exchange, blocking this thread.
    fn blocking_call(&self, request: &Request) -> Result<Response, PipeError> {
        self.attach(None)?;
        let mut stream = self.link.idle.take_blocking(
            || {
                let mut stream = transport::connect(&self.address).map_err(connect_error)?;
                std::io::Write::write_all(
                    &mut stream,
                    &bind_frame(&Request::Use { end: self.end })?,
                )
                .map_err(|_| PipeError::Closed)?;
                Ok(stream)
            },
            PipeError::Closed,
        )?;
        let response = exchange_blocking(&mut stream, request).map_err(|_| PipeError::Closed)?;
        self.link.idle.give_back(stream);
        Ok(response)
    }

    /// One exchange without blocking a thread.
    async fn call(&self, request: &Request) -> Result<Response, PipeError> {
        self.attach_async().await?;
        let mut stream = self
            .link
            .idle
            .take_async(
                || async {
                    let mut stream = transport::connect_async(&self.address)
                        .await
                        .map_err(connect_error)?;
                    stream
                        .write_all(&bind_frame(&Request::Use { end: self.end })?)
                        .await
                        .map_err(|_| PipeError::Closed)?;
                    Ok(stream)
                },
                PipeError::Closed,
            )
            .await?;
        let response = exchange_async(&mut stream, request)
            .await
            .map_err(|_| PipeError::Closed)?;
        self.link.idle.give_back_async(stream);
        Ok(response)
    }

    /// A hand-off ticket for encoding this end (attaching first if this
    /// handle has not yet); `None` if the owner cannot be reached, and the
    /// receiver then finds it closed too.
    fn handoff(&self) -> Option<u64> {
        match self.blocking_call(&Request::Handoff) {
            Ok(Response::Ticket(ticket)) => Some(ticket),
            _ => None,
        }
    }

    fn detached(&self) -> Self {
        Self {
            address: self.address.clone(),
            end: self.end,
            can_send: self.can_send,
            can_recv: self.can_recv,
            link: Arc::clone(&self.link),
            _msg: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned> Connection<T> {
    /// Sends a message, blocking this thread for the round trip.
    ///
    /// # Errors
    ///
    /// [`PipeError::BrokenPipe`] if the other end is gone; `Closed` if the
    /// pipe's creator is gone; `WrongDirection` on a receive-only end.
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.send(msg).await` there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = threadlet::process::Pipe::new(true).unwrap();
    /// a.blocking_send(&"ping".to_string()).unwrap();
    /// assert_eq!(b.blocking_recv().unwrap(), "ping");
    /// ```
    #[track_caller]
    pub fn blocking_send(&self, msg: &T) -> Result<(), PipeError> {
        refuse_runtime_thread("Connection::blocking_send", "`.send(msg).await`");
        if !self.can_send {
            return Err(PipeError::WrongDirection);
        }
        let msg = encode(msg)?;
        sent(self.blocking_call(&Request::Send { msg })?)
    }

    fn recv_inner(&self, millis: Option<u64>) -> Result<T, PipeError> {
        if !self.can_recv {
            return Err(PipeError::WrongDirection);
        }
        received(self.blocking_call(&Request::Recv { millis })?)
    }

    /// Receives the next message, blocking this thread until one comes.
    ///
    /// # Errors
    ///
    /// [`PipeError::Eof`] when nothing is left and the other end is gone.
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.recv().await` there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = threadlet::process::Pipe::new(true).unwrap();
    /// b.blocking_send(&1u32).unwrap();
    /// assert_eq!(a.blocking_recv().unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_recv(&self) -> Result<T, PipeError> {
        refuse_runtime_thread("Connection::blocking_recv", "`.recv().await`");
        self.recv_inner(None)
    }

    /// Receives the next message, waiting at most `timeout` (Python's
    /// `poll(timeout)` then `recv()`).
    ///
    /// # Errors
    ///
    /// [`PipeError::Timeout`] when none came in time; otherwise as `recv`.
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.recv_timeout(timeout).await` there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::error::PipeError;
    ///
    /// let (a, _b) = threadlet::process::Pipe::<u8>::new(true).unwrap();
    /// assert_eq!(a.blocking_recv_timeout(Duration::from_millis(10)), Err(PipeError::Timeout));
    /// ```
    #[track_caller]
    pub fn blocking_recv_timeout(&self, timeout: Duration) -> Result<T, PipeError> {
        refuse_runtime_thread(
            "Connection::blocking_recv_timeout",
            "`.recv_timeout(timeout).await`",
        );
        self.recv_inner(millis_of(timeout))
    }

    /// Receives a message only if one is there now (Python's `poll()` then
    /// `recv()`). A plain method: it never waits for a message, only for the
    /// owner's answer (one round trip over a local socket).
    ///
    /// # Errors
    ///
    /// [`PipeError::Timeout`] when there is none; otherwise as `recv`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::PipeError;
    ///
    /// let (a, b) = threadlet::process::Pipe::<u8>::new(true).unwrap();
    /// assert_eq!(a.try_recv(), Err(PipeError::Timeout));
    /// b.blocking_send(&3).unwrap();
    /// assert_eq!(a.try_recv(), Ok(3));
    /// ```
    #[doc(alias = "poll")]
    pub fn try_recv(&self) -> Result<T, PipeError> {
        self.recv_inner(Some(0))
    }

    /// Sends a message (Python's `send`).
    ///
    /// # Errors
    ///
    /// As [`blocking_send`](Connection::blocking_send).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a `send` dropped after its request left may still
    /// deliver the message. No thread is parked while it waits.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (a, b) = threadlet::process::Pipe::new(true).unwrap();
    /// a.send(&[1u8, 2]).await.unwrap();
    /// assert_eq!(b.recv().await.unwrap(), [1, 2]);
    /// # }
    /// ```
    pub async fn send(&self, msg: &T) -> Result<(), PipeError> {
        if !self.can_send {
            return Err(PipeError::WrongDirection);
        }
        let msg = encode(msg)?;
        sent(self.call(&Request::Send { msg }).await?)
    }

    /// Receives the next message (Python's `recv`).
    ///
    /// # Errors
    ///
    /// [`PipeError::Eof`] when nothing is left and the other end is gone.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a message counts as received only once this call has it
    /// (it acknowledges it); a `recv` dropped before that drops its
    /// connection and the owner puts the message back in front. No thread
    /// is parked while it waits.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (a, b) = threadlet::process::Pipe::new(true).unwrap();
    /// b.send(&'x').await.unwrap();
    /// assert_eq!(a.recv().await.unwrap(), 'x');
    /// # }
    /// ```
    pub async fn recv(&self) -> Result<T, PipeError> {
        if !self.can_recv {
            return Err(PipeError::WrongDirection);
        }
        received(self.call(&Request::Recv { millis: None }).await?)
    }

    /// Receives the next message, waiting at most `timeout` (Python's
    /// `poll(timeout)` then `recv()`; `Duration::MAX` waits forever, zero
    /// never waits). The owner of the pipe times the wait, in real time, so a
    /// paused tokio clock does not expire it.
    ///
    /// # Errors
    ///
    /// [`PipeError::Timeout`] when none came in time; otherwise as `recv`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`recv`](Connection::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use threadlet::error::PipeError;
    ///
    /// let (a, b) = threadlet::process::Pipe::<u8>::new(true).unwrap();
    /// assert_eq!(a.recv_timeout(Duration::from_millis(10)).await, Err(PipeError::Timeout));
    /// b.send(&5).await.unwrap();
    /// assert_eq!(a.recv_timeout(Duration::from_secs(60)).await, Ok(5));
    /// # }
    /// ```
    pub async fn recv_timeout(&self, timeout: Duration) -> Result<T, PipeError> {
        if !self.can_recv {
            return Err(PipeError::WrongDirection);
        }
        received(
            self.call(&Request::Recv {
                millis: millis_of(timeout),
            })
            .await?,
        )
    }
}

/// A receive timeout as the owner takes it: whole milliseconds, `None`
/// for `Duration::MAX` (forever; a larger-than-`u64` count of milliseconds
/// is forever too, on the owner's side).
fn millis_of(timeout: Duration) -> Option<u64> {
    (timeout != Duration::MAX).then(|| u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX))
}
