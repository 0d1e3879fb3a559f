//! [`Semaphore`] and [`BoundedSemaphore`]: the shared core's counter, the
//! bounded one with a ceiling on release. One implementation, two faces.

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::time::Duration;

use super::error::SemaphoreReleaseError;
use super::statistics::SemaphoreStatistics;
use crate::introspect::{PrimitiveKind, meta::Meta};
use crate::wait::blocking::{Op, block_on, block_on_forever};
use crate::wait::loom::Arc;
use crate::wait::timeout::Wait;
use crate::wait::timeout::deadline;
use crate::wait::{MAX_PERMITS, Mode, RawSemaphore};

/// What both semaphores share: the counter and the release ceiling.
#[derive(Debug)]
struct Inner {
    raw: RawSemaphore,
    /// `MAX_PERMITS` for [`Semaphore`]; the initial value for
    /// [`BoundedSemaphore`].
    bound: usize,
    /// Whether it is a [`BoundedSemaphore`] (a release past `bound` is then
    /// Python's "released too many times", else an overflow).
    bounded: bool,
}

impl Inner {
    #[track_caller]
    fn new(value: usize, bound: usize, bounded: bool, label: Option<Box<str>>) -> Arc<Self> {
        assert!(
            value <= MAX_PERMITS,
            "a semaphore holds at most {MAX_PERMITS} permits"
        );
        let kind = if bounded {
            PrimitiveKind::BoundedSemaphore
        } else {
            PrimitiveKind::Semaphore
        };
        Arc::new(Self {
            raw: RawSemaphore::with_meta(value, Mode::Counting, Meta::new(kind, label)),
            bound,
            bounded,
        })
    }

    async fn acquire(&self) {
        if self.raw.try_acquire().is_err() {
            // Never closed.
            let _ = self.raw.acquire().await;
        }
    }

    fn try_acquire(&self) -> bool {
        self.raw.try_acquire().is_ok()
    }

    async fn acquire_timeout(&self, wait: Wait) -> bool {
        wait.acquire(|| self.try_acquire().then_some(()), || self.acquire())
            .await
            .is_some()
    }

    /// A guard's drop: gives its permit back; an over-release (see
    /// [`SemaphoreGuard`]) panics in debug builds only, unless unwinding.
    fn guard_dropped(&self, guard: &str) {
        if let Err(err) = self.release_n(1)
            && cfg!(debug_assertions)
            && !std::thread::panicking()
        {
            panic!("{guard} dropped after the semaphore was over-released: {err}");
        }
    }

    fn release_n(&self, n: usize) -> Result<(), SemaphoreReleaseError> {
        if n == 0 {
            return Err(SemaphoreReleaseError::ZeroPermits);
        }
        self.raw
            .release_bounded(n, self.bound)
            .map_err(|_| match self.bounded {
                true => SemaphoreReleaseError::TooManyReleases,
                false => SemaphoreReleaseError::Overflow,
            })
    }
}

/// Python's `threading.Semaphore(value)`: a counter of permits; `acquire`
/// takes one, waiting while there are none, `release` gives one back.
///
/// Unbounded, as in Python: a release without a prior acquire raises the
/// value. Waiters are woken in FIFO order and none starves. For a permit that
/// comes back by itself use [`permit`](Semaphore::permit). The handle is a cheap
/// [`Clone`]; clones are the same semaphore. Counts are `usize`, so Python's
/// negative-value `ValueError` cannot happen.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::Semaphore;
///
/// let sem = Semaphore::new(2);
/// let a = sem.permit().await;
/// let b = sem.permit().await;
/// assert!(!sem.try_acquire());
/// drop(a);
/// assert_eq!(sem.value(), 1);
/// # }
/// ```
#[derive(Clone)]
pub struct Semaphore {
    inner: Arc<Inner>,
}

/// Python's `threading.BoundedSemaphore(value)`: a [`Semaphore`] whose value
/// may never exceed its initial value; such a release is an error and changes
/// nothing.
///
/// # Examples
///
/// ```
/// use threadlet::BoundedSemaphore;
///
/// let sem = BoundedSemaphore::new(1);
/// assert!(sem.try_acquire());
/// assert_eq!(sem.release(), Ok(()));
/// assert!(sem.release().is_err()); // "Semaphore released too many times"
/// assert_eq!(sem.value(), 1);
/// ```
#[derive(Clone)]
pub struct BoundedSemaphore {
    inner: Arc<Inner>,
}

impl Semaphore {
    /// Creates a semaphore holding `value` permits.
    ///
    /// # Panics
    ///
    /// If `value` exceeds `usize::MAX >> 2`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadlet::Semaphore::new(5);
    /// assert_eq!(sem.value(), 5);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new(value: usize) -> Self {
        Self {
            inner: Inner::new(value, MAX_PERMITS, false, None),
        }
    }

    /// [`new`](Semaphore::new) with a label that [`dump`](crate::dump) shows
    /// for it.
    ///
    /// # Panics
    ///
    /// If `value` exceeds `usize::MAX >> 2`.
    ///
    /// # Examples
    ///
    /// ```
    /// let slots = threadlet::Semaphore::labeled(4, "db connections");
    /// assert_eq!(slots.value(), 4);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn labeled(value: usize, label: impl Into<String>) -> Self {
        Self {
            inner: Inner::new(
                value,
                MAX_PERMITS,
                false,
                Some(label.into().into_boxed_str()),
            ),
        }
    }

    /// Returns one permit (Python's `release()`). No prior acquire is
    /// needed, as in Python.
    ///
    /// # Errors
    ///
    /// [`SemaphoreReleaseError::Overflow`] ("Semaphore value would exceed its
    /// maximum") if the value would exceed `usize::MAX >> 2`; nothing
    /// changes. The `Result` has the shape of
    /// [`release_n`](Semaphore::release_n)'s and of
    /// [`BoundedSemaphore::release`]'s.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadlet::Semaphore::new(0);
    /// sem.release().unwrap(); // no prior acquire needed, as in Python
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn release(&self) -> Result<(), SemaphoreReleaseError> {
        self.inner.release_n(1)
    }
}

impl BoundedSemaphore {
    /// Creates a bounded semaphore holding `value` permits, which is also the
    /// most it may ever hold.
    ///
    /// # Panics
    ///
    /// If `value` exceeds `usize::MAX >> 2`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadlet::BoundedSemaphore::new(3);
    /// assert_eq!(sem.value(), 3);
    /// assert_eq!(sem.initial_value(), 3);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn new(value: usize) -> Self {
        Self {
            inner: Inner::new(value, value, true, None),
        }
    }

    /// [`new`](BoundedSemaphore::new) with a label that
    /// [`dump`](crate::dump) shows for it.
    ///
    /// # Panics
    ///
    /// If `value` exceeds `usize::MAX >> 2`.
    ///
    /// # Examples
    ///
    /// ```
    /// let slots = threadlet::BoundedSemaphore::labeled(2, "workers");
    /// assert_eq!(slots.initial_value(), 2);
    /// ```
    #[must_use]
    #[track_caller]
    pub fn labeled(value: usize, label: impl Into<String>) -> Self {
        Self {
            inner: Inner::new(value, value, true, Some(label.into().into_boxed_str())),
        }
    }

    /// The initial value, which is also the ceiling.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadlet::BoundedSemaphore::new(4).initial_value(), 4);
    /// ```
    #[must_use]
    pub fn initial_value(&self) -> usize {
        self.inner.bound
    }

    /// Returns one permit.
    ///
    /// # Errors
    ///
    /// [`SemaphoreReleaseError::TooManyReleases`] ("Semaphore released too many
    /// times") if the value would exceed the initial value; nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadlet::BoundedSemaphore::new(1);
    /// assert!(sem.release().is_err());
    /// assert!(sem.try_acquire());
    /// assert!(sem.release().is_ok());
    /// ```
    pub fn release(&self) -> Result<(), SemaphoreReleaseError> {
        self.inner.release_n(1)
    }
}

/// The methods both semaphores share, documented once per type.
macro_rules! semaphore_methods {
    ($ty:ident, $release_n_doc:literal) => {
        impl $ty {
            /// Takes a permit, waiting in FIFO order while there is none.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe. A dropped future holds nothing; a permit already
            /// handed to it passes on to the next waiter.
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(1);")]
            /// sem.acquire().await;
            /// assert_eq!(sem.value(), 0);
            /// # }
            /// ```
            pub async fn acquire(&self) {
                self.inner.acquire().await;
            }

            /// Takes a permit if one is free right now (Python's
            /// `acquire(blocking=False)`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(1);")]
            /// assert!(sem.try_acquire());
            /// assert!(!sem.try_acquire());
            /// ```
            #[doc(alias = "acquire_nowait")]
            #[must_use = "if a permit was taken it must be released"]
            pub fn try_acquire(&self) -> bool {
                self.inner.try_acquire()
            }

            /// Takes a permit, waiting at most `timeout`; `false` if the time
            /// ran out first. `Duration::MAX` waits forever; a zero timeout is
            /// `try_acquire`.
            ///
            /// # Panics
            ///
            /// When awaited outside a tokio runtime with a non-zero, finite
            /// timeout (it needs tokio's timer) — every time, even if a permit
            /// is free, with the caller's location in the message. A zero
            /// timeout and `Duration::MAX` work under any executor.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe, like `acquire`.
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            /// use std::time::Duration;
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(1);")]
            /// assert!(sem.acquire_timeout(Duration::from_millis(5)).await);
            /// assert!(!sem.acquire_timeout(Duration::from_millis(5)).await);
            /// # }
            /// ```
            #[must_use = "if a permit was taken it must be released"]
            #[track_caller]
            pub fn acquire_timeout(
                &self,
                timeout: Duration,
            ) -> impl Future<Output = bool> + Send + '_ {
                let caller = Location::caller();
                async move {
                    let what = concat!(stringify!($ty), "::acquire_timeout");
                    self.inner
                        .acquire_timeout(Wait::plan(timeout, what, caller))
                        .await
                }
            }

            #[doc = $release_n_doc]
            ///
            /// # Errors
            ///
            /// [`SemaphoreReleaseError::ZeroPermits`] ("n must be one or more")
            /// for `n == 0`; [`SemaphoreReleaseError::TooManyReleases`] if a
            /// bounded semaphore's value would exceed its initial value;
            /// [`SemaphoreReleaseError::Overflow`] if a semaphore's value would
            /// exceed `usize::MAX >> 2` (any `n`, up to `usize::MAX`, is
            /// checked). On error nothing changes.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(3);")]
            /// assert!(sem.try_acquire() && sem.try_acquire());
            /// assert!(sem.release_n(0).is_err());
            /// assert_eq!(sem.release_n(2), Ok(()));
            /// assert_eq!(sem.value(), 3);
            /// ```
            pub fn release_n(&self, n: usize) -> Result<(), SemaphoreReleaseError> {
                self.inner.release_n(n)
            }

            /// The number of free permits (Python's `_value`), a snapshot.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(2);")]
            /// assert!(sem.try_acquire());
            /// assert_eq!(sem.value(), 1);
            /// ```
            #[must_use]
            pub fn value(&self) -> usize {
                self.inner.raw.available()
            }

            /// Takes a permit and returns a guard that gives it back when
            /// dropped: Python's `with sem:`.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe, like `acquire`.
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(1);")]
            /// {
            ///     let _permit = sem.permit().await;
            ///     assert_eq!(sem.value(), 0);
            /// }
            /// assert_eq!(sem.value(), 1);
            /// # }
            /// ```
            pub async fn permit(&self) -> SemaphoreGuard<'_> {
                self.inner.acquire().await;
                SemaphoreGuard { inner: &self.inner }
            }

            /// `permit` waiting at most `timeout`; `None` if the time ran
            /// out first. A zero timeout is `try_permit`, `Duration::MAX`
            /// waits forever.
            ///
            /// # Panics
            ///
            /// When awaited outside a tokio runtime with a non-zero, finite
            /// timeout (it needs tokio's timer) — every time, even if a permit
            /// is free, with the caller's location in the message.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe, like `acquire`.
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            /// use std::time::Duration;
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(1);")]
            /// let permit = sem.permit_timeout(Duration::from_millis(5)).await;
            /// assert!(permit.is_some());
            /// assert!(sem.permit_timeout(Duration::from_millis(5)).await.is_none());
            /// # }
            /// ```
            #[track_caller]
            pub fn permit_timeout(
                &self,
                timeout: Duration,
            ) -> impl Future<Output = Option<SemaphoreGuard<'_>>> + Send + '_ {
                let caller = Location::caller();
                async move {
                    let what = concat!(stringify!($ty), "::permit_timeout");
                    self.inner
                        .acquire_timeout(Wait::plan(timeout, what, caller))
                        .await
                        .then(|| SemaphoreGuard { inner: &self.inner })
                }
            }

            /// `permit` returning an [`OwnedSemaphoreGuard`], which keeps its
            /// own handle of the semaphore: it, and this future, can move into
            /// a spawned task (tokio's `acquire_owned`, async-lock's
            /// `acquire_arc`). For the other forms convert a borrowed guard
            /// with [`SemaphoreGuard::into_owned`].
            ///
            /// # Cancel safety
            ///
            /// Cancel safe, like `acquire`.
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(2);")]
            /// let mut jobs = Vec::new();
            /// for job in 0..5 {
            ///     let permit = sem.permit_owned().await; // at most 2 jobs at once
            ///     jobs.push(tokio::spawn(async move {
            ///         let _permit = permit; // given back when the job ends
            ///         job * 2
            ///     }));
            /// }
            /// for job in jobs {
            ///     job.await.unwrap();
            /// }
            /// assert_eq!(sem.value(), 2);
            /// # }
            /// ```
            #[doc(alias = "acquire_owned")]
            #[doc(alias = "acquire_arc")]
            pub fn permit_owned(&self) -> impl Future<Output = OwnedSemaphoreGuard> + Send + use<> {
                let inner = self.inner.clone();
                async move {
                    inner.acquire().await;
                    OwnedSemaphoreGuard { inner, armed: true }
                }
            }

            /// `try_permit` returning an [`OwnedSemaphoreGuard`].
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(1);")]
            /// let permit = sem.try_permit_owned().unwrap();
            /// assert!(sem.try_permit_owned().is_none());
            /// std::thread::spawn(move || drop(permit)).join().unwrap();
            /// assert_eq!(sem.value(), 1);
            /// ```
            #[must_use = "if unused the permit is immediately released"]
            pub fn try_permit_owned(&self) -> Option<OwnedSemaphoreGuard> {
                self.inner.try_acquire().then(|| OwnedSemaphoreGuard {
                    inner: self.inner.clone(),
                    armed: true,
                })
            }

            /// Takes a permit if one is free right now and returns its guard.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(1);")]
            /// let permit = sem.try_permit();
            /// assert!(permit.is_some());
            /// assert!(sem.try_permit().is_none());
            /// ```
            #[must_use = "if unused the permit is immediately released"]
            pub fn try_permit(&self) -> Option<SemaphoreGuard<'_>> {
                self.inner
                    .try_acquire()
                    .then(|| SemaphoreGuard { inner: &self.inner })
            }

            /// `acquire` for a plain OS thread (`std::thread`,
            /// `spawn_blocking`).
            ///
            /// # Panics
            ///
            /// Called on a thread that is driving a tokio runtime (an async
            /// task, a `#[tokio::test]` or `block_on` body), where it could
            /// never be woken: it panics at once, at the caller's line; use
            /// `.acquire().await` in async code, or call it from `spawn_blocking` /
            /// `block_in_place` / a plain thread.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(1);")]
            /// let s = sem.clone();
            /// std::thread::spawn(move || s.blocking_acquire()).join().unwrap();
            /// assert_eq!(sem.value(), 0);
            /// ```
            #[track_caller]
            pub fn blocking_acquire(&self) {
                let op = Op {
                    name: concat!(stringify!($ty), "::blocking_acquire"),
                    instead: "`.acquire().await`",
                };
                block_on_forever(op, self.inner.acquire());
            }

            /// `acquire_timeout` for a plain OS thread; it needs no tokio
            /// runtime.
            ///
            /// # Panics
            ///
            /// Called on a thread that is driving a tokio runtime (an async
            /// task, a `#[tokio::test]` or `block_on` body), where it could
            /// never be woken: it panics at once, at the caller's line; use
            /// `.acquire_timeout(timeout).await` in async code, or call it from `spawn_blocking` /
            /// `block_in_place` / a plain thread.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(1);")]
            /// assert!(sem.blocking_acquire_timeout(Duration::from_millis(5)));
            /// assert!(!sem.blocking_acquire_timeout(Duration::from_millis(5)));
            /// ```
            #[must_use = "if a permit was taken it must be released"]
            #[track_caller]
            pub fn blocking_acquire_timeout(&self, timeout: Duration) -> bool {
                let op = Op {
                    name: concat!(stringify!($ty), "::blocking_acquire_timeout"),
                    instead: "`.acquire_timeout(timeout).await`",
                };
                block_on(op, deadline(timeout), self.inner.acquire()).is_some()
            }

            /// `permit` for a plain OS thread.
            ///
            /// # Panics
            ///
            /// Called on a thread that is driving a tokio runtime (an async
            /// task, a `#[tokio::test]` or `block_on` body), where it could
            /// never be woken: it panics at once, at the caller's line; use
            /// `.permit().await` in async code, or call it from `spawn_blocking` /
            /// `block_in_place` / a plain thread.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(1);")]
            /// let permit = sem.blocking_permit();
            /// assert_eq!(sem.value(), 0);
            /// ```
            #[track_caller]
            pub fn blocking_permit(&self) -> SemaphoreGuard<'_> {
                let op = Op {
                    name: concat!(stringify!($ty), "::blocking_permit"),
                    instead: "`.permit().await`",
                };
                block_on_forever(op, self.inner.acquire());
                SemaphoreGuard { inner: &self.inner }
            }

            /// `permit_timeout` for a plain OS thread; `None` if the time ran
            /// out first. It needs no tokio runtime.
            ///
            /// # Panics
            ///
            /// Called on a thread that is driving a tokio runtime (an async
            /// task, a `#[tokio::test]` or `block_on` body), where it could
            /// never be woken: it panics at once, at the caller's line; use
            /// `.permit_timeout(timeout).await` in async code, or call it
            /// from `spawn_blocking` / `block_in_place` / a plain thread.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(1);")]
            /// let permit = sem.blocking_permit_timeout(Duration::from_millis(5));
            /// assert!(permit.is_some());
            /// assert!(sem.blocking_permit_timeout(Duration::from_millis(5)).is_none());
            /// ```
            #[track_caller]
            pub fn blocking_permit_timeout(&self, timeout: Duration) -> Option<SemaphoreGuard<'_>> {
                let op = Op {
                    name: concat!(stringify!($ty), "::blocking_permit_timeout"),
                    instead: "`.permit_timeout(timeout).await`",
                };
                block_on(op, deadline(timeout), self.inner.acquire())
                    .map(|()| SemaphoreGuard { inner: &self.inner })
            }

            /// A snapshot: the free permits and how many wait for one
            /// (trio's `statistics()`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = threadlet::", stringify!($ty), "::new(2);")]
            /// let _permit = sem.try_permit().unwrap();
            /// let stats = sem.statistics();
            /// assert_eq!((stats.value, stats.waiters), (1, 0));
            /// ```
            #[must_use]
            pub fn statistics(&self) -> SemaphoreStatistics {
                let s = self.inner.raw.snapshot();
                SemaphoreStatistics {
                    value: s.permits,
                    waiters: s.waiters,
                }
            }

            /// Test introspection: (free permits, queued waiters, slots in use).
            #[cfg(test)]
            pub(crate) fn debug_state(&self) -> (usize, usize, usize) {
                let s = self.inner.raw.snapshot();
                (s.permits, s.waiters, s.slots)
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("value", &self.value())
                    .finish()
            }
        }
    };
}

impl Default for Semaphore {
    /// A semaphore holding one permit (Python's `Semaphore()` default).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadlet::Semaphore::default().value(), 1);
    /// ```
    fn default() -> Self {
        Self::new(1)
    }
}

impl Default for BoundedSemaphore {
    /// A bounded semaphore holding one permit (Python's `BoundedSemaphore()`
    /// default).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadlet::BoundedSemaphore::default().initial_value(), 1);
    /// ```
    fn default() -> Self {
        Self::new(1)
    }
}

semaphore_methods!(
    Semaphore,
    "Returns `n` permits at once (Python's `release(n)`), waking up to `n` waiters."
);
semaphore_methods!(
    BoundedSemaphore,
    "Returns `n` permits at once (Python's `release(n)`), unless the value would then exceed the initial value."
);

/// A permit of a [`Semaphore`] or [`BoundedSemaphore`], given back when
/// dropped (or by [`release`](SemaphoreGuard::release), which reports an
/// over-release as an error).
///
/// Giving the permit back fails only for a [`BoundedSemaphore`] released by
/// hand while the guard lived (Python's `with sem:` raises `ValueError` on
/// exit then). A drop cannot return that error: it leaves the value
/// unchanged and, in debug builds only, panics with Python's message (unless
/// already unwinding); release builds ignore it. Call
/// [`release`](SemaphoreGuard::release) to handle it.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let sem = threadlet::Semaphore::new(1);
/// let permit = sem.permit().await;
/// assert_eq!(sem.value(), 0);
/// drop(permit);
/// assert_eq!(sem.value(), 1);
/// # }
/// ```
#[must_use = "if unused the permit is immediately released"]
#[clippy::has_significant_drop]
pub struct SemaphoreGuard<'a> {
    inner: &'a Arc<Inner>,
}

impl SemaphoreGuard<'_> {
    /// Gives the permit back now, reporting what a drop cannot: Python's
    /// `with sem:` raises `ValueError` on exit if the semaphore was released
    /// by hand meanwhile, and so does this.
    ///
    /// # Errors
    ///
    /// [`SemaphoreReleaseError::TooManyReleases`] if the permit cannot go back
    /// because a [`BoundedSemaphore`] is already at its initial value (it was
    /// over-released by an explicit `release` while the guard lived); nothing
    /// changes.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::{BoundedSemaphore, error::SemaphoreReleaseError};
    ///
    /// let sem = BoundedSemaphore::new(1);
    /// let permit = sem.try_permit().unwrap();
    /// sem.release().unwrap(); // by hand, while the guard lives
    /// assert_eq!(permit.release(), Err(SemaphoreReleaseError::TooManyReleases));
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn release(self) -> Result<(), SemaphoreReleaseError> {
        let inner = self.inner;
        std::mem::forget(self);
        inner.release_n(1)
    }

    /// Keeps the permit: the semaphore's value stays one lower, as after a
    /// Python-style `acquire()` without `release()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadlet::Semaphore::new(1);
    /// sem.try_permit().unwrap().forget();
    /// assert_eq!(sem.value(), 0);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }

    /// Turns the guard into an [`OwnedSemaphoreGuard`] of the same permit,
    /// which can move into a spawned task: the owned form of
    /// `permit_timeout`, `blocking_permit` and the rest.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::SemaphoreGuard;
    ///
    /// let sem = threadlet::Semaphore::new(1);
    /// let permit = sem.blocking_permit_timeout(Duration::from_secs(1)).map(SemaphoreGuard::into_owned).unwrap();
    /// std::thread::spawn(move || drop(permit)).join().unwrap();
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn into_owned(self) -> OwnedSemaphoreGuard {
        let inner = self.inner.clone();
        std::mem::forget(self);
        OwnedSemaphoreGuard { inner, armed: true }
    }
}

impl Drop for SemaphoreGuard<'_> {
    /// Gives the permit back. This fails only if a [`BoundedSemaphore`] was
    /// over-released by hand while the guard lived (Python raises
    /// `ValueError` from `with` then): the value is left unchanged, and in
    /// debug builds the drop panics with Python's message — unless the
    /// thread is already unwinding — so the bug shows in tests. Use
    /// [`release`](SemaphoreGuard::release) to get the error as a value.
    fn drop(&mut self) {
        self.inner.guard_dropped("SemaphoreGuard");
    }
}

impl fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard").finish_non_exhaustive()
    }
}

/// The guard of `permit_owned` ([`Semaphore::permit_owned`],
/// [`BoundedSemaphore::permit_owned`]): a [`SemaphoreGuard`] that keeps its
/// own handle of the semaphore, so it is `'static` and can move into a spawned
/// task (tokio's `OwnedSemaphorePermit`). Everything said of
/// [`SemaphoreGuard`] holds for it.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let sem = threadlet::Semaphore::new(1);
/// let permit = sem.permit_owned().await;
/// tokio::spawn(async move { drop(permit) }).await.unwrap();
/// assert_eq!(sem.value(), 1);
/// # }
/// ```
#[must_use = "if unused the permit is immediately released"]
#[clippy::has_significant_drop]
pub struct OwnedSemaphoreGuard {
    inner: Arc<Inner>,
    /// Whether the drop still gives the permit back.
    armed: bool,
}

impl OwnedSemaphoreGuard {
    /// [`SemaphoreGuard::release`] for the owned guard.
    ///
    /// # Errors
    ///
    /// [`SemaphoreReleaseError::TooManyReleases`] if a [`BoundedSemaphore`]
    /// was over-released by hand while the guard lived; nothing changes.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadlet::BoundedSemaphore::new(1);
    /// let permit = sem.try_permit_owned().unwrap();
    /// assert_eq!(permit.release(), Ok(()));
    /// assert_eq!(sem.value(), 1);
    /// ```
    pub fn release(mut self) -> Result<(), SemaphoreReleaseError> {
        self.armed = false;
        self.inner.release_n(1)
    }

    /// Keeps the permit: the semaphore's value stays one lower.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threadlet::Semaphore::new(1);
    /// sem.try_permit_owned().unwrap().forget();
    /// assert_eq!(sem.value(), 0);
    /// ```
    pub fn forget(mut self) {
        self.armed = false;
    }
}

impl Drop for OwnedSemaphoreGuard {
    /// As [`SemaphoreGuard`]'s drop.
    fn drop(&mut self) {
        if self.armed {
            self.inner.guard_dropped("OwnedSemaphoreGuard");
        }
    }
}

impl fmt::Debug for OwnedSemaphoreGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphoreGuard")
            .finish_non_exhaustive()
    }
}
