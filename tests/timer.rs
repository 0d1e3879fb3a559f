//! `Timer`: fires after its delay, `cancel` before firing means it never
//! runs and `join` says cancelled; cancel after firing does nothing.
//! Python reference: Lib/threading.py `Timer`, Lib/test/test_threading.py
//! `TimerTests`. Time is paused: no test sleeps for real.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use threadlet::Timer;
use threadlet::error::{JoinError, JoinTimeoutError};
use tokio::time::Instant;

fn flag() -> Arc<AtomicBool> {
    Arc::new(AtomicBool::new(false))
}

#[tokio::test(start_paused = true)]
async fn fires_after_its_delay() {
    let begin = Instant::now();
    let t = Timer::new(Duration::from_secs(5), async move { begin.elapsed() });
    // The delay counts from start, not from new.
    tokio::time::sleep(Duration::from_secs(100)).await;
    let started = Instant::now();
    t.start().unwrap();
    let fired_at = t.join().await.unwrap();
    assert!(fired_at >= started.duration_since(begin) + Duration::from_secs(5));
    assert!(fired_at < started.duration_since(begin) + Duration::from_secs(6));
}

#[tokio::test(start_paused = true)]
async fn waits_like_a_thread_while_pending() {
    let mut t = Timer::new(Duration::from_secs(5), async { 1 });
    assert!(
        t.name().starts_with("Thread-"),
        "Python's Timer is Thread-N"
    );
    t.start().unwrap();
    assert!(t.is_alive());
    assert!(threadlet::enumerate().contains(&t.thread_ref()));
    assert_eq!(
        t.join_timeout(Duration::from_secs(1)).await,
        Err(JoinTimeoutError::Timeout)
    );
    let r = t.thread_ref();
    assert_eq!(t.join().await, Ok(1));
    assert!(!r.is_alive());
}

#[tokio::test(start_paused = true)]
async fn cancelled_before_firing_never_runs() {
    let ran = flag();
    let r = ran.clone();
    let t = Timer::new(Duration::from_secs(5), async move {
        r.store(true, Ordering::SeqCst);
    });
    t.start().unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    t.cancel();
    let r = t.thread_ref();
    let err = t.join().await.unwrap_err();
    assert_eq!(err, JoinError::Cancelled);
    assert!(!r.is_alive());
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(!ran.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn cancelled_before_start_never_runs() {
    let ran = flag();
    let r = ran.clone();
    let t = Timer::new(Duration::from_secs(5), async move {
        r.store(true, Ordering::SeqCst);
    });
    t.cancel();
    t.start().unwrap();
    let begin = Instant::now();
    assert_eq!(t.join().await, Err(JoinError::Cancelled));
    assert!(begin.elapsed() < Duration::from_secs(5), "ended at once");
    assert!(!ran.load(Ordering::SeqCst));
}

#[tokio::test(start_paused = true)]
async fn cancel_after_firing_has_no_effect() {
    let mut t = Timer::new(Duration::from_secs(1), async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "finished"
    });
    t.start().unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    t.cancel(); // the future is already running
    assert_eq!(t.thread_ref().join().await, Ok(()));
    t.cancel(); // and after the end
    assert_eq!(t.join_timeout(Duration::ZERO).await, Ok("finished"));
}

#[tokio::test(start_paused = true)]
async fn forever_timer_can_be_cancelled() {
    let t = Timer::new(Duration::MAX, async {});
    t.start().unwrap();
    tokio::time::sleep(Duration::from_secs(3600 * 24 * 365)).await;
    assert!(t.is_alive());
    // Cancelled from elsewhere through a clone of `finished`, Python's
    // `timer.finished.set()`.
    let finished = t.finished().clone();
    tokio::spawn(async move { finished.set() });
    assert!(t.join().await.unwrap_err().is_cancelled());
}

#[tokio::test(start_paused = true)]
async fn timer_is_a_thread() {
    let t = Timer::new(Duration::from_secs(1), async {
        threadlet::current_thread().name()
    });
    t.set_name("alarm");
    t.set_daemon(true).unwrap();
    assert!(t.is_daemon());
    assert_eq!(t.thread().name(), "alarm");
    t.start().unwrap();
    assert_eq!(t.start(), Err(threadlet::error::StartError::AlreadyStarted));
    let text = format!("{t:?}");
    assert!(text.contains("Timer") && text.contains("alarm"), "{text}");
    assert_eq!(t.join().await.unwrap(), "alarm");
}

#[tokio::test(start_paused = true)]
async fn join_before_start_is_an_error() {
    let t = Timer::new(Duration::from_secs(1), async {});
    assert_eq!(t.join().await, Err(JoinError::NotStarted));
}

/// Python's `Timer.finished` is the `Event` that `cancel` sets; setting it
/// from anywhere cancels the timer.
#[tokio::test(start_paused = true)]
async fn finished_is_the_event_cancel_sets() {
    let t = Timer::new(Duration::from_secs(5), async { 1 });
    let finished = t.finished().clone();
    t.start().unwrap();
    assert_eq!(t.join().await, Ok(1));
    assert!(
        finished.is_set(),
        "set once the future has run, as in Python"
    );

    let t = Timer::new(Duration::from_secs(5), async { 1 });
    assert!(!t.finished().is_set());
    t.cancel();
    assert!(t.finished().is_set());
    t.start().unwrap();
    assert_eq!(t.join().await, Err(JoinError::Cancelled));

    let ran = flag();
    let r = ran.clone();
    let t = Timer::new(Duration::from_secs(5), async move {
        r.store(true, Ordering::SeqCst);
    });
    t.start().unwrap();
    let finished = t.finished().clone();
    let canceller = std::thread::spawn(move || finished.set());
    canceller.join().unwrap();
    assert_eq!(t.join().await, Err(JoinError::Cancelled));
    assert!(!ran.load(Ordering::SeqCst));
}

/// `finished.wait(0)` in Python: a zero delay fires at once unless
/// cancelled first; `Duration::MAX` waits for `cancel` alone.
#[tokio::test(start_paused = true)]
async fn zero_delay_fires_at_once_unless_cancelled() {
    let begin = Instant::now();
    let t = Timer::new(Duration::ZERO, async { "now" });
    t.start().unwrap();
    assert_eq!(t.join().await, Ok("now"));
    assert_eq!(begin.elapsed(), Duration::ZERO);

    let t = Timer::new(Duration::ZERO, async { "never" });
    t.cancel();
    t.start().unwrap();
    assert_eq!(t.join().await, Err(JoinError::Cancelled));
}

#[tokio::test(start_paused = true)]
async fn a_timer_joins_in_every_form() {
    let mut t = Timer::new(Duration::from_secs(5), async { String::from("late") });
    t.start().unwrap();
    assert_eq!(t.try_join(), Err(JoinTimeoutError::Timeout));
    assert_eq!(
        t.join_timeout(Duration::from_secs(1)).await,
        Err(JoinTimeoutError::Timeout)
    );
    assert_eq!(t.thread_ref().join().await, Ok(()));
    assert_eq!(t.try_join().unwrap(), "late");
    assert_eq!(
        t.join_timeout(Duration::MAX).await,
        Err(JoinTimeoutError::Join(JoinError::ValueTaken))
    );
    assert_eq!(t.into_thread().join().await, Err(JoinError::ValueTaken));
}
