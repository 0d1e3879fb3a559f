//! Fuzz of the queue core through the public API: producers and consumers
//! with pending `put` / `get` futures dropped at random.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Rng, for_each_seed, ops};
use crate::queue::{LifoQueue, PriorityQueue, Queue};

const TASKS: u64 = 16;

/// Every item put is got exactly once or is still queued; no waiter slot is
/// left; no place is held; `task_done` balances.
macro_rules! queue_fuzz {
    ($name:ident, $queue:ident) => {
        #[test]
        fn $name() {
            for_each_seed(|seed| async move {
                for maxsize in [0usize, 1, 4] {
                    let q = $queue::<u64>::new(maxsize);
                    let next = Arc::new(AtomicUsize::new(0));
                    let per_task = ops() as u64 / TASKS;
                    let tasks: Vec<_> = (0..TASKS)
                        .map(|t| {
                            let (q, next) = (q.clone(), next.clone());
                            tokio::spawn(async move {
                                let mut rng = Rng::new(seed ^ (t << 32) ^ maxsize as u64);
                                let mut got = Vec::new();
                                for _ in 0..per_task {
                                    if rng.below(2) == 0 {
                                        let item = next.fetch_add(1, Ordering::SeqCst) as u64;
                                        let put = q.put(item);
                                        let done = match rng.below(3) {
                                            0 => tokio::time::timeout(rng.tiny(), put).await.ok(),
                                            1 => tokio::select! {
                                                r = put => Some(r),
                                                () = tokio::task::yield_now() => None,
                                            },
                                            _ => Some(q.put_nowait(item)),
                                        };
                                        // A put that did not complete inserted
                                        // nothing: record the number as unused.
                                        match done {
                                            Some(Ok(())) => {}
                                            Some(Err(e)) => got.push(u64::MAX - e.into_inner()),
                                            None => got.push(u64::MAX - item),
                                        }
                                    } else {
                                        let get = q.get();
                                        let item = match rng.below(3) {
                                            0 => tokio::time::timeout(rng.tiny(), get).await.ok(),
                                            1 => tokio::select! {
                                                r = get => Some(r),
                                                () = tokio::task::yield_now() => None,
                                            },
                                            _ => Some(q.get_nowait()),
                                        };
                                        if let Some(Ok(item)) = item {
                                            got.push(item);
                                            q.task_done().unwrap();
                                        }
                                    }
                                }
                                got
                            })
                        })
                        .collect();
                    let mut seen = Vec::new();
                    for task in tasks {
                        seen.extend(task.await.expect("fuzz task panicked"));
                    }
                    while let Ok(item) = q.get_nowait() {
                        seen.push(item);
                        q.task_done().unwrap();
                    }
                    // Every number handed out is accounted for exactly once:
                    // got (item) or never inserted (MAX - item).
                    let mut numbers: Vec<u64> = seen
                        .iter()
                        .map(|&n| if n > u64::MAX / 2 { u64::MAX - n } else { n })
                        .collect();
                    numbers.sort_unstable();
                    let expected: Vec<u64> = (0..next.load(Ordering::SeqCst) as u64).collect();
                    assert_eq!(numbers, expected, "seed {seed}, maxsize {maxsize}");
                    assert_eq!(q.debug_state(), (0, 0, 0, 0, 0), "seed {seed}");
                    assert_eq!(q.unfinished_tasks(), 0);
                }
            });
        }
    };
}

queue_fuzz!(fifo, Queue);
queue_fuzz!(lifo, LifoQueue);
queue_fuzz!(priority, PriorityQueue);
