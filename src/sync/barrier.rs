//! [`Barrier`]: a small state mutex plus one broadcast wait list per
//! generation.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};
use std::time::Duration;

use super::error::{BarrierPartiesError, BrokenBarrierError};
use crate::introspect::{PrimitiveKind, meta::Meta};
use crate::wait::blocking::{Op, block_on_timed};
use crate::wait::flag::announce;
use crate::wait::loom::seq_cst_fence;
use crate::wait::loom::{Arc, AtomicUsize, Mutex, Ordering};
use crate::wait::timeout::Wait;
use crate::wait::timeout::deadline;
use crate::wait::{Mode, RawSemaphore};

const PENDING: usize = 0;
const PASSED: usize = 1;
const BROKEN: usize = 2;

/// One trip of the barrier: its waiters and how it ended.
#[derive(Debug)]
struct Generation {
    waiters: RawSemaphore,
    /// `PENDING` until the generation passes or breaks; set before `notify`.
    outcome: AtomicUsize,
}

impl Generation {
    fn new(meta: &std::sync::Arc<Meta>) -> Arc<Self> {
        Arc::new(Self {
            waiters: RawSemaphore::with_meta(0, Mode::Discard, meta.clone()),
            outcome: AtomicUsize::new(PENDING),
        })
    }

    fn outcome(&self) -> usize {
        self.outcome.load(Ordering::SeqCst)
    }

    /// Ends the generation (once) and wakes all its waiters.
    fn end(&self, outcome: usize) {
        if self
            .outcome
            .compare_exchange(PENDING, outcome, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            announce(&self.waiters);
        }
    }
}

#[derive(Debug)]
struct State {
    /// Arrivals in the current generation.
    count: usize,
    generation: Arc<Generation>,
    broken: bool,
}

type Action = Box<dyn Fn() + Send + Sync>;

struct Inner {
    parties: usize,
    action: Option<Action>,
    timeout: Duration,
    state: Mutex<State>,
    /// The identity every generation's wait list shows in a dump.
    meta: std::sync::Arc<Meta>,
}

/// How an arrival went: the last one finishes the generation at once.
enum Arrival {
    Done(Result<usize, BrokenBarrierError>),
    Wait(Arc<Generation>, usize),
}

/// Python's `threading.Barrier(parties, action, timeout)`: `parties` tasks
/// call [`wait`](Barrier::wait) and all return once the last one arrives.
///
/// `wait` returns the arrival index, `0` for the first to arrive and
/// `parties - 1` for the last. The last arriver runs the optional action
/// before anybody is released. The barrier is cyclic: it can be used again
/// and again.
///
/// It **breaks** — every current and later waiter gets
/// [`BrokenBarrierError`] until [`reset`](Barrier::reset) — when
/// [`abort`](Barrier::abort) is called, when a waiter times out, when a
/// waiting future is dropped (cancelled) before its generation passed, or
/// when the action panics (that waiter gets the panic). Nobody is ever left
/// stuck. [`reset`](Barrier::reset) breaks the current waiters and makes the
/// barrier usable again.
///
/// The handle is a cheap [`Clone`]; clones are the same barrier.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::Barrier;
///
/// let barrier = Barrier::new(3).unwrap();
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let b = barrier.clone();
///         tokio::spawn(async move { b.wait().await.unwrap() })
///     })
///     .collect();
/// let mut indices = Vec::new();
/// for t in tasks {
///     indices.push(t.await.unwrap());
/// }
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]);
/// # }
/// ```
#[derive(Clone)]
pub struct Barrier {
    inner: Arc<Inner>,
}

/// Builds a [`Barrier`] with an action and/or a default timeout (Python's
/// `Barrier(parties, action=..., timeout=...)`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threadlet::Barrier;
///
/// let barrier = Barrier::builder(2)
///     .action(|| println!("all arrived"))
///     .timeout(Duration::from_secs(5))
///     .build()
///     .unwrap();
/// assert_eq!(barrier.parties(), 2);
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct BarrierBuilder {
    parties: usize,
    action: Option<Action>,
    timeout: Duration,
}

impl BarrierBuilder {
    /// Runs `action` once per generation, in the last task to arrive, before
    /// the others are released.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    ///
    /// let runs = Arc::new(AtomicUsize::new(0));
    /// let r = runs.clone();
    /// let barrier = threadlet::Barrier::builder(1)
    ///     .action(move || {
    ///         r.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// barrier.blocking_wait().unwrap();
    /// assert_eq!(runs.load(Ordering::SeqCst), 1);
    /// ```
    pub fn action(mut self, action: impl Fn() + Send + Sync + 'static) -> Self {
        self.action = Some(Box::new(action));
        self
    }

    /// The timeout of [`wait`](Barrier::wait) (default: none).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let barrier = threadlet::Barrier::builder(2)
    ///     .timeout(Duration::from_millis(5))
    ///     .build()
    ///     .unwrap();
    /// assert!(barrier.wait().await.is_err()); // timed out: broken
    /// assert!(barrier.broken());
    /// # }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Builds the barrier.
    ///
    /// # Errors
    ///
    /// [`BarrierPartiesError`] ("parties must be >= 1") if `parties` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadlet::Barrier::builder(0).build().is_err());
    /// ```
    #[track_caller]
    pub fn build(self) -> Result<Barrier, BarrierPartiesError> {
        if self.parties == 0 {
            return Err(BarrierPartiesError);
        }
        let meta = Meta::new(PrimitiveKind::Barrier, None);
        Ok(Barrier {
            inner: Arc::new(Inner {
                parties: self.parties,
                action: self.action,
                timeout: self.timeout,
                state: Mutex::new(State {
                    count: 0,
                    generation: Generation::new(&meta),
                    broken: false,
                }),
                meta,
            }),
        })
    }
}

impl fmt::Debug for BarrierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierBuilder")
            .field("parties", &self.parties)
            .field("action", &self.action.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Breaks the waiter's generation if its wait is dropped before it ended.
struct BreakOnDrop<'a> {
    barrier: &'a Barrier,
    generation: &'a Arc<Generation>,
    armed: bool,
}

impl Drop for BreakOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.barrier.break_generation(self.generation);
        }
    }
}

impl Barrier {
    /// Creates a barrier for `parties` tasks, with no action and no timeout.
    ///
    /// # Errors
    ///
    /// [`BarrierPartiesError`] ("parties must be >= 1") if `parties` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = threadlet::Barrier::new(4).unwrap();
    /// assert_eq!(barrier.parties(), 4);
    /// assert!(threadlet::Barrier::new(0).is_err());
    /// ```
    #[track_caller]
    pub fn new(parties: usize) -> Result<Self, BarrierPartiesError> {
        Self::builder(parties).build()
    }

    /// A builder for a barrier with an action and/or a default timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = threadlet::Barrier::builder(2).build().unwrap();
    /// assert_eq!(barrier.parties(), 2);
    /// ```
    pub fn builder(parties: usize) -> BarrierBuilder {
        BarrierBuilder {
            parties,
            action: None,
            timeout: Duration::MAX,
        }
    }

    /// The number of tasks needed to pass the barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadlet::Barrier::new(3).unwrap().parties(), 3);
    /// ```
    #[must_use]
    pub fn parties(&self) -> usize {
        self.inner.parties
    }

    /// How many tasks are waiting in the current generation (0 while broken).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let barrier = threadlet::Barrier::new(2).unwrap();
    /// let b = barrier.clone();
    /// let t = tokio::spawn(async move { b.wait().await });
    /// while barrier.n_waiting() == 0 {
    ///     tokio::task::yield_now().await;
    /// }
    /// assert_eq!(barrier.n_waiting(), 1);
    /// barrier.wait().await.unwrap();
    /// t.await.unwrap().unwrap();
    /// # }
    /// ```
    #[must_use]
    pub fn n_waiting(&self) -> usize {
        let st = self.inner.state.lock();
        if st.broken { 0 } else { st.count }
    }

    /// Whether the barrier is broken.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = threadlet::Barrier::new(2).unwrap();
    /// assert!(!barrier.broken());
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// ```
    #[must_use]
    pub fn broken(&self) -> bool {
        self.inner.state.lock().broken
    }

    /// Breaks the barrier: current waiters and later callers get
    /// [`BrokenBarrierError`] until [`reset`](Barrier::reset).
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = threadlet::Barrier::new(2).unwrap();
    /// barrier.abort();
    /// assert!(barrier.blocking_wait().is_err());
    /// ```
    pub fn abort(&self) {
        let mut st = self.inner.state.lock();
        st.broken = true;
        let generation = st.generation.clone();
        drop(st);
        generation.end(BROKEN);
    }

    /// Returns the barrier to its initial state: current waiters get
    /// [`BrokenBarrierError`], a broken barrier is usable again.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = threadlet::Barrier::new(1).unwrap();
    /// barrier.abort();
    /// barrier.reset();
    /// assert!(!barrier.broken());
    /// assert_eq!(barrier.blocking_wait(), Ok(0));
    /// ```
    pub fn reset(&self) {
        let mut st = self.inner.state.lock();
        let old = std::mem::replace(&mut st.generation, Generation::new(&self.inner.meta));
        st.count = 0;
        st.broken = false;
        drop(st);
        old.end(BROKEN);
    }

    /// Breaks `generation` if it is still the current one and pending.
    fn break_generation(&self, generation: &Arc<Generation>) {
        let mut st = self.inner.state.lock();
        if Arc::ptr_eq(&st.generation, generation) && generation.outcome() == PENDING {
            st.broken = true;
            drop(st);
            generation.end(BROKEN);
        }
    }

    fn arrive(&self) -> Arrival {
        let mut st = self.inner.state.lock();
        if st.broken {
            return Arrival::Done(Err(BrokenBarrierError));
        }
        let index = st.count;
        if index + 1 < self.inner.parties {
            st.count += 1;
            return Arrival::Wait(st.generation.clone(), index);
        }
        let generation = std::mem::replace(&mut st.generation, Generation::new(&self.inner.meta));
        st.count = 0;
        drop(st);
        if let Some(action) = &self.inner.action
            && let Err(panic) = catch_unwind(AssertUnwindSafe(action))
        {
            generation.end(BROKEN);
            // Tasks that already arrived for the next generation break too.
            let mut st = self.inner.state.lock();
            st.broken = true;
            let next = st.generation.clone();
            drop(st);
            next.end(BROKEN);
            resume_unwind(panic);
        }
        generation.end(PASSED);
        Arrival::Done(Ok(index))
    }

    fn result(generation: &Generation, index: usize) -> Result<usize, BrokenBarrierError> {
        match generation.outcome() {
            PASSED => Ok(index),
            _ => Err(BrokenBarrierError),
        }
    }

    /// Waits until all `parties` tasks have called `wait`, then returns this
    /// caller's arrival index (`0..parties`). Uses the builder's timeout, if
    /// any; when it runs out the barrier breaks.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is or becomes broken (abort,
    /// reset, a timeout, a cancelled waiter, a panicking action) before this
    /// generation passes.
    ///
    /// # Panics
    ///
    /// Re-raises the action's panic in the task that ran it (after breaking
    /// the barrier for the others). With a builder timeout that is non-zero
    /// and finite, panics when awaited outside a tokio runtime (it needs
    /// tokio's timer) — every time, before arriving, with the caller's
    /// location.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe by design, as in Python: dropping the future before its
    /// generation passed **breaks the barrier**, so the other waiters get
    /// [`BrokenBarrierError`] instead of waiting forever for a party that left.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let barrier = threadlet::Barrier::new(1).unwrap();
    /// assert_eq!(barrier.wait().await, Ok(0));
    /// assert_eq!(barrier.wait().await, Ok(0)); // cyclic
    /// # }
    /// ```
    #[track_caller]
    pub fn wait(&self) -> impl Future<Output = Result<usize, BrokenBarrierError>> + Send + '_ {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(self.inner.timeout, "Barrier::wait", caller);
            self.wait_planned(wait).await
        }
    }

    /// [`wait`](Barrier::wait) with this `timeout` instead of the builder's;
    /// `Duration::MAX` waits forever; a zero timeout breaks the barrier at
    /// once unless this caller is the last to arrive.
    ///
    /// # Errors
    ///
    /// As [`wait`](Barrier::wait); a timeout breaks the barrier.
    ///
    /// # Panics
    ///
    /// As [`wait`](Barrier::wait); and outside a tokio runtime with a
    /// non-zero, finite `timeout` — every time, before arriving, with the
    /// caller's location. A zero timeout and `Duration::MAX` work under any
    /// executor.
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Barrier::wait): a dropped wait breaks the barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let barrier = threadlet::Barrier::new(2).unwrap();
    /// assert!(barrier.wait_timeout(Duration::from_millis(5)).await.is_err());
    /// assert!(barrier.broken());
    /// # }
    /// ```
    #[track_caller]
    pub fn wait_timeout(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Result<usize, BrokenBarrierError>> + Send + '_ {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(timeout, "Barrier::wait_timeout", caller);
            self.wait_planned(wait).await
        }
    }

    async fn wait_planned(&self, wait: Wait) -> Result<usize, BrokenBarrierError> {
        let (generation, index) = match self.arrive() {
            Arrival::Done(result) => return result,
            Arrival::Wait(generation, index) => (generation, index),
        };
        let mut breaker = BreakOnDrop {
            barrier: self,
            generation: &generation,
            armed: true,
        };
        let mut wait = wait;
        loop {
            let waiter = generation.waiters.register();
            seq_cst_fence();
            if generation.outcome() != PENDING {
                break;
            }
            if wait.run(waiter).await.is_some() {
                break;
            }
            // Timed out: break the barrier, unless every party has arrived
            // and the action is running, whose end we then wait for.
            self.break_generation(&generation);
            wait = Wait::Forever;
        }
        breaker.armed = false;
        Self::result(&generation, index)
    }

    /// [`wait`](Barrier::wait) for a plain OS thread, with the builder's
    /// timeout; it needs no tokio runtime.
    ///
    /// # Errors
    ///
    /// As [`wait`](Barrier::wait).
    ///
    /// # Panics
    ///
    /// As [`wait`](Barrier::wait) (but a timeout needs no runtime here).
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken,
    /// it panics at once, at the caller's line, before arriving; use
    /// [`wait().await`](Barrier::wait) in async code, or call it from
    /// `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = threadlet::Barrier::new(2).unwrap();
    /// let b = barrier.clone();
    /// let t = std::thread::spawn(move || b.blocking_wait());
    /// let mine = barrier.blocking_wait().unwrap();
    /// let theirs = t.join().unwrap().unwrap();
    /// assert_eq!(mine + theirs, 1);
    /// ```
    #[track_caller]
    pub fn blocking_wait(&self) -> Result<usize, BrokenBarrierError> {
        let op = Op {
            name: "Barrier::blocking_wait",
            instead: "`.wait().await`",
        };
        block_on_timed(op, deadline(self.inner.timeout), |wait| {
            self.wait_planned(wait)
        })
    }

    /// [`wait_timeout`](Barrier::wait_timeout) for a plain OS thread; it
    /// needs no tokio runtime.
    ///
    /// # Errors
    ///
    /// As [`wait`](Barrier::wait).
    ///
    /// # Panics
    ///
    /// As [`blocking_wait`](Barrier::blocking_wait); use
    /// [`wait_timeout(timeout).await`](Barrier::wait_timeout) in async code.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let barrier = threadlet::Barrier::new(2).unwrap();
    /// assert!(barrier.blocking_wait_timeout(Duration::from_millis(5)).is_err());
    /// ```
    #[track_caller]
    pub fn blocking_wait_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrierError> {
        let op = Op {
            name: "Barrier::blocking_wait_timeout",
            instead: "`.wait_timeout(timeout).await`",
        };
        block_on_timed(op, deadline(timeout), |wait| self.wait_planned(wait))
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let st = self.inner.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.inner.parties)
            .field("n_waiting", &st.count)
            .field("broken", &st.broken)
            .finish()
    }
}
