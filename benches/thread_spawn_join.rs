//! Start + join of 10k threads: threadlet `spawn` (and `Thread::new` +
//! `start`) versus plain `tokio::spawn` + `JoinHandle`, interleaved sample by
//! sample; once on a multi-thread runtime (`mt`, every core), once on a
//! current-thread runtime (`ct`), where no cross-core traffic hides
//! threadlet's own bookkeeping (name, registry, shared output).
//!
//! `cargo bench --bench thread_spawn_join` (settings and output:
//! `benches/harness/mod.rs`)

use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

mod harness;
use harness::{Harness, Sampler};

const N: usize = 10_000;

#[derive(Clone, Copy)]
enum How {
    Tokio,
    Spawn,
    NewStart,
}

/// `iters` rounds of `N` starts + joins.
fn rounds(rt: &Runtime, how: How, iters: u64) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            let mut sum = 0;
            match how {
                How::Tokio => {
                    let handles: Vec<_> = (0..N).map(|i| tokio::spawn(async move { i })).collect();
                    for h in handles {
                        sum += h.await.unwrap();
                    }
                }
                How::Spawn => {
                    let threads: Vec<_> =
                        (0..N).map(|i| threadlet::spawn(async move { i })).collect();
                    for t in threads {
                        sum += t.join().await.unwrap();
                    }
                }
                How::NewStart => {
                    let threads: Vec<_> = (0..N)
                        .map(|i| {
                            let t = threadlet::Thread::new(async move { i });
                            t.start().unwrap();
                            t
                        })
                        .collect();
                    for t in threads {
                        sum += t.join().await.unwrap();
                    }
                }
            }
            std::hint::black_box(sum);
        }
        start.elapsed()
    })
}

fn main() {
    let multi = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut h = Harness::new("thread_spawn_join");
    for (name, rt) in [("mt", &multi), ("ct", &single)] {
        h.row(
            &format!("thread_spawn_join/{name}"),
            &format!("{N} starts + joins"),
            vec![
                (
                    "threadlet",
                    Box::new(move |n| rounds(rt, How::Spawn, n)) as Sampler<'_>,
                ),
                ("tokio", Box::new(move |n| rounds(rt, How::Tokio, n))),
                (
                    "threadlet_new_start",
                    Box::new(move |n| rounds(rt, How::NewStart, n)),
                ),
            ],
        );
    }
    h.finish();
}
