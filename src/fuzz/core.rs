//! Fuzz of the wait queue itself, in each of its modes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Rng, for_each_seed, ops};
use crate::wait::{Mode, RawSemaphore, Snapshot};

const TASKS: usize = 16;

/// Counting mode (Lock, Semaphore): acquire / try_acquire / release, with
/// waits abandoned at random. Every permit comes back; nobody is left queued;
/// the holders never exceed the permits.
#[test]
fn counting_mode_conserves_permits_under_cancellation() {
    for_each_seed(|seed| async move {
        for permits in [1usize, 3] {
            let sem = Arc::new(RawSemaphore::new(permits, Mode::Counting));
            let inside = Arc::new(AtomicUsize::new(0));
            let per_task = ops() / TASKS;
            let tasks: Vec<_> = (0..TASKS)
                .map(|t| {
                    let (sem, inside) = (sem.clone(), inside.clone());
                    tokio::spawn(async move {
                        let mut rng = Rng::new(seed ^ (t as u64) << 32 ^ permits as u64);
                        for _ in 0..per_task {
                            let got = match rng.below(4) {
                                0 => sem.try_acquire().is_ok(),
                                1 => matches!(
                                    tokio::time::timeout(rng.tiny(), sem.acquire()).await,
                                    Ok(Ok(()))
                                ),
                                2 => tokio::select! {
                                    r = sem.acquire() => r.is_ok(),
                                    () = tokio::task::yield_now() => false,
                                },
                                _ => sem.acquire().await.is_ok(),
                            };
                            if got {
                                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                                assert!(now <= permits, "{now} holders of {permits} permits");
                                if rng.below(3) == 0 {
                                    tokio::task::yield_now().await;
                                }
                                inside.fetch_sub(1, Ordering::SeqCst);
                                sem.release(1);
                            }
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.expect("fuzz task panicked");
            }
            assert_eq!(
                sem.snapshot(),
                Snapshot {
                    permits,
                    waiters: 0,
                    slots: 0,
                    closed: false
                },
                "seed {seed}"
            );
        }
    });
}

/// `Mode::PassOn` (Condition): waiters register and wait with random
/// abandonment while notifiers hand out single wake-ups. No slot is left, and
/// every waiter that returned `Ok` consumed exactly one notification or a
/// passed-on one: the count of successful waits never exceeds the
/// notifications that found a waiter.
#[test]
fn pass_on_mode_never_loses_or_invents_wakeups() {
    for_each_seed(|seed| async move {
        let sem = Arc::new(RawSemaphore::new(0, Mode::PassOn));
        let delivered = Arc::new(AtomicUsize::new(0));
        let woken = Arc::new(AtomicUsize::new(0));
        let per_task = ops() / TASKS;
        let tasks: Vec<_> = (0..TASKS)
            .map(|t| {
                let (sem, delivered, woken) = (sem.clone(), delivered.clone(), woken.clone());
                tokio::spawn(async move {
                    let mut rng = Rng::new(seed ^ (t as u64) << 40);
                    for _ in 0..per_task {
                        if t % 4 == 0 {
                            delivered
                                .fetch_add(sem.notify(1 + rng.below(2) as usize), Ordering::SeqCst);
                            tokio::task::yield_now().await;
                        } else {
                            let waiter = sem.register();
                            let ok = if rng.below(2) == 0 {
                                matches!(tokio::time::timeout(rng.tiny(), waiter).await, Ok(Ok(())))
                            } else {
                                tokio::select! {
                                    r = waiter => r.is_ok(),
                                    () = tokio::task::yield_now() => false,
                                }
                            };
                            if ok {
                                woken.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("fuzz task panicked");
        }
        let snap = sem.snapshot();
        assert_eq!(
            (snap.waiters, snap.slots, snap.permits),
            (0, 0, 0),
            "seed {seed}"
        );
        assert!(woken.load(Ordering::SeqCst) <= delivered.load(Ordering::SeqCst));
    });
}
