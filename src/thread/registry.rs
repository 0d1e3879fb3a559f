//! Which threads are alive: Python's `_active`, plus `current_thread`,
//! `main_thread` and the dummy threads.
//!
//! The registry is a slab per shard, sharded by the OS thread that starts a
//! thread: starting a thread takes a slot in the starter's own shard, and the
//! thread gives the slot back as it finishes (before it is marked done, so a
//! joined thread is never listed), from whichever worker it finishes on.
//! Measured against the alternatives tried (one lock; weak entries swept
//! lazily), this was the cheapest on a multi-thread runtime, and it keeps
//! `active_count` O(shards) and holds no finished thread.

use std::cell::OnceCell;
use std::sync::{Arc, Mutex};

use super::core::{self, Core, Erased, Inner, Kind, STARTED, Shared, Stage, addr};
use super::scope::{self, ScopeId};
use super::thread_ref::ThreadRef;

const SHARDS: usize = 32;

enum Entry {
    Occupied(Shared),
    /// The next free key, or `u32::MAX`.
    Vacant(u32),
}

/// A shard: a slab of registered threads with a free list.
struct Slab {
    entries: Vec<Entry>,
    free: u32,
    len: usize,
}

impl Slab {
    const fn new() -> Self {
        Self {
            entries: Vec::new(),
            free: u32::MAX,
            len: 0,
        }
    }

    /// The key the next [`insert`](Self::insert) takes.
    fn next_key(&self) -> u32 {
        if self.free != u32::MAX {
            self.free
        } else {
            self.entries.len() as u32
        }
    }

    fn insert(&mut self, thread: Shared) -> u32 {
        self.len += 1;
        if self.free != u32::MAX {
            let key = self.free;
            if let Entry::Vacant(next) = self.entries[key as usize] {
                self.free = next;
            }
            self.entries[key as usize] = Entry::Occupied(thread);
            key
        } else {
            self.entries.push(Entry::Occupied(thread));
            (self.entries.len() - 1) as u32
        }
    }

    fn remove(&mut self, key: u32) -> Option<Shared> {
        let entry = self.entries.get_mut(key as usize)?;
        if matches!(entry, Entry::Vacant(_)) {
            return None;
        }
        let old = std::mem::replace(entry, Entry::Vacant(self.free));
        self.free = key;
        self.len -= 1;
        if self.len == 0 {
            self.entries.clear();
            self.free = u32::MAX;
            // Keep the room of an ordinary burst for the next one, but give
            // back that of a huge one.
            if self.entries.capacity() > 1 << 16 {
                self.entries = Vec::new();
            }
        }
        match old {
            Entry::Occupied(thread) => Some(thread),
            Entry::Vacant(_) => None,
        }
    }

    fn trim(&mut self) {
        if self.len == 0 && self.entries.capacity() > 1024 {
            self.entries = Vec::new();
        }
    }
}

/// One shard on its own cache lines.
#[repr(align(128))]
struct Shard(Mutex<Slab>);

static REGISTRY: [Shard; SHARDS] = [const { Shard(Mutex::new(Slab::new())) }; SHARDS];
fn home_shard() -> usize {
    crate::wait::shard::home(SHARDS)
}

/// Where a registered thread sits, so that it can leave from any worker:
/// its shard and key, packed into the thread's [`Core::slot`].
fn unpack(slot: u64) -> (usize, u32) {
    ((slot >> 32) as usize % SHARDS, slot as u32)
}

/// Registers a thread that is starting, in the caller's scope, and records
/// where in its core ([`Core::slot`]).
pub(crate) fn insert<I: Erased>(thread: &Arc<I>) {
    let core = thread.core();
    core.set_scope(scope::current());
    let shard = home_shard();
    let mut slab = core::lock(&REGISTRY[shard].0);
    let key = slab.next_key();
    core.set_slot(((shard as u64) << 32) | u64::from(key));
    slab.insert(thread.clone());
}

/// Unregisters a thread that is finishing (its [`Core::slot`]).
pub(crate) fn remove(slot: u64) {
    let (shard, key) = unpack(slot);
    let removed = core::lock(&REGISTRY[shard].0).remove(key);
    // Dropped outside the lock.
    drop(removed);
}

/// The threadlet thread being polled on this OS thread, if any, found in
/// the registry (it is registered while it runs). The panic hook calls it
/// too, which is sound because nothing runs user code or panics while it
/// holds a shard's lock (a removed thread is dropped after the lock).
pub(crate) fn current_shared() -> Option<Shared> {
    let current = core::current()?;
    let (shard, key) = unpack(current.slot);
    match core::lock(&REGISTRY[shard].0).entries.get(key as usize) {
        Some(Entry::Occupied(thread)) if addr(thread) as usize == current.addr => {
            Some(thread.clone())
        }
        _ => None,
    }
}

/// Every live thread for which `keep` holds.
fn collect(mut keep: impl FnMut(&Core) -> bool) -> Vec<Shared> {
    let mut threads = Vec::new();
    for shard in &REGISTRY {
        let mut slab = core::lock(&shard.0);
        slab.trim();
        threads.extend(slab.entries.iter().filter_map(|entry| match entry {
            Entry::Occupied(thread) if keep(thread.core()) => Some(thread.clone()),
            _ => None,
        }));
    }
    threads
}

/// Every registered thread, for `introspect::dump`.
pub(crate) fn registered() -> Vec<Shared> {
    collect(|_| true)
}

/// The address of the threadlet thread being polled on this OS thread, or
/// 0: a wait record keeps it (no handle, no count), and the dump finds the
/// thread again among the registered ones (a parked waiter's thread is alive,
/// so registered, and its address is stable while it is).
pub(crate) fn current_addr() -> usize {
    core::current().map_or(0, |c| c.addr)
}

/// The address [`current_addr`] gives for `thread`.
pub(crate) fn addr_of(thread: &Shared) -> usize {
    core::addr(thread) as usize
}

/// The live threads (not `MainThread`) of `target`, daemon or not.
fn members(target: ScopeId, daemon: bool) -> Vec<Shared> {
    let adopted = scope::adoptions();
    collect(|core| {
        core.kind == Kind::Thread
            && core.is_daemon() == daemon
            && scope::resolve(&adopted, core.scope()) == target
    })
}

/// How many entries the registry stores, live or not yet reused.
#[cfg(test)]
fn stored() -> usize {
    REGISTRY
        .iter()
        .map(|shard| core::lock(&shard.0).entries.len())
        .sum()
}

/// Returns every live thread: started threadlet threads that have not
/// finished, and `MainThread` while [`run`](crate::run)'s main is running.
///
/// Like Python's `threading.enumerate()`, threads not yet started and threads
/// that have finished are left out; a joined thread is never in it. The order
/// is unspecified. Unlike Python, dummy threads are not listed: threadlet
/// cannot observe when a task it did not start ends.
///
/// The registry is process-wide, as in Python: it lists threads of every
/// runtime in the process.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let gate = std::sync::Arc::new(tokio::sync::Notify::new());
/// let g = gate.clone();
/// let t = threadlet::Builder::new()
///     .name("worker")
///     .spawn(async move { g.notified().await })
///     .unwrap();
/// let r = t.thread_ref();
/// assert!(threadlet::enumerate().contains(&r));
/// gate.notify_one();
/// t.join().await.unwrap();
/// assert!(!threadlet::enumerate().contains(&r));
/// # }
/// ```
pub fn enumerate() -> Vec<ThreadRef> {
    collect(|_| true)
        .into_iter()
        .map(ThreadRef::from_shared)
        .collect()
}

/// Returns the number of live threads, `enumerate().len()` without building
/// the list.
///
/// Python's `threading.active_count()`.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let t = threadlet::spawn(std::future::pending::<()>());
/// assert!(threadlet::active_count() >= 1);
/// # }
/// ```
pub fn active_count() -> usize {
    REGISTRY.iter().map(|shard| core::lock(&shard.0).len).sum()
}

thread_local! {
    /// The dummy thread standing for this OS thread outside any task.
    static OS_DUMMY: OnceCell<Shared> = const { OnceCell::new() };
}

fn dummy(ident: Option<tokio::task::Id>) -> Shared {
    let inner = Inner::<()> {
        core: Core::new(Kind::Dummy, None, STARTED | core::DAEMON),
        stage: Mutex::new(Stage::running()),
    };
    if let Some(id) = ident {
        inner.core.set_ident(id);
    }
    Arc::new(inner)
}

/// Returns the thread the caller runs in.
///
/// Python's `threading.current_thread()`:
/// - in a threadlet thread, that thread;
/// - in [`run`](crate::run)'s main, `MainThread` (the same thread as
///   [`main_thread`]);
/// - anywhere else, a *dummy thread*, as Python makes one for threads it did
///   not start. In a tokio task that threadlet did not start, it is named
///   `Dummy-<task id>`, its [`ident`](ThreadRef::ident) is the task id, and
///   every call in that task returns an equal handle. Outside any task (a
///   `block_on` body such as `#[tokio::test]`'s, or a plain OS thread) it is
///   `Dummy-N` with N from the `Thread-N` counter, one per OS thread, kept
///   while that OS thread lives. Dummy threads are daemonic, alive, cannot be
///   joined, and are not listed by [`enumerate`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let t = threadlet::Builder::new()
///     .name("worker")
///     .spawn(async { threadlet::current_thread().name() })
///     .unwrap();
/// assert_eq!(t.join().await.unwrap(), "worker");
///
/// // Not a threadlet thread: a dummy, the same one on every call.
/// let me = threadlet::current_thread();
/// assert!(me.name().starts_with("Dummy-"));
/// assert_eq!(me, threadlet::current_thread());
/// # }
/// ```
pub fn current_thread() -> ThreadRef {
    if let Some(thread) = current_shared() {
        return ThreadRef::from_shared(thread);
    }
    if let Some(id) = tokio::task::try_id() {
        return ThreadRef::from_shared(dummy(Some(id)));
    }
    let thread = OS_DUMMY.with(|cell| cell.get_or_init(|| dummy(None)).clone());
    ThreadRef::from_shared(thread)
}

static MAIN: Mutex<Option<Shared>> = Mutex::new(None);

pub(crate) fn new_main() -> Arc<Inner<()>> {
    let inner = Arc::new(Inner::<()> {
        core: Core::new(Kind::Main, None, STARTED),
        stage: Mutex::new(Stage::running()),
    });
    *core::lock(&MAIN) = Some(inner.clone());
    inner
}

/// Called when `run` returns: `main_thread()` is the program's main thread
/// again, not the finished task of that run.
pub(crate) fn end_main() {
    *core::lock(&MAIN) = None;
}

/// Returns the main thread, `MainThread`.
///
/// Python's `threading.main_thread()`. While [`run`](crate::run)'s main is
/// running it is that task: alive, non-daemon, its
/// [`ident`](ThreadRef::ident) the task's id, and what
/// [`current_thread`] returns inside it; once main's task has ended (while
/// `run` waits for the non-daemon threads) it is that finished task, as
/// Python's `_shutdown` marks its main thread done. Outside `run` (before
/// the first call, after it returns, or in a program that never calls it) it
/// is the program's own main thread, which Python reports as alive whenever
/// code runs in it: a `MainThread` that is alive (`started`), non-daemon,
/// with no ident (it is no tokio task), and that never ends.
///
/// # Examples
///
/// ```
/// threadlet::run(async {
///     assert_eq!(threadlet::current_thread(), threadlet::main_thread());
///     assert_eq!(threadlet::main_thread().name(), "MainThread");
/// });
/// ```
pub fn main_thread() -> ThreadRef {
    let mut main = core::lock(&MAIN);
    let thread = main.get_or_insert_with(|| {
        Arc::new(Inner::<()> {
            core: Core::new(Kind::Main, None, STARTED),
            stage: Mutex::new(Stage::running()),
        })
    });
    ThreadRef::from_shared(thread.clone())
}

/// The scope a wait started here is for (the caller's, after adoptions),
/// and the caller if it is a threadlet thread (a thread does not wait for
/// itself), as an address.
pub(crate) fn caller_scope() -> (ScopeId, Option<usize>) {
    let target = scope::resolve(&scope::adoptions(), scope::current());
    let me = core::current().map(|c| c.addr);
    (target, me)
}

/// Waits until no non-daemon thread of `target` other than `me` is alive,
/// also for threads started while it waits: Python's `_shutdown` (join
/// every non-daemon thread, then look again for threads started
/// meanwhile). Cancel safe: it only observes.
pub(crate) async fn join_scope(target: ScopeId, me: Option<usize>) {
    loop {
        let pending: Vec<Shared> = members(target, false)
            .into_iter()
            .filter(|thread| Some(addr(thread) as usize) != me)
            .collect();
        if pending.is_empty() {
            return;
        }
        for thread in pending {
            thread.core().wait_done().await;
        }
    }
}

/// [`join_scope`] for the caller's scope (as
/// [`wait_non_daemon`](crate::wait_non_daemon)): what a child process waits
/// for before it exits.
#[cfg(all(feature = "process", target_os = "linux"))]
pub(crate) async fn join_non_daemon() {
    let (target, me) = caller_scope();
    join_scope(target, me).await;
}

/// Cancels the daemon threads of `target`, and the daemons they start
/// while being cancelled, and waits until they have ended.
///
/// A daemon that does not yield (blocked inside a poll, e.g. in
/// `block_in_place`) is waited for until it does.
pub(crate) async fn cancel_daemons(target: ScopeId) {
    loop {
        let daemons = members(target, true);
        if daemons.is_empty() {
            return;
        }
        let mut cancelled = Vec::with_capacity(daemons.len());
        for thread in daemons {
            // One caught between registering and storing its task handle
            // is cancelled on the next round.
            if thread.core().abort() {
                cancelled.push(thread);
            }
        }
        if cancelled.is_empty() {
            tokio::task::yield_now().await;
        }
        for thread in cancelled {
            thread.core().wait_done().await;
        }
    }
}

/// Cancels the daemon threads of `target` without waiting (a scope dropped
/// before it finished cannot wait).
pub(crate) fn abort_daemons(target: ScopeId) {
    for thread in members(target, true) {
        thread.core().abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn finished_threads_leave_the_storage() {
        let threads: Vec<_> = (0..100_000)
            .map(|i| crate::spawn(async move { i }))
            .collect();
        for t in threads {
            t.join().await.unwrap();
        }
        let _ = active_count();
        // Finished threads gave their slots back (a few threads of
        // concurrently running unit tests may be live).
        assert!(stored() < 1_000, "{} entries kept", stored());
    }
}
