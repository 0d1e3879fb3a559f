//! The table of queue forms (issue 13 item 2) and `statistics()` (issue 14
//! item 2).
//!
//! Every waiting operation — put, get, get a `Task`, join — has five forms:
//! `.await`, non-waiting, async timed, blocking, blocking timed. The table
//! below names each one as a function item, so a missing form fails to
//! compile, and calls each on a queue where it completes at once.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use threadlet::error::{GetError, PutError};
use threadlet::{LifoQueue, PriorityQueue, Queue, QueueStatistics};
use tokio_test::assert_pending;
use tokio_test::task::spawn;

/// Completes `fut`, which must be ready on its first poll.
fn ready<F: Future>(fut: F) -> F::Output {
    match pin!(fut).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("expected a ready future"),
    }
}

const D: Duration = Duration::ZERO;

#[test]
fn every_waiting_operation_has_every_form() {
    type Q = Queue<u8>;
    /// `.await`, non-waiting, async timed, blocking, blocking timed.
    type Forms = [fn(&Q); 5];
    // (operation, its five forms), each run on a queue where it needs no wait.
    let table: [(&str, Forms); 4] = [
        (
            "put",
            [
                |q| ready(Q::put(q, 1)).unwrap(),
                |q| Q::put_nowait(q, 1).unwrap(),
                |q| ready(Q::put_timeout(q, 1, D)).unwrap(),
                |q| Q::blocking_put(q, 1).unwrap(),
                |q| Q::blocking_put_timeout(q, 1, D).unwrap(),
            ],
        ),
        (
            "get",
            [
                |q| assert_eq!(ready(Q::get(q)), Ok(1)),
                |q| assert_eq!(Q::get_nowait(q), Ok(1)),
                |q| assert_eq!(ready(Q::get_timeout(q, D)), Ok(1)),
                |q| assert_eq!(Q::blocking_get(q), Ok(1)),
                |q| assert_eq!(Q::blocking_get_timeout(q, D), Ok(1)),
            ],
        ),
        (
            "get_task",
            [
                |q| assert_eq!(*ready(Q::get_task(q)).unwrap(), 1),
                |q| assert_eq!(*Q::get_task_nowait(q).unwrap(), 1),
                |q| assert_eq!(*ready(Q::get_task_timeout(q, D)).unwrap(), 1),
                |q| assert_eq!(*Q::blocking_get_task(q).unwrap(), 1),
                |q| assert_eq!(*Q::blocking_get_task_timeout(q, D).unwrap(), 1),
            ],
        ),
        (
            "join",
            [
                |q| ready(Q::join(q)),
                |q| assert!(Q::join_nowait(q)),
                |q| assert!(ready(Q::join_timeout(q, D))),
                |q| Q::blocking_join(q),
                |q| assert!(Q::blocking_join_timeout(q, D)),
            ],
        ),
    ];
    let q = Q::new(0);
    for (_, forms) in &table[..1] {
        forms.iter().for_each(|form| form(&q));
    }
    assert_eq!(q.len(), 5);
    for (_, forms) in &table[1..3] {
        for form in forms {
            q.put_nowait(1).unwrap();
            form(&q);
        }
    }
    assert_eq!(q.len(), 5, "the 5 first items are left");
    while q.get_nowait().is_ok() {
        q.task_done().unwrap();
    }
    for _ in 0..5 {
        q.task_done().unwrap(); // the 5 plain gets
    }
    assert_eq!(table[3].0, "join");
    for form in &table[3].1 {
        form(&q);
    }
}

/// The non-waiting and zero-timeout forms agree on a queue where they fail.
#[test]
fn zero_timeouts_are_the_non_waiting_forms() {
    let q = Queue::new(1);
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
    assert_eq!(ready(q.get_timeout(D)), Err(GetError::Empty));
    assert_eq!(q.blocking_get_timeout(D), Err(GetError::Empty));
    assert!(q.get_task_nowait().is_err());
    assert!(ready(q.get_task_timeout(D)).is_err());
    q.put_nowait(1).unwrap();
    assert_eq!(q.put_nowait(2), Err(PutError::Full(2)));
    assert_eq!(ready(q.put_timeout(2, D)), Err(PutError::Full(2)));
    assert_eq!(q.blocking_put_timeout(2, D), Err(PutError::Full(2)));
    assert!(!q.join_nowait());
    assert!(!ready(q.join_timeout(D)));
    assert!(!q.blocking_join_timeout(D));
    let s = q.statistics();
    assert_eq!(
        (s.getters, s.putters, s.joiners),
        (0, 0, 0),
        "no waiter left"
    );
}

fn stats(len: usize, maxsize: usize, unfinished: usize) -> impl Fn(&QueueStatistics) {
    move |s| {
        assert_eq!(
            (s.len, s.maxsize, s.unfinished_tasks),
            (len, maxsize, unfinished)
        );
    }
}

/// `statistics()` counts items, unfinished tasks, and who waits where; a
/// cancelled waiter leaves the count.
#[test]
fn statistics_count_items_and_waiters() {
    let q = Queue::new(1);
    let s = q.statistics();
    stats(0, 1, 0)(&s);
    assert_eq!(
        (s.getters, s.putters, s.joiners, s.is_shutdown),
        (0, 0, 0, false)
    );

    let mut getters: Vec<_> = (0..2).map(|_| spawn(q.get())).collect();
    getters.iter_mut().for_each(|g| assert_pending!(g.poll()));
    assert_eq!(q.statistics().getters, 2);
    drop(getters.pop());
    assert_eq!(q.statistics().getters, 1, "a cancelled getter leaves");
    q.put_nowait(1).unwrap();
    assert_eq!(ready(getters.pop().unwrap()), Ok(1));
    assert_eq!(q.statistics().getters, 0);

    q.put_nowait(2).unwrap();
    let mut putter = spawn(q.put(3));
    assert_pending!(putter.poll());
    let mut joiner = spawn(q.join());
    assert_pending!(joiner.poll());
    let s = q.statistics();
    stats(1, 1, 2)(&s);
    assert_eq!((s.getters, s.putters, s.joiners), (0, 1, 1));

    q.shutdown();
    assert!(matches!(ready(putter), Err(PutError::ShutDown(3))));
    let s = q.statistics();
    assert!(s.is_shutdown);
    assert_eq!((s.putters, s.joiners), (0, 1));
    drop(joiner);
    assert_eq!(q.statistics().joiners, 0);
}

#[test]
fn statistics_of_every_ordering() {
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(3);
    for i in 0..3 {
        lifo.put_nowait(i).unwrap();
        prio.put_nowait(i).unwrap();
    }
    lifo.get_nowait().unwrap();
    stats(2, 0, 3)(&lifo.statistics());
    stats(3, 3, 3)(&prio.statistics());
    prio.shutdown_immediate();
    stats(0, 3, 0)(&prio.statistics());
    assert!(prio.statistics().is_shutdown);
}
