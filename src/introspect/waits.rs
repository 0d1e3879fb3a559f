//! The wait records: "this thread waits on that primitive since then",
//! written on the slow path only, when a waiter is queued and about to park,
//! and removed when it returns or is dropped.
//!
//! Sharded like the thread registry: a waiter takes a slot in its OS
//! thread's home shard and gives it back from wherever it ends. The fast
//! paths of the primitives never come here. (Under loom the wait core
//! writes no records: the models check the core, not the bookkeeping.)
#![cfg_attr(threadlet_loom, allow(dead_code))]

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::meta::Meta;
use crate::thread::Shared;

const SHARDS: usize = 16;

/// One parked waiter.
pub(crate) struct Record {
    /// Unique per wait, so a second snapshot can tell the same wait.
    pub(crate) seq: u64,
    /// The waiter's owner id (`sync::rlock::current_owner`).
    pub(crate) who: u64,
    /// The threadlet thread that waits, if it is one.
    pub(crate) thread: Option<Shared>,
    /// The OS thread's name, for a wait outside any task.
    pub(crate) os_name: Option<String>,
    pub(crate) meta: Arc<Meta>,
    pub(crate) since: Instant,
    /// Whether the wait has a deadline (it can end by itself).
    pub(crate) timed: bool,
}

struct Slab {
    entries: Vec<Option<Record>>,
    free: Vec<u32>,
}

#[repr(align(128))]
struct Shard(Mutex<Slab>);

static TABLE: [Shard; SHARDS] = [const {
    Shard(Mutex::new(Slab {
        entries: Vec::new(),
        free: Vec::new(),
    }))
}; SHARDS];
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);
static NEXT_SEQ: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static HOME: Cell<usize> = const { Cell::new(usize::MAX) };
    /// Set while a wait with a deadline is being polled on this OS thread.
    static TIMED: Cell<bool> = const { Cell::new(false) };
}

fn home() -> usize {
    HOME.with(|home| {
        let mut shard = home.get();
        if shard == usize::MAX {
            shard = NEXT_SHARD.fetch_add(1, Ordering::Relaxed) % SHARDS;
            home.set(shard);
        }
        shard
    })
}

/// Runs `f` (a poll of a wait with a deadline) with the "timed" mark set, so
/// a waiter that parks inside records that its wait can end by itself.
pub(crate) fn timed<R>(f: impl FnOnce() -> R) -> R {
    let before = TIMED.replace(true);
    let out = f();
    TIMED.set(before);
    out
}

/// Where a record sits.
#[derive(Debug)]
pub(crate) struct WaitSlot {
    shard: u32,
    key: u32,
}

/// Records that the caller is parking on the primitive of `meta`.
pub(crate) fn enter(meta: &Arc<Meta>) -> WaitSlot {
    let thread = crate::thread::current_shared();
    let os_name = if thread.is_none() && tokio::task::try_id().is_none() {
        Some(std::thread::current().name().map_or_else(
            || format!("{:?}", std::thread::current().id()),
            str::to_owned,
        ))
    } else {
        None
    };
    let record = Record {
        seq: NEXT_SEQ.fetch_add(1, Ordering::Relaxed),
        who: crate::sync::current_owner(),
        thread,
        os_name,
        meta: meta.clone(),
        since: Instant::now(),
        timed: TIMED.get(),
    };
    let shard = home();
    let mut slab = crate::wait::loom::lock(&TABLE[shard].0);
    let key = if let Some(key) = slab.free.pop() {
        slab.entries[key as usize] = Some(record);
        key
    } else {
        slab.entries.push(Some(record));
        (slab.entries.len() - 1) as u32
    };
    WaitSlot {
        shard: shard as u32,
        key,
    }
}

/// Removes the record of a waiter that returned or was dropped.
pub(crate) fn leave(slot: WaitSlot) {
    let mut slab = crate::wait::loom::lock(&TABLE[slot.shard as usize].0);
    let old = slab.entries[slot.key as usize].take();
    slab.free.push(slot.key);
    if slab.free.len() == slab.entries.len() {
        slab.free.clear();
        slab.entries.clear();
        if slab.entries.capacity() > 4096 {
            slab.entries = Vec::new();
            slab.free = Vec::new();
        }
    }
    drop(slab);
    #[cfg(feature = "tracing")]
    if let Some(record) = &old {
        slow_wait(record);
    }
    // The thread handle is dropped outside the lock.
    drop(old);
}

/// A wait that lasted at least this long emits a debug event when it ends
/// (feature `tracing`).
#[cfg(feature = "tracing")]
pub(crate) const SLOW_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// Emits the `threadlet::wait` debug event of a wait that took
/// [`SLOW_WAIT`] or longer, naming the primitive, in the span of whoever
/// ends the wait (the waiter itself, returning or dropped).
#[cfg(feature = "tracing")]
fn slow_wait(record: &Record) {
    if record.meta.kind == super::PrimitiveKind::Internal
        || !tracing::enabled!(target: "threadlet::wait", tracing::Level::DEBUG)
    {
        return;
    }
    let waited = record.since.elapsed();
    if waited < SLOW_WAIT {
        return;
    }
    let primitive = super::PrimitiveInfo::from_meta(&record.meta);
    tracing::debug!(
        target: "threadlet::wait",
        kind = %primitive.kind,
        id = primitive.id,
        label = primitive.label.as_deref(),
        created = %primitive.site,
        waited_ms = u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
        timed = record.timed,
        "slow wait: {waited:.1?} on {primitive}",
    );
}

/// A copy of one record, as a dump reads it.
pub(crate) struct Seen {
    pub(crate) seq: u64,
    pub(crate) who: u64,
    pub(crate) thread: Option<Shared>,
    pub(crate) os_name: Option<String>,
    pub(crate) meta: Arc<Meta>,
    pub(crate) since: Instant,
    pub(crate) timed: bool,
    /// The holder as read now.
    pub(crate) holder: u64,
}

/// Every record now (each shard's lock held only while it is copied).
pub(crate) fn snapshot() -> Vec<Seen> {
    let mut seen = Vec::new();
    for shard in &TABLE {
        let slab = crate::wait::loom::lock(&shard.0);
        seen.extend(slab.entries.iter().flatten().map(|r| Seen {
            seq: r.seq,
            who: r.who,
            thread: r.thread.clone(),
            os_name: r.os_name.clone(),
            meta: r.meta.clone(),
            since: r.since,
            timed: r.timed,
            holder: r.meta.holder(),
        }));
    }
    seen
}
