//! The one mechanism under every thread: a shared `Inner<T>` (state word, name,
//! task, the joiners' wait list, output slot), and the task wrapper that runs
//! a thread's future with "current thread" set, catches its panic, reports
//! it, and on any ending (value, panic, cancellation or runtime shutdown)
//! leaves the registry, stores the outcome, marks the thread done and wakes
//! the joiners.
//!
//! Joiners wait on the crate's wait core in broadcast mode, as an `Event`'s
//! waiters do (the `DONE` bit is the flag): a dropped join leaves the list at
//! once, so cancelled joins leave nothing behind.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::future::{Future, poll_fn};
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};

use tokio::task::Id;

use super::error::JoinError;
use super::{excepthook, registry};
use crate::sync::event::wait_until;
use crate::wait::loom::seq_cst_fence;
use crate::wait::{Mode, RawSemaphore};

/// State bits. A thread is alive while `STARTED` is set and `DONE` is not.
pub(crate) const DAEMON: u8 = 1;
pub(crate) const STARTED: u8 = 2;
pub(crate) const DONE: u8 = 4;

/// Python's `_counter`: the N of `Thread-N` and `Dummy-N`, shared by both.
static COUNTER: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_number() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// Locks a std mutex, ignoring poisoning: nothing here panics while holding one.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Made by `Thread`, `Builder`, `spawn` or `Timer`.
    Thread,
    /// `run`'s main task.
    Main,
    /// A stand-in for a task or OS thread threadlet did not start.
    Dummy,
}

/// The untyped part of a thread, shared by every handle to it.
pub(crate) struct Core {
    state: AtomicU8,
    pub(crate) kind: Kind,
    /// N of the default name; 0 when the name was given.
    number: u64,
    /// `None` until `set_name` (or a builder name): the default name is
    /// formatted from `number` only when asked for.
    name: Mutex<Option<Box<str>>>,
    task: OnceLock<Task>,
    /// Joiners waiting for `DONE`: made by the first join that has to wait
    /// (most threads are joined after they finish, or never), which keeps a
    /// thread small.
    joiners: OnceLock<Box<RawSemaphore>>,
}

impl Core {
    pub(crate) fn new(kind: Kind, name: Option<Box<str>>, state: u8) -> Self {
        let number = match (&name, kind) {
            (None, Kind::Thread | Kind::Dummy) => next_number(),
            _ => 0,
        };
        Self {
            state: AtomicU8::new(state),
            kind,
            number,
            name: Mutex::new(name),
            task: OnceLock::new(),
            joiners: OnceLock::new(),
        }
    }

    pub(crate) fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    pub(crate) fn is_alive(&self) -> bool {
        self.state() & (STARTED | DONE) == STARTED
    }

    pub(crate) fn is_done(&self) -> bool {
        self.state() & DONE != 0
    }

    /// Waits until the thread is done.
    pub(crate) async fn wait_done(&self) {
        let done = || self.state.load(Ordering::SeqCst) & DONE != 0;
        if done() {
            return;
        }
        // The list exists before this joiner queues on it and fences (in
        // `wait_until`); `mark_done` sets `DONE`, fences, then looks for the
        // list: either it finds the list, or the joiner sees `DONE`.
        let joiners = self
            .joiners
            .get_or_init(|| Box::new(RawSemaphore::new(0, Mode::Discard)));
        wait_until(joiners, done).await;
    }

    /// Joiners waiting right now (test introspection).
    pub(crate) fn join_waiters(&self) -> usize {
        self.joiners.get().map_or(0, |j| j.snapshot().slots)
    }

    /// Marks the thread done and wakes its joiners.
    fn mark_done(&self) {
        self.state.fetch_or(DONE, Ordering::SeqCst);
        seq_cst_fence();
        if let Some(joiners) = self.joiners.get() {
            joiners.notify(usize::MAX);
        }
    }

    pub(crate) fn is_daemon(&self) -> bool {
        self.state() & DAEMON != 0
    }

    /// Sets the daemon bit while the thread is unstarted; `false` once started.
    pub(crate) fn set_daemon(&self, daemon: bool) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & (STARTED | DONE) != 0 {
                return false;
            }
            let new = if daemon {
                state | DAEMON
            } else {
                state & !DAEMON
            };
            match self
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }

    /// Marks the thread started; returns the state before, or `None` when it
    /// was already started. (Only called by the one `start` that took the
    /// future; the check is a second guard.)
    pub(crate) fn mark_started(&self) -> Option<u8> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & (STARTED | DONE) != 0 {
                return None;
            }
            match self.state.compare_exchange_weak(
                state,
                state | STARTED,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(state),
                Err(actual) => state = actual,
            }
        }
    }

    pub(crate) fn name(&self) -> String {
        if let Some(name) = &*lock(&self.name) {
            return name.to_string();
        }
        match self.kind {
            Kind::Main => "MainThread".to_owned(),
            Kind::Thread => format!("Thread-{}", self.number),
            Kind::Dummy => match self.ident() {
                Some(id) => format!("Dummy-{id}"),
                None => format!("Dummy-{}", self.number),
            },
        }
    }

    pub(crate) fn set_name(&self, name: String) {
        *lock(&self.name) = Some(name.into_boxed_str());
    }

    pub(crate) fn ident(&self) -> Option<Id> {
        match self.task.get() {
            Some(Task::Handle(task)) => return Some(task.id()),
            Some(Task::Id(id)) => return Some(*id),
            None => {}
        }
        // Asked from inside the thread before `start` stored the handle.
        let me: *const Core = self;
        let inside = with_current(|current| current.is_some_and(|c| std::ptr::eq(c.core(), me)));
        if inside { tokio::task::try_id() } else { None }
    }

    pub(crate) fn set_ident(&self, id: Id) {
        let _ = self.task.set(Task::Id(id));
    }

    /// Errors `join` reports before waiting, in Python's order.
    pub(crate) fn check_joinable(&self, me: *const ()) -> Result<(), JoinError> {
        if self.kind == Kind::Dummy {
            return Err(JoinError::DummyThread);
        }
        if self.state() & (STARTED | DONE) == 0 {
            return Err(JoinError::NotStarted);
        }
        if !self.is_done() && is_current(me) {
            return Err(JoinError::CurrentThread);
        }
        Ok(())
    }

    fn state_label(&self) -> &'static str {
        let state = self.state();
        if state & DONE != 0 {
            "stopped"
        } else if state & STARTED != 0 {
            "started"
        } else {
            "initial"
        }
    }

    pub(crate) fn debug(&self, f: &mut fmt::Formatter<'_>, ty: &str) -> fmt::Result {
        f.debug_struct(ty)
            .field("name", &self.name())
            .field("state", &self.state_label())
            .field("daemon", &self.is_daemon())
            .field("ident", &self.ident())
            .finish()
    }
}

/// A thread's task: the `JoinHandle` of a started thread, the bare id of
/// `MainThread` or of a dummy thread.
///
/// Holding the `JoinHandle` (rather than detaching the task) means the task's
/// memory is freed with the last handle to the thread, usually on the thread
/// that allocated it, rather than on a worker: measurably cheaper with
/// glibc's allocator.
enum Task {
    Handle(tokio::task::JoinHandle<()>),
    Id(Id),
}

/// A type-erased thread, as the registry and `current_thread` hold it.
pub(crate) trait Erased: Send + Sync + 'static {
    fn core(&self) -> &Core;
    fn as_any(&self) -> &dyn Any;
    /// Once done: `None` if it ended with a value, else how it failed.
    fn failure(&self) -> Option<JoinError>;
}

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = Option<T>> + Send + 'static>>;

/// Where a thread's future lives before start, and its outcome after.
pub(crate) enum Stage<T> {
    Initial(BoxFuture<T>),
    Running,
    Done(Result<T, JoinError>),
}

impl<T> Stage<T> {
    pub(crate) const fn running() -> Self {
        Self::Running
    }
}

/// A thread with output `T`.
pub(crate) struct Inner<T> {
    pub(crate) core: Core,
    pub(crate) stage: Mutex<Stage<T>>,
}

impl<T: Send + 'static> Erased for Inner<T> {
    fn core(&self) -> &Core {
        &self.core
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn failure(&self) -> Option<JoinError> {
        self.read_output(|result| result.as_ref().err().cloned())
    }
}

impl<T> Inner<T> {
    /// Waits until the thread is done, then reads its outcome with `read`.
    pub(crate) async fn output<R>(&self, read: impl FnOnce(&Result<T, JoinError>) -> R) -> R {
        self.core.wait_done().await;
        self.read_output(read)
    }

    /// Reads the outcome of a finished thread.
    fn read_output<R>(&self, read: impl FnOnce(&Result<T, JoinError>) -> R) -> R {
        match &*lock(&self.stage) {
            Stage::Done(result) => read(result),
            // Unreachable: the outcome is stored before `DONE` is set.
            Stage::Initial(_) | Stage::Running => read(&Err(JoinError::NotStarted)),
        }
    }
}

pub(crate) type Shared = Arc<dyn Erased>;

/// The address of a thread, for identity comparisons.
pub(crate) fn addr(thread: &Shared) -> *const () {
    Arc::as_ptr(thread).cast::<()>()
}

thread_local! {
    /// The threadlet thread being polled on this OS thread, if any. The task
    /// wrapper moves its handle in before each poll and back out after, so the
    /// hot path pays no reference-count traffic.
    static CURRENT: Cell<Option<Shared>> = const { Cell::new(None) };
}

/// Runs `f` with the current threadlet thread, if any.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Shared>) -> R) -> R {
    CURRENT.with(|cell| {
        let current = cell.take();
        let result = f(current.as_ref());
        cell.set(current);
        result
    })
}

fn is_current(me: *const ()) -> bool {
    with_current(|current| current.is_some_and(|c| addr(c) == me))
}

/// Polls `fut` once with `me` installed as the current thread, catching a
/// panic.
fn poll_step<F: Future>(
    me: &mut Option<Shared>,
    fut: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, Box<dyn Any + Send>>> {
    let previous = CURRENT.replace(me.take());
    let polled = catch_unwind(AssertUnwindSafe(|| fut.poll(cx)));
    *me = CURRENT.replace(previous);
    match polled {
        Ok(polled) => {
            // A panic caught inside the future is printed, not lost.
            excepthook::flush_pending();
            polled.map(Ok)
        }
        Err(payload) => Poll::Ready(Err(payload)),
    }
}

/// Runs `fut` with `me` installed as the current thread, catching a panic.
pub(crate) async fn poll_as<F: Future>(
    me: &mut Option<Shared>,
    fut: F,
) -> Result<F::Output, Box<dyn Any + Send>> {
    let mut fut = pin!(fut);
    poll_fn(|cx| poll_step(me, fut.as_mut(), cx)).await
}

/// Runs `f` with `me` installed as the current thread.
pub(crate) fn run_as<R>(me: &mut Option<Shared>, f: impl FnOnce() -> R) -> R {
    let previous = CURRENT.replace(me.take());
    let result = f();
    *me = CURRENT.replace(previous);
    result
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

/// Finishes a thread: leaves the registry, stores the outcome, marks it done
/// and wakes joiners. On drop without [`Finish::complete`] (the task was
/// cancelled or its runtime shut down) it finishes the thread as cancelled.
pub(crate) struct Finish<T: Send + 'static> {
    /// The thread; `None` while installed as the current thread, and once
    /// finished.
    pub(crate) me: Option<Shared>,
    slot: Option<registry::Slot>,
    output: PhantomData<fn() -> T>,
}

impl<T: Send + 'static> Finish<T> {
    pub(crate) fn new(me: Shared, slot: registry::Slot) -> Self {
        Self {
            me: Some(me),
            slot: Some(slot),
            output: PhantomData,
        }
    }

    pub(crate) fn complete(mut self, outcome: Result<T, JoinError>) {
        self.finish(outcome);
    }

    fn finish(&mut self, outcome: Result<T, JoinError>) {
        let (Some(me), Some(slot)) = (self.me.take(), self.slot.take()) else {
            return;
        };
        // Python removes a thread from `_active` before `join` returns.
        registry::remove(slot);
        let Some(inner) = me.as_any().downcast_ref::<Inner<T>>() else {
            return;
        };
        *lock(&inner.stage) = Stage::Done(outcome);
        inner.core.mark_done();
    }
}

impl<T: Send + 'static> Drop for Finish<T> {
    fn drop(&mut self) {
        self.finish(Err(JoinError::Cancelled));
    }
}

/// Starts an already-marked-started thread: registers it and spawns the
/// wrapper on `handle` (on the current runtime when `None`).
///
/// `map` turns the future's output into the thread's (`None`: cancelled); a
/// function item such as `Some`, so that it takes no room in the task.
pub(crate) fn launch<T, F, M>(
    inner: &Arc<Inner<T>>,
    fut: F,
    map: M,
    handle: Option<&tokio::runtime::Handle>,
) where
    T: Send + 'static,
    F: Future + Send + 'static,
    M: FnOnce(F::Output) -> Option<T> + Send + 'static,
{
    excepthook::install_panic_hook();
    let me: Shared = inner.clone();
    let slot = registry::insert(me.clone());
    // The guard is made here, not inside the task's body: a task cancelled
    // before its first poll drops only its arguments, and must still finish.
    let finish = Finish::<T>::new(me, slot);
    let task = run_thread::<T, F, M>(finish, fut, map);
    let task = match handle {
        Some(handle) => handle.spawn(task),
        None => tokio::spawn(task),
    };
    let _ = inner.core.task.set(Task::Handle(task));
}

async fn run_thread<T, F, M>(mut finish: Finish<T>, fut: F, map: M)
where
    T: Send + 'static,
    F: Future + Send + 'static,
    M: FnOnce(F::Output) -> Option<T> + Send + 'static,
{
    let outcome = {
        // Scoped so that the future is dropped before the thread finishes.
        let mut fut = pin!(fut);
        poll_fn(|cx| poll_step(&mut finish.me, fut.as_mut(), cx)).await
    };
    let outcome = match outcome.map(map) {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(JoinError::Cancelled),
        Err(payload) => {
            let message = panic_message(&*payload);
            drop(payload);
            excepthook::report(&mut finish.me, &message);
            Err(JoinError::Panicked(message))
        }
    };
    finish.complete(outcome);
}
