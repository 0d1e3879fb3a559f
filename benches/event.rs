//! Event ping-pong between two tasks vs `tokio::sync::Notify`: one round
//! trip = ping set and seen, pong set and seen. On a 2-worker multi-thread
//! runtime (`mt`) and a current-thread one (`ct`).
//!
//! `cargo bench --bench event` (settings and output: `benches/harness/mod.rs`)

use std::sync::Arc;
use std::time::{Duration, Instant};

mod harness;
use harness::{Harness, Sampler};
use threadlet::Event;
use tokio::runtime::Runtime;
use tokio::sync::Notify;

fn threadlet_ping_pong(rt: &Runtime, rounds: u64) -> Duration {
    rt.block_on(async move {
        let (ping, pong) = (Event::new(), Event::new());
        let (p, q) = (ping.clone(), pong.clone());
        let echo = tokio::spawn(async move {
            for _ in 0..rounds {
                p.wait().await;
                p.clear();
                q.set();
            }
        });
        let start = Instant::now();
        for _ in 0..rounds {
            ping.set();
            pong.wait().await;
            pong.clear();
        }
        let elapsed = start.elapsed();
        echo.await.unwrap();
        elapsed
    })
}

fn tokio_ping_pong(rt: &Runtime, rounds: u64) -> Duration {
    rt.block_on(async move {
        let (ping, pong) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let (p, q) = (ping.clone(), pong.clone());
        let echo = tokio::spawn(async move {
            for _ in 0..rounds {
                p.notified().await;
                q.notify_one();
            }
        });
        let start = Instant::now();
        for _ in 0..rounds {
            ping.notify_one();
            pong.notified().await;
        }
        let elapsed = start.elapsed();
        echo.await.unwrap();
        elapsed
    })
}

fn main() {
    let mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let ct = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut h = Harness::new("event");
    for (rt_name, rt) in [("mt", &mt), ("ct", &ct)] {
        h.row(
            &format!("event/ping_pong/{rt_name}"),
            "round trip",
            vec![
                (
                    "threadlet",
                    Box::new(move |n| threadlet_ping_pong(rt, n)) as Sampler<'_>,
                ),
                ("tokio_notify", Box::new(move |n| tokio_ping_pong(rt, n))),
            ],
        );
    }
    h.finish();
}
