//! Errors of the `process` module.
//!
//! Python raises `AssertionError`s for most `multiprocessing.Process` misuse (and
//! they vanish under `python -O`); threadlet returns typed errors instead, with
//! Python's message as `Display` where Python has one.

use std::fmt;

/// Why a process could not be created or started.
///
/// Returned by [`Process::new`](super::Process::new) (the arguments could not be
/// encoded: no process was started), [`Process::start`](super::Process::start) and
/// [`spawn_process`](super::spawn_process).
///
/// # Examples
///
/// ```
/// use threadlet::error::ProcessStartError;
///
/// assert_eq!(
///     ProcessStartError::AlreadyStarted.to_string(),
///     "cannot start a process twice"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessStartError {
    /// `start()` was called a second time (Python: `cannot start a process twice`).
    AlreadyStarted,
    /// A daemon process tried to start a child (Python's message).
    DaemonChild,
    /// The target was never passed to [`register`](super::register) /
    /// [`register_run`](super::register_run) in this process.
    UnknownTarget(String),
    /// Two different closures or types share this target name; name the target
    /// with a plain `fn` item or a distinct type.
    AmbiguousTarget(String),
    /// The arguments (or the [`ProcessRun`](super::ProcessRun) value) could not be encoded; the
    /// string is the encoder's message. No process was started.
    Encode(String),
    /// [`init`](super::init) was not called in this process before starting a
    /// child (the child would re-run `main`), or this is a re-executed child whose
    /// `main` never called `init()`.
    NotInitialized,
    /// The operating system refused to start the child; the string is its message.
    Spawn(String),
    /// This binary is a libtest harness (a `cargo test` binary) that does not
    /// use [`test_support!`](super::test_support): a child would re-run the
    /// whole test binary, unrelated tests included, before reaching the target.
    NoTestSupport,
}

impl fmt::Display for ProcessStartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyStarted => f.write_str("cannot start a process twice"),
            Self::DaemonChild => f.write_str("daemonic processes are not allowed to have children"),
            Self::UnknownTarget(name) => write!(
                f,
                "unknown process target `{name}`: register it before threadlet::process::init()"
            ),
            Self::AmbiguousTarget(name) => write!(
                f,
                "process target name `{name}` is registered by more than one closure or type"
            ),
            Self::Encode(msg) => write!(f, "cannot encode the process arguments: {msg}"),
            Self::NotInitialized => f.write_str(
                "threadlet::process::init() was not called: call it at the top of main, \
                 before starting processes",
            ),
            Self::Spawn(msg) => write!(f, "cannot spawn the child process: {msg}"),
            Self::NoTestSupport => f.write_str(
                "this test binary cannot start processes: add \
                 `threadlet::process::test_support!(register_fn);` to the test file and call \
                 `threadlet_process_setup()` first in each test (a child would otherwise re-run \
                 every test of the binary)",
            ),
        }
    }
}

impl std::error::Error for ProcessStartError {}

/// Why [`Process::join`](super::Process::join) has no value to hand back.
///
/// # Examples
///
/// ```
/// use threadlet::error::ProcessJoinError;
///
/// let err = ProcessJoinError::Panicked { name: "Process-1".into(), message: "boom".into() };
/// assert_eq!(err.to_string(), "process Process-1 panicked: boom");
/// assert_eq!(err.exitcode(), Some(1));
/// assert_eq!(ProcessJoinError::NotStarted.to_string(), "can only join a started process");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessJoinError {
    /// `join` before `start` (Python: `can only join a started process`).
    NotStarted,
    /// `join_timeout` ran out of time; the process is still running.
    Timeout,
    /// The target panicked (exit code 1); `message` is the panic's message.
    Panicked {
        /// The process's name.
        name: String,
        /// The panic payload as text.
        message: String,
    },
    /// The child exited with this code without handing back a value (for example
    /// the target called `std::process::exit`).
    Exited {
        /// The process's name.
        name: String,
        /// Its exit code.
        code: i32,
    },
    /// The child was killed by this signal (exit code `-signal`).
    Killed {
        /// The process's name.
        name: String,
        /// The signal number.
        signal: i32,
    },
    /// The child exited before its `main` reached [`init`](super::init), so
    /// it never ran its target: `main` does not call `init()`, or failed
    /// before it (e.g. it parsed arguments the child did not like). The
    /// child's stderr up to then was copied to the parent's as it came.
    NoInit {
        /// The child's exit code.
        exitcode: i32,
        /// The end of what the child printed to stderr before it exited (at
        /// most 2 KiB, trailing whitespace removed; empty if nothing).
        stderr: String,
    },
    /// The child does not know the target: it was registered in the parent only
    /// (for example after `init()`), so the child's `main` never registered it.
    UnknownTarget(String),
    /// Encoding or decoding the arguments or the return value failed in the
    /// child or the parent.
    Codec(String),
}

impl ProcessJoinError {
    /// The child's exit code as Python's `exitcode` would show it, if it ended.
    #[must_use]
    pub fn exitcode(&self) -> Option<i32> {
        match self {
            Self::NotStarted | Self::Timeout => None,
            Self::Panicked { .. } | Self::UnknownTarget(_) | Self::Codec(_) => Some(1),
            Self::Exited { code, .. } => Some(*code),
            Self::Killed { signal, .. } => Some(-signal),
            Self::NoInit { exitcode, .. } => Some(*exitcode),
        }
    }

    /// Whether the target panicked.
    #[must_use]
    pub fn is_panic(&self) -> bool {
        matches!(self, Self::Panicked { .. })
    }

    /// Whether `join_timeout` ran out of time.
    #[must_use]
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout)
    }
}

impl fmt::Display for ProcessJoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotStarted => f.write_str("can only join a started process"),
            Self::Timeout => f.write_str("timed out waiting for the process"),
            Self::Panicked { name, message } => write!(f, "process {name} panicked: {message}"),
            Self::Exited { name, code } => {
                write!(f, "process {name} exited with code {code} without a result")
            }
            Self::Killed { name, signal } => {
                write!(f, "process {name} was killed by signal {signal}")
            }
            Self::NoInit { exitcode, stderr } => {
                write!(
                    f,
                    "the child process exited with code {exitcode} before it reached \
                     threadlet::process::init(), so it never ran its target: call init() at \
                     the top of main, before anything that can fail"
                )?;
                if !stderr.is_empty() {
                    write!(f, "; its stderr ended with:\n{stderr}")?;
                }
                Ok(())
            }
            Self::UnknownTarget(name) => write!(
                f,
                "the child process does not know target `{name}`: register it before \
                 threadlet::process::init()"
            ),
            Self::Codec(msg) => write!(f, "process value encoding failed: {msg}"),
        }
    }
}

impl std::error::Error for ProcessJoinError {}

/// A `Process` method called in the wrong state.
///
/// # Examples
///
/// ```
/// use threadlet::error::ProcessStateError;
///
/// assert_eq!(ProcessStateError::AlreadyStarted.to_string(), "process has already started");
/// assert_eq!(ProcessStateError::NotStarted.to_string(), "process not started");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessStateError {
    /// `set_daemon` / `set_name` after `start` (Python: `process has already started`).
    AlreadyStarted,
    /// `terminate` / `kill` before `start` (Python: `process not started`).
    NotStarted,
}

impl fmt::Display for ProcessStateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AlreadyStarted => "process has already started",
            Self::NotStarted => "process not started",
        })
    }
}

impl std::error::Error for ProcessStateError {}

/// Why a [`Pool`](super::Pool) operation has no value.
///
/// Where Python's `multiprocessing.Pool` hangs forever on a dead worker, the
/// task it held fails with [`PoolError::WorkerDied`] naming it, and the pool
/// replaces the worker.
///
/// # Examples
///
/// ```
/// use threadlet::error::PoolError;
///
/// assert_eq!(PoolError::NotRunning.to_string(), "Pool not running");
/// assert_eq!(
///     PoolError::InvalidProcesses.to_string(),
///     "Number of processes must be at least 1"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PoolError {
    /// `Pool::new(0)` (Python's message).
    InvalidProcesses,
    /// A chunk size of 0 (Python's message).
    InvalidChunksize,
    /// Work submitted after `close` or `terminate` (Python: `Pool not running`).
    NotRunning,
    /// `join` before `close` or `terminate` (Python: `Pool is still running`).
    StillRunning,
    /// A daemon process tried to create a pool (its workers would be children).
    DaemonChild,
    /// [`init`](super::init) was not called in this process.
    NotInitialized,
    /// The target is not registered in this process.
    UnknownTarget(String),
    /// Two closures or types share this target name.
    AmbiguousTarget(String),
    /// The arguments could not be encoded; nothing was submitted.
    Encode(String),
    /// Decoding arguments or values failed (in the worker or here).
    Codec(String),
    /// The task panicked in a worker.
    Panicked {
        /// The worker's name (`PoolWorker-N`).
        worker: String,
        /// The panic message.
        message: String,
    },
    /// The worker running the task died (killed, or exited); it was replaced.
    WorkerDied {
        /// The worker's name.
        worker: String,
        /// Its exit code (`-N` for signal N).
        exitcode: i32,
    },
    /// A worker could not start (its binary's `main` lacks `init()`, or the OS
    /// refused); the pool stops instead of respawning in a loop.
    WorkerStart(String),
    /// The pool was terminated (or dropped) before the task finished.
    Terminated,
    /// `get_timeout` ran out of time (Python's `multiprocessing.TimeoutError`).
    Timeout,
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidProcesses => f.write_str("Number of processes must be at least 1"),
            Self::InvalidChunksize => f.write_str("Chunksize must be 1+, not 0"),
            Self::NotRunning => f.write_str("Pool not running"),
            Self::StillRunning => f.write_str("Pool is still running"),
            Self::DaemonChild => f.write_str("daemonic processes are not allowed to have children"),
            Self::NotInitialized => f.write_str(
                "threadlet::process::init() was not called: call it at the top of main, \
                 before creating a pool",
            ),
            Self::UnknownTarget(name) => write!(
                f,
                "unknown process target `{name}`: register it before threadlet::process::init()"
            ),
            Self::AmbiguousTarget(name) => write!(
                f,
                "process target name `{name}` is registered by more than one closure or type"
            ),
            Self::Encode(msg) => write!(f, "cannot encode the task arguments: {msg}"),
            Self::Codec(msg) => write!(f, "task value encoding failed: {msg}"),
            Self::Panicked { worker, message } => {
                write!(f, "task panicked in worker {worker}: {message}")
            }
            Self::WorkerDied { worker, exitcode } => write!(
                f,
                "worker {worker} died with exit code {exitcode} while running the task"
            ),
            Self::WorkerStart(msg) => write!(f, "a pool worker failed to start: {msg}"),
            Self::Terminated => f.write_str("pool was terminated"),
            Self::Timeout => f.write_str("timed out waiting for the result"),
        }
    }
}

impl std::error::Error for PoolError {}

/// Why a cross-process [`Queue`](super::Queue) operation failed.
///
/// # Examples
///
/// ```
/// use threadlet::error::ProcessQueueError;
///
/// assert_eq!(ProcessQueueError::Empty.to_string(), "queue is empty");
/// assert_eq!(ProcessQueueError::Full.to_string(), "queue is full");
/// // A handle whose key the owner refused (Python's `AuthenticationError`):
/// assert!(ProcessQueueError::Authentication.to_string().contains("digest sent was rejected"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessQueueError {
    /// `get_nowait` / `get_timeout` found no item (Python's `queue.Empty`).
    Empty,
    /// `put_nowait` / `put_timeout` found the queue full (Python's `queue.Full`).
    Full,
    /// The process that owns the queue exited (or the connection broke): a
    /// clean error instead of a hang.
    Closed,
    /// An item could not be encoded or decoded, or is over the size limit
    /// (1 GiB less a few bytes).
    Codec(String),
    /// The queue's owner did not accept this handle's key, or could not prove
    /// it holds it (Python's `AuthenticationError`): the handle was not made
    /// by this queue's owner, or the socket now belongs to someone else.
    Authentication,
}

impl fmt::Display for ProcessQueueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("queue is empty"),
            Self::Full => f.write_str("queue is full"),
            Self::Closed => f.write_str("queue is closed: its owner process is gone"),
            Self::Codec(msg) => write!(f, "queue item encoding failed: {msg}"),
            Self::Authentication => f.write_str(
                "authentication with the queue's owner failed: digest sent was rejected \
                 or digest received was wrong",
            ),
        }
    }
}

impl std::error::Error for ProcessQueueError {}

/// Why a [`Connection`](super::Connection) of a [`Pipe`](super::Pipe) failed.
///
/// # Examples
///
/// ```
/// use threadlet::error::PipeError;
///
/// assert_eq!(PipeError::Eof.to_string(), "EOF: the other end of the pipe is closed");
/// assert!(PipeError::Authentication.to_string().starts_with("authentication"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PipeError {
    /// `recv`: nothing left and the other end is gone (Python's `EOFError`).
    Eof,
    /// `send`: the other end is gone (Python's `BrokenPipeError`).
    BrokenPipe,
    /// `recv_timeout` got nothing in time.
    Timeout,
    /// The process that created the pipe exited (or the connection broke).
    Closed,
    /// This end cannot be used here: `duplex = false` and the wrong direction.
    WrongDirection,
    /// A message could not be encoded or decoded, or is over the size limit
    /// (1 GiB less a few bytes).
    Codec(String),
    /// The pipe's creator did not accept this end's key, or could not prove
    /// it holds it (Python's `AuthenticationError`).
    Authentication,
}

impl fmt::Display for PipeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Eof => f.write_str("EOF: the other end of the pipe is closed"),
            Self::BrokenPipe => f.write_str("broken pipe: the other end is closed"),
            Self::Timeout => f.write_str("timed out waiting for a message"),
            Self::Closed => f.write_str("pipe is closed: the process that created it is gone"),
            Self::WrongDirection => f.write_str("connection is not open for this direction"),
            Self::Codec(msg) => write!(f, "pipe message encoding failed: {msg}"),
            Self::Authentication => f.write_str(
                "authentication with the pipe's creator failed: digest sent was rejected \
                 or digest received was wrong",
            ),
        }
    }
}

impl std::error::Error for PipeError {}
