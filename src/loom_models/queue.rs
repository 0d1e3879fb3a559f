//! Models of the queue core (`queue::core`): one mutex over the store, the
//! unfinished count and the shutdown flag, with the getters' and putters'
//! wait lists ([`RawSemaphore`](crate::wait::RawSemaphore) in PassOn
//! mode) and `join`'s broadcast list — through the public API, async
//! (`loom::future::block_on`) and blocking forms. Planted bugs (`.ci/loom`):
//! `queue-register-late` (a getter registers after unlocking: the classic
//! lost wake-up), `queue-no-close` (shutdown forgets the waiters),
//! `queue-join-register-late` (a joiner checks the task counts before it
//! registers, so the last `task_done` finds nobody to wake), and the wait
//! core's `lost-permit` (a woken waiter dropped without passing its wake-up
//! on).
//!
//! The task counts (`puts` / `done`, invariant I6 of `queue::core`) live
//! outside the queue's mutex: `task_done` is one swap, and `join` registers,
//! then announces itself with the `JOINING` bit, then re-checks. The last
//! models race those against each other and against `shutdown_immediate`.

use loom::future::block_on;
use loom::thread;

use super::{model, poll_once};
use crate::error::{GetError, PutError};
use crate::queue::{LifoQueue, Queue};

/// A bounded queue of one: items arrive in order, exactly once, and the
/// capacity is never exceeded while a producer and a consumer race.
#[test]
fn bounded_put_get_keeps_order_and_capacity() {
    model(|| {
        let q = Queue::new(1);
        let producer = {
            let q = q.clone();
            thread::spawn(move || {
                for i in 0..2 {
                    block_on(q.put(i)).unwrap();
                    assert!(q.len() <= 1);
                }
            })
        };
        let got: Vec<i32> = (0..2).map(|_| block_on(q.get()).unwrap()).collect();
        producer.join().unwrap();
        assert_eq!(got, [0, 1]);
        assert!(q.is_empty());
    });
}

/// The same hand-off through the blocking forms (OS threads parking).
#[test]
fn blocking_handoff_keeps_order_and_capacity() {
    model(|| {
        let q = Queue::<u8>::new(1);
        let producer = {
            let q = q.clone();
            thread::spawn(move || {
                q.blocking_put(1).unwrap();
                q.blocking_put(2).unwrap();
            })
        };
        assert!(q.len() <= 1);
        assert_eq!(q.blocking_get(), Ok(1));
        assert_eq!(q.blocking_get(), Ok(2));
        producer.join().unwrap();
        assert_eq!(q.len(), 0);
        assert_eq!(q.unfinished_tasks(), 2);
    });
}

/// A getter that finds the queue empty races a put: it must have joined the
/// wait list before the put looks for sleepers (invariant I1), or it sleeps
/// forever (`queue-register-late`).
#[test]
fn getter_racing_a_put_is_woken() {
    model(|| {
        let q = Queue::<u8>::new(0);
        let getter = {
            let q = q.clone();
            thread::spawn(move || block_on(q.get()))
        };
        q.put_nowait(1).unwrap();
        assert_eq!(getter.join().unwrap(), Ok(1));
    });
}

/// A `get` woken for an item that a barger took waits again; woken for the
/// next item and then dropped before returning, it must pass the wake-up on
/// to the next getter: nothing is lost (`lost-permit` in the wait core).
#[test]
fn dropped_get_after_handoff_loses_no_item() {
    model(|| {
        let q = Queue::new(0);
        let mut quitter = Box::pin(q.get());
        assert!(poll_once(&mut quitter).is_pending()); // queued
        q.put_nowait(1).unwrap(); // wakes the quitter...
        assert_eq!(q.get_nowait(), Ok(1)); // ...but a barger takes the item
        assert!(poll_once(&mut quitter).is_pending()); // waits again, first

        let producer = {
            let q = q.clone();
            thread::spawn(move || q.put_nowait(2).unwrap()) // wakes the quitter
        };
        let consumer = {
            let q = q.clone();
            thread::spawn(move || block_on(q.get()).unwrap())
        };
        drop(quitter);
        producer.join().unwrap();
        assert_eq!(consumer.join().unwrap(), 2);
        assert!(q.is_empty());
    });
}

/// Shutdown racing a blocked getter and a putter: the getter gets the item or
/// `ShutDown`, never hangs; a refused put hands its item back.
#[test]
fn shutdown_races_blocked_getter() {
    model(|| {
        let q = Queue::new(0);
        let getter = {
            let q = q.clone();
            thread::spawn(move || block_on(q.get()).ok())
        };
        let putter = {
            let q = q.clone();
            thread::spawn(move || q.put_nowait(7).map_err(|e| e.into_inner()))
        };
        q.shutdown();
        let got = getter.join().unwrap();
        let put = putter.join().unwrap();
        match (put, got) {
            (Ok(()), Some(7)) => assert!(q.is_empty()),
            (Ok(()), None) => assert_eq!(q.len(), 1),
            (Err(7), None) => assert!(q.is_empty()),
            other => panic!("impossible outcome {other:?}"),
        }
    });
}

/// Shutdown racing a put into a full LIFO: the item is either in or handed
/// back, never both, never lost.
#[test]
fn shutdown_racing_a_put_loses_nothing() {
    model(|| {
        let q = LifoQueue::<u8>::new(1);
        let putter = {
            let q = q.clone();
            thread::spawn(move || q.blocking_put(1))
        };
        let closer = {
            let q = q.clone();
            thread::spawn(move || q.shutdown())
        };
        let put = putter.join().unwrap();
        closer.join().unwrap();
        match put {
            Ok(()) => assert_eq!(q.get_nowait(), Ok(1)),
            Err(e) => assert_eq!(e, PutError::ShutDown(1)),
        }
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    });
}

/// A blocked getter is woken by a shutdown (`queue-no-close`).
#[test]
fn shutdown_wakes_a_blocked_getter() {
    model(|| {
        let q = Queue::<u8>::new(0);
        let getter = {
            let q = q.clone();
            thread::spawn(move || q.blocking_get())
        };
        q.shutdown();
        assert_eq!(getter.join().unwrap(), Err(GetError::ShutDown));
    });
}

/// `join` returns exactly after the last `task_done`.
#[test]
fn join_returns_after_the_last_task_done() {
    model(|| {
        let q = Queue::<u8>::new(0);
        q.put_nowait(1).unwrap();
        let worker = {
            let q = q.clone();
            thread::spawn(move || {
                q.blocking_get().unwrap();
                q.task_done().unwrap();
            })
        };
        q.blocking_join();
        assert_eq!(q.unfinished_tasks(), 0);
        worker.join().unwrap();
    });
}

/// A `Task` guard dropped on another thread marks its task done and wakes a
/// blocked `join` (unwinding runs the same drop; loom models no panics).
#[test]
fn task_guard_dropped_on_a_worker_wakes_join() {
    model(|| {
        let q = Queue::<u8>::new(0);
        q.put_nowait(1).unwrap();
        let worker = {
            let q = q.clone();
            thread::spawn(move || {
                let job = block_on(q.get_task()).unwrap();
                assert_eq!(*job, 1);
            })
        };
        q.blocking_join();
        assert_eq!(q.unfinished_tasks(), 0);
        worker.join().unwrap();
    });
}

/// `join` racing the last `task_done` (I6): the joiner registers before it
/// sets `JOINING` and re-checks, so the `task_done` that brings the count to
/// 0 either is seen by the re-check or sees the bit and wakes the joiner
/// (`queue-join-register-late`: checked first, registered after, asleep
/// forever).
#[test]
fn join_racing_the_last_task_done() {
    model(|| {
        let q = Queue::<u8>::new(0);
        q.put_nowait(1).unwrap();
        q.get_nowait().unwrap();
        let worker = {
            let q = q.clone();
            thread::spawn(move || q.task_done())
        };
        block_on(q.join());
        assert_eq!(q.unfinished_tasks(), 0);
        assert_eq!(worker.join().unwrap(), Ok(()));
        assert!(q.task_done().is_err(), "one task, one task_done");
    });
}

/// Two `task_done` calls racing a `join` and each other: both count, `join`
/// returns only after the second.
#[test]
fn join_waits_for_every_racing_task_done() {
    model(|| {
        let q = Queue::<u8>::new(0);
        for i in 0..2 {
            q.put_nowait(i).unwrap();
            q.get_nowait().unwrap();
        }
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let q = q.clone();
                thread::spawn(move || q.task_done())
            })
            .collect();
        block_on(q.join());
        assert_eq!(q.unfinished_tasks(), 0);
        for worker in workers {
            assert_eq!(worker.join().unwrap(), Ok(()));
        }
    });
}

/// `task_done` never takes the count below 0, also while a put races it:
/// of two calls against one taken item and one racing put, the first always
/// succeeds, the second only if it counted the put, and the count left is
/// exactly the puts not marked done.
#[test]
fn racing_task_done_never_goes_below_zero() {
    model(|| {
        let q = Queue::<u8>::new(0);
        q.put_nowait(1).unwrap();
        q.get_nowait().unwrap();
        let putter = {
            let q = q.clone();
            thread::spawn(move || q.put_nowait(2).unwrap())
        };
        let first = q.task_done();
        let second = q.task_done();
        putter.join().unwrap();
        assert_eq!(first, Ok(()));
        let marked = 1 + usize::from(second.is_ok());
        assert_eq!(q.unfinished_tasks(), 2 - marked);
        assert_eq!(q.len(), 1);
    });
}

/// `shutdown_immediate` racing a `task_done` made ahead of its get and a
/// blocked `join`: the drain counts the dropped items as done but never
/// below 0, the `task_done` succeeds only if it came before the drain, and
/// `join` returns either way (its wake-up comes from whichever of the two
/// reaches 0).
#[test]
fn shutdown_immediate_racing_task_done_and_join() {
    model(|| {
        let q = Queue::<u8>::new(0);
        q.put_nowait(1).unwrap();
        q.put_nowait(2).unwrap();
        let closer = {
            let q = q.clone();
            thread::spawn(move || q.shutdown_immediate())
        };
        let worker = {
            let q = q.clone();
            thread::spawn(move || q.task_done())
        };
        block_on(q.join());
        assert_eq!(q.unfinished_tasks(), 0);
        closer.join().unwrap();
        let _ = worker.join().unwrap(); // Ok before the drain, Err after it
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
        assert!(q.task_done().is_err());
    });
}
