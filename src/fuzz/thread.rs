//! Fuzz of thread join on the wait core, through the public API: many
//! joiners per thread, joins dropped at random (zero-length and tiny
//! timeouts, `select!` losers), threads finishing while joiners queue.

use std::sync::Arc;

use super::{Rng, for_each_seed, ops};
use crate::thread::{Thread, spawn};

const THREADS: u64 = 4;
const JOINERS: u64 = 12;

/// Every join that completes returns the thread's value; once every thread
/// has finished, no joiner slot is left on any of them and a last join still
/// returns the value.
#[test]
fn join_delivers_and_cancelled_joins_leave_nothing() {
    for_each_seed(|seed| async move {
        let rounds = (ops() as u64 / (THREADS * JOINERS * 4)).max(1);
        for round in 0..rounds {
            let mut rng = Rng::new(seed ^ round << 20);
            let threads: Arc<Vec<Thread<u64>>> = Arc::new(
                (0..THREADS)
                    .map(|i| {
                        let yields = rng.below(8);
                        spawn(async move {
                            for _ in 0..yields {
                                tokio::task::yield_now().await;
                            }
                            i
                        })
                    })
                    .collect(),
            );
            let joiners: Vec<_> = (0..JOINERS)
                .map(|j| {
                    let threads = threads.clone();
                    tokio::spawn(async move {
                        let mut rng = Rng::new(seed ^ round << 20 ^ j << 40);
                        for _ in 0..4 {
                            let i = rng.below(THREADS);
                            let t = &threads[i as usize];
                            let got = match rng.below(5) {
                                0 => Some(t.join().await.expect("join")),
                                1 => tokio::time::timeout(rng.tiny(), t.join())
                                    .await
                                    .ok()
                                    .map(|r| r.expect("join")),
                                2 => tokio::select! {
                                    r = t.join() => Some(r.expect("join")),
                                    () = tokio::task::yield_now() => None,
                                },
                                3 => t.join_timeout(rng.tiny()).await.ok(),
                                _ => {
                                    let r = tokio::time::timeout(rng.tiny(), t.thread_ref().join())
                                        .await;
                                    if let Ok(r) = r {
                                        r.expect("join");
                                    }
                                    None
                                }
                            };
                            if let Some(value) = got {
                                assert_eq!(value, i, "seed {seed}: a join returned another value");
                            }
                        }
                    })
                })
                .collect();
            for joiner in joiners {
                joiner.await.expect("fuzz joiner panicked");
            }
            for (i, t) in threads.iter().enumerate() {
                assert_eq!(t.join().await, Ok(i as u64), "seed {seed}");
                assert!(!t.is_alive());
                assert_eq!(
                    t.__join_waiters(),
                    0,
                    "seed {seed}: a dropped join left a slot"
                );
            }
        }
    });
}
