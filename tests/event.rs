//! `Event`: Python parity (CPython `Lib/test/lock_tests.py` `EventTests`,
//! rewritten): set wakes every waiter, wait after set returns at once, a
//! waiter woken by `set` returns true even after `clear`; cancel safety.

#[path = "common/sync_util.rs"]
mod sync_util;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use threadlet::Event;
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

#[test]
fn set_wakes_every_waiter_and_later_waits_return_at_once() {
    let event = Event::new();
    let mut w: Vec<_> = (0..5).map(|_| spawn(event.wait())).collect();
    for f in &mut w {
        assert_pending!(f.poll());
    }
    assert_eq!(event.statistics().waiters, 5);
    event.set();
    for f in &mut w {
        assert!(f.is_woken());
        assert_ready!(f.poll());
    }
    let mut late = spawn(event.wait());
    assert_ready!(late.poll());
    assert_eq!(event.statistics().waiters, 0);
}

#[test]
fn woken_by_set_returns_even_if_cleared_before_it_runs() {
    let event = Event::new();
    let mut w = spawn(event.wait());
    assert_pending!(w.poll());
    event.set();
    event.clear();
    assert!(w.is_woken());
    assert_ready!(w.poll());
    // A wait started after the clear blocks again.
    let mut again = spawn(event.wait());
    assert_pending!(again.poll());
    drop(again);
    assert_eq!(event.statistics().waiters, 0);
}

#[test]
fn cancel_at_every_state_leaks_nothing() {
    let event = Event::new();
    drop(event.wait()); // never polled
    let mut a = spawn(event.wait());
    let mut b = spawn(event.wait());
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    drop(a); // queued
    assert_eq!(event.statistics().waiters, 1);
    event.set();
    assert!(b.is_woken());
    drop(b); // woken, never ran: nothing to pass on, nothing left behind
    assert_eq!(event.statistics().waiters, 0);
    assert!(event.is_set());
}

#[tokio::test(start_paused = true)]
async fn wait_timeout_under_paused_time() {
    let event = Event::new();
    let start = tokio::time::Instant::now();
    assert!(!event.wait_timeout(Duration::from_millis(70)).await);
    assert_eq!(start.elapsed(), Duration::from_millis(70));
    let e = event.clone();
    let t = tokio::spawn(async move { e.wait_timeout(Duration::from_secs(60)).await });
    tokio::time::sleep(Duration::from_secs(30)).await;
    event.set();
    assert!(t.await.unwrap());
    assert!(event.wait_timeout(Duration::ZERO).await);
    assert!(event.wait_timeout(Duration::MAX).await);
    assert_eq!(event.statistics().waiters, 0);
}

#[test]
fn blocking_wait_from_threads() {
    let event = Event::new();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let e = event.clone();
            std::thread::spawn(move || e.blocking_wait())
        })
        .collect();
    let e = event.clone();
    assert!(
        !std::thread::spawn(move || e.blocking_wait_timeout(Duration::from_millis(10)))
            .join()
            .unwrap()
    );
    event.set();
    for t in threads {
        t.join().unwrap();
    }
    assert!(event.blocking_wait_timeout(Duration::ZERO));
}

/// Set/clear races never lose a waiter: 64 tasks repeatedly wait for the
/// event that a driver sets once per round.
#[test]
fn many_tasks_many_rounds_nobody_is_stuck() {
    let event = Event::new();
    let e = event.clone();
    sync_util::run_mt(60, async move {
        let arrived = Arc::new(AtomicUsize::new(0));
        for _ in 0..20 {
            e.clear();
            let tasks: Vec<_> = (0..64)
                .map(|_| {
                    let (e, arrived) = (e.clone(), arrived.clone());
                    tokio::spawn(async move {
                        e.wait().await;
                        arrived.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            tokio::task::yield_now().await;
            e.set();
            for t in tasks {
                t.await.unwrap();
            }
        }
        assert_eq!(arrived.load(Ordering::SeqCst), 64 * 20);
    });
    assert_eq!(event.statistics().waiters, 0);
}

#[test]
fn debug_shows_the_flag() {
    let event = Event::new();
    event.set();
    assert_eq!(format!("{event:?}"), "Event { is_set: true }");
}

/// Ping-pong between two tasks on two workers with `clear` after each wait:
/// no wake-up is lost between a `set` and a waiter that is just queueing.
#[test]
fn ping_pong_on_two_workers_loses_no_wakeup() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        let (ping, pong) = (Event::new(), Event::new());
        let (p, q) = (ping.clone(), pong.clone());
        const ROUNDS: usize = 100_000;
        let echo = tokio::spawn(async move {
            for _ in 0..ROUNDS {
                p.wait().await;
                p.clear();
                q.set();
            }
        });
        let main = async {
            for _ in 0..ROUNDS {
                ping.set();
                pong.wait().await;
                pong.clear();
            }
        };
        tokio::time::timeout(Duration::from_secs(120), main)
            .await
            .expect("a wake-up was lost");
        echo.await.unwrap();
    });
}

/// Issue 16 item 10: outside a tokio runtime a zero timeout only checks the
/// flag and `Duration::MAX` needs no timer, whether the flag is set or not;
/// any other timeout panics every time with the crate's message (it used to
/// panic inside tokio, and only while the flag was clear).
#[test]
fn wait_timeout_outside_a_runtime_is_the_same_set_or_not() {
    use futures::executor::block_on;
    let event = Event::new();
    assert!(!block_on(event.wait_timeout(Duration::ZERO)));
    event.set();
    assert!(block_on(event.wait_timeout(Duration::ZERO)));
    assert!(block_on(event.wait_timeout(Duration::MAX)));
    for set in [true, false] {
        if set {
            event.set();
        } else {
            event.clear();
        }
        let e = event.clone();
        let panic = std::thread::spawn(move || block_on(e.wait_timeout(Duration::from_millis(5))))
            .join()
            .expect_err("a finite timeout outside a runtime must panic");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            message.contains("Event::wait_timeout") && message.contains("tokio runtime"),
            "set = {set}: {message}"
        );
    }
}
