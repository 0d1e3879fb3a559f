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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::meta::Meta;
use crate::thread::Shared;

const SHARDS: usize = 16;

/// One parked waiter: plain values only, so that writing one costs no
/// reference count and no full-price clock read (see [`enter`]).
pub(crate) struct Record {
    /// Unique per wait, so a second snapshot can tell the same wait.
    pub(crate) seq: u64,
    /// The waiter's owner id (`sync::rlock::current_owner`).
    pub(crate) who: u64,
    /// The address of the threadlet thread that waits, or 0
    /// (`thread::current_addr`).
    pub(crate) thread: usize,
    /// The OS thread, for a wait outside any task (a `blocking_*` call).
    pub(crate) os_thread: Option<std::thread::Thread>,
    pub(crate) meta: Arc<Meta>,
    /// When the wait began, as a [`stamp`].
    pub(crate) since: u64,
    /// Whether the wait has a deadline (it can end by itself).
    pub(crate) timed: bool,
}

struct Slab {
    entries: Vec<Option<Record>>,
    free: Vec<u32>,
    /// Records ever made in this shard (the next `seq` is drawn from it).
    count: u64,
}

#[repr(align(128))]
struct Shard(Mutex<Slab>);

static TABLE: [Shard; SHARDS] = [const {
    Shard(Mutex::new(Slab {
        entries: Vec::new(),
        free: Vec::new(),
        count: 0,
    }))
}; SHARDS];

thread_local! {
    /// Set while a wait with a deadline is being polled on this OS thread.
    static TIMED: Cell<bool> = const { Cell::new(false) };
}

/// A monotonic time stamp in nanoseconds, for the records' "since".
///
/// On Linux it reads `CLOCK_MONOTONIC_COARSE` (the kernel's tick-granular
/// clock, a few milliseconds of resolution): measured on the reference VM it
/// costs 14 ns against 35 ns for `Instant::now`, and a dump reports waits of
/// seconds, so a tick is precision enough. Elsewhere it is `Instant` based.
#[cfg(all(target_os = "linux", feature = "process"))]
fn stamp() -> u64 {
    use nix::time::{ClockId, clock_gettime};
    clock_gettime(ClockId::CLOCK_MONOTONIC_COARSE).map_or(0, |ts| {
        let secs = u64::try_from(ts.tv_sec()).unwrap_or(0);
        let nanos = u64::try_from(ts.tv_nsec()).unwrap_or(0);
        secs.saturating_mul(1_000_000_000).saturating_add(nanos)
    })
}

/// A monotonic time stamp in nanoseconds, for the records' "since".
#[cfg(not(all(target_os = "linux", feature = "process")))]
fn stamp() -> u64 {
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let elapsed = BASE.get_or_init(Instant::now).elapsed();
    u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
}

/// How long ago `since` (a [`stamp`]) was.
#[cfg(feature = "tracing")]
fn age(since: u64) -> Duration {
    Duration::from_nanos(stamp().saturating_sub(since))
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
///
/// This runs once per park, so it is kept cheap: the owner id and the
/// thread's address are thread-local reads, the stamp is the coarse clock,
/// and the sequence number is drawn from the shard under the lock it takes
/// anyway: no reference count on the thread, no shared counter, no
/// full-price clock read (callgrind, Event ping-pong: about 2,590
/// instructions per round trip, down from about 2,880).
pub(crate) fn enter(meta: &Arc<Meta>) -> WaitSlot {
    let thread = crate::thread::current_addr();
    let os_thread = if thread == 0 && tokio::task::try_id().is_none() {
        Some(std::thread::current())
    } else {
        None
    };
    let who = crate::sync::current_owner();
    let meta = meta.clone();
    let since = stamp();
    let timed = TIMED.get();
    let shard = crate::wait::shard::home(SHARDS);
    let mut slab = crate::wait::loom::lock(&TABLE[shard].0);
    // Unique across shards: the shard's count, interleaved with the others'.
    let seq = slab.count * SHARDS as u64 + shard as u64;
    slab.count += 1;
    let record = Record {
        seq,
        who,
        thread,
        os_thread,
        meta,
        since,
        timed,
    };
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
    // The primitive's handle is dropped outside the lock.
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
    let waited = age(record.since);
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
    /// The waiting threadlet thread, found again in the registry.
    pub(crate) thread: Option<Shared>,
    /// The OS thread's name, for a wait outside any task.
    pub(crate) os_name: Option<String>,
    pub(crate) meta: Arc<Meta>,
    pub(crate) since: Instant,
    pub(crate) timed: bool,
    /// The holder as read now.
    pub(crate) holder: u64,
}

/// Every record now (each shard's lock held only while it is copied; names
/// and threads are resolved after the locks are given back).
pub(crate) fn snapshot() -> Vec<Seen> {
    let mut copied = Vec::new();
    for shard in &TABLE {
        let slab = crate::wait::loom::lock(&shard.0);
        copied.extend(slab.entries.iter().flatten().map(|r| {
            (
                r.seq,
                r.who,
                r.thread,
                r.os_thread.clone(),
                r.meta.clone(),
                r.since,
                r.timed,
            )
        }));
    }
    let threads: Vec<Shared> = if copied.iter().any(|c| c.2 != 0) {
        crate::thread::registered()
    } else {
        Vec::new()
    };
    let (now, now_stamp) = (Instant::now(), stamp());
    copied
        .into_iter()
        .map(|(seq, who, thread, os_thread, meta, since, timed)| {
            let waited = Duration::from_nanos(now_stamp.saturating_sub(since));
            Seen {
                seq,
                who,
                thread: threads
                    .iter()
                    .find(|t| crate::thread::addr_of(t) == thread)
                    .cloned(),
                os_name: os_thread.map(|t| {
                    t.name()
                        .map_or_else(|| format!("{:?}", t.id()), str::to_owned)
                }),
                holder: meta.holder(),
                meta,
                since: now.checked_sub(waited).unwrap_or(now),
                timed,
            }
        })
        .collect()
}
