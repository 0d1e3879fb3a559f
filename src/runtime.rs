//! The runtime entry point, Python's interpreter life cycle: [`run`] builds a
//! multi-thread runtime, runs main as `MainThread`, waits for every
//! non-daemon thread (and, with the `process` feature, joins the non-daemon
//! child processes), cancels the daemon threads and returns main's value (or
//! re-raises its panic).
//!
//! It sits above both the thread layer and the process layer: neither
//! imports it. [`run`], [`RuntimeBuilder`] and [`wait_non_daemon`] are also
//! re-exported at the crate root.

use std::future::Future;
use std::io;
use std::panic::resume_unwind;
use std::time::Duration;

use crate::thread;

/// Runs `main` as Python runs a script: on a new multi-thread tokio runtime,
/// as the thread `MainThread`; then waits for every non-daemon thread
/// (including threads started by other threads, and threads started while
/// waiting), then cancels the daemon threads and returns main's value.
///
/// If main panics, the panic is printed as Rust prints any panic, the
/// non-daemon threads are still waited for, and then the panic is resumed
/// (Python waits for non-daemon threads after an uncaught exception in the
/// main thread too).
///
/// Main runs as a spawned task, so `tokio::task::try_id()` (and with it
/// `RLock`'s ownership) works there. Daemon threads are cancelled by shutting
/// the runtime down: their futures are dropped, so unlike Python their
/// destructors run; their joiners get
/// [`JoinError::Cancelled`](crate::error::JoinError::Cancelled).
///
/// # Blocking calls at exit
///
/// Shutting down does not wait without limit for blocking work. A blocking
/// call still running when `run` ends (a `spawn_blocking` closure, a daemon
/// thread inside a `blocking_*` method on a worker, a read from stdin) cannot
/// be interrupted: the shutdown waits for it at most the
/// [`shutdown_timeout`](RuntimeBuilder::shutdown_timeout) (100 ms by
/// default), then `run` returns and leaves it running on its OS thread,
/// detached. Its result is discarded, and it is stopped abruptly when the
/// process exits, as Python stops a daemon thread.
///
/// Use [`RuntimeBuilder`] to choose the number of worker threads, and
/// [`wait_non_daemon`] for the same wait inside `#[tokio::test]` or
/// `#[tokio::main]`.
///
/// # Panics
///
/// If `main` panics (after the wait, as described), or if the runtime cannot
/// be built (see [`RuntimeBuilder::try_run`]). Calling it from inside a tokio
/// runtime panics, as `Runtime::block_on` does.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::time::Duration;
///
/// let finished = Arc::new(AtomicBool::new(false));
/// let f = finished.clone();
/// let answer = threadlet::run(async move {
///     // Not joined: `run` waits for it anyway, since it is not a daemon.
///     threadlet::spawn(async move {
///         tokio::time::sleep(Duration::from_millis(20)).await;
///         f.store(true, Ordering::SeqCst);
///     });
///     42
/// });
/// assert_eq!(answer, 42);
/// assert!(finished.load(Ordering::SeqCst));
/// ```
pub fn run<F>(main: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    RuntimeBuilder::new().run(main)
}

/// Configures the runtime [`run`] builds.
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
#[must_use = "a RuntimeBuilder does nothing until run is called"]
pub struct RuntimeBuilder {
    worker_threads: Option<usize>,
    shutdown_timeout: Option<Duration>,
}

/// How long [`run`] waits at exit for blocking work still running.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(100);

impl RuntimeBuilder {
    /// The defaults: one worker thread per CPU core (tokio's default).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadlet::RuntimeBuilder::new().run(async { 1 }), 1);
    /// ```
    pub const fn new() -> Self {
        Self {
            worker_threads: None,
            shutdown_timeout: None,
        }
    }

    /// Sets how long the runtime's shutdown at the end of [`run`] waits for
    /// blocking work still running (see [`run`]'s *Blocking calls at exit*);
    /// 100 ms by default. The wait ends as soon as the work is done, so a
    /// program with nothing blocked does not wait at all.
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

    /// Sets the number of worker OS threads; 0 means the default.
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

    /// Runs `main` as [`run`] does.
    ///
    /// # Panics
    ///
    /// As [`run`].
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
        match self.try_run(main) {
            Ok(value) => value,
            Err(err) => panic!("failed to build the tokio runtime: {err}"),
        }
    }

    /// Runs `main` as [`run`] does, reporting a runtime that cannot be built
    /// as an error instead of a panic.
    ///
    /// # Errors
    ///
    /// The I/O error from building the tokio runtime (for example, worker
    /// threads that cannot be spawned).
    ///
    /// # Panics
    ///
    /// If `main` panics, after waiting for the non-daemon threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let v = threadlet::RuntimeBuilder::new().try_run(async { 3 }).unwrap();
    /// assert_eq!(v, 3);
    /// ```
    pub fn try_run<F>(self, main: F) -> io::Result<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // A re-executed child process runs its target here and never returns.
        #[cfg(all(feature = "process", target_os = "linux"))]
        crate::process::init();
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.enable_all();
        if let Some(workers) = self.worker_threads {
            builder.worker_threads(workers);
        }
        let runtime = builder.build()?;
        thread::install_panic_hook();

        let outcome = runtime.block_on(async move {
            let outcome = thread::run_main(main).await;
            // Main is done; now the interpreter-exit wait.
            wait_non_daemon().await;
            // As Python at exit: join non-daemon child processes, kill daemon ones.
            #[cfg(all(feature = "process", target_os = "linux"))]
            crate::process::shutdown_children().await;
            outcome
        });
        // What is left are daemon threads (and tasks threadlet did not start):
        // shutting the runtime down cancels them. Blocking work cannot be
        // cancelled: it is waited for a bounded time, then left detached.
        runtime.shutdown_timeout(self.shutdown_timeout.unwrap_or(SHUTDOWN_TIMEOUT));
        thread::end_main();
        match outcome {
            Ok(value) => Ok(value),
            Err(payload) => resume_unwind(payload),
        }
    }
}

/// Waits until no non-daemon threadlet thread is alive: the wait [`run`]
/// does before returning, for `#[tokio::test]` and `#[tokio::main]`.
///
/// It keeps waiting while threads start threads, and for threads started
/// while it waits. It does not cancel the daemon threads (dropping the
/// runtime does). The registry is process-wide, as Python's is: threads of
/// every runtime in the process are waited for. Called from inside a
/// non-daemon thread, it waits for the others, not for the caller.
///
/// # Cancel safety
///
/// Cancel safe: it only observes.
///
/// # Examples
///
/// ```
/// # #[tokio::main]
/// # async fn main() {
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let done = Arc::new(AtomicUsize::new(0));
/// let d = done.clone();
/// threadlet::spawn(async move {
///     // A thread that starts a thread: both are waited for.
///     let d2 = d.clone();
///     threadlet::spawn(async move {
///         tokio::task::yield_now().await;
///         d2.fetch_add(1, Ordering::SeqCst);
///     });
///     d.fetch_add(1, Ordering::SeqCst);
/// });
/// threadlet::wait_non_daemon().await;
/// assert_eq!(done.load(Ordering::SeqCst), 2);
/// # }
/// ```
pub async fn wait_non_daemon() {
    thread::join_non_daemon().await;
}
