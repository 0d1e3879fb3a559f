//! Every waiting operation of the process layer in every form: `op().await`,
//! `try_op()` / `op_nowait()`, `op_timeout(d).await`, `blocking_op()` and
//! `blocking_op_timeout(d)`; and cancelled waiters on the process layer's
//! crate primitives (a process's completion `Event`, the driver's request
//! `Queue`, the pool's job `Queue`) lose nothing.
#![cfg(all(feature = "process", target_os = "linux"))]

#[path = "common/blocking_util.rs"]
mod blocking_util;

use std::time::{Duration, Instant};

use threadlet::error::{PipeError, PoolError, ProcessJoinError, ProcessQueueError};
use threadlet::process::{self, AsyncResult, Connection, Pool, Process, Queue};

fn nap(ms: u64) -> u64 {
    std::thread::sleep(Duration::from_millis(ms));
    ms
}

fn square(x: u64) -> u64 {
    x * x
}

fn targets() {
    process::register(nap);
    process::register(square);
}

process::test_support!(targets);

/// The table of forms, checked by the compiler: a missing form fails to
/// build. One row per waiting operation; `-` where a form has no meaning
/// (a `map` / `apply` that did not wait would be `apply_async` / `imap`).
///
/// | operation            | async        | non-waiting   | async timed       | blocking          | blocking timed            |
/// |----------------------|--------------|---------------|-------------------|-------------------|---------------------------|
/// | `Process` join       | `join`       | `try_join`    | `join_timeout`    | `blocking_join`   | `blocking_join_timeout`   |
/// | `Pool::map`          | `map`        | -             | `map_timeout`     | `blocking_map`    | `blocking_map_timeout`    |
/// | `Pool::map_chunked`  | `map_chunked` | -            | `map_chunked_timeout` | `blocking_map_chunked` | `blocking_map_chunked_timeout` |
/// | `Pool::apply`        | `apply`      | -             | `apply_timeout`   | `blocking_apply`  | `blocking_apply_timeout`  |
/// | `Pool` join          | `join`       | `try_join`    | `join_timeout`    | `blocking_join`   | `blocking_join_timeout`   |
/// | `AsyncResult` get    | `get`        | `try_get`     | `get_timeout`     | `blocking_get`    | `blocking_get_timeout`    |
/// | `Connection` recv    | `recv`       | `try_recv`    | `recv_timeout`    | `blocking_recv`   | `blocking_recv_timeout`   |
/// | `Queue` put          | `put`        | `put_nowait`  | `put_timeout`     | `blocking_put`    | `blocking_put_timeout`    |
/// | `Queue` get          | `get`        | `get_nowait`  | `get_timeout`     | `blocking_get`    | `blocking_get_timeout`    |
#[test]
#[allow(clippy::type_complexity)]
fn every_form_exists() {
    type F = fn(u64) -> u64;
    let _process = (
        Process::<u64>::join,
        Process::<u64>::try_join,
        Process::<u64>::join_timeout,
        Process::<u64>::blocking_join,
        Process::<u64>::blocking_join_timeout,
    );
    // `map`'s items are an `impl IntoIterator`: named through a call.
    let items = || vec![1u64];
    let d = Duration::ZERO;
    let _map = (
        |p: &Pool| drop(p.map(square, items())),
        |p: &Pool| drop(p.map_timeout(square, items(), d)),
        |p: &Pool| drop(p.blocking_map(square, items())),
        |p: &Pool| drop(p.blocking_map_timeout(square, items(), d)),
    );
    let _map_chunked = (
        |p: &Pool| drop(p.map_chunked(square, items(), 1)),
        |p: &Pool| drop(p.map_chunked_timeout(square, items(), 1, d)),
        |p: &Pool| drop(p.blocking_map_chunked(square, items(), 1)),
        |p: &Pool| drop(p.blocking_map_chunked_timeout(square, items(), 1, d)),
    );
    let _apply = (
        Pool::apply::<u64, u64, F>,
        Pool::apply_timeout::<u64, u64, F>,
        Pool::blocking_apply::<u64, u64, F>,
        Pool::blocking_apply_timeout::<u64, u64, F>,
    );
    let _pool_join = (
        Pool::join,
        Pool::try_join,
        Pool::join_timeout,
        Pool::blocking_join,
        Pool::blocking_join_timeout,
    );
    let _get = (
        AsyncResult::<u64>::get,
        AsyncResult::<u64>::try_get,
        AsyncResult::<u64>::get_timeout,
        AsyncResult::<u64>::blocking_get,
        AsyncResult::<u64>::blocking_get_timeout,
    );
    let _recv = (
        Connection::<u64>::recv,
        Connection::<u64>::try_recv,
        Connection::<u64>::recv_timeout,
        Connection::<u64>::blocking_recv,
        Connection::<u64>::blocking_recv_timeout,
    );
    // The non-waiting queue forms are plain methods, like the in-process
    // queue's: these are `fn`s, not futures.
    let _put: (fn(&Queue<u64>, u64) -> Result<(), ProcessQueueError>,) =
        (Queue::<u64>::put_nowait,);
    let _get: (fn(&Queue<u64>) -> Result<u64, ProcessQueueError>,) = (Queue::<u64>::get_nowait,);
    let _queue = (
        Queue::<u64>::put,
        Queue::<u64>::put_timeout,
        Queue::<u64>::blocking_put,
        Queue::<u64>::blocking_put_timeout,
        Queue::<u64>::get,
        Queue::<u64>::get_timeout,
        Queue::<u64>::blocking_get,
        Queue::<u64>::blocking_get_timeout,
    );
}

// ===== Process join =====

#[test]
fn process_join_non_waiting_and_blocking_timed() {
    threadlet_process_setup();
    let p = Process::new(nap, 60_000).unwrap();
    assert_eq!(p.try_join(), Err(ProcessJoinError::NotStarted));
    assert_eq!(
        p.blocking_join_timeout(Duration::ZERO),
        Err(ProcessJoinError::NotStarted)
    );
    p.start().unwrap();
    assert_eq!(p.try_join(), Err(ProcessJoinError::Timeout));
    let t = Instant::now();
    assert_eq!(
        p.blocking_join_timeout(Duration::from_millis(50)),
        Err(ProcessJoinError::Timeout)
    );
    assert!(t.elapsed() >= Duration::from_millis(50));
    p.kill().unwrap();
    // Duration::MAX waits forever: here, until the kill lands.
    let err = p.blocking_join_timeout(Duration::MAX).unwrap_err();
    assert!(
        matches!(err, ProcessJoinError::Killed { signal: 9, .. }),
        "{err}"
    );
    assert_eq!(p.try_join(), Err(err));

    let q = Process::new(square, 7).unwrap();
    q.start().unwrap();
    assert_eq!(q.blocking_join_timeout(Duration::from_secs(60)), Ok(49));
    assert_eq!(q.try_join(), Ok(49));
}

#[tokio::test]
async fn process_join_timeout_zero_never_waits() {
    threadlet_process_setup();
    let p = Process::new(nap, 60_000).unwrap();
    p.start().unwrap();
    assert_eq!(
        p.join_timeout(Duration::ZERO).await,
        Err(ProcessJoinError::Timeout)
    );
    p.kill().unwrap();
    assert!(p.join_timeout(Duration::MAX).await.is_err());
}

// ===== Pool =====

#[test]
fn pool_blocking_forms() {
    threadlet_process_setup();
    let pool = Pool::new(2).unwrap();
    assert_eq!(pool.blocking_map(square, 1..=4), Ok(vec![1, 4, 9, 16]));
    assert_eq!(
        pool.blocking_map_timeout(square, 1..=2, Duration::from_secs(60)),
        Ok(vec![1, 4])
    );
    assert_eq!(
        pool.blocking_map_chunked(square, 1..=5, 2),
        Ok(vec![1, 4, 9, 16, 25])
    );
    assert_eq!(
        pool.blocking_map_chunked_timeout(square, 1..=3, 1, Duration::from_secs(60)),
        Ok(vec![1, 4, 9])
    );
    assert_eq!(
        pool.blocking_map_chunked(square, 1..=3, 0),
        Err(PoolError::InvalidChunksize)
    );
    assert_eq!(pool.blocking_apply(square, 5), Ok(25));
    assert_eq!(
        pool.blocking_apply_timeout(square, 5, Duration::from_secs(60)),
        Ok(25)
    );
    let r = pool.apply_async(square, 6).unwrap();
    assert_eq!(r.blocking_get(), Ok(36));
    assert_eq!(r.try_get(), Ok(36));
    assert_eq!(r.blocking_get_timeout(Duration::ZERO), Ok(36));

    // From here on both workers nap for a minute.
    assert_eq!(
        pool.blocking_map_timeout(nap, [60_000], Duration::from_millis(20)),
        Err(PoolError::Timeout)
    );
    assert_eq!(
        pool.blocking_map_chunked_timeout(nap, [60_000], 1, Duration::from_millis(20)),
        Err(PoolError::Timeout)
    );
    assert_eq!(
        pool.blocking_apply_timeout(nap, 60_000, Duration::from_millis(20)),
        Err(PoolError::Timeout)
    );
    let slow = pool.apply_async(nap, 60_000).unwrap();
    assert_eq!(slow.try_get(), Err(PoolError::Timeout));
    assert_eq!(
        slow.blocking_get_timeout(Duration::from_millis(20)),
        Err(PoolError::Timeout)
    );

    assert_eq!(pool.try_join(), Err(PoolError::StillRunning));
    assert_eq!(pool.blocking_join(), Err(PoolError::StillRunning));
    pool.terminate();
    assert_eq!(pool.blocking_join_timeout(Duration::from_secs(60)), Ok(()));
    assert_eq!(pool.try_join(), Ok(()));
    assert_eq!(pool.blocking_join(), Ok(()));
    // The task the terminate cut short reports it.
    assert_eq!(slow.blocking_get(), Err(PoolError::Terminated));
}

#[tokio::test]
async fn pool_async_timed_forms() {
    threadlet_process_setup();
    let pool = Pool::new(2).unwrap();
    assert_eq!(
        pool.map_timeout(square, 1..=3, Duration::from_secs(60))
            .await,
        Ok(vec![1, 4, 9])
    );
    assert_eq!(
        pool.map_chunked_timeout(square, 1..=5, 2, Duration::from_secs(60))
            .await,
        Ok(vec![1, 4, 9, 16, 25])
    );
    assert_eq!(
        pool.map_chunked_timeout(square, 1..=5, 0, Duration::from_secs(60))
            .await,
        Err(PoolError::InvalidChunksize)
    );
    assert_eq!(
        pool.apply_timeout(square, 3, Duration::from_secs(60)).await,
        Ok(9)
    );
    let r = pool.apply_async(square, 4).unwrap();
    assert_eq!(r.get_timeout(Duration::from_secs(60)).await, Ok(16));
    assert_eq!(r.get_timeout(Duration::ZERO).await, Ok(16));
    // From here on both workers nap for a minute.
    assert_eq!(
        pool.map_timeout(nap, [60_000], Duration::from_millis(20))
            .await,
        Err(PoolError::Timeout)
    );
    assert_eq!(
        pool.map_chunked_timeout(nap, [60_000, 60_000], 2, Duration::from_millis(20))
            .await,
        Err(PoolError::Timeout)
    );
    assert_eq!(
        pool.apply_timeout(nap, 60_000, Duration::from_millis(20))
            .await,
        Err(PoolError::Timeout)
    );
    pool.close();
    assert_eq!(
        pool.join_timeout(Duration::from_millis(20)).await,
        Err(PoolError::Timeout),
        "a worker still naps"
    );
    pool.terminate();
    assert_eq!(pool.join_timeout(Duration::MAX).await, Ok(()));
}

// ===== Pipe =====

#[tokio::test]
async fn pipe_recv_timeout_and_try_recv() {
    threadlet_process_setup();
    let (a, b) = process::Pipe::<u64>::new(true).unwrap();
    assert_eq!(
        a.recv_timeout(Duration::from_millis(20)).await,
        Err(PipeError::Timeout)
    );
    assert_eq!(
        a.recv_timeout(Duration::ZERO).await,
        Err(PipeError::Timeout)
    );
    b.send(&1).await.unwrap();
    b.send(&2).await.unwrap();
    assert_eq!(a.recv_timeout(Duration::MAX).await, Ok(1));
    assert_eq!(a.try_recv(), Ok(2));
    assert_eq!(a.try_recv(), Err(PipeError::Timeout));
    let (reader, writer) = process::Pipe::<u64>::new(false).unwrap();
    assert_eq!(
        writer.recv_timeout(Duration::ZERO).await,
        Err(PipeError::WrongDirection)
    );
    assert_eq!(reader.try_recv(), Err(PipeError::Timeout));
}

// ===== process::Queue =====

#[test]
fn queue_nowait_forms_are_plain_methods() {
    let q = Queue::new(1).unwrap();
    q.put_nowait(1u64).unwrap();
    assert_eq!(q.put_nowait(2), Err(ProcessQueueError::Full));
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(q.get_nowait(), Err(ProcessQueueError::Empty));
}

// ===== cancelled waiters lose nothing =====

/// A process's end is one `Event`: joins cancelled while the child runs
/// (timed out, or dropped unpolled to the end) take nothing from the joins
/// that stay, async or blocking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_joins_lose_nothing() {
    threadlet_process_setup();
    let p = Process::new(square, 9).unwrap();
    // Slow enough that every cancellation below lands while it runs.
    let slow = Process::new(nap, 400).unwrap();
    slow.start().unwrap();
    let mut stayers = Vec::new();
    for i in 0..8 {
        if i % 2 == 0 {
            let s = slow.clone();
            stayers.push(tokio::spawn(async move { s.join().await }));
        } else {
            let s = slow.clone();
            stayers.push(tokio::task::spawn_blocking(move || s.blocking_join()));
        }
    }
    for _ in 0..20 {
        assert_eq!(
            slow.join_timeout(Duration::from_millis(1)).await,
            Err(ProcessJoinError::Timeout)
        );
        let s = slow.clone();
        let task = tokio::spawn(async move { s.join().await });
        tokio::task::yield_now().await;
        task.abort();
        assert_eq!(slow.try_join(), Err(ProcessJoinError::Timeout));
    }
    for stayer in stayers {
        assert_eq!(stayer.await.unwrap(), Ok(400));
    }
    // Started after the others' waits: still the same one end.
    p.start().unwrap();
    assert_eq!(p.join().await, Ok(81));
}

/// The driver's request `Queue`: many threads start processes at once and
/// every request is answered (none lost, none answered twice).
#[test]
fn concurrent_starts_all_reach_the_driver() {
    threadlet_process_setup();
    let threads: Vec<_> = (0..8u64)
        .map(|i| {
            std::thread::spawn(move || {
                let p = Process::new(square, i).unwrap();
                p.start().unwrap();
                p.blocking_join().unwrap()
            })
        })
        .collect();
    let got: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(got, (0..8).map(|i| i * i).collect::<Vec<_>>());
}

/// The pool's job `Queue`: calls abandoned mid-wait (cancelled `map`s and
/// `get`s) neither lose the jobs still queued behind them nor the values
/// of the results that are still held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_pool_waits_lose_nothing() {
    threadlet_process_setup();
    let pool = Pool::new(2).unwrap();
    let kept = pool.apply_async(nap, 300).unwrap();
    for _ in 0..10 {
        // A map abandoned at once, and a get of a held result cancelled.
        let _ = pool.map_timeout(square, 0..4, Duration::ZERO).await;
        let abandoned = tokio::time::timeout(Duration::from_millis(1), kept.get()).await;
        assert!(abandoned.is_err(), "the nap is not over yet");
    }
    // Every job queued after the cancellations still runs, in order.
    assert_eq!(pool.map(square, 0..6).await, Ok(vec![0, 1, 4, 9, 16, 25]));
    // The result whose gets were cancelled still has its value.
    assert_eq!(kept.get().await, Ok(300));
    assert_eq!(kept.try_get(), Ok(300));
    pool.close();
    pool.join().await.unwrap();
}

/// `AsyncResult::get` holds the result's slot (a crate `Lock`) while it waits
/// for the answer: concurrent getters queue there, each sees the one value,
/// and one of them cancelled mid-wait hands the slot on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_gets_of_one_result_all_see_it() {
    threadlet_process_setup();
    let pool = Pool::new(1).unwrap();
    let r = std::sync::Arc::new(pool.apply_async(nap, 200).unwrap());
    let getters: Vec<_> = (0..4)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(async move { r.get().await })
        })
        .collect();
    let cancelled = {
        let r = r.clone();
        tokio::spawn(async move { r.get().await })
    };
    cancelled.abort();
    for g in getters {
        assert_eq!(g.await.unwrap(), Ok(200));
    }
    assert!(r.ready());
    assert_eq!(r.try_get(), Ok(200));
    pool.close();
    pool.join().await.unwrap();
}

// ===== blocking forms on a runtime thread =====

/// Every process `blocking_*` form refuses at once, at the caller's line, on
/// a thread that drives a tokio runtime (here a current-thread test body),
/// instead of hanging: what it waits for may have to run on this thread.
#[tokio::test]
async fn blocking_forms_refuse_a_runtime_thread() {
    threadlet_process_setup();
    fn refused(what: &str, f: impl FnOnce()) {
        blocking_util::assert_refused(file!(), what, blocking_util::run_here(f));
    }
    let p = Process::new(square, 2).unwrap();
    refused("Process::blocking_join", || drop(p.blocking_join()));
    refused("Process::blocking_join_timeout", || {
        drop(p.blocking_join_timeout(Duration::ZERO));
    });
    let q = Queue::<u64>::new(0).unwrap();
    refused("Queue::blocking_put", || drop(q.blocking_put(1)));
    refused("Queue::blocking_get", || drop(q.blocking_get()));
    refused("Queue::blocking_put_timeout", || {
        drop(q.blocking_put_timeout(1, Duration::ZERO));
    });
    refused("Queue::blocking_get_timeout", || {
        drop(q.blocking_get_timeout(Duration::ZERO));
    });
    let (a, _b) = process::Pipe::<u64>::new(true).unwrap();
    refused("Connection::blocking_send", || drop(a.blocking_send(&1)));
    refused("Connection::blocking_recv", || drop(a.blocking_recv()));
    refused("Connection::blocking_recv_timeout", || {
        drop(a.blocking_recv_timeout(Duration::ZERO));
    });
    let pool = Pool::new(1).unwrap();
    refused("Pool::blocking_map", || {
        drop(pool.blocking_map(square, [1]))
    });
    refused("Pool::blocking_map_timeout", || {
        drop(pool.blocking_map_timeout(square, [1], Duration::ZERO));
    });
    refused("Pool::blocking_map_chunked", || {
        drop(pool.blocking_map_chunked(square, [1], 1))
    });
    refused("Pool::blocking_map_chunked_timeout", || {
        drop(pool.blocking_map_chunked_timeout(square, [1], 1, Duration::ZERO));
    });
    refused("Pool::blocking_apply", || {
        drop(pool.blocking_apply(square, 1))
    });
    refused("Pool::blocking_apply_timeout", || {
        drop(pool.blocking_apply_timeout(square, 1, Duration::ZERO));
    });
    refused("Pool::blocking_join", || drop(pool.blocking_join()));
    refused("Pool::blocking_join_timeout", || {
        drop(pool.blocking_join_timeout(Duration::ZERO));
    });
    let r = pool.apply_async(square, 3).unwrap();
    refused("AsyncResult::blocking_get", || drop(r.blocking_get()));
    refused("AsyncResult::blocking_get_timeout", || {
        drop(r.blocking_get_timeout(Duration::ZERO));
    });
    // The non-waiting forms are not refused, and the same waits work from a
    // thread that may block.
    assert_eq!(p.try_join(), Err(ProcessJoinError::NotStarted));
    assert_eq!(q.get_nowait(), Err(ProcessQueueError::Empty));
    let got = tokio::task::spawn_blocking(move || r.blocking_get());
    assert_eq!(got.await.unwrap(), Ok(9));
}
