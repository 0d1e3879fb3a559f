//! `threadlet::process`: real child processes of this test binary (through
//! `test_support!`), checked against Python's `multiprocessing.Process` rules
//! (CPython `Lib/multiprocessing/process.py`, `Lib/test/_test_multiprocessing.py`).
#![cfg(all(feature = "process", target_os = "linux"))]

use std::io::Read;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use threadlet::error::{ProcessJoinError, ProcessStartError, ProcessStateError};
use threadlet::process::{self, Builder, Process, ProcessRun};

// ===== targets (run in the children) =====

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Payload {
    text: String,
    numbers: Vec<i64>,
    nested: Option<Box<Payload>>,
}

fn echo(p: Payload) -> Payload {
    p
}

fn add((a, b): (i64, i64)) -> i64 {
    a + b
}

fn square(x: u64) -> u64 {
    x * x
}

fn boom(_: ()) {
    panic!("boom in the child");
}

fn nap(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

fn exit_with(code: i32) {
    std::process::exit(code);
}

/// (name, pid, ppid, parent name, parent pid, daemon)
type Info = (String, u32, u32, Option<(String, u32)>, bool);

fn info(_: ()) -> Info {
    let me = process::current_process();
    assert_eq!(me.pid(), process::getpid());
    (
        me.name().to_owned(),
        process::getpid(),
        process::getppid(),
        process::parent_process().map(|p| (p.name().to_owned(), p.pid())),
        me.is_daemon(),
    )
}

fn read_stdin(_: ()) -> usize {
    let mut buf = Vec::new();
    std::io::stdin().read_to_end(&mut buf).unwrap();
    buf.len()
}

/// A non-daemon child starting a grandchild: (grandchild name, its parent's name, value).
fn nested(x: u64) -> (String, String, u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let p = Process::new(info, ()).unwrap();
    p.start().unwrap();
    let (name, _, ppid, parent, _) = rt.block_on(p.join()).unwrap();
    assert_eq!(ppid, process::getpid());
    let q = process::spawn_process(square, x).unwrap();
    let value = q.blocking_join().unwrap();
    (name, parent.unwrap().0, value)
}

fn daemon_starts_child(_: ()) -> String {
    match Process::new(square, 2).unwrap().start() {
        Ok(()) => "started".into(),
        Err(e) => e.to_string(),
    }
}

/// The daemon flags a process created here gets: (by default, when told not
/// to be one).
fn created_daemon_flags(_: ()) -> (bool, bool) {
    let default = Process::new(square, 2).unwrap().is_daemon();
    let explicit = Builder::new()
        .daemon(false)
        .process(square, 2)
        .unwrap()
        .is_daemon();
    (default, explicit)
}

/// Starts a (non-daemon) threadlet thread that writes `path` after a while,
/// and returns at once, without a runtime or `threadlet::run` of its own.
fn thread_then_return(path: String) {
    threadlet::Builder::new()
        .spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            std::fs::write(&path, "written").unwrap();
        })
        .unwrap();
}

fn start_sleeper() -> u32 {
    let d = Builder::new().daemon(true).process(nap, 60_000).unwrap();
    d.start().unwrap();
    d.pid().unwrap()
}

/// Starts a daemon grandchild and returns its pid: the child then exits normally.
fn daemon_then_return(_: ()) -> u32 {
    start_sleeper()
}

/// Starts a daemon grandchild, writes its pid to `path`, then panics.
fn daemon_then_panic(path: String) {
    std::fs::write(&path, start_sleeper().to_string()).unwrap();
    panic!("parent of a daemon panics");
}

/// Starts a daemon grandchild, writes its pid to `path`, then hangs until killed.
fn daemon_then_hang(path: String) {
    std::fs::write(&path, start_sleeper().to_string()).unwrap();
    std::thread::sleep(Duration::from_secs(120));
}

/// Starts a non-daemon grandchild that writes `path` after a while, and returns
/// at once: the child must wait for it before exiting.
fn leaves_a_slow_grandchild(path: String) {
    process::spawn_process(write_later, path).unwrap();
}

fn write_later(path: String) {
    std::thread::sleep(Duration::from_millis(300));
    std::fs::write(path, "done").unwrap();
}

#[derive(Serialize, Deserialize)]
struct Greeter {
    greeting: String,
}

impl ProcessRun for Greeter {
    type Output = String;
    fn run(self) -> String {
        format!(
            "{} from {}",
            self.greeting,
            process::current_process().name()
        )
    }
}

/// Registered in the parent only (after `init`), so children do not know it.
fn only_in_parent(_: ()) -> u8 {
    7
}

fn never_registered(_: ()) {}

fn targets() {
    process::register(echo);
    process::register(add);
    process::register(square);
    process::register(boom);
    process::register(nap);
    process::register(exit_with);
    process::register(info);
    process::register(read_stdin);
    process::register(nested);
    process::register(daemon_starts_child);
    process::register(created_daemon_flags);
    process::register(thread_then_return);
    process::register(daemon_then_return);
    process::register(daemon_then_panic);
    process::register(daemon_then_hang);
    process::register(leaves_a_slow_grandchild);
    process::register(write_later);
    process::register_run::<Greeter>();
}

process::test_support!(targets);

#[path = "common/process_util.rs"]
mod process_util;

use process_util::{pid_is_gone, temp_path, wait_gone};

async fn read_pid_file(path: &str) -> u32 {
    process_util::eventually("a pid in the file", || {
        std::fs::read_to_string(path).ok()?.trim().parse().ok()
    })
    .await
}

// ===== round trip, naming, identity =====

#[tokio::test]
async fn arguments_and_result_round_trip() {
    threadlet_process_setup();
    let payload = Payload {
        text: "héllo, wörld".into(),
        numbers: vec![-1, 0, i64::MAX, i64::MIN],
        nested: Some(Box::new(Payload {
            text: "inner".into(),
            numbers: (0..1000).collect(),
            nested: None,
        })),
    };
    let p = Process::new(echo, payload.clone()).unwrap();
    assert_eq!(p.pid(), None);
    assert_eq!(p.exitcode(), None);
    assert!(!p.is_alive());
    p.start().unwrap();
    assert!(p.pid().is_some());
    assert_eq!(p.join().await.unwrap(), payload);
    assert_eq!(p.exitcode(), Some(0));
    assert!(!p.is_alive());
    // Joined again: the value is handed out again.
    assert_eq!(p.join().await.unwrap(), payload);

    let q = process::spawn_process(add, (40, 2)).unwrap();
    let joined = tokio::task::spawn_blocking(move || q.blocking_join());
    assert_eq!(joined.await.unwrap().unwrap(), 42);
}

#[tokio::test]
async fn large_result_round_trip() {
    threadlet_process_setup();
    let big = Payload {
        text: "x".repeat(3 << 20),
        numbers: (0..200_000).collect(),
        nested: None,
    };
    let p = process::spawn_process(echo, big.clone()).unwrap();
    assert_eq!(p.join().await.unwrap(), big);
}

#[tokio::test]
async fn run_trait_is_call_mode_two() {
    threadlet_process_setup();
    let p = Process::from_run(Greeter {
        greeting: "hello".into(),
    })
    .unwrap();
    let name = p.name();
    assert!(name.starts_with("Greeter-"), "{name}");
    p.start().unwrap();
    assert_eq!(p.join().await.unwrap(), format!("hello from {name}"));
}

#[tokio::test]
async fn names_pids_and_parents() {
    threadlet_process_setup();
    let main = process::current_process();
    assert_eq!(main.name(), "MainProcess");
    assert_eq!(main.pid(), std::process::id());
    assert!(process::parent_process().is_none());

    let p = Process::new(info, ()).unwrap();
    let default_name = p.name();
    assert!(default_name.starts_with("Process-"), "{default_name}");
    p.start().unwrap();
    let (name, pid, ppid, parent, daemon) = p.join().await.unwrap();
    assert_eq!(name, default_name);
    assert_eq!(Some(pid), p.pid());
    assert_ne!(pid, std::process::id());
    assert_eq!(ppid, std::process::id());
    assert_eq!(parent, Some(("MainProcess".to_owned(), std::process::id())));
    assert!(!daemon);

    // A finished child is no longer active.
    assert!(
        process::active_children()
            .iter()
            .all(|c| Some(c.pid()) != p.pid())
    );
    let sleeper = Builder::new().name("sleeper").spawn(nap, 60_000).unwrap();
    let active = process::active_children();
    let listed = active
        .iter()
        .find(|c| Some(c.pid()) == sleeper.pid())
        .expect("the sleeper is an active child");
    assert_eq!(listed.name(), "sleeper");
    assert!(listed.is_alive());
    sleeper.kill().unwrap();
    let _ = sleeper.join().await;
    assert!(!listed.is_alive());

    let named = Builder::new()
        .name("worker")
        .daemon(true)
        .spawn(info, ())
        .unwrap();
    let (name, _, _, _, daemon) = named.join().await.unwrap();
    assert_eq!(name, "worker");
    assert!(daemon);
}

#[tokio::test]
async fn grandchildren_are_named_after_their_parent() {
    threadlet_process_setup();
    let p = process::spawn_process(nested, 9).unwrap();
    let child_name = p.name();
    let (grandchild, its_parent, value) = p.join().await.unwrap();
    // Python: the first child of Process-N is Process-N:1.
    assert_eq!(grandchild, format!("{child_name}:1"));
    assert_eq!(its_parent, child_name);
    assert_eq!(value, 81);
}

#[tokio::test]
async fn child_stdin_is_not_the_terminal() {
    threadlet_process_setup();
    let p = process::spawn_process(read_stdin, ()).unwrap();
    assert_eq!(p.join().await.unwrap(), 0);
}

// ===== exit codes =====

#[tokio::test]
async fn panic_gives_exit_code_one_and_the_message() {
    threadlet_process_setup();
    let p = process::spawn_process(boom, ()).unwrap();
    let err = p.join().await.unwrap_err();
    assert_eq!(
        err,
        ProcessJoinError::Panicked {
            name: p.name(),
            message: "boom in the child".into()
        }
    );
    assert_eq!(err.exitcode(), Some(1));
    assert_eq!(p.exitcode(), Some(1));
}

#[tokio::test]
async fn exit_without_value_reports_the_code() {
    threadlet_process_setup();
    let p = process::spawn_process(exit_with, 3).unwrap();
    let err = p.join().await.unwrap_err();
    assert_eq!(
        err,
        ProcessJoinError::Exited {
            name: p.name(),
            code: 3
        }
    );
    assert_eq!(p.exitcode(), Some(3));
}

#[tokio::test]
async fn terminate_gives_minus_sigterm() {
    threadlet_process_setup();
    let p = process::spawn_process(nap, 60_000).unwrap();
    assert!(p.is_alive());
    assert!(
        p.join_timeout(Duration::from_millis(50))
            .await
            .unwrap_err()
            .is_timeout()
    );
    p.terminate().unwrap();
    let err = p.join_timeout(Duration::from_secs(20)).await.unwrap_err();
    assert_eq!(
        err,
        ProcessJoinError::Killed {
            name: p.name(),
            signal: 15
        }
    );
    assert_eq!(p.exitcode(), Some(-15));
    assert!(!p.is_alive());
    // Signalling a reaped process does nothing, as in Python.
    assert_eq!(p.terminate(), Ok(()));
    assert_eq!(p.kill(), Ok(()));
}

#[tokio::test]
async fn kill_gives_minus_sigkill() {
    threadlet_process_setup();
    let p = process::spawn_process(nap, 60_000).unwrap();
    let pid = p.pid().unwrap();
    p.kill().unwrap();
    assert!(p.join().await.unwrap_err().exitcode() == Some(-9));
    assert_eq!(p.exitcode(), Some(-9));
    assert!(pid_is_gone(pid));
}

// ===== bad input =====

struct Unencodable;

impl Serialize for Unencodable {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "this value refuses to be encoded",
        ))
    }
}

impl<'de> Deserialize<'de> for Unencodable {
    fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
        Ok(Unencodable)
    }
}

fn takes_unencodable(_: Unencodable) {}

#[tokio::test]
async fn unencodable_arguments_fail_before_any_process_starts() {
    threadlet_process_setup();
    process::register(takes_unencodable);
    let err = Process::new(takes_unencodable, Unencodable).unwrap_err();
    assert!(matches!(err, ProcessStartError::Encode(_)), "{err}");
    assert!(
        err.to_string()
            .starts_with("cannot encode the process arguments")
    );
    assert!(process::spawn_process(takes_unencodable, Unencodable).is_err());
}

#[tokio::test]
async fn start_twice_and_join_before_start_are_errors() {
    threadlet_process_setup();
    let p = Process::new(square, 3).unwrap();
    assert_eq!(p.join().await, Err(ProcessJoinError::NotStarted));
    assert_eq!(
        p.join_timeout(Duration::from_secs(1)).await,
        Err(ProcessJoinError::NotStarted)
    );
    let unstarted = p.clone();
    let joined = tokio::task::spawn_blocking(move || unstarted.blocking_join());
    assert_eq!(joined.await.unwrap(), Err(ProcessJoinError::NotStarted));
    assert_eq!(p.terminate(), Err(ProcessStateError::NotStarted));
    assert_eq!(p.kill(), Err(ProcessStateError::NotStarted));
    p.start().unwrap();
    assert_eq!(p.start(), Err(ProcessStartError::AlreadyStarted));
    assert_eq!(p.set_daemon(true), Err(ProcessStateError::AlreadyStarted));
    assert_eq!(p.join().await.unwrap(), 9);
    assert_eq!(p.start(), Err(ProcessStartError::AlreadyStarted));
}

#[tokio::test]
async fn unknown_targets_are_errors() {
    threadlet_process_setup();
    // Never registered: refused before a process starts.
    let p = Process::new(never_registered, ()).unwrap();
    let err = p.start().unwrap_err();
    assert!(
        matches!(err, ProcessStartError::UnknownTarget(ref k) if k.ends_with("never_registered")),
        "{err}"
    );
    assert_eq!(p.pid(), None);

    // Registered in the parent only (after init): the child reports it.
    process::register(only_in_parent);
    let p = process::spawn_process(only_in_parent, ()).unwrap();
    let err = p.join().await.unwrap_err();
    assert!(
        matches!(err, ProcessJoinError::UnknownTarget(ref k) if k.ends_with("only_in_parent")),
        "{err}"
    );
    assert_eq!(p.exitcode(), Some(1));
}

#[tokio::test]
async fn closures_sharing_a_name_are_ambiguous() {
    threadlet_process_setup();
    let (a, b) = (|(): ()| 1u8, |(): ()| 2u8);
    process::register(a);
    process::register(b);
    let err = Process::new(a, ()).unwrap().start().unwrap_err();
    assert!(
        matches!(err, ProcessStartError::AmbiguousTarget(_)),
        "{err}"
    );
}

#[tokio::test]
async fn a_daemon_may_not_start_children() {
    threadlet_process_setup();
    let p = Builder::new()
        .daemon(true)
        .spawn(daemon_starts_child, ())
        .unwrap();
    assert_eq!(
        p.join().await.unwrap(),
        "daemonic processes are not allowed to have children"
    );
}

#[tokio::test]
async fn a_process_created_in_a_daemon_is_a_daemon_by_default() {
    threadlet_process_setup();
    // Python: `Process()` defaults `daemon` to `current_process().daemon`.
    let p = Builder::new()
        .daemon(true)
        .spawn(created_daemon_flags, ())
        .unwrap();
    assert_eq!(p.join().await.unwrap(), (true, false));
    // In a non-daemon process the default is `false`.
    let p = process::spawn_process(created_daemon_flags, ()).unwrap();
    assert_eq!(p.join().await.unwrap(), (false, false));
}

#[tokio::test]
async fn a_child_waits_for_its_non_daemon_threads_before_it_exits() {
    threadlet_process_setup();
    let path = temp_path("thread_then_return");
    let p = process::spawn_process(thread_then_return, path.clone()).unwrap();
    p.join().await.unwrap();
    // Python's child joins its non-daemon threads at exit: the thread ran to
    // its end before the child exited.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "written");
    let _ = std::fs::remove_file(&path);
}

// ===== daemons never outlive their parent =====

#[tokio::test]
async fn daemon_grandchild_dies_when_its_parent_returns() {
    threadlet_process_setup();
    let p = process::spawn_process(daemon_then_return, ()).unwrap();
    let grandchild = p.join().await.unwrap();
    assert!(wait_gone(grandchild, Duration::from_secs(20)).await);
}

#[tokio::test]
async fn daemon_grandchild_dies_when_its_parent_panics() {
    threadlet_process_setup();
    let path = temp_path("panic");
    let p = process::spawn_process(daemon_then_panic, path.clone()).unwrap();
    let grandchild = read_pid_file(&path).await;
    assert!(p.join().await.unwrap_err().is_panic());
    assert!(wait_gone(grandchild, Duration::from_secs(20)).await);
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn daemon_grandchild_dies_when_its_parent_is_sigkilled() {
    threadlet_process_setup();
    let path = temp_path("sigkill");
    let p = process::spawn_process(daemon_then_hang, path.clone()).unwrap();
    let grandchild = read_pid_file(&path).await;
    assert!(!pid_is_gone(grandchild), "the daemon grandchild should run");
    p.kill().unwrap();
    assert_eq!(p.join().await.unwrap_err().exitcode(), Some(-9));
    // Nobody ran the parent's exit code: only the parent-death signal kills it.
    assert!(wait_gone(grandchild, Duration::from_secs(20)).await);
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn a_child_joins_its_non_daemon_children_before_exiting() {
    threadlet_process_setup();
    let path = temp_path("slow-grandchild");
    let p = process::spawn_process(leaves_a_slow_grandchild, path.clone()).unwrap();
    p.join().await.unwrap();
    // As Python's child joins its children at exit, the file is there already.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "done");
    let _ = std::fs::remove_file(path);
}

// ===== handles move between tasks =====

fn assert_send_sync<T: Send + Sync>(_: &T) {}
fn assert_send<T: Send>(_: &T) {}

#[test]
fn handles_and_join_futures_are_send_sync() {
    let p = Process::new(square, 1).unwrap();
    assert_send_sync(&p);
    assert_send_sync(&Builder::new());
    assert_send_sync(&process::current_process());
    assert_send(&p.join());
    assert_send(&p.join_timeout(Duration::from_secs(1)));
}

// ===== many at once =====

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_processes_started_concurrently_all_join() {
    threadlet_process_setup();
    let starts: Vec<_> = (0..50u64)
        .map(|i| tokio::spawn(async move { process::spawn_process(square, i).unwrap() }))
        .collect();
    let mut procs = Vec::new();
    for s in starts {
        procs.push(s.await.unwrap());
    }
    let joins = procs
        .iter()
        .cloned()
        .map(|p| tokio::spawn(async move { p.join().await.unwrap() }));
    let values = futures::future::join_all(joins).await;
    for (i, v) in values.into_iter().enumerate() {
        assert_eq!(v.unwrap(), (i as u64) * (i as u64));
    }
    let mut pids: Vec<_> = procs.iter().map(|p| p.pid().unwrap()).collect();
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 50);
    assert!(procs.iter().all(|p| p.exitcode() == Some(0)));
}
