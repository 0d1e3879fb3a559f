//! Trio-style conformance suite: every lock-like primitive (Lock, RLock,
//! Semaphore(1), BoundedSemaphore(1), Condition over Lock and over RLock) runs
//! the same checks: mutual exclusion under 64 tasks, FIFO wake-up order,
//! cancellation at every state leaks nothing, timeouts, mixing with OS
//! threads, and the starvation bound under a storm of barging acquirers.
//!
//! The `forms` checks run once through the async forms and once through the
//! `blocking_*` forms, from the same test body: the blocking forms are the
//! async futures driven on an OS thread, and this shows they behave alike.

#[path = "common/sync_util.rs"]
mod sync_util;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threadlet::{BoundedSemaphore, Condition, Lock, RLock, Semaphore};

/// What the suite needs of a lock-like primitive.
trait LockLike: Clone + Send + Sync + 'static {
    fn make() -> Self;
    fn acquire(&self) -> impl Future<Output = ()> + Send + '_;
    fn try_acquire(&self) -> bool;
    fn acquire_timeout(&self, d: Duration) -> impl Future<Output = bool> + Send + '_;
    fn blocking_acquire(&self);
    fn blocking_acquire_timeout(&self, d: Duration) -> bool;
    fn release(&self);
    /// (free permits, queued waiters) of the underlying queue.
    fn state(&self) -> (usize, usize);
}

impl LockLike for Lock {
    fn make() -> Self {
        Lock::new()
    }
    fn acquire(&self) -> impl Future<Output = ()> + Send + '_ {
        Lock::acquire(self)
    }
    fn try_acquire(&self) -> bool {
        Lock::try_acquire(self)
    }
    fn acquire_timeout(&self, d: Duration) -> impl Future<Output = bool> + Send + '_ {
        Lock::acquire_timeout(self, d)
    }
    fn blocking_acquire(&self) {
        Lock::blocking_acquire(self)
    }
    fn blocking_acquire_timeout(&self, d: Duration) -> bool {
        Lock::blocking_acquire_timeout(self, d)
    }
    fn release(&self) {
        Lock::release(self).unwrap()
    }
    fn state(&self) -> (usize, usize) {
        sync_util::State::state(self)
    }
}

impl LockLike for RLock {
    fn make() -> Self {
        RLock::new()
    }
    fn acquire(&self) -> impl Future<Output = ()> + Send + '_ {
        RLock::acquire(self)
    }
    fn try_acquire(&self) -> bool {
        RLock::try_acquire(self)
    }
    fn acquire_timeout(&self, d: Duration) -> impl Future<Output = bool> + Send + '_ {
        RLock::acquire_timeout(self, d)
    }
    fn blocking_acquire(&self) {
        RLock::blocking_acquire(self)
    }
    fn blocking_acquire_timeout(&self, d: Duration) -> bool {
        RLock::blocking_acquire_timeout(self, d)
    }
    fn release(&self) {
        RLock::release(self).unwrap()
    }
    fn state(&self) -> (usize, usize) {
        sync_util::State::state(self)
    }
}

impl LockLike for Semaphore {
    fn make() -> Self {
        Semaphore::new(1)
    }
    fn acquire(&self) -> impl Future<Output = ()> + Send + '_ {
        Semaphore::acquire(self)
    }
    fn try_acquire(&self) -> bool {
        Semaphore::try_acquire(self)
    }
    fn acquire_timeout(&self, d: Duration) -> impl Future<Output = bool> + Send + '_ {
        Semaphore::acquire_timeout(self, d)
    }
    fn blocking_acquire(&self) {
        Semaphore::blocking_acquire(self)
    }
    fn blocking_acquire_timeout(&self, d: Duration) -> bool {
        Semaphore::blocking_acquire_timeout(self, d)
    }
    fn release(&self) {
        Semaphore::release(self).unwrap()
    }
    fn state(&self) -> (usize, usize) {
        sync_util::State::state(self)
    }
}

impl LockLike for BoundedSemaphore {
    fn make() -> Self {
        BoundedSemaphore::new(1)
    }
    fn acquire(&self) -> impl Future<Output = ()> + Send + '_ {
        BoundedSemaphore::acquire(self)
    }
    fn try_acquire(&self) -> bool {
        BoundedSemaphore::try_acquire(self)
    }
    fn acquire_timeout(&self, d: Duration) -> impl Future<Output = bool> + Send + '_ {
        BoundedSemaphore::acquire_timeout(self, d)
    }
    fn blocking_acquire(&self) {
        BoundedSemaphore::blocking_acquire(self)
    }
    fn blocking_acquire_timeout(&self, d: Duration) -> bool {
        BoundedSemaphore::blocking_acquire_timeout(self, d)
    }
    fn release(&self) {
        BoundedSemaphore::release(self).unwrap()
    }
    fn state(&self) -> (usize, usize) {
        sync_util::State::state(self)
    }
}

impl LockLike for Condition<Lock> {
    fn make() -> Self {
        Condition::with_lock(Lock::new())
    }
    fn acquire(&self) -> impl Future<Output = ()> + Send + '_ {
        Condition::acquire(self)
    }
    fn try_acquire(&self) -> bool {
        Condition::try_acquire(self)
    }
    fn acquire_timeout(&self, d: Duration) -> impl Future<Output = bool> + Send + '_ {
        Condition::acquire_timeout(self, d)
    }
    fn blocking_acquire(&self) {
        Condition::blocking_acquire(self)
    }
    fn blocking_acquire_timeout(&self, d: Duration) -> bool {
        Condition::blocking_acquire_timeout(self, d)
    }
    fn release(&self) {
        Condition::release(self).unwrap()
    }
    fn state(&self) -> (usize, usize) {
        sync_util::State::state(self.get_lock())
    }
}

impl LockLike for Condition<RLock> {
    fn make() -> Self {
        Condition::with_lock(RLock::new())
    }
    fn acquire(&self) -> impl Future<Output = ()> + Send + '_ {
        Condition::acquire(self)
    }
    fn try_acquire(&self) -> bool {
        Condition::try_acquire(self)
    }
    fn acquire_timeout(&self, d: Duration) -> impl Future<Output = bool> + Send + '_ {
        Condition::acquire_timeout(self, d)
    }
    fn blocking_acquire(&self) {
        Condition::blocking_acquire(self)
    }
    fn blocking_acquire_timeout(&self, d: Duration) -> bool {
        Condition::blocking_acquire_timeout(self, d)
    }
    fn release(&self) {
        Condition::release(self).unwrap()
    }
    fn state(&self) -> (usize, usize) {
        sync_util::State::state(self.get_lock())
    }
}

const FREE: (usize, usize) = (1, 0);

/// 64 tasks x 1,000 read-yield-write increments on a 2-worker runtime: the
/// yield between read and write loses updates unless the lock excludes.
fn exclusion_64_tasks<L: LockLike>() {
    let lock = L::make();
    let l = lock.clone();
    let total = sync_util::run_mt(120, async move {
        let counter = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..64)
            .map(|_| {
                let (l, counter) = (l.clone(), counter.clone());
                tokio::spawn(async move {
                    for _ in 0..1000 {
                        l.acquire().await;
                        let v = counter.load(Ordering::Relaxed);
                        tokio::task::yield_now().await;
                        counter.store(v + 1, Ordering::Relaxed);
                        l.release();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        counter.load(Ordering::Relaxed)
    });
    assert_eq!(total, 64_000);
    assert_eq!(lock.state(), FREE);
}

/// Waiters get the lock in the order they queued.
async fn fifo_order<L: LockLike>() {
    let lock = L::make();
    lock.acquire().await;
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (l, order) = (lock.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            l.acquire().await;
            order.lock().unwrap().push(i);
            tokio::task::yield_now().await;
            l.release();
        }));
        sync_util::until(|| lock.state().1 == i + 1).await;
    }
    lock.release();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4, 5]);
    assert_eq!(lock.state(), FREE);
}

/// Cancelling a queued waiter, a woken waiter and a waiter that was handed
/// the lock each leaks nothing, and the waiters behind still get the lock.
async fn cancellation_leaks_nothing<L: LockLike>() {
    let lock = L::make();
    let got = Arc::new(Mutex::new(Vec::new()));
    let spawn_waiter = |i: usize| {
        let (l, got) = (lock.clone(), got.clone());
        tokio::spawn(async move {
            l.acquire().await;
            got.lock().unwrap().push(i);
            l.release();
        })
    };

    // 1. Cancelled while queued (asleep).
    lock.acquire().await;
    let a = spawn_waiter(0);
    sync_util::until(|| lock.state().1 == 1).await;
    let b = spawn_waiter(1);
    sync_util::until(|| lock.state().1 == 2).await;
    a.abort();
    assert!(a.await.unwrap_err().is_cancelled());
    assert_eq!(lock.state().1, 1);
    lock.release();
    b.await.unwrap();
    assert_eq!(*got.lock().unwrap(), [1]);
    assert_eq!(lock.state(), FREE);

    // 2. Cancelled after being woken, before it ran: the wake-up passes on.
    lock.acquire().await;
    let c = spawn_waiter(2);
    sync_util::until(|| lock.state().1 == 1).await;
    let d = spawn_waiter(3);
    sync_util::until(|| lock.state().1 == 2).await;
    lock.release(); // wakes c (scheduled, not run yet on this runtime)
    c.abort();
    assert!(c.await.unwrap_err().is_cancelled());
    d.await.unwrap();
    assert_eq!(*got.lock().unwrap(), [1, 3]);
    assert_eq!(lock.state(), FREE);

    // 3. Timed-out waits (a select with a timer) leak nothing either.
    lock.acquire().await;
    let other = lock.clone();
    let timed = tokio::spawn(async move { other.acquire_timeout(Duration::from_millis(1)).await });
    assert!(!timed.await.unwrap());
    lock.release();
    assert_eq!(lock.state(), FREE);
}

/// Timeouts under paused time: exact, and `Duration::MAX` waits forever.
async fn timeouts<L: LockLike>() {
    let lock = L::make();
    lock.acquire().await;
    let other = lock.clone();
    let start = tokio::time::Instant::now();
    let timed =
        tokio::spawn(async move { other.acquire_timeout(Duration::from_millis(250)).await });
    assert!(!timed.await.unwrap());
    assert_eq!(start.elapsed(), Duration::from_millis(250));
    assert_eq!(lock.state(), (0, 0));

    let other = lock.clone();
    let forever = tokio::spawn(async move {
        let got = other.acquire_timeout(Duration::MAX).await;
        other.release();
        got
    });
    tokio::time::sleep(Duration::from_secs(3600)).await;
    lock.release();
    assert!(forever.await.unwrap());
    assert_eq!(lock.state(), FREE);
}

/// Non-blocking try: succeeds when free, fails when held.
fn try_acquire_semantics<L: LockLike>() {
    let lock = L::make();
    assert!(lock.try_acquire());
    let other = lock.clone();
    assert!(
        !std::thread::spawn(move || other.try_acquire())
            .join()
            .unwrap()
    );
    lock.release();
    assert_eq!(lock.state(), FREE);
}

/// OS threads using the blocking form and tasks exclude each other.
fn threads_and_tasks<L: LockLike>() {
    let lock = L::make();
    let counter = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (l, counter) = (lock.clone(), counter.clone());
            std::thread::spawn(move || {
                for _ in 0..300 {
                    l.blocking_acquire();
                    let v = counter.load(Ordering::Relaxed);
                    std::thread::yield_now();
                    counter.store(v + 1, Ordering::Relaxed);
                    l.release();
                }
            })
        })
        .collect();
    let (l, c) = (lock.clone(), counter.clone());
    sync_util::run_mt(60, async move {
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (l, counter) = (l.clone(), c.clone());
                tokio::spawn(async move {
                    for _ in 0..300 {
                        l.acquire().await;
                        let v = counter.load(Ordering::Relaxed);
                        tokio::task::yield_now().await;
                        counter.store(v + 1, Ordering::Relaxed);
                        l.release();
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), 11 * 300);
    assert_eq!(lock.state(), FREE);
}

/// Two OS threads barge in a tight try-acquire loop; a task that waits still
/// gets the lock every time, promptly (documented bound: overtaken only
/// during one wake-up, then handed the next release directly).
fn starvation_bound_under_barging<L: LockLike>() {
    let lock = L::make();
    let stop = Arc::new(AtomicBool::new(false));
    let barges = Arc::new(AtomicUsize::new(0));
    let bargers: Vec<_> = (0..2)
        .map(|_| {
            let (l, stop, barges) = (lock.clone(), stop.clone(), barges.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if l.try_acquire() {
                        for _ in 0..50 {
                            std::hint::spin_loop();
                        }
                        l.release();
                        barges.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    // The storm is on before the waiter starts.
    while barges.load(Ordering::Relaxed) < 100 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let l = lock.clone();
    let worst = sync_util::run_mt(60, async move {
        let mut worst = Duration::ZERO;
        for _ in 0..50 {
            let start = Instant::now();
            l.acquire().await;
            worst = worst.max(start.elapsed());
            l.release();
        }
        worst
    });
    stop.store(true, Ordering::Relaxed);
    for b in bargers {
        b.join().unwrap();
    }
    assert!(
        worst < Duration::from_secs(2),
        "a waiter starved for {worst:?}"
    );
    assert_eq!(lock.state(), FREE);
}

/// Which form of the operations a [`Caller`] uses.
#[derive(Clone, Copy, Debug)]
enum Form {
    /// The async forms, awaited on this OS thread's own current-thread
    /// runtime (with tokio's timer for the timeouts).
    Async,
    /// The `blocking_*` forms (no runtime).
    Blocking,
}

/// One OS thread's way of calling a lock: the same synchronous interface
/// over either form, so that each check below is written once.
struct Caller<L> {
    lock: L,
    rt: Option<tokio::runtime::Runtime>,
}

impl<L: LockLike> Caller<L> {
    fn new(lock: &L, form: Form) -> Self {
        let rt = match form {
            Form::Async => Some(
                tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                    .unwrap(),
            ),
            Form::Blocking => None,
        };
        Self {
            lock: lock.clone(),
            rt,
        }
    }

    fn acquire(&self) {
        match &self.rt {
            Some(rt) => rt.block_on(self.lock.acquire()),
            None => self.lock.blocking_acquire(),
        }
    }

    fn acquire_timeout(&self, d: Duration) -> bool {
        match &self.rt {
            Some(rt) => rt.block_on(self.lock.acquire_timeout(d)),
            None => self.lock.blocking_acquire_timeout(d),
        }
    }
}

/// Runs `body` with a [`Caller`] of `form` on a new OS thread.
fn on_thread<L: LockLike, R: Send + 'static>(
    lock: &L,
    form: Form,
    body: impl FnOnce(Caller<L>) -> R + Send + 'static,
) -> std::thread::JoinHandle<R> {
    let lock = lock.clone();
    std::thread::spawn(move || body(Caller::new(&lock, form)))
}

/// Waits (on this plain thread) until `cond` holds, up to 10 s.
fn until_blocking(mut cond: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < end, "condition never became true");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Four threads x 500 read-yield-write increments through `form`.
fn forms_exclusion<L: LockLike>(form: Form) {
    let lock = L::make();
    let counter = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let counter = counter.clone();
            on_thread(&lock, form, move |c| {
                for _ in 0..500 {
                    c.acquire();
                    let v = counter.load(Ordering::Relaxed);
                    std::thread::yield_now();
                    counter.store(v + 1, Ordering::Relaxed);
                    c.lock.release();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), 2000, "{form:?}");
    assert_eq!(lock.state(), FREE, "{form:?}");
}

/// Waiters calling through `forms` (one each, in this order) get the lock
/// in the order they queued.
fn forms_queue_in_order<L: LockLike>(forms: &[Form]) {
    let lock = L::make();
    assert!(lock.try_acquire());
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut threads = Vec::new();
    for (i, &form) in forms.iter().enumerate() {
        let order = order.clone();
        threads.push(on_thread(&lock, form, move |c| {
            c.acquire();
            order.lock().unwrap().push(i);
            c.lock.release();
        }));
        until_blocking(|| lock.state().1 == i + 1);
    }
    lock.release();
    for t in threads {
        t.join().unwrap();
    }
    let expected: Vec<usize> = (0..forms.len()).collect();
    assert_eq!(*order.lock().unwrap(), expected, "{forms:?}");
    assert_eq!(lock.state(), FREE, "{forms:?}");
}

/// Waiters through `form` get the lock in the order they queued.
fn forms_fifo<L: LockLike>(form: Form) {
    forms_queue_in_order::<L>(&[form; 5]);
}

/// Timeouts through `form`: a zero timeout never waits, a finite one gives
/// up after its time and leaves no waiter behind, `Duration::MAX` waits until
/// the release.
fn forms_timeouts<L: LockLike>(form: Form) {
    let lock = L::make();
    assert!(lock.try_acquire());

    let timed = on_thread(&lock, form, |c| {
        let zero = c.acquire_timeout(Duration::ZERO);
        let start = Instant::now();
        let got = c.acquire_timeout(Duration::from_millis(30));
        (zero, got, start.elapsed())
    });
    let (zero, got, waited) = timed.join().unwrap();
    assert!(!zero, "{form:?}");
    assert!(!got, "{form:?}");
    assert!(waited >= Duration::from_millis(30), "{form:?}: {waited:?}");
    assert_eq!(lock.state(), (0, 0), "{form:?}: a waiter was left behind");

    let forever = on_thread(&lock, form, |c| {
        let got = c.acquire_timeout(Duration::MAX);
        c.lock.release();
        got
    });
    until_blocking(|| lock.state().1 == 1);
    lock.release();
    assert!(forever.join().unwrap(), "{form:?}");
    assert_eq!(lock.state(), FREE, "{form:?}");

    let free = on_thread(&lock, form, |c| {
        let got = c.acquire_timeout(Duration::ZERO);
        c.lock.release();
        got
    });
    assert!(
        free.join().unwrap(),
        "{form:?}: a zero timeout takes a free lock"
    );
    assert_eq!(lock.state(), FREE, "{form:?}");
}

/// Async and blocking callers of one lock share one FIFO queue.
fn forms_mixed<L: LockLike>() {
    forms_queue_in_order::<L>(&[Form::Async, Form::Blocking, Form::Async, Form::Blocking]);
}

macro_rules! conformance {
    ($($name:ident => $ty:ty),* $(,)?) => {$(
        mod $name {
            use super::*;

            #[test]
            fn exclusion_64_tasks_x_1000() {
                super::exclusion_64_tasks::<$ty>();
            }

            #[tokio::test]
            async fn fifo_order() {
                super::fifo_order::<$ty>().await;
            }

            #[tokio::test]
            async fn cancellation_leaks_nothing() {
                super::cancellation_leaks_nothing::<$ty>().await;
            }

            #[tokio::test(start_paused = true)]
            async fn timeouts() {
                super::timeouts::<$ty>().await;
            }

            #[test]
            fn try_acquire_semantics() {
                super::try_acquire_semantics::<$ty>();
            }

            #[test]
            fn threads_and_tasks() {
                super::threads_and_tasks::<$ty>();
            }

            #[test]
            fn starvation_bound_under_barging() {
                super::starvation_bound_under_barging::<$ty>();
            }

            #[test]
            fn forms_exclusion() {
                super::forms_exclusion::<$ty>(Form::Async);
                super::forms_exclusion::<$ty>(Form::Blocking);
            }

            #[test]
            fn forms_fifo() {
                super::forms_fifo::<$ty>(Form::Async);
                super::forms_fifo::<$ty>(Form::Blocking);
            }

            #[test]
            fn forms_timeouts() {
                super::forms_timeouts::<$ty>(Form::Async);
                super::forms_timeouts::<$ty>(Form::Blocking);
            }

            #[test]
            fn forms_mixed() {
                super::forms_mixed::<$ty>();
            }
        }
    )*};
}

conformance! {
    lock => Lock,
    rlock => RLock,
    semaphore => Semaphore,
    bounded_semaphore => BoundedSemaphore,
    condition_over_lock => Condition<Lock>,
    condition_over_rlock => Condition<RLock>,
}
