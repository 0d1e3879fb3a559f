//! Real child OS processes: Python's `multiprocessing` with the `spawn` start
//! method.
//!
//! A [`Process`] re-executes the current binary. The child's `main` reaches
//! [`init`] (call it on the first lines of `main`; `threadlet::run` calls it
//! too), which sees that this process is a child, runs the registered target
//! with the parent's arguments, hands the return value (or the panic message)
//! back, and exits — it never returns into the rest of `main`. Arguments and
//! return values are serde values, encoded with postcard.
//!
//! ```
//! use threadlet::process::{self, Process};
//!
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//!
//! fn main() {
//!     process::register(square); // 1. register every target ...
//!     process::init(); //            2. ... then init(): a child runs `square` here
//!
//!     let rt = tokio::runtime::Runtime::new().unwrap();
//!     rt.block_on(async {
//!         let p = Process::new(square, 12).unwrap();
//!         p.start().unwrap();
//!         assert_eq!(p.join().await.unwrap(), 144);
//!         assert_eq!(p.exitcode(), Some(0));
//!     });
//! }
//! ```
//!
//! [`Pool`] keeps long-lived worker processes and spreads calls of a
//! registered function over them (`map`, `apply`, `apply_async`, `imap`,
//! `imap_unordered`); a worker that dies mid-task is replaced and the task
//! fails with an error naming it, where Python's pool hangs. [`Queue`] is a
//! FIFO shared between processes: its handle travels to children as an
//! ordinary argument.
//!
//! # Registering targets
//!
//! Rust has no life before `main` without `unsafe` or linker tricks, so the
//! child learns its targets the way the parent does: by running the same
//! registration code. Call [`register`] (a plain function, call
//! mode 1 of the article "Python Road [Article 16]: Python Concurrent Programming") or [`register_run`] (a [`ProcessRun`] type, its call mode 2) for every target
//! **before** [`init`]. A target is identified by its type name (a `fn` item's
//! path), so no function pointers cross the process boundary. A target missing
//! in the parent fails [`Process::start`]; one registered only after `init()`
//! (so the child never saw it) fails [`Process::join`] with a clear error.
//!
//! # Safety nets
//!
//! - A process that never called [`init`] cannot start children
//!   ([`ProcessStartError::NotInitialized`](crate::error::ProcessStartError::NotInitialized)),
//!   so a binary that forgot it never re-runs `main` in a child, and a child whose
//!   `main` lacks it cannot spawn again: no fork bomb.
//! - Daemon children die with their parent, even when the parent is killed by
//!   SIGKILL: the child sets Linux's parent-death signal and re-checks
//!   `getppid()`; every child is spawned by one dedicated thread that lives as
//!   long as the process (the signal follows the spawning *thread*). A daemon may
//!   not start children. When a child's target returns, the child kills its own
//!   daemon children and joins the others before exiting; `threadlet::run` does
//!   the same for the main process.
//! - Non-daemon children are not killed with their parent: as in Python, a
//!   parent that ends normally waits for them, and one killed by a signal leaves
//!   them running to their end.
//! - The child's stdout and stderr are the parent's; its stdin is `/dev/null`.
//!   What its `main` prints to stderr *before* `init()` passes through the
//!   parent (which shows it at once), so a child that exits there fails
//!   [`Process::join`] with
//!   [`ProcessJoinError::NoInit`](crate::error::ProcessJoinError::NoInit)
//!   carrying its exit code and the end of that text.
//!
//! # Like Python's `spawn`
//!
//! The child is this binary run again with the parent's `argv` (as Python's
//! spawn hands its child `sys.argv`), so a `main` that parses its arguments
//! before `init()` parses the same ones; keep `init()` before anything that
//! can fail or print, as Python keeps work under `if __name__ == "__main__"`.
//!
//! # Timeouts
//!
//! Every timed form follows the crate's one rule: zero never waits,
//! `Duration::MAX` (or any timeout too large for the clock) waits forever.
//! The async ones (`join_timeout`, `get_timeout`, `map_timeout`,
//! `recv_timeout`, ...) are measured in **real time**, on the process
//! driver's own runtime: a child runs in real time, so under a paused tokio
//! clock (`#[tokio::test(start_paused = true)]`, `time::pause`) a process
//! timeout does not expire the moment the test's runtime auto-advances, and
//! no timer of the caller's runtime is needed. The `blocking_*` forms park
//! the calling thread until a real-time deadline, without a runtime.
//!
//! The module exists on Linux only (feature `process` on a Linux target): it
//! needs Linux's abstract Unix sockets and parent-death signal. Elsewhere the
//! feature compiles to nothing and the rest of the crate is unchanged.
//!
//! # Security
//!
//! Threat model: other users on the host, and processes of the same user that
//! are not part of this process tree, must not be able to read, take, inject or
//! stall items of a [`Queue`] or messages of a [`Pipe`]. Only the process that
//! created a queue or pipe, and the processes it handed a handle to (its
//! children, through their arguments, and theirs in turn), can use it. A
//! process of the same user that can read the owner's memory or `ptrace` it
//! (a debugger, `/proc/PID/mem`) can read the secret too and is out of scope,
//! as it is for Python's `authkey`.
//!
//! - **Who can connect.** A [`Queue`] or [`Pipe`] is served over a Linux
//!   abstract Unix socket, whose name anyone can list (`/proc/net/unix`), so
//!   the socket is not the barrier. On every connection the owner first checks
//!   the peer's credentials (`SO_PEERCRED`): a peer running as another user is
//!   dropped before it is sent a byte. A peer of the same user must then prove,
//!   in a challenge and response, that it holds the queue's or pipe's
//!   **secret**, and the owner proves the same back (HMAC-SHA256 over fresh
//!   nonces from both sides, compared in constant time, as Python's `authkey`
//!   handshake in both directions). No request is read before that, and a peer
//!   that does not finish within 5 seconds is dropped. A handle whose proof is
//!   refused, or that meets an owner that cannot prove the secret, fails with
//!   [`ProcessQueueError::Authentication`](crate::error::ProcessQueueError::Authentication)
//!   (or [`PipeError::Authentication`](crate::error::PipeError::Authentication)).
//! - **What the secret protects.** Each queue and pipe draws its own 256-bit
//!   secret from the operating system's random source when it is created. It
//!   is part of the handle and leaves the process only inside a child's
//!   encoded arguments (or a value the child returns), over the private socket
//!   pair that is the child's launch channel: never in argv, the environment,
//!   a log line, or the handle's `Debug` output. Knowing a socket's name is
//!   therefore not enough to connect. (A handle you serialize yourself, e.g.
//!   into a file or another channel, carries the secret: treat it as a key.)
//! - **Hostile input from an authenticated peer** is contained: frames are
//!   length-prefixed and capped at 1 GiB, checked before anything is allocated,
//!   and an oversize, truncated or undecodable frame, or a request out of
//!   protocol order, ends that peer's connection with one line on stderr.
//!   The queue's items (those the peer had taken but not acknowledged go back
//!   to the front), other connections and the listener are untouched.
//! - **What it does not protect.** The bytes are not encrypted (they never
//!   leave the host's kernel); a process that can read the owner's or a
//!   child's memory, or ptrace them, can read the secret; a process holding a
//!   handle is trusted with the queue's contents, and its items are decoded as
//!   the owner's `T` (a peer can put any value that decodes as `T`). A
//!   [`Pool`]'s workers and every child's launch channel use socket pairs
//!   inherited at spawn, which no other process can reach at all.
//!
//! - **Why this design.** Python's anonymous pipes cannot carry threadlet's
//!   handles: a handle is cloned, passed on to grandchildren, returned from a
//!   child and put into other queues, so every holder must be able to reach
//!   the owner on its own. Passing descriptors along every such hop would
//!   need the owner to relay them; instead, as Python does wherever it
//!   listens on a socket (managers, `Listener` with an `authkey`), the owner
//!   listens and demands proof of a key that only the tree was given. The
//!   peer's process id is not checked: pids are reused, and the tree
//!   includes grandchildren the owner never started; the key is the proof of
//!   membership, the uid check a second, independent wall.
//!
//! # Tests
//!
//! Integration tests spawn children of the test binary through [`test_support!`],
//! which defines the `#[test]` entry a child runs (`--exact`). A `cargo test`
//! binary without it cannot start processes
//! ([`ProcessStartError::NoTestSupport`](crate::error::ProcessStartError::NoTestSupport)):
//! its child would re-run every test of the binary before reaching the target.
//!
//! # Which one should I use?
//!
//! Processes cost a `fork`/`exec` (about a millisecond) and a copy of the
//! arguments; use them for CPU-bound work that must not share a heap or must be
//! killable. For concurrency inside one process, threadlet's threads (tokio
//! tasks) are far cheaper, and for CPU-bound work in-process,
//! `tokio::task::spawn_blocking` or a rayon pool usually suffices.
//!
//! # Differences from Python
//!
//! - Misuse (`start` twice, `join` before `start`, a daemon starting children)
//!   is a typed error, not an `AssertionError` that `python -O` removes.
//! - `join` returns the target's value (typed) or why there is none; Python's
//!   `join` returns `None`.
//! - Targets must be registered; closures that capture state are not sent (the
//!   child runs its own registration).
//! - At exit, daemon children get SIGKILL (Python sends SIGTERM).
//! - A `Pool` task that kills its worker fails with
//!   [`PoolError::WorkerDied`](crate::error::PoolError::WorkerDied) instead of
//!   hanging the pool; `Pool` drops terminate the workers.
//! - [`Queue`] is served by the process that created it; when that process
//!   exits, the others get a `Closed` error instead of hanging. [`Pipe`]'s ends
//!   report EOF once the other end's process is gone.

mod blocking;
mod calls;
mod child;
mod children;
mod codec;
mod current;
mod driver;
pub(crate) mod error;
mod pipe;
pub(crate) mod pool;
mod preamble;
#[allow(clippy::module_inception)]
mod process;
mod queue;
mod record;
pub(crate) mod registry;
mod transport;

pub use current::{ProcessInfo, active_children, current_process, getpid, getppid, parent_process};
pub use pipe::{Connection, Pipe};
pub use pool::{AsyncResult, Pool, PoolStream};
pub use process::{Builder, Process, spawn_process};
pub use queue::Queue;
pub use registry::{ProcessRun, register, register_run};

/// Makes this binary usable as a child process; call it on the first lines of
/// `main`, after registering targets.
///
/// In the process the user started, it only records that processes may now be
/// started. In a child that threadlet re-executed, it runs the target the parent
/// asked for, reports the result and exits the process: it does not return.
/// `threadlet::run` calls it too; calling it again is harmless.
///
/// # Examples
///
/// ```
/// fn work(_: ()) {}
///
/// fn main() {
///     threadlet::process::register(work);
///     threadlet::process::init();
///     // In the main process, init() returns and main goes on.
///     assert_eq!(threadlet::process::current_process().name(), "MainProcess");
/// }
/// ```
pub fn init() {
    current::INITIALIZED.store(true, std::sync::atomic::Ordering::Release);
    if current::me().is_none() && child::is_launched_child() {
        child::run_child();
    }
}

/// Kills the daemon children and waits for all the others, as Python does when
/// the main process exits; `threadlet::run` calls it after `main`.
pub(crate) async fn shutdown_children() {
    children::shutdown().await;
}

#[doc(hidden)]
pub mod __private {
    //! Support for [`test_support!`](crate::process::test_support); not public API.

    use std::sync::Once;

    /// The test name the harness needs after `--exact`: the macro's module path
    /// without the crate name, then the entry's name.
    fn entry_path(module_path: &str, entry: &str) -> String {
        match module_path.split_once("::") {
            Some((_, rest)) => format!("{rest}::{entry}"),
            None => entry.to_owned(),
        }
    }

    /// Registers the targets, points children at the entry test, calls
    /// `init`: in a child (the entry test) that dispatches and never returns.
    /// The one item the macro needs; nothing else here is public.
    pub fn test_setup(module_path: &str, entry: &str, register: fn()) {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            register();
            // Children run the one libtest test `entry` of this test binary,
            // with the harness's header dropped from their stdout.
            let mut args = vec![entry_path(module_path, entry)];
            args.extend(
                ["--exact", "--nocapture", "--test-threads=1", "--quiet"].map(String::from),
            );
            super::driver::set_child_args(args, true);
        });
        super::init();
    }
}

#[macro_export]
#[doc(hidden)]
macro_rules! __threadlet_process_test_support {
    ($register:path) => {
        #[test]
        fn threadlet_process_child() {
            $crate::process::__private::test_setup(
                module_path!(),
                "threadlet_process_child",
                $register,
            );
        }

        /// Registers this file's process targets and readies the test harness
        /// for children; call it first in every test that starts a process.
        #[allow(dead_code)]
        fn threadlet_process_setup() {
            $crate::process::__private::test_setup(
                module_path!(),
                "threadlet_process_child",
                $register,
            );
        }
    };
}

#[doc(inline)]
pub use crate::__threadlet_process_test_support as test_support;
