//! Errors of the `thread` module. Each `Display` is Python's `RuntimeError`
//! message where Python has one.

use std::error::Error;
use std::fmt;

// ===== start =====

/// Why [`Thread::start`](crate::Thread::start) failed.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::{Thread};
/// use threadlet::error::StartError;
///
/// let t = Thread::new(async {});
/// t.start().unwrap();
/// assert_eq!(t.start(), Err(StartError::AlreadyStarted));
/// assert_eq!(StartError::AlreadyStarted.to_string(), "threads can only be started once");
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartError {
    /// The thread was started before (Python's `RuntimeError`).
    AlreadyStarted,
    /// `start` was called outside a tokio runtime, so there is nowhere to run
    /// the thread. The thread stays unstarted and can be started later.
    NoRuntime,
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AlreadyStarted => "threads can only be started once",
            Self::NoRuntime => "must be called from the context of a Tokio runtime",
        })
    }
}

impl Error for StartError {}

// ===== daemon =====

/// [`Thread::set_daemon`](crate::Thread::set_daemon) was called after `start`.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::{Thread};
/// use threadlet::error::DaemonError;
///
/// let t = Thread::new(async {});
/// t.start().unwrap();
/// assert_eq!(t.set_daemon(true), Err(DaemonError));
/// assert_eq!(DaemonError.to_string(), "cannot set daemon status of active thread");
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaemonError;

impl fmt::Display for DaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot set daemon status of active thread")
    }
}

impl Error for DaemonError {}

// ===== join =====

/// Why [`Thread::join`](crate::Thread::join) gave no value.
///
/// Unlike Python, where `join()` always returns `None` and a thread's exception
/// only reaches `threading.excepthook`, the join result says how the thread ended.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::{Thread};
/// use threadlet::error::JoinError;
///
/// let t = Thread::new(async { 1 });
/// assert_eq!(t.join().await, Err(JoinError::NotStarted));
/// assert_eq!(
///     JoinError::NotStarted.to_string(),
///     "cannot join thread before it is started"
/// );
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoinError {
    /// `join` was called before `start` (Python's `RuntimeError`).
    NotStarted,
    /// A thread tried to join itself, which would wait forever.
    CurrentThread,
    /// Dummy threads (see [`current_thread`](crate::current_thread)) cannot be joined.
    DummyThread,
    /// The thread panicked; the payload is the panic message.
    Panicked(String),
    /// The thread was cancelled before it finished: a [`Timer`](crate::Timer)
    /// cancelled before firing, a daemon thread stopped when [`run`](crate::run)
    /// returned, or a thread whose runtime shut down.
    Cancelled,
    /// The thread ended with a value, and its one owner already took it
    /// (with [`Thread::try_join`](crate::Thread::try_join) or
    /// [`Thread::join_timeout`](crate::Thread::join_timeout)), so there is no
    /// value left to give. Joiners by [`ThreadRef`](crate::ThreadRef) still see
    /// `Ok(())`.
    ValueTaken,
}

impl JoinError {
    /// Whether the thread panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::JoinError;
    ///
    /// assert!(JoinError::Panicked("boom".into()).is_panic());
    /// assert!(!JoinError::Cancelled.is_panic());
    /// ```
    pub fn is_panic(&self) -> bool {
        matches!(self, Self::Panicked(_))
    }

    /// Whether the thread was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::JoinError;
    ///
    /// assert!(JoinError::Cancelled.is_cancelled());
    /// assert!(!JoinError::NotStarted.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Self::Cancelled)
    }
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotStarted => f.write_str("cannot join thread before it is started"),
            Self::CurrentThread => f.write_str("cannot join current thread"),
            Self::DummyThread => f.write_str("cannot join a dummy thread"),
            Self::Panicked(message) => write!(f, "thread panicked: {message}"),
            Self::Cancelled => f.write_str("thread was cancelled"),
            Self::ValueTaken => f.write_str("the thread's value was already taken"),
        }
    }
}

impl Error for JoinError {}

/// Why a timed or non-waiting join ([`Thread::join_timeout`],
/// [`Thread::try_join`], their blocking forms and those of
/// [`ThreadRef`](crate::ThreadRef) and [`Timer`](crate::Timer)) gave no
/// value: the thread is still running, or it ended (or could not be joined)
/// with a [`JoinError`].
///
/// [`Thread::join_timeout`]: crate::Thread::join_timeout
/// [`Thread::try_join`]: crate::Thread::try_join
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use std::time::Duration;
/// use threadlet::error::JoinTimeoutError;
///
/// let mut t = threadlet::spawn(std::future::pending::<()>());
/// let err = t.join_timeout(Duration::from_millis(10)).await.unwrap_err();
/// assert_eq!(err, JoinTimeoutError::Timeout);
/// assert!(t.is_alive());
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoinTimeoutError {
    /// The time ran out while the thread was still running.
    Timeout,
    /// The thread could not be joined, or ended without a value.
    Join(JoinError),
}

impl JoinTimeoutError {
    /// Whether the time ran out with the thread still running.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::{JoinError, JoinTimeoutError};
    ///
    /// assert!(JoinTimeoutError::Timeout.is_timeout());
    /// assert!(!JoinTimeoutError::Join(JoinError::Cancelled).is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout)
    }
}

impl From<JoinError> for JoinTimeoutError {
    fn from(err: JoinError) -> Self {
        Self::Join(err)
    }
}

impl fmt::Display for JoinTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Timeout => f.write_str("timed out waiting for the thread; it is still running"),
            Self::Join(err) => err.fmt(f),
        }
    }
}

impl Error for JoinTimeoutError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Timeout => None,
            Self::Join(err) => Some(err),
        }
    }
}
