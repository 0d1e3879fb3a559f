//! Seeing inside a running program: [`dump()`] (threadlet's `jstack`) and
//! [`deadlocks`] (the cycles of the wait-for graph).
//!
//! Every threadlet thread is in the registry and every wait goes through the
//! crate's one wait core, so threadlet can say which thread waits on which
//! primitive, since when, who holds it, and which waits form a cycle —
//! for async tasks and for OS threads in `blocking_*` forms alike.
//!
//! # Debugging a stuck program
//!
//! A program that hangs is waiting for something. Ask it what:
//!
//! 1. **Take a dump.** `println!("{}", threadlet::dump())` (from a watchdog
//!    task, a debug endpoint, a test that timed out) lists every thread:
//!    name, ident, daemon, alive, and for each thread parked in a threadlet
//!    primitive what it waits on — the kind (`Lock`, `RLock`, `Condition`,
//!    `Semaphore`, `Event`, `Barrier`, `Queue.get`, `Queue.put`,
//!    `Queue.join`, `Thread.join`), its id, its label, the line that created
//!    it, how long it has waited, whether the wait has a deadline, and who
//!    holds it where that is known:
//!
//!    ```text
//!    "Thread-1" ident=12 daemon=false alive=true
//!       waiting 2.004s on Lock#7 "lockB" created at src/main.rs:30:22
//!          held by "Thread-2"
//!    ```
//!
//! 2. **Name your primitives.** `Lock::labeled("accounts")`,
//!    `RLock::labeled(..)`, `Event::labeled(..)`, `Semaphore::labeled(..)`
//!    give a dump line a name; every primitive also records where it was
//!    created (`#[track_caller]` constructors), so even unnamed ones point to
//!    a line of your code.
//!
//! 3. **Look for cycles.** [`deadlocks`] returns every cycle of "thread
//!    waits on a primitive held by a thread that waits on ...", over `RLock`
//!    (by owner), `Lock` (by last acquirer) and thread joins, confirmed on a
//!    second snapshot so waits that are just resolving are not reported.
//!    Each [`Deadlock`] prints one sentence and its members' dump lines:
//!
//!    ```text
//!    deadlock of 2 threads: Thread-1 holds lockA (src/main.rs:29:22) and waits
//!    for lockB; Thread-2 holds lockB (src/main.rs:30:22) and waits for lockA
//!    ```
//!
//! 4. **Turn on holder tracking for `Lock`.** A `Lock` has no owner (any task
//!    may release it, as in Python), so by default nobody is recorded as
//!    holding it. [`set_track_holders`]`(true)`, or
//!    `THREADLET_TRACK_HOLDERS=1` in the environment, records each
//!    acquirer; the cost when off is one relaxed load per acquire, nothing
//!    per release.
//!
//! 5. **Read the dump.** A thread that waits on `Queue.get` forever usually
//!    misses a producer or a `shutdown()`; one on `Queue.join` a
//!    `task_done()`; one on `Thread.join` names the thread it joins — look
//!    that one up in the same dump. A thread listed without a wait is
//!    running, or waits on something outside threadlet (a tokio channel, a
//!    socket, a sleep).
//!
//! 6. **Let the program tell you.** Under [`run`](crate::run) or
//!    `#[threadlet::main]`, an opt-in watchdog
//!    ([`RuntimeBuilder::watchdog`](crate::RuntimeBuilder::watchdog),
//!    `#[threadlet::main(watchdog = "5s")]` or `THREADLET_WATCHDOG=5s`)
//!    prints the dump and the cycles to stderr when a deadlock cycle appears,
//!    when every thread is asleep in a threadlet primitive with nothing left
//!    to wake it (Go's "all goroutines are asleep — deadlock!":
//!    [`Dump::all_asleep`], reported only when the runtime has no task
//!    threadlet did not start), or when the exit wait for non-daemon threads
//!    lasts longer than the limit (`examples/dump.rs` forgets a `shutdown()`
//!    to show it); with the
//!    `process` feature on Unix, `Ctrl-\` (SIGQUIT) then prints the dump and
//!    the program goes on. With the `tracing` feature, every thread runs in a
//!    `thread` span and a long wait emits a debug event naming the primitive.
//!
//! What is recorded, and what it costs: nothing on the uncontended fast
//! paths (no allocation, no extra atomic read-modify-write); when a waiter
//! is queued and about to park it writes one record (a short lock on one of
//! sixteen shards), removed when it returns or is dropped — so a cancelled
//! waiter is gone from the next dump. A queue consumed as a `Stream` is not
//! recorded yet.
//!
//! # Examples
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let lock = threadlet::Lock::labeled("config");
//! let held = lock.lock().await;
//! let l = lock.clone();
//! let t = threadlet::Builder::new()
//!     .name("reader")
//!     .spawn(async move { drop(l.lock().await) })
//!     .unwrap();
//! while threadlet::dump().waits_on("config").next().is_none() {
//!     tokio::task::yield_now().await;
//! }
//! let dump = threadlet::dump();
//! let reader = dump.thread("reader").unwrap();
//! assert_eq!(reader.waits[0].primitive.label.as_deref(), Some("config"));
//! drop(held);
//! t.join().await.unwrap();
//! # }
//! ```

mod dump;
pub(crate) mod meta;
pub(crate) mod waits;

pub use dump::{Deadlock, Dump, PrimitiveInfo, ThreadDump, WaitInfo, deadlocks, dump};
pub use meta::{PrimitiveKind, set_track_holders, track_holders};
