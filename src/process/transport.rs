//! The one transport under every socket the process layer listens on
//! ([`Queue`](super::Queue), [`Pipe`](super::Pipe), and any later one): one
//! listen / accept / connect path, one handshake, one frame codec
//! ([`codec`](super::codec)).
//!
//! A listener is an abstract Unix socket named
//! `threadlet-<kind>-<pid>-<n>-<nanos>`. Abstract sockets have no file
//! permissions and their names are public (`/proc/net/unix`), so the socket is
//! not what keeps others out. Two checks are, both before a single request
//! frame is read:
//!
//! 1. **Credentials.** On accept, the peer's `SO_PEERCRED` uid must be this
//!    process's effective uid; any other user is dropped before it is sent a
//!    byte.
//! 2. **A shared secret.** Each listener draws a 32-byte secret from the OS
//!    CSPRNG (`getrandom`). The secret is part of the handle ([`Address`]) and
//!    reaches a child only inside its encoded arguments, over the private
//!    socket pair that is the child's launch channel (never argv, the
//!    environment, a log line or `Debug` output). A connecting peer and the
//!    listener prove to each other that they hold it, mutual challenge and
//!    response with HMAC-SHA256 (Python's `authkey` handshake, in both
//!    directions):
//!
//!    ```text
//!    server -> client  MAGIC(8) || server_nonce(32)
//!    client -> server  client_nonce(32) || HMAC(secret, "threadlet client" || server_nonce || client_nonce)
//!    server -> client  HMAC(secret, "threadlet server" || server_nonce || client_nonce)
//!    ```
//!
//!    Tags are compared in constant time; fixed sizes, so nothing
//!    peer-controlled is parsed or allocated before the proof. A peer that
//!    does not finish within [`HANDSHAKE_TIMEOUT`] is dropped.
//!
//! After the handshake each connection is served by its listener's handler,
//! which reads frames with the bounded codec. Whatever goes wrong on one
//! connection (a refused peer, a bad proof, an oversize, truncated or
//! undecodable frame, a request out of protocol order) ends that connection
//! only, with one [`TransportError`] line on stderr; the listener keeps
//! accepting and the handler's shared state is untouched.

use std::fmt;
use std::future::Future;
use std::io::{self, Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::codec::FrameError;
use super::driver;

/// Bytes of a listener's secret (256 bits).
const SECRET_LEN: usize = 32;
/// Bytes of each side's nonce.
const NONCE_LEN: usize = 32;
/// Bytes of an HMAC-SHA256 tag.
const TAG_LEN: usize = 32;
/// The first bytes a listener sends: the protocol and its version.
const MAGIC: [u8; 8] = *b"thrdlt/1";
const CHALLENGE_LEN: usize = MAGIC.len() + NONCE_LEN;
const ANSWER_LEN: usize = NONCE_LEN + TAG_LEN;
const CLIENT_LABEL: &[u8] = b"threadlet client";
const SERVER_LABEL: &[u8] = b"threadlet server";

/// How long a connecting peer has to finish the handshake (either side).
pub(crate) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Dropped connections a listener reports on stderr before it goes quiet
/// (a hostile peer must not be able to flood the owner's stderr).
const LOGGED_DROPS: usize = 16;

/// A listener's key: 32 bytes from the OS CSPRNG. Its `Debug` shows nothing
/// of it.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret([u8; SECRET_LEN]);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    fn generate() -> io::Result<Self> {
        let mut bytes = [0; SECRET_LEN];
        random(&mut bytes)?;
        Ok(Self(bytes))
    }

    fn mac(&self, label: &[u8], server: &[u8], client: &[u8]) -> Hmac<Sha256> {
        // HMAC takes a key of any length; 32 bytes cannot fail.
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(label);
        mac.update(server);
        mac.update(client);
        mac
    }

    fn tag(&self, label: &[u8], server: &[u8], client: &[u8]) -> [u8; TAG_LEN] {
        self.mac(label, server, client)
            .finalize()
            .into_bytes()
            .into()
    }

    /// Whether `tag` is the tag of these inputs, compared in constant time.
    fn verify(&self, label: &[u8], server: &[u8], client: &[u8], tag: &[u8]) -> bool {
        self.mac(label, server, client).verify_slice(tag).is_ok()
    }
}

fn random(bytes: &mut [u8]) -> io::Result<()> {
    getrandom::fill(bytes).map_err(|e| io::Error::other(format!("OS random source: {e}")))
}

/// Where a listener is and the key to get in: what a `Queue` or `Pipe` end
/// carries. Serialized (inside a child's arguments) as the name and the
/// secret; its `Debug` shows only the name.
#[derive(Clone)]
pub(crate) struct Address {
    name: String,
    secret: Secret,
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (&self.name, &self.secret.0).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (name, secret) = <(String, [u8; SECRET_LEN])>::deserialize(deserializer)?;
        Ok(Self {
            name,
            secret: Secret(secret),
        })
    }
}

/// Why a connection was refused or dropped.
#[derive(Debug)]
pub(crate) enum TransportError {
    /// The peer runs as another user.
    ForeignPeer { uid: u32 },
    /// The peer did not finish the handshake in time.
    HandshakeTimeout,
    /// The peer's proof was wrong (it does not hold the secret) or it hung up
    /// during the handshake.
    BadProof,
    /// A frame after the handshake was oversize, truncated or undecodable.
    Frame(FrameError),
    /// A well-formed request that is not valid at this point of the protocol.
    Protocol(&'static str),
    /// Any other I/O failure.
    Io(io::Error),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ForeignPeer { uid } => write!(f, "refused a peer running as uid {uid}"),
            Self::HandshakeTimeout => write!(
                f,
                "the peer did not authenticate within {} s",
                HANDSHAKE_TIMEOUT.as_secs()
            ),
            Self::BadProof => f.write_str("authentication failed: digest received was wrong"),
            Self::Frame(e) => e.fmt(f),
            Self::Protocol(what) => write!(f, "protocol violation: {what}"),
            Self::Io(e) => write!(f, "I/O error: {e}"),
        }
    }
}

impl From<FrameError> for TransportError {
    fn from(e: FrameError) -> Self {
        Self::Frame(e)
    }
}

impl From<io::Error> for TransportError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Why [`connect`] failed.
#[derive(Debug)]
pub(crate) enum ConnectError {
    /// Nobody listens there (the owner is gone), or the connection broke.
    Unreachable,
    /// The listener hung up during the handshake (it refused our proof), or
    /// its own proof was wrong: it is not the owner of this handle.
    Refused,
}

static LISTENERS: AtomicU32 = AtomicU32::new(0);

/// The owner's side of a listener: reports dropped connections on stderr,
/// the first [`LOGGED_DROPS`] of them.
struct Log {
    what: String,
    dropped: AtomicUsize,
}

impl Log {
    fn report(&self, e: &TransportError) {
        let n = self.dropped.fetch_add(1, Ordering::Relaxed);
        if n < LOGGED_DROPS {
            eprintln!("threadlet: {}: dropped a connection: {e}", self.what);
        } else if n == LOGGED_DROPS {
            eprintln!(
                "threadlet: {}: further dropped connections are not reported",
                self.what
            );
        }
    }
}

/// Listens on a fresh abstract Unix socket with a fresh secret, serving each
/// authenticated connection with `handler` on the process driver; returns the
/// address (name and secret) that handles carry.
///
/// `handler` returns why the connection ended: `Ok`, or
/// `Frame(FrameError::Closed)` when the peer closed it between two frames,
/// are normal ends; anything else is reported. Only that connection is
/// affected.
pub(crate) fn listen<F, Fut>(kind: &str, handler: F) -> io::Result<Address>
where
    F: Fn(tokio::net::UnixStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), TransportError>> + Send + 'static,
{
    let secret = Secret::generate()?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "threadlet-{kind}-{}-{}-{nanos}",
        std::process::id(),
        LISTENERS.fetch_add(1, Ordering::Relaxed)
    );
    let listener = UnixListener::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes())?)?;
    listener.set_nonblocking(true)?;
    let log = Arc::new(Log {
        what: format!("process {kind} {name}"),
        dropped: AtomicUsize::new(0),
    });
    let handler = Arc::new(handler);
    let key = secret.clone();
    driver::run(move || {
        let listener = tokio::net::UnixListener::from_std(listener)?;
        tokio::spawn(accept_loop(listener, key, handler, log));
        Ok(())
    })?;
    Ok(Address { name, secret })
}

async fn accept_loop<F, Fut>(
    listener: tokio::net::UnixListener,
    secret: Secret,
    handler: Arc<F>,
    log: Arc<Log>,
) where
    F: Fn(tokio::net::UnixStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), TransportError>> + Send + 'static,
{
    let uid = nix::unistd::geteuid().as_raw();
    loop {
        let mut stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                // Out of descriptors (a flood of connections) or a peer gone
                // before accept: the listener itself goes on. Pause briefly
                // so a persistent error does not spin.
                log.report(&TransportError::Io(e));
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let secret = secret.clone();
        let handler = Arc::clone(&handler);
        let log = Arc::clone(&log);
        tokio::spawn(async move {
            let served = async {
                admit(&mut stream, uid, &secret).await?;
                handler(stream).await
            };
            match served.await {
                // The peer closed between two frames: a normal end.
                Ok(()) | Err(TransportError::Frame(FrameError::Closed)) => {}
                Err(e) => log.report(&e),
            }
        });
    }
}

/// The listener's half of the handshake: credentials, then the mutual proof,
/// within [`HANDSHAKE_TIMEOUT`].
async fn admit(
    stream: &mut tokio::net::UnixStream,
    uid: u32,
    secret: &Secret,
) -> Result<(), TransportError> {
    let peer = stream.peer_cred()?.uid();
    if peer != uid {
        return Err(TransportError::ForeignPeer { uid: peer });
    }
    let proof = async {
        let mut challenge = [0u8; CHALLENGE_LEN];
        challenge[..MAGIC.len()].copy_from_slice(&MAGIC);
        random(&mut challenge[MAGIC.len()..])?;
        stream.write_all(&challenge).await?;
        let server_nonce = &challenge[MAGIC.len()..];
        let mut answer = [0u8; ANSWER_LEN];
        if stream.read_exact(&mut answer).await.is_err() {
            return Err(TransportError::BadProof);
        }
        let (client_nonce, tag) = answer.split_at(NONCE_LEN);
        if !secret.verify(CLIENT_LABEL, server_nonce, client_nonce, tag) {
            return Err(TransportError::BadProof);
        }
        let ours = secret.tag(SERVER_LABEL, server_nonce, client_nonce);
        stream.write_all(&ours).await?;
        Ok(())
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, proof)
        .await
        .map_err(|_| TransportError::HandshakeTimeout)?
}

/// Opens a connection to the listener at `address` (not yet authenticated).
/// A Unix socket connect completes at once (or fails when nobody listens);
/// it waits only while the listener's accept backlog is full.
fn open(address: &Address) -> Result<UnixStream, ConnectError> {
    let addr = SocketAddr::from_abstract_name(address.name.as_bytes())
        .map_err(|_| ConnectError::Unreachable)?;
    UnixStream::connect_addr(&addr).map_err(|_| ConnectError::Unreachable)
}

/// A failed handshake read or write: the listener hung up on us (it refused
/// our uid or our proof), or it did not answer in time (it is stuck or gone).
fn handshake_error(e: &io::Error) -> ConnectError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ConnectError::Unreachable,
        _ => ConnectError::Refused,
    }
}

/// Connects to the listener at `address` and completes the handshake: the
/// returned stream is authenticated both ways. Blocking.
pub(crate) fn connect(address: &Address) -> Result<UnixStream, ConnectError> {
    let mut stream = open(address)?;
    let timeout = Some(HANDSHAKE_TIMEOUT);
    stream
        .set_read_timeout(timeout)
        .and_then(|()| stream.set_write_timeout(timeout))
        .map_err(|_| ConnectError::Unreachable)?;
    let mut challenge = [0u8; CHALLENGE_LEN];
    // A listener that refuses us (another uid) hangs up without a challenge.
    stream
        .read_exact(&mut challenge)
        .map_err(|e| handshake_error(&e))?;
    let answer = Answer::new(&address.secret, &challenge)?;
    stream
        .write_all(&answer.bytes)
        .map_err(|e| handshake_error(&e))?;
    let mut theirs = [0u8; TAG_LEN];
    stream
        .read_exact(&mut theirs)
        .map_err(|e| handshake_error(&e))?;
    if !answer.accepts(&address.secret, &theirs) {
        return Err(ConnectError::Refused);
    }
    stream
        .set_read_timeout(None)
        .and_then(|()| stream.set_write_timeout(None))
        .map_err(|_| ConnectError::Unreachable)?;
    Ok(stream)
}

/// [`connect`] for async callers: the handshake waits without blocking a
/// thread. Must run inside a tokio runtime.
pub(crate) async fn connect_async(
    address: &Address,
) -> Result<tokio::net::UnixStream, ConnectError> {
    let stream = open(address)?;
    let mut stream = stream
        .set_nonblocking(true)
        .and_then(|()| tokio::net::UnixStream::from_std(stream))
        .map_err(|_| ConnectError::Unreachable)?;
    let handshake = async {
        let mut challenge = [0u8; CHALLENGE_LEN];
        stream
            .read_exact(&mut challenge)
            .await
            .map_err(|e| handshake_error(&e))?;
        let answer = Answer::new(&address.secret, &challenge)?;
        stream
            .write_all(&answer.bytes)
            .await
            .map_err(|e| handshake_error(&e))?;
        let mut theirs = [0u8; TAG_LEN];
        stream
            .read_exact(&mut theirs)
            .await
            .map_err(|e| handshake_error(&e))?;
        if answer.accepts(&address.secret, &theirs) {
            Ok(())
        } else {
            Err(ConnectError::Refused)
        }
    };
    // Timed in real time on the driver's clock: the owner answers in real
    // time, and a caller under a paused tokio clock must not time out the
    // moment its runtime idles.
    super::driver::real_timeout(HANDSHAKE_TIMEOUT, handshake)
        .await
        .ok_or(ConnectError::Unreachable)??;
    Ok(stream)
}

/// The client's half of one handshake: its answer to the listener's
/// challenge, and what it expects back.
struct Answer {
    server_nonce: [u8; NONCE_LEN],
    /// The client nonce, then the client's tag.
    bytes: [u8; ANSWER_LEN],
}

impl Answer {
    /// Answers `challenge` with a fresh nonce and the proof of `secret`.
    fn new(secret: &Secret, challenge: &[u8; CHALLENGE_LEN]) -> Result<Self, ConnectError> {
        let (magic, server_nonce) = challenge.split_at(MAGIC.len());
        if magic != MAGIC {
            return Err(ConnectError::Refused);
        }
        let server_nonce: [u8; NONCE_LEN] =
            server_nonce.try_into().map_err(|_| ConnectError::Refused)?;
        let mut bytes = [0u8; ANSWER_LEN];
        let (client_nonce, tag) = bytes.split_at_mut(NONCE_LEN);
        random(client_nonce).map_err(|_| ConnectError::Unreachable)?;
        tag.copy_from_slice(&secret.tag(CLIENT_LABEL, &server_nonce, client_nonce));
        Ok(Self {
            server_nonce,
            bytes,
        })
    }

    /// Whether `theirs` is the listener's proof for this exchange.
    fn accepts(&self, secret: &Secret, theirs: &[u8]) -> bool {
        let client_nonce = &self.bytes[..NONCE_LEN];
        secret.verify(SERVER_LABEL, &self.server_nonce, client_nonce, theirs)
    }
}

/// Resolves when the peer closes its side of the connection (while it is
/// not expected to send anything): a taker that dies while it waits.
pub(crate) async fn closed(rd: &mut tokio::io::BufReader<tokio::net::unix::OwnedReadHalf>) {
    use tokio::io::AsyncBufReadExt;
    match rd.fill_buf().await {
        Ok([]) | Err(_) => {}
        Ok(_) => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_never_debug_printed() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_ne!(a, b);
        assert_ne!(a.0, [0; SECRET_LEN]);
        let address = Address {
            name: "threadlet-test".into(),
            secret: a.clone(),
        };
        let shown = format!("{address:?} {address:#?} {a:?}");
        assert!(!shown.contains(&format!("{:?}", a.0)));
        assert!(!shown.contains(&a.0.map(|b| format!("{b:02x}")).concat()));
    }

    #[test]
    fn the_proofs_bind_the_secret_the_role_and_both_nonces() {
        let key = Secret::generate().unwrap();
        let other = Secret::generate().unwrap();
        let (s, c) = ([1u8; NONCE_LEN], [2u8; NONCE_LEN]);
        let tag = key.tag(CLIENT_LABEL, &s, &c);
        assert!(key.verify(CLIENT_LABEL, &s, &c, &tag));
        assert!(!other.verify(CLIENT_LABEL, &s, &c, &tag));
        // A client's proof is not a server's (no reflection).
        assert!(!key.verify(SERVER_LABEL, &s, &c, &tag));
        assert!(!key.verify(CLIENT_LABEL, &c, &s, &tag));
        assert!(!key.verify(CLIENT_LABEL, &s, &c, &tag[..TAG_LEN - 1]));
    }

    #[test]
    fn a_wrong_magic_is_refused() {
        let key = Secret::generate().unwrap();
        let challenge = [0u8; CHALLENGE_LEN];
        assert!(matches!(
            Answer::new(&key, &challenge),
            Err(ConnectError::Refused)
        ));
    }
}
