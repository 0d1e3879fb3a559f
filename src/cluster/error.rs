//! Errors of the cluster layer.
//!
//! Queue errors mirror [`crate::error::PutError`] / [`crate::error::GetError`]
//! (Python's `queue.Full`, `queue.Empty`, `queue.ShutDown`) and add what a
//! network queue can also meet: the server did not answer, an item that does not
//! decode. A failed put hands the item back.

use std::fmt;

/// The Redis server could not do what was asked.
///
/// # Examples
///
/// ```
/// use threadlet::cluster::ClusterError;
///
/// assert_eq!(ClusterError::Timeout.to_string(), "the redis server did not answer in time");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClusterError {
    /// The URL is not a Redis URL.
    InvalidUrl(String),
    /// The server cannot be reached or the connection was lost.
    Unreachable(String),
    /// No answer before the caller's timeout (or the options' operation timeout).
    Timeout,
    /// The server answered with an error.
    Server(String),
    /// A queue of this name exists with another kind or `maxsize`.
    Mismatch {
        /// The queue's name.
        name: String,
        /// What the server has, e.g. `fifo maxsize 0`.
        existing: String,
        /// What this client asked for.
        requested: String,
    },
}

impl fmt::Display for ClusterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUrl(e) => write!(f, "invalid redis url: {e}"),
            Self::Unreachable(e) => write!(f, "redis server unreachable: {e}"),
            Self::Timeout => f.write_str("the redis server did not answer in time"),
            Self::Server(e) => write!(f, "redis server error: {e}"),
            Self::Mismatch {
                name,
                existing,
                requested,
            } => write!(f, "queue `{name}` exists as {existing}, not {requested}"),
        }
    }
}

impl std::error::Error for ClusterError {}

impl From<redis::RedisError> for ClusterError {
    fn from(e: redis::RedisError) -> Self {
        if e.is_io_error()
            || e.is_connection_refusal()
            || e.is_connection_dropped()
            || e.is_timeout()
            || e.is_unrecoverable_error()
        {
            Self::Unreachable(e.to_string())
        } else {
            Self::Server(e.to_string())
        }
    }
}

/// An item taken from a queue whose bytes do not decode as the queue's type
/// (written by another program, or by a client with another item type).
///
/// The item is removed from the queue and acknowledged when this error is
/// returned, so the queue stays usable; its raw bytes are handed back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// The codec's message.
    pub message: String,
    /// The raw bytes as stored on the server.
    pub bytes: Vec<u8>,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot decode a queue item: {}", self.message)
    }
}

impl std::error::Error for DecodeError {}

/// A put that failed, with the item handed back.
///
/// # Examples
///
/// ```
/// use threadlet::cluster::{ClusterError, PutError};
///
/// let err = PutError::Full(7);
/// assert_eq!(err.to_string(), "queue is full");
/// assert_eq!(err.into_inner(), 7);
/// let err = PutError::Cluster(8, ClusterError::Timeout);
/// assert_eq!(err.into_inner(), 8);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum PutError<T> {
    /// The queue was full: no room now (`put_nowait`) or none before the timeout.
    Full(T),
    /// The queue was shut down (by any client).
    ShutDown(T),
    /// The item could not be encoded.
    Encode(T, String),
    /// The server could not take the item (it was not put).
    Cluster(T, ClusterError),
}

impl<T> PutError<T> {
    /// The item that could not be put.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadlet::cluster::PutError::ShutDown("x").into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(t) | Self::ShutDown(t) | Self::Encode(t, _) | Self::Cluster(t, _) => t,
        }
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::ShutDown(_) => f.write_str("ShutDown(..)"),
            Self::Encode(_, e) => write!(f, "Encode(.., {e:?})"),
            Self::Cluster(_, e) => write!(f, "Cluster(.., {e:?})"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("queue is full"),
            Self::ShutDown(_) => f.write_str("queue is shut down"),
            Self::Encode(_, e) => write!(f, "cannot encode the item: {e}"),
            Self::Cluster(_, e) => e.fmt(f),
        }
    }
}

impl<T> std::error::Error for PutError<T> {}

/// A get that failed.
///
/// # Examples
///
/// ```
/// use threadlet::cluster::GetError;
///
/// assert_eq!(GetError::Empty.to_string(), "queue is empty");
/// assert_eq!(GetError::ShutDown.to_string(), "queue is shut down");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GetError {
    /// Nothing to take now (`get_nowait`) or before the timeout.
    Empty,
    /// The queue was shut down and is empty (or shut down immediately).
    ShutDown,
    /// The item taken does not decode; it was removed and acknowledged.
    Decode(DecodeError),
    /// The server did not answer; nothing was taken.
    Cluster(ClusterError),
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("queue is empty"),
            Self::ShutDown => f.write_str("queue is shut down"),
            Self::Decode(e) => e.fmt(f),
            Self::Cluster(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for GetError {}

impl From<ClusterError> for GetError {
    fn from(e: ClusterError) -> Self {
        Self::Cluster(e)
    }
}

/// A `task_done` that acknowledged nothing.
///
/// # Examples
///
/// ```
/// use threadlet::cluster::TaskDoneError;
///
/// assert_eq!(
///     TaskDoneError::NotLeased.to_string(),
///     "task_done() called too many times, or after the lease expired"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskDoneError {
    /// The lease is not held: acknowledged already, or it expired and the item
    /// went back to the queue (it will be, or was, delivered again).
    NotLeased,
    /// The server did not answer; the lease may still be held.
    Cluster(ClusterError),
}

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLeased => {
                f.write_str("task_done() called too many times, or after the lease expired")
            }
            Self::Cluster(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for TaskDoneError {}

impl From<ClusterError> for TaskDoneError {
    fn from(e: ClusterError) -> Self {
        Self::Cluster(e)
    }
}

/// Why a [`Pool`](super::Pool) call failed.
///
/// # Examples
///
/// ```
/// use threadlet::cluster::PoolError;
///
/// let e = PoolError::GaveUp { job: "7/1#0".into(), deliveries: 3 };
/// assert_eq!(
///     e.to_string(),
///     "job 7/1#0 abandoned: its worker died or stalled on each of 3 deliveries"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolError {
    /// A chunk size of 0 (Python's message).
    InvalidChunksize,
    /// Work submitted after `close` or `terminate` (Python: `Pool not running`).
    NotRunning,
    /// `join` before `close` or `terminate` (Python: `Pool is still running`).
    StillRunning,
    /// The function is not registered in this process.
    UnknownTarget(String),
    /// Two closures or types share this target name.
    AmbiguousTarget(String),
    /// The arguments could not be encoded; nothing was submitted.
    Encode(String),
    /// The worker could not run the job: the target is unknown there, or its
    /// arguments or value did not decode.
    Worker {
        /// The job's id.
        job: String,
        /// What went wrong.
        message: String,
    },
    /// The job panicked in a worker.
    Panicked {
        /// The job's id.
        job: String,
        /// The worker's name.
        worker: String,
        /// The panic message.
        message: String,
    },
    /// Every delivery of the job was lost (its worker died, or stalled past the
    /// visibility timeout) and the retries ran out.
    GaveUp {
        /// The job's id.
        job: String,
        /// How many times it was delivered.
        deliveries: u64,
    },
    /// The pool was terminated before the job finished.
    Terminated,
    /// `get_timeout` ran out of time (Python's `multiprocessing.TimeoutError`).
    Timeout,
    /// The server did not answer.
    Cluster(ClusterError),
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidChunksize => f.write_str("Chunksize must be 1+, not 0"),
            Self::NotRunning => f.write_str("Pool not running"),
            Self::StillRunning => f.write_str("Pool is still running"),
            Self::UnknownTarget(name) => write!(
                f,
                "unknown pool target `{name}`: register it with threadlet::process::register"
            ),
            Self::AmbiguousTarget(name) => write!(
                f,
                "pool target name `{name}` is registered by more than one closure or type"
            ),
            Self::Encode(msg) => write!(f, "cannot encode the task arguments: {msg}"),
            Self::Worker { job, message } => write!(f, "job {job} could not run: {message}"),
            Self::Panicked {
                job,
                worker,
                message,
            } => write!(f, "job {job} panicked in worker {worker}: {message}"),
            Self::GaveUp { job, deliveries } => write!(
                f,
                "job {job} abandoned: its worker died or stalled on each of {deliveries} deliveries"
            ),
            Self::Terminated => f.write_str("pool was terminated"),
            Self::Timeout => f.write_str("timed out waiting for the result"),
            Self::Cluster(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PoolError {}

impl From<ClusterError> for PoolError {
    fn from(e: ClusterError) -> Self {
        Self::Cluster(e)
    }
}
