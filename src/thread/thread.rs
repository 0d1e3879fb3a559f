//! `Thread<T>`, the `ThreadRun` trait (Python's subclass form) and `spawn`
//! (the type-erased view `ThreadRef` is in `thread_ref.rs`).

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::Id;

use super::core::{self, Core, Inner, Kind, Stage};
use super::error::{DaemonError, JoinError, JoinTimeoutError, StartError};
use super::task;
use super::thread_ref::ThreadRef;

/// A thread's body as a type: Python's subclass form, `class MyThread(Thread)`
/// with a `run` method.
///
/// The value is moved into the thread when it starts; its fields are what
/// Python's subclass sets in `__init__`.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::{ThreadRun, Thread};
///
/// struct Countdown {
///     from: u32,
/// }
///
/// impl ThreadRun for Countdown {
///     type Output = Vec<u32>;
///
///     async fn run(self) -> Vec<u32> {
///         (0..=self.from).rev().collect()
///     }
/// }
///
/// let t = Thread::from_run(Countdown { from: 3 });
/// t.start().unwrap();
/// assert_eq!(t.join().await.unwrap(), vec![3, 2, 1, 0]);
/// # }
/// ```
pub trait ThreadRun: Send + 'static {
    /// What the thread returns, handed to every joiner.
    type Output: Send + 'static;

    /// The thread's body, Python's `Thread.run`.
    fn run(self) -> impl Future<Output = Self::Output> + Send;
}

/// A green thread: a tokio task with Python's `threading.Thread` life cycle.
///
/// Made from a future ([`Thread::new`], the article's `Thread(target=f)`) or
/// from a [`ThreadRun`] value ([`Thread::from_run`], the subclass form), or with a
/// [`Builder`](crate::Builder) for a name or the daemon flag. Nothing runs until
/// [`start`](Thread::start). [`spawn`] is build + start in one call.
///
/// `Thread` is a cheap handle (an `Arc`): clone it to join from several tasks.
/// Its output is shared: [`join`](Thread::join) requires `T: Clone` and gives
/// every joiner a clone (wrap a non-`Clone` output in an `Arc`, or wait with
/// [`ThreadRef::join`], which needs no `Clone` and gives no value). For a view
/// of any thread without its output type, see [`ThreadRef`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::Thread;
///
/// let t = Thread::new(async { 6 * 7 });
/// assert!(!t.is_alive());
/// t.start().unwrap();
/// assert_eq!(t.join().await, Ok(42));
/// assert_eq!(t.join().await, Ok(42)); // joined again: same value
/// assert!(!t.is_alive());
/// # }
/// ```
pub struct Thread<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for Thread<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Send + 'static> fmt::Debug for Thread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.core.debug(f, "Thread")
    }
}

/// Daemon flag a new thread gets when none is given: inherited from the
/// creating threadlet thread, as Python inherits `current_thread().daemon`.
fn inherited_daemon() -> bool {
    core::with_current(|current| {
        current.is_some_and(|c| c.core().kind == Kind::Thread && c.core().is_daemon())
    })
}

impl<T: Send + 'static> Thread<T> {
    /// Makes an unstarted thread that will run `future`.
    ///
    /// Python's `Thread(target=f, args=...)`: the future plays target and
    /// arguments. The name is `Thread-N` (N counting up per process, shared
    /// with dummy threads); the thread is a daemon if it is created inside a
    /// daemon thread, else not.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use threadlet::Thread;
    ///
    /// async fn greet(who: &'static str) -> String {
    ///     format!("hello {who}")
    /// }
    ///
    /// let t = Thread::new(greet("world"));
    /// assert!(t.name().starts_with("Thread-"));
    /// t.start().unwrap();
    /// assert_eq!(t.join().await.unwrap(), "hello world");
    /// # }
    /// ```
    pub fn new<F>(future: F) -> Self
    where
        F: Future<Output = T> + Send + 'static,
    {
        Self::from_parts(None, None, Box::pin(async move { Some(future.await) }))
    }

    /// Makes an unstarted thread that will run `body.run()`: the article's
    /// subclass form.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use threadlet::{ThreadRun, Thread};
    ///
    /// struct Add(i32, i32);
    ///
    /// impl ThreadRun for Add {
    ///     type Output = i32;
    ///     async fn run(self) -> i32 {
    ///         self.0 + self.1
    ///     }
    /// }
    ///
    /// let t = Thread::from_run(Add(2, 3));
    /// t.start().unwrap();
    /// assert_eq!(t.join().await, Ok(5));
    /// # }
    /// ```
    pub fn from_run<R>(body: R) -> Self
    where
        R: ThreadRun<Output = T>,
    {
        Self::new(async move { body.run().await })
    }

    pub(crate) fn from_parts(
        name: Option<String>,
        daemon: Option<bool>,
        future: core::BoxFuture<T>,
    ) -> Self {
        let daemon = daemon.unwrap_or_else(inherited_daemon);
        let state = if daemon { core::DAEMON } else { 0 };
        Self {
            inner: Arc::new(Inner {
                core: Core::new(Kind::Thread, name.map(String::into_boxed_str), state),
                stage: Mutex::new(Stage::Initial(future)),
            }),
        }
    }

    /// Makes a thread and starts it at once, without boxing the future.
    pub(crate) fn spawn_parts<F>(
        name: Option<String>,
        daemon: Option<bool>,
        future: F,
        handle: Option<&tokio::runtime::Handle>,
    ) -> Self
    where
        F: Future<Output = T> + Send + 'static,
    {
        let daemon = daemon.unwrap_or_else(inherited_daemon);
        let state = if daemon { core::DAEMON } else { 0 } | core::STARTED;
        let inner = Arc::new(Inner {
            core: Core::new(Kind::Thread, name.map(String::into_boxed_str), state),
            stage: Mutex::new(Stage::running()),
        });
        task::launch(&inner, future, Some, handle);
        Self { inner }
    }

    /// Starts the thread on the current tokio runtime.
    ///
    /// Python's `Thread.start()`. When it returns, the thread is alive (or
    /// already finished), listed by [`enumerate`](crate::enumerate), and has
    /// its [`ident`](Thread::ident).
    ///
    /// # Errors
    ///
    /// [`StartError::AlreadyStarted`] on a second call (Python's
    /// `threads can only be started once`); [`StartError::NoRuntime`] outside
    /// a tokio runtime (the thread stays unstarted).
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
    /// assert!(t.ident().is_some());
    /// assert_eq!(t.start(), Err(StartError::AlreadyStarted));
    /// # }
    /// ```
    pub fn start(&self) -> Result<(), StartError> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        // Take the future first, then mark the thread started: a joiner that
        // sees it started always finds the stage ready for its waker.
        let future = {
            let mut stage = core::lock(&self.inner.stage);
            match std::mem::replace(&mut *stage, Stage::running()) {
                Stage::Initial(future) => future,
                other => {
                    *stage = other;
                    return Err(StartError::AlreadyStarted);
                }
            }
        };
        // Only the start that took the future gets here.
        let _ = self.inner.core.mark_started();
        task::launch(&self.inner, future, std::convert::identity, Some(&handle));
        Ok(())
    }

    /// Waits for the thread to finish and returns a clone of its output.
    ///
    /// Python's `Thread.join()`, which returns `None`; here the joiner gets
    /// the thread's value or how it failed. Any number of tasks may join the
    /// same thread, at the same time or later; each gets the same answer.
    ///
    /// # Errors
    ///
    /// [`JoinError::NotStarted`] before [`start`](Thread::start),
    /// [`JoinError::CurrentThread`] when a thread joins itself,
    /// [`JoinError::Panicked`] with the panic message, and
    /// [`JoinError::Cancelled`] if the thread was cancelled (a cancelled
    /// [`Timer`](crate::Timer), a daemon thread stopped at the end of
    /// [`run`](crate::run), or its runtime shut down).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future only stops this caller's wait; the
    /// thread and its output are untouched.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use threadlet::{Thread};
    /// use threadlet::error::JoinError;
    ///
    /// let t = threadlet::spawn(async { "done" });
    /// let (a, b) = tokio::join!(t.join(), t.join());
    /// assert_eq!((a, b), (Ok("done"), Ok("done")));
    ///
    /// let unstarted = Thread::new(async {});
    /// assert_eq!(unstarted.join().await, Err(JoinError::NotStarted));
    /// # }
    /// ```
    pub async fn join(&self) -> Result<T, JoinError>
    where
        T: Clone,
    {
        let me = Arc::as_ptr(&self.inner).cast::<()>();
        self.inner.core.check_joinable(me)?;
        self.inner.output(Clone::clone).await
    }

    /// Like [`join`](Thread::join), giving up after `timeout`
    /// (`Duration::MAX` waits forever).
    ///
    /// Python's `join(timeout)` returns `None` either way and leaves the
    /// caller to check `is_alive()`; here the error says which happened.
    ///
    /// # Errors
    ///
    /// [`JoinTimeoutError::Timeout`] if the thread is still running when the
    /// time runs out; [`JoinTimeoutError::Join`] with the [`JoinError`] that
    /// [`join`](Thread::join) would give.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`join`](Thread::join).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use threadlet::error::JoinTimeoutError;
    ///
    /// let t = threadlet::spawn(async {
    ///     tokio::time::sleep(Duration::from_secs(5)).await;
    ///     "late"
    /// });
    /// let early = t.join_timeout(Duration::from_secs(1)).await;
    /// assert_eq!(early, Err(JoinTimeoutError::Timeout));
    /// let late = t.join_timeout(Duration::from_secs(10)).await;
    /// assert_eq!(late, Ok("late"));
    /// # }
    /// ```
    pub async fn join_timeout(&self, timeout: Duration) -> Result<T, JoinTimeoutError>
    where
        T: Clone,
    {
        let me = Arc::as_ptr(&self.inner).cast::<()>();
        self.inner.core.check_joinable(me)?;
        let wait = self.inner.output(Clone::clone);
        Ok(crate::wait::timeout::with_timeout(timeout, wait)
            .await
            .ok_or(JoinTimeoutError::Timeout)??)
    }

    /// Test introspection: joiners currently registered to be woken when the
    /// thread finishes.
    #[doc(hidden)]
    pub fn __join_waiters(&self) -> usize {
        self.inner.core.join_waiters()
    }

    /// Returns the thread's name: the one given, or `Thread-N`.
    ///
    /// Python's `Thread.name`. A default name is formatted only when asked for.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::Builder;
    ///
    /// let t = Builder::new().name("reader").build(async {});
    /// assert_eq!(t.name(), "reader");
    /// ```
    pub fn name(&self) -> String {
        self.inner.core.name()
    }

    /// Renames the thread; allowed at any time, as in Python.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::Thread;
    ///
    /// let t = Thread::new(async {});
    /// t.set_name("writer");
    /// assert_eq!(t.name(), "writer");
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        self.inner.core.set_name(name.into());
    }

    /// Returns the tokio task id once the thread is started, else `None`.
    ///
    /// Python's `Thread.ident`. It stays available after the thread ends.
    /// Inside the thread it equals `tokio::task::id()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let t = threadlet::Thread::new(async { tokio::task::id() });
    /// assert_eq!(t.ident(), None);
    /// t.start().unwrap();
    /// assert_eq!(Some(t.join().await.unwrap()), t.ident());
    /// # }
    /// ```
    pub fn ident(&self) -> Option<Id> {
        self.inner.core.ident()
    }

    /// Whether the thread is a daemon: [`run`](crate::run) and
    /// [`wait_non_daemon`](crate::wait_non_daemon) do not wait for it.
    ///
    /// Python's `Thread.daemon`.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadlet::Thread::new(async {});
    /// assert!(!t.is_daemon());
    /// t.set_daemon(true).unwrap();
    /// assert!(t.is_daemon());
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.inner.core.is_daemon()
    }

    /// Sets the daemon flag; only before [`start`](Thread::start).
    ///
    /// # Errors
    ///
    /// [`DaemonError`] once the thread has been started (Python's
    /// `cannot set daemon status of active thread`).
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
    /// t.set_daemon(true).unwrap();
    /// t.start().unwrap();
    /// assert_eq!(t.set_daemon(false), Err(DaemonError));
    /// # }
    /// ```
    pub fn set_daemon(&self, daemon: bool) -> Result<(), DaemonError> {
        if self.inner.core.set_daemon(daemon) {
            Ok(())
        } else {
            Err(DaemonError)
        }
    }

    /// Whether the thread has started and not yet finished.
    ///
    /// Python's `Thread.is_alive()`. A panicking thread stays alive while the
    /// [excepthook](crate::set_excepthook) runs.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let t = threadlet::Thread::new(async {});
    /// assert!(!t.is_alive());
    /// t.start().unwrap();
    /// assert!(t.is_alive()); // not polled yet on this single-threaded runtime
    /// t.join().await.unwrap();
    /// assert!(!t.is_alive());
    /// # }
    /// ```
    pub fn is_alive(&self) -> bool {
        self.inner.core.is_alive()
    }

    /// Returns the type-erased view of this thread, the type
    /// [`current_thread`](crate::current_thread) and
    /// [`enumerate`](crate::enumerate) return.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let t = threadlet::spawn(async { threadlet::current_thread() });
    /// assert_eq!(t.join().await.unwrap(), t.thread_ref());
    /// # }
    /// ```
    pub fn thread_ref(&self) -> ThreadRef {
        ThreadRef::from_shared(self.inner.clone())
    }
}

impl<T: Send + 'static> PartialEq<ThreadRef> for Thread<T> {
    fn eq(&self, other: &ThreadRef) -> bool {
        self.thread_ref() == *other
    }
}

/// Starts a thread running `future` and returns its handle: build + start.
///
/// Like `threading.Thread(target=f).start()`, and like `tokio::spawn` but with
/// a name, a registry entry and a joinable, shareable output. The thread is
/// non-daemon unless started from a daemon thread.
///
/// # Panics
///
/// Outside a tokio runtime, as `tokio::spawn` does. Use
/// [`Builder::spawn`](crate::Builder::spawn) for an error instead.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let t = threadlet::spawn(async { 1 + 1 });
/// assert_eq!(t.join().await, Ok(2));
/// # }
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> Thread<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // No runtime check of our own: `tokio::spawn` panics outside a runtime.
    Thread::spawn_parts(None, None, future, None)
}

impl<T: Send + 'static> PartialEq<Thread<T>> for ThreadRef {
    fn eq(&self, other: &Thread<T>) -> bool {
        *self == other.thread_ref()
    }
}

impl<T: Send + 'static> From<&Thread<T>> for ThreadRef {
    fn from(thread: &Thread<T>) -> Self {
        thread.thread_ref()
    }
}
