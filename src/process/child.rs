//! The child side: a re-executed binary whose `main` reached `init()` reads its
//! launch frame from its launch socket (its stderr until then, see
//! [`preamble`](super::preamble)), runs the registered target, reports the
//! value or the panic, and exits without returning to `main`.

use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::panic::{self, AssertUnwindSafe};

use nix::sys::stat::{SFlag, fstat};

use super::children;
use super::codec::{self, Launch, PoolReply, PoolTask, Report};
use super::current::{self, Me};
use super::preamble::SENTINEL;
use super::registry::{self, Lookup, RunFailure};

/// The environment variable that marks a re-executed child; its value is the
/// parent's pid.
pub(crate) const MARKER: &str = "THREADLET_PROCESS_CHILD";

/// Whether this process was started by threadlet as a child: the marker is set
/// and stderr is one end of an unnamed socket pair (a marker leaked into a
/// program the child runs, whose stderr is the real one, is ignored: a
/// terminal, a pipe, a file, or a named socket such as the journal's).
pub(crate) fn is_launched_child() -> bool {
    if std::env::var_os(MARKER).is_none() {
        return false;
    }
    let stderr = std::io::stderr();
    let fd = stderr.as_fd();
    let is_socket = fstat(fd)
        .is_ok_and(|st| SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFSOCK);
    is_socket
        && fd.try_clone_to_owned().is_ok_and(|fd| {
            let sock = UnixStream::from(fd);
            sock.peer_addr().is_ok_and(|a| a.is_unnamed())
                && sock.local_addr().is_ok_and(|a| a.is_unnamed())
        })
}

/// Runs this child's target and exits the process; never returns.
pub(crate) fn run_child() -> ! {
    // Our own copy of the launch socket (close-on-exec), which was our
    // stderr until now: the parent copied what `main` printed there before
    // `init()` to its stderr. The sentinel ends that text; then the parent's
    // real stderr (our stdin until now) becomes our stderr, and stdin becomes
    // /dev/null, as Python's children get: the user's terminal is never the
    // child's stdin, and commands the target runs do not inherit the socket.
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        std::process::exit(1)
    };
    let mut sock = UnixStream::from(fd);
    if sock.write_all(SENTINEL).is_err() {
        // The parent went away before handing us a target.
        std::process::exit(1)
    }
    let _ = nix::unistd::dup2_stderr(std::io::stdin());
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let _ = nix::unistd::dup2_stdin(&null);
    }
    let Ok(launch) = codec::read_frame::<Launch>(&mut sock) else {
        // The parent went away before handing us a target.
        std::process::exit(1)
    };
    if launch.daemon {
        // A daemon dies with its parent, even one killed by SIGKILL. The signal is
        // tied to the parent's thread that spawned us: threadlet spawns from a
        // dedicated thread that lives as long as the parent process.
        let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
        // The parent may have died before the line above: then we were
        // re-parented and must not run.
        if current::getppid() != launch.parent_pid {
            std::process::exit(1)
        }
    }
    let _ = codec::write_frame(&mut sock, &Report::Started);
    let Launch {
        target,
        name,
        daemon,
        identity,
        parent_pid,
        parent_name,
        args,
    } = launch;
    current::set_me(Me {
        name: name.clone(),
        daemon,
        identity,
        parent_name,
        parent_pid,
    });

    if target == codec::POOL_WORKER {
        pool_worker(&mut sock, &name);
    }
    // The target runs inside a runtime's context (not on it: it is a plain
    // function and may block or start a runtime of its own), so threads it
    // starts with `threadlet::spawn` run on this runtime's workers...
    // One worker: threads are green tasks (concurrency, as Python's threads
    // under the GIL), and a child pays for one thread, not one per core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .ok();
    let entered = runtime.as_ref().map(tokio::runtime::Runtime::enter);
    let (report, code) = run_target(&target, &name, &args);
    let _ = codec::write_frame(&mut sock, &report);
    drop(sock);
    // ... and, as Python's child at exit, it then waits for its non-daemon
    // threads (whether or not the target ran `threadlet::run` itself), then
    // for its own non-daemon children (daemon ones are killed).
    if let Some(runtime) = &runtime {
        runtime.block_on(crate::thread::join_non_daemon());
    }
    drop(entered);
    children::blocking_shutdown();
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(code)
}

/// A pool worker: runs tasks from the socket until the pool closes it.
fn pool_worker(sock: &mut UnixStream, name: &str) -> ! {
    install_panic_hook(name);
    let mut reader = std::io::BufReader::new(match sock.try_clone() {
        Ok(s) => s,
        Err(_) => std::process::exit(1),
    });
    loop {
        let Ok(task) = codec::read_frame::<PoolTask>(&mut reader) else {
            // The pool closed our socket: no more work.
            let _ = std::io::stdout().flush();
            std::process::exit(0)
        };
        let reply = run_chunk(&task);
        if codec::write_frame(sock, &reply).is_err() {
            std::process::exit(0)
        }
    }
}

fn run_chunk(task: &PoolTask) -> PoolReply {
    let Some(runner) = registry::lookup_chunk(&task.key) else {
        return PoolReply::UnknownTarget(task.key.clone());
    };
    match panic::catch_unwind(AssertUnwindSafe(|| runner(&task.args))) {
        Ok(Ok(values)) => PoolReply::Done(values),
        Ok(Err(RunFailure::Codec(msg))) => PoolReply::Codec(msg),
        Err(payload) => PoolReply::Panicked(panic_message(payload.as_ref())),
    }
}

/// Prints Python's "Process NAME:" line before each panic message.
fn install_panic_hook(name: &str) {
    let hook_name = name.to_owned();
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        eprintln!("Process {hook_name}:");
        previous(info);
    }));
}

/// Runs the target, returning the report for the parent and the exit code.
fn run_target(target: &str, name: &str, args: &[u8]) -> (Report, i32) {
    let runner = match registry::lookup(target, None) {
        Ok(runner) => runner,
        Err(Lookup::Unknown | Lookup::Ambiguous) => {
            eprintln!(
                "Process {name}: unknown process target `{target}`: register it before \
                 threadlet::process::init()"
            );
            return (Report::UnknownTarget(target.to_owned()), 1);
        }
    };
    // Like Python's "Process NAME:" line before the traceback.
    install_panic_hook(name);
    match panic::catch_unwind(AssertUnwindSafe(|| runner(args))) {
        Ok(Ok(bytes)) => (Report::Returned(bytes), 0),
        Ok(Err(RunFailure::Codec(msg))) => {
            eprintln!("Process {name}: {msg}");
            (Report::Codec(msg), 1)
        }
        Err(payload) => (Report::Panicked(panic_message(payload.as_ref())), 1),
    }
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}
