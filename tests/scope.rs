//! Scopes: threads belong to the scope that started them (inherited by the
//! threads they start); `threadlet::scope`, `RuntimeBuilder::block_on`
//! (`#[threadlet::test]`) and `run` each wait for their own non-daemon
//! threads only and cancel their own daemon threads only; `wait_non_daemon`
//! waits for the caller's scope. `enumerate` / `active_count` stay
//! process-wide.
//!
//! No test here waits on the wall clock: a wait that must not happen is
//! caught by a paused-clock timeout (tokio advances a paused clock only when
//! every task is idle, so an hour passes at once exactly when the code under
//! test is stuck), or by a generous bound on a channel.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use threadlet::error::JoinError;
use threadlet::{Builder, Event, RuntimeBuilder};

/// Longer than any test here may wait: on a paused clock it passes as soon
/// as everything is idle, so a wait that never ends shows as a timeout.
const NEVER: Duration = Duration::from_secs(3600);

fn daemon<F>(fut: F) -> threadlet::Thread<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    Builder::new().daemon(true).spawn(fut).unwrap()
}

#[tokio::test]
async fn two_scopes_in_parallel_do_not_wait_for_each_others_threads() {
    tokio::time::pause();
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    // Scope A: a long non-daemon thread, held until B has returned.
    let a = threadlet::scope(async move {
        threadlet::spawn(async move { g.wait().await });
    });
    // Scope B: a short thread; returns once it is done, without waiting for A's.
    let finished = Arc::new(AtomicUsize::new(0));
    let f = finished.clone();
    let gate_b = gate.clone();
    let b = async move {
        let waited = tokio::time::timeout(
            NEVER,
            threadlet::scope(async move {
                threadlet::spawn(async move {
                    tokio::task::yield_now().await;
                    f.fetch_add(1, Ordering::SeqCst);
                });
            }),
        )
        .await;
        // Release A whatever happened, so that a failure fails, not hangs.
        gate_b.set();
        waited
    };
    let ((), b) = tokio::join!(a, b);
    assert!(b.is_ok(), "scope B waited for scope A's thread");
    assert_eq!(
        finished.load(Ordering::SeqCst),
        1,
        "scope B waited for its own thread"
    );
}

#[test]
fn two_test_runtimes_on_two_os_threads_do_not_wait_for_each_other() {
    // What two `#[threadlet::test]`s running in parallel do.
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    let a = std::thread::spawn(move || {
        RuntimeBuilder::new_current_thread().block_on(async move {
            threadlet::spawn(async move { g.wait().await });
        });
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let b = std::thread::spawn(move || {
        let t = RuntimeBuilder::new_current_thread()
            .block_on(async { threadlet::spawn(async { 7 }).thread_ref() });
        tx.send(t).unwrap();
    });
    // Generous: B needs microseconds; it would never come if it waited for A.
    let b_thread = rx.recv_timeout(Duration::from_secs(60));
    gate.set();
    a.join().unwrap();
    b.join().unwrap();
    let b_thread = b_thread.expect("the second runtime waited for the first one's thread");
    assert!(!b_thread.is_alive());
}

#[tokio::test]
async fn a_scope_waits_for_threads_started_by_its_threads() {
    tokio::time::pause();
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    threadlet::scope(async move {
        let d1 = d.clone();
        threadlet::spawn(async move {
            let d2 = d1.clone();
            threadlet::spawn(async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                let d3 = d2.clone();
                threadlet::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    d3.fetch_add(1, Ordering::SeqCst);
                });
                d2.fetch_add(1, Ordering::SeqCst);
            });
            d1.fetch_add(1, Ordering::SeqCst);
        });
    })
    .await;
    assert_eq!(done.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_scope_cancels_its_own_daemons_only() {
    tokio::time::pause();
    let outside = daemon(std::future::pending::<()>());
    let inside = threadlet::scope(async { daemon(std::future::pending::<()>()) }).await;
    assert!(
        !inside.is_alive(),
        "the scope's daemon is cancelled when it returns"
    );
    assert_eq!(inside.join().await, Err(JoinError::Cancelled));
    assert!(
        outside.is_alive(),
        "a daemon outside the scope is left alone"
    );
}

#[tokio::test]
async fn daemons_started_by_a_scopes_threads_are_cancelled_with_it() {
    tokio::time::pause();
    let slot = Arc::new(std::sync::Mutex::new(None));
    let s = slot.clone();
    let started = Arc::new(Event::new());
    let st = started.clone();
    let t = threadlet::scope(async move {
        // A non-daemon thread that starts a daemon, and a daemon that does.
        threadlet::spawn(async move {
            let g = daemon(std::future::pending::<()>());
            s.lock().unwrap().replace(vec![g.thread_ref()]);
            st.set();
        });
        started.wait().await;
        daemon(async {
            let g = daemon(std::future::pending::<()>());
            let _keep = g;
            std::future::pending::<()>().await
        })
    })
    .await;
    assert_eq!(t.join().await, Err(JoinError::Cancelled));
    let grandchildren = slot.lock().unwrap().take().unwrap();
    for g in grandchildren {
        assert!(!g.is_alive());
        assert_eq!(g.join().await, Err(JoinError::Cancelled));
    }
}

#[tokio::test]
async fn wait_non_daemon_waits_for_the_callers_scope_only() {
    tokio::time::pause();
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    let elsewhere = threadlet::scope(async move {
        threadlet::spawn(async move { g.wait().await });
    });
    let gate_here = gate.clone();
    let here = async move {
        let result = threadlet::scope(async {
            let t = threadlet::spawn(tokio::time::sleep(Duration::from_secs(5)));
            let all_done = tokio::time::timeout(NEVER, threadlet::wait_non_daemon()).await;
            (all_done, t.is_alive())
        })
        .await;
        gate_here.set();
        result
    };
    let ((), (all_done, alive)) = tokio::join!(elsewhere, here);
    assert!(
        all_done.is_ok(),
        "wait_non_daemon waited for another scope's thread"
    );
    assert!(
        !alive,
        "wait_non_daemon did not wait for its own scope's thread"
    );
}

#[tokio::test]
async fn wait_non_daemon_inside_a_thread_waits_for_its_scope_but_not_itself() {
    tokio::time::pause();
    let out = threadlet::scope(async {
        let sibling = threadlet::spawn(tokio::time::sleep(Duration::from_secs(5)));
        let sibling_ref = sibling.thread_ref();
        let waiter = threadlet::spawn(async move {
            threadlet::wait_non_daemon().await;
            sibling_ref.is_alive()
        });
        waiter.join().await.unwrap()
    })
    .await;
    assert!(!out, "the sibling was waited for");
}

#[tokio::test]
async fn wait_non_daemon_timeout_says_whether_they_ended() {
    tokio::time::pause();
    threadlet::scope(async {
        let t = threadlet::spawn(tokio::time::sleep(Duration::from_secs(10)));
        assert!(!threadlet::wait_non_daemon_timeout(Duration::from_secs(1)).await);
        assert!(t.is_alive());
        assert!(threadlet::wait_non_daemon_timeout(Duration::from_secs(20)).await);
        assert!(!t.is_alive());
        // Nothing left: true at once, also with a zero timeout.
        assert!(threadlet::wait_non_daemon_timeout(Duration::ZERO).await);
    })
    .await;
}

#[test]
fn blocking_forms_wait_for_the_scope_of_the_runtime_they_run_on() {
    RuntimeBuilder::new_current_thread().block_on(async {
        let gate = Arc::new(Event::new());
        let g = gate.clone();
        let t = threadlet::spawn(async move { g.wait().await });
        let r = t.thread_ref();
        let waited = tokio::task::spawn_blocking(move || {
            // The scope's thread is blocked on the gate: time runs out.
            let early = threadlet::blocking_wait_non_daemon_timeout(Duration::from_millis(1));
            gate.set();
            threadlet::blocking_wait_non_daemon();
            let late = threadlet::blocking_wait_non_daemon_timeout(Duration::from_secs(60));
            (early, r.is_alive(), late)
        })
        .await
        .unwrap();
        assert_eq!(waited, (false, false, true));
    });
}

#[tokio::test]
async fn blocking_forms_refuse_to_block_a_runtime_thread() {
    let err = std::panic::catch_unwind(|| {
        threadlet::blocking_wait_non_daemon();
    })
    .unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("blocking_wait_non_daemon"), "{msg}");
    assert!(msg.contains("wait_non_daemon().await"), "{msg}");
    assert!(msg.contains(file!()), "{msg}");
}

#[tokio::test]
async fn a_scope_waits_when_its_body_panics_then_resumes_the_panic() {
    tokio::time::pause();
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let task = tokio::spawn(threadlet::scope(async move {
        threadlet::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            d.fetch_add(1, Ordering::SeqCst);
        });
        panic!("body failed");
    }));
    let err = task.await.unwrap_err();
    assert!(err.is_panic());
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"body failed"));
    assert_eq!(
        done.load(Ordering::SeqCst),
        1,
        "waited before resuming the panic"
    );
}

#[tokio::test]
async fn a_dropped_scope_hands_its_threads_to_the_enclosing_scope() {
    tokio::time::pause();
    let finished = Arc::new(AtomicUsize::new(0));
    let f = finished.clone();
    let (inner_daemon, worker) = threadlet::scope(async move {
        let slot = Arc::new(std::sync::Mutex::new(None));
        let s = slot.clone();
        // The inner scope is cancelled (timed out) while its non-daemon
        // thread runs.
        let inner = tokio::time::timeout(
            Duration::from_secs(1),
            threadlet::scope(async move {
                let d = daemon(std::future::pending::<()>());
                let w = threadlet::spawn(async move {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    f.fetch_add(1, Ordering::SeqCst);
                });
                *s.lock().unwrap() = Some((d.thread_ref(), w.thread_ref()));
                std::future::pending::<()>().await;
            }),
        )
        .await;
        assert!(inner.is_err());
        let (d, w) = slot.lock().unwrap().take().unwrap();
        // The daemon was cancelled when the scope was dropped (its task
        // ends at its next turn); the non-daemon thread goes on.
        let joined = tokio::time::timeout(Duration::from_secs(5), d.join()).await;
        assert_eq!(
            joined,
            Ok(Err(JoinError::Cancelled)),
            "the dropped scope's daemon is cancelled"
        );
        assert!(w.is_alive(), "its non-daemon thread goes on");
        (d, w)
    })
    .await;
    // The enclosing scope waited for the orphaned non-daemon thread.
    assert!(!worker.is_alive());
    assert_eq!(finished.load(Ordering::SeqCst), 1);
    assert_eq!(inner_daemon.join().await, Err(JoinError::Cancelled));
}

#[tokio::test]
async fn enumerate_and_active_count_stay_process_wide() {
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    let outside = threadlet::spawn(async move { g.wait().await });
    let outside_ref = outside.thread_ref();
    threadlet::scope(async move {
        let inner_gate = Arc::new(Event::new());
        let ig = inner_gate.clone();
        let me = threadlet::spawn(async move { ig.wait().await });
        let listed = threadlet::enumerate();
        assert!(
            listed.contains(&outside_ref),
            "threads of other scopes are listed"
        );
        assert!(listed.contains(&me.thread_ref()));
        assert!(threadlet::active_count() >= 2);
        inner_gate.set();
    })
    .await;
    gate.set();
    outside.join().await.unwrap();
}

#[tokio::test]
async fn a_thread_belongs_to_the_scope_that_starts_it() {
    tokio::time::pause();
    let gate = Arc::new(Event::new());
    let g = gate.clone();
    // Made here (the root scope), started inside the scope: the scope's.
    let t = threadlet::Thread::new(async move { g.wait().await });
    let t_ref = t.thread_ref();
    let gate_setter = gate.clone();
    let waited = tokio::time::timeout(
        Duration::from_secs(10),
        threadlet::scope(async move {
            t.start().unwrap();
            // Opened only after the scope has waited a while.
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                gate_setter.set();
            });
        }),
    )
    .await;
    assert!(waited.is_ok());
    assert!(
        !t_ref.is_alive(),
        "the scope waited for the thread it started"
    );
}
