//! `Semaphore`: random interleavings of waiters, bargers, releases and cancellations
//! at every state: permits are conserved, and a free permit never sits
//! idle while a queued waiter sleeps un-woken.

use std::future::Future;
use std::pin::Pin;

use proptest::prelude::*;
use threadlet::Semaphore;
use tokio_test::task::{Spawn, spawn};

type Waiter = Spawn<Pin<Box<dyn Future<Output = ()> + Send>>>;

#[derive(Debug, Clone)]
enum Op {
    /// A new waiter arrives and is polled once.
    Arrive,
    /// Poll waiter `i` (mod the number pending) if it was woken.
    Poll(usize),
    /// Drop pending waiter `i`, whatever its state.
    Cancel(usize),
    /// A holder gives one permit back.
    Release,
    /// A barger tries to take a permit without queueing.
    Barge,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Arrive),
        3 => any::<usize>().prop_map(Op::Poll),
        2 => any::<usize>().prop_map(Op::Cancel),
        3 => Just(Op::Release),
        2 => Just(Op::Barge),
    ]
}

proptest! {
    #[test]
    fn permits_are_conserved_and_never_idle(
        permits in 0usize..3,
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let sem = Semaphore::new(permits);
        let mut pending: Vec<Waiter> = Vec::new();
        let mut held = 0usize;
        let mut released_extra = 0usize;
        for op in ops {
            match op {
                Op::Arrive => {
                    let s = sem.clone();
                    let mut w: Waiter = spawn(Box::pin(async move { s.acquire().await }));
                    if w.poll().is_ready() {
                        held += 1;
                    } else {
                        pending.push(w);
                    }
                }
                Op::Poll(i) if !pending.is_empty() => {
                    let i = i % pending.len();
                    if pending[i].is_woken() && pending[i].poll().is_ready() {
                        drop(pending.remove(i));
                        held += 1;
                    }
                }
                Op::Cancel(i) if !pending.is_empty() => {
                    let i = i % pending.len();
                    drop(pending.remove(i));
                }
                Op::Release => {
                    if held > 0 {
                        held -= 1;
                    } else {
                        released_extra += 1; // Python allows it
                    }
                    sem.release().unwrap();
                }
                Op::Barge if sem.try_acquire() => held += 1,
                _ => {}
            }
            // Liveness: a free permit is never left while every queued
            // waiter sleeps.
            if sem.value() > 0 && !pending.is_empty() {
                prop_assert!(
                    pending.iter().any(|w| w.is_woken()),
                    "{} free permits, {} waiters, none woken",
                    sem.value(),
                    pending.len()
                );
            }
        }
        // Let every woken waiter finish, then cancel the rest.
        loop {
            let before = pending.len();
            pending.retain_mut(|w| {
                if w.is_woken() && w.poll().is_ready() {
                    held += 1;
                    false
                } else {
                    true
                }
            });
            if pending.len() == before {
                break;
            }
        }
        drop(pending);
        for _ in 0..held {
            sem.release().unwrap();
        }
        // Conservation: nothing leaked, nothing duplicated, no slot left.
        let stats = sem.statistics();
        prop_assert_eq!((stats.value, stats.waiters), (permits + released_extra, 0));
    }
}
