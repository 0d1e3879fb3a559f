//! Every shutdown case of Python 3.13's `Queue.shutdown(immediate)` (CPython
//! `Lib/queue.py` and the "Terminating queues" docs), run over all three
//! orderings — they are one core.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use threadlet::error::{GetError, PutError, TaskDoneError};
use threadlet::queue::{BaseQueue, Fifo, Lifo, Order, Priority};
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

/// Runs a generic case once per ordering.
macro_rules! each_order {
    ($(#[$attr:meta])* $case:ident) => {
        mod $case {
            use super::*;
            $(#[$attr])*
            fn fifo() { super::$case::<Fifo>() }
            $(#[$attr])*
            fn lifo() { super::$case::<Lifo>() }
            $(#[$attr])*
            fn priority() { super::$case::<Priority>() }
        }
    };
}

fn new_q<O: Order<u32>>(maxsize: usize) -> BaseQueue<u32, O> {
    BaseQueue::new(maxsize)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

// ----- after shutdown() -----

fn every_put_form_fails_with_the_item_back<O: Order<u32>>() {
    for maxsize in [0, 4] {
        let q = new_q::<O>(maxsize);
        q.shutdown();
        assert!(q.is_shutdown());
        // Even with room, and even non-blocking: ShutDown is checked first.
        assert_eq!(q.put_nowait(1), Err(PutError::ShutDown(1)));
        assert_eq!(q.blocking_put(2), Err(PutError::ShutDown(2)));
        assert_eq!(
            q.blocking_put_timeout(3, Duration::from_secs(1)),
            Err(PutError::ShutDown(3))
        );
        rt().block_on(async {
            assert_eq!(q.put(4).await, Err(PutError::ShutDown(4)));
            assert_eq!(
                q.put_timeout(5, Duration::from_secs(1)).await,
                Err(PutError::ShutDown(5))
            );
        });
        assert_eq!(q.len(), 0);
        assert_eq!(q.unfinished_tasks(), 0);
    }
}
each_order!(
    #[test]
    every_put_form_fails_with_the_item_back
);

fn full_queue_reports_shut_down_not_full<O: Order<u32>>() {
    let q = new_q::<O>(1);
    q.put_nowait(1).unwrap();
    q.shutdown();
    assert_eq!(q.put_nowait(2), Err(PutError::ShutDown(2)));
}
each_order!(
    #[test]
    full_queue_reports_shut_down_not_full
);

fn gets_drain_what_is_left_then_fail_with_shut_down<O: Order<u32>>() {
    let q = new_q::<O>(0);
    for i in [3, 1, 2] {
        q.put_nowait(i).unwrap();
    }
    q.shutdown();
    let mut got = vec![q.get_nowait().unwrap()];
    rt().block_on(async {
        got.push(q.get().await.unwrap());
        got.push(q.get_timeout(Duration::from_secs(1)).await.unwrap());
        // Empty and shut down: ShutDown, never Empty, for every form.
        assert_eq!(q.get().await, Err(GetError::ShutDown));
        assert_eq!(
            q.get_timeout(Duration::from_secs(1)).await,
            Err(GetError::ShutDown)
        );
    });
    got.sort_unstable();
    assert_eq!(got, [1, 2, 3]);
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    assert_eq!(q.blocking_get(), Err(GetError::ShutDown));
    assert_eq!(
        q.blocking_get_timeout(Duration::from_secs(1)),
        Err(GetError::ShutDown)
    );
}
each_order!(
    #[test]
    gets_drain_what_is_left_then_fail_with_shut_down
);

fn blocked_putters_wake_with_their_items<O: Order<u32>>() {
    let q = new_q::<O>(1);
    q.put_nowait(0).unwrap();
    let mut a = spawn(q.put(1));
    let mut b = spawn(q.put(2));
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    q.shutdown();
    assert!(a.is_woken() && b.is_woken());
    assert_eq!(assert_ready!(a.poll()), Err(PutError::ShutDown(1)));
    assert_eq!(assert_ready!(b.poll()), Err(PutError::ShutDown(2)));
    // The item already in stays for the getters.
    assert_eq!(q.get_nowait(), Ok(0));
}
each_order!(
    #[test]
    blocked_putters_wake_with_their_items
);

fn blocked_getters_wake_with_shut_down<O: Order<u32>>() {
    let q = new_q::<O>(0);
    let mut a = spawn(q.get());
    let mut b = spawn(q.get());
    let mut s = q.stream();
    let mut next = spawn(s.next());
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    assert_pending!(next.poll());
    q.shutdown();
    assert!(a.is_woken() && b.is_woken() && next.is_woken());
    assert_eq!(assert_ready!(a.poll()), Err(GetError::ShutDown));
    assert_eq!(assert_ready!(b.poll()), Err(GetError::ShutDown));
    assert_eq!(assert_ready!(next.poll()), None);
}
each_order!(
    #[test]
    blocked_getters_wake_with_shut_down
);

fn woken_getter_still_takes_the_item_left<O: Order<u32>>() {
    let q = new_q::<O>(0);
    let mut a = spawn(q.get());
    assert_pending!(a.poll());
    q.put_nowait(7).unwrap(); // a is woken for it ...
    q.shutdown(); // ... and the shutdown lands before a runs
    assert_eq!(assert_ready!(a.poll()), Ok(7));
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
}
each_order!(
    #[test]
    woken_getter_still_takes_the_item_left
);

fn join_returns_once_the_rest_is_got_and_done<O: Order<u32>>() {
    let q = new_q::<O>(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    q.shutdown();
    let mut j = spawn(q.join());
    assert_pending!(j.poll()); // join never fails with ShutDown: it waits
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    assert_pending!(j.poll());
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    assert_ready!(j.poll());
    assert_eq!(q.task_done(), Err(TaskDoneError));
}
each_order!(
    #[test]
    join_returns_once_the_rest_is_got_and_done
);

// ----- after shutdown_immediate() -----

/// An item that counts its drops.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Tracked(u32, DropCount);

#[derive(Debug, Clone, Default)]
struct DropCount(Arc<AtomicUsize>);

impl PartialEq for DropCount {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for DropCount {}
impl PartialOrd for DropCount {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for DropCount {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        (self.1).0.fetch_add(1, Ordering::SeqCst);
    }
}

fn immediate_drops_the_rest_and_counts_it_done<O: Order<Tracked>>() {
    let drops = DropCount::default();
    let q = BaseQueue::<Tracked, O>::new(0);
    for i in 0..5 {
        q.put_nowait(Tracked(i, drops.clone())).unwrap();
    }
    let taken = q.get_nowait().unwrap();
    assert_eq!(q.unfinished_tasks(), 5);
    let mut j = spawn(q.join());
    assert_pending!(j.poll());
    q.shutdown_immediate();
    assert_eq!(drops.0.load(Ordering::SeqCst), 4); // dropped, not kept
    assert_eq!(q.len(), 0);
    assert_eq!(q.unfinished_tasks(), 1); // the taken one still holds join
    assert_eq!(q.get_nowait().unwrap_err(), GetError::ShutDown);
    assert!(!j.is_woken());
    assert_pending!(j.poll());
    drop(taken);
    q.task_done().unwrap();
    assert!(j.is_woken());
    assert_ready!(j.poll());
    // Nothing outstanding any more: one more task_done is an error.
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert_eq!(drops.0.load(Ordering::SeqCst), 5);
}

#[test]
fn immediate_drops_the_rest_and_counts_it_done_fifo() {
    immediate_drops_the_rest_and_counts_it_done::<Fifo>();
}
#[test]
fn immediate_drops_the_rest_and_counts_it_done_lifo() {
    immediate_drops_the_rest_and_counts_it_done::<Lifo>();
}
#[test]
fn immediate_drops_the_rest_and_counts_it_done_priority() {
    immediate_drops_the_rest_and_counts_it_done::<Priority>();
}

fn immediate_releases_a_joiner_when_nothing_was_taken<O: Order<u32>>() {
    let q = new_q::<O>(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    let mut j = spawn(q.join());
    assert_pending!(j.poll());
    q.shutdown_immediate();
    assert!(j.is_woken());
    assert_ready!(j.poll());
    assert_eq!(q.unfinished_tasks(), 0);
}
each_order!(
    #[test]
    immediate_releases_a_joiner_when_nothing_was_taken
);

fn immediate_never_takes_the_count_below_done_items<O: Order<u32>>() {
    let q = new_q::<O>(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    q.task_done().unwrap(); // Python allows marking before getting
    assert_eq!(q.unfinished_tasks(), 0);
    q.shutdown_immediate(); // drops item 2: count stays at 0, not -1
    assert_eq!(q.unfinished_tasks(), 0);
}
each_order!(
    #[test]
    immediate_never_takes_the_count_below_done_items
);

fn immediate_wakes_blocked_getters_and_putters<O: Order<u32>>() {
    let empty = new_q::<O>(0);
    let mut g = spawn(empty.get());
    assert_pending!(g.poll());
    let full = new_q::<O>(1);
    full.put_nowait(0).unwrap();
    let mut p = spawn(full.put(1));
    assert_pending!(p.poll());
    empty.shutdown_immediate();
    full.shutdown_immediate();
    assert_eq!(assert_ready!(g.poll()), Err(GetError::ShutDown));
    assert_eq!(assert_ready!(p.poll()), Err(PutError::ShutDown(1)));
    assert_eq!(full.get_nowait(), Err(GetError::ShutDown));
}
each_order!(
    #[test]
    immediate_wakes_blocked_getters_and_putters
);

fn woken_getter_gets_nothing_after_immediate<O: Order<u32>>() {
    let q = new_q::<O>(0);
    let mut a = spawn(q.get());
    assert_pending!(a.poll());
    q.put_nowait(7).unwrap(); // a is woken for it, then the queue is emptied
    q.shutdown_immediate();
    assert_eq!(assert_ready!(a.poll()), Err(GetError::ShutDown));
}
each_order!(
    #[test]
    woken_getter_gets_nothing_after_immediate
);

// ----- order of calls, idempotence -----

fn shutdown_is_idempotent_in_every_order<O: Order<u32>>() {
    // plain, plain
    let q = new_q::<O>(0);
    q.put_nowait(1).unwrap();
    q.shutdown();
    q.shutdown();
    assert_eq!(q.get_nowait(), Ok(1));
    // plain, then immediate: drops what the first left
    let q = new_q::<O>(0);
    q.put_nowait(1).unwrap();
    q.shutdown();
    q.shutdown_immediate();
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    assert_eq!(q.unfinished_tasks(), 0);
    // immediate, then plain, then immediate again
    let q = new_q::<O>(2);
    q.put_nowait(1).unwrap();
    q.shutdown_immediate();
    q.shutdown();
    q.shutdown_immediate();
    assert!(q.is_shutdown());
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    assert_eq!(q.put_nowait(3), Err(PutError::ShutDown(3)));
}
each_order!(
    #[test]
    shutdown_is_idempotent_in_every_order
);

// ----- blocking forms -----

fn blocked_threads_wake_on_shutdown<O: Order<u32>>()
where
    O::Store: Send,
{
    let empty = new_q::<O>(0);
    let full = new_q::<O>(1);
    full.put_nowait(0).unwrap();
    let getter = {
        let q = empty.clone();
        std::thread::spawn(move || q.blocking_get())
    };
    let putter = {
        let q = full.clone();
        std::thread::spawn(move || q.blocking_put(1))
    };
    // Give both threads time to block (the result does not depend on it).
    std::thread::sleep(Duration::from_millis(50));
    empty.shutdown();
    full.shutdown();
    assert_eq!(getter.join().unwrap(), Err(GetError::ShutDown));
    assert_eq!(putter.join().unwrap(), Err(PutError::ShutDown(1)));
}
each_order!(
    #[test]
    blocked_threads_wake_on_shutdown
);

// ----- shutdown racing real traffic: every item accounted for -----

fn accounting_under_racing_shutdown(immediate: bool) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let drops = DropCount::default();
    let (put_ok, got) = rt.block_on(async {
        let q = BaseQueue::<Tracked, Fifo>::new(8);
        let put_ok = Arc::new(AtomicUsize::new(0));
        let producers: Vec<_> = (0..4)
            .map(|p| {
                let q = q.clone();
                let put_ok = put_ok.clone();
                let drops = drops.clone();
                tokio::spawn(async move {
                    for i in 0.. {
                        match q.put(Tracked(p * 1_000_000 + i, drops.clone())).await {
                            Ok(()) => put_ok.fetch_add(1, Ordering::SeqCst),
                            Err(e) => {
                                assert!(e.is_shut_down());
                                break;
                            }
                        };
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..4)
            .map(|_| {
                let q = q.clone();
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    loop {
                        match q.get().await {
                            Ok(item) => {
                                got.push(item.0);
                                q.task_done().unwrap();
                            }
                            Err(e) => {
                                assert_eq!(e, GetError::ShutDown);
                                break got;
                            }
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(30)).await;
        if immediate {
            q.shutdown_immediate();
        } else {
            q.shutdown();
        }
        for p in producers {
            p.await.unwrap();
        }
        let mut got = Vec::new();
        for c in consumers {
            got.extend(c.await.unwrap());
        }
        // join never hangs after a shutdown once consumers are done.
        q.join().await;
        assert_eq!(q.len(), 0);
        (put_ok.load(Ordering::SeqCst), got)
    });
    let mut unique = got.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), got.len(), "an item was got twice");
    let dropped_in_queue = drops.0.load(Ordering::SeqCst) - got.len()
        // failed puts dropped their items too: one per producer
        - 4;
    if immediate {
        assert_eq!(got.len() + dropped_in_queue, put_ok);
    } else {
        assert_eq!(dropped_in_queue, 0, "plain shutdown must not drop items");
        assert_eq!(got.len(), put_ok, "every item put must be got");
    }
    assert!(put_ok > 0);
}

#[test]
fn racing_shutdown_loses_nothing() {
    for _ in 0..5 {
        accounting_under_racing_shutdown(false);
    }
}

#[test]
fn racing_immediate_shutdown_accounts_for_every_item() {
    for _ in 0..5 {
        accounting_under_racing_shutdown(true);
    }
}
