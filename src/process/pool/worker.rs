//! One pool worker process and the slot that keeps one alive: [`Worker`]'s
//! steps are `spawn` (start and launch a worker), `serve` (feed it tasks until
//! something ends that) and `on_death` / `retire` (what follows each ending);
//! [`run_slot`] strings them together.
//!
//! Every wait here on pool state is on the crate's own primitives (the job
//! `Queue`, the `stop` `Event`); the others are tokio's because they wait on
//! the kernel, not on another task: the worker's socket (I/O readiness) and
//! `Child::wait` (reaping its exit, via tokio's SIGCHLD handling).

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::process::Child;

use super::super::codec::{self, Launch, POOL_WORKER, PoolReply, Report};
use super::super::current::{self, identity_name, next_identity};
use super::super::driver;
use super::super::preamble::{self, Preamble};
use super::shared::{PoolJob, PoolShared};
use crate::error::PoolError;

/// How many tasks a worker may have queued on its socket beyond the one it
/// runs: deep for short tasks (the round trip dominates), shallow for long
/// ones (so a slow worker does not hold work an idle one could run).
const PIPELINE_SHORT: usize = 16;
const PIPELINE_LONG: usize = 2;
const SHORT_TASK: Duration = Duration::from_micros(200);

/// Bytes of task frames a worker may have unanswered beyond the one it runs:
/// well under a socket buffer, so a write never waits on a worker that is itself
/// blocked writing a reply. A larger task is sent only to an idle worker.
const PIPELINE_BYTES: usize = 64 * 1024;

/// A task as it goes on the wire (borrowing the job's arguments).
#[derive(Serialize)]
struct PoolTaskRef<'a> {
    key: &'a str,
    args: &'a [u8],
}

/// Why [`Worker::serve`] returned.
enum Ending {
    /// The pool stopped: kill the worker.
    Stopped,
    /// The pool closed and the queue is drained: let the worker exit.
    Closed,
    /// The worker died running a task (answered with `WorkerDied`).
    Died,
}

/// A live worker process and the slot's view of it.
struct Worker {
    name: String,
    pid: u32,
    child: Child,
    rd: BufReader<OwnedReadHalf>,
    wr: OwnedWriteHalf,
    /// Sent and unanswered: the job, when it was sent, its frame's size.
    inflight: VecDeque<(PoolJob, Instant, usize)>,
    inflight_bytes: usize,
    /// The worker's time per task (moving average); unknown at first.
    per_task: Option<Duration>,
    last_reply: Instant,
}

/// One worker slot, on the driver thread: (re)starts a worker and feeds it
/// tasks until the pool closes or stops.
pub(super) async fn run_slot(shared: Arc<PoolShared>) {
    // Tasks a dead worker had queued but not started: sent to its replacement.
    let mut backlog: VecDeque<PoolJob> = VecDeque::new();
    while !shared.stop.is_set() {
        let mut worker = match Worker::spawn().await {
            Ok(worker) => worker,
            Err(why) => {
                shared.stop(why);
                break;
            }
        };
        shared.add_pid(worker.pid);
        match worker.serve(&shared, &mut backlog).await {
            Ending::Stopped => worker.kill(&shared).await,
            Ending::Closed => {
                worker.retire(&shared).await;
                break;
            }
            Ending::Died => worker.on_death(&shared, &mut backlog).await,
        }
    }
    for job in backlog.drain(..) {
        job.answer(Err(PoolError::Terminated));
    }
    shared.slot_exited();
}

impl Worker {
    /// Starts a worker process and waits until it is ready for tasks.
    async fn spawn() -> Result<Self, PoolError> {
        let identity = next_identity();
        let name = identity_name("PoolWorker", &identity);
        let (mut child, sock, _) =
            driver::spawn_child(&[]).map_err(|e| PoolError::WorkerStart(e.to_string()))?;
        let pid = child.id().unwrap_or(0);
        let (rd, mut wr) = sock.into_split();
        let mut rd = BufReader::new(rd);
        let launch = codec::frame(&Launch {
            target: POOL_WORKER.to_owned(),
            name: name.clone(),
            daemon: true,
            identity,
            parent_pid: current::getpid(),
            parent_name: current::my_name().to_owned(),
            args: Vec::new(),
        });
        let launch = match launch {
            Ok(launch) => launch,
            Err(e) => {
                // Cannot happen for this fixed, small frame; if it did, the
                // worker would wait for a launch forever: stop instead.
                let _ = child.start_kill();
                let _ = child.wait().await;
                return Err(PoolError::WorkerStart(e.to_string()));
            }
        };
        let mut preamble = Preamble::default();
        let started = async {
            wr.write_all(&launch).await?;
            preamble::skip(&mut rd, &mut preamble).await?;
            codec::read_frame_async::<Report, _>(&mut rd).await
        };
        if !matches!(started.await, Ok(Report::Started)) {
            // Never dispatched (its `main` lacks `init()`?): stop rather than
            // respawn in a loop.
            let exitcode = driver::exit_code(child.wait().await);
            let tail = preamble.tail();
            let stderr = if tail.is_empty() {
                String::new()
            } else {
                format!("; its stderr ended with:\n{tail}")
            };
            return Err(PoolError::WorkerStart(format!(
                "{name} exited with code {exitcode} before running any task; \
                 does main call threadlet::process::init() at its top?{stderr}"
            )));
        }
        Ok(Self {
            name,
            pid,
            child,
            rd,
            wr,
            inflight: VecDeque::new(),
            inflight_bytes: 0,
            per_task: None,
            last_reply: Instant::now(),
        })
    }

    /// Feeds the worker tasks (from `backlog` first, then the pool's queue)
    /// and answers them as its replies come, until the pool stops or closes,
    /// or the worker dies.
    async fn serve(&mut self, shared: &PoolShared, backlog: &mut VecDeque<PoolJob>) -> Ending {
        let mut out = Vec::new();
        loop {
            if let Some(ending) = self.fill(shared, backlog, &mut out).await {
                return ending;
            }
            let reply = tokio::select! {
                biased;
                () = shared.stop.wait() => {
                    for (job, _, _) in self.inflight.drain(..) {
                        job.answer(Err(PoolError::Terminated));
                    }
                    return Ending::Stopped;
                }
                reply = async {
                    if !out.is_empty() {
                        // A dead worker fails the write; its replies already
                        // sent are still read below, so the death is blamed on
                        // the task it was running.
                        let _ = self.wr.write_all(&out).await;
                    }
                    codec::read_frame_async::<PoolReply, _>(&mut self.rd).await
                } => reply,
            };
            out.clear();
            let Some((job, sent, size)) = self.inflight.pop_front() else {
                continue;
            };
            self.inflight_bytes -= size;
            let now = Instant::now();
            let took = now.saturating_duration_since(sent.max(self.last_reply));
            self.last_reply = now;
            self.per_task = Some(self.per_task.map_or(took, |avg| (avg * 3 + took) / 4));
            let result = match reply {
                Ok(PoolReply::Done(values)) => Ok(values),
                Ok(PoolReply::Panicked(message)) => Err(PoolError::Panicked {
                    worker: self.name.clone(),
                    message,
                }),
                Ok(PoolReply::UnknownTarget(key)) => Err(PoolError::UnknownTarget(key)),
                Ok(PoolReply::Codec(msg)) => Err(PoolError::Codec(msg)),
                Err(_) => {
                    // The worker died running this task.
                    self.inflight.push_front((job, sent, size));
                    return Ending::Died;
                }
            };
            job.answer(result);
        }
    }

    /// Fills this worker's pipeline into `out` (the frames to write): waits
    /// for a job only when nothing is in flight. Returns an ending if the pool
    /// stopped or closed while the worker was idle.
    async fn fill(
        &mut self,
        shared: &PoolShared,
        backlog: &mut VecDeque<PoolJob>,
        out: &mut Vec<u8>,
    ) -> Option<Ending> {
        let depth = match self.per_task {
            Some(t) if t < SHORT_TASK => PIPELINE_SHORT,
            _ => PIPELINE_LONG,
        };
        while self.inflight.len() < depth {
            let job = if let Some(job) = backlog.pop_front() {
                job
            } else if self.inflight.is_empty() {
                shared.idle.fetch_add(1, Ordering::SeqCst);
                let next = tokio::select! {
                    biased;
                    () = shared.stop.wait() => Err(Ending::Stopped),
                    // Shut down and drained: closed.
                    job = shared.jobs.get() => job.map_err(|_| Ending::Closed),
                };
                shared.idle.fetch_sub(1, Ordering::SeqCst);
                match next {
                    Ok(job) => job,
                    Err(ending) => return Some(ending),
                }
            } else if self.inflight_bytes < PIPELINE_BYTES
                && shared.idle.load(Ordering::SeqCst) == 0
            {
                match shared.jobs.get_nowait() {
                    Ok(job) => job,
                    Err(_) => break,
                }
            } else {
                break;
            };
            let start = out.len();
            let task = PoolTaskRef {
                key: job.key,
                args: &job.args,
            };
            if codec::frame_into(&task, out).is_err() {
                out.truncate(start);
                job.answer(Err(PoolError::Codec("task too large".into())));
                continue;
            }
            let size = out.len() - start;
            if !self.inflight.is_empty() && self.inflight_bytes + size > PIPELINE_BYTES {
                // Too big to queue behind others: wait for an idle turn.
                out.truncate(start);
                backlog.push_front(job);
                break;
            }
            self.inflight_bytes += size;
            self.inflight.push_back((job, Instant::now(), size));
        }
        None
    }

    /// The pool stopped: kill the worker and reap it.
    async fn kill(mut self, shared: &PoolShared) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        shared.forget_pid(self.pid);
    }

    /// The pool closed and nothing is left: the worker sees end of file on
    /// its socket and exits; reap it.
    async fn retire(mut self, shared: &PoolShared) {
        drop(self.wr);
        let _ = self.child.wait().await;
        shared.forget_pid(self.pid);
    }

    /// The worker died running its oldest task: that task fails naming it,
    /// the others it had queued go to the replacement.
    async fn on_death(mut self, shared: &PoolShared, backlog: &mut VecDeque<PoolJob>) {
        let exitcode = driver::exit_code(self.child.wait().await);
        shared.forget_pid(self.pid);
        let mut inflight = self.inflight.drain(..).map(|(job, _, _)| job);
        if let Some(job) = inflight.next() {
            job.answer(Err(PoolError::WorkerDied {
                worker: self.name.clone(),
                exitcode,
            }));
        }
        backlog.extend(inflight);
    }
}
