//! `cluster::worker`: the process side of [`Pool`](super::Pool).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Options;
use super::conn::Conn;
use super::error::{ClusterError, GetError};
use super::pool::{Job, Outcome, Reply, jobs_name};
use super::queue::{Leased, Queue};
use crate::process::registry::{self, RunFailure};

/// A worker gives up after the server was unreachable for this many
/// operation timeouts in a row (60 s by default).
const OUTAGE_TIMEOUTS: u32 = 12;

/// How long an answer waits on the server for its caller (one day).
const REPLY_TTL_SECS: u64 = 86_400;

/// Serves the pool `name` on the server at `url` in this process, until the
/// pool is terminated: takes one job at a time, runs its
/// [`register`](crate::process::register)ed function on a blocking thread,
/// and answers. Register the functions before calling it. Equivalent to
/// [`worker_with`] and default [`Options`].
///
/// While a job runs, its lease is extended every third of the visibility
/// timeout, so a long job is not delivered twice; a worker that dies stops
/// extending, and the job goes to another worker once the lease expires.
/// A worker rides out a server restart (it retries every second), and
/// returns an error after the server was unreachable for twelve operation
/// timeouts in a row (60 s by default).
///
/// # Errors
///
/// [`ClusterError`] when the server cannot be reached at start, or for a
/// minute on end.
///
/// # Cancel safety
///
/// Dropping the future drops the job in hand; its lease expires and the job
/// is delivered again.
///
/// # Examples
///
/// ```no_run
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// #[tokio::main]
/// async fn main() {
///     threadlet::process::register(square);
///     threadlet::cluster::worker("redis://127.0.0.1/", "squares").await.unwrap();
/// }
/// ```
pub async fn worker(url: &str, name: &str) -> Result<(), ClusterError> {
    worker_with(url, name, Options::default()).await
}

/// [`worker`] with explicit [`Options`] (its visibility timeout is the one
/// its leases get).
///
/// # Errors
///
/// As `worker`.
///
/// # Cancel safety
///
/// As `worker`.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use threadlet::cluster::{self, Options};
///
/// # async fn demo() -> Result<(), threadlet::cluster::ClusterError> {
/// let options = Options::default().visibility_timeout(Duration::from_secs(5));
/// cluster::worker_with("redis://127.0.0.1/", "squares", options).await?;
/// # Ok(())
/// # }
/// ```
pub async fn worker_with(url: &str, name: &str, options: Options) -> Result<(), ClusterError> {
    let conn = Conn::open(url, options)?;
    let jobs: Queue<Job> = Queue::on(Arc::clone(&conn), &jobs_name(name), 0).await?;
    let me = format!("worker-{}", std::process::id());
    let patience = conn.options.op_timeout * OUTAGE_TIMEOUTS;
    let mut failing_since: Option<Instant> = None;
    loop {
        let lease = match jobs.get().await {
            Ok(lease) => lease,
            Err(GetError::ShutDown) => return Ok(()),
            // Not a job (written by something else): already taken out.
            Err(GetError::Decode(_) | GetError::Empty) => continue,
            Err(GetError::Cluster(e)) => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > patience {
                    return Err(e);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        failing_since = None;
        let outcome = if lease.deliveries() > u64::from(lease.tries) {
            Outcome::GaveUp(lease.deliveries() - 1)
        } else {
            run(&lease, &me, conn.options.visibility_timeout).await
        };
        answer(&conn, &lease, outcome).await;
        // NotLeased: a duplicate run after a stall; the caller keeps one answer.
        let _ = lease.task_done().await;
    }
}

/// Runs the job on a blocking thread, extending its lease meanwhile.
async fn run(lease: &Leased<Job>, me: &str, visibility: Duration) -> Outcome {
    let Some(runner) = registry::lookup_chunk(&lease.key) else {
        return Outcome::Failed(format!(
            "unknown pool target `{}` in worker {me}: register it before cluster::worker",
            lease.key
        ));
    };
    let args = lease.args.clone();
    let mut work =
        tokio::task::spawn_blocking(move || catch_unwind(AssertUnwindSafe(|| runner(&args))));
    let beat = (visibility / 3).max(Duration::from_millis(10));
    let done = loop {
        tokio::select! {
            r = &mut work => break r,
            () = tokio::time::sleep(beat) => {
                let _ = lease.extend(visibility).await;
            }
        }
    };
    match done {
        Ok(Ok(Ok(values))) => Outcome::Done(values),
        Ok(Ok(Err(RunFailure::Codec(message)))) => Outcome::Failed(message),
        Ok(Err(panic)) => Outcome::Panicked {
            worker: me.to_owned(),
            message: panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "Box<dyn Any>".to_owned()),
        },
        Err(e) => Outcome::Failed(format!("the job's thread failed: {e}")),
    }
}

/// Pushes the answer to the caller's reply list (retrying through a restart).
async fn answer(conn: &Conn, lease: &Leased<Job>, outcome: Outcome) {
    let reply = Reply {
        index: lease.index,
        outcome,
    };
    let Ok(bytes) = postcard::to_stdvec(&reply) else {
        return;
    };
    let mut pipe = redis::pipe();
    pipe.atomic()
        .cmd("RPUSH")
        .arg(&lease.reply)
        .arg(bytes)
        .ignore()
        .cmd("EXPIRE")
        .arg(&lease.reply)
        .arg(REPLY_TTL_SECS)
        .ignore();
    for _ in 0..30 {
        if conn.pipe(&pipe).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
