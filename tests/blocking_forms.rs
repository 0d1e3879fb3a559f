//! Every `blocking_*` form of the sync primitives on every kind of thread:
//! on a thread driving a tokio runtime (a current-thread `#[tokio::test]`
//! body, a multi-thread `block_on` body, a task on a worker) it panics at
//! once, at the caller's line, saying what to use instead; inside
//! `spawn_blocking`, `block_in_place` and on plain threads it works.

#[path = "common/blocking_util.rs"]
mod blocking_util;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use threadlet::error::{GetError, PutError};
use threadlet::{Barrier, BoundedSemaphore, Condition, Event, Lock, Queue, RLock, Semaphore};

use blocking_util::Case;

/// Completes `fut`, which must be ready on its first poll (no blocking call).
fn ready<F: Future>(fut: F) -> F::Output {
    match pin!(fut).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("expected a ready future"),
    }
}

/// A plain thread that notifies `cond` once it can take its lock.
fn notifier(cond: &Condition) {
    let c = cond.clone();
    std::thread::spawn(move || {
        let guard = c.blocking_lock();
        guard.notify(1).unwrap();
    });
}

const MS: Duration = Duration::from_millis(1);

/// (the method, one complete call of it that ends by itself when allowed).
const CASES: &[Case] = &[
    ("Lock::blocking_acquire", || Lock::new().blocking_acquire()),
    ("Lock::blocking_acquire_timeout", || {
        assert!(Lock::new().blocking_acquire_timeout(MS));
    }),
    ("Lock::blocking_lock", || drop(Lock::new().blocking_lock())),
    ("Lock::blocking_lock_timeout", || {
        let lock = Lock::with_value(1);
        let guard = lock.blocking_lock_timeout(MS).unwrap();
        assert_eq!(*guard, 1);
        assert!(lock.blocking_lock_timeout(MS).is_none());
    }),
    ("RLock::blocking_acquire", || {
        RLock::new().blocking_acquire()
    }),
    ("RLock::blocking_acquire_timeout", || {
        assert!(RLock::new().blocking_acquire_timeout(MS));
    }),
    ("RLock::blocking_lock", || {
        drop(RLock::new().blocking_lock())
    }),
    ("RLock::blocking_lock_timeout", || {
        let lock = RLock::with_value(2);
        let outer = lock.blocking_lock_timeout(MS).unwrap();
        let inner = lock.blocking_lock_timeout(MS).unwrap(); // re-entry
        assert_eq!((*outer, *inner), (2, 2));
    }),
    ("Semaphore::blocking_acquire", || {
        Semaphore::new(1).blocking_acquire();
    }),
    ("Semaphore::blocking_acquire_timeout", || {
        assert!(Semaphore::new(1).blocking_acquire_timeout(MS));
    }),
    ("Semaphore::blocking_permit", || {
        drop(Semaphore::new(1).blocking_permit());
    }),
    ("Semaphore::blocking_permit_timeout", || {
        let sem = Semaphore::new(1);
        let _permit = sem.blocking_permit_timeout(MS).unwrap();
        assert!(sem.blocking_permit_timeout(MS).is_none());
    }),
    ("BoundedSemaphore::blocking_acquire", || {
        BoundedSemaphore::new(1).blocking_acquire();
    }),
    ("BoundedSemaphore::blocking_acquire_timeout", || {
        assert!(BoundedSemaphore::new(1).blocking_acquire_timeout(MS));
    }),
    ("BoundedSemaphore::blocking_permit", || {
        drop(BoundedSemaphore::new(1).blocking_permit());
    }),
    ("BoundedSemaphore::blocking_permit_timeout", || {
        let sem = BoundedSemaphore::new(1);
        let _permit = sem.blocking_permit_timeout(MS).unwrap();
        assert!(sem.blocking_permit_timeout(MS).is_none());
    }),
    ("Condition::blocking_lock", || {
        drop(Condition::new().blocking_lock());
    }),
    ("Condition::blocking_lock_timeout", || {
        let cond = Condition::with_lock(Lock::new());
        let _guard = cond.blocking_lock_timeout(MS).unwrap();
        assert!(cond.blocking_lock_timeout(MS).is_none());
    }),
    ("Condition::blocking_acquire", || {
        Condition::new().blocking_acquire();
    }),
    ("Condition::blocking_acquire_timeout", || {
        assert!(Condition::new().blocking_acquire_timeout(MS));
    }),
    ("Condition::blocking_wait", || {
        let cond = Condition::new();
        let _guard = ready(cond.lock());
        notifier(&cond);
        cond.blocking_wait().unwrap();
    }),
    ("Condition::blocking_wait_timeout", || {
        let cond = Condition::new();
        let _guard = ready(cond.lock());
        assert_eq!(cond.blocking_wait_timeout(MS), Ok(false));
    }),
    ("Condition::blocking_wait_for", || {
        let cond = Condition::new();
        let _guard = ready(cond.lock());
        assert_eq!(cond.blocking_wait_for(|| true), Ok(()));
    }),
    ("Condition::blocking_wait_for_timeout", || {
        let cond = Condition::new();
        let _guard = ready(cond.lock());
        assert_eq!(cond.blocking_wait_for_timeout(|| false, MS), Ok(false));
    }),
    ("ConditionGuard::blocking_wait", || {
        let cond = Condition::new();
        let mut guard = ready(cond.lock());
        notifier(&cond);
        guard.blocking_wait().unwrap();
    }),
    ("ConditionGuard::blocking_wait_timeout", || {
        let cond = Condition::new();
        let mut guard = ready(cond.lock());
        assert_eq!(guard.blocking_wait_timeout(MS), Ok(false));
    }),
    ("ConditionGuard::blocking_wait_for", || {
        let cond = Condition::new();
        let mut guard = ready(cond.lock());
        let mut checks = 0;
        notifier(&cond);
        // False once, then true after the notifier's wake-up.
        let pred = || {
            checks += 1;
            checks > 1
        };
        guard.blocking_wait_for(pred).unwrap();
    }),
    ("ConditionGuard::blocking_wait_for_timeout", || {
        let cond = Condition::new();
        let mut guard = ready(cond.lock());
        assert_eq!(guard.blocking_wait_for_timeout(|| false, MS), Ok(false));
    }),
    ("Barrier::blocking_wait", || {
        assert_eq!(Barrier::new(1).unwrap().blocking_wait(), Ok(0));
    }),
    ("Barrier::blocking_wait_timeout", || {
        assert_eq!(Barrier::new(1).unwrap().blocking_wait_timeout(MS), Ok(0));
    }),
    ("Event::blocking_wait", || {
        let event = Event::new();
        event.set();
        event.blocking_wait();
    }),
    ("Event::blocking_wait_timeout", || {
        assert!(!Event::new().blocking_wait_timeout(MS));
    }),
    ("Queue::blocking_put", || {
        Queue::new(1).blocking_put(1).unwrap();
    }),
    ("Queue::blocking_put_timeout", || {
        let q = Queue::new(1);
        q.put_nowait(1).unwrap();
        // A timed-out put hands its item back.
        assert_eq!(q.blocking_put_timeout(2, MS), Err(PutError::Full(2)));
    }),
    ("Queue::blocking_get", || {
        let q = Queue::new(0);
        q.put_nowait(1).unwrap();
        assert_eq!(q.blocking_get(), Ok(1));
    }),
    ("Queue::blocking_get_timeout", || {
        let q = Queue::<u8>::new(0);
        assert_eq!(q.blocking_get_timeout(MS), Err(GetError::Empty));
    }),
    ("Queue::blocking_join", || {
        Queue::<u8>::new(0).blocking_join()
    }),
    ("Queue::blocking_join_timeout", || {
        assert!(Queue::<u8>::new(0).blocking_join_timeout(MS));
    }),
    ("Queue::blocking_get_task", || {
        let q = Queue::new(0);
        q.put_nowait(1).unwrap();
        assert_eq!(*q.blocking_get_task().unwrap(), 1);
    }),
    ("Queue::blocking_get_task_timeout", || {
        let q = Queue::<u8>::new(0);
        assert_eq!(
            q.blocking_get_task_timeout(MS).unwrap_err(),
            GetError::Empty
        );
    }),
];

#[tokio::test]
async fn refused_in_a_current_thread_test_body() {
    blocking_util::refused_here(file!(), CASES);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_in_a_multi_thread_block_on_body() {
    blocking_util::refused_here(file!(), CASES);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_in_a_task_on_a_worker() {
    blocking_util::refused_in_tasks(file!(), CASES).await;
}

#[tokio::test]
async fn refused_in_a_current_thread_task() {
    blocking_util::refused_in_tasks(file!(), CASES).await;
}

#[tokio::test]
async fn works_in_spawn_blocking_on_a_current_thread_runtime() {
    blocking_util::work_in_spawn_blocking(CASES).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_in_spawn_blocking_and_block_in_place_on_a_multi_thread_runtime() {
    blocking_util::work_in_spawn_blocking(CASES).await;
    blocking_util::work_in_block_in_place(CASES).await;
}

#[test]
fn works_on_plain_threads() {
    blocking_util::work_on_plain_threads(CASES);
    // Also on a thread that merely entered a runtime's context.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _enter = rt.enter();
    for &(_, call) in CASES {
        call();
    }
}

/// The table of forms (issue 13 item 2): every waiting sync operation, as
/// `op().await`, `try_op()`, `op_timeout(d).await`, `blocking_op()` and
/// `blocking_op_timeout(d)`. Each row names the five methods; this test stops
/// compiling when one is missing. (Event's non-blocking form is Python's
/// `is_set`; a non-blocking Barrier wait has no meaning, in Python neither.)
#[test]
fn every_sync_form_exists() {
    use threadlet::{ConditionGuard, OwnedLockGuard, OwnedRLockGuard, OwnedSemaphoreGuard};
    macro_rules! row {
        ($($form:expr),* $(,)?) => {{ $(let _ = $form;)* }};
    }
    type C = Condition<RLock>;
    type G<'a> = ConditionGuard<'a, RLock>;
    // Lock<()>: Python's acquire; Lock<T>: the guard.
    row!(
        Lock::acquire,
        Lock::try_acquire,
        Lock::acquire_timeout,
        Lock::blocking_acquire,
        Lock::blocking_acquire_timeout
    );
    row!(
        Lock::<u8>::lock,
        Lock::<u8>::try_lock,
        Lock::<u8>::lock_timeout,
        Lock::<u8>::blocking_lock,
        Lock::<u8>::blocking_lock_timeout
    );
    row!(
        Lock::<u8>::lock_owned,
        Lock::<u8>::try_lock_owned,
        threadlet::LockGuard::<u8>::into_owned
    );
    // RLock<T>.
    row!(
        RLock::<u8>::acquire,
        RLock::<u8>::try_acquire,
        RLock::<u8>::acquire_timeout,
        RLock::<u8>::blocking_acquire,
        RLock::<u8>::blocking_acquire_timeout
    );
    row!(
        RLock::<u8>::lock,
        RLock::<u8>::try_lock,
        RLock::<u8>::lock_timeout,
        RLock::<u8>::blocking_lock,
        RLock::<u8>::blocking_lock_timeout
    );
    row!(
        RLock::<u8>::lock_owned,
        RLock::<u8>::try_lock_owned,
        threadlet::RLockGuard::<u8>::into_owned
    );
    // Condition: the lock side, then the waits.
    row!(
        C::acquire,
        C::try_acquire,
        C::acquire_timeout,
        C::blocking_acquire,
        C::blocking_acquire_timeout
    );
    row!(
        C::lock,
        C::try_lock,
        C::lock_timeout,
        C::blocking_lock,
        C::blocking_lock_timeout
    );
    row!(
        C::wait,
        C::wait_timeout,
        C::blocking_wait,
        C::blocking_wait_timeout
    );
    row!(
        C::wait_for::<fn() -> bool>,
        C::wait_for_timeout::<fn() -> bool>,
        C::blocking_wait_for::<fn() -> bool>,
        C::blocking_wait_for_timeout::<fn() -> bool>
    );
    row!(
        G::wait,
        G::wait_timeout,
        G::blocking_wait,
        G::blocking_wait_timeout
    );
    row!(
        G::wait_for::<fn() -> bool>,
        G::wait_for_timeout::<fn() -> bool>,
        G::blocking_wait_for::<fn() -> bool>,
        G::blocking_wait_for_timeout::<fn() -> bool>
    );
    // Semaphores.
    row!(
        Semaphore::acquire,
        Semaphore::try_acquire,
        Semaphore::acquire_timeout,
        Semaphore::blocking_acquire,
        Semaphore::blocking_acquire_timeout
    );
    row!(
        Semaphore::permit,
        Semaphore::try_permit,
        Semaphore::permit_timeout,
        Semaphore::blocking_permit,
        Semaphore::blocking_permit_timeout
    );
    row!(
        Semaphore::permit_owned,
        Semaphore::try_permit_owned,
        threadlet::SemaphoreGuard::into_owned
    );
    row!(
        BoundedSemaphore::acquire,
        BoundedSemaphore::try_acquire,
        BoundedSemaphore::acquire_timeout,
        BoundedSemaphore::blocking_acquire,
        BoundedSemaphore::blocking_acquire_timeout
    );
    row!(
        BoundedSemaphore::permit,
        BoundedSemaphore::try_permit,
        BoundedSemaphore::permit_timeout,
        BoundedSemaphore::blocking_permit,
        BoundedSemaphore::blocking_permit_timeout
    );
    row!(
        BoundedSemaphore::permit_owned,
        BoundedSemaphore::try_permit_owned
    );
    // Event and Barrier.
    row!(
        Event::wait,
        Event::is_set,
        Event::wait_timeout,
        Event::blocking_wait,
        Event::blocking_wait_timeout
    );
    row!(
        Barrier::wait,
        Barrier::wait_timeout,
        Barrier::blocking_wait,
        Barrier::blocking_wait_timeout
    );
    // Owned guards are Send + 'static.
    fn owned<T: Send + 'static>() {}
    owned::<OwnedLockGuard<u8>>();
    owned::<OwnedRLockGuard<u8>>();
    owned::<OwnedSemaphoreGuard>();
}
