//! The process driver: one dedicated OS thread, started on first use and alive
//! until the process exits, that spawns every child and supervises it on its own
//! small tokio runtime.
//!
//! Why a dedicated thread: Linux's parent-death signal (which kills daemon
//! children when the parent dies, even by SIGKILL) fires when the *thread* that
//! spawned the child exits. A tokio worker or a `spawn_blocking` thread can exit
//! while the process lives on; this thread never does. Why its own runtime: the
//! children outlive any one user runtime (a `#[tokio::test]` runtime is dropped at
//! the end of each test), and reaping, signalling and reading reports must keep
//! going regardless.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::child::MARKER;
use super::children;
use super::codec::{self, Report};
use super::preamble::Preamble;
use super::record::{Outcome, Record};
use crate::queue::Queue;
use crate::wait::loom::lock;
use crate::wait::timeout::Wait;

/// A request to spawn one `Process` child.
pub(crate) struct Job {
    /// The framed launch message.
    pub(crate) launch: Vec<u8>,
    /// The child's record: the driver sets it `Running` before it answers.
    pub(crate) record: Arc<Record>,
}

/// The answer to one [`run`]: a one-slot crate [`Queue`]. Dropped unanswered
/// (the driver thread died before it ran the closure), it answers with an
/// error, so the caller never waits for an answer that cannot come.
struct Reply<T>(Queue<io::Result<T>>);

impl<T> Reply<T> {
    fn send(self, answer: io::Result<T>) {
        let _ = self.0.put_nowait(answer);
    }
}

impl<T> Drop for Reply<T> {
    fn drop(&mut self) {
        // A no-op (`Full`) after `send`.
        let _ = self.0.put_nowait(Err(stopped()));
    }
}

fn stopped() -> io::Error {
    io::Error::other("the threadlet process driver thread has stopped")
}

/// A closure for the driver thread, run inside its runtime (it may spawn
/// tasks and children there).
type Request = Box<dyn FnOnce() + Send>;

/// The driver's request queue (unbounded: `send` never waits) and its
/// runtime's handle.
static DRIVER: Mutex<Option<(Queue<Request>, tokio::runtime::Handle)>> = Mutex::new(None);

/// Arguments a test harness child gets after the executable (`NAME --exact`,
/// set by `test_support!`); `None` for an ordinary binary, whose children get
/// this process's own `argv`, as Python's `spawn` hands its child `sys.argv`.
static CHILD_ARGS: Mutex<Option<Vec<String>>> = Mutex::new(None);

/// Set when the children are libtest harnesses (`test_support!`): their stdout
/// is forwarded without the harness's `running 1 test` header.
static HARNESS_CHILDREN: AtomicBool = AtomicBool::new(false);

/// The header a `--quiet` libtest harness prints before running the one test.
const HARNESS_HEADER: &[u8] = b"\nrunning 1 test\n";

pub(crate) fn set_child_args(args: Vec<String>, harness: bool) {
    *lock(&CHILD_ARGS) = Some(args);
    HARNESS_CHILDREN.store(harness, Ordering::Relaxed);
}

/// Whether this binary is a libtest harness (a `cargo test` binary) whose
/// children were not pointed at one entry test by `test_support!`: a child
/// would re-run the whole test binary, unrelated tests included, so
/// `start()` refuses.
///
/// Decided once per process. Only a binary that cargo built as a test or
/// bench (`deps/NAME-HASH`) is looked at, and it is a harness when it
/// carries libtest's `RUST_TEST_THREADS` (a `harness = false` binary, an
/// example or an installed program never does).
pub(crate) fn unprepared_test_harness() -> bool {
    static HARNESS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    !HARNESS_CHILDREN.load(Ordering::Relaxed)
        && *HARNESS.get_or_init(|| std::env::current_exe().is_ok_and(|exe| is_libtest(&exe)))
}

fn is_libtest(exe: &std::path::Path) -> bool {
    let in_deps = exe
        .parent()
        .and_then(std::path::Path::file_name)
        .is_some_and(|dir| dir == "deps");
    let hashed = exe
        .file_name()
        .and_then(std::ffi::OsStr::to_str)
        .and_then(|name| name.rsplit_once('-'))
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
    // Spelt backwards here, so that this very code does not carry the name.
    let mut needle = *b"SDAERHT_TSET_TSUR";
    needle.reverse();
    in_deps && hashed && std::fs::read(exe).is_ok_and(|bytes| contains(&bytes, &needle))
}

/// Whether `needle` (not empty) occurs in `hay`.
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    let mut rest = hay;
    while let Some(at) = rest.iter().position(|&b| b == needle[0]) {
        if rest[at..].starts_with(needle) {
            return true;
        }
        rest = &rest[at + 1..];
    }
    false
}

/// Has the driver thread spawn `job`'s child and waits for its answer; the
/// child's record is `Running` (and in the children list) when this returns
/// `Ok`.
///
/// The caller must hold no lock the driver takes: `start()` releases the
/// record's state lock (state `Starting`) before calling this.
pub(crate) fn start(job: Job) -> io::Result<()> {
    run(move || spawn_one(job.launch, job.record))
}

/// Runs `f` on the driver thread inside its runtime (starting the driver on
/// first use) and waits for its value.
///
/// Must not be called on the driver thread (it would wait for itself): no
/// driver code path does (the pool spawns its workers with `spawn_child`
/// directly, and the supervisors only record and remove).
pub(crate) fn run<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    let answer = Queue::new(1);
    let reply = Reply(answer.clone());
    send(Box::new(move || reply.send(f())))?;
    // The driver thread always answers: no runtime progress on this thread
    // is needed, so this may wait on a runtime thread too.
    answer.get_on_thread().unwrap_or_else(|_| Err(stopped()))
}

/// Runs `f` on the driver thread inside its runtime, starting it on first
/// use, without waiting for it.
pub(crate) fn call(f: impl FnOnce() + Send + 'static) -> io::Result<()> {
    send(Box::new(f))
}

fn send(request: Request) -> io::Result<()> {
    with_driver(|requests, _| requests.put_nowait(request).map_err(|_| stopped()))
}

/// Runs `f` with the driver's request queue and runtime, starting the
/// driver thread on first use.
fn with_driver<T>(
    f: impl FnOnce(&Queue<Request>, &tokio::runtime::Handle) -> io::Result<T>,
) -> io::Result<T> {
    let mut driver = lock(&DRIVER);
    if driver.is_none() {
        let requests = Queue::new(0);
        let rx = requests.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = rt.handle().clone();
        std::thread::Builder::new()
            .name("threadlet-process-driver".into())
            .spawn(move || rt.block_on(drive(rx)))?;
        *driver = Some((requests, handle));
    }
    match driver.as_ref() {
        Some((requests, handle)) => f(requests, handle),
        None => Err(io::Error::other(
            "the threadlet process driver did not start",
        )),
    }
}

/// Runs `fut` for at most `timeout` of **real** time; `None` when the time
/// ran out first (the future is then dropped, so it must be cancel safe).
///
/// Every async process timeout goes through here. It follows the crate's
/// one rule for timed forms ([`Wait`]): a zero timeout polls `fut` once and
/// never waits; `Duration::MAX` (or any timeout too large for the clock)
/// waits forever. A finite timeout is measured on the driver's own runtime,
/// whose clock is never paused: a child runs in real time, so a join under a
/// paused tokio clock (`start_paused`, `time::pause`) must not time out the
/// moment the caller's runtime auto-advances. For the same reason it needs
/// no timer of the caller's: it works under any executor.
pub(crate) async fn real_timeout<F: std::future::Future>(
    timeout: Duration,
    fut: F,
) -> Option<F::Output> {
    if timeout.is_zero() {
        return Wait::Never.run(fut).await;
    }
    let Some(at) = crate::wait::timeout::deadline(timeout) else {
        return Some(fut.await);
    };
    let timer = with_driver(|_, handle| {
        // The sleep is made inside the task, so it belongs to the driver's
        // timer, not to the caller's (possibly paused) one.
        Ok(AbortOnDrop(handle.spawn(async move {
            tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
        })))
    });
    let Ok(mut timer) = timer else {
        // No driver thread: the caller's clock is the only one left.
        return crate::wait::timeout::with_timeout(timeout, fut).await;
    };
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = fut.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        match std::pin::Pin::new(&mut timer.0).poll(cx) {
            Poll::Ready(_) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// A timer task on the driver's runtime, cancelled with its waiter.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn drive(requests: Queue<Request>) {
    // If this loop ever unwinds, the requests still queued are dropped with
    // it, and each `Reply` among them answers with an error.
    let requests = ShutOnDrop(requests);
    while let Ok(request) = requests.0.get().await {
        request();
    }
}

/// Shuts the request queue down when the driver loop ends (or unwinds), so a
/// later `send` fails instead of queueing for nobody.
struct ShutOnDrop(Queue<Request>);

impl Drop for ShutOnDrop {
    fn drop(&mut self) {
        self.0.shutdown_immediate();
    }
}

/// Spawns one child on this (the driver's) thread, records it `Running` and in
/// the children list, and starts supervising it.
fn spawn_one(launch: Vec<u8>, record: Arc<Record>) -> io::Result<()> {
    // The launch frame goes into the socket now, before `start()` returns
    // (whatever of it the socket buffer takes; any rest is written below, as
    // the child reads): a parent killed right after `start()` still leaves a
    // non-daemon child that runs its target, as in Python.
    let (child, sock, sent) = spawn_child(&launch)?;
    let pid = child.id().unwrap_or(0);
    let signals = Queue::new(0);
    // Before the supervisor exists, so it can only ever finish a `Running`
    // record that is in the list.
    record.running(pid, signals.clone());
    children::add(Arc::clone(&record));
    let rest = launch[sent..].to_vec();
    tokio::spawn(supervise(child, sock, rest, record, signals));
    Ok(())
}

/// Re-executes this binary with the marker, a socket pair as its stderr (the
/// launch channel, and the text `main` prints before `init()`: see
/// [`preamble`](super::preamble)) and our stderr as its stdin (`init()` makes
/// it the child's stderr), writes as much of `first` into the socket as its buffer takes without
/// waiting; returns the child, our end of the socket and how much was written. Must run on the driver thread
/// (the parent-death signal follows the spawning thread), inside its runtime.
pub(crate) fn spawn_child(
    first: &[u8],
) -> io::Result<(tokio::process::Child, tokio::net::UnixStream, usize)> {
    let exe = std::env::current_exe()?;
    let (ours, theirs) = std::os::unix::net::UnixStream::pair()?;
    ours.set_nonblocking(true)?;
    let mut cmd = tokio::process::Command::new(exe);
    match lock(&CHILD_ARGS).clone() {
        Some(args) => {
            cmd.args(args);
        }
        None => {
            // Python's spawn: the child sees the parent's `sys.argv`, so a
            // `main` that parses its arguments before `init()` parses the
            // same ones as the parent did.
            let mut argv = std::env::args_os();
            if let Some(arg0) = argv.next() {
                cmd.arg0(arg0);
            }
            cmd.args(argv);
        }
    }
    cmd.env(MARKER, std::process::id().to_string())
        .stdin(Stdio::from(std::io::stderr().as_fd().try_clone_to_owned()?))
        .stderr(Stdio::from(OwnedFd::from(theirs)));
    let harness = HARNESS_CHILDREN.load(Ordering::Relaxed);
    if harness {
        cmd.stdout(Stdio::piped());
    }
    let mut child = cmd.spawn()?;
    if let Some(out) = child.stdout.take() {
        let out = std::fs::File::from(out.into_owned_fd()?);
        std::thread::Builder::new()
            .name("threadlet-harness-stdout".into())
            .spawn(move || forward_harness_stdout(out))?;
    }
    // Close our copy of the child's end, so its exit shows as end of file.
    drop(cmd);
    let mut sent = 0;
    while sent < first.len() {
        match std::io::Write::write(&mut &ours, &first[sent..]) {
            Ok(n) if n > 0 => sent += n,
            _ => break, // full (WouldBlock) or failed: the rest is written later
        }
    }
    match tokio::net::UnixStream::from_std(ours) {
        Ok(sock) => Ok((child, sock, sent)),
        Err(e) => {
            let _ = child.start_kill();
            Err(e)
        }
    }
}

/// Copies a harness child's stdout to ours, minus libtest's header, on a
/// short-lived thread of its own (plain blocking IO; test runs only).
fn forward_harness_stdout(out: std::fs::File) {
    use std::io::{Read, Write};
    let mut out = out;
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    // Hold back output while it could still be the header.
    while head.len() < HARNESS_HEADER.len() && HARNESS_HEADER.starts_with(&head) {
        match out.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    let rest = head.strip_prefix(HARNESS_HEADER).unwrap_or(&head);
    let mut stdout = std::io::stdout();
    if stdout
        .write_all(rest)
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return;
    }
    loop {
        match out.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if stdout
                    .write_all(&chunk[..n])
                    .and_then(|()| stdout.flush())
                    .is_err()
                {
                    break;
                }
            }
        }
    }
}

/// Feeds the launch frame, collects reports, delivers signals and reaps the child.
async fn supervise(
    mut child: tokio::process::Child,
    sock: tokio::net::UnixStream,
    launch: Vec<u8>,
    record: Arc<Record>,
    signals: Queue<Signal>,
) {
    let (mut rd, mut wr) = sock.into_split();
    tokio::spawn(async move {
        // Fails harmlessly if the child exits without reading it.
        let _ = wr.write_all(&launch).await;
        let _ = wr.shutdown().await;
    });
    let mut buf = Vec::new();
    // The text `main` printed before `init()`, copied to our stderr as it comes.
    let mut preamble = Preamble::default();
    let mut reading = true;
    let status = loop {
        tokio::select! {
            // Child reaping stays tokio's (SIGCHLD-driven): an OS process's exit
            // is not an event the crate's wait core can observe.
            status = child.wait() => break status,
            Ok(signal) = signals.get() => {
                // Not reaped yet (we are not polling `wait` now), so the pid is
                // still this child's: no race with pid reuse.
                if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
                    let _ = nix::sys::signal::kill(Pid::from_raw(pid), signal);
                }
            }
            read = rd.read_buf(&mut buf), if reading => {
                if !matches!(read, Ok(n) if n > 0) {
                    reading = false;
                }
                preamble.take(&mut buf, &mut std::io::stderr());
            }
        }
    };
    // What the child wrote before it exited is in the socket now; do not wait
    // for end of file (a grandchild may hold the socket open).
    if reading {
        let mut chunk = [0u8; 8192];
        while let Ok(n) = rd.try_read(&mut chunk) {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    }
    preamble.take(&mut buf, &mut std::io::stderr());
    let exitcode = exit_code(status);
    let mut started = false;
    let mut last = None;
    for report in codec::parse_reports(&buf) {
        match report {
            Report::Started => started = true,
            other => last = Some(other),
        }
    }
    let outcome = match last {
        Some(Report::Returned(bytes)) => Outcome::Returned(bytes),
        Some(Report::Panicked(msg)) => Outcome::Panicked(msg),
        Some(Report::UnknownTarget(name)) => Outcome::UnknownTarget(name),
        Some(Report::Codec(msg)) => Outcome::Codec(msg),
        Some(Report::Started) | None if started => Outcome::NoReport,
        Some(Report::Started) | None => Outcome::NoInit {
            stderr: preamble.tail(),
        },
    };
    record.finish(exitcode, outcome);
    children::remove(&record);
}

/// Python's `exitcode`: the exit status, `-N` for a child killed by signal
/// `N`, `-1` if it could not be collected.
pub(crate) fn exit_code(status: io::Result<std::process::ExitStatus>) -> i32 {
    match status {
        Ok(status) => status
            .code()
            .unwrap_or_else(|| -status.signal().unwrap_or(0)),
        Err(_) => -1,
    }
}
