//! A binary that forgot `threadlet::process::init()`: starting a process is a
//! clear error, and a re-executed child whose `main` lacks `init()` never spawns
//! again (no fork bomb). Its own binary, because `init()` is process-wide.
#![cfg(all(feature = "process", target_os = "linux"))]

use threadlet::error::{ProcessJoinError, ProcessStartError};
use threadlet::process::{self, Process};

fn square(x: u64) -> u64 {
    x * x
}

/// What the child runs instead of a dispatching entry: a `main` without
/// `init()`. In the parent's own test run it has nothing to do.
#[test]
fn child_without_init() {
    if std::env::var_os("THREADLET_PROCESS_CHILD").is_none() {
        return;
    }
    // Such a child may not start processes: it would re-run `main` again.
    let err = Process::new(square, 2).unwrap().start().unwrap_err();
    std::process::exit(if err == ProcessStartError::NotInitialized {
        42
    } else {
        43
    });
}

#[test]
fn forgetting_init_is_a_clear_error_and_never_forks_again() {
    process::register(square);

    // The parent never called init(): refused, and nothing was spawned.
    let p = Process::new(square, 3).unwrap();
    let err = p.start().unwrap_err();
    assert_eq!(err, ProcessStartError::NotInitialized);
    assert!(err.to_string().contains("threadlet::process::init()"));
    assert_eq!(p.pid(), None);

    // The parent calls init(), but the child's "main" (the test above) does not.
    process::__private::set_child_args(vec!["child_without_init".into()]);
    process::init();
    let p = Process::new(square, 3).unwrap();
    p.start().unwrap();
    let err = p.blocking_join().unwrap_err();
    // The child got NotInitialized from its own start() and exited with 42.
    assert_eq!(err, ProcessJoinError::NoInit { exitcode: 42 });
    assert!(err.to_string().contains("threadlet::process::init()"));
    assert_eq!(p.exitcode(), Some(42));
}
