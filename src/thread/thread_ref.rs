//! `ThreadRef`: any thread without its output type, as the registry, the
//! excepthook and `current_thread` hand it out. It sits below `Thread<T>`
//! (which converts into it), so the registry and the excepthook need only
//! this file and `core`.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::time::Duration;

use tokio::task::Id;

use super::core::{self, Core, Kind, Shared};
use super::error::{JoinError, JoinTimeoutError};
use crate::wait::blocking::{Op, block_on, block_on_forever};
use crate::wait::timeout::{Wait, deadline};

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

    /// Waits for the thread to finish; `Ok(())` if it ended with a value.
    ///
    /// Python's `Thread.join()`: any number of tasks may join the same thread,
    /// at the same time or later, and each learns how it ended. The value
    /// itself goes to the [`Thread`](crate::Thread) handle's owner.
    ///
    /// # Errors
    ///
    /// As [`Thread::join`](crate::Thread::join) (except [`JoinError::ValueTaken`]: a thread whose
    /// value was taken ended with a value, `Ok(())`), plus
    /// [`JoinError::DummyThread`] for a dummy thread (Python's
    /// `cannot join a dummy thread`).
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
    /// let t = threadlet::spawn(async { 5 }).thread_ref();
    /// let (a, b) = tokio::join!(t.join(), t.join());
    /// assert_eq!((a, b), (Ok(()), Ok(())));
    /// assert_eq!(
    ///     threadlet::current_thread().join().await,
    ///     Err(JoinError::DummyThread)
    /// );
    /// # }
    /// ```
    pub async fn join(&self) -> Result<(), JoinError> {
        self.core().check_joinable(core::addr(&self.shared))?;
        self.core().wait_done().await;
        self.status()
    }

    /// How a finished thread ended.
    fn status(&self) -> Result<(), JoinError> {
        match self.shared.failure() {
            None => Ok(()),
            Some(err) => Err(err),
        }
    }

    /// Says how the thread ended if it has, without waiting: the
    /// non-waiting form of [`join`](ThreadRef::join).
    ///
    /// # Errors
    ///
    /// [`JoinTimeoutError::Timeout`] while the thread is still running;
    /// [`JoinTimeoutError::Join`] as [`join`](ThreadRef::join).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use threadlet::error::JoinTimeoutError;
    ///
    /// let t = threadlet::spawn(async {}).thread_ref();
    /// assert_eq!(t.try_join(), Err(JoinTimeoutError::Timeout)); // not run yet
    /// t.join().await.unwrap();
    /// assert_eq!(t.try_join(), Ok(()));
    /// # }
    /// ```
    pub fn try_join(&self) -> Result<(), JoinTimeoutError> {
        self.core().check_joinable(core::addr(&self.shared))?;
        if !self.core().is_done() {
            return Err(JoinTimeoutError::Timeout);
        }
        Ok(self.status()?)
    }

    /// Like [`join`](ThreadRef::join), giving up after `timeout`; the
    /// crate's timed-form rule as [`Thread::join_timeout`](crate::Thread::join_timeout).
    ///
    /// # Errors
    ///
    /// [`JoinTimeoutError::Timeout`] if the thread is still running then;
    /// [`JoinTimeoutError::Join`] as [`join`](ThreadRef::join).
    ///
    /// # Panics
    ///
    /// A non-zero, finite `timeout` needs tokio's timer: awaited outside a
    /// tokio runtime it panics, naming the caller.
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
    #[track_caller]
    pub fn join_timeout(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Result<(), JoinTimeoutError>> + Send + '_ {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(timeout, "ThreadRef::join_timeout", caller);
            self.core().check_joinable(core::addr(&self.shared))?;
            match wait.run(self.core().wait_done()).await {
                Some(()) => Ok(self.status()?),
                None => Err(JoinTimeoutError::Timeout),
            }
        }
    }

    /// [`join`](ThreadRef::join) for a plain OS thread (`std::thread`,
    /// `spawn_blocking`): the same wait, driven on this thread; it needs no
    /// tokio runtime.
    ///
    /// # Errors
    ///
    /// As [`join`](ThreadRef::join).
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where the wait could never end:
    /// it panics at once, at the caller's line; use
    /// [`join().await`](ThreadRef::join) in async code.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let t = rt.block_on(async { threadlet::spawn(async { 1 }).thread_ref() });
    /// let waiters: Vec<_> = (0..3)
    ///     .map(|_| {
    ///         let t = t.clone();
    ///         std::thread::spawn(move || t.blocking_join())
    ///     })
    ///     .collect();
    /// for w in waiters {
    ///     assert_eq!(w.join().unwrap(), Ok(()));
    /// }
    /// ```
    #[track_caller]
    pub fn blocking_join(&self) -> Result<(), JoinError> {
        let op = Op {
            name: "ThreadRef::blocking_join",
            instead: "`.join().await`",
        };
        block_on_forever(op, self.join())
    }

    /// [`join_timeout`](ThreadRef::join_timeout) for a plain OS thread; it
    /// needs no tokio runtime. `Duration::MAX` waits forever; a zero timeout
    /// only checks.
    ///
    /// # Errors
    ///
    /// As [`join_timeout`](ThreadRef::join_timeout).
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime: it panics at once,
    /// at the caller's line; use
    /// [`join_timeout(timeout).await`](ThreadRef::join_timeout) in async code.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let t = rt.block_on(async { threadlet::spawn(std::future::pending::<()>()).thread_ref() });
    /// let r = t.blocking_join_timeout(Duration::from_millis(10));
    /// assert!(r.unwrap_err().is_timeout());
    /// ```
    #[track_caller]
    pub fn blocking_join_timeout(&self, timeout: Duration) -> Result<(), JoinTimeoutError> {
        let op = Op {
            name: "ThreadRef::blocking_join_timeout",
            instead: "`.join_timeout(timeout).await`",
        };
        let wait = async {
            self.core().check_joinable(core::addr(&self.shared))?;
            self.core().wait_done().await;
            Ok(self.status()?)
        };
        block_on(op, deadline(timeout), wait).unwrap_or(Err(JoinTimeoutError::Timeout))
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
