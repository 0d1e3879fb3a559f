//! `threadlet::process::Pool`: long-lived worker processes of this test binary,
//! checked against Python's `multiprocessing.Pool` (CPython
//! `Lib/multiprocessing/pool.py`) and where Python hangs (a dead worker).
#![cfg(all(feature = "process", target_os = "linux"))]

use std::time::Duration;

use futures::StreamExt;
use threadlet::error::PoolError;
use threadlet::process::{self, Pool};

#[path = "common/process_util.rs"]
mod process_util;

use process_util::{eventually, wait_gone};

// ===== targets (run in the workers) =====

fn square(x: u64) -> u64 {
    x * x
}

fn pid_of(_: u64) -> u32 {
    process::getpid()
}

fn worker_name(_: ()) -> String {
    process::current_process().name().to_owned()
}

/// Sleeps `ms`, then returns it: lets later items finish first.
fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn panics_on_three(x: u64) -> u64 {
    assert_ne!(x, 3, "three is not allowed");
    x
}

/// The worker kills itself mid-task (like the OOM killer would).
fn die(_: ()) -> u8 {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
    std::thread::sleep(Duration::from_secs(30));
    0
}

/// Dies on 45, like `die`; returns every other item.
fn dies_on_45(x: u64) -> u64 {
    if x == 45 {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::Signal::SIGKILL);
        std::thread::sleep(Duration::from_secs(30));
    }
    x
}

fn starts_a_process(_: ()) -> String {
    match process::spawn_process(square, 2) {
        Ok(_) => "started".into(),
        Err(e) => e.to_string(),
    }
}

fn echo(s: String) -> String {
    s
}

fn targets() {
    process::register(square);
    process::register(pid_of);
    process::register(worker_name);
    process::register(nap);
    process::register(panics_on_three);
    process::register(die);
    process::register(starts_a_process);
    process::register(dies_on_45);
    process::register(echo);
}

process::test_support!(targets);

async fn all_workers_up(pool: &Pool) -> Vec<u32> {
    eventually("all workers running", || {
        let pids = pool.worker_pids();
        (pids.len() == pool.processes()).then_some(pids)
    })
    .await
}

// ===== results and order =====

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_keeps_order_at_every_chunksize() {
    threadlet_process_setup();
    let pool = Pool::new(3).unwrap();
    let want: Vec<u64> = (0..200).map(|x| x * x).collect();
    assert_eq!(pool.map(square, 0..200).await.unwrap(), want);
    for chunksize in [1, 7, 200, 1000] {
        assert_eq!(
            pool.map_chunked(square, 0..200, chunksize).await.unwrap(),
            want
        );
    }
    assert_eq!(pool.map(square, Vec::<u64>::new()).await.unwrap(), vec![]);
    // Later items finish first; the order is still the items'.
    assert_eq!(
        pool.map_chunked(nap, [300, 200, 100, 0], 1).await.unwrap(),
        vec![300, 200, 100, 0]
    );
}

#[tokio::test]
async fn large_arguments_and_values_round_trip() {
    threadlet_process_setup();
    let pool = Pool::new(2).unwrap();
    let items: Vec<String> = (0..12u8)
        .map(|i| char::from(b'a' + i).to_string().repeat(300_000))
        .collect();
    assert_eq!(
        pool.map_chunked(echo, items.clone(), 1).await.unwrap(),
        items
    );
    assert_eq!(pool.map(echo, items.clone()).await.unwrap(), items);
}

#[tokio::test]
async fn work_runs_in_long_lived_workers() {
    threadlet_process_setup();
    let pool = Pool::new(2).unwrap();
    let pids = pool.map_chunked(pid_of, 0..50, 1).await.unwrap();
    let mut distinct = pids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    // Not a process per task: at most the two workers ran all 50 tasks.
    assert!(distinct.len() <= 2, "{distinct:?}");
    assert!(!distinct.contains(&process::getpid()));
    let name = pool.apply(worker_name, ()).await.unwrap();
    assert!(name.starts_with("PoolWorker-"), "{name}");
}

#[tokio::test]
async fn apply_and_apply_async() {
    threadlet_process_setup();
    let pool = Pool::new(2).unwrap();
    assert_eq!(pool.apply(square, 12).await.unwrap(), 144);
    let pending: Vec<_> = (0..10u64)
        .map(|x| pool.apply_async(square, x).unwrap())
        .collect();
    for (x, r) in (0..10u64).zip(&pending) {
        assert_eq!(r.get().await.unwrap(), x * x);
        assert!(r.ready());
        // get() again hands the value out again.
        assert_eq!(r.get().await.unwrap(), x * x);
    }
    let slow = pool.apply_async(nap, 5_000).unwrap();
    assert!(!slow.ready());
    assert_eq!(
        slow.get_timeout(Duration::from_millis(20)).await,
        Err(PoolError::Timeout)
    );
}

#[tokio::test]
async fn imap_is_ordered_and_imap_unordered_is_not() {
    threadlet_process_setup();
    let pool = Pool::new(2).unwrap();
    all_workers_up(&pool).await;
    let got: Vec<u64> = pool
        .imap(nap, [200, 0, 0])
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(got, vec![200, 0, 0]);
    let got: Vec<u64> = pool
        .imap_unordered(nap, [400, 0])
        .unwrap()
        .map(Result::unwrap)
        .collect()
        .await;
    // The quick item arrives before the slow one.
    assert_eq!(got, vec![0, 400]);
    // An error is one stream item; the others still come.
    let got: Vec<Result<u64, PoolError>> =
        pool.imap(panics_on_three, 1..=4).unwrap().collect().await;
    assert_eq!(got.len(), 4);
    assert_eq!(got[0], Ok(1));
    assert!(
        matches!(&got[2], Err(PoolError::Panicked { message, .. }) if message.contains("three is not allowed"))
    );
    assert_eq!(got[3], Ok(4));
}

// ===== failures: reported, never a hang =====

#[tokio::test]
async fn a_panicking_task_fails_alone() {
    threadlet_process_setup();
    let pool = Pool::new(1).unwrap();
    let err = pool
        .map_chunked(panics_on_three, 0..6, 1)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PoolError::Panicked { worker, message } if worker.starts_with("PoolWorker-") && message.contains("three")),
        "{err}"
    );
    // The same worker goes on serving.
    let before = pool.worker_pids();
    assert_eq!(pool.apply(square, 5).await.unwrap(), 25);
    assert_eq!(pool.worker_pids(), before);
}

#[tokio::test]
async fn a_killed_worker_fails_its_task_and_is_replaced() {
    threadlet_process_setup();
    let pool = Pool::new(2).unwrap();
    let before = all_workers_up(&pool).await;
    let err = pool.apply(die, ()).await.unwrap_err();
    match &err {
        PoolError::WorkerDied { worker, exitcode } => {
            assert!(worker.starts_with("PoolWorker-"));
            assert_eq!(*exitcode, -9);
        }
        other => panic!("expected WorkerDied, got {other}"),
    }
    assert!(err.to_string().contains("died with exit code -9"));
    // The pool keeps serving, with a new worker in the dead one's place.
    let want: Vec<u64> = (0..20).map(|x| x * x).collect();
    assert_eq!(pool.map(square, 0..20).await.unwrap(), want);
    let after = all_workers_up(&pool).await;
    assert_eq!(after.iter().filter(|p| before.contains(p)).count(), 1);
}

#[tokio::test]
async fn only_the_task_a_worker_died_on_fails() {
    threadlet_process_setup();
    let pool = Pool::new(2).unwrap();
    // Tasks queued behind the dying one (workers hold several trivial tasks at
    // once) are handed to the replacement, not lost.
    let got: Vec<Result<u64, PoolError>> = pool.imap(dies_on_45, 0..60).unwrap().collect().await;
    assert_eq!(got.len(), 60);
    for (x, r) in (0..60u64).zip(&got) {
        if x == 45 {
            assert!(
                matches!(r, Err(PoolError::WorkerDied { exitcode: -9, .. })),
                "{r:?}"
            );
        } else {
            assert_eq!(*r, Ok(x));
        }
    }
}

#[tokio::test]
async fn bad_input_is_an_error() {
    threadlet_process_setup();
    assert_eq!(Pool::new(0).unwrap_err(), PoolError::InvalidProcesses);
    let pool = Pool::new(1).unwrap();
    assert_eq!(
        pool.map_chunked(square, 0..3, 0).await,
        Err(PoolError::InvalidChunksize)
    );
    fn unregistered(_: ()) {}
    assert!(matches!(
        pool.apply(unregistered, ()).await,
        Err(PoolError::UnknownTarget(_))
    ));
    assert_eq!(pool.join().await, Err(PoolError::StillRunning));
    pool.close();
    assert_eq!(pool.apply(square, 1).await, Err(PoolError::NotRunning));
    assert!(matches!(pool.imap(square, [1]), Err(PoolError::NotRunning)));
    pool.join().await.unwrap();
}

#[tokio::test]
async fn pool_workers_are_daemons() {
    threadlet_process_setup();
    let pool = Pool::new(1).unwrap();
    assert_eq!(
        pool.apply(starts_a_process, ()).await.unwrap(),
        "daemonic processes are not allowed to have children"
    );
}

// ===== lifecycle: close, terminate, drop =====

#[tokio::test]
async fn close_lets_queued_work_finish() {
    threadlet_process_setup();
    let pool = Pool::new(2).unwrap();
    let pending: Vec<_> = (0..6u64)
        .map(|x| pool.apply_async(nap, 50 + x).unwrap())
        .collect();
    pool.close();
    pool.join().await.unwrap();
    assert!(pool.worker_pids().is_empty());
    for (x, r) in (0..6u64).zip(&pending) {
        assert_eq!(r.get().await.unwrap(), 50 + x);
    }
}

#[tokio::test]
async fn terminate_leaves_no_worker_behind() {
    threadlet_process_setup();
    let pool = Pool::new(3).unwrap();
    let pids = all_workers_up(&pool).await;
    let running = pool.apply_async(nap, 60_000).unwrap();
    let queued: Vec<_> = (0..5)
        .map(|_| pool.apply_async(nap, 60_000).unwrap())
        .collect();
    pool.terminate();
    pool.join().await.unwrap();
    assert_eq!(running.get().await, Err(PoolError::Terminated));
    for q in &queued {
        assert_eq!(q.get().await, Err(PoolError::Terminated));
    }
    for pid in pids {
        assert!(
            wait_gone(pid, Duration::from_secs(10)).await,
            "worker {pid} survived"
        );
    }
    assert_eq!(pool.apply(square, 1).await, Err(PoolError::NotRunning));
}

#[tokio::test]
async fn dropping_the_pool_kills_its_workers() {
    threadlet_process_setup();
    let pool = Pool::new(2).unwrap();
    let pids = all_workers_up(&pool).await;
    let stream = pool.imap(nap, [60_000, 60_000]).unwrap();
    drop(pool);
    for pid in pids {
        assert!(
            wait_gone(pid, Duration::from_secs(10)).await,
            "worker {pid} survived"
        );
    }
    let got: Vec<_> = stream.collect().await;
    assert!(
        got.iter().all(|r| *r == Err(PoolError::Terminated)),
        "{got:?}"
    );
}
