//! Fuzz of thread join on the wait core, through the public API: many
//! joiners per thread, joins dropped at random (zero-length and tiny
//! timeouts, `select!` losers), threads finishing while joiners queue.

use std::sync::Arc;

use super::{Rng, for_each_seed, ops};
use crate::thread::{Thread, ThreadRef, spawn};

const THREADS: u64 = 4;
const JOINERS: u64 = 12;

/// Every join through a `ThreadRef` that completes sees the thread end
/// well; once every thread has finished, no joiner slot is left on any of
/// them and the owner's join still returns the value.
#[test]
fn join_delivers_and_cancelled_joins_leave_nothing() {
    for_each_seed(|seed| async move {
        let rounds = (ops() as u64 / (THREADS * JOINERS * 4)).max(1);
        for round in 0..rounds {
            let mut rng = Rng::new(seed ^ round << 20);
            let threads: Vec<Thread<u64>> = (0..THREADS)
                .map(|i| {
                    let yields = rng.below(8);
                    spawn(async move {
                        for _ in 0..yields {
                            tokio::task::yield_now().await;
                        }
                        i
                    })
                })
                .collect();
            let refs: Arc<Vec<ThreadRef>> =
                Arc::new(threads.iter().map(Thread::thread_ref).collect());
            let joiners: Vec<_> = (0..JOINERS)
                .map(|j| {
                    let refs = refs.clone();
                    tokio::spawn(async move {
                        let mut rng = Rng::new(seed ^ round << 20 ^ j << 40);
                        for _ in 0..4 {
                            let t = &refs[rng.below(THREADS) as usize];
                            let got = match rng.below(4) {
                                0 => Some(t.join().await),
                                1 => tokio::time::timeout(rng.tiny(), t.join()).await.ok(),
                                2 => tokio::select! {
                                    r = t.join() => Some(r),
                                    () = tokio::task::yield_now() => None,
                                },
                                _ => t.join_timeout(rng.tiny()).await.ok().map(Ok),
                            };
                            if let Some(status) = got {
                                assert_eq!(status, Ok(()), "seed {seed}: a join saw a failure");
                            }
                        }
                    })
                })
                .collect();
            for joiner in joiners {
                joiner.await.expect("fuzz joiner panicked");
            }
            for (i, t) in threads.into_iter().enumerate() {
                assert_eq!(
                    t.join_waiters(),
                    0,
                    "seed {seed}: a dropped join left a slot"
                );
                assert_eq!(t.join().await, Ok(i as u64), "seed {seed}");
            }
        }
    });
}
