//! `BoundedSemaphore`: over-release is an error that changes nothing (CPython
//! `Lib/test/lock_tests.py` `BoundedSemaphoreTests`, rewritten).

#[path = "common/sync_util.rs"]
mod sync_util;
use sync_util::State;

use threadlet::BoundedSemaphore;
use threadlet::error::SemaphoreReleaseError;
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

#[test]
fn over_release_is_an_error_with_pythons_message_and_changes_nothing() {
    let sem = BoundedSemaphore::new(3);
    let err = sem.release().unwrap_err();
    assert_eq!(err, SemaphoreReleaseError::TooManyReleases);
    assert_eq!(err.to_string(), "Semaphore released too many times");
    assert_eq!(sem.value(), 3);
    assert!(sem.try_acquire() && sem.try_acquire());
    // release(n) that would overshoot fails as a whole.
    assert_eq!(
        sem.release_n(3),
        Err(SemaphoreReleaseError::TooManyReleases)
    );
    assert_eq!(sem.value(), 1);
    assert_eq!(sem.release_n(2), Ok(()));
    assert_eq!(sem.value(), 3);
    assert_eq!(sem.release_n(0), Err(SemaphoreReleaseError::ZeroPermits));
    assert_eq!(sem.initial_value(), 3);
}

#[test]
fn zero_initial_value_never_accepts_a_release() {
    let sem = BoundedSemaphore::new(0);
    assert!(sem.release().is_err());
    assert!(!sem.try_acquire());
    assert_eq!(sem.value(), 0);
}

#[test]
fn release_to_a_waiter_counts_against_the_bound_correctly() {
    let sem = BoundedSemaphore::new(1);
    assert!(sem.try_acquire());
    let mut w = spawn(sem.acquire());
    assert_pending!(w.poll());
    // The holder releases: the permit goes to the waiter; the bound still holds.
    assert_eq!(sem.release(), Ok(()));
    assert!(w.is_woken());
    assert_ready!(w.poll());
    assert_eq!(sem.value(), 0);
    assert_eq!(sem.release(), Ok(()));
    assert!(sem.release().is_err());
    assert_eq!(sem.state(), (1, 0));
}

#[tokio::test]
async fn guards_release_within_the_bound() {
    let sem = BoundedSemaphore::new(2);
    {
        let _a = sem.permit().await;
        let _b = sem.try_permit().unwrap();
        assert!(sem.try_permit().is_none());
    }
    assert_eq!(sem.value(), 2);
    assert!(sem.release().is_err());
    assert_eq!(format!("{sem:?}"), "BoundedSemaphore { value: 2 }");
}
