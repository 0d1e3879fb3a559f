//! `Thread<T>`, the `ThreadRun` trait (Python's subclass form) and `spawn`
//! (the type-erased view `ThreadRef` is in `thread_ref.rs`).

use std::fmt;
use std::future::Future;
use std::panic::{Location, RefUnwindSafe};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::Id;

use super::core::{self, Core, Erased, Inner, Kind, Stage, Typed};
use super::error::{DaemonError, JoinError, JoinTimeoutError, StartError};
use super::thread_ref::ThreadRef;
use super::{task, trace};
use crate::wait::blocking::{Op, block_on, block_on_forever};
use crate::wait::timeout::{Wait, deadline};

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
    /// What the thread returns, handed to the owner of its [`Thread`] handle.
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
/// `Thread<T>` owns the thread's value, like `std::thread::JoinHandle`: it is
/// not `Clone`, and [`join`](Thread::join) consumes it to hand the value over,
/// so `T` needs no `Clone` (`Thread<io::Result<String>>` joins for its
/// `io::Result`). Python's "any number of threads may join" is
/// [`ThreadRef`] (from [`thread_ref`](Thread::thread_ref), cheap to clone):
/// its joins wait for the end and say how the thread ended, without the
/// value. Every join comes in five forms:
///
/// | | [`Thread<T>`] (the value) | [`ThreadRef`] (the status) |
/// |---|---|---|
/// | wait | [`join(self)`](Thread::join) `.await` | [`join(&self)`](ThreadRef::join) `.await` |
/// | don't wait | [`try_join(&mut self)`](Thread::try_join) | [`try_join(&self)`](ThreadRef::try_join) |
/// | wait at most | [`join_timeout(&mut self, d)`](Thread::join_timeout) `.await` | [`join_timeout(&self, d)`](ThreadRef::join_timeout) `.await` |
/// | OS thread | [`blocking_join(self)`](Thread::blocking_join) | [`blocking_join(&self)`](ThreadRef::blocking_join) |
/// | OS thread, at most | [`blocking_join_timeout(&mut self, d)`](Thread::blocking_join_timeout) | [`blocking_join_timeout(&self, d)`](ThreadRef::blocking_join_timeout) |
///
/// A [`Timer`](crate::Timer) has the `Thread<T>` column.
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
/// let status = t.thread_ref(); // for anyone else who waits for the end
/// assert_eq!(t.join().await, Ok(42));
/// assert_eq!(status.join().await, Ok(()));
/// assert!(!status.is_alive());
/// # }
/// ```
pub struct Thread<T> {
    /// `RefUnwindSafe` spelled out: the handle stays `UnwindSafe` as it was
    /// when it pointed at a plain `Inner`.
    inner: Arc<dyn Obj<T> + RefUnwindSafe>,
}

/// What a [`Thread`] handle points to: a started thread's [`Inner`], or an
/// unstarted one ([`Unstarted`]).
trait Obj<T>: Typed<T> {
    /// Starts the thread (the one call that takes its future); the caller
    /// stores the returned task handle.
    fn start_on(
        self: Arc<Self>,
        handle: &tokio::runtime::Handle,
    ) -> Result<tokio::task::JoinHandle<()>, StartError>;
}

impl<T: Send + 'static> Obj<T> for Inner<T> {
    fn start_on(
        self: Arc<Self>,
        _handle: &tokio::runtime::Handle,
    ) -> Result<tokio::task::JoinHandle<()>, StartError> {
        // Made by `spawn`: started already.
        Err(StartError::AlreadyStarted)
    }
}

/// A thread made unstarted ([`Thread::new`], [`Builder::build`], `Timer`):
/// its future waits beside its state, in the same allocation (no box of
/// its own), until `start` takes it. `repr(C)`: the thread's address is its
/// core's ([`Inner`] is `repr(C)` too).
///
/// [`Builder::build`]: crate::Builder::build
#[repr(C)]
struct Unstarted<T, F, M> {
    inner: Inner<T>,
    future: Mutex<Option<F>>,
    /// Turns the future's output into the thread's (a function item).
    map: M,
}

impl<T, F, M> Erased for Unstarted<T, F, M>
where
    T: Send + 'static,
    F: Send + 'static,
    M: Send + Sync + 'static,
{
    fn core(&self) -> &Core {
        &self.inner.core
    }

    fn failure(&self) -> Option<JoinError> {
        self.inner.failure()
    }
}

impl<T, F, M> Typed<T> for Unstarted<T, F, M>
where
    T: Send + 'static,
    F: Send + 'static,
    M: Send + Sync + 'static,
{
    fn inner(&self) -> &Inner<T> {
        &self.inner
    }
}

impl<T, F, M> Obj<T> for Unstarted<T, F, M>
where
    T: Send + 'static,
    F: Future + Send + 'static,
    M: Fn(F::Output) -> Option<T> + Copy + Send + Sync + 'static,
{
    fn start_on(
        self: Arc<Self>,
        handle: &tokio::runtime::Handle,
    ) -> Result<tokio::task::JoinHandle<()>, StartError> {
        // Take the future first, then mark the thread started: only the
        // start that took it gets past here.
        let Some(future) = core::lock(&self.future).take() else {
            return Err(StartError::AlreadyStarted);
        };
        let _ = self.core().mark_started();
        let future = trace::instrument(&self.inner.core, future);
        let map = self.map;
        Ok(task::launch(self, future, map, Some(handle)))
    }
}

impl<T: Send + 'static> fmt::Debug for Thread<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.core().debug(f, "Thread")
    }
}

/// Daemon flag a new thread gets when none is given: inherited from the
/// creating threadlet thread, as Python inherits `current_thread().daemon`.
fn inherited_daemon() -> bool {
    core::current().is_some_and(|c| c.inherit_daemon)
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
        Self::from_parts(None, None, future, Some)
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

    /// Makes an unstarted thread; `map` turns the future's output into the
    /// thread's (`None`: cancelled).
    pub(crate) fn from_parts<F, M>(
        name: Option<String>,
        daemon: Option<bool>,
        future: F,
        map: M,
    ) -> Self
    where
        F: Future + Send + 'static,
        M: Fn(F::Output) -> Option<T> + Copy + Send + Sync + RefUnwindSafe + 'static,
    {
        let daemon = daemon.unwrap_or_else(inherited_daemon);
        let state = if daemon { core::DAEMON } else { 0 };
        Self {
            inner: Arc::new(Unstarted {
                inner: Inner {
                    core: Core::new(Kind::Thread, name.map(String::into_boxed_str), state),
                    stage: Mutex::new(Stage::running()),
                },
                future: Mutex::new(Some(future)),
                map,
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
        let future = trace::instrument(&inner.core, future);
        let task = task::launch(inner.clone(), future, Some, handle);
        inner.core.set_handle(task);
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
        let task = self.inner.clone().start_on(&handle)?;
        self.core().set_handle(task);
        Ok(())
    }

    /// Waits for the thread to finish and hands its value to this, its one
    /// owner.
    ///
    /// Python's `Thread.join()`, which returns `None`; here the owner gets
    /// the thread's value or how it failed, and `T` needs no `Clone`: the
    /// handle is consumed, as `std::thread::JoinHandle::join` consumes its
    /// handle. Anyone else waits for the end with a [`ThreadRef`] (from
    /// [`thread_ref`](Thread::thread_ref)), whose joins report how the thread
    /// ended, any number of them, at the same time or later.
    ///
    /// # Errors
    ///
    /// [`JoinError::NotStarted`] before [`start`](Thread::start),
    /// [`JoinError::CurrentThread`] when a thread joins itself,
    /// [`JoinError::Panicked`] with the panic message,
    /// [`JoinError::Cancelled`] if the thread was cancelled (a cancelled
    /// [`Timer`](crate::Timer), a daemon thread stopped at the end of
    /// [`run`](crate::run), or its runtime shut down), and
    /// [`JoinError::ValueTaken`] if [`try_join`](Thread::try_join) or
    /// [`join_timeout`](Thread::join_timeout) already took the value.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops this wait and drops the handle with it: the
    /// thread runs on, and its value is dropped with the thread (as dropping a
    /// tokio `JoinHandle` detaches its task). To give up waiting and keep the
    /// handle, use [`join_timeout`](Thread::join_timeout), which borrows it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use threadlet::Thread;
    /// use threadlet::error::JoinError;
    ///
    /// // No `Clone` needed: the owner gets the value itself.
    /// let t = threadlet::spawn(async { std::fs::read_to_string("/no/such/file") });
    /// let watcher = t.thread_ref();
    /// let (value, status) = tokio::join!(t.join(), watcher.join());
    /// assert!(value.unwrap().is_err()); // the thread's own io::Result
    /// assert_eq!(status, Ok(()));
    ///
    /// let unstarted = Thread::new(async {});
    /// assert_eq!(unstarted.join().await, Err(JoinError::NotStarted));
    /// # }
    /// ```
    pub async fn join(self) -> Result<T, JoinError> {
        self.check_joinable()?;
        self.core().wait_done().await;
        self.inner.inner().take_output()
    }

    /// Takes the thread's value if it has finished, without waiting.
    ///
    /// The non-waiting form of [`join`](Thread::join) (Python's
    /// `join(timeout=0)`, then `is_alive()`). It borrows the handle: while
    /// the thread runs, try again later or [`join`](Thread::join) it.
    ///
    /// # Errors
    ///
    /// [`JoinTimeoutError::Timeout`] while the thread is still running;
    /// [`JoinTimeoutError::Join`] with the [`JoinError`] that
    /// [`join`](Thread::join) would give — [`JoinError::ValueTaken`] once the
    /// value was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use threadlet::error::{JoinError, JoinTimeoutError};
    ///
    /// let mut t = threadlet::spawn(async { String::from("done") });
    /// assert_eq!(t.try_join(), Err(JoinTimeoutError::Timeout)); // not run yet
    /// t.thread_ref().join().await.unwrap();
    /// assert_eq!(t.try_join().unwrap(), "done");
    /// assert_eq!(t.try_join(), Err(JoinTimeoutError::Join(JoinError::ValueTaken)));
    /// # }
    /// ```
    pub fn try_join(&mut self) -> Result<T, JoinTimeoutError> {
        self.check_joinable()?;
        if !self.core().is_done() {
            return Err(JoinTimeoutError::Timeout);
        }
        Ok(self.inner.inner().take_output()?)
    }

    /// Like [`join`](Thread::join), giving up after `timeout`, with the
    /// handle borrowed so that a timed-out caller keeps it.
    ///
    /// Python's `join(timeout)` returns `None` either way and leaves the
    /// caller to check `is_alive()`; here the error says which happened.
    /// The crate's timed-form rule: a zero timeout only checks (as
    /// [`try_join`](Thread::try_join)), `Duration::MAX` waits forever, and
    /// neither needs a runtime.
    ///
    /// # Errors
    ///
    /// [`JoinTimeoutError::Timeout`] if the thread is still running when the
    /// time runs out; [`JoinTimeoutError::Join`] with the [`JoinError`] that
    /// [`join`](Thread::join) would give.
    ///
    /// # Panics
    ///
    /// A non-zero, finite `timeout` needs tokio's timer: awaited outside a
    /// tokio runtime it panics, naming the caller.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future only stops this wait; the value stays
    /// in the thread for a later join.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use threadlet::error::JoinTimeoutError;
    ///
    /// let mut t = threadlet::spawn(async {
    ///     tokio::time::sleep(Duration::from_secs(5)).await;
    ///     "late"
    /// });
    /// let early = t.join_timeout(Duration::from_secs(1)).await;
    /// assert_eq!(early, Err(JoinTimeoutError::Timeout));
    /// let late = t.join_timeout(Duration::from_secs(10)).await;
    /// assert_eq!(late, Ok("late"));
    /// # }
    /// ```
    #[track_caller]
    pub fn join_timeout(
        &mut self,
        timeout: Duration,
    ) -> impl Future<Output = Result<T, JoinTimeoutError>> + Send + '_ {
        let caller = Location::caller();
        async move {
            // Planned first, so a call outside a runtime fails the same way
            // whether or not the thread has finished.
            let wait = Wait::plan(timeout, "Thread::join_timeout", caller);
            self.check_joinable()?;
            match wait.run(self.core().wait_done()).await {
                Some(()) => Ok(self.inner.inner().take_output()?),
                None => Err(JoinTimeoutError::Timeout),
            }
        }
    }

    /// [`join`](Thread::join) for a plain OS thread (`std::thread`,
    /// `spawn_blocking`): the same wait, driven on this thread; it needs no
    /// tokio runtime.
    ///
    /// # Errors
    ///
    /// As [`join`](Thread::join).
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where the wait could never end:
    /// it panics at once, at the caller's line; use
    /// [`join().await`](Thread::join) in async code.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let t = rt.block_on(async { threadlet::spawn(async { vec![1, 2, 3] }) });
    /// // `main` is a plain thread here, not inside the runtime.
    /// assert_eq!(t.blocking_join(), Ok(vec![1, 2, 3]));
    /// ```
    #[track_caller]
    pub fn blocking_join(self) -> Result<T, JoinError> {
        self.blocking_join_as(Op {
            name: "Thread::blocking_join",
            instead: "`.join().await`",
        })
    }

    #[track_caller]
    pub(crate) fn blocking_join_as(self, op: Op) -> Result<T, JoinError> {
        block_on_forever(op, self.join())
    }

    /// [`join_timeout`](Thread::join_timeout) for a plain OS thread; it
    /// needs no tokio runtime. `Duration::MAX` waits forever; a zero timeout
    /// only checks.
    ///
    /// # Errors
    ///
    /// As [`join_timeout`](Thread::join_timeout).
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime: it panics at once,
    /// at the caller's line; use
    /// [`join_timeout(timeout).await`](Thread::join_timeout) in async code.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::error::JoinTimeoutError;
    ///
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let gate = threadlet::Event::new();
    /// let g = gate.clone();
    /// let mut t = rt.block_on(async { threadlet::spawn(async move { g.wait().await; 7 }) });
    /// let early = t.blocking_join_timeout(Duration::from_millis(10));
    /// assert_eq!(early, Err(JoinTimeoutError::Timeout));
    /// gate.set();
    /// assert_eq!(t.blocking_join_timeout(Duration::MAX), Ok(7));
    /// ```
    #[track_caller]
    pub fn blocking_join_timeout(&mut self, timeout: Duration) -> Result<T, JoinTimeoutError> {
        self.blocking_join_timeout_as(
            Op {
                name: "Thread::blocking_join_timeout",
                instead: "`.join_timeout(timeout).await`",
            },
            timeout,
        )
    }

    #[track_caller]
    pub(crate) fn blocking_join_timeout_as(
        &mut self,
        op: Op,
        timeout: Duration,
    ) -> Result<T, JoinTimeoutError> {
        let wait = async {
            self.check_joinable()?;
            self.core().wait_done().await;
            Ok(self.inner.inner().take_output()?)
        };
        block_on(op, deadline(timeout), wait).unwrap_or(Err(JoinTimeoutError::Timeout))
    }

    /// The thread's untyped state.
    fn core(&self) -> &Core {
        &self.inner.inner().core
    }

    /// Errors every join reports before waiting, in Python's order.
    fn check_joinable(&self) -> Result<(), JoinError> {
        let me = Arc::as_ptr(&self.inner).cast::<()>();
        self.core().check_joinable(me)
    }

    /// Joiners waiting right now (for the crate's tests).
    #[cfg(test)]
    pub(crate) fn join_waiters(&self) -> usize {
        self.core().join_waiters()
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
        self.core().name()
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
        self.core().set_name(name.into());
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
    /// let ident = t.ident();
    /// assert_eq!(Some(t.join().await.unwrap()), ident);
    /// # }
    /// ```
    pub fn ident(&self) -> Option<Id> {
        self.core().ident()
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
        self.core().is_daemon()
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
        if self.core().set_daemon(daemon) {
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
    /// t.thread_ref().join().await.unwrap();
    /// assert!(!t.is_alive());
    /// # }
    /// ```
    pub fn is_alive(&self) -> bool {
        self.core().is_alive()
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
    /// let r = t.thread_ref();
    /// assert_eq!(t.join().await.unwrap(), r);
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

#[cfg(all(test, not(threadlet_loom)))]
mod tests {
    use std::time::Duration;

    use crate::Event;
    use crate::error::JoinTimeoutError;

    /// Issue 16.7: a cancelled or timed-out join must leave nothing
    /// registered on the thread (it used to keep its waker forever).
    #[tokio::test(flavor = "current_thread", start_paused = true)]
    async fn cancelled_joins_leave_no_waiter_behind() {
        let gate = Event::new();
        let g = gate.clone();
        let mut t = crate::spawn(async move {
            g.wait().await;
            7
        });
        // Timed-out joins from many tasks, each with its own waker.
        let waiters: Vec<_> = (0..50)
            .map(|_| {
                let r = t.thread_ref();
                tokio::spawn(async move { r.join_timeout(Duration::from_millis(1)).await })
            })
            .collect();
        for w in waiters {
            assert_eq!(w.await.unwrap(), Err(JoinTimeoutError::Timeout));
        }
        // Joins cancelled by dropping them, through both handles.
        for _ in 0..50 {
            let _ =
                tokio::time::timeout(Duration::from_millis(1), t.join_timeout(Duration::MAX)).await;
            let r = t.thread_ref();
            let _ = tokio::time::timeout(Duration::from_millis(1), r.join()).await;
        }
        assert_eq!(t.join_waiters(), 0, "dropped joins left waiters behind");
        // A live join is counted while it waits, and still gets the value.
        let r = t.thread_ref();
        let live = tokio::spawn(async move { r.join().await });
        tokio::task::yield_now().await;
        assert_eq!(t.join_waiters(), 1);
        gate.set();
        assert_eq!(live.await.unwrap(), Ok(()));
        assert_eq!(t.join_waiters(), 0);
        assert_eq!(t.join().await, Ok(7));
    }
}
