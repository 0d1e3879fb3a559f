//! `ThreadRef`: any thread without its output type, as the registry, the
//! excepthook and `current_thread` hand it out. It sits below `Thread<T>`
//! (which converts into it), so the registry and the excepthook need only
//! this file and `core`.

use std::fmt;
use std::time::Duration;

use tokio::task::Id;

use super::core::{self, Core, Kind, Shared};
use super::error::{JoinError, JoinTimeoutError};

/// Any thread, without its output type: what [`current_thread`],
/// [`main_thread`](crate::main_thread) and [`enumerate`](crate::enumerate)
/// return.
///
/// Cheap to clone. Two `ThreadRef`s are equal when they denote the same
/// thread. [`join`](ThreadRef::join) waits for the thread and says how it
/// ended, without its value (which is Python's `join`, returning `None`).
///
/// [`current_thread`]: crate::current_thread
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let t = threadlet::Builder::new()
///     .name("w")
///     .spawn(async { threadlet::current_thread() })
///     .unwrap();
/// let me: threadlet::ThreadRef = t.join().await.unwrap();
/// assert_eq!(me.name(), "w");
/// assert_eq!(me.join().await, Ok(()));
/// # }
/// ```
#[derive(Clone)]
pub struct ThreadRef {
    shared: Shared,
}

impl ThreadRef {
    pub(crate) fn from_shared(shared: Shared) -> Self {
        Self { shared }
    }

    fn core(&self) -> &Core {
        self.shared.core()
    }

    /// Returns the thread's name (`Thread-N`, `MainThread`, `Dummy-N` or the
    /// one given).
    ///
    /// # Examples
    ///
    /// ```
    /// threadlet::run(async {
    ///     assert_eq!(threadlet::current_thread().name(), "MainThread");
    /// });
    /// ```
    pub fn name(&self) -> String {
        self.core().name()
    }

    /// Renames the thread, for every handle to it.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadlet::Thread::new(async {});
    /// t.thread_ref().set_name("renamed");
    /// assert_eq!(t.name(), "renamed");
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        self.core().set_name(name.into());
    }

    /// Returns the tokio task id once started; `None` before, and for the
    /// dummy thread of a task-less OS thread.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let t = threadlet::spawn(async {
    ///     threadlet::current_thread().ident() == Some(tokio::task::id())
    /// });
    /// assert!(t.join().await.unwrap());
    /// # }
    /// ```
    pub fn ident(&self) -> Option<Id> {
        self.core().ident()
    }

    /// Whether the thread is a daemon (dummy threads are, as in Python).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadlet::current_thread().is_daemon()); // a dummy thread
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.core().is_daemon()
    }

    /// Whether the thread has started and not yet finished.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadlet::current_thread().is_alive());
    /// ```
    pub fn is_alive(&self) -> bool {
        self.core().is_alive()
    }

    /// Waits for the thread to finish; `Ok(())` if it returned a value.
    ///
    /// # Errors
    ///
    /// As [`Thread::join`](crate::Thread::join), plus [`JoinError::DummyThread`] for a dummy
    /// thread (Python's `cannot join a dummy thread`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future only stops this caller's wait.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use threadlet::error::JoinError;
    ///
    /// let t = threadlet::spawn(async { 5 });
    /// assert_eq!(t.thread_ref().join().await, Ok(()));
    /// assert_eq!(
    ///     threadlet::current_thread().join().await,
    ///     Err(JoinError::DummyThread)
    /// );
    /// # }
    /// ```
    pub async fn join(&self) -> Result<(), JoinError> {
        self.core().check_joinable(core::addr(&self.shared))?;
        self.core().wait_done().await;
        match self.shared.failure() {
            None => Ok(()),
            Some(err) => Err(err),
        }
    }

    /// Like [`join`](ThreadRef::join), giving up after `timeout`.
    ///
    /// # Errors
    ///
    /// [`JoinTimeoutError::Timeout`] if the thread is still running then;
    /// [`JoinTimeoutError::Join`] as [`join`](ThreadRef::join).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`join`](ThreadRef::join).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let t = threadlet::spawn(std::future::pending::<()>()).thread_ref();
    /// let r = t.join_timeout(Duration::from_millis(5)).await;
    /// assert!(r.unwrap_err().is_timeout());
    /// # }
    /// ```
    pub async fn join_timeout(&self, timeout: Duration) -> Result<(), JoinTimeoutError> {
        self.core().check_joinable(core::addr(&self.shared))?;
        match crate::wait::timeout::with_timeout(timeout, self.core().wait_done()).await {
            None => Err(JoinTimeoutError::Timeout),
            Some(()) => match self.shared.failure() {
                None => Ok(()),
                Some(err) => Err(err.into()),
            },
        }
    }
}

impl PartialEq for ThreadRef {
    fn eq(&self, other: &Self) -> bool {
        if core::addr(&self.shared) == core::addr(&other.shared) {
            return true;
        }
        // A dummy for a foreign task is made afresh on each call; it is the
        // same thread when it stands for the same task.
        let (a, b) = (self.core(), other.core());
        a.kind == Kind::Dummy
            && b.kind == Kind::Dummy
            && a.ident().is_some()
            && a.ident() == b.ident()
    }
}

impl Eq for ThreadRef {}

impl fmt::Debug for ThreadRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ty = match self.core().kind {
            Kind::Thread => "Thread",
            Kind::Main => "MainThread",
            Kind::Dummy => "DummyThread",
        };
        self.core().debug(f, ty)
    }
}
