//! A small job service, written the way a threadlet user writes one:
//!
//! - a bounded `PriorityQueue` of jobs (urgent ones first, equal priorities in
//!   arrival order),
//! - worker threads that take jobs with `get_task`, so a worker that panics
//!   still marks its job done and `join` cannot hang,
//! - a `Semaphore` that lets at most two outbound calls run at once,
//! - a counter in a `Lock<u64>`,
//! - an `Event` that says "ready",
//! - a `Timer` that stops the service if it ever takes too long (cancelled
//!   when the work is done),
//!
//! all under `#[threadlet::main]`, with `#[threadlet::test]`s that run in
//! parallel without waiting for each other's threads (`cargo test --example
//! service`; `cargo test` runs them too).
//!
//! `cargo run --example service`

use std::time::Duration;

use threadlet::{Event, Lock, PriorityQueue, Semaphore, Timer};

/// One job: the lower `priority`, the sooner it is served.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Job {
    priority: u8,
    id: u32,
}

/// What a run of the service did.
#[derive(Debug)]
struct Report {
    /// Jobs finished, counted in the `Lock<u64>`.
    done: u64,
    /// Job ids in the order the workers took them.
    taken: Vec<u32>,
    /// The most outbound calls that were ever in flight at once.
    max_in_flight: usize,
}

/// The outbound call every job makes, at most two at a time.
async fn call_outbound(calls: &Semaphore, in_flight: &Lock<(usize, usize)>) {
    let _permit = calls.permit().await;
    {
        let mut counts = in_flight.lock().await;
        counts.0 += 1;
        counts.1 = counts.1.max(counts.0);
    }
    tokio::time::sleep(Duration::from_millis(2)).await;
    in_flight.lock().await.0 -= 1;
}

/// Queues `jobs` jobs, serves them with `workers` threads and reports.
async fn serve(jobs: u32, workers: usize) -> Report {
    let queue: PriorityQueue<Job> = PriorityQueue::new(64);
    let calls = Semaphore::new(2);
    let done = Lock::with_value(0u64);
    let taken = Lock::with_value(Vec::new());
    let in_flight = Lock::with_value((0usize, 0usize));
    let ready = Event::new();

    // If the service ever hangs, stop it instead of hanging with it.
    let stop = queue.clone();
    let watchdog = Timer::new(Duration::from_secs(30), async move {
        eprintln!("service: still busy after 30 s, shutting the queue down");
        stop.shutdown_immediate();
    });
    watchdog.start().expect("a new timer starts");

    let mut threads = Vec::new();
    for _ in 0..workers {
        let (queue, calls, done, taken, in_flight, ready) = (
            queue.clone(),
            calls.clone(),
            done.clone(),
            taken.clone(),
            in_flight.clone(),
            ready.clone(),
        );
        threads.push(threadlet::spawn(async move {
            ready.wait().await;
            // `get_task` hands the job in a guard that calls `task_done` when
            // it drops, even if this body panics or is cancelled.
            while let Ok(job) = queue.get_task().await {
                taken.lock().await.push(job.id);
                call_outbound(&calls, &in_flight).await;
                *done.lock().await += 1;
            }
        }));
    }

    for id in 0..jobs {
        let priority = if id % 5 == 0 { 0 } else { 1 };
        queue
            .put(Job { priority, id })
            .await
            .expect("the queue is open");
    }
    ready.set();
    queue.join().await; // every job taken and done
    queue.shutdown(); // the workers' `get_task` now ends with ShutDown
    for t in threads {
        t.join().await.expect("a worker panicked");
    }
    watchdog.cancel();

    let done = *done.lock().await;
    let taken = taken.lock().await.clone();
    let max_in_flight = in_flight.lock().await.1;
    Report {
        done,
        taken,
        max_in_flight,
    }
}

#[threadlet::main]
async fn main() {
    let report = serve(40, 4).await;
    println!(
        "served {} jobs with 4 workers, at most {} outbound calls at once",
        report.done, report.max_in_flight
    );
    println!("urgent jobs first: {:?}", &report.taken[..8]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[threadlet::test]
    async fn every_job_is_done_once_and_calls_stay_within_the_semaphore() {
        let report = serve(60, 4).await;
        assert_eq!(report.done, 60);
        let mut taken = report.taken.clone();
        taken.sort_unstable();
        assert_eq!(taken, (0..60).collect::<Vec<_>>());
        assert!(report.max_in_flight <= 2, "{report:?}");
    }

    #[threadlet::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_worker_serves_urgent_jobs_first_in_arrival_order() {
        let report = serve(20, 1).await;
        let urgent: Vec<u32> = (0..20).filter(|id| id % 5 == 0).collect();
        let rest: Vec<u32> = (0..20).filter(|id| id % 5 != 0).collect();
        assert_eq!(report.taken[..4], urgent[..]);
        assert_eq!(report.taken[4..], rest[..]);
    }

    #[threadlet::test]
    async fn a_panicking_worker_cannot_hang_join() {
        let queue: PriorityQueue<Job> = PriorityQueue::new(4);
        let q = queue.clone();
        let worker = threadlet::spawn(async move {
            let _job = q.get_task().await.expect("a job");
            panic!("this worker fails on its first job");
        });
        queue.put(Job { priority: 0, id: 1 }).await.unwrap();
        queue.join().await; // returns: the guard marked the job done
        assert!(worker.join().await.unwrap_err().is_panic());
    }
}
