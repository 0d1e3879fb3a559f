//! `get_task` and its [`Task`] guard (issue 13 item 8): the item's task is
//! marked done when the guard drops — after the work, while unwinding from a
//! panic, with a cancelled future — so a worker cannot hang `join`, and
//! `join` completes exactly at the last guard's drop.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use threadlet::error::GetError;
use threadlet::queue::Task;
use threadlet::{LifoQueue, PriorityQueue, Queue};
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

/// A worker task that panics while holding a `Task` does not hang `join`.
#[tokio::test]
async fn a_panicking_worker_task_does_not_hang_join() {
    let q = Queue::new(0);
    for i in 0..3 {
        q.put(i).await.unwrap();
    }
    let worker = {
        let q = q.clone();
        tokio::spawn(async move {
            while let Ok(job) = q.get_task().await {
                if *job == 1 {
                    panic!("job 1 fails (expected in this test)");
                }
            }
        })
    };
    assert!(worker.await.unwrap_err().is_panic());
    assert_eq!(q.unfinished_tasks(), 1, "job 2 left, jobs 0 and 1 done");
    drop(q.get_task().await.unwrap());
    tokio::time::timeout(Duration::from_secs(30), q.join())
        .await
        .expect("join returns");
}

/// The same with an OS thread on `blocking_get_task`.
#[test]
fn a_panicking_worker_thread_does_not_hang_join() {
    let q = Queue::new(0);
    q.put_nowait("job").unwrap();
    let worker = {
        let q = q.clone();
        std::thread::spawn(move || {
            let job = q.blocking_get_task().unwrap();
            panic!("{} fails (expected in this test)", *job);
        })
    };
    assert!(worker.join().is_err());
    assert!(q.blocking_join_timeout(Duration::from_secs(30)));
}

/// A worker cancelled (its task aborted) while it holds a `Task` marks it
/// done as its future is dropped.
#[tokio::test]
async fn a_cancelled_worker_does_not_hang_join() {
    let q = Queue::new(0);
    q.put("job").await.unwrap();
    let started = Arc::new(tokio::sync::Notify::new());
    let worker = {
        let (q, started) = (q.clone(), started.clone());
        tokio::spawn(async move {
            let _job = q.get_task().await.unwrap();
            started.notify_one();
            std::future::pending::<()>().await; // works forever
        })
    };
    started.notified().await;
    assert_eq!(q.unfinished_tasks(), 1);
    assert!(!q.join_nowait());
    worker.abort();
    assert!(worker.await.unwrap_err().is_cancelled());
    assert!(q.join_nowait(), "the cancelled worker's task is done");
    q.join().await;
}

/// A `get_task` cancelled while it waits takes nothing: the item put later
/// goes to the next getter, and is still unfinished until that one is done.
#[tokio::test]
async fn a_get_task_cancelled_while_waiting_takes_nothing() {
    let q = Queue::new(0);
    let mut first = spawn(q.get_task());
    assert_pending!(first.poll());
    let mut second = spawn(q.get_task());
    assert_pending!(second.poll());
    q.put_nowait(7).unwrap();
    assert!(first.is_woken());
    drop(first); // woken, dropped: the wake-up passes on
    assert!(second.is_woken());
    let job = assert_ready!(second.poll()).unwrap();
    assert_eq!(*job, 7);
    assert_eq!(q.unfinished_tasks(), 1);
    drop(job);
    assert_eq!(q.unfinished_tasks(), 0);
}

/// `join` stays pending — and is not even woken — until the last guard
/// drops, and completes at that drop.
#[test]
fn join_completes_exactly_at_the_last_guard_drop() {
    let q = Queue::new(0);
    for i in 0..3 {
        q.put_nowait(i).unwrap();
    }
    let tasks: Vec<Task<i32>> = (0..3).map(|_| q.get_task_nowait().unwrap()).collect();
    let mut join = spawn(q.join());
    assert_pending!(join.poll());
    let mut tasks = tasks.into_iter();
    drop(tasks.next());
    assert!(!join.is_woken());
    drop(tasks.next());
    assert!(!join.is_woken());
    assert_pending!(join.poll());
    assert_eq!(q.statistics().joiners, 1);
    drop(tasks.next());
    assert!(join.is_woken(), "woken by the last drop");
    assert_ready!(join.poll());
    assert_eq!(q.statistics().joiners, 0);
}

/// The item is dropped before its task is marked done: when `join` returns,
/// every item's destructor has run — also one that panics.
#[test]
fn the_item_is_dropped_before_the_task_is_done() {
    struct Job {
        q: Queue<Job>,
        saw_unfinished: Arc<AtomicBool>,
        panics: bool,
    }
    impl Drop for Job {
        fn drop(&mut self) {
            self.saw_unfinished
                .store(self.q.unfinished_tasks() == 1, Ordering::SeqCst);
            if self.panics {
                panic!("a destructor fails (expected in this test)");
            }
        }
    }
    for panics in [false, true] {
        let q = Queue::new(0);
        let saw_unfinished = Arc::new(AtomicBool::new(false));
        q.put_nowait(Job {
            q: q.clone(),
            saw_unfinished: saw_unfinished.clone(),
            panics,
        })
        .unwrap_or_else(|_| unreachable!());
        let job = q.get_task_nowait().unwrap();
        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(job)));
        assert_eq!(dropped.is_err(), panics);
        assert!(saw_unfinished.load(Ordering::SeqCst));
        assert_eq!(q.unfinished_tasks(), 0, "done even when the drop panics");
    }
}

/// `done` marks the task done now; `into_inner` hands the item out and
/// leaves its `task_done` to the caller; `DerefMut` reaches the item.
#[test]
fn done_into_inner_and_deref() {
    let q = Queue::new(0);
    q.put_nowait(vec![1]).unwrap();
    q.put_nowait(vec![2]).unwrap();
    let mut job = q.get_task_nowait().unwrap();
    job.push(10);
    assert_eq!(*job, [1, 10]);
    assert_eq!(format!("{job:?}"), "Task([1, 10])");
    job.done().unwrap();
    assert_eq!(q.unfinished_tasks(), 1);
    let job = q.get_task_nowait().unwrap().into_inner();
    assert_eq!(job, [2]);
    assert_eq!(q.unfinished_tasks(), 1, "into_inner leaves it unfinished");
    q.task_done().unwrap();
    q.put_nowait(vec![3]).unwrap();
    let job = q.get_task_nowait().unwrap();
    q.task_done().unwrap(); // somebody marks it done behind the guard's back
    assert!(job.done().is_err(), "nothing left to mark done");
    assert_eq!(q.unfinished_tasks(), 0);
}

/// A `Task` owns its queue handle: it moves into a spawned task (and a
/// thread), outliving the handle it was got from.
#[tokio::test]
async fn a_task_moves_into_a_spawned_task() {
    let q = Queue::new(0);
    q.put(String::from("job")).await.unwrap();
    let job = {
        let handle = q.clone();
        handle.get_task().await.unwrap()
    };
    let work = tokio::spawn(async move { job.len() });
    assert_eq!(work.await.unwrap(), 3);
    q.join().await;
}

/// Every form: errors as the plain get's, and the other orderings too.
#[tokio::test(start_paused = true)]
async fn every_form_and_every_ordering() {
    let q = Queue::<u8>::new(0);
    assert_eq!(q.get_task_nowait().unwrap_err(), GetError::Empty);
    let got = q.get_task_timeout(Duration::from_secs(5)).await;
    assert_eq!(got.unwrap_err(), GetError::Empty);
    q.put(1).await.unwrap();
    assert_eq!(*q.get_task_timeout(Duration::ZERO).await.unwrap(), 1);
    let blocking = {
        let q = q.clone();
        tokio::task::spawn_blocking(move || {
            let empty = q.blocking_get_task_timeout(Duration::from_millis(1));
            q.put_nowait(2).unwrap();
            let got = *q.blocking_get_task().unwrap();
            (empty.unwrap_err(), got)
        })
    };
    assert_eq!(blocking.await.unwrap(), (GetError::Empty, 2));
    q.shutdown();
    assert_eq!(q.get_task().await.unwrap_err(), GetError::ShutDown);
    q.join().await;

    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(0);
    for i in [2, 1, 3] {
        lifo.put_nowait(i).unwrap();
        prio.put_nowait(i).unwrap();
    }
    assert_eq!(*lifo.get_task().await.unwrap(), 3);
    assert_eq!(*prio.get_task().await.unwrap(), 1);
    lifo.shutdown_immediate();
    prio.shutdown_immediate();
    lifo.join().await;
    prio.join().await;
}
