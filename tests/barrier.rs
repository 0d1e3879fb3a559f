//! `Barrier`: Python parity (CPython `Lib/test/lock_tests.py` `BarrierTests`,
//! rewritten): indices, the action, abort/reset/broken, timeouts, and the
//! rule that a cancelled waiter or a panicking action breaks the barrier.

#[path = "common/sync_util.rs"]
mod sync_util;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use threadlet::Barrier;
use threadlet::error::{BarrierPartiesError, BrokenBarrierError};
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

#[test]
fn zero_parties_is_an_error_with_pythons_message() {
    let err = Barrier::new(0).unwrap_err();
    assert_eq!(err, BarrierPartiesError);
    assert_eq!(err.to_string(), "parties must be >= 1");
    assert!(Barrier::builder(0).timeout(Duration::ZERO).build().is_err());
}

#[test]
fn indices_are_arrival_order_and_the_barrier_is_cyclic() {
    let b = Barrier::new(3).unwrap();
    for _round in 0..3 {
        let mut w0 = spawn(b.wait());
        assert_pending!(w0.poll());
        assert_eq!(b.n_waiting(), 1);
        let mut w1 = spawn(b.wait());
        assert_pending!(w1.poll());
        assert_eq!(b.n_waiting(), 2);
        let mut w2 = spawn(b.wait());
        assert_eq!(assert_ready!(w2.poll()), Ok(2)); // the last does not wait
        assert!(w0.is_woken() && w1.is_woken());
        assert_eq!(assert_ready!(w0.poll()), Ok(0));
        assert_eq!(assert_ready!(w1.poll()), Ok(1));
        assert_eq!(b.n_waiting(), 0);
    }
    assert!(!b.broken());
}

#[test]
fn many_tasks_many_generations_action_once_each() {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let b = Barrier::builder(16)
        .action(move || {
            r.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .unwrap();
    let bb = b.clone();
    let runs2 = runs.clone();
    sync_util::run_mt(60, async move {
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (b, runs) = (bb.clone(), runs2.clone());
                tokio::spawn(async move {
                    let mut indices = Vec::new();
                    for round in 0..50 {
                        indices.push(b.wait().await.unwrap());
                        // Everybody of this generation sees its action done.
                        assert!(runs.load(Ordering::SeqCst) > round);
                    }
                    indices
                })
            })
            .collect();
        let mut per_round = vec![Vec::new(); 50];
        for t in tasks {
            for (round, i) in t.await.unwrap().into_iter().enumerate() {
                per_round[round].push(i);
            }
        }
        for mut indices in per_round {
            indices.sort();
            assert_eq!(indices, (0..16).collect::<Vec<_>>());
        }
    });
    assert_eq!(runs.load(Ordering::SeqCst), 50);
    assert!(!b.broken());
}

#[test]
fn abort_breaks_current_and_later_waiters_until_reset() {
    let b = Barrier::new(3).unwrap();
    let mut w = spawn(b.wait());
    assert_pending!(w.poll());
    b.abort();
    assert!(b.broken());
    assert_eq!(b.n_waiting(), 0);
    assert!(w.is_woken());
    assert_eq!(assert_ready!(w.poll()), Err(BrokenBarrierError));
    let mut later = spawn(b.wait());
    assert_eq!(assert_ready!(later.poll()), Err(BrokenBarrierError));
    b.reset();
    assert!(!b.broken());
    let mut a = spawn(b.wait());
    let mut c = spawn(b.wait());
    assert_pending!(a.poll());
    assert_pending!(c.poll());
    assert_eq!(b.blocking_wait(), Ok(2));
    assert_eq!(assert_ready!(a.poll()), Ok(0));
    assert_eq!(assert_ready!(c.poll()), Ok(1));
}

#[test]
fn reset_with_waiters_breaks_them_and_leaves_the_barrier_usable() {
    let b = Barrier::new(2).unwrap();
    let mut w = spawn(b.wait());
    assert_pending!(w.poll());
    b.reset();
    assert_eq!(assert_ready!(w.poll()), Err(BrokenBarrierError));
    assert!(!b.broken());
    let mut x = spawn(b.wait());
    assert_pending!(x.poll());
    let mut y = spawn(b.wait());
    assert_eq!(assert_ready!(y.poll()), Ok(1));
    assert_eq!(assert_ready!(x.poll()), Ok(0));
}

#[test]
fn a_cancelled_waiter_breaks_the_barrier_for_the_others() {
    let b = Barrier::new(3).unwrap();
    let mut a = spawn(b.wait());
    let mut c = spawn(b.wait());
    assert_pending!(a.poll());
    assert_pending!(c.poll());
    drop(a);
    assert!(b.broken());
    assert!(c.is_woken());
    assert_eq!(assert_ready!(c.poll()), Err(BrokenBarrierError));
    // A waiter dropped after its generation passed breaks nothing.
    b.reset();
    let mut p = spawn(b.wait());
    let mut q = spawn(b.wait());
    assert_pending!(p.poll());
    assert_pending!(q.poll());
    let mut r = spawn(b.wait());
    assert_eq!(assert_ready!(r.poll()), Ok(2));
    drop(p); // passed, never collected its result
    assert!(!b.broken());
    assert_eq!(assert_ready!(q.poll()), Ok(1));
}

#[tokio::test(start_paused = true)]
async fn a_timeout_breaks_the_barrier() {
    let b = Barrier::builder(3)
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let b2 = b.clone();
    let patient = tokio::spawn(async move { b2.wait_timeout(Duration::from_secs(60)).await });
    tokio::task::yield_now().await;
    let start = tokio::time::Instant::now();
    assert_eq!(b.wait().await, Err(BrokenBarrierError));
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    assert!(b.broken());
    // The patient waiter is not left stuck: it is broken out at once.
    assert_eq!(patient.await.unwrap(), Err(BrokenBarrierError));
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    assert_eq!(
        b.wait_timeout(Duration::from_secs(1)).await,
        Err(BrokenBarrierError)
    );
}

#[tokio::test]
async fn a_panicking_action_breaks_it_and_its_waiter_gets_the_panic() {
    let b = Barrier::builder(2)
        .action(|| panic!("action failed"))
        .build()
        .unwrap();
    let b2 = b.clone();
    let first = tokio::spawn(async move { b2.wait().await });
    sync_util::until(|| b.n_waiting() == 1).await;
    let b3 = b.clone();
    let last = tokio::spawn(async move { b3.wait().await });
    let err = last.await.unwrap_err();
    assert!(err.is_panic());
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"action failed"));
    assert_eq!(first.await.unwrap(), Err(BrokenBarrierError));
    assert!(b.broken());
}

#[test]
fn threads_and_tasks_meet_at_one_barrier() {
    let b = Barrier::new(4).unwrap();
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let b = b.clone();
            std::thread::spawn(move || (0..20).map(|_| b.blocking_wait().unwrap()).sum::<usize>())
        })
        .collect();
    let bb = b.clone();
    let task_sum = sync_util::run_mt(60, async move {
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let b = bb.clone();
                tokio::spawn(async move {
                    let mut s = 0;
                    for _ in 0..20 {
                        s += b.wait().await.unwrap();
                    }
                    s
                })
            })
            .collect();
        let mut s = 0;
        for t in tasks {
            s += t.await.unwrap();
        }
        s
    });
    let thread_sum: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    // Each generation hands out 0+1+2+3.
    assert_eq!(task_sum + thread_sum, 20 * 6);
}

#[test]
fn blocking_wait_timeout_breaks_it_too() {
    let b = Barrier::new(2).unwrap();
    assert_eq!(
        b.blocking_wait_timeout(Duration::from_millis(10)),
        Err(BrokenBarrierError)
    );
    assert!(b.broken());
    assert!(format!("{b:?}").contains("broken: true"));
}
