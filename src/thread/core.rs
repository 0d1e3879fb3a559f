//! The shared state under every thread: `Inner<T>` (state word, name, task,
//! the joiners' wait list, output slot), its type-erased view `Shared`, and
//! "current thread" (the thread being polled on this OS thread). A leaf of
//! the thread layer: the task wrapper that runs a thread's future and
//! finishes it is in `task.rs`, above the registry and the excepthook.
//!
//! Joiners wait on the crate's wait core in `Mode::Discard`, as an `Event`'s
//! waiters do (the `DONE` bit is the flag): a dropped join leaves the list at
//! once, so cancelled joins leave nothing behind.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::task::Id;

use super::error::JoinError;
use crate::introspect::{PrimitiveKind, meta::Meta};
use crate::wait::flag::wait_until;
use crate::wait::loom::{AtomicU8, planted, seq_cst_fence};
use crate::wait::{Mode, RawSemaphore};
use std::panic::Location;

/// State bits. A thread is alive while `STARTED` is set and `DONE` is not.
pub(crate) const DAEMON: u8 = 1;
pub(crate) const STARTED: u8 = 2;
pub(crate) const DONE: u8 = 4;

/// Python's `_counter`: the N of `Thread-N` and `Dummy-N`, shared by both.
static COUNTER: AtomicU64 = AtomicU64::new(1);

pub(crate) fn next_number() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// The crate's one poison-ignoring lock of a std mutex.
pub(crate) use crate::wait::loom::lock;

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
    /// The name and the task, under one lock: one mutex fewer keeps a
    /// thread at 120 bytes, where glibc serves the burst of a spawn loop
    /// measurably faster than at 128 (callgrind).
    named: Mutex<Named>,
    /// The scope the thread belongs to (`thread/scope.rs`), set when it
    /// starts; 0, the root scope, until then.
    scope: AtomicU64,
    /// Where the registry keeps the thread while it is alive (packed by
    /// `registry`), set when it starts, before its task runs.
    slot: AtomicU64,
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
            named: Mutex::new(Named { name, task: None }),
            scope: AtomicU64::new(0),
            slot: AtomicU64::new(0),
            joiners: OnceLock::new(),
        }
    }

    /// The scope the thread belongs to.
    pub(crate) fn scope(&self) -> u64 {
        self.scope.load(Ordering::Relaxed)
    }

    /// Sets the scope of a thread that is starting (before it is registered,
    /// so that the registry's lock publishes it).
    pub(crate) fn set_scope(&self, scope: u64) {
        self.scope.store(scope, Ordering::Relaxed);
    }

    /// Where the registry keeps the thread (see `registry::Slot`).
    pub(crate) fn slot(&self) -> u64 {
        self.slot.load(Ordering::Relaxed)
    }

    /// Records where the registry keeps the thread: set once when it starts,
    /// before its task is spawned (which publishes it to the task).
    pub(crate) fn set_slot(&self, slot: u64) {
        self.slot.store(slot, Ordering::Relaxed);
    }

    /// Cancels a started thread's task (a scope ending cancels its daemon
    /// threads). `false` when its task handle is not stored yet: it was
    /// caught between registering and storing it.
    pub(crate) fn abort(&self) -> bool {
        match &lock(&self.named).task {
            Some(Task::Handle(task)) => {
                task.abort();
                true
            }
            Some(Task::Id(_)) | None => false,
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
        let joiners = self.joiners.get_or_init(|| Box::new(self.joiners_list()));
        wait_until(joiners, done).await;
    }

    /// The joiners' wait list: a dump shows its waiters as joining this
    /// thread (its holder), named after it.
    fn joiners_list(&self) -> RawSemaphore {
        let meta = Meta::at(
            PrimitiveKind::ThreadJoin,
            Some(self.name().into_boxed_str()),
            Location::caller(),
        );
        if let Some(id) = self.ident() {
            meta.set_holder(crate::sync::task_owner(id));
        }
        RawSemaphore::with_meta(0, Mode::Discard, meta)
    }

    /// Joiners waiting right now (test introspection).
    #[cfg(test)]
    pub(crate) fn join_waiters(&self) -> usize {
        self.joiners.get().map_or(0, |j| j.snapshot().slots)
    }

    /// Marks the thread done and wakes its joiners.
    pub(crate) fn mark_done(&self) {
        if planted("join-wake-before-done") {
            // The classic lost wake-up: look for joiners before `DONE` is
            // set, so one that queues in between sleeps forever.
            if let Some(joiners) = self.joiners.get() {
                joiners.notify(usize::MAX);
            }
            self.state.fetch_or(DONE, Ordering::SeqCst);
            return;
        }
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
        let given = lock(&self.named).name.as_deref().map(str::to_owned);
        if let Some(name) = given {
            return name;
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
        lock(&self.named).name = Some(name.into_boxed_str());
    }

    pub(crate) fn ident(&self) -> Option<Id> {
        match &lock(&self.named).task {
            Some(Task::Handle(task)) => return Some(task.id()),
            Some(Task::Id(id)) => return Some(*id),
            None => {}
        }
        // Asked from inside the thread before `start` stored the handle. (The
        // core is at the thread's address: `Inner` is `repr(C)`.)
        let me = std::ptr::from_ref(self) as usize;
        let inside = current().is_some_and(|c| c.addr == me);
        if inside { tokio::task::try_id() } else { None }
    }

    pub(crate) fn set_ident(&self, id: Id) {
        lock(&self.named).task.get_or_insert(Task::Id(id));
    }

    /// Keeps the task of a thread just started (see [`Task`]).
    pub(crate) fn set_handle(&self, task: tokio::task::JoinHandle<()>) {
        let mut named = lock(&self.named);
        if named.task.is_none() {
            named.task = Some(Task::Handle(task));
        }
        // (A second handle, never given in practice, is dropped after the
        // lock is released.)
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

/// What [`Core`] keeps under its lock.
struct Named {
    /// `None` until `set_name` (or a builder name): the default name is
    /// formatted from `number` only when asked for.
    name: Option<Box<str>>,
    /// Set once, right after the task is spawned. A plain mutex: a
    /// `OnceLock` here cost about 100 more instructions per spawn (its
    /// one-time initialisation), measured with callgrind.
    task: Option<Task>,
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
    /// Once done: `None` if it ended with a value, else how it failed.
    fn failure(&self) -> Option<JoinError>;
}

/// A type-erased thread with output `T`: [`Inner`] itself, or a thread made
/// unstarted, which keeps its future beside it in the same allocation
/// (`thread.rs`).
pub(crate) trait Typed<T>: Erased {
    fn inner(&self) -> &Inner<T>;
}

impl<T: Send + 'static> Typed<T> for Inner<T> {
    fn inner(&self) -> &Inner<T> {
        self
    }
}

/// A thread's outcome: none until it ends (the future of an unstarted
/// thread lives beside its `Inner`, see [`Typed`]).
pub(crate) enum Stage<T> {
    Running,
    Done(Result<T, JoinError>),
    /// Ended with a value, which its one owner has taken
    /// ([`Inner::take_output`]): joiners still see "ended with a value".
    Taken,
}

impl<T> Stage<T> {
    pub(crate) const fn running() -> Self {
        Self::Running
    }
}

/// A thread with output `T`.
///
/// `repr(C)`: the core comes first, so a thread's address (what [`addr`]
/// gives and [`Current::addr`] holds) is also its core's.
#[repr(C)]
pub(crate) struct Inner<T> {
    pub(crate) core: Core,
    pub(crate) stage: Mutex<Stage<T>>,
}

impl<T: Send + 'static> Erased for Inner<T> {
    fn core(&self) -> &Core {
        &self.core
    }

    fn failure(&self) -> Option<JoinError> {
        self.read_failure()
    }
}

impl<T> Inner<T> {
    /// Once done: `None` if the thread ended with a value (taken or not),
    /// else how it failed.
    fn read_failure(&self) -> Option<JoinError> {
        match &*lock(&self.stage) {
            Stage::Done(Ok(_)) | Stage::Taken => None,
            Stage::Done(Err(err)) => Some(err.clone()),
            // Unreachable: the outcome is stored before `DONE` is set.
            Stage::Running => Some(JoinError::NotStarted),
        }
    }

    /// Takes the value of a finished thread, for its one owner; a failure
    /// stays in place for every later joiner to see, and a second take is
    /// [`JoinError::ValueTaken`], never a wait.
    pub(crate) fn take_output(&self) -> Result<T, JoinError> {
        let mut stage = lock(&self.stage);
        match std::mem::replace(&mut *stage, Stage::Taken) {
            Stage::Done(Ok(value)) => Ok(value),
            Stage::Taken => Err(JoinError::ValueTaken),
            Stage::Done(Err(err)) => {
                *stage = Stage::Done(Err(err.clone()));
                Err(err)
            }
            // Unreachable: the outcome is stored before `DONE` is set.
            Stage::Running => {
                *stage = Stage::Running;
                Err(JoinError::NotStarted)
            }
        }
    }
}

pub(crate) type Shared = Arc<dyn Erased>;

/// The address of a thread, for identity comparisons.
pub(crate) fn addr(thread: &Shared) -> *const () {
    Arc::as_ptr(thread).cast::<()>()
}

/// The threadlet thread being polled on an OS thread, as plain values:
/// installing it per poll and reading it (`current_thread`, the daemon flag
/// and scope a new thread inherits, wait records) costs no reference count
/// and no destructor bookkeeping. [`registry`](super::registry) finds the
/// thread itself from `slot` (a thread is registered while it runs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Current {
    /// The thread's address ([`addr`]).
    pub(crate) addr: usize,
    /// Where the registry keeps it ([`Core::slot`]).
    pub(crate) slot: u64,
    /// Its scope ([`Core::scope`]).
    pub(crate) scope: u64,
    /// Made by `Thread`, `Builder`, `spawn` or `Timer` (not `MainThread`).
    pub(crate) is_thread: bool,
    /// A daemon thread of that kind: threads it starts are daemons too.
    pub(crate) inherit_daemon: bool,
}

impl Current {
    /// The values of a started, registered thread.
    pub(crate) fn of<I: Erased>(thread: &Arc<I>) -> Self {
        let core = thread.core();
        let is_thread = core.kind == Kind::Thread;
        Self {
            addr: Arc::as_ptr(thread).cast::<()>() as usize,
            slot: core.slot(),
            scope: core.scope(),
            is_thread,
            inherit_daemon: is_thread && core.is_daemon(),
        }
    }
}

thread_local! {
    /// The threadlet thread being polled on this OS thread, if any: set by
    /// [`run_as`] around each poll of its task.
    static CURRENT: Cell<Option<Current>> = const { Cell::new(None) };
}

/// The threadlet thread being polled on this OS thread, if any.
pub(crate) fn current() -> Option<Current> {
    CURRENT.get()
}

fn is_current(me: *const ()) -> bool {
    current().is_some_and(|c| c.addr == me as usize)
}

/// Runs `f` with `me` installed as the current thread (`f` must not unwind:
/// its callers catch panics inside it).
pub(crate) fn run_as<R>(me: Current, f: impl FnOnce() -> R) -> R {
    let previous = CURRENT.replace(Some(me));
    let result = f();
    CURRENT.set(previous);
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
