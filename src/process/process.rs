//! `Process`, its `Builder`, `spawn_process`, and the list of live children that
//! is joined (or killed) at exit.

use std::any::TypeId;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::blocking::refuse_runtime_thread;
use super::codec::{self, Launch};
use super::current::{self, INITIALIZED, identity_name, next_identity};
use super::driver::{self, Job};
use super::record::{Meta, Outcome, Record, State};
use super::registry::{self, Lookup, ProcessRun};
use crate::error::{ProcessJoinError, ProcessStartError, ProcessStateError};
use crate::wait::loom::lock;

/// A child OS process running a registered target: Python's
/// `multiprocessing.Process` with the `spawn` start method.
///
/// Create it from a plain function and its serde-encodable arguments
/// ([`Process::new`], the article's call mode 1) or from a value implementing
/// [`ProcessRun`] ([`Process::from_run`], call mode 2). Nothing runs until
/// [`start`](Process::start), which re-executes the current binary; the child's
/// `main` reaches [`init`](super::init), runs the target and exits. `R` is the
/// target's return type, handed back by [`join`](Process::join). Handles are cheap
/// to clone and `Send + Sync`.
///
/// # Examples
///
/// ```
/// use threadlet::process::{self, Process};
///
/// fn add((a, b): (i32, i32)) -> i32 {
///     a + b
/// }
///
/// fn main() {
///     process::register(add);
///     process::init(); // the child runs `add` here and exits
///
///     let rt = tokio::runtime::Runtime::new().unwrap();
///     rt.block_on(async {
///         let p = Process::new(add, (2, 3)).unwrap();
///         assert_eq!(p.name(), "Process-1");
///         p.start().unwrap();
///         assert_eq!(p.join().await.unwrap(), 5);
///         assert_eq!(p.exitcode(), Some(0));
///     });
/// }
/// ```
pub struct Process<R = ()> {
    shared: Arc<Record>,
    _ret: PhantomData<fn() -> R>,
}

impl<R> Clone for Process<R> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
            _ret: PhantomData,
        }
    }
}

impl<R> fmt::Debug for Process<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("name", &self.name())
            .field("daemon", &self.is_daemon())
            .field("pid", &self.pid())
            .field("exitcode", &self.exitcode())
            .finish()
    }
}

/// Sets a process's name and daemon flag before creating it, like Python's
/// `Process(target, args, name=..., daemon=...)` keywords.
///
/// # Examples
///
/// ```
/// use threadlet::process::Builder;
///
/// fn work(_: ()) {}
///
/// let p = Builder::new().name("worker").daemon(true).process(work, ()).unwrap();
/// assert_eq!(p.name(), "worker");
/// assert!(p.is_daemon());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Builder {
    name: Option<String>,
    /// `None`: the creating process's own flag, as in Python.
    daemon: Option<bool>,
}

impl Builder {
    /// A builder with Python's defaults: name `Process-N`, and a daemon only
    /// if the creating process is one.
    ///
    /// # Examples
    ///
    /// ```
    /// fn work(_: ()) {}
    /// let p = threadlet::process::Builder::new().process(work, ()).unwrap();
    /// assert!(!p.is_daemon());
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        Self {
            name: None,
            daemon: None,
        }
    }

    /// Names the process (its `current_process().name()` in the child).
    ///
    /// # Examples
    ///
    /// ```
    /// fn work(_: ()) {}
    /// let p = threadlet::process::Builder::new().name("w").process(work, ()).unwrap();
    /// assert_eq!(p.name(), "w");
    /// ```
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Makes the process a daemon: it is killed when its parent exits (even by
    /// SIGKILL), and it may not start children of its own.
    ///
    /// # Examples
    ///
    /// ```
    /// fn work(_: ()) {}
    /// let p = threadlet::process::Builder::new().daemon(true).process(work, ()).unwrap();
    /// assert!(p.is_daemon());
    /// ```
    #[must_use]
    pub const fn daemon(mut self, daemon: bool) -> Self {
        self.daemon = Some(daemon);
        self
    }

    /// Creates (does not start) a process running `target(args)`.
    ///
    /// # Errors
    ///
    /// [`ProcessStartError::Encode`] if `args` cannot be encoded.
    ///
    /// # Examples
    ///
    /// ```
    /// fn double(x: u32) -> u32 { x * 2 }
    /// let p = threadlet::process::Builder::new().process(double, 21).unwrap();
    /// assert_eq!(p.exitcode(), None);
    /// ```
    pub fn process<A, R, F>(self, target: F, args: A) -> Result<Process<R>, ProcessStartError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
    {
        drop(target);
        let args =
            postcard::to_stdvec(&args).map_err(|e| ProcessStartError::Encode(e.to_string()))?;
        Ok(Process::create(
            self,
            "Process",
            registry::key_of::<F>(),
            TypeId::of::<F>(),
            args,
        ))
    }

    /// Creates (does not start) a process running `value.run()`.
    ///
    /// # Errors
    ///
    /// [`ProcessStartError::Encode`] if `value` cannot be encoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use threadlet::process::{Builder, ProcessRun};
    ///
    /// #[derive(Serialize, Deserialize)]
    /// struct Job;
    /// impl ProcessRun for Job {
    ///     type Output = ();
    ///     fn run(self) {}
    /// }
    ///
    /// let p = Builder::new().name("job").from_run(Job).unwrap();
    /// assert_eq!(p.name(), "job");
    /// ```
    pub fn from_run<T: ProcessRun>(
        self,
        value: T,
    ) -> Result<Process<T::Output>, ProcessStartError> {
        let args =
            postcard::to_stdvec(&value).map_err(|e| ProcessStartError::Encode(e.to_string()))?;
        let type_name = registry::key_of::<T>();
        let prefix = type_name
            .split('<')
            .next()
            .and_then(|path| path.rsplit("::").next())
            .unwrap_or("Process");
        Ok(Process::create(
            self,
            prefix,
            type_name,
            TypeId::of::<T>(),
            args,
        ))
    }

    /// Creates and starts a process running `target(args)`.
    ///
    /// # Errors
    ///
    /// As [`Builder::process`] and [`Process::start`].
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::process::{self, Builder};
    ///
    /// fn hello(name: String) -> String {
    ///     format!("hello {name}")
    /// }
    ///
    /// fn main() {
    ///     process::register(hello);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let p = Builder::new().name("greeter").spawn(hello, "bob".to_string()).unwrap();
    ///     assert_eq!(rt.block_on(p.join()).unwrap(), "hello bob");
    /// }
    /// ```
    pub fn spawn<A, R, F>(self, target: F, args: A) -> Result<Process<R>, ProcessStartError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
    {
        let p = self.process(target, args)?;
        p.start()?;
        Ok(p)
    }
}

/// Creates and starts a process running `target(args)`: `Process::new` then
/// `start`, in one call.
///
/// # Errors
///
/// As [`Process::new`] and [`Process::start`].
///
/// # Examples
///
/// ```
/// use threadlet::process;
///
/// fn shout(s: String) -> String {
///     s.to_uppercase()
/// }
///
/// fn main() {
///     process::register(shout);
///     process::init();
///     let rt = tokio::runtime::Runtime::new().unwrap();
///     let p = process::spawn_process(shout, "hi".to_string()).unwrap();
///     assert_eq!(rt.block_on(p.join()).unwrap(), "HI");
/// }
/// ```
pub fn spawn_process<A, R, F>(target: F, args: A) -> Result<Process<R>, ProcessStartError>
where
    F: Fn(A) -> R + Send + Sync + 'static,
    A: Serialize,
{
    Builder::new().spawn(target, args)
}

impl<R> Process<R> {
    fn create(
        builder: Builder,
        prefix: &str,
        key: &'static str,
        type_id: TypeId,
        args: Vec<u8>,
    ) -> Self {
        let identity = next_identity();
        let name = builder
            .name
            .unwrap_or_else(|| identity_name(prefix, &identity));
        // As Python: a process created in a daemon process is a daemon
        // unless told otherwise (and, being one, may not start).
        let daemon = builder.daemon.unwrap_or_else(current::i_am_daemon);
        Self {
            shared: Arc::new(Record::new(
                key,
                type_id,
                identity,
                args,
                Meta { name, daemon },
            )),
            _ret: PhantomData,
        }
    }

    /// Creates (does not start) a process running `target(args)`: Python's
    /// `Process(target=f, args=(...))`, the article's call mode 1.
    ///
    /// `target` must be [`register`](super::register)ed before
    /// [`init`](super::init). Several arguments travel as a tuple.
    ///
    /// # Errors
    ///
    /// [`ProcessStartError::Encode`] if `args` cannot be encoded; no process
    /// is started.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::process::Process;
    ///
    /// fn greet((name, times): (String, u32)) -> String {
    ///     name.repeat(times as usize)
    /// }
    ///
    /// let p = Process::new(greet, ("ab".to_string(), 2)).unwrap();
    /// assert!(p.name().starts_with("Process-"));
    /// assert_eq!(p.pid(), None);
    /// ```
    pub fn new<A, F>(target: F, args: A) -> Result<Self, ProcessStartError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Serialize,
    {
        Builder::new().process(target, args)
    }

    /// Creates (does not start) a process running `value.run()`: the article's
    /// call mode 2 (a `Process` subclass overriding `run`). Its default name is
    /// the type's name plus a counter (`MyProcess-1`).
    ///
    /// # Errors
    ///
    /// [`ProcessStartError::Encode`] if `value` cannot be encoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use threadlet::process::{Process, ProcessRun};
    ///
    /// #[derive(Serialize, Deserialize)]
    /// struct MyProcess;
    /// impl ProcessRun for MyProcess {
    ///     type Output = ();
    ///     fn run(self) {}
    /// }
    ///
    /// let p = Process::from_run(MyProcess).unwrap();
    /// assert!(p.name().starts_with("MyProcess-"));
    /// ```
    pub fn from_run<T: ProcessRun<Output = R>>(value: T) -> Result<Self, ProcessStartError> {
        Builder::new().from_run(value)
    }

    /// The process's name (`Process-N` unless given).
    ///
    /// # Examples
    ///
    /// ```
    /// fn work(_: ()) {}
    /// let p = threadlet::process::Process::new(work, ()).unwrap();
    /// assert!(p.name().starts_with("Process-"));
    /// ```
    #[must_use]
    pub fn name(&self) -> String {
        lock(&self.shared.meta).name.clone()
    }

    /// Renames the process. As in Python this only changes the parent's handle
    /// once the child is running.
    ///
    /// # Examples
    ///
    /// ```
    /// fn work(_: ()) {}
    /// let p = threadlet::process::Process::new(work, ()).unwrap();
    /// p.set_name("renamed");
    /// assert_eq!(p.name(), "renamed");
    /// ```
    pub fn set_name(&self, name: impl Into<String>) {
        lock(&self.shared.meta).name = name.into();
    }

    /// Whether the process is a daemon.
    ///
    /// # Examples
    ///
    /// ```
    /// fn work(_: ()) {}
    /// assert!(!threadlet::process::Process::new(work, ()).unwrap().is_daemon());
    /// ```
    #[must_use]
    pub fn is_daemon(&self) -> bool {
        self.shared.is_daemon()
    }

    /// Sets the daemon flag before `start` (Python's `p.daemon = True`).
    ///
    /// # Errors
    ///
    /// [`ProcessStateError::AlreadyStarted`] after `start`.
    ///
    /// # Examples
    ///
    /// ```
    /// fn work(_: ()) {}
    /// let p = threadlet::process::Process::new(work, ()).unwrap();
    /// p.set_daemon(true).unwrap();
    /// assert!(p.is_daemon());
    /// ```
    pub fn set_daemon(&self, daemon: bool) -> Result<(), ProcessStateError> {
        let state = lock(&self.shared.state);
        if !matches!(*state, State::New) {
            return Err(ProcessStateError::AlreadyStarted);
        }
        lock(&self.shared.meta).daemon = daemon;
        Ok(())
    }

    /// Starts the child: re-executes the current binary, whose `main` reaches
    /// [`init`](super::init) and runs the target. Returns once the child exists
    /// (its [`pid`](Process::pid) is known), without waiting for it to run.
    ///
    /// The child's stdout and stderr are the parent's; its stdin is `/dev/null`.
    /// This call blocks for the time a `fork`/`exec` takes (under a millisecond),
    /// like `tokio::process::Command::spawn`.
    ///
    /// # Errors
    ///
    /// - [`ProcessStartError::AlreadyStarted`]: called twice;
    /// - [`ProcessStartError::DaemonChild`]: the current process is a daemon;
    /// - [`ProcessStartError::NotInitialized`]: [`init`](super::init) was never
    ///   called in this process;
    /// - [`ProcessStartError::NoTestSupport`]: this is a `cargo test` binary
    ///   (libtest harness) whose file lacks [`test_support!`](super::test_support);
    /// - [`ProcessStartError::UnknownTarget`] / [`ProcessStartError::AmbiguousTarget`]:
    ///   the target is not registered here, or its name is shared;
    /// - [`ProcessStartError::Spawn`]: the OS refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::ProcessStartError;
    /// use threadlet::process::{self, Process};
    ///
    /// fn nothing(_: ()) {}
    ///
    /// fn main() {
    ///     process::register(nothing);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let p = Process::new(nothing, ()).unwrap();
    ///     p.start().unwrap();
    ///     assert_eq!(p.start(), Err(ProcessStartError::AlreadyStarted));
    ///     rt.block_on(p.join()).unwrap();
    /// }
    /// ```
    pub fn start(&self) -> Result<(), ProcessStartError> {
        let shared = &self.shared;
        // Check and claim under the state lock, then let go of it before the
        // driver is involved: no lock is held across the wait for its answer
        // (the driver takes this lock itself, to record `Running`).
        let launch = {
            let mut state = lock(&shared.state);
            if !matches!(*state, State::New) {
                return Err(ProcessStartError::AlreadyStarted);
            }
            if current::i_am_daemon() {
                return Err(ProcessStartError::DaemonChild);
            }
            if !INITIALIZED.load(Ordering::Acquire) {
                return Err(ProcessStartError::NotInitialized);
            }
            if driver::unprepared_test_harness() {
                return Err(ProcessStartError::NoTestSupport);
            }
            match registry::lookup(shared.key, Some(shared.type_id)) {
                Ok(_) => {}
                Err(Lookup::Unknown) => {
                    return Err(ProcessStartError::UnknownTarget(shared.key.to_owned()));
                }
                Err(Lookup::Ambiguous) => {
                    return Err(ProcessStartError::AmbiguousTarget(shared.key.to_owned()));
                }
            }
            let (name, daemon) = {
                let meta = lock(&shared.meta);
                (meta.name.clone(), meta.daemon)
            };
            let args = lock(&shared.args).clone().unwrap_or_default();
            let launch = codec::frame(&Launch {
                target: shared.key.to_owned(),
                name,
                daemon,
                identity: shared.identity.clone(),
                parent_pid: current::getpid(),
                parent_name: current::my_name().to_owned(),
                args,
            })
            .map_err(|e| ProcessStartError::Encode(e.to_string()))?;
            *state = State::Starting;
            launch
        };
        // The driver records `Running` (pid, signal channel) itself before it
        // answers, so its supervisor can never see a child it reaps as not
        // yet started.
        match driver::start(Job {
            launch,
            record: Arc::clone(shared),
        }) {
            Ok(()) => {
                lock(&shared.args).take();
                Ok(())
            }
            Err(e) => {
                *lock(&shared.state) = State::New;
                Err(ProcessStartError::Spawn(e.to_string()))
            }
        }
    }

    /// Waits for the child to end and returns the target's value.
    ///
    /// Python's `join()` returns `None` and leaves the outcome to `exitcode`;
    /// here the value (or why there is none) comes back typed. A process may be
    /// joined many times, from many tasks; each gets its own decoded copy.
    ///
    /// # Errors
    ///
    /// [`ProcessJoinError::NotStarted`] before `start`; otherwise why the child
    /// has no value: it panicked (with the message), was killed by a signal,
    /// exited early, never ran its target (its `main` lacks `init()`), or did not
    /// know it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future only stops this caller's wait; the child
    /// runs on and can be joined again.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::process::{self, Process};
    ///
    /// fn fail(_: ()) {
    ///     panic!("boom");
    /// }
    ///
    /// fn main() {
    ///     process::register(fail);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let p = Process::new(fail, ()).unwrap();
    ///     p.start().unwrap();
    ///     let err = rt.block_on(p.join()).unwrap_err();
    ///     assert!(err.is_panic());
    ///     assert_eq!(p.exitcode(), Some(1));
    /// }
    /// ```
    pub async fn join(&self) -> Result<R, ProcessJoinError>
    where
        R: DeserializeOwned,
    {
        if !self.shared.is_started() {
            return Err(ProcessJoinError::NotStarted);
        }
        self.shared.wait_done().await;
        self.result()
    }

    /// [`join`](Process::join) for at most `timeout` (`Duration::MAX` waits
    /// forever, zero never waits).
    ///
    /// The timeout is measured in real time, on the process driver's own
    /// clock: under a paused tokio clock (`start_paused`, `time::pause`) it
    /// does not expire the moment the runtime auto-advances, since the child
    /// runs in real time. It needs no timer of the caller's runtime.
    ///
    /// # Errors
    ///
    /// As [`join`](Process::join), plus [`ProcessJoinError::Timeout`] when the
    /// child is still running at the deadline.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as `join`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::process::{self, Process};
    ///
    /// fn nap(ms: u64) {
    ///     std::thread::sleep(Duration::from_millis(ms));
    /// }
    ///
    /// fn main() {
    ///     process::register(nap);
    ///     process::init();
    ///     let rt = tokio::runtime::Runtime::new().unwrap();
    ///     let p = Process::new(nap, 10_000).unwrap();
    ///     p.start().unwrap();
    ///     let err = rt.block_on(p.join_timeout(Duration::from_millis(10))).unwrap_err();
    ///     assert!(err.is_timeout());
    ///     p.kill().unwrap();
    ///     assert!(rt.block_on(p.join()).is_err());
    ///     assert_eq!(p.exitcode(), Some(-9));
    /// }
    /// ```
    pub async fn join_timeout(&self, timeout: Duration) -> Result<R, ProcessJoinError>
    where
        R: DeserializeOwned,
    {
        driver::real_timeout(timeout, self.join())
            .await
            .unwrap_or(Err(ProcessJoinError::Timeout))
    }

    /// [`join`](Process::join) for plain OS threads: blocks the calling thread.
    ///
    /// # Errors
    ///
    /// As [`join`](Process::join).
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.join().await` there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::process::{self, Process};
    ///
    /// fn one(_: ()) -> u8 {
    ///     1
    /// }
    ///
    /// fn main() {
    ///     process::register(one);
    ///     process::init();
    ///     let p = Process::new(one, ()).unwrap();
    ///     p.start().unwrap();
    ///     assert_eq!(p.blocking_join().unwrap(), 1);
    /// }
    /// ```
    #[track_caller]
    pub fn blocking_join(&self) -> Result<R, ProcessJoinError>
    where
        R: DeserializeOwned,
    {
        refuse_runtime_thread("Process::blocking_join", "`.join().await`");
        if !self.shared.is_started() {
            return Err(ProcessJoinError::NotStarted);
        }
        self.shared.blocking_wait_done();
        self.result()
    }

    /// [`join`](Process::join) without waiting: the target's value if the
    /// child has already been reaped, [`ProcessJoinError::Timeout`] while it
    /// runs (Python's `join(0)`).
    ///
    /// # Errors
    ///
    /// As [`join`](Process::join), plus [`ProcessJoinError::Timeout`] while
    /// the child is still running.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::ProcessJoinError;
    /// use threadlet::process::{self, Process};
    ///
    /// fn nap(ms: u64) {
    ///     std::thread::sleep(std::time::Duration::from_millis(ms));
    /// }
    ///
    /// fn main() {
    ///     process::register(nap);
    ///     process::init();
    ///     let p = Process::new(nap, 10_000).unwrap();
    ///     assert_eq!(p.try_join(), Err(ProcessJoinError::NotStarted));
    ///     p.start().unwrap();
    ///     assert_eq!(p.try_join(), Err(ProcessJoinError::Timeout));
    ///     p.kill().unwrap();
    ///     assert!(p.blocking_join().is_err());
    ///     assert!(matches!(p.try_join(), Err(ProcessJoinError::Killed { signal: 9, .. })));
    /// }
    /// ```
    pub fn try_join(&self) -> Result<R, ProcessJoinError>
    where
        R: DeserializeOwned,
    {
        if !self.shared.is_started() {
            return Err(ProcessJoinError::NotStarted);
        }
        if !self.shared.is_done() {
            return Err(ProcessJoinError::Timeout);
        }
        self.result()
    }

    /// [`blocking_join`](Process::blocking_join) for at most `timeout`
    /// (`Duration::MAX` waits forever, zero is
    /// [`try_join`](Process::try_join)); it needs no tokio runtime.
    ///
    /// # Errors
    ///
    /// As [`join`](Process::join), plus [`ProcessJoinError::Timeout`] when the
    /// child is still running at the deadline.
    ///
    /// # Panics
    ///
    /// On a thread that drives a tokio runtime (an async task, a
    /// `block_on` or `#[tokio::test]` body), where the wait could never
    /// end: use `.join_timeout(timeout).await` there, or call it from `spawn_blocking`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::process::{self, Process};
    ///
    /// fn nap(ms: u64) {
    ///     std::thread::sleep(Duration::from_millis(ms));
    /// }
    ///
    /// fn main() {
    ///     process::register(nap);
    ///     process::init();
    ///     let p = Process::new(nap, 10_000).unwrap();
    ///     p.start().unwrap();
    ///     assert!(p.blocking_join_timeout(Duration::from_millis(10)).unwrap_err().is_timeout());
    ///     p.kill().unwrap();
    ///     assert!(p.blocking_join_timeout(Duration::MAX).is_err());
    ///     assert_eq!(p.exitcode(), Some(-9));
    /// }
    /// ```
    #[track_caller]
    pub fn blocking_join_timeout(&self, timeout: Duration) -> Result<R, ProcessJoinError>
    where
        R: DeserializeOwned,
    {
        refuse_runtime_thread(
            "Process::blocking_join_timeout",
            "`.join_timeout(timeout).await`",
        );
        if !self.shared.is_started() {
            return Err(ProcessJoinError::NotStarted);
        }
        if self
            .shared
            .blocking_wait_done_until(crate::wait::timeout::deadline(timeout))
        {
            self.result()
        } else {
            Err(ProcessJoinError::Timeout)
        }
    }

    fn result(&self) -> Result<R, ProcessJoinError>
    where
        R: DeserializeOwned,
    {
        let name = self.name();
        let state = lock(&self.shared.state);
        let State::Done {
            exitcode, outcome, ..
        } = &*state
        else {
            return Err(ProcessJoinError::NotStarted);
        };
        let exitcode = *exitcode;
        let ended = || {
            if exitcode < 0 {
                ProcessJoinError::Killed {
                    name: name.clone(),
                    signal: -exitcode,
                }
            } else {
                ProcessJoinError::Exited {
                    name: name.clone(),
                    code: exitcode,
                }
            }
        };
        match outcome {
            Outcome::Returned(bytes) => postcard::from_bytes(bytes)
                .map_err(|e| ProcessJoinError::Codec(format!("cannot decode the value: {e}"))),
            Outcome::Panicked(message) => Err(ProcessJoinError::Panicked {
                name: name.clone(),
                message: message.clone(),
            }),
            Outcome::UnknownTarget(key) => Err(ProcessJoinError::UnknownTarget(key.clone())),
            Outcome::Codec(msg) => Err(ProcessJoinError::Codec(msg.clone())),
            Outcome::NoReport => Err(ended()),
            Outcome::NoInit { .. } if exitcode < 0 => Err(ended()),
            Outcome::NoInit { stderr } => Err(ProcessJoinError::NoInit {
                exitcode,
                stderr: stderr.clone(),
            }),
        }
    }

    /// Whether the child has started and not yet been reaped.
    ///
    /// # Examples
    ///
    /// ```
    /// fn work(_: ()) {}
    /// assert!(!threadlet::process::Process::new(work, ()).unwrap().is_alive());
    /// ```
    #[must_use]
    pub fn is_alive(&self) -> bool {
        matches!(*lock(&self.shared.state), State::Running { .. })
    }

    /// The child's process id, `None` before `start`.
    ///
    /// # Examples
    ///
    /// ```
    /// fn work(_: ()) {}
    /// assert_eq!(threadlet::process::Process::new(work, ()).unwrap().pid(), None);
    /// ```
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        match &*lock(&self.shared.state) {
            State::New | State::Starting => None,
            State::Running { pid, .. } | State::Done { pid, .. } => Some(*pid),
        }
    }

    /// Python's `exitcode`: `None` before start and while running, `0` when the
    /// target returned, `1` when it panicked, `-N` when a signal `N` killed it.
    ///
    /// # Examples
    ///
    /// ```
    /// fn work(_: ()) {}
    /// assert_eq!(threadlet::process::Process::new(work, ()).unwrap().exitcode(), None);
    /// ```
    #[must_use]
    pub fn exitcode(&self) -> Option<i32> {
        match &*lock(&self.shared.state) {
            State::Done { exitcode, .. } => Some(*exitcode),
            _ => None,
        }
    }

    /// Sends SIGTERM to the child (Python's `terminate()`); its exit code becomes
    /// `-15` unless it handles the signal. Does nothing once it has been reaped.
    ///
    /// # Errors
    ///
    /// [`ProcessStateError::NotStarted`] before `start`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::ProcessStateError;
    ///
    /// fn work(_: ()) {}
    /// let p = threadlet::process::Process::new(work, ()).unwrap();
    /// assert_eq!(p.terminate(), Err(ProcessStateError::NotStarted));
    /// ```
    pub fn terminate(&self) -> Result<(), ProcessStateError> {
        self.shared.signal(Signal::SIGTERM)
    }

    /// Sends SIGKILL to the child (Python's `kill()`); its exit code becomes `-9`.
    /// Does nothing once it has been reaped.
    ///
    /// # Errors
    ///
    /// [`ProcessStateError::NotStarted`] before `start`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::ProcessStateError;
    ///
    /// fn work(_: ()) {}
    /// let p = threadlet::process::Process::new(work, ()).unwrap();
    /// assert_eq!(p.kill(), Err(ProcessStateError::NotStarted));
    /// ```
    pub fn kill(&self) -> Result<(), ProcessStateError> {
        self.shared.signal(Signal::SIGKILL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::children;

    fn nap(ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }

    fn targets() {
        crate::process::register(nap);
    }

    crate::process::test_support!(targets);

    #[tokio::test]
    async fn shutdown_kills_daemons_and_joins_the_others() {
        threadlet_process_setup();
        let daemon = Builder::new().daemon(true).spawn(nap, 60_000).unwrap();
        let worker = Builder::new().spawn(nap, 300).unwrap();
        children::shutdown().await;
        // The daemon was killed; the non-daemon child ran to its end.
        assert_eq!(daemon.exitcode(), Some(-9));
        assert_eq!(worker.exitcode(), Some(0));
        assert_eq!(worker.join().await.unwrap(), 300);
        assert!(
            !children::all()
                .iter()
                .any(|c| Arc::ptr_eq(c, &daemon.shared))
        );
    }

    /// `start()` must not hold the record's lock while it waits for the driver:
    /// driver work queued ahead of the spawn that reads the same process
    /// (here `is_alive`) would wait for `start()`, which waits for the driver.
    #[test]
    fn start_holds_no_lock_the_driver_may_need() {
        threadlet_process_setup();
        let p = Process::new(nap, 0).unwrap();
        let seen = p.clone();
        let (looked, done) = std::sync::mpsc::channel();
        crate::process::driver::call(move || {
            // Give `start()` time to claim the process and queue its spawn
            // behind this call.
            std::thread::sleep(Duration::from_millis(200));
            let _ = looked.send(seen.is_alive());
        })
        .unwrap();
        let starter = std::thread::spawn(move || {
            p.start().unwrap();
            p.blocking_join().unwrap()
        });
        // Generous: the whole start + join takes milliseconds when it works.
        let alive = done.recv_timeout(Duration::from_secs(20));
        assert_eq!(alive, Ok(false), "the driver was blocked by start()");
        assert_eq!(starter.join().unwrap(), 0);
    }

    /// As Python's `Process()` and threadlet's thread `Builder`: a process
    /// created in a daemon process is a daemon unless told otherwise.
    #[test]
    fn builder_default_daemon_is_the_creators() {
        // In the main process (not a daemon): not a daemon.
        assert!(!Builder::new().process(nap, 0).unwrap().is_daemon());
        assert!(
            Builder::new()
                .daemon(true)
                .process(nap, 0)
                .unwrap()
                .is_daemon()
        );
    }
}
