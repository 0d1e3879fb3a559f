//! excepthook: a panicking thread is reported as Python reports an uncaught
//! exception in a thread (`Exception in thread NAME:` on stderr, no
//! backtrace), the hook is replaceable, runs in the failing thread before it
//! ends, other threads keep running, and `join` returns the error.
//! Python reference: Lib/threading.py `excepthook`,
//! Lib/test/test_threading.py `ExceptHookTests`.
//!
//! The hook is process-wide, so each test holds the serial lock. The stderr
//! output is checked in a child process (this test binary, re-run with an
//! environment variable).

#[path = "common/thread_util.rs"]
mod thread_util;

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use thread_util::{Gate, serial};
use threadlet::ExceptHookArgs;
use threadlet::error::JoinError;
const CHILD: &str = "THREADLET_EXCEPTHOOK_CHILD";

/// In the child: panics in threads with the default hook, in a task that is
/// not a threadlet thread, and with a hook that panics itself.
fn child_body() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let t = threadlet::Builder::new()
            .name("worker-7")
            .spawn(async { panic!("boom {}", 42) })
            .unwrap();
        assert_eq!(t.join().await, Err(JoinError::Panicked("boom 42".into())));

        // Not a threadlet thread: the previous hook (Rust's) reports it.
        let plain = tokio::spawn(async { panic!("plain task boom") }).await;
        assert!(plain.unwrap_err().is_panic());

        threadlet::set_excepthook(|_: &ExceptHookArgs| panic!("hook broke"));
        let t = threadlet::Builder::new()
            .name("worker-8")
            .spawn(async { panic!("second") })
            .unwrap();
        assert_eq!(t.join().await, Err(JoinError::Panicked("second".into())));
    });
    eprintln!("child done");
}

#[test]
fn default_hook_prints_a_python_style_report() {
    if std::env::var_os(CHILD).is_some() {
        child_body();
        return;
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "default_hook_prints_a_python_style_report",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stderr}");
    assert!(stderr.contains("child done"), "{stderr}");
    // Python: "Exception in thread NAME:" then the error.
    assert!(
        stderr.contains("Exception in thread worker-7:\npanicked at tests/excepthook.rs:"),
        "{stderr}"
    );
    assert!(stderr.contains(":\nboom 42\n"), "{stderr}");
    // No raw Rust report or backtrace for the thread's panic, even with
    // RUST_BACKTRACE=1 ...
    assert_eq!(stderr.matches("boom 42").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("stack backtrace").count(), 1, "{stderr}");
    // ... which is kept for panics elsewhere (the previous hook).
    assert!(stderr.contains("plain task boom"), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("thread '") && l.contains("panicked at")),
        "{stderr}"
    );
    // A hook that panics is reported as Python does.
    assert!(
        stderr.contains("Exception in threading.excepthook:\nhook broke\n"),
        "{stderr}"
    );
    assert!(!stderr.contains("Exception in thread worker-8"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_hook_runs_in_the_failing_thread_before_it_ends() {
    let _serial = serial().await;
    type Seen = (String, String, Option<String>, bool, bool);
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let s = seen.clone();
    threadlet::set_excepthook(move |args: &ExceptHookArgs| {
        // Runs in the failing thread, which is still alive.
        let current = threadlet::current_thread();
        std::thread::sleep(Duration::from_millis(20));
        s.lock().unwrap().push((
            args.thread().name(),
            args.message().to_owned(),
            args.location().map(str::to_owned),
            current == *args.thread(),
            args.thread().is_alive(),
        ));
    });
    let t = threadlet::Builder::new()
        .name("failing")
        .spawn(async {
            tokio::task::yield_now().await;
            panic!("custom");
        })
        .unwrap();
    let r = t.thread_ref();
    let err = t.join().await.unwrap_err();
    // join returned only after the hook finished.
    let seen = seen.lock().unwrap().clone();
    threadlet::set_excepthook(threadlet::default_excepthook);
    assert_eq!(err, JoinError::Panicked("custom".into()));
    assert_eq!(seen.len(), 1);
    let (name, message, location, in_thread, alive) = &seen[0];
    assert_eq!(name, "failing");
    assert_eq!(message, "custom");
    assert!(
        location
            .as_deref()
            .unwrap()
            .starts_with("tests/excepthook.rs:")
    );
    assert!(in_thread, "the hook runs in the failing thread");
    assert!(alive, "the thread is alive while the hook runs");
    assert!(!r.is_alive());
    assert!(!threadlet::enumerate().contains(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_threads_keep_running() {
    let _serial = serial().await;
    threadlet::set_excepthook(|_: &ExceptHookArgs| {});
    let gate = Gate::new();
    let g = gate.clone();
    let survivor = threadlet::spawn(async move {
        g.wait().await;
        "still here"
    });
    let failures: Vec<_> = (0..20)
        .map(|i| threadlet::spawn(async move { panic!("failure {i}") }))
        .collect();
    for (i, f) in failures.into_iter().enumerate() {
        assert_eq!(
            f.join().await,
            Err(JoinError::Panicked(format!("failure {i}")))
        );
    }
    assert!(survivor.is_alive());
    gate.open();
    assert_eq!(survivor.join().await, Ok("still here"));
    threadlet::set_excepthook(threadlet::default_excepthook);
}

#[tokio::test]
async fn the_hook_can_be_replaced_again() {
    let _serial = serial().await;
    let first = Arc::new(AtomicBool::new(false));
    let second = Arc::new(AtomicBool::new(false));
    let f = first.clone();
    threadlet::set_excepthook(move |_: &ExceptHookArgs| f.store(true, Ordering::SeqCst));
    let s = second.clone();
    threadlet::set_excepthook(move |_: &ExceptHookArgs| s.store(true, Ordering::SeqCst));
    let _ = threadlet::spawn(async { panic!("x") }).join().await;
    threadlet::set_excepthook(threadlet::default_excepthook);
    assert!(!first.load(Ordering::SeqCst));
    assert!(second.load(Ordering::SeqCst));
}

#[tokio::test]
async fn args_debug_names_the_thread() {
    let _serial = serial().await;
    let text: Arc<Mutex<String>> = Arc::default();
    let t2 = text.clone();
    threadlet::set_excepthook(move |args: &ExceptHookArgs| {
        *t2.lock().unwrap() = format!("{args:?}");
    });
    let _ = threadlet::Builder::new()
        .name("dbg")
        .spawn(async { panic!("m") })
        .unwrap()
        .join()
        .await;
    threadlet::set_excepthook(threadlet::default_excepthook);
    let text = text.lock().unwrap().clone();
    assert!(text.contains("\"dbg\"") && text.contains("\"m\""), "{text}");
}
