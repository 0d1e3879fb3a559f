//! A service with a forgotten `shutdown()`, and the watchdog's report.
//!
//! A worker thread serves a queue until the queue is shut down. Main puts
//! the jobs, waits until they are done, and returns — without
//! `jobs.shutdown()`. So `run` (what `#[threadlet::main]` expands to) waits
//! at exit for the worker, which waits for a job that never comes: the
//! program would hang with nothing on the screen. With the watchdog on
//! (`watchdog = "300ms"` here; `THREADLET_WATCHDOG=300ms` in the environment
//! does the same for any program under `run`), threadlet prints to stderr,
//! after 300 ms of waiting, which thread it waits for and on what:
//!
//! ```text
//! threadlet watchdog: main returned 300.9ms ago and `run` still waits for its non-daemon threads (…)
//! threadlet dump: 2 threads, 2 waiting in threadlet primitives
//!
//! "main" os-thread daemon=true alive=true
//!    waiting 300.879ms on Thread.join#2 "worker"
//!       joining "worker"
//!
//! "worker" ident=4 daemon=false alive=true
//!    waiting 301.032ms on Queue.get#1 created at examples/dump.rs:35:28
//! ```
//!
//! So that the example ends by itself, a plain OS thread plays the operator
//! who read the report: a second later it makes the forgotten call.
//!
//! Run with `cargo run --example dump`.

use std::time::Duration;

use threadlet::{Builder, Queue};

#[threadlet::main(watchdog = "300ms")]
async fn main() {
    let jobs: Queue<u32> = Queue::new(0);
    let queue = jobs.clone();
    Builder::new()
        .name("worker")
        .spawn(async move {
            // Serves until the queue is shut down.
            while let Ok(job) = queue.get().await {
                println!("worker: job {job} done");
                queue.task_done().unwrap();
            }
            println!("worker: the queue is shut down, bye");
        })
        .unwrap();

    for job in 1..=3 {
        jobs.put(job).await.unwrap();
    }
    jobs.join().await;
    println!("main: every job is done; returning (but `jobs.shutdown()` is forgotten)");

    // The operator, after reading the watchdog's report on stderr.
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        eprintln!("operator: calling the forgotten jobs.shutdown()");
        jobs.shutdown();
    });
}
