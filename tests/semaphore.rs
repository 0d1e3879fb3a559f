//! `Semaphore`: Python parity (CPython `Lib/test/lock_tests.py`
//! `BaseSemaphoreTests`, rewritten), permits and guards, FIFO order, cancel
//! safety at every state, the starvation bound, and 64 tasks at once.

#[path = "common/sync_util.rs"]
mod sync_util;
use sync_util::State;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use threadlet::Semaphore;
use threadlet::error::SemaphoreReleaseError;
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

#[test]
fn unbounded_release_without_acquire_raises_the_value() {
    let sem = Semaphore::new(0);
    sem.release().unwrap();
    sem.release_n(3).unwrap();
    assert_eq!(sem.value(), 4);
    assert!((0..4).all(|_| sem.try_acquire()));
    assert!(!sem.try_acquire());
}

#[test]
fn release_n_zero_is_an_error_with_pythons_message() {
    let sem = Semaphore::new(2);
    let err = sem.release_n(0).unwrap_err();
    assert_eq!(err, SemaphoreReleaseError::ZeroPermits);
    assert_eq!(err.to_string(), "n must be one or more");
    assert_eq!(sem.value(), 2);
}

#[tokio::test]
async fn permits_and_guards() {
    let sem = Semaphore::new(2);
    let a = sem.permit().await;
    let b = sem.try_permit().unwrap();
    assert!(sem.try_permit().is_none());
    assert_eq!(sem.value(), 0);
    drop(a);
    assert_eq!(sem.value(), 1);
    b.forget();
    assert_eq!(sem.value(), 1);
    // Blocking forms run off the runtime thread (on it they panic).
    let s = sem.clone();
    tokio::task::spawn_blocking(move || {
        let c = s.blocking_permit();
        assert_eq!(s.value(), 0);
        drop(c);
    })
    .await
    .unwrap();
    assert_eq!(sem.state(), (1, 0));
}

#[test]
fn release_n_wakes_that_many_waiters_in_fifo_order() {
    let sem = Semaphore::new(0);
    let mut w: Vec<_> = (0..4).map(|_| spawn(sem.acquire())).collect();
    for f in &mut w {
        assert_pending!(f.poll());
    }
    sem.release_n(2).unwrap();
    let woken: Vec<bool> = w.iter().map(|f| f.is_woken()).collect();
    assert_eq!(woken, [true, true, false, false]);
    assert_ready!(w[0].poll());
    assert_ready!(w[1].poll());
    assert_pending!(w[2].poll());
    sem.release().unwrap();
    assert!(w[2].is_woken() && !w[3].is_woken());
    assert_ready!(w[2].poll());
    drop(w);
    assert_eq!(sem.state(), (0, 0));
}

#[test]
fn cancel_at_every_state_leaks_nothing() {
    let sem = Semaphore::new(0);
    // Never polled.
    drop(sem.acquire());
    // Queued, asleep.
    let mut a = spawn(sem.acquire());
    let mut b = spawn(sem.acquire());
    let mut c = spawn(sem.acquire());
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    assert_pending!(c.poll());
    drop(a);
    assert_eq!(sem.state(), (0, 2));
    // Woken, not yet run: the wake-up passes on.
    sem.release().unwrap();
    assert!(b.is_woken());
    drop(b);
    assert!(c.is_woken());
    assert_ready!(c.poll());
    assert_eq!(sem.state(), (0, 0));
    // Handed a permit directly after a barger passed it over.
    let mut d = spawn(sem.acquire());
    let mut e = spawn(sem.acquire());
    assert_pending!(d.poll());
    assert_pending!(e.poll());
    sem.release().unwrap();
    assert!(sem.try_acquire()); // barger
    assert_pending!(d.poll());
    std::thread::sleep(threadlet::STARVATION_BOUND);
    sem.release().unwrap(); // granted to d
    assert_eq!(sem.value(), 0);
    drop(d);
    assert!(e.is_woken());
    assert_ready!(e.poll());
    // Every permit accounted for: one held by the barger, one by e.
    sem.release_n(2).unwrap();
    assert_eq!(sem.state(), (2, 0));
}

/// The documented bound: a barger takes every permit that reaches the counter
/// before a woken waiter runs, yet waiters complete in FIFO order, each
/// overtaken during at most one wake-up.
#[test]
fn starvation_bound_under_a_barging_storm() {
    let sem = Semaphore::new(1);
    assert!(sem.try_acquire()); // the barger holds the one permit
    let mut w: Vec<_> = (0..6).map(|_| spawn(sem.acquire())).collect();
    for f in &mut w {
        assert_pending!(f.poll());
    }
    let mut done = Vec::new();
    let mut since_progress = 0;
    let mut barges = 0;
    for _ in 0..100 {
        if done.len() == w.len() {
            break;
        }
        std::thread::sleep(threadlet::STARVATION_BOUND); // a long critical section
        sem.release().unwrap(); // the holder (barger or waiter) gives its permit back
        if sem.try_acquire() {
            barges += 1;
        }
        since_progress += 1;
        for (i, f) in w.iter_mut().enumerate() {
            if !done.contains(&i) && f.is_woken() && f.poll().is_ready() {
                done.push(i);
                since_progress = 0;
            }
        }
        assert!(
            since_progress <= 2,
            "head overtaken for {since_progress} releases"
        );
    }
    assert_eq!(done, [0, 1, 2, 3, 4, 5]);
    assert!(barges >= 6, "the storm never barged: {barges}");
    sem.release().unwrap();
    drop(w);
    assert_eq!(sem.state(), (1, 0));
}

#[tokio::test(start_paused = true)]
async fn acquire_timeout_is_exact_under_paused_time() {
    let sem = Semaphore::new(0);
    let start = tokio::time::Instant::now();
    assert!(!sem.acquire_timeout(Duration::from_millis(40)).await);
    assert_eq!(start.elapsed(), Duration::from_millis(40));
    let s = sem.clone();
    let t = tokio::spawn(async move { s.acquire_timeout(Duration::from_secs(10)).await });
    tokio::time::sleep(Duration::from_secs(5)).await;
    sem.release().unwrap();
    assert!(t.await.unwrap());
    assert_eq!(sem.state(), (0, 0));
}

#[test]
fn at_most_n_inside_with_64_tasks() {
    let sem = Semaphore::new(5);
    let s = sem.clone();
    let max = sync_util::run_mt(60, async move {
        let inside = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (s, inside, max) = (s.clone(), inside.clone(), max.clone());
                tokio::spawn(async move {
                    for _ in 0..200 {
                        let _p = s.permit().await;
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        max.fetch_max(now, Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        max.load(Ordering::SeqCst)
    });
    assert!(max <= 5, "{max} inside at once");
    assert!(max >= 2, "never concurrent: {max}");
    assert_eq!(sem.state(), (5, 0));
}

#[test]
fn blocking_forms_from_threads() {
    let sem = Semaphore::new(0);
    let s = sem.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        tx.send(s.blocking_acquire_timeout(Duration::from_millis(10)))
            .unwrap();
        s.blocking_acquire();
    });
    // No permit exists until the timed attempt has reported.
    assert!(!rx.recv().unwrap());
    sem.release().unwrap();
    t.join().unwrap();
    assert_eq!(sem.state(), (0, 0));
}

#[test]
fn debug_shows_the_value() {
    assert_eq!(format!("{:?}", Semaphore::new(3)), "Semaphore { value: 3 }");
}

// ===== issue 13 items 2, 4, 5: release's Result, permit_timeout, owned permits =====

/// `release()` has `release_n`'s `Result` shape: past the maximum it is a
/// typed error that changes nothing, not a panic.
#[test]
fn release_past_the_maximum_is_an_error_not_a_panic() {
    let sem = Semaphore::new(usize::MAX >> 2);
    assert_eq!(sem.release(), Err(SemaphoreReleaseError::Overflow));
    assert_eq!(sem.value(), usize::MAX >> 2);
    assert!(sem.try_acquire());
    assert_eq!(sem.release(), Ok(()));
}

/// `permit_timeout` waits, then gives up (paused clock) or gets the permit.
#[tokio::test(start_paused = true)]
async fn permit_timeout_waits_then_gives_up_or_gets_a_permit() {
    let sem = Semaphore::new(1);
    let held = sem.permit_timeout(Duration::ZERO).await.unwrap();
    let start = tokio::time::Instant::now();
    assert!(
        sem.permit_timeout(Duration::from_millis(30))
            .await
            .is_none()
    );
    assert_eq!(start.elapsed(), Duration::from_millis(30));
    assert_eq!(sem.state(), (0, 0));
    let s = sem.clone();
    let waiter = tokio::spawn(async move {
        s.permit_timeout(Duration::from_secs(1))
            .await
            .map(|p| p.forget())
            .is_some()
    });
    tokio::time::sleep(Duration::from_millis(10)).await;
    drop(held);
    assert!(waiter.await.unwrap());
    assert_eq!(sem.state(), (0, 0), "the waiter kept (forgot) its permit");
}

#[test]
fn blocking_permit_timeout_on_threads() {
    let sem = Semaphore::new(1);
    let held = sem
        .blocking_permit_timeout(Duration::from_millis(5))
        .unwrap();
    let s = sem.clone();
    let got = std::thread::spawn(move || {
        s.blocking_permit_timeout(Duration::from_millis(5))
            .is_some()
    })
    .join()
    .unwrap();
    assert!(!got);
    drop(held);
    assert_eq!(sem.state(), (1, 0));
}

/// Owned permits taken before spawning limit how many jobs run at once.
#[test]
fn owned_permits_limit_spawned_jobs() {
    let sem = Semaphore::new(3);
    let s = sem.clone();
    let peak = sync_util::run_mt(60, async move {
        let inside = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut jobs = Vec::new();
        for _ in 0..40 {
            let permit = s.permit_owned().await;
            let (inside, peak) = (inside.clone(), peak.clone());
            jobs.push(tokio::spawn(async move {
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
                drop(permit);
            }));
        }
        for job in jobs {
            job.await.unwrap();
        }
        peak.load(Ordering::SeqCst)
    });
    assert!((1..=3).contains(&peak), "{peak}");
    assert_eq!(sem.state(), (3, 0));
}

/// The owned guard's `release`, `forget`, `into_owned`, and a dropped
/// pending `permit_owned` (cancel safety).
#[test]
fn owned_permit_forms() {
    let sem = threadlet::BoundedSemaphore::new(2);
    let a = sem.try_permit_owned().unwrap();
    let b = sem.try_permit().unwrap().into_owned();
    assert!(sem.try_permit_owned().is_none());
    let mut waiter = spawn(sem.permit_owned());
    assert_pending!(waiter.poll());
    drop(waiter);
    assert_eq!(sem.statistics().waiters, 0);
    assert_eq!(a.release(), Ok(()));
    b.forget();
    assert_eq!(sem.value(), 1);
    let c = sem.try_permit_owned().unwrap();
    sem.release().unwrap();
    sem.release().unwrap(); // by hand: now at the initial value
    assert_eq!(c.release(), Err(SemaphoreReleaseError::TooManyReleases));
    assert_eq!(sem.value(), 2);
}
