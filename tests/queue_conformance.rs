//! The queue's conformance checks, run once through the async forms and once
//! through the `blocking_*` forms (issue 12 item 2): the blocking forms are
//! the async futures driven on an OS thread, and this shows they behave
//! alike — order, capacity, FIFO service of blocked getters and putters,
//! timeouts that hand the item back, `join`, shutdown, and `Task` guards.
//!
//! Each check is plain sequential code over a [`Forms`] value; every actor
//! (the check body and its helpers) is an OS thread. [`Async`] polls the
//! async future of each call inside a tokio runtime (`Handle::block_on`,
//! tokio's timer for the timeouts); [`Blocking`] calls the `blocking_*` form.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use threadlet::Queue;
use threadlet::error::{GetError, PutError};
use threadlet::queue::Task;

/// One way to call every waiting operation of a queue.
trait Forms: Clone + Send + Sync + 'static {
    fn make() -> Self;
    fn put(&self, q: &Queue<u32>, item: u32) -> Result<(), PutError<u32>>;
    fn put_timeout(&self, q: &Queue<u32>, item: u32, d: Duration) -> Result<(), PutError<u32>>;
    fn get(&self, q: &Queue<u32>) -> Result<u32, GetError>;
    fn get_timeout(&self, q: &Queue<u32>, d: Duration) -> Result<u32, GetError>;
    fn get_task(&self, q: &Queue<u32>) -> Result<Task<u32>, GetError>;
    fn get_task_timeout(&self, q: &Queue<u32>, d: Duration) -> Result<Task<u32>, GetError>;
    fn join(&self, q: &Queue<u32>);
    fn join_timeout(&self, q: &Queue<u32>, d: Duration) -> bool;
}

/// The async forms, each future polled in a tokio runtime on the caller.
#[derive(Clone)]
struct Async(Arc<tokio::runtime::Runtime>);

impl Forms for Async {
    fn make() -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        Async(Arc::new(rt))
    }
    fn put(&self, q: &Queue<u32>, item: u32) -> Result<(), PutError<u32>> {
        self.0.handle().block_on(q.put(item))
    }
    fn put_timeout(&self, q: &Queue<u32>, item: u32, d: Duration) -> Result<(), PutError<u32>> {
        self.0.handle().block_on(q.put_timeout(item, d))
    }
    fn get(&self, q: &Queue<u32>) -> Result<u32, GetError> {
        self.0.handle().block_on(q.get())
    }
    fn get_timeout(&self, q: &Queue<u32>, d: Duration) -> Result<u32, GetError> {
        self.0.handle().block_on(q.get_timeout(d))
    }
    fn get_task(&self, q: &Queue<u32>) -> Result<Task<u32>, GetError> {
        self.0.handle().block_on(q.get_task())
    }
    fn get_task_timeout(&self, q: &Queue<u32>, d: Duration) -> Result<Task<u32>, GetError> {
        self.0.handle().block_on(q.get_task_timeout(d))
    }
    fn join(&self, q: &Queue<u32>) {
        self.0.handle().block_on(q.join())
    }
    fn join_timeout(&self, q: &Queue<u32>, d: Duration) -> bool {
        self.0.handle().block_on(q.join_timeout(d))
    }
}

/// The `blocking_*` forms.
#[derive(Clone)]
struct Blocking;

impl Forms for Blocking {
    fn make() -> Self {
        Blocking
    }
    fn put(&self, q: &Queue<u32>, item: u32) -> Result<(), PutError<u32>> {
        q.blocking_put(item)
    }
    fn put_timeout(&self, q: &Queue<u32>, item: u32, d: Duration) -> Result<(), PutError<u32>> {
        q.blocking_put_timeout(item, d)
    }
    fn get(&self, q: &Queue<u32>) -> Result<u32, GetError> {
        q.blocking_get()
    }
    fn get_timeout(&self, q: &Queue<u32>, d: Duration) -> Result<u32, GetError> {
        q.blocking_get_timeout(d)
    }
    fn get_task(&self, q: &Queue<u32>) -> Result<Task<u32>, GetError> {
        q.blocking_get_task()
    }
    fn get_task_timeout(&self, q: &Queue<u32>, d: Duration) -> Result<Task<u32>, GetError> {
        q.blocking_get_task_timeout(d)
    }
    fn join(&self, q: &Queue<u32>) {
        q.blocking_join()
    }
    fn join_timeout(&self, q: &Queue<u32>, d: Duration) -> bool {
        q.blocking_join_timeout(d)
    }
}

const SHORT: Duration = Duration::from_millis(30);
const LONG: Duration = Duration::from_secs(30);

/// Spins (with short sleeps) until `cond` holds; fails after [`LONG`].
fn until(what: &str, cond: impl Fn() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < LONG, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

fn helper<F: Forms, R: Send + 'static>(
    f: &F,
    q: &Queue<u32>,
    body: impl FnOnce(F, Queue<u32>) -> R + Send + 'static,
) -> thread::JoinHandle<R> {
    let (f, q) = (f.clone(), q.clone());
    thread::spawn(move || body(f, q))
}

/// Items arrive in order, exactly once, and a bounded queue never holds more
/// than `maxsize`.
fn order_and_capacity<F: Forms>(f: F) {
    let q = Queue::new(2);
    let producer = helper(&f, &q, |f, q| {
        for i in 0..200 {
            f.put(&q, i).unwrap();
        }
    });
    for i in 0..200 {
        assert!(q.statistics().len <= 2);
        assert_eq!(f.get(&q), Ok(i));
    }
    producer.join().unwrap();
    assert!(q.is_empty());
    assert_eq!(q.unfinished_tasks(), 200);
}

/// Getters blocked on an empty queue are served oldest first.
fn blocked_getters_are_served_fifo<F: Forms>(f: F) {
    let q = Queue::new(0);
    let getters: Vec<_> = (0..3)
        .map(|n| {
            let g = helper(&f, &q, |f, q| f.get(&q));
            until("the getter waits", || q.statistics().getters == n + 1);
            g
        })
        .collect();
    // One item at a time: each wakes exactly one getter, the oldest. (Items
    // put together wake the getters in order too, but woken OS threads then
    // race to run, and the first to run takes the first item, as in Python.)
    for (i, g) in (1..=3).zip(&getters) {
        q.put_nowait(i).unwrap();
        until("the oldest getter returns", || g.is_finished());
    }
    let got: Vec<_> = getters.into_iter().map(|g| g.join().unwrap()).collect();
    assert_eq!(got, [Ok(1), Ok(2), Ok(3)]);
}

/// Putters blocked on a full queue are served oldest first.
fn blocked_putters_are_served_fifo<F: Forms>(f: F) {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let putters: Vec<_> = (1..=3)
        .map(|n| {
            let p = helper(&f, &q, move |f, q| f.put(&q, n));
            until("the putter waits", || q.statistics().putters == n as usize);
            p
        })
        .collect();
    let got: Vec<_> = (0..4).map(|_| f.get(&q).unwrap()).collect();
    assert_eq!(got, [0, 1, 2, 3]);
    for p in putters {
        p.join().unwrap().unwrap();
    }
}

/// Timed forms: out of time a put hands its item back and a get fails with
/// `Empty`, neither changes the queue or leaves a waiter behind; in time
/// both succeed; a zero timeout never waits.
fn timeouts<F: Forms>(f: F) {
    let q = Queue::new(1);
    assert_eq!(f.get_timeout(&q, SHORT), Err(GetError::Empty));
    assert_eq!(f.get_timeout(&q, Duration::ZERO), Err(GetError::Empty));
    assert!(f.get_task_timeout(&q, SHORT).is_err());
    f.put_timeout(&q, 1, SHORT).unwrap();
    let start = Instant::now();
    assert_eq!(f.put_timeout(&q, 2, SHORT), Err(PutError::Full(2)));
    assert!(start.elapsed() >= SHORT, "the put waited its time");
    assert_eq!(f.put_timeout(&q, 3, Duration::ZERO), Err(PutError::Full(3)));
    let stats = q.statistics();
    assert_eq!((stats.len, stats.putters, stats.getters), (1, 0, 0));

    // In time: a helper frees the place / brings the item later.
    let getter = helper(&f, &q, |_, q| {
        thread::sleep(SHORT);
        q.get_nowait()
    });
    f.put_timeout(&q, 4, LONG).unwrap();
    assert_eq!(getter.join().unwrap(), Ok(1));
    assert_eq!(f.get_timeout(&q, Duration::MAX), Ok(4));
    let putter = helper(&f, &q, |_, q| {
        thread::sleep(SHORT);
        q.put_nowait(5)
    });
    assert_eq!(*f.get_task_timeout(&q, LONG).unwrap(), 5);
    putter.join().unwrap().unwrap();
    assert_eq!(q.unfinished_tasks(), 2, "1 and 4 taken, not done; 5 done");
}

/// `join` waits for the last `task_done`, not for the last get.
fn join_waits_for_the_last_task_done<F: Forms>(f: F) {
    let q = Queue::new(0);
    assert!(f.join_timeout(&q, SHORT), "nothing unfinished");
    for i in 0..3 {
        q.put_nowait(i).unwrap();
    }
    assert!(!f.join_timeout(&q, SHORT));
    for _ in 0..3 {
        f.get(&q).unwrap();
    }
    assert!(!f.join_timeout(&q, Duration::ZERO), "taken is not done");
    let joiner = helper(&f, &q, |f, q| f.join(&q));
    until("the joiner waits", || q.statistics().joiners == 1);
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert!(!joiner.is_finished());
    q.task_done().unwrap();
    joiner.join().unwrap();
    assert!(f.join_timeout(&q, LONG));
}

/// Shutdown wakes a blocked getter (`ShutDown`) and a blocked putter (its
/// item back), and a getter drains what is left first.
fn shutdown_wakes_blocked_getters_and_putters<F: Forms>(f: F) {
    let q = Queue::new(0);
    let getter = helper(&f, &q, |f, q| f.get(&q));
    until("the getter waits", || q.statistics().getters == 1);
    q.shutdown();
    assert_eq!(getter.join().unwrap(), Err(GetError::ShutDown));

    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    let putter = helper(&f, &q, |f, q| f.put(&q, 2));
    until("the putter waits", || q.statistics().putters == 1);
    q.shutdown();
    assert_eq!(putter.join().unwrap(), Err(PutError::ShutDown(2)));
    assert_eq!(f.get(&q), Ok(1), "drains what is left");
    assert_eq!(f.get(&q), Err(GetError::ShutDown));
    assert!(f.get_task(&q).is_err());
    let stats = q.statistics();
    assert!(stats.is_shutdown);
    assert_eq!((stats.len, stats.getters, stats.putters), (0, 0, 0));
}

/// A worker loop on `get_task` keeps `join` exact with no `task_done` call,
/// even when it panics half way.
fn task_workers_keep_join_exact<F: Forms>(f: F) {
    let q = Queue::new(4);
    let workers: Vec<_> = (0..2)
        .map(|_| {
            helper(&f, &q, |f, q| {
                let mut seen = 0;
                while let Ok(job) = f.get_task(&q) {
                    seen += 1;
                    if *job == 13 {
                        panic!("job 13 fails (expected in this test)");
                    }
                }
                seen
            })
        })
        .collect();
    for i in 0..40 {
        f.put(&q, i).unwrap();
    }
    f.join(&q);
    assert_eq!(q.unfinished_tasks(), 0);
    q.shutdown();
    let outcomes: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
    assert_eq!(outcomes.iter().filter(|o| o.is_err()).count(), 1);
}

macro_rules! both_forms {
    ($($check:ident),* $(,)?) => {
        mod async_forms {
            use super::*;
            $( #[test] fn $check() { super::$check(Async::make()) } )*
        }
        mod blocking_forms {
            use super::*;
            $( #[test] fn $check() { super::$check(Blocking::make()) } )*
        }
    };
}

both_forms!(
    order_and_capacity,
    blocked_getters_are_served_fifo,
    blocked_putters_are_served_fifo,
    timeouts,
    join_waits_for_the_last_task_done,
    shutdown_wakes_blocked_getters_and_putters,
    task_workers_keep_join_exact,
);
