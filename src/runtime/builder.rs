//! [`RuntimeBuilder`]: the runtime behind [`run`](crate::run),
//! `#[threadlet::main]` and `#[threadlet::test]`.

use std::future::Future;
use std::io;
use std::panic::resume_unwind;
use std::time::Duration;

use super::refuse_inside_runtime;
use super::scope::Scope;
use super::watchdog::{self, Watchdog};
use crate::thread::{self, ScopeId};

/// Configures and starts the runtime of [`run`](crate::run) (what
/// `#[threadlet::main]` expands to) and of
/// [`block_on`](RuntimeBuilder::block_on) (what `#[threadlet::test]` expands
/// to).
///
/// Every runtime it builds belongs to one [scope](crate::runtime#scopes):
/// threads started anywhere on it (in main, in a test body, in a tokio task,
/// in a `spawn_blocking` closure) are that scope's, waited for (non-daemon)
/// or cancelled (daemon) when main or the body ends.
///
/// # Examples
///
/// ```
/// let workers = threadlet::RuntimeBuilder::new()
///     .worker_threads(2)
///     .run(async { tokio::runtime::Handle::current().metrics().num_workers() });
/// assert_eq!(workers, 2);
/// ```
#[derive(Debug, Default, Clone)]
#[must_use = "a RuntimeBuilder does nothing until run or block_on is called"]
pub struct RuntimeBuilder {
    current_thread: bool,
    worker_threads: Option<usize>,
    shutdown_timeout: Option<Duration>,
    watchdog: Option<Duration>,
    #[cfg(feature = "test-util")]
    start_paused: bool,
}

/// How long the shutdown at the end waits for blocking work still running.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(100);

/// Makes a scope the runtime scope of the calling OS thread while a runtime
/// runs on it (a current-thread runtime polls its tasks there).
struct RuntimeScope(ScopeId);

impl RuntimeScope {
    fn enter(scope: ScopeId) -> Self {
        Self(thread::set_runtime(scope))
    }
}

impl Drop for RuntimeScope {
    fn drop(&mut self) {
        thread::set_runtime(self.0);
    }
}

impl RuntimeBuilder {
    /// A multi-thread runtime with one worker thread per CPU core (tokio's
    /// default): threads run in parallel, as Python's would without the GIL.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadlet::RuntimeBuilder::new().run(async { 1 }), 1);
    /// ```
    pub const fn new() -> Self {
        Self {
            current_thread: false,
            worker_threads: None,
            shutdown_timeout: None,
            watchdog: None,
            #[cfg(feature = "test-util")]
            start_paused: false,
        }
    }

    /// A current-thread runtime: every thread runs on the OS thread that
    /// calls [`run`](Self::run) or [`block_on`](Self::block_on), taking
    /// turns at each `.await` (the flavour of `#[tokio::test]` and, by
    /// default, of `#[threadlet::test]`).
    ///
    /// # Examples
    ///
    /// ```
    /// let flavor = threadlet::RuntimeBuilder::new_current_thread()
    ///     .block_on(async { tokio::runtime::Handle::current().runtime_flavor() });
    /// assert_eq!(flavor, tokio::runtime::RuntimeFlavor::CurrentThread);
    /// ```
    pub const fn new_current_thread() -> Self {
        Self {
            current_thread: true,
            ..Self::new()
        }
    }

    /// Sets how long the runtime's shutdown at the end of [`run`](Self::run)
    /// or [`block_on`](Self::block_on) waits for blocking work still running
    /// (see [`run`](crate::run)'s *Blocking calls at exit*); 100 ms by
    /// default. The wait ends as soon as the work is done, so a program with
    /// nothing blocked does not wait at all.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let (_keep, rx) = std::sync::mpsc::channel::<()>();
    /// let begin = Instant::now();
    /// threadlet::RuntimeBuilder::new()
    ///     .shutdown_timeout(Duration::from_millis(10))
    ///     .run(async move {
    ///         // Never answered: abandoned when `run` returns.
    ///         tokio::task::spawn_blocking(move || rx.recv());
    ///     });
    /// assert!(begin.elapsed() < Duration::from_secs(60));
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
    }

    /// Turns on [`run`](Self::run)'s watchdog: while `run` runs, a
    /// watchdog OS thread checks every quarter of `limit` (10 ms to 1 s) and
    /// prints [`dump`](crate::dump) and [`deadlocks`](crate::deadlocks) to
    /// stderr
    ///
    /// - when a deadlock cycle appears (once per set of cycles), and
    /// - when main has returned and `run` has waited longer than `limit` for
    ///   the non-daemon threads (once): the program that hangs at exit
    ///   because a `shutdown()`, a `set()` or a `join()` was forgotten says
    ///   which thread it waits for, and on which primitive.
    ///
    /// With the `process` feature on Unix, SIGQUIT (`Ctrl-\`) also prints the
    /// dump while `run` runs, and the program goes on, as the JVM does (tokio
    /// keeps its handler installed afterwards: a later SIGQUIT is ignored
    /// instead of ending the process).
    ///
    /// The program is not stopped or otherwise disturbed. Off by default: no
    /// thread is started and no signal handled unless asked for. When the builder sets nothing,
    /// `run` reads the environment variable `THREADLET_WATCHDOG` (`5s`,
    /// `500ms`, `1.5s`, `2m`; `0` or `off` for none), so a stuck program can
    /// be re-run with a watchdog without a rebuild;
    /// `#[threadlet::main(watchdog = "5s")]` sets it here. A zero `limit`
    /// turns the watchdog off, whatever the environment says.
    /// [`block_on`](Self::block_on) (`#[threadlet::test]`) has no watchdog.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let v = threadlet::RuntimeBuilder::new()
    ///     .watchdog(Duration::from_secs(5))
    ///     .run(async { 7 });
    /// assert_eq!(v, 7);
    /// ```
    pub fn watchdog(mut self, limit: Duration) -> Self {
        self.watchdog = Some(limit);
        self
    }

    /// Sets the number of worker OS threads of a multi-thread runtime; 0
    /// means the default. A current-thread runtime has none: it ignores this.
    ///
    /// # Examples
    ///
    /// ```
    /// let n = threadlet::RuntimeBuilder::new()
    ///     .worker_threads(1)
    ///     .run(async { tokio::runtime::Handle::current().metrics().num_workers() });
    /// assert_eq!(n, 1);
    /// ```
    pub fn worker_threads(mut self, workers: usize) -> Self {
        self.worker_threads = (workers > 0).then_some(workers);
        self
    }

    /// Starts the runtime's clock paused (`tokio::time::pause`): time
    /// advances only when every task waits on a timer, at once to the next
    /// timer, so a test of an hour-long timeout takes no time. What
    /// `#[threadlet::test(start_paused = true)]` sets.
    ///
    /// Needs threadlet's `test-util` feature (which enables tokio's); use it
    /// in `[dev-dependencies]`.
    ///
    /// # Panics
    ///
    /// [`run`](Self::run) and [`block_on`](Self::block_on) panic (tokio's
    /// rule) when the clock is paused on a multi-thread runtime: use
    /// [`new_current_thread`](Self::new_current_thread).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let took = threadlet::RuntimeBuilder::new_current_thread()
    ///     .start_paused(true)
    ///     .block_on(async {
    ///         let begin = std::time::Instant::now();
    ///         let t = threadlet::spawn(tokio::time::sleep(Duration::from_secs(3600)));
    ///         t.join().await.unwrap();
    ///         begin.elapsed()
    ///     });
    /// assert!(took < Duration::from_secs(3600));
    /// ```
    #[cfg(feature = "test-util")]
    pub fn start_paused(mut self, paused: bool) -> Self {
        self.start_paused = paused;
        self
    }

    /// Runs `main` as [`run`](crate::run) does, on the runtime configured
    /// here.
    ///
    /// # Panics
    ///
    /// As [`run`](crate::run): called on a thread that drives a tokio
    /// runtime (at the caller's location), when `main` panics, or when the
    /// runtime cannot be built.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = threadlet::RuntimeBuilder::new().worker_threads(2).run(async { "ok" });
    /// assert_eq!(v, "ok");
    /// ```
    #[track_caller]
    pub fn run<F>(self, main: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        refuse_inside_runtime("run");
        match self.run_main(main) {
            Ok(value) => value,
            Err(err) => panic!("failed to build the tokio runtime: {err}"),
        }
    }

    /// Runs `main` as [`run`](crate::run) does, reporting a runtime that
    /// cannot be built as an error instead of a panic.
    ///
    /// # Errors
    ///
    /// The I/O error from building the tokio runtime (for example, worker
    /// threads that cannot be spawned).
    ///
    /// # Panics
    ///
    /// Called on a thread that drives a tokio runtime (at the caller's
    /// location); if `main` panics, after waiting for the non-daemon threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = threadlet::RuntimeBuilder::new().try_run(async { 3 }).unwrap();
    /// assert_eq!(v, 3);
    /// ```
    #[track_caller]
    pub fn try_run<F>(self, main: F) -> io::Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        refuse_inside_runtime("RuntimeBuilder::try_run");
        self.run_main(main)
    }

    fn run_main<F>(self, main: F) -> io::Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // A re-executed child process runs its target here and never returns.
        #[cfg(all(feature = "process", target_os = "linux"))]
        crate::process::init();
        let scope = Scope::new();
        let runtime = self.build(scope.id())?;
        thread::install_panic_hook();
        let limit = self.watchdog.or_else(watchdog::from_env);
        let watchdog = limit
            .filter(|limit| !limit.is_zero())
            .and_then(|limit| Watchdog::start(limit, runtime.handle().clone()));

        let outcome = {
            let _runtime_scope = RuntimeScope::enter(scope.id());
            runtime.block_on(async move {
                #[cfg(all(feature = "process", unix))]
                if let Some(watchdog) = &watchdog {
                    watchdog.listen_sigquit();
                }
                // Main registers as `MainThread` in the scope, and the
                // threads it starts inherit it.
                let outcome = match scope.body(thread::run_main(main)).await {
                    Ok(outcome) => outcome,
                    Err(payload) => Err(payload),
                };
                if let Some(watchdog) = &watchdog {
                    watchdog.exiting();
                }
                // Main is done; now the interpreter-exit wait.
                scope.join().await;
                // As Python at exit: join non-daemon child processes, kill
                // daemon ones.
                #[cfg(all(feature = "process", target_os = "linux"))]
                crate::process::shutdown_children().await;
                if let Some(watchdog) = &watchdog {
                    watchdog.exited();
                }
                // The daemons are cancelled by the shutdown below.
                scope.close();
                outcome
            })
        };
        // What is left are daemon threads (and tasks threadlet did not
        // start): shutting the runtime down cancels them. Blocking work
        // cannot be cancelled: it is waited for a bounded time, then left
        // detached.
        runtime.shutdown_timeout(self.shutdown_timeout.unwrap_or(SHUTDOWN_TIMEOUT));
        thread::end_main();
        match outcome {
            Ok(value) => Ok(value),
            Err(payload) => resume_unwind(payload),
        }
    }

    /// Runs `body` on a new runtime, on the calling OS thread, in a
    /// [`scope`](crate::scope): when the body ends, waits for the non-daemon
    /// threads started on the runtime (and only those), cancels its daemon
    /// threads, then shuts the runtime down and returns the body's value.
    /// What `#[threadlet::test]` expands to.
    ///
    /// Unlike [`run`](Self::run), the body is not a thread (it runs as
    /// `Runtime::block_on` runs it: `current_thread()` is a dummy thread
    /// there, and its future need not be `Send`), no `MainThread` is made,
    /// and the process layer is not involved (no `process::init`, no
    /// joining of child processes). If the body panics, the non-daemon
    /// threads are still waited for, then the panic is resumed.
    ///
    /// # Panics
    ///
    /// Called on a thread that drives a tokio runtime (at the caller's
    /// location, as [`run`](crate::run)); when the body panics (after the
    /// wait); when the runtime cannot be built.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    ///
    /// let done = Arc::new(AtomicBool::new(false));
    /// let d = done.clone();
    /// let local = std::rc::Rc::new(5); // a body need not be `Send`
    /// let v = threadlet::RuntimeBuilder::new_current_thread().block_on(async move {
    ///     // Not joined: waited for before `block_on` returns.
    ///     threadlet::spawn(async move {
    ///         tokio::task::yield_now().await;
    ///         d.store(true, Ordering::SeqCst);
    ///     });
    ///     *local
    /// });
    /// assert_eq!(v, 5);
    /// assert!(done.load(Ordering::SeqCst));
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(self, body: F) -> F::Output {
        refuse_inside_runtime("RuntimeBuilder::block_on");
        let scope = Scope::new();
        let runtime = match self.build(scope.id()) {
            Ok(runtime) => runtime,
            Err(err) => panic!("failed to build the tokio runtime: {err}"),
        };
        let outcome = {
            let _runtime_scope = RuntimeScope::enter(scope.id());
            runtime.block_on(async move {
                let outcome = scope.body(body).await;
                scope.join().await;
                scope.finish().await;
                outcome
            })
        };
        runtime.shutdown_timeout(self.shutdown_timeout.unwrap_or(SHUTDOWN_TIMEOUT));
        match outcome {
            Ok(value) => value,
            Err(payload) => resume_unwind(payload),
        }
    }

    /// The tokio runtime; its worker and blocking threads start in `scope`.
    fn build(&self, scope: ScopeId) -> io::Result<tokio::runtime::Runtime> {
        let mut builder = if self.current_thread {
            tokio::runtime::Builder::new_current_thread()
        } else {
            tokio::runtime::Builder::new_multi_thread()
        };
        builder.enable_all();
        if let (false, Some(workers)) = (self.current_thread, self.worker_threads) {
            builder.worker_threads(workers);
        }
        #[cfg(feature = "test-util")]
        builder.start_paused(self.start_paused);
        builder.on_thread_start(move || {
            thread::set_runtime(scope);
        });
        builder.build()
    }
}
