//! `get_task` and its [`Task`] guard (issue 13 item 8): the item's task is
//! marked done when the guard drops — after the work, while unwinding from a
//! panic, with a cancelled future — so a worker cannot hang `join`, and
//! `join` completes exactly at the last guard's drop.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
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

// ----- the lock-free accounting (issue 11): `task_done` is one swap of a
// counter outside the queue's mutex, `join` registers and then announces
// itself on that counter -----

/// Many OS threads race their last `task_done` calls against several
/// joiners that start at the same moment: every joiner returns, and only
/// after every `task_done` was made (each worker counts its call just
/// before making it, so a `join` returning early would see the count short).
/// Many rounds, so the last call lands at every point of a joiner's
/// registration.
#[test]
fn join_racing_the_last_task_done_from_many_threads() {
    const WORKERS: usize = 4;
    const JOINERS: usize = 3;
    const PER_WORKER: usize = 4;
    for round in 0..200 {
        let q = Queue::new(0);
        for i in 0..WORKERS * PER_WORKER {
            q.put_nowait(i).unwrap();
        }
        let made = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(WORKERS + JOINERS));
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let (q, made, start) = (q.clone(), made.clone(), start.clone());
                std::thread::spawn(move || {
                    let taken: Vec<_> = (0..PER_WORKER).map(|_| q.get_nowait().unwrap()).collect();
                    start.wait();
                    for _ in taken {
                        made.fetch_add(1, Ordering::SeqCst);
                        q.task_done().unwrap();
                    }
                })
            })
            .collect();
        let joiners: Vec<_> = (0..JOINERS)
            .map(|_| {
                let (q, made, start) = (q.clone(), made.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    assert!(
                        q.blocking_join_timeout(Duration::from_secs(60)),
                        "round {round}"
                    );
                    made.load(Ordering::SeqCst)
                })
            })
            .collect();
        for worker in workers {
            worker.join().unwrap();
        }
        for joiner in joiners {
            assert_eq!(
                joiner.join().unwrap(),
                WORKERS * PER_WORKER,
                "round {round}: early"
            );
        }
        assert_eq!(q.unfinished_tasks(), 0);
        assert_eq!(q.statistics().joiners, 0);
        assert!(q.task_done().is_err());
    }
}

/// The same race between async tasks on a two-worker runtime, the last
/// `task_done` coming from `Task` guards dropped on many tasks at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_racing_the_last_guard_drops_from_many_tasks() {
    for round in 0..100 {
        let q = Queue::new(0);
        for i in 0..16 {
            q.put(i).await.unwrap();
        }
        let made = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..16 {
            let job = q.get_task().await.unwrap();
            let made = made.clone();
            workers.push(tokio::spawn(async move {
                tokio::task::yield_now().await;
                made.fetch_add(1, Ordering::SeqCst);
                drop(job);
            }));
        }
        let joiners: Vec<_> = (0..3)
            .map(|_| {
                let (q, made) = (q.clone(), made.clone());
                tokio::spawn(async move {
                    q.join().await;
                    made.load(Ordering::SeqCst)
                })
            })
            .collect();
        for joiner in joiners {
            let seen = tokio::time::timeout(Duration::from_secs(60), joiner)
                .await
                .expect("join returns")
                .unwrap();
            assert_eq!(seen, 16, "round {round}: join returned early");
        }
        for worker in workers {
            worker.await.unwrap();
        }
        assert_eq!(q.unfinished_tasks(), 0);
    }
}

/// `task_done` called more times than items were put, from many threads
/// while the puts are still arriving (Python allows a `task_done` ahead of
/// its `get`): the calls that succeed never outnumber the puts, the count
/// is never negative, and once the puts are in, exactly as many calls
/// succeed in total as items were put; the rest fail and change nothing.
#[test]
fn task_done_too_many_times_after_concurrent_puts() {
    const PUTTERS: usize = 4;
    const PER_PUTTER: usize = 250;
    const CALLERS: usize = 4;
    const PER_CALLER: usize = 300; // 1200 calls for 1000 puts
    let q = Queue::new(0);
    let start = Arc::new(Barrier::new(PUTTERS + CALLERS));
    let putters: Vec<_> = (0..PUTTERS)
        .map(|p| {
            let (q, start) = (q.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for i in 0..PER_PUTTER {
                    q.put_nowait(p * PER_PUTTER + i).unwrap();
                }
            })
        })
        .collect();
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (q, start) = (q.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                (0..PER_CALLER).filter(|_| q.task_done().is_ok()).count()
            })
        })
        .collect();
    for putter in putters {
        putter.join().unwrap();
    }
    let marked: usize = callers.into_iter().map(|c| c.join().unwrap()).sum();
    let puts = PUTTERS * PER_PUTTER;
    assert!(
        marked <= puts,
        "{marked} task_done calls succeeded for {puts} puts"
    );
    assert_eq!(q.unfinished_tasks(), puts - marked);
    let mut rest = 0;
    while q.task_done().is_ok() {
        rest += 1;
    }
    assert_eq!(marked + rest, puts);
    assert_eq!(q.unfinished_tasks(), 0);
    assert!(q.task_done().is_err(), "still refused, count unchanged");
    assert_eq!(q.unfinished_tasks(), 0);
    assert_eq!(
        q.len(),
        puts,
        "task_done ahead of get leaves the items stored"
    );
    assert!(q.join_nowait());
}

/// `shutdown_immediate` and `join`: with nothing taken, `join` returns at
/// once after the drain; with items taken, it waits for exactly those
/// guards, is not woken by the drain (nothing reached 0) and is woken by the
/// last drop; afterwards `task_done` is refused.
#[test]
fn shutdown_immediate_then_join() {
    let q = Queue::new(0);
    for i in 0..5 {
        q.put_nowait(i).unwrap();
    }
    q.shutdown_immediate();
    assert_eq!(q.unfinished_tasks(), 0);
    assert_ready!(spawn(q.join()).poll());
    assert!(q.task_done().is_err());

    let q = Queue::new(0);
    for i in 0..5 {
        q.put_nowait(i).unwrap();
    }
    let first = q.get_task_nowait().unwrap();
    let second = q.get_task_nowait().unwrap();
    let mut join = spawn(q.join());
    assert_pending!(join.poll());
    q.shutdown_immediate();
    assert_eq!(
        q.unfinished_tasks(),
        2,
        "the drain counted the 3 stored items"
    );
    assert_pending!(join.poll());
    drop(first);
    assert!(!join.is_woken());
    drop(second);
    assert!(join.is_woken(), "woken by the last drop");
    assert_ready!(join.poll());
    assert!(q.task_done().is_err());
    assert_eq!(q.statistics().joiners, 0);
}

/// `task_done` calls made ahead of their gets, then `shutdown_immediate`:
/// the drain counts the dropped items done only down to 0 (Python's floor),
/// and a blocked `join` is woken by the drain that reaches 0.
#[test]
fn shutdown_immediate_counts_the_drain_down_to_zero() {
    let q = Queue::new(0);
    for i in 0..3 {
        q.put_nowait(i).unwrap();
    }
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert_eq!(q.unfinished_tasks(), 1);
    let mut join = spawn(q.join());
    assert_pending!(join.poll());
    q.shutdown_immediate(); // drops 3 items, 1 unfinished
    assert_eq!(q.unfinished_tasks(), 0);
    assert!(join.is_woken());
    assert_ready!(join.poll());
    assert!(q.task_done().is_err());
}

/// `shutdown_immediate` racing worker threads' `task_done` calls and a
/// blocked joiner, many rounds: `join` always returns, the count ends at 0,
/// and every call that succeeded matched an item not dropped by the drain.
#[test]
fn shutdown_immediate_racing_task_done_and_join() {
    for round in 0..200 {
        let q = Queue::new(0);
        for i in 0..8 {
            q.put_nowait(i).unwrap();
        }
        let taken: Vec<_> = (0..4).map(|_| q.get_nowait().unwrap()).collect();
        let start = Arc::new(Barrier::new(4));
        let joiner = {
            let (q, start) = (q.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                q.blocking_join_timeout(Duration::from_secs(60))
            })
        };
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (q, start) = (q.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    (0..2).filter(|_| q.task_done().is_ok()).count()
                })
            })
            .collect();
        start.wait();
        q.shutdown_immediate();
        let marked: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
        assert!(joiner.join().unwrap(), "round {round}: join returned");
        assert_eq!(marked, taken.len(), "round {round}: taken items marked");
        assert_eq!(q.unfinished_tasks(), 0);
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    }
}
