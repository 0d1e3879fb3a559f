//! Fuzz of the sync primitives through their public API.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Rng, for_each_seed, ops};
use crate::sync::{BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore};

const TASKS: usize = 16;

/// Awaits `fut` in one of four ways chosen by `rng`: to completion, under a
/// zero or tiny timeout, or as a `select!` loser against `yield_now`. Returns
/// `None` when the future was dropped before it completed.
async fn maybe_cancel<F: Future>(rng: &mut Rng, fut: F) -> Option<F::Output> {
    match rng.below(4) {
        0 | 1 => tokio::time::timeout(rng.tiny(), fut).await.ok(),
        2 => tokio::select! {
            out = fut => Some(out),
            () = tokio::task::yield_now() => None,
        },
        _ => Some(fut.await),
    }
}

/// Runs `TASKS` tasks of `ops() / TASKS` steps each; `step(task, rng)` is one
/// random operation.
async fn run_tasks<S, F, Fut>(seed: u64, shared: S, step: F)
where
    S: Clone + Send + 'static,
    F: Fn(S, Rng) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = Rng> + Send,
{
    let per_task = ops() / TASKS;
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let shared = shared.clone();
            tokio::spawn(async move {
                let mut rng = Rng::new(seed ^ ((t as u64) << 32));
                for _ in 0..per_task {
                    rng = step(shared.clone(), rng).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("fuzz task panicked");
    }
}

/// Inside a critical section: checks at most `max` holders, maybe yields.
async fn critical(inside: &AtomicUsize, max: usize, rng: &mut Rng) {
    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
    assert!(now <= max, "{now} holders, at most {max} allowed");
    if rng.below(3) == 0 {
        tokio::task::yield_now().await;
    }
    inside.fetch_sub(1, Ordering::SeqCst);
}

#[test]
fn lock() {
    for_each_seed(|seed| async move {
        let lock = Lock::new();
        let inside = Arc::new(AtomicUsize::new(0));
        run_tasks(
            seed,
            (lock.clone(), inside),
            |(lock, inside), mut rng| async move {
                if rng.below(2) == 0 {
                    // Python style.
                    let got = match rng.below(3) {
                        0 => lock.try_acquire(),
                        _ => maybe_cancel(&mut rng, lock.acquire()).await.is_some(),
                    };
                    if got {
                        critical(&inside, 1, &mut rng).await;
                        lock.release().expect("release of a held lock");
                    }
                } else if let Some(_guard) = maybe_cancel(&mut rng, lock.lock()).await {
                    critical(&inside, 1, &mut rng).await;
                }
                rng
            },
        )
        .await;
        assert_eq!(lock.__debug_state(), (1, 0, 0), "seed {seed}");
        assert!(!lock.locked());
    });
}

#[test]
fn rlock() {
    for_each_seed(|seed| async move {
        let lock = RLock::new();
        let inside = Arc::new(AtomicUsize::new(0));
        run_tasks(
            seed,
            (lock.clone(), inside),
            |(lock, inside), mut rng| async move {
                if maybe_cancel(&mut rng, lock.acquire()).await.is_some() {
                    let depth = 1 + rng.below(3) as usize;
                    for _ in 1..depth {
                        // Re-entry by the owner completes on its first poll, so
                        // even a zero timeout or a select! cannot cancel it.
                        assert!(maybe_cancel(&mut rng, lock.acquire()).await.is_some());
                    }
                    let held = lock.recursion_count();
                    assert_eq!(held, depth);
                    critical(&inside, 1, &mut rng).await;
                    for _ in 0..held {
                        lock.release().expect("release by the owner");
                    }
                    assert!(!lock.is_owned());
                }
                rng
            },
        )
        .await;
        assert_eq!(lock.__debug_state(), (1, 0, 0), "seed {seed}");
        assert!(!lock.locked());
        assert_eq!(lock.count(), 0);
    });
}

#[test]
fn semaphore_and_bounded_semaphore() {
    for_each_seed(|seed| async move {
        let sem = Semaphore::new(3);
        let inside = Arc::new(AtomicUsize::new(0));
        run_tasks(
            seed,
            (sem.clone(), inside),
            |(sem, inside), mut rng| async move {
                if rng.below(2) == 0 {
                    if let Some(_permit) = maybe_cancel(&mut rng, sem.permit()).await {
                        critical(&inside, 3, &mut rng).await;
                    }
                } else if rng.below(4) == 0 && sem.try_acquire()
                    || maybe_cancel(&mut rng, sem.acquire()).await.is_some()
                {
                    critical(&inside, 3, &mut rng).await;
                    sem.release();
                }
                rng
            },
        )
        .await;
        assert_eq!(sem.__debug_state(), (3, 0, 0), "seed {seed}");

        let sem = BoundedSemaphore::new(2);
        let inside = Arc::new(AtomicUsize::new(0));
        run_tasks(
            seed,
            (sem.clone(), inside),
            |(sem, inside), mut rng| async move {
                if maybe_cancel(&mut rng, sem.acquire()).await.is_some() {
                    critical(&inside, 2, &mut rng).await;
                    sem.release().expect("a held permit goes back");
                }
                rng
            },
        )
        .await;
        assert_eq!(sem.__debug_state(), (2, 0, 0), "seed {seed}");
        assert!(sem.release().is_err(), "over-release must still be refused");
    });
}

/// Condition over a Lock and over an RLock: producers add to a counter and
/// notify one or all; consumers wait for it with the guard form, abandoned at
/// random. At the end nothing waits, the lock is free, and the counter equals
/// produced minus consumed.
#[test]
fn condition() {
    async fn check<L: crate::sync::ConditionLock + Clone + Send + Sync + 'static>(
        seed: u64,
        cond: Condition<L>,
    ) {
        {
            let stock = Arc::new(AtomicUsize::new(0));
            let moved = Arc::new(AtomicUsize::new(0)); // produced - consumed, by the tasks' account
            run_tasks(
                seed,
                (cond.clone(), stock.clone(), moved.clone()),
                |(cond, stock, moved), mut rng| async move {
                    let Some(mut guard) = maybe_cancel(&mut rng, cond.lock()).await else {
                        return rng;
                    };
                    if rng.below(2) == 0 {
                        stock.fetch_add(1, Ordering::SeqCst);
                        moved.fetch_add(1, Ordering::SeqCst);
                        if rng.below(2) == 0 {
                            guard.notify(1).unwrap();
                        } else {
                            guard.notify_all().unwrap();
                        }
                    } else {
                        // Never an unbounded wait: the producers may be done.
                        let wait = guard.wait_for(|| stock.load(Ordering::SeqCst) > 0);
                        let waited = if rng.below(2) == 0 {
                            tokio::time::timeout(rng.tiny(), wait).await.ok()
                        } else {
                            tokio::select! {
                                out = wait => Some(out),
                                () = tokio::task::yield_now() => None,
                            }
                        };
                        if let Some(result) = waited {
                            result.unwrap();
                            assert!(guard.is_held());
                            stock.fetch_sub(1, Ordering::SeqCst);
                            moved.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                    drop(guard);
                    rng
                },
            )
            .await;
            assert_eq!(cond.__debug_state(), (0, 0), "seed {seed}");
            assert!(!cond.locked());
            assert_eq!(stock.load(Ordering::SeqCst), moved.load(Ordering::SeqCst));
        }
    }
    for_each_seed(|seed| async move {
        check(seed, Condition::new()).await;
        check(seed, Condition::with_lock(RLock::new())).await;
    });
}

#[test]
fn event() {
    for_each_seed(|seed| async move {
        let event = Event::new();
        run_tasks(seed, event.clone(), |event, mut rng| async move {
            match rng.below(6) {
                0 => event.set(),
                1 => event.clear(),
                // Never an unbounded wait: the last operation may be a clear.
                2 | 3 => {
                    let _ = tokio::time::timeout(rng.tiny(), event.wait()).await;
                }
                _ => {
                    tokio::select! {
                        () = event.wait() => {}
                        () = tokio::task::yield_now() => {}
                    }
                }
            }
            rng
        })
        .await;
        let (_, waiters, slots) = event.__debug_state();
        assert_eq!((waiters, slots), (0, 0), "seed {seed}");
    });
}
