//! The one mechanism under every thread: a shared `Inner<T>` (state word, name,
//! ident, output slot, done signal), the task wrapper that runs a thread's
//! future with "current thread" set, catches its panic, reports it, and on any
//! ending (value, panic, cancellation or runtime shutdown) leaves the registry,
//! stores the outcome and wakes the joiners.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::Poll;

use tokio::sync::Notify;
use tokio::task::Id;

use super::error::JoinError;
use super::{excepthook, registry};

/// State bits. A thread is alive while `STARTED` is set and `DONE` is not.
pub(crate) const DAEMON: u8 = 1;
pub(crate) const STARTED: u8 = 2;
pub(crate) const DONE: u8 = 4;

/// Python's `_counter`: the N of `Thread-N` and `Dummy-N`, shared by both.
static COUNTER: AtomicU64 = AtomicU64::new(1);

/// Live non-daemon threads (not counting `MainThread`), and the signal that
/// fires whenever that count drops to one or zero.
static NON_DAEMON: AtomicUsize = AtomicUsize::new(0);
pub(crate) static NON_DAEMON_ZERO: Notify = Notify::const_new();

pub(crate) fn next_number() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

pub(crate) fn non_daemon_count() -> usize {
    NON_DAEMON.load(Ordering::Acquire)
}

/// Locks a std mutex, ignoring poisoning: nothing here panics while holding one.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
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
    ident: OnceLock<Id>,
    done: Notify,
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
            ident: OnceLock::new(),
            done: Notify::new(),
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
            match self.state.compare_exchange_weak(
                state,
                new,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
    }

    /// Marks the thread started; returns the state before, or `None` when it
    /// was already started.
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
            Kind::Dummy => match self.ident.get() {
                Some(id) => format!("Dummy-{id}"),
                None => format!("Dummy-{}", self.number),
            },
        }
    }

    pub(crate) fn set_name(&self, name: String) {
        *lock(&self.name) = Some(name.into_boxed_str());
    }

    pub(crate) fn ident(&self) -> Option<Id> {
        self.ident.get().copied()
    }

    pub(crate) fn set_ident(&self, id: Id) {
        let _ = self.ident.set(id);
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

    /// Waits until the thread is done.
    pub(crate) async fn wait_done(&self) {
        while !self.is_done() {
            let notified = pin!(self.done.notified());
            let mut notified = notified;
            notified.as_mut().enable();
            if self.is_done() {
                return;
            }
            notified.await;
        }
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

/// A type-erased thread, as the registry and `current_thread` hold it.
pub(crate) trait Erased: Send + Sync + 'static {
    fn core(&self) -> &Core;
    /// How the thread failed, once it is done (`None` if it returned a value).
    fn failure(&self) -> Option<JoinError>;
}

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = Option<T>> + Send + 'static>>;

/// Where a thread's future lives before start and its outcome after.
pub(crate) enum Stage<T> {
    Initial(BoxFuture<T>),
    Running,
    Done(Result<T, JoinError>),
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

    fn failure(&self) -> Option<JoinError> {
        match &*lock(&self.stage) {
            Stage::Done(Err(err)) => Some(err.clone()),
            Stage::Done(Ok(_)) => None,
            // Unreachable once DONE is observed; answer conservatively.
            _ => Some(JoinError::Cancelled),
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

/// Polls `fut` with `me` installed as the current thread, catching a panic.
pub(crate) async fn poll_as<F: Future>(
    me: &mut Option<Shared>,
    fut: F,
) -> Result<F::Output, Box<dyn Any + Send>> {
    let mut fut = pin!(fut);
    poll_fn(|cx| {
        let previous = CURRENT.replace(me.take());
        let polled = catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx)));
        *me = CURRENT.replace(previous);
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    })
    .await
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

/// Finishes a thread: leaves the registry, stores the outcome, marks it done,
/// updates the non-daemon count and wakes joiners. On drop without
/// [`Finish::complete`] (the task was cancelled or its runtime shut down) it
/// finishes the thread as cancelled.
pub(crate) struct Finish<T: Send + 'static> {
    inner: Arc<Inner<T>>,
    slot: Option<registry::Slot>,
}

impl<T: Send + 'static> Finish<T> {
    pub(crate) fn new(inner: Arc<Inner<T>>, slot: registry::Slot) -> Self {
        Self {
            inner,
            slot: Some(slot),
        }
    }

    pub(crate) fn complete(mut self, outcome: Result<T, JoinError>) {
        self.finish(outcome);
    }

    fn finish(&mut self, outcome: Result<T, JoinError>) {
        let Some(slot) = self.slot.take() else {
            return;
        };
        registry::remove(slot);
        *lock(&self.inner.stage) = Stage::Done(outcome);
        let core = &self.inner.core;
        let before = core.state.fetch_or(DONE, Ordering::AcqRel);
        if core.kind == Kind::Thread && before & DAEMON == 0 {
            non_daemon_finished();
        }
        core.done.notify_waiters();
    }
}

impl<T: Send + 'static> Drop for Finish<T> {
    fn drop(&mut self) {
        self.finish(Err(JoinError::Cancelled));
    }
}

pub(crate) fn non_daemon_started() {
    NON_DAEMON.fetch_add(1, Ordering::AcqRel);
}

fn non_daemon_finished() {
    // Waiters wait for 0, or for 1 when the waiter is itself a non-daemon thread.
    if NON_DAEMON.fetch_sub(1, Ordering::AcqRel) <= 2 {
        NON_DAEMON_ZERO.notify_waiters();
    }
}

/// Starts an already-marked-started thread: counts it, registers it, spawns
/// the wrapper on `handle`.
pub(crate) fn launch<T, F>(inner: Arc<Inner<T>>, state: u8, fut: F, handle: &tokio::runtime::Handle)
where
    T: Send + 'static,
    F: Future<Output = Option<T>> + Send + 'static,
{
    excepthook::install_panic_hook();
    if state & DAEMON == 0 {
        non_daemon_started();
    }
    let me: Shared = inner.clone();
    let slot = registry::insert(me.clone());
    let task = handle.spawn(run_thread(inner.clone(), me, slot, fut));
    inner.core.set_ident(task.id());
}

async fn run_thread<T, F>(inner: Arc<Inner<T>>, me: Shared, slot: registry::Slot, fut: F)
where
    T: Send + 'static,
    F: Future<Output = Option<T>> + Send + 'static,
{
    // `launch` sets it too once `spawn` returns; whichever is first wins.
    inner.core.set_ident(tokio::task::id());
    let finish = Finish::new(inner, slot);
    let mut me = Some(me);
    let outcome = poll_as(&mut me, fut).await;
    let outcome = match outcome {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(JoinError::Cancelled),
        Err(payload) => {
            let message = panic_message(&*payload);
            drop(payload);
            excepthook::report(&mut me, &message);
            Err(JoinError::Panicked(message))
        }
    };
    drop(me);
    finish.complete(outcome);
}
