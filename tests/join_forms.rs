//! Every join has every form (issue 13 item 2) on `Thread<T>` (the value),
//! `ThreadRef` (the status) and `Timer<T>` (a `Thread`):
//!
//! | form | `Thread<T>` / `Timer<T>` | `ThreadRef` |
//! |---|---|---|
//! | wait | `join(self).await -> Result<T, JoinError>` | `join(&self).await -> Result<(), JoinError>` |
//! | don't wait | `try_join(&mut self) -> Result<T, JoinTimeoutError>` | `try_join(&self) -> Result<(), JoinTimeoutError>` |
//! | wait at most | `join_timeout(&mut self, d).await` | `join_timeout(&self, d).await` |
//! | OS thread | `blocking_join(self)` | `blocking_join(&self)` |
//! | OS thread, at most | `blocking_join_timeout(&mut self, d)` | `blocking_join_timeout(&self, d)` |
//!
//! Each form is called here, so a missing one fails to compile. The blocking
//! forms go through the crate's one blocking driver: on a thread driving a
//! tokio runtime they panic at once at the caller's line; on plain threads,
//! in `spawn_blocking` and in `block_in_place` they wait.

#[path = "common/blocking_util.rs"]
mod blocking_util;

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use threadlet::error::{JoinError, JoinTimeoutError};
use threadlet::{Event, Thread, ThreadRef, Timer};

use blocking_util::Case;

/// A runtime of its own for the threads that the blocking forms join, so
/// that they run whatever the calling thread does.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn spawn_there<F>(fut: F) -> Thread<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let _enter = runtime().enter();
    threadlet::spawn(fut)
}

fn timer_there<F>(delay: Duration, fut: F) -> Timer<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let _enter = runtime().enter();
    let t = Timer::new(delay, fut);
    t.start().unwrap();
    t
}

const MS: Duration = Duration::from_millis(1);

/// (the method, one complete call of it that ends by itself when allowed).
const BLOCKING: &[Case] = &[
    ("Thread::blocking_join", || {
        assert_eq!(spawn_there(async { 1 }).blocking_join(), Ok(1));
    }),
    ("Thread::blocking_join_timeout", || {
        let mut t = spawn_there(async { 2 });
        assert_eq!(t.blocking_join_timeout(Duration::MAX), Ok(2));
    }),
    ("ThreadRef::blocking_join", || {
        let r = spawn_there(async { 3 }).thread_ref();
        assert_eq!(r.blocking_join(), Ok(()));
    }),
    ("ThreadRef::blocking_join_timeout", || {
        let r = spawn_there(async { 4 }).thread_ref();
        assert_eq!(r.blocking_join_timeout(Duration::MAX), Ok(()));
    }),
    ("Timer::blocking_join", || {
        assert_eq!(timer_there(MS, async { 5 }).blocking_join(), Ok(5));
    }),
    ("Timer::blocking_join_timeout", || {
        let mut t = timer_there(MS, async { 6 });
        assert_eq!(t.blocking_join_timeout(Duration::MAX), Ok(6));
    }),
];

#[tokio::test]
async fn blocking_joins_are_refused_in_a_current_thread_test_body() {
    blocking_util::refused_here(file!(), BLOCKING);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_joins_are_refused_in_a_task_on_a_worker() {
    blocking_util::refused_in_tasks(file!(), BLOCKING).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_joins_work_in_spawn_blocking_and_block_in_place() {
    blocking_util::work_in_spawn_blocking(BLOCKING).await;
    blocking_util::work_in_block_in_place(BLOCKING).await;
}

#[test]
fn blocking_joins_work_on_plain_threads() {
    blocking_util::work_on_plain_threads(BLOCKING);
    // And on the test's own thread, which drives no runtime.
    for &(_, call) in BLOCKING {
        call();
    }
}

/// The blocking forms wait for the end (they do not merely poll), time out
/// while the thread runs, and give what the async forms give.
#[test]
fn blocking_joins_wait_time_out_and_report_like_the_async_ones() {
    let gate = Event::new();
    let g = gate.clone();
    let mut t = spawn_there(async move {
        g.wait().await;
        String::from("value")
    });
    let r = t.thread_ref();
    assert_eq!(t.blocking_join_timeout(MS), Err(JoinTimeoutError::Timeout));
    assert_eq!(r.blocking_join_timeout(MS), Err(JoinTimeoutError::Timeout));
    assert_eq!(
        r.blocking_join_timeout(Duration::ZERO),
        Err(JoinTimeoutError::Timeout)
    );
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let r = r.clone();
            std::thread::spawn(move || r.blocking_join())
        })
        .collect();
    gate.set();
    assert_eq!(t.blocking_join_timeout(Duration::MAX).unwrap(), "value");
    for w in waiters {
        assert_eq!(w.join().unwrap(), Ok(()));
    }
    // Taken: an error at once, never a wait.
    assert_eq!(
        t.blocking_join_timeout(Duration::MAX),
        Err(JoinTimeoutError::Join(JoinError::ValueTaken))
    );
    assert_eq!(t.blocking_join(), Err(JoinError::ValueTaken));
    assert_eq!(r.blocking_join(), Ok(()));

    // Failures, and a thread that was never started, in the blocking forms.
    let _enter = runtime().enter();
    let unstarted = Thread::new(async {});
    assert_eq!(
        unstarted.thread_ref().blocking_join(),
        Err(JoinError::NotStarted)
    );
    assert_eq!(unstarted.blocking_join(), Err(JoinError::NotStarted));
    let mut cancelled = Timer::new(Duration::from_secs(3600), async {});
    cancelled.start().unwrap();
    cancelled.cancel();
    assert_eq!(
        cancelled.blocking_join_timeout(Duration::MAX),
        Err(JoinTimeoutError::Join(JoinError::Cancelled))
    );
    assert_eq!(cancelled.blocking_join(), Err(JoinError::Cancelled));
}

/// All five forms on each handle, in a task, with the outcomes they share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_form_on_every_handle() {
    // Thread<T>.
    let gate = Event::new();
    let g = gate.clone();
    let mut t = threadlet::spawn(async move {
        g.wait().await;
        vec![1, 2]
    });
    assert_eq!(t.try_join(), Err(JoinTimeoutError::Timeout));
    assert_eq!(t.join_timeout(MS).await, Err(JoinTimeoutError::Timeout));
    let r: ThreadRef = t.thread_ref();
    assert_eq!(r.try_join(), Err(JoinTimeoutError::Timeout));
    assert_eq!(r.join_timeout(MS).await, Err(JoinTimeoutError::Timeout));
    let r2 = r.clone();
    let blocking_ref = tokio::task::spawn_blocking(move || r2.blocking_join());
    gate.set();
    assert_eq!(r.join().await, Ok(()));
    assert_eq!(blocking_ref.await.unwrap(), Ok(()));
    assert_eq!(r.join_timeout(Duration::ZERO).await, Ok(()));
    assert_eq!(r.try_join(), Ok(()));
    let value = tokio::task::spawn_blocking(move || t.blocking_join());
    assert_eq!(value.await.unwrap(), Ok(vec![1, 2]));

    // Timer<T> (its delay is zero, its body waits for the gate).
    let gate = Event::new();
    let g = gate.clone();
    let mut timer = Timer::new(Duration::ZERO, async move {
        g.wait().await;
        "ring"
    });
    assert_eq!(
        timer.try_join(),
        Err(JoinTimeoutError::Join(JoinError::NotStarted))
    );
    timer.start().unwrap();
    assert_eq!(timer.try_join(), Err(JoinTimeoutError::Timeout));
    assert_eq!(timer.join_timeout(MS).await, Err(JoinTimeoutError::Timeout));
    let mut timer = tokio::task::spawn_blocking(move || {
        assert_eq!(
            timer.blocking_join_timeout(MS),
            Err(JoinTimeoutError::Timeout)
        );
        timer
    })
    .await
    .unwrap();
    gate.set();
    assert_eq!(timer.join_timeout(Duration::MAX).await, Ok("ring"));
    assert_eq!(
        timer.try_join(),
        Err(JoinTimeoutError::Join(JoinError::ValueTaken))
    );
    let timer = Timer::new(Duration::ZERO, async { "now" });
    timer.start().unwrap();
    assert_eq!(timer.join().await, Ok("now"));
}
