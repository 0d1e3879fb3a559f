//! What every wait list carries about the primitive it belongs to: its
//! kind, a process-wide id, where it was created and an optional label, plus
//! one word for who holds it (an RLock's owner, a Lock's last acquirer when
//! holder tracking is on, the thread a join waits for).

use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64 as StdAtomicU64, Ordering as StdOrdering};
use std::sync::{Arc, Once};

use crate::wait::loom::{AtomicU64, Ordering};

/// What kind of primitive a thread waits on.
///
/// # Examples
///
/// ```
/// use threadlet::introspect::PrimitiveKind;
///
/// assert_eq!(PrimitiveKind::QueueGet.to_string(), "Queue.get");
/// assert_eq!(PrimitiveKind::Lock.to_string(), "Lock");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PrimitiveKind {
    /// A [`Lock`](crate::Lock).
    Lock,
    /// An [`RLock`](crate::RLock).
    RLock,
    /// A [`Condition`](crate::Condition)'s wait for a notification.
    Condition,
    /// A [`Semaphore`](crate::Semaphore).
    Semaphore,
    /// A [`BoundedSemaphore`](crate::BoundedSemaphore).
    BoundedSemaphore,
    /// An [`Event`](crate::Event).
    Event,
    /// A [`Barrier`](crate::Barrier).
    Barrier,
    /// A queue's `get` waiting for an item.
    QueueGet,
    /// A queue's `put` waiting for room.
    QueuePut,
    /// A queue's `join` waiting for `task_done`.
    QueueJoin,
    /// A [`Thread`](crate::Thread) join waiting for the thread to end.
    ThreadJoin,
    /// The crate's own internal wait lists.
    Internal,
}

impl PrimitiveKind {
    /// The name the dump prints.
    fn as_str(self) -> &'static str {
        match self {
            Self::Lock => "Lock",
            Self::RLock => "RLock",
            Self::Condition => "Condition",
            Self::Semaphore => "Semaphore",
            Self::BoundedSemaphore => "BoundedSemaphore",
            Self::Event => "Event",
            Self::Barrier => "Barrier",
            Self::QueueGet => "Queue.get",
            Self::QueuePut => "Queue.put",
            Self::QueueJoin => "Queue.join",
            Self::ThreadJoin => "Thread.join",
            Self::Internal => "internal",
        }
    }

    /// Whether a wait on this kind has a single holder that the deadlock
    /// detector follows.
    pub(crate) fn has_holder(self) -> bool {
        matches!(self, Self::Lock | Self::RLock | Self::ThreadJoin)
    }
}

impl fmt::Display for PrimitiveKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Nobody holds the primitive (or nobody is recorded).
pub(crate) const NO_HOLDER: u64 = 0;

/// The next primitive id (ids start at 1).
static NEXT_ID: StdAtomicU64 = StdAtomicU64::new(1);

/// A primitive's identity, shared by its wait list and by the wait records of
/// the threads parked on it (so a dump reads the holder as it is now).
#[derive(Debug)]
pub(crate) struct Meta {
    pub(crate) kind: PrimitiveKind,
    pub(crate) id: u64,
    pub(crate) site: &'static Location<'static>,
    pub(crate) label: Option<Box<str>>,
    /// The holder's owner id (`sync::rlock::current_owner`'s space), or
    /// [`NO_HOLDER`]. An RLock keeps its owner here.
    pub(crate) holder: AtomicU64,
}

impl Meta {
    /// A new identity created at the caller's location.
    #[track_caller]
    pub(crate) fn new(kind: PrimitiveKind, label: Option<Box<str>>) -> Arc<Self> {
        Self::at(kind, label, Location::caller())
    }

    /// A new identity created at `site`.
    pub(crate) fn at(
        kind: PrimitiveKind,
        label: Option<Box<str>>,
        site: &'static Location<'static>,
    ) -> Arc<Self> {
        Arc::new(Self {
            kind,
            id: NEXT_ID.fetch_add(1, StdOrdering::Relaxed),
            site,
            label,
            holder: AtomicU64::new(NO_HOLDER),
        })
    }

    /// Another wait list of the same primitive (a queue's get, put and join
    /// lists): same id, site and label, its own kind and holder.
    pub(crate) fn sibling(&self, kind: PrimitiveKind) -> Arc<Self> {
        Arc::new(Self {
            kind,
            id: self.id,
            site: self.site,
            label: self.label.clone(),
            holder: AtomicU64::new(NO_HOLDER),
        })
    }

    /// The recorded holder, or [`NO_HOLDER`].
    pub(crate) fn holder(&self) -> u64 {
        self.holder.load(Ordering::Relaxed)
    }

    /// Records (`me`) or clears ([`NO_HOLDER`]) the holder.
    pub(crate) fn set_holder(&self, me: u64) {
        self.holder.store(me, Ordering::Relaxed);
    }
}

/// Whether a Lock records its last acquirer.
static TRACK_HOLDERS: AtomicBool = AtomicBool::new(false);
static FROM_ENV: Once = Once::new();

/// Reads `THREADLET_TRACK_HOLDERS` once (called by Lock's constructors, off
/// the acquire path).
pub(crate) fn init_from_env() {
    FROM_ENV.call_once(|| {
        if std::env::var_os("THREADLET_TRACK_HOLDERS").is_some_and(|v| v == "1" || v == "true") {
            TRACK_HOLDERS.store(true, StdOrdering::Relaxed);
        }
    });
}

/// Whether Lock holder tracking is on: one relaxed load.
#[inline]
pub(crate) fn tracking_holders() -> bool {
    TRACK_HOLDERS.load(StdOrdering::Relaxed)
}

/// Turns Lock holder tracking on or off for the whole process.
///
/// A [`Lock`](crate::Lock) has no owner (any task may release it, as in
/// Python), so by default a dump cannot say who holds one. With tracking on,
/// every acquire records the acquiring task (or OS thread) as the lock's
/// *last acquirer*; a release while others wait clears it (a release with
/// nobody waiting leaves it, at no cost). [`dump`](crate::dump) shows it and
/// [`deadlocks`](crate::deadlocks) follows it. The cost is a task-id lookup
/// and one store per acquire; when off, one relaxed load per acquire and
/// nothing per release. An [`RLock`](crate::RLock) always knows its owner and
/// needs no switch. The environment variable `THREADLET_TRACK_HOLDERS=1`
/// turns it on at the first `Lock` created.
///
/// # Examples
///
/// ```
/// threadlet::introspect::set_track_holders(true);
/// assert!(threadlet::introspect::track_holders());
/// threadlet::introspect::set_track_holders(false);
/// ```
pub fn set_track_holders(on: bool) {
    FROM_ENV.call_once(|| {});
    TRACK_HOLDERS.store(on, StdOrdering::Relaxed);
}

/// Whether Lock holder tracking is on (see [`set_track_holders`]).
///
/// # Examples
///
/// ```
/// threadlet::introspect::set_track_holders(false);
/// assert!(!threadlet::introspect::track_holders());
/// ```
#[must_use]
pub fn track_holders() -> bool {
    tracking_holders()
}
