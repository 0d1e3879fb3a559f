//! Daemon semantics: `run` waits for every non-daemon thread (nested ones,
//! ones started while waiting, even after main panics), cancels the daemon
//! ones; `wait_non_daemon` does the same wait inside `#[tokio::test]`.
//! Python reference: Lib/threading.py `_shutdown`, Lib/test/test_threading.py
//! (test_join_nondaemon_on_shutdown, test_daemon_threads_...).
//!
//! `run` and the wait are process-wide, so each test holds the serial lock.

#[path = "common/thread_util.rs"]
mod thread_util;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use thread_util::{Gate, serial, serial_blocking};
use threadlet::error::JoinError;
use threadlet::{Builder, RuntimeBuilder};
fn flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

#[test]
fn run_returns_mains_value_after_non_daemon_threads() {
    let _serial = serial_blocking();
    let done = flag();
    let d = done.clone();
    let value = threadlet::run(async move {
        threadlet::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            d.store(true, Ordering::SeqCst);
        });
        "main's value"
    });
    assert_eq!(value, "main's value");
    assert!(done.load(Ordering::SeqCst), "run waited for the thread");
}

#[test]
fn run_waits_for_threads_started_by_threads() {
    let _serial = serial_blocking();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    threadlet::run(async move {
        threadlet::spawn(async move {
            let c2 = c.clone();
            threadlet::spawn(async move {
                let c3 = c2.clone();
                threadlet::spawn(async move {
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    c3.fetch_add(1, Ordering::SeqCst);
                });
                tokio::time::sleep(Duration::from_millis(10)).await;
                c2.fetch_add(1, Ordering::SeqCst);
            });
            c.fetch_add(1, Ordering::SeqCst);
        });
    });
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[test]
fn run_waits_for_threads_started_while_it_waits() {
    let _serial = serial_blocking();
    let late = flag();
    let l = late.clone();
    let main_done = flag();
    let m = main_done.clone();
    threadlet::run(async move {
        let main = threadlet::main_thread();
        threadlet::spawn(async move {
            // Only once main has finished (so `run` is already waiting) is
            // the next thread started.
            main.join().await.unwrap();
            m.store(true, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            threadlet::spawn(async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                l.store(true, Ordering::SeqCst);
            });
        });
    });
    assert!(main_done.load(Ordering::SeqCst));
    assert!(
        late.load(Ordering::SeqCst),
        "the late thread was waited for"
    );
}

#[test]
fn daemon_threads_are_cancelled_not_waited_for() {
    let _serial = serial_blocking();
    struct OnDrop(Arc<AtomicBool>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = flag();
    let nested_dropped = flag();
    let finished = flag();
    let child_daemon = flag();
    let (d, nd, f, cd) = (
        dropped.clone(),
        nested_dropped.clone(),
        finished.clone(),
        child_daemon.clone(),
    );
    let begin = Instant::now();
    let daemon = threadlet::run(async move {
        // Main returns once both daemons are running.
        let running = Arc::new(tokio::sync::Barrier::new(3));
        let (r1, r2) = (running.clone(), running.clone());
        let daemon = Builder::new()
            .daemon(true)
            .spawn(async move {
                let _guard = OnDrop(d);
                // Started by a daemon thread: a daemon too.
                let child = threadlet::spawn(async move {
                    let _guard = OnDrop(nd);
                    r2.wait().await;
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                });
                cd.store(child.is_daemon(), Ordering::SeqCst);
                r1.wait().await;
                tokio::time::sleep(Duration::from_secs(3600)).await;
                f.store(true, Ordering::SeqCst);
            })
            .unwrap();
        running.wait().await;
        assert!(daemon.is_daemon());
        daemon
    });
    assert!(begin.elapsed() < Duration::from_secs(60));
    assert!(!finished.load(Ordering::SeqCst));
    assert!(dropped.load(Ordering::SeqCst), "cancelled: destructors ran");
    assert!(nested_dropped.load(Ordering::SeqCst));
    assert!(
        child_daemon.load(Ordering::SeqCst),
        "inherited the daemon flag"
    );
    assert!(!daemon.is_alive());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(daemon.join()), Err(JoinError::Cancelled));
}

#[test]
fn a_panicking_main_still_waits_then_panics() {
    let _serial = serial_blocking();
    let done = flag();
    let d = done.clone();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        threadlet::run(async move {
            threadlet::spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                d.store(true, Ordering::SeqCst);
            });
            panic!("main failed");
        })
    }));
    let payload = outcome.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"main failed"));
    assert!(done.load(Ordering::SeqCst), "waited before re-raising");
    // The program's main thread runs on after `run`, as in Python.
    assert!(threadlet::main_thread().is_alive());
}

#[test]
fn a_non_daemon_thread_joining_main_returns_once_main_ends() {
    let _serial = serial_blocking();
    let saw_main_dead = flag();
    let s = saw_main_dead.clone();
    threadlet::run(async move {
        let main = threadlet::main_thread();
        threadlet::spawn(async move {
            main.join().await.unwrap();
            s.store(!main.is_alive(), Ordering::SeqCst);
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
    });
    assert!(saw_main_dead.load(Ordering::SeqCst));
}

#[test]
fn runtime_builder_sets_workers() {
    let _serial = serial_blocking();
    let workers = RuntimeBuilder::new()
        .worker_threads(3)
        .run(async { tokio::runtime::Handle::current().metrics().num_workers() });
    assert_eq!(workers, 3);
    let default = RuntimeBuilder::new()
        .worker_threads(0)
        .try_run(async { tokio::runtime::Handle::current().metrics().num_workers() })
        .unwrap();
    assert!(default >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_non_daemon_in_a_tokio_test() {
    let _serial = serial().await;
    let count = Arc::new(AtomicUsize::new(0));
    for _ in 0..10 {
        let c = count.clone();
        threadlet::spawn(async move {
            let c2 = c.clone();
            threadlet::spawn(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                c2.fetch_add(1, Ordering::SeqCst);
            });
            c.fetch_add(1, Ordering::SeqCst);
        });
    }
    // A daemon that never ends does not hold the wait up.
    let daemon = Builder::new()
        .daemon(true)
        .spawn(std::future::pending::<()>())
        .unwrap();
    threadlet::wait_non_daemon().await;
    assert_eq!(count.load(Ordering::SeqCst), 20);
    assert!(daemon.is_alive());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_non_daemon_from_a_thread_does_not_wait_for_itself() {
    let _serial = serial().await;
    let gate = Gate::new();
    let g = gate.clone();
    let other = threadlet::spawn(async move { g.wait().await });
    let mut waiter = threadlet::spawn(async move {
        threadlet::wait_non_daemon().await;
        true
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(waiter.is_alive(), "waits for the other thread");
    gate.open();
    assert_eq!(waiter.join_timeout(Duration::from_secs(30)).await, Ok(true));
    other.join().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn wait_non_daemon_is_cancel_safe() {
    let _serial = serial().await;
    let t = threadlet::spawn(tokio::time::sleep(Duration::from_secs(10)));
    let early = tokio::time::timeout(Duration::from_secs(1), threadlet::wait_non_daemon()).await;
    assert!(early.is_err());
    assert!(t.is_alive());
    threadlet::wait_non_daemon().await;
    assert!(!t.is_alive());
}

/// Issue 16.3: a daemon thread parked in a blocking call (here a
/// `spawn_blocking` that waits on a channel nobody sends on) must not keep
/// `run` from returning. The run happens on a helper OS thread so that the
/// test itself finishes in bounded time whatever happens.
#[test]
fn run_returns_while_a_daemon_sits_in_a_blocking_call() {
    let _serial = serial_blocking();
    let (never_tx, never_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let (blocked_tx, blocked_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let value = RuntimeBuilder::new().worker_threads(2).run(async move {
            Builder::new()
                .daemon(true)
                .spawn(async move {
                    let _ = tokio::task::spawn_blocking(move || {
                        blocked_tx.send(()).unwrap();
                        never_rx.recv()
                    })
                    .await;
                })
                .unwrap();
            // Main ends once the daemon is inside its blocking call.
            blocked_rx.await.expect("the blocking call started");
            "main's value"
        });
        done_tx.send(value).unwrap();
    });
    let returned = done_rx.recv_timeout(Duration::from_secs(30));
    // Let the abandoned blocking call end (its OS thread is detached).
    drop(never_tx);
    assert_eq!(returned, Ok("main's value"), "run did not return");
}
