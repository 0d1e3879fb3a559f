//! User code that panics inside the queue (issue 16, item 4): a
//! `PriorityQueue` item whose `Ord::cmp` panics during a put or a get, and an
//! item whose `Drop` panics while `shutdown_immediate` drops it. For all three
//! orderings, every count — stored items, free places, `unfinished_tasks` —
//! stays consistent, nothing pushed is lost, and `join` is not hung. (FIFO and
//! LIFO run no user code in their stores; they go through the same checks.)
//! Python's heap keeps a pushed item retrievable and never loses capacity.

use std::cmp::Ordering;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

use threadlet::error::GetError;
use threadlet::queue::{BaseQueue, Fifo, Lifo, Order, Priority};
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

/// An item whose comparison panics while its bomb is armed.
#[derive(Debug)]
struct Touchy {
    value: u32,
    bomb: Arc<AtomicBool>,
}

impl Ord for Touchy {
    fn cmp(&self, other: &Self) -> Ordering {
        if self.bomb.load(SeqCst) {
            panic!("Ord::cmp panicked (planted by the test)");
        }
        self.value.cmp(&other.value)
    }
}

impl PartialOrd for Touchy {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for Touchy {}

const MAXSIZE: usize = 3;

struct Setup<O: Order<Touchy>> {
    q: BaseQueue<Touchy, O>,
    bomb: Arc<AtomicBool>,
}

impl<O: Order<Touchy>> Setup<O> {
    fn new() -> Self {
        Self {
            q: BaseQueue::new(MAXSIZE),
            bomb: Arc::new(AtomicBool::new(false)),
        }
    }

    fn item(&self, value: u32) -> Touchy {
        Touchy {
            value,
            bomb: self.bomb.clone(),
        }
    }

    /// Fills the queue to exactly `MAXSIZE`, checks the next put is refused,
    /// gets everything, marks it all done and joins: the capacity and the
    /// accounting are whole again.
    fn assert_whole(&self, mut taken_not_done: usize) {
        let q = &self.q;
        let stored = q.len();
        assert_eq!(q.unfinished_tasks(), stored + taken_not_done);
        for v in stored..MAXSIZE {
            q.put_nowait(self.item(100 + v as u32)).unwrap();
        }
        assert_eq!(q.len(), MAXSIZE, "no place was lost");
        assert!(q.put_nowait(self.item(999)).unwrap_err().is_full());
        while q.get_nowait().is_ok() {
            taken_not_done += 1;
        }
        assert_eq!(q.get_nowait().unwrap_err(), GetError::Empty);
        for _ in 0..taken_not_done {
            q.task_done().unwrap();
        }
        assert_eq!(q.unfinished_tasks(), 0);
        assert!(q.task_done().is_err());
        futures::executor::block_on(q.join()); // returns: nothing unfinished
    }
}

fn panicked<R>(f: impl FnOnce() -> R) -> bool {
    catch_unwind(AssertUnwindSafe(f)).is_err()
}

fn put_with_panicking_cmp<O: Order<Touchy>>(cmp_runs: bool) {
    let s = Setup::<O>::new();
    s.q.put_nowait(s.item(1)).unwrap();
    s.bomb.store(true, SeqCst);
    let item = s.item(2);
    assert_eq!(panicked(|| s.q.put_nowait(item)), cmp_runs);
    s.bomb.store(false, SeqCst);
    // The pushed item stayed in the queue, counted and retrievable.
    assert_eq!(s.q.len(), 2);
    let mut got: Vec<u32> = (0..2).map(|_| s.q.get_nowait().unwrap().value).collect();
    got.sort_unstable();
    assert_eq!(got, [1, 2]);
    s.assert_whole(2);
}

fn get_with_panicking_cmp<O: Order<Touchy>>(cmp_runs: bool) {
    let s = Setup::<O>::new();
    for v in 1..=3 {
        s.q.put_nowait(s.item(v)).unwrap();
    }
    s.bomb.store(true, SeqCst);
    let outcome = catch_unwind(AssertUnwindSafe(|| s.q.get_nowait()));
    s.bomb.store(false, SeqCst);
    match outcome {
        // The popped item was dropped while unwinding: it no longer counts
        // as unfinished (as if done) and its place is free again.
        Err(_) => {
            assert!(cmp_runs);
            assert_eq!(s.q.len(), 2);
            s.assert_whole(0);
        }
        Ok(got) => {
            assert!(!cmp_runs);
            got.unwrap();
            assert_eq!(s.q.len(), 2);
            s.assert_whole(1);
        }
    }
}

#[test]
fn priority_put_whose_cmp_panics_keeps_the_item_and_every_count() {
    put_with_panicking_cmp::<Priority>(true);
}

#[test]
fn priority_get_whose_cmp_panics_loses_no_place_and_join_returns() {
    get_with_panicking_cmp::<Priority>(true);
}

#[test]
fn fifo_and_lifo_counts_stay_whole_around_the_same_sequences() {
    put_with_panicking_cmp::<Fifo>(false);
    put_with_panicking_cmp::<Lifo>(false);
    get_with_panicking_cmp::<Fifo>(false);
    get_with_panicking_cmp::<Lifo>(false);
}

#[test]
fn a_parked_getter_gets_the_item_of_a_put_whose_cmp_panicked() {
    let s = Setup::<Priority>::new();
    s.q.put_nowait(s.item(5)).unwrap();
    let mut hold = spawn(s.q.get());
    assert_eq!(assert_ready!(hold.poll()).unwrap().value, 5);
    drop(hold);
    let mut getter = spawn(s.q.get());
    assert_pending!(getter.poll());
    s.q.put_nowait(s.item(7)).unwrap();
    assert!(getter.is_woken());
    assert_eq!(assert_ready!(getter.poll()).unwrap().value, 7);
    let mut getter = spawn(s.q.get());
    assert_pending!(getter.poll());
    s.q.put_nowait(s.item(8)).unwrap();
    s.bomb.store(true, SeqCst);
    // A second put, with an item stored, compares -> panics; both items
    // must still reach getters.
    assert!(panicked(|| s.q.put_nowait(s.item(9))));
    s.bomb.store(false, SeqCst);
    assert!(getter.is_woken());
    let first = assert_ready!(getter.poll()).unwrap().value;
    let second = s.q.get_nowait().unwrap().value;
    let mut got = [first, second];
    got.sort_unstable();
    assert_eq!(got, [8, 9]);
    s.assert_whole(4);
}

/// An item whose `Drop` panics (once).
struct Grenade(Arc<AtomicBool>);

impl Drop for Grenade {
    fn drop(&mut self) {
        if self.0.swap(false, SeqCst) {
            panic!("Drop panicked (planted by the test)");
        }
    }
}

impl PartialEq for Grenade {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Grenade {}
impl PartialOrd for Grenade {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Grenade {
    fn cmp(&self, _: &Self) -> Ordering {
        Ordering::Equal
    }
}

fn shutdown_immediate_with_panicking_drop<O: Order<Grenade>>() {
    let armed = Arc::new(AtomicBool::new(false));
    let q = BaseQueue::<Grenade, O>::new(MAXSIZE);
    for _ in 0..MAXSIZE {
        q.put_nowait(Grenade(armed.clone())).unwrap();
    }
    let taken = q.get_nowait().unwrap();
    // A putter waiting for a place must be told about the shutdown.
    let mut putter = spawn(q.put(Grenade(Arc::new(AtomicBool::new(false)))));
    q.put_nowait(Grenade(Arc::new(AtomicBool::new(false))))
        .unwrap();
    assert_pending!(putter.poll());
    armed.store(true, SeqCst);
    assert!(panicked(|| q.shutdown_immediate()));
    assert!(q.is_shutdown());
    assert_eq!(q.len(), 0);
    assert!(putter.is_woken());
    assert!(assert_ready!(putter.poll()).unwrap_err().is_shut_down());
    assert_eq!(q.unfinished_tasks(), 1); // `taken` only
    drop(taken);
    q.task_done().unwrap();
    futures::executor::block_on(q.join());
}

#[test]
fn shutdown_immediate_whose_item_drop_panics_leaves_consistent_counts() {
    shutdown_immediate_with_panicking_drop::<Fifo>();
    shutdown_immediate_with_panicking_drop::<Lifo>();
    shutdown_immediate_with_panicking_drop::<Priority>();
}
