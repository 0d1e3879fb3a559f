//! The record one started (or startable) child shares between its `Process`
//! handles, the driver that supervises it and the children list: its state and
//! the one "done" [`Event`] every join waits on. A leaf: it imports nothing else
//! from `process/`.

use std::any::TypeId;
use std::sync::Mutex;

use nix::sys::signal::Signal;

use crate::error::ProcessStateError;
use crate::queue::Queue;
use crate::sync::Event;
use crate::wait::loom::lock;

/// What the child reported before it exited.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The target returned this encoded value.
    Returned(Vec<u8>),
    /// The target panicked with this message.
    Panicked(String),
    /// The child did not know the target.
    UnknownTarget(String),
    /// The child could not decode its arguments or encode the value.
    Codec(String),
    /// No final report: killed, or exited from the target.
    NoReport,
    /// It never reached `init()`: `stderr` is the end of what it printed.
    NoInit { stderr: String },
}

/// Where a child is in its life.
#[derive(Debug)]
pub(crate) enum State {
    /// Not started yet.
    New,
    /// `start()` handed it to the driver, which has not answered yet. No lock
    /// is held while in this state: a second `start()` sees it and fails.
    Starting,
    /// Spawned (set by the driver before it answers `start()`).
    Running {
        pid: u32,
        /// To the driver's supervisor of this child (it delivers the signal
        /// before it reaps, so the pid is still this child's).
        signals: Queue<Signal>,
    },
    /// Reaped.
    Done {
        pid: u32,
        exitcode: i32,
        outcome: Outcome,
    },
}

/// Name and daemon flag: settable until the child starts.
#[derive(Debug)]
pub(crate) struct Meta {
    pub(crate) name: String,
    pub(crate) daemon: bool,
}

/// One child's shared record.
#[derive(Debug)]
pub(crate) struct Record {
    /// The registry key of the target.
    pub(crate) key: &'static str,
    /// The target's type, to tell same-named targets apart.
    pub(crate) type_id: TypeId,
    /// The identity path (`[1, 2]` for `Process-1:2`).
    pub(crate) identity: Vec<u32>,
    /// The encoded arguments, dropped once the child has them.
    pub(crate) args: Mutex<Option<Vec<u8>>>,
    pub(crate) meta: Mutex<Meta>,
    pub(crate) state: Mutex<State>,
    /// Set once `state` is `Done`: the one thing every join waits for.
    done: Event,
}

impl Record {
    pub(crate) fn new(
        key: &'static str,
        type_id: TypeId,
        identity: Vec<u32>,
        args: Vec<u8>,
        meta: Meta,
    ) -> Self {
        Self {
            key,
            type_id,
            identity,
            args: Mutex::new(Some(args)),
            meta: Mutex::new(meta),
            state: Mutex::new(State::New),
            done: Event::new(),
        }
    }

    /// Called by the driver once the child was spawned, before it answers
    /// `start()`: from here on the supervisor may `finish` at any time.
    pub(crate) fn running(&self, pid: u32, signals: Queue<Signal>) {
        *lock(&self.state) = State::Running { pid, signals };
    }

    /// Records the exit and wakes every join.
    pub(crate) fn finish(&self, exitcode: i32, outcome: Outcome) {
        {
            let mut state = lock(&self.state);
            let pid = match &*state {
                State::Running { pid, .. } | State::Done { pid, .. } => *pid,
                State::New | State::Starting => 0,
            };
            *state = State::Done {
                pid,
                exitcode,
                outcome,
            };
        }
        self.done.set();
    }

    pub(crate) fn is_daemon(&self) -> bool {
        lock(&self.meta).daemon
    }

    /// The pid while the child runs.
    pub(crate) fn running_pid(&self) -> Option<u32> {
        match *lock(&self.state) {
            State::Running { pid, .. } => Some(pid),
            _ => None,
        }
    }

    /// Sends `signal` to the running child (nothing once it was reaped).
    pub(crate) fn signal(&self, signal: Signal) -> Result<(), ProcessStateError> {
        match &*lock(&self.state) {
            State::New | State::Starting => Err(ProcessStateError::NotStarted),
            State::Running { signals, .. } => {
                let _ = signals.put_nowait(signal);
                Ok(())
            }
            // As Python: nothing to do once the exit status was collected.
            State::Done { .. } => Ok(()),
        }
    }

    /// Whether `start()` succeeded (a `Starting` child is not started yet:
    /// its spawn may still fail).
    pub(crate) fn is_started(&self) -> bool {
        matches!(
            *lock(&self.state),
            State::Running { .. } | State::Done { .. }
        )
    }

    /// Waits until the child was reaped.
    pub(crate) async fn wait_done(&self) {
        self.done.wait().await;
    }

    /// Whether the child was reaped.
    pub(crate) fn is_done(&self) -> bool {
        self.done.is_set()
    }

    /// [`blocking_wait_done`](Self::blocking_wait_done) until `deadline`
    /// (`None`: forever); whether the child was reaped by then.
    pub(crate) fn blocking_wait_done_until(&self, deadline: Option<std::time::Instant>) -> bool {
        crate::wait::blocking::block_on_deadline(self.done.wait(), deadline).is_some()
    }

    /// [`wait_done`](Self::wait_done) for a plain thread. The driver thread
    /// reaps and sets `done`, so this wait needs no progress of a runtime on
    /// the calling thread (it is not refused there).
    pub(crate) fn blocking_wait_done(&self) {
        self.done.wait_on_thread();
    }
}
