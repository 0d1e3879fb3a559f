//! Fuzz of the sync primitives through their public API.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::FutureExt;

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

/// The payload of the fuzz's own panics, raised with `resume_unwind` so that
/// no panic hook prints them.
struct UserPanic;

/// User code that panics (a predicate, a critical section).
fn user_panic() -> ! {
    std::panic::resume_unwind(Box::new(UserPanic))
}

/// Runs `fut`, catching a [`UserPanic`]; `None` if it panicked.
async fn catching<F: Future>(fut: F) -> Option<F::Output> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(out) => Some(out),
        Err(payload) => {
            assert!(payload.is::<UserPanic>(), "a panic in the library");
            None
        }
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
                match rng.below(4) {
                    0 => {
                        // Python style.
                        let got = match rng.below(3) {
                            0 => lock.try_acquire(),
                            _ => maybe_cancel(&mut rng, lock.acquire()).await.is_some(),
                        };
                        if got {
                            critical(&inside, 1, &mut rng).await;
                            lock.release().expect("release of a held lock");
                        }
                    }
                    1 => {
                        // A stale guard: released by hand inside its scope;
                        // others may take the lock before the guard drops,
                        // which must then leave their hold alone.
                        if let Some(guard) = maybe_cancel(&mut rng, lock.lock()).await {
                            critical(&inside, 1, &mut rng).await;
                            lock.release().expect("release of a held lock");
                            tokio::task::yield_now().await;
                            drop(guard);
                        }
                    }
                    2 => {
                        // User code panics inside the guard's scope.
                        let lock = &lock;
                        let inside = &inside;
                        catching(async {
                            let _guard = lock.lock().await;
                            inside.fetch_add(1, Ordering::SeqCst);
                            tokio::task::yield_now().await;
                            inside.fetch_sub(1, Ordering::SeqCst);
                            user_panic();
                        })
                        .await;
                    }
                    _ => {
                        if let Some(_guard) = maybe_cancel(&mut rng, lock.lock()).await {
                            critical(&inside, 1, &mut rng).await;
                        }
                    }
                }
                rng
            },
        )
        .await;
        assert_eq!(lock.debug_state(), (1, 0, 0), "seed {seed}");
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
                if rng.below(4) == 0 {
                    // A stale guard: every level released by hand inside its
                    // scope, then the guard drops after others may have
                    // taken the lock.
                    if let Some(guard) = maybe_cancel(&mut rng, lock.lock()).await {
                        critical(&inside, 1, &mut rng).await;
                        for _ in 0..lock.recursion_count() {
                            lock.release().expect("release by the owner");
                        }
                        tokio::task::yield_now().await;
                        drop(guard);
                        assert!(!lock.is_owned());
                    }
                    return rng;
                }
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
        assert_eq!(lock.debug_state(), (1, 0, 0), "seed {seed}");
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
                    sem.release().unwrap();
                }
                rng
            },
        )
        .await;
        assert_eq!(sem.debug_state(), (3, 0, 0), "seed {seed}");

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
        assert_eq!(sem.debug_state(), (2, 0, 0), "seed {seed}");
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
            let inside = Arc::new(AtomicUsize::new(0));
            run_tasks(
                seed,
                (cond.clone(), stock.clone(), moved.clone(), inside.clone()),
                |(cond, stock, moved, inside), mut rng| async move {
                    let Some(mut guard) = maybe_cancel(&mut rng, cond.lock()).await else {
                        return rng;
                    };
                    critical(&inside, 1, &mut rng).await;
                    let choice = rng.below(8);
                    if choice == 0 {
                        // A Python-style wait on the guard's lock, abandoned
                        // at random: a cancelled one leaves the guard stale,
                        // and its drop must not release whoever holds the
                        // lock by then.
                        // Never an unbounded wait: the producers may be done.
                        let waited = if rng.below(2) == 0 {
                            tokio::time::timeout(rng.tiny(), cond.wait()).await.ok()
                        } else {
                            tokio::select! {
                                out = cond.wait() => Some(out),
                                () = tokio::task::yield_now() => None,
                            }
                        };
                        match waited {
                            Some(result) => {
                                result.unwrap();
                                assert!(guard.is_held(), "a completed wait keeps the guard");
                                critical(&inside, 1, &mut rng).await;
                            }
                            None => {
                                assert!(!guard.is_held(), "a cancelled wait leaves it stale");
                                tokio::task::yield_now().await;
                            }
                        }
                    } else if choice == 1 {
                        // A predicate that panics on its first call or on a
                        // re-check, under a guard that lives inside the
                        // panicking future: the unwinding drop releases it.
                        drop(guard);
                        let calls = AtomicUsize::new(0);
                        let panic_at = 1 + rng.below(2) as usize;
                        let (cond, stock) = (&cond, &stock);
                        let wait = catching(async {
                            let mut guard = cond.lock().await;
                            guard
                                .wait_for(|| {
                                    if calls.fetch_add(1, Ordering::SeqCst) + 1 == panic_at {
                                        user_panic();
                                    }
                                    stock.load(Ordering::SeqCst) > 0
                                })
                                .await
                                .unwrap();
                            // Taken under the lock, before the guard drops.
                            stock.fetch_sub(1, Ordering::SeqCst);
                        });
                        if let Ok(Some(())) = tokio::time::timeout(rng.tiny(), wait).await {
                            // The predicate held before it could panic: one
                            // item was taken; keep the account.
                            moved.fetch_sub(1, Ordering::SeqCst);
                        }
                        return rng;
                    } else if choice < 5 {
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
            assert_eq!(cond.debug_state(), (0, 0), "seed {seed}");
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
        let (_, waiters, slots) = event.debug_state();
        assert_eq!((waiters, slots), (0, 0), "seed {seed}");
    });
}
