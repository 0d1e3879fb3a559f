//! The registry: `current_thread`, `main_thread`, `enumerate`,
//! `active_count`, dummy threads. Python reference: Lib/threading.py
//! (`_active`, `_DummyThread`, `_MainThread`), Lib/test/test_threading.py.
//!
//! The registry is process-wide, so every test that counts threads holds the
//! file's serial lock.

#[path = "common/thread_util.rs"]
mod thread_util;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use thread_util::{Gate, serial, serial_blocking};
use threadlet::error::JoinError;
use threadlet::{Thread, ThreadRef};
#[tokio::test]
async fn current_thread_in_a_thread_is_that_thread() {
    let _serial = serial().await;
    let t = threadlet::Builder::new()
        .name("me")
        .spawn(async {
            let a = threadlet::current_thread();
            tokio::task::yield_now().await;
            let b = threadlet::current_thread();
            (a, b)
        })
        .unwrap();
    let r = t.thread_ref();
    let (a, b) = t.join().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(a, r);
    assert_eq!(a.name(), "me");
    assert!(!a.is_daemon());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_thread_in_a_foreign_task_is_a_stable_dummy() {
    let task = tokio::spawn(async {
        let a = threadlet::current_thread();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let b = threadlet::current_thread();
        (a, b, tokio::task::id())
    });
    let (a, b, id) = task.await.unwrap();
    assert_eq!(a, b, "stable within the task");
    assert_eq!(a.ident(), Some(id));
    assert_eq!(a.name(), format!("Dummy-{id}"));
    assert!(a.is_daemon());
    assert!(a.is_alive());
    assert_eq!(a.join().await, Err(JoinError::DummyThread));
    assert_eq!(
        JoinError::DummyThread.to_string(),
        "cannot join a dummy thread"
    );

    let other = tokio::spawn(async { threadlet::current_thread() })
        .await
        .unwrap();
    assert_ne!(a, other, "another task, another dummy");
}

#[test]
fn current_thread_outside_any_task_is_a_dummy_per_os_thread() {
    let a = threadlet::current_thread();
    let b = threadlet::current_thread();
    assert_eq!(a, b);
    assert!(a.name().starts_with("Dummy-"));
    assert_eq!(a.ident(), None);
    assert!(a.is_daemon());
    let elsewhere = std::thread::spawn(|| {
        let x = threadlet::current_thread();
        assert_eq!(x, threadlet::current_thread());
        x
    })
    .join()
    .unwrap();
    assert_ne!(a, elsewhere);
    assert_ne!(a.name(), elsewhere.name());
    // Inside a block_on body: still the OS thread's dummy.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(async { threadlet::current_thread() }), a);
}

#[test]
fn main_thread_is_runs_main() {
    let _serial = serial_blocking();
    let (ok, main_ident, main_ref) = threadlet::run(async {
        let main = threadlet::main_thread();
        let me = threadlet::current_thread();
        let seen_from_thread = threadlet::spawn(async { threadlet::main_thread() })
            .join()
            .await
            .unwrap();
        let ok = main == me
            && seen_from_thread == me
            && me.name() == "MainThread"
            && !me.is_daemon()
            && me.is_alive()
            && threadlet::enumerate().contains(&me)
            && tokio::task::try_id().is_some();
        (ok, (me.ident(), tokio::task::try_id()), me)
    });
    assert!(ok);
    assert!(main_ident.0.is_some());
    assert_eq!(main_ident.0, main_ident.1);
    assert!(!main_ref.is_alive(), "main has finished");
    assert!(!threadlet::enumerate().contains(&main_ref));
    // After `run` the program's main thread runs on, as Python's main thread
    // is alive whenever code runs in it: not the finished task of that run.
    let after = threadlet::main_thread();
    assert_ne!(after, main_ref);
    assert_eq!(after.name(), "MainThread");
    assert!(after.is_alive());
    assert!(!after.is_daemon());
    assert!(format!("{after:?}").contains("\"started\""), "{after:?}");
}

#[tokio::test]
async fn main_thread_outside_run_is_named_main_thread() {
    // Not while another test's `run` has its own main thread.
    let _serial = serial().await;
    let main = threadlet::main_thread();
    assert_eq!(main.name(), "MainThread");
    assert!(!main.is_daemon());
    assert!(
        main.is_alive(),
        "Python's main thread is alive while code runs"
    );
    assert_ne!(threadlet::current_thread(), main);
    assert_eq!(threadlet::main_thread(), main);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enumerate_lists_live_threads_only() {
    let _serial = serial().await;
    let gate = Gate::new();
    let unstarted = Thread::new(async {});
    let g = gate.clone();
    let running = threadlet::spawn(async move { g.wait().await });
    let finished = threadlet::spawn(async {}).thread_ref();
    finished.join().await.unwrap();

    let live = threadlet::enumerate();
    assert!(live.contains(&running.thread_ref()));
    assert!(!live.contains(&unstarted.thread_ref()));
    assert!(!live.contains(&finished));
    assert_eq!(threadlet::active_count(), live.len());
    assert!(
        live.iter().all(ThreadRef::is_alive),
        "every listed thread is alive"
    );
    assert!(
        !live.contains(&threadlet::current_thread()),
        "dummies are not listed"
    );

    gate.open();
    let running = running.thread_ref();
    running.join().await.unwrap();
    assert!(!threadlet::enumerate().contains(&running));
    assert_eq!(threadlet::active_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicked_or_cancelled_thread_leaves_the_registry() {
    let _serial = serial().await;
    threadlet::set_excepthook(|_: &threadlet::ExceptHookArgs| {});
    let p = threadlet::spawn(async { panic!("gone") });
    assert!(p.join().await.unwrap_err().is_panic());
    let timer = threadlet::Timer::new(Duration::from_secs(3600), async {});
    timer.start().unwrap();
    assert!(threadlet::enumerate().contains(&timer.thread_ref()));
    timer.cancel();
    assert!(timer.join().await.unwrap_err().is_cancelled());
    assert_eq!(threadlet::active_count(), 0);
    threadlet::set_excepthook(threadlet::default_excepthook);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_thousand_threads_leave_an_empty_registry() {
    let _serial = serial().await;
    const N: usize = 100_000;
    let threads: Vec<_> = (0..N).map(|i| threadlet::spawn(async move { i })).collect();
    let mut sum = 0;
    for t in threads {
        sum += t.join().await.unwrap();
    }
    assert_eq!(sum, N * (N - 1) / 2);
    assert_eq!(threadlet::active_count(), 0);
    assert!(threadlet::enumerate().is_empty());
    // Also when nobody keeps a handle, and with threads started by threads.
    let parent = threadlet::spawn(async {
        for _ in 0..10_000 {
            threadlet::spawn(async { tokio::task::yield_now().await });
        }
    });
    parent.join().await.unwrap();
    threadlet::wait_non_daemon().await;
    assert_eq!(threadlet::active_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registry_under_concurrent_start_and_finish() {
    let _serial = serial().await;
    let stop = Arc::new(AtomicBool::new(false));
    let started: Arc<std::sync::Mutex<HashSet<String>>> = Arc::default();

    // Observers read the registry while threads come and go.
    let observers: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            let started = started.clone();
            tokio::spawn(async move {
                let mut reads = 0;
                while !stop.load(Ordering::SeqCst) {
                    let live = threadlet::enumerate();
                    {
                        let known = started.lock().unwrap();
                        for t in &live {
                            // Only started threads are ever listed: a named one
                            // was recorded before its start; never-started ones
                            // never show up. (Nested children are Thread-N.)
                            let name = t.name();
                            assert!(!name.starts_with("never"), "unstarted {name} listed");
                            if name.starts_with('w') {
                                assert!(known.contains(&name), "unknown {name}");
                            } else {
                                assert!(name.starts_with("Thread-"), "{name}");
                            }
                        }
                    }
                    let _ = threadlet::active_count();
                    reads += 1;
                    tokio::task::yield_now().await;
                }
                reads
            })
        })
        .collect();

    let starters: Vec<_> = (0..4)
        .map(|s| {
            let started = started.clone();
            threadlet::spawn(async move {
                for i in 0..500 {
                    let never = threadlet::Builder::new()
                        .name(format!("never{s}-{i}"))
                        .build(async {});
                    let name = format!("w{s}-{i}");
                    let t = threadlet::Builder::new().name(name.clone()).build(async {
                        // Nested start from inside a thread.
                        threadlet::spawn(async { tokio::task::yield_now().await })
                            .join()
                            .await
                            .unwrap();
                    });
                    started.lock().unwrap().insert(name);
                    t.start().unwrap();
                    if i % 2 == 0 {
                        t.join().await.unwrap();
                    }
                    drop(never);
                }
            })
        })
        .collect();

    for s in starters {
        s.join().await.unwrap();
    }
    threadlet::wait_non_daemon().await;
    stop.store(true, Ordering::SeqCst);
    for o in observers {
        let _ = o.await;
    }
    assert_eq!(threadlet::active_count(), 0);
}
