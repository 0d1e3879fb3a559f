//! [`Event`]: a flag plus the shared core in broadcast mode.
//!
//! The flag word also counts the `set`s that raised it (a generation). A
//! `set` hands its wake-up to every waiter queued when it takes the wait
//! list's lock, which can include a waiter that started waiting after that
//! `set` and a `clear`; such a waiter sees the generation unchanged since it
//! started and waits again, so a wait returns only for a `set` made while it
//! waited (as Python's, where `set` and `notify_all` are one step under the
//! condition's lock).

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::time::Duration;

use super::statistics::EventStatistics;
use crate::wait::blocking::{Op, block_on, block_on_forever};
use crate::wait::flag::{announce, wait_until};
use crate::wait::loom::{Arc, AtomicUsize, Ordering};
use crate::wait::timeout::Wait;
use crate::wait::timeout::deadline;
use crate::wait::{Mode, RawSemaphore};

/// Bit 0 of the flag word: the flag. The bits above count the `set`s that
/// raised it.
const SET: usize = 1;

#[derive(Debug)]
struct Inner {
    /// `generation << 1 | SET?`
    flag: AtomicUsize,
    raw: RawSemaphore,
}

impl Inner {
    /// A test for "set since `seen` was read": the flag is up, or it was
    /// raised (and maybe cleared again) since.
    fn set_since(&self, seen: usize) -> impl Fn() -> bool + '_ {
        move || {
            let now = self.flag.load(Ordering::SeqCst);
            now & SET != 0 || now != seen
        }
    }
}

/// Python's `threading.Event`: a flag that tasks wait on until another task
/// sets it.
///
/// [`set`](Event::set) wakes every waiter; a wait that starts while the flag
/// is set returns at once. As in Python, a waiter woken by `set` returns
/// `true` even if [`clear`](Event::clear) ran before it resumed. The handle is
/// a cheap [`Clone`]; clones are the same event.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::Event;
///
/// let event = Event::new();
/// let e = event.clone();
/// let waiter = tokio::spawn(async move { e.wait().await });
/// event.set();
/// waiter.await.unwrap();
/// assert!(event.is_set());
/// # }
/// ```
#[derive(Clone)]
pub struct Event {
    inner: Arc<Inner>,
}

impl Event {
    /// Creates an event whose flag is unset.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!threadlet::Event::new().is_set());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new() -> Self {
        Self::build(None)
    }

    /// [`new`](Event::new) with a label that [`dump`](crate::dump) shows for
    /// it.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!threadlet::Event::labeled("ready").is_set());
    /// ```
    #[must_use]
    #[track_caller]
    pub fn labeled(label: impl Into<String>) -> Self {
        Self::build(Some(label.into().into_boxed_str()))
    }

    #[track_caller]
    fn build(label: Option<Box<str>>) -> Self {
        let meta =
            crate::introspect::meta::Meta::new(crate::introspect::PrimitiveKind::Event, label);
        Self {
            inner: Arc::new(Inner {
                flag: AtomicUsize::new(0),
                raw: RawSemaphore::with_meta(0, Mode::Discard, meta),
            }),
        }
    }

    /// Whether the flag is set. This is also the non-blocking form of
    /// [`wait`](Event::wait) (what `try_wait()` would be): `wait` returns at
    /// once exactly when this is `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = threadlet::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    #[doc(alias = "try_wait")]
    #[must_use]
    pub fn is_set(&self) -> bool {
        self.inner.flag.load(Ordering::Acquire) & SET != 0
    }

    /// Sets the flag and wakes every task and thread waiting on it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let event = threadlet::Event::new();
    /// event.set();
    /// event.wait().await; // returns at once
    /// # }
    /// ```
    pub fn set(&self) {
        let mut word = self.inner.flag.load(Ordering::Relaxed);
        loop {
            if word & SET != 0 {
                // Already set: the set that raised it wakes the waiters.
                return;
            }
            match self.inner.flag.compare_exchange_weak(
                word,
                word.wrapping_add(2) | SET,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => word = actual,
            }
        }
        announce(&self.inner.raw);
    }

    /// Resets the flag; later waits block until the next [`set`](Event::set).
    ///
    /// # Examples
    ///
    /// ```
    /// let event = threadlet::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        self.inner.flag.fetch_and(!SET, Ordering::SeqCst);
    }

    /// Waits until the flag is set (at once if it is).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped wait leaves the event and the other waiters as
    /// they were.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let event = threadlet::Event::new();
    /// let e = event.clone();
    /// tokio::spawn(async move { e.set() });
    /// event.wait().await;
    /// assert!(event.is_set());
    /// # }
    /// ```
    pub async fn wait(&self) {
        let seen = self.inner.flag.load(Ordering::SeqCst);
        if seen & SET != 0 {
            return;
        }
        wait_until(&self.inner.raw, self.inner.set_since(seen)).await;
    }

    /// Waits until the flag is set, at most `timeout`; returns `true` if it was
    /// set (or was already), `false` if the time ran out (Python's
    /// `wait(timeout)`). `Duration::MAX` waits forever.
    ///
    /// # Panics
    ///
    /// A non-zero, finite `timeout` needs tokio's timer: awaited outside a
    /// tokio runtime (e.g. under `futures::executor::block_on`) it panics
    /// every time, naming the caller, set or not. A zero timeout only checks
    /// the flag and `Duration::MAX` needs no timer; neither needs a runtime.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, like [`wait`](Event::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let event = threadlet::Event::new();
    /// assert!(!event.wait_timeout(Duration::from_millis(5)).await);
    /// event.set();
    /// assert!(event.wait_timeout(Duration::from_millis(5)).await);
    /// # }
    /// ```
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> impl Future<Output = bool> + Send + '_ {
        let caller = Location::caller();
        async move {
            // Planned before the flag is read, so a call outside a runtime
            // fails the same way whether or not the flag is set.
            let wait = Wait::plan(timeout, "Event::wait_timeout", caller);
            self.is_set() || wait.run(self.wait()).await.is_some()
        }
    }

    /// [`wait`](Event::wait) for a plain OS thread (`std::thread`,
    /// `spawn_blocking`): the same wait, driven on this thread.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`wait().await`](Event::wait) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = threadlet::Event::new();
    /// let e = event.clone();
    /// let t = std::thread::spawn(move || e.blocking_wait());
    /// event.set();
    /// t.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_wait(&self) {
        let op = Op {
            name: "Event::blocking_wait",
            instead: "`.wait().await`",
        };
        block_on_forever(op, self.wait());
    }

    /// [`blocking_wait`](Event::blocking_wait) without the refusal on a
    /// runtime thread, for the crate's own waits on an event that another OS
    /// thread always sets (a process's end, recorded by the process driver).
    #[cfg(all(feature = "process", target_os = "linux"))]
    pub(crate) fn wait_on_thread(&self) {
        let _ = crate::wait::blocking::block_on_deadline(self.wait(), None);
    }

    /// [`wait_timeout`](Event::wait_timeout) for a plain OS thread; it needs
    /// no tokio runtime.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use [`wait_timeout(timeout).await`](Event::wait_timeout) in async code, or
    /// call it from `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let event = threadlet::Event::new();
    /// assert!(!event.blocking_wait_timeout(Duration::from_millis(5)));
    /// ```
    #[must_use]
    #[track_caller]
    pub fn blocking_wait_timeout(&self, timeout: Duration) -> bool {
        let op = Op {
            name: "Event::blocking_wait_timeout",
            instead: "`.wait_timeout(timeout).await`",
        };
        block_on(op, deadline(timeout), self.wait()).is_some()
    }

    /// A snapshot: whether the flag is set and how many wait for it (trio's
    /// `statistics()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let event = threadlet::Event::new();
    /// event.set();
    /// let stats = event.statistics();
    /// assert!(stats.set);
    /// assert_eq!(stats.waiters, 0);
    /// ```
    #[must_use]
    pub fn statistics(&self) -> EventStatistics {
        EventStatistics {
            set: self.is_set(),
            waiters: self.inner.raw.snapshot().waiters,
        }
    }

    /// Test introspection: (free permits, queued waiters, slots in use).
    #[cfg(test)]
    pub(crate) fn debug_state(&self) -> (usize, usize, usize) {
        let s = self.inner.raw.snapshot();
        (s.permits, s.waiters, s.slots)
    }
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}
