//! What a `Pool` and its worker slots share: the job queue, the stop and
//! all-exited events, and the workers' pids. A leaf of `pool/`.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::PoolError;
use crate::queue::Queue;
use crate::sync::Event;
use crate::wait::loom::lock;

/// A chunk's encoded `Vec<R>`, or why it failed.
pub(super) type ChunkResult = Result<Vec<u8>, PoolError>;

/// Where one call's answers go, `(chunk index, result)`: an unbounded crate
/// [`Queue`] the call gets from. Every job of the call puts exactly one
/// answer there (its [`Reply`] answers [`PoolError::Terminated`] when the job
/// is dropped unanswered), so the call counts answers and never needs to learn
/// that its senders are gone.
pub(super) type Answers = Queue<(usize, ChunkResult)>;

/// A job's one answer: put on the call's [`Answers`] by
/// [`send`](Reply::send), or as [`PoolError::Terminated`] when dropped
/// unsent (the job was lost: the pool's driver task or queue went away).
pub(super) struct Reply {
    to: Option<Answers>,
    index: usize,
}

impl Reply {
    pub(super) fn new(to: Answers, index: usize) -> Self {
        Self {
            to: Some(to),
            index,
        }
    }

    fn send(&mut self, result: ChunkResult) {
        if let Some(to) = self.to.take() {
            // Unbounded and never shut down: the put cannot fail.
            let _ = to.put_nowait((self.index, result));
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        self.send(Err(PoolError::Terminated));
    }
}

/// One chunk of work and where its answer goes.
pub(super) struct PoolJob {
    pub(super) key: &'static str,
    /// The chunk's encoded `Vec<A>`.
    pub(super) args: Vec<u8>,
    pub(super) reply: Reply,
}

impl PoolJob {
    /// Answers this job.
    pub(super) fn answer(mut self, result: ChunkResult) {
        self.reply.send(result);
    }
}

pub(super) struct PoolShared {
    /// The task queue every worker slot takes from (unbounded; shut down by
    /// `close`, so the slots drain it and then see the end).
    pub(super) jobs: Queue<PoolJob>,
    /// Set by `terminate` (or a worker that cannot start).
    pub(super) stop: Event,
    /// Worker slots still running; `all_exited` is set when it reaches 0.
    live: AtomicUsize,
    all_exited: Event,
    /// Current workers' pids.
    pub(super) pids: Mutex<Vec<u32>>,
    /// Slots waiting for work (no task in flight).
    pub(super) idle: AtomicUsize,
    /// Why queued work fails once the pool stopped.
    pub(super) failure: Mutex<PoolError>,
}

impl PoolShared {
    pub(super) fn new(slots: usize) -> Self {
        Self {
            jobs: Queue::new(0),
            stop: Event::new(),
            live: AtomicUsize::new(slots),
            all_exited: Event::new(),
            pids: Mutex::new(Vec::new()),
            idle: AtomicUsize::new(0),
            failure: Mutex::new(PoolError::Terminated),
        }
    }

    /// Stops every slot and fails all queued work with `why` (the first
    /// reason given wins).
    pub(super) fn stop(&self, why: PoolError) {
        {
            let mut failure = lock(&self.failure);
            if !self.stop.is_set() {
                *failure = why;
            }
        }
        self.stop.set();
        self.jobs.shutdown();
        // Slots that see `stop` take nothing more; what is left is failed here.
        while let Ok(job) = self.jobs.get_nowait() {
            let why = lock(&self.failure).clone();
            job.answer(Err(why));
        }
    }

    /// Whether new work is refused (closed or stopped).
    pub(super) fn is_closed(&self) -> bool {
        self.jobs.is_shutdown()
    }

    /// A slot ended.
    pub(super) fn slot_exited(&self) {
        if self.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.all_exited.set();
        }
    }

    /// Waits until every slot ended.
    pub(super) async fn all_exited(&self) {
        self.all_exited.wait().await;
    }

    /// Records a live worker's pid.
    pub(super) fn add_pid(&self, pid: u32) {
        lock(&self.pids).push(pid);
    }

    /// Forgets a worker's pid.
    pub(super) fn forget_pid(&self, pid: u32) {
        lock(&self.pids).retain(|p| *p != pid);
    }
}

#[cfg(all(test, not(threadlet_loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_reply_answers_exactly_once() {
        let answers = Answers::new(0);
        let job = PoolJob {
            key: "k",
            args: Vec::new(),
            reply: Reply::new(answers.clone(), 3),
        };
        job.answer(Ok(vec![1]));
        assert_eq!(answers.get_nowait().ok(), Some((3, Ok(vec![1]))));
        assert!(
            answers.get_nowait().is_err(),
            "a sent reply adds nothing on drop"
        );
    }

    #[test]
    fn a_job_dropped_unanswered_answers_terminated() {
        let answers = Answers::new(0);
        drop(Reply::new(answers.clone(), 5));
        assert_eq!(
            answers.get_nowait().ok(),
            Some((5, Err(PoolError::Terminated)))
        );
    }
}
