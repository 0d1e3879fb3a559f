//! Process faults (issue 7, item 7): every way a child can end leaves no zombie
//! once joined, a parent killed by SIGKILL takes its daemon children (plain
//! daemons and pool workers) with it, and 200 sequential spawns leak no file
//! descriptor.
//!
//! Already covered elsewhere and not repeated here: a panicking child's exit
//! code 1 and message, `terminate` giving -15, `kill` giving -9
//! (`tests/process.rs`); one daemon grandchild dying with its SIGKILLed parent
//! (`tests/process.rs`); pool workers gone after `terminate` or a drop
//! (`tests/process_pool.rs`, which counts a zombie as gone).
//!
//! The tests here run one at a time (a lock taken before each builds its
//! runtime): the descriptor count of this process and the "is this pid still
//! our zombie" checks must not see another test's children or runtime.
#![cfg(all(feature = "process", target_os = "linux"))]

use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;
use threadlet::error::ProcessJoinError;
use threadlet::process::{self, Builder, Pool};

#[path = "common/process_util.rs"]
mod process_util;

use process_util::{pid_is_gone, temp_path, wait_gone};

// ===== targets (run in the children) =====

fn noop(_: ()) {}

fn boom(_: ()) {
    panic!("boom in the child");
}

fn exit_with(code: i32) {
    std::process::exit(code);
}

fn nap(ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
}

/// Creates the file `marker` (the target is running), then naps.
fn nap_marked((marker, ms): (String, u64)) {
    std::fs::write(&marker, b"").unwrap();
    std::thread::sleep(Duration::from_millis(ms));
}

/// Starts three daemon children, a pool of two (daemon) workers and one
/// non-daemon child, writes `daemon pids;non-daemon pid` to `path` (atomically)
/// once all run, then hangs until killed.
fn parent_of_many(path: String) {
    let mut daemons: Vec<u32> = (0..3)
        .map(|_| {
            let d = Builder::new().daemon(true).spawn(nap, 120_000).unwrap();
            d.pid().unwrap()
        })
        .collect();
    let pool = Pool::new(2).unwrap();
    let start = Instant::now();
    while pool.worker_pids().len() < 2 {
        assert!(start.elapsed() < Duration::from_secs(20), "pool workers up");
        std::thread::sleep(Duration::from_millis(10));
    }
    daemons.extend(pool.worker_pids());
    // The non-daemon child must be running its target (its test harness has
    // written its header to the stdout this process forwards) before this
    // process is killed: a child still starting would write that header into
    // a closed pipe and die, which is not what this test is about.
    let marker = format!("{path}.plain-started");
    let plain = process::spawn_process(nap_marked, (marker.clone(), 30_000)).unwrap();
    let start = Instant::now();
    while std::fs::metadata(&marker).is_err() {
        assert!(start.elapsed() < Duration::from_secs(20), "plain child up");
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = std::fs::remove_file(&marker);
    let line = format!(
        "{};{}",
        daemons
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(","),
        plain.pid().unwrap()
    );
    let tmp = format!("{path}.tmp");
    std::fs::write(&tmp, line).unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    std::thread::sleep(Duration::from_secs(120));
    drop(pool);
}

fn targets() {
    process::register(noop);
    process::register(boom);
    process::register(exit_with);
    process::register(nap);
    process::register(nap_marked);
    process::register(parent_of_many);
}

process::test_support!(targets);

// ===== helpers =====

/// One test at a time, taken before the test builds its runtime (whose
/// descriptors would otherwise show up in another test's count).
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Why `pid`, a child of ours that was joined, is not fully reaped; `None` if it is.
fn not_reaped(pid: u32) -> Option<String> {
    // A zombie keeps its /proc entry, in state Z, with us as its parent. (An
    // entry that is someone else's is the pid reused, which is fine.)
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        let mut fields = stat.rsplit_once(") ")?.1.split(' ');
        let state = fields.next().unwrap_or("");
        let ppid: u32 = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if ppid == std::process::id() {
            return Some(format!("pid {pid} is still our child, in state {state}"));
        }
    }
    // And waitpid was done: the kernel has no child `pid` of ours to report
    // (WNOWAIT: only look, never reap it ourselves).
    let pid_t = i32::try_from(pid).unwrap();
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(Pid::from_raw(pid_t)), flags) {
        Err(Errno::ECHILD) => None,
        other => Some(format!("waitid on pid {pid} gave {other:?}, not ECHILD")),
    }
}

#[track_caller]
fn assert_reaped(pid: u32) {
    if let Some(why) = not_reaped(pid) {
        panic!("{why}");
    }
}

/// Open descriptors of this process (the listing's own descriptor included,
/// the same in every count).
fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The descriptor count once it has stayed the same for 100 ms.
async fn quiet_fd_count() -> usize {
    let mut last = fd_count();
    let mut same = 0;
    while same < 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let n = fd_count();
        same = if n == last { same + 1 } else { 0 };
        last = n;
    }
    last
}

/// Polls the descriptor count until it is at most `baseline` (the harness
/// thread copying a child's stdout closes its pipe a moment after the child
/// exits); returns the last count.
async fn settled_fd_count(baseline: usize) -> usize {
    let start = Instant::now();
    loop {
        let n = fd_count();
        if n <= baseline || start.elapsed() > Duration::from_secs(10) {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

// ===== no zombie after join =====

#[test]
fn the_zombie_check_sees_an_unreaped_child() {
    let _serial = serial();
    // A child nobody waited for yet: a zombie of ours, which the check reports.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    let start = Instant::now();
    while !pid_is_gone(pid) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "`true` never exited"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let why = not_reaped(pid).expect("an unreaped child is reported");
    assert!(why.contains("state Z"), "{why}");
    assert!(child.wait().unwrap().success());
    assert_eq!(not_reaped(pid), None);
}

#[test]
fn no_zombie_after_join_however_the_child_ends() {
    let _serial = serial();
    threadlet_process_setup();
    block_on(async {
        // Returns.
        let p = process::spawn_process(noop, ()).unwrap();
        p.join().await.unwrap();
        assert_reaped(p.pid().unwrap());

        // Panics: exit code 1.
        let p = process::spawn_process(boom, ()).unwrap();
        assert!(p.join().await.unwrap_err().is_panic());
        assert_eq!(p.exitcode(), Some(1));
        assert_reaped(p.pid().unwrap());

        // Exits with a code of its own, joined with a timeout.
        let p = process::spawn_process(exit_with, 7).unwrap();
        let err = p.join_timeout(Duration::from_secs(20)).await.unwrap_err();
        assert_eq!(err.exitcode(), Some(7));
        assert_reaped(p.pid().unwrap());

        // SIGTERM: -15.
        let p = process::spawn_process(nap, 60_000).unwrap();
        p.terminate().unwrap();
        assert_eq!(
            p.join().await.unwrap_err(),
            ProcessJoinError::Killed {
                name: p.name(),
                signal: 15
            }
        );
        assert_reaped(p.pid().unwrap());

        // SIGKILL: -9, joined from a plain OS thread.
        let p = process::spawn_process(nap, 60_000).unwrap();
        p.kill().unwrap();
        let q = p.clone();
        let err = tokio::task::spawn_blocking(move || q.blocking_join())
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(err.exitcode(), Some(-9));
        assert_reaped(p.pid().unwrap());

        // A daemon child, signalled by nobody, that simply returns.
        let p = Builder::new().daemon(true).spawn(noop, ()).unwrap();
        p.join().await.unwrap();
        assert_reaped(p.pid().unwrap());
    });
}

#[test]
fn a_child_whose_handle_is_dropped_unjoined_is_still_reaped() {
    let _serial = serial();
    threadlet_process_setup();
    block_on(async {
        let p = process::spawn_process(exit_with, 0).unwrap();
        let pid = p.pid().unwrap();
        drop(p);
        let start = Instant::now();
        while let Some(why) = not_reaped(pid) {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "an unjoined child was never reaped: {why}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
}

#[test]
fn pool_workers_are_reaped_by_join_after_close_or_terminate() {
    let _serial = serial();
    threadlet_process_setup();
    block_on(async {
        for terminate in [false, true] {
            let pool = Pool::new(2).unwrap();
            // Every worker has run a task (so both are up and known).
            pool.map(noop, [(), (), (), ()]).await.unwrap();
            let start = Instant::now();
            while pool.worker_pids().len() < 2 {
                assert!(start.elapsed() < Duration::from_secs(20), "workers up");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let pids = pool.worker_pids();
            if terminate {
                pool.terminate();
            } else {
                pool.close();
            }
            pool.join().await.unwrap();
            for pid in pids {
                assert_reaped(pid);
            }
        }
    });
}

// ===== the parent killed with daemon children alive =====

#[test]
fn a_sigkilled_parent_leaves_no_daemon_child_alive() {
    let _serial = serial();
    threadlet_process_setup();
    block_on(async {
        let path = temp_path("many-daemons");
        let parent = process::spawn_process(parent_of_many, path.clone()).unwrap();
        let (daemons, plain) = process_util::eventually("the children's pids", || {
            let text = std::fs::read_to_string(&path).ok()?;
            let (daemons, plain) = text.split_once(';')?;
            let daemons: Vec<u32> = daemons.split(',').map(|p| p.parse().unwrap()).collect();
            Some((daemons, plain.parse::<u32>().unwrap()))
        })
        .await;
        assert_eq!(daemons.len(), 5, "3 daemons and 2 pool workers");
        for &pid in daemons.iter().chain([&plain]) {
            assert!(!pid_is_gone(pid), "child {pid} should run before the kill");
        }

        parent.kill().unwrap();
        assert_eq!(parent.join().await.unwrap_err().exitcode(), Some(-9));
        assert_reaped(parent.pid().unwrap());
        // The parent ran no exit code: the parent-death signal alone kills them.
        for &pid in &daemons {
            assert!(
                wait_gone(pid, Duration::from_secs(20)).await,
                "daemon {pid} survived its SIGKILLed parent"
            );
        }
        // As in Python, a non-daemon child outlives a parent killed by a signal.
        assert!(!pid_is_gone(plain), "the non-daemon child should live on");
        kill(
            Pid::from_raw(i32::try_from(plain).unwrap()),
            Signal::SIGKILL,
        )
        .unwrap();
        assert!(wait_gone(plain, Duration::from_secs(20)).await);
        let _ = std::fs::remove_file(path);
    });
}

// ===== no descriptor leak =====

#[test]
fn two_hundred_sequential_spawns_leak_no_descriptor() {
    let _serial = serial();
    threadlet_process_setup();
    block_on(async {
        // The first spawn starts the driver thread and its runtime (epoll,
        // the SIGCHLD pipe): count after it.
        process::spawn_process(noop, ())
            .unwrap()
            .join()
            .await
            .unwrap();
        let before = quiet_fd_count().await;
        let start = Instant::now();
        for i in 0..200u32 {
            // Every way to end, none printing anything: return, exit code,
            // SIGTERM, SIGKILL; each joined child is reaped at once.
            let pid = match i % 4 {
                0 => {
                    let p = process::spawn_process(noop, ()).unwrap();
                    p.join().await.unwrap();
                    p.pid()
                }
                1 => {
                    let p = process::spawn_process(exit_with, 3).unwrap();
                    assert_eq!(p.join().await.unwrap_err().exitcode(), Some(3));
                    p.pid()
                }
                2 => {
                    let p = process::spawn_process(nap, 60_000).unwrap();
                    p.terminate().unwrap();
                    assert_eq!(p.join().await.unwrap_err().exitcode(), Some(-15));
                    p.pid()
                }
                _ => {
                    let p = process::spawn_process(nap, 60_000).unwrap();
                    p.kill().unwrap();
                    assert_eq!(p.join().await.unwrap_err().exitcode(), Some(-9));
                    p.pid()
                }
            };
            assert_reaped(pid.unwrap());
        }
        let spawning = start.elapsed();
        let after = settled_fd_count(before).await;
        eprintln!("200 spawns in {spawning:.2?}; open descriptors: {before} before, {after} after");
        assert!(
            after <= before,
            "descriptors leaked: {before} before 200 spawns, {after} after"
        );
    });
}

#[test]
fn twenty_pools_leak_no_descriptor() {
    let _serial = serial();
    threadlet_process_setup();
    block_on(async {
        let warm = Pool::new(1).unwrap();
        warm.map(noop, [()]).await.unwrap();
        warm.close();
        warm.join().await.unwrap();
        let before = quiet_fd_count().await;
        for i in 0..20 {
            let pool = Pool::new(2).unwrap();
            pool.map(noop, [(), (), (), ()]).await.unwrap();
            if i % 2 == 0 {
                pool.close();
            } else {
                pool.terminate();
            }
            pool.join().await.unwrap();
        }
        let after = settled_fd_count(before).await;
        eprintln!("20 pools of 2: open descriptors: {before} before, {after} after");
        assert!(
            after <= before,
            "descriptors leaked: {before} before 20 pools, {after} after"
        );
    });
}
