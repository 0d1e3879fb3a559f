//! A `cargo test` binary that does not use `test_support!`: starting a
//! process is refused with an error naming it, instead of a child that
//! silently re-runs the whole test binary. Its own binary, because
//! `test_support!` is process-wide.
#![cfg(all(feature = "process", target_os = "linux"))]

use threadlet::error::ProcessStartError;
use threadlet::process::{self, Process};

fn double(x: u32) -> u32 {
    x * 2
}

#[test]
fn a_test_binary_without_test_support_is_refused() {
    process::register(double);
    process::init();
    let p = Process::new(double, 21).unwrap();
    let err = p.start().unwrap_err();
    assert_eq!(err, ProcessStartError::NoTestSupport);
    assert!(err.to_string().contains("test_support!"), "{err}");
    assert_eq!(p.pid(), None);
    // Nothing was claimed: the process is still startable.
    assert_eq!(p.start().unwrap_err(), ProcessStartError::NoTestSupport);
}
