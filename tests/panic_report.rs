//! No panic inside a threadlet thread may vanish (issue 16.8): every panic's
//! message and location reach stderr, whether the thread's wrapper reports it
//! (the excepthook), user code catches it, a `Drop` panics while unwinding
//! (the process aborts), or `resume_unwind` re-raises something else later.
//!
//! Each case runs in a child process (this test binary, re-run with an
//! environment variable naming the case) whose stderr is checked.

use std::panic::{catch_unwind, resume_unwind};
use std::process::{Command, Output};

const CHILD: &str = "THREADLET_PANIC_REPORT_CHILD";

/// Panics while dropped: during an unwind this aborts the process.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("drop panicked {}", 2);
    }
}

fn in_thread(case: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let t = match case {
            "nested" => threadlet::Builder::new().name("nester").spawn(async {
                let _guard = PanicOnDrop;
                panic!("outer panic {}", 1);
            }),
            "resumed" => threadlet::Builder::new().name("resumer").spawn(async {
                let _ = catch_unwind(|| panic!("caught first {}", 3));
                resume_unwind(Box::new("resumed second"));
            }),
            "caught" => threadlet::Builder::new().name("catcher").spawn(async {
                let caught = catch_unwind(|| panic!("caught quietly {}", 4));
                assert!(caught.is_err());
                tokio::task::yield_now().await;
            }),
            other => panic!("unknown case {other}"),
        }
        .unwrap();
        let _ = t.join().await;
    });
    eprintln!("child done");
}

fn run_child(case: &str) -> (Output, String) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD, case)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stderr)
}

/// The child entry point: does nothing unless re-run with [`CHILD`] set.
#[test]
fn child() {
    if let Some(case) = std::env::var_os(CHILD) {
        let case = case.to_str().unwrap();
        match case.strip_prefix("quiet-") {
            Some(flavor) => quiet(flavor),
            None => in_thread(case),
        }
    }
}

#[test]
fn a_drop_panicking_during_the_unwind_loses_neither_panic() {
    let (output, stderr) = run_child("nested");
    assert!(!output.status.success(), "the process aborts:\n{stderr}");
    for (message, line) in [("outer panic 1", 31), ("drop panicked 2", 19)] {
        let at = format!("panicked at tests/panic_report.rs:{line}:");
        let report = stderr
            .find(&at)
            .unwrap_or_else(|| panic!("no location {at}:\n{stderr}"));
        assert!(
            stderr[report..].contains(message),
            "{message} missing:\n{stderr}"
        );
    }
    assert!(stderr.contains("'nester'"), "{stderr}");
}

#[test]
fn resume_unwind_is_not_given_an_earlier_panics_location() {
    let (output, stderr) = run_child("resumed");
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("child done"), "{stderr}");
    // The re-raised payload has no location of its own ...
    assert!(
        stderr.contains("Exception in thread resumer:\nresumed second\n"),
        "{stderr}"
    );
    // ... and the caught panic is still reported, where it happened.
    assert!(
        stderr.contains("panicked at tests/panic_report.rs:34:")
            && stderr.contains("caught first 3"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("panicked at").count(), 1, "{stderr}");
}

#[test]
fn a_panic_caught_inside_a_thread_is_still_printed() {
    let (output, stderr) = run_child("caught");
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("child done"), "{stderr}");
    assert!(
        stderr.contains("thread 'catcher' panicked at tests/panic_report.rs:38:"),
        "{stderr}"
    );
    assert!(stderr.contains("caught quietly 4"), "{stderr}");
    assert!(!stderr.contains("Exception in thread"), "{stderr}");
}

// Issue 13 item 11: the reports go through the output libtest captures, so
// a passing test whose threads panic stays quiet under `cargo test`, a
// failing one shows them with its output, and `--nocapture` (or a normal
// program) prints them.

/// Threads that panic (one reported by the excepthook, one caught inside
/// its thread) in a test that passes, or fails when `flavor` ends in
/// `-fail`; on a current-thread runtime or on the workers of a multi-thread
/// one (threads that libtest's capture reaches by inheritance).
fn quiet(flavor: &str) {
    let rt = if flavor.starts_with("multi") {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    };
    rt.block_on(async {
        let reported = threadlet::Builder::new()
            .name("quiet")
            .spawn(async { panic!("quiet panic {}", 5) })
            .unwrap();
        assert!(reported.join().await.unwrap_err().is_panic());
        let caught = threadlet::Builder::new()
            .name("aside")
            .spawn(async {
                assert!(catch_unwind(|| panic!("caught aside {}", 6)).is_err());
                tokio::task::yield_now().await;
            })
            .unwrap();
        caught.join().await.unwrap();
    });
    drop(rt);
    if flavor.ends_with("-fail") {
        panic!("the test itself fails");
    }
}

/// Runs the child `case` as `cargo test` would, capturing its output unless
/// `nocapture`; returns (success, stdout, stderr).
fn run_test_child(case: &str, nocapture: bool) -> (bool, String, String) {
    let mut args = vec!["--exact", "child", "--test-threads=1"];
    if nocapture {
        args.push("--nocapture");
    }
    let output = Command::new(std::env::current_exe().unwrap())
        .args(args)
        .env(CHILD, case)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_passing_test_with_panicking_threads_stays_quiet_under_capture() {
    for flavor in ["current", "multi"] {
        let case = format!("quiet-{flavor}");
        let (ok, stdout, stderr) = run_test_child(&case, false);
        assert!(ok, "{case}:\n{stdout}\n{stderr}");
        let all = format!("{stdout}{stderr}");
        for noise in ["Exception in thread", "quiet panic 5", "caught aside 6"] {
            assert!(!all.contains(noise), "{case}: {noise:?} leaked:\n{all}");
        }

        // Not captured: the reports are there, as in a normal program.
        let (ok, _, stderr) = run_test_child(&case, true);
        assert!(ok, "{case}:\n{stderr}");
        assert!(
            stderr.contains("Exception in thread quiet:\npanicked at tests/panic_report.rs:")
                && stderr.contains("quiet panic 5"),
            "{case}:\n{stderr}"
        );
        assert!(
            stderr.contains("thread 'aside' panicked at tests/panic_report.rs:")
                && stderr.contains("caught aside 6"),
            "{case}:\n{stderr}"
        );
    }
}

#[test]
fn a_failing_test_shows_its_threads_reports_with_its_output() {
    let (ok, stdout, stderr) = run_test_child("quiet-current-fail", false);
    assert!(!ok, "the child test fails:\n{stdout}\n{stderr}");
    // libtest prints a failing test's captured output under its name.
    let section = stdout
        .find("---- child stdout ----")
        .unwrap_or_else(|| panic!("no captured output shown:\n{stdout}"));
    let shown = &stdout[section..];
    assert!(
        shown.contains("Exception in thread quiet:") && shown.contains("quiet panic 5"),
        "{stdout}"
    );
    assert!(shown.contains("caught aside 6"), "{stdout}");
}
