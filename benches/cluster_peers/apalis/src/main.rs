//! apalis + apalis-redis: push N jobs while 4 workers take them; prints
//! `items_per_sec X` for push + work, timed from the first push to the last
//! job done.
//!
//! usage: apalis-peer REDIS_URL JOBS

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use apalis::prelude::*;
use apalis_redis::RedisStorage;

static DONE: AtomicUsize = AtomicUsize::new(0);
static STARTED: OnceLock<Instant> = OnceLock::new();

async fn job(_x: u64) -> Result<(), BoxDynError> {
    DONE.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("REDIS_URL");
    let jobs: usize = args.next().expect("JOBS").parse().expect("JOBS");
    let conn = apalis_redis::connect(url.as_str()).await.expect("connect");
    let mut storage: RedisStorage<u64> = RedisStorage::new(conn);
    for i in 0..4 {
        let worker = WorkerBuilder::new(format!("peer-{i}"))
            .backend(storage.clone())
            .build(job);
        tokio::spawn(worker.run());
    }
    let t = *STARTED.get_or_init(Instant::now);
    for i in 0..jobs as u64 {
        storage.push(i).await.expect("push");
    }
    while DONE.load(Ordering::Relaxed) < jobs {
        if t.elapsed() > Duration::from_secs(60) {
            eprintln!(
                "stuck: {} of {jobs} jobs done after 60 s",
                DONE.load(Ordering::Relaxed)
            );
            std::process::exit(2);
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    println!("items_per_sec {:.1}", jobs as f64 / t.elapsed().as_secs_f64());
    std::process::exit(0);
}
