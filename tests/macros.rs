//! `#[threadlet::main]` and `#[threadlet::test]`, and `run` called where it
//! must not be. The scoped waiting both attributes expand to is tested in
//! `tests/scope.rs` (`RuntimeBuilder::block_on`); `start_paused` (feature
//! `test-util`) in `threadlet-macros/tests/options.rs`; the attribute's
//! compile errors in the macro crate's unit tests and `compile_fail` docs.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

// ----- #[threadlet::main] (on a function other than `main`, so that a test
// can call it: it expands to `RuntimeBuilder::run`, which is what a real
// `main` gets) -----

static MAIN_WORKER_DONE: AtomicBool = AtomicBool::new(false);

#[threadlet::main(worker_threads = 2)]
async fn program() -> (String, bool, usize) {
    // Not joined: the attribute waits for it before returning.
    threadlet::spawn(async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        MAIN_WORKER_DONE.store(true, Ordering::SeqCst);
    });
    let me = threadlet::current_thread();
    (
        me.name(),
        me == threadlet::main_thread(),
        tokio::runtime::Handle::current().metrics().num_workers(),
    )
}

/// `MainThread` is process-wide, as in Python: the tests that run a
/// `main` take turns.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn main_runs_as_main_thread_and_waits_for_non_daemon_threads() {
    let _serial = serial();
    let (name, is_main, workers) = program();
    assert_eq!(name, "MainThread");
    assert!(is_main);
    assert_eq!(workers, 2);
    assert!(MAIN_WORKER_DONE.load(Ordering::SeqCst));
}

#[threadlet::main(flavor = "current_thread")]
async fn parse_ok() -> Result<u64, std::num::ParseIntError> {
    let n: u64 = "21".parse()?;
    Ok(threadlet::spawn(async move { n * 2 }).join().await.unwrap())
}

#[threadlet::main(flavor = "current_thread")]
async fn parse_err() -> Result<u64, std::num::ParseIntError> {
    let n: u64 = "x".parse()?;
    Ok(n)
}

#[test]
fn main_returning_result_propagates_errors_with_question_mark() {
    let _serial = serial();
    assert_eq!(parse_ok(), Ok(42));
    assert!(parse_err().is_err());
}

static PANICKING_MAIN_WAITED: AtomicBool = AtomicBool::new(false);

#[threadlet::main]
async fn panicking_program() {
    threadlet::spawn(async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        PANICKING_MAIN_WAITED.store(true, Ordering::SeqCst);
    });
    panic!("main failed");
}

#[test]
fn a_panicking_main_waits_then_panics() {
    let _serial = serial();
    let err = std::panic::catch_unwind(panicking_program).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"main failed"));
    assert!(PANICKING_MAIN_WAITED.load(Ordering::SeqCst));
}

// ----- #[threadlet::test] -----

#[threadlet::test]
async fn test_defaults_to_a_current_thread_runtime() {
    assert_eq!(
        tokio::runtime::Handle::current().runtime_flavor(),
        tokio::runtime::RuntimeFlavor::CurrentThread
    );
    // The body is not a threadlet thread, as in `#[tokio::test]`.
    assert!(threadlet::current_thread().name().starts_with("Dummy-"));
    // Its future need not be `Send`.
    let local = Rc::new(1);
    tokio::task::yield_now().await;
    assert_eq!(*local, 1);
}

#[threadlet::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_takes_tokio_tests_flavor_options() {
    let handle = tokio::runtime::Handle::current();
    assert_eq!(
        handle.runtime_flavor(),
        tokio::runtime::RuntimeFlavor::MultiThread
    );
    assert_eq!(handle.metrics().num_workers(), 2);
}

#[threadlet::test]
async fn test_returning_result() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "5".parse()?;
    assert_eq!(n, 5);
    Ok(())
}

#[threadlet::test]
#[should_panic(expected = "the body panicked")]
async fn test_panics_reach_the_harness() {
    panic!("the body panicked");
}

#[threadlet::test(flavor = "multi_thread", worker_threads = 2)]
async fn threads_started_by_foreign_tasks_on_the_test_runtime_belong_to_the_test() {
    // A tokio task (not a threadlet thread) on the test's runtime starts a
    // thread: it is the test's, so `wait_non_daemon` waits for it.
    let counter = Arc::new(AtomicUsize::new(0));
    let c = counter.clone();
    tokio::spawn(async move {
        threadlet::spawn(async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            c.fetch_add(1, Ordering::SeqCst);
        });
    })
    .await
    .unwrap();
    threadlet::wait_non_daemon().await;
    assert_eq!(counter.load(Ordering::SeqCst), 1);
}

// ----- run where it must not be called -----

#[tokio::test]
async fn run_inside_a_runtime_panics_at_the_callers_line() {
    let line = line!() + 1;
    let err = std::panic::catch_unwind(|| threadlet::run(async { 1 })).unwrap_err();
    let msg = err.downcast_ref::<String>().expect("a formatted message");
    assert!(msg.contains(&format!("{}:{line}", file!())), "{msg}");
    assert!(msg.contains("threadlet::scope"), "says what to use: {msg}");
}

#[tokio::test]
async fn builder_run_and_block_on_inside_a_runtime_panic_at_the_callers_line() {
    let line = line!() + 2;
    let err = std::panic::catch_unwind(|| {
        threadlet::RuntimeBuilder::new().run(async {});
    })
    .unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains(&format!("{}:{line}", file!())), "{msg}");

    let line = line!() + 2;
    let err = std::panic::catch_unwind(|| {
        threadlet::RuntimeBuilder::new_current_thread().block_on(async {});
    })
    .unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains(&format!("{}:{line}", file!())), "{msg}");
}

#[test]
fn run_from_spawn_blocking_is_allowed() {
    let _serial = serial();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    // Not a thread that drives the runtime: a new runtime may be started
    // there, as tokio allows.
    let v = rt.block_on(async {
        tokio::task::spawn_blocking(|| threadlet::RuntimeBuilder::new().run(async { 3 }))
            .await
            .unwrap()
    });
    assert_eq!(v, 3);
}
