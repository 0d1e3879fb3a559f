//! `Timer`: Python's `threading.Timer`, a thread that waits, then runs.
//!
//! As in Python, the timer's "cancelled" flag is an [`Event`] (`finished`):
//! the timer's thread waits on it for the delay with the crate's timed-form
//! rule, and [`Timer::cancel`] sets it.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::time::Duration;

use super::error::{JoinError, JoinTimeoutError};
use super::thread::Thread;
use crate::sync::Event;
use crate::wait::blocking::Op;

/// A thread that waits `delay`, then runs its future, unless
/// [`cancel`](Timer::cancel)led first.
///
/// Python's `threading.Timer(interval, function)`, which is a `Thread`
/// subclass: likewise a `Timer` dereferences to its [`Thread`], so
/// [`start`](Thread::start), [`name`](Thread::name),
/// [`set_daemon`](Thread::set_daemon), [`thread_ref`](Thread::thread_ref)
/// and the rest work on it, and it has the five join forms of a `Thread`
/// ([`join`](Timer::join), [`try_join`](Timer::try_join),
/// [`join_timeout`](Timer::join_timeout),
/// [`blocking_join`](Timer::blocking_join),
/// [`blocking_join_timeout`](Timer::blocking_join_timeout)). The delay starts
/// counting at `start`. A timer cancelled before it fires never runs its
/// future, and joining it gives [`JoinError::Cancelled`]; cancelling after it
/// fired has no effect. `Duration::MAX` waits forever (until cancelled).
///
/// Like a [`Thread`], a `Timer` owns its value and is not `Clone`. To cancel
/// it from elsewhere, hand over a clone of its [`finished`](Timer::finished)
/// event (Python's `timer.finished`) and set that.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use std::time::Duration;
/// use threadlet::Timer;
/// use threadlet::error::JoinError;
///
/// let fires = Timer::new(Duration::from_secs(1), async { "ring" });
/// fires.start().unwrap();
/// assert_eq!(fires.join().await, Ok("ring"));
///
/// let never = Timer::new(Duration::from_secs(1), async { "ring" });
/// never.start().unwrap();
/// never.cancel();
/// assert_eq!(never.join().await, Err(JoinError::Cancelled));
/// # }
/// ```
pub struct Timer<T> {
    thread: Thread<T>,
    finished: Event,
}

impl<T: Send + 'static> Timer<T> {
    /// Makes an unstarted timer that runs `future` `delay` after
    /// [`start`](Thread::start).
    ///
    /// The timer's thread is named `Thread-N` and inherits the daemon flag,
    /// as Python's `Timer` does.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use tokio::time::Instant;
    ///
    /// let begin = Instant::now();
    /// let t = threadlet::Timer::new(Duration::from_secs(3), async move { begin.elapsed() });
    /// t.start().unwrap();
    /// assert!(t.join().await.unwrap() >= Duration::from_secs(3));
    /// # }
    /// ```
    pub fn new<F>(delay: Duration, future: F) -> Self
    where
        F: Future<Output = T> + Send + 'static,
    {
        let finished = Event::new();
        let f = finished.clone();
        let body = async move {
            // Python: `finished.wait(interval)`, then run unless `finished`
            // is set, then set it. `wait_timeout` is the crate's timed-form
            // rule: zero only checks, `Duration::MAX` waits for `cancel`.
            if f.wait_timeout(delay).await || f.is_set() {
                return None;
            }
            let value = future.await;
            f.set();
            Some(value)
        };
        Self {
            thread: Thread::from_parts(None, None, body, std::convert::identity),
            finished,
        }
    }

    /// Stops the timer if it has not fired yet; otherwise does nothing.
    ///
    /// Python's `Timer.cancel()`: sets [`finished`](Timer::finished). Works
    /// before `start` too: the timer then ends as soon as it starts, without
    /// running its future.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let t = threadlet::Timer::new(Duration::from_secs(60), async { unreachable!() });
    /// t.start().unwrap();
    /// tokio::time::sleep(Duration::from_secs(1)).await;
    /// t.cancel();
    /// assert!(t.join().await.unwrap_err().is_cancelled());
    /// # }
    /// ```
    pub fn cancel(&self) {
        self.finished.set();
    }

    /// The event the timer waits on during its delay: Python's
    /// `Timer.finished`. Setting it (on this handle or on a clone) is
    /// [`cancel`](Timer::cancel), so a clone is how another task or thread
    /// cancels a timer it does not own. As in Python, the timer sets it too
    /// once its future has run.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let t = threadlet::Timer::new(Duration::from_secs(60), async {});
    /// t.start().unwrap();
    /// let finished = t.finished().clone();
    /// tokio::spawn(async move { finished.set() });
    /// assert!(t.join().await.unwrap_err().is_cancelled());
    /// # }
    /// ```
    pub fn finished(&self) -> &Event {
        &self.finished
    }

    /// The timer's thread (what `Deref` gives too).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let t = threadlet::Timer::new(Duration::from_secs(1), async {});
    /// let thread: &threadlet::Thread<()> = t.thread();
    /// assert!(!thread.is_alive());
    /// ```
    pub fn thread(&self) -> &Thread<T> {
        &self.thread
    }

    /// The timer's thread, owned: for code that takes a [`Thread`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let t = threadlet::Timer::new(Duration::from_secs(1), async { 3 });
    /// t.start().unwrap();
    /// let thread: threadlet::Thread<i32> = t.into_thread();
    /// assert_eq!(thread.join().await, Ok(3));
    /// # }
    /// ```
    pub fn into_thread(self) -> Thread<T> {
        self.thread
    }

    /// Waits for the timer to fire and finish, and hands its value over:
    /// [`Thread::join`].
    ///
    /// # Errors
    ///
    /// As [`Thread::join`]; [`JoinError::Cancelled`] when the timer was
    /// cancelled before it fired.
    ///
    /// # Cancel safety
    ///
    /// As [`Thread::join`]: dropping the future drops the handle, the timer
    /// runs on.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let t = threadlet::Timer::new(Duration::from_secs(1), async { String::from("ring") });
    /// t.start().unwrap();
    /// assert_eq!(t.join().await.unwrap(), "ring");
    /// # }
    /// ```
    pub async fn join(self) -> Result<T, JoinError> {
        self.thread.join().await
    }

    /// Takes the timer's value if it has finished, without waiting:
    /// [`Thread::try_join`].
    ///
    /// # Errors
    ///
    /// As [`Thread::try_join`].
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let mut t = threadlet::Timer::new(Duration::from_secs(1), async { 1 });
    /// t.start().unwrap();
    /// assert!(t.try_join().unwrap_err().is_timeout());
    /// tokio::time::sleep(Duration::from_secs(2)).await;
    /// assert_eq!(t.try_join(), Ok(1));
    /// # }
    /// ```
    pub fn try_join(&mut self) -> Result<T, JoinTimeoutError> {
        self.thread.try_join()
    }

    /// Like [`join`](Timer::join), giving up after `timeout`:
    /// [`Thread::join_timeout`].
    ///
    /// # Errors
    ///
    /// As [`Thread::join_timeout`].
    ///
    /// # Panics
    ///
    /// A non-zero, finite `timeout` needs tokio's timer: awaited outside a
    /// tokio runtime it panics, naming the caller.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the value stays in the timer for a later join.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let mut t = threadlet::Timer::new(Duration::from_secs(5), async { 1 });
    /// t.start().unwrap();
    /// assert!(t.join_timeout(Duration::from_secs(1)).await.unwrap_err().is_timeout());
    /// assert_eq!(t.join_timeout(Duration::from_secs(10)).await, Ok(1));
    /// # }
    /// ```
    #[track_caller]
    pub fn join_timeout(
        &mut self,
        timeout: Duration,
    ) -> impl Future<Output = Result<T, JoinTimeoutError>> + Send + '_ {
        self.thread.join_timeout(timeout)
    }

    /// [`join`](Timer::join) for a plain OS thread: [`Thread::blocking_join`].
    ///
    /// # Errors
    ///
    /// As [`Thread::join`].
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime: it panics at once,
    /// at the caller's line; use [`join().await`](Timer::join) in async code.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let t = rt.block_on(async {
    ///     let t = threadlet::Timer::new(Duration::from_millis(10), async { "ring" });
    ///     t.start().unwrap();
    ///     t
    /// });
    /// assert_eq!(t.blocking_join(), Ok("ring"));
    /// ```
    #[track_caller]
    pub fn blocking_join(self) -> Result<T, JoinError> {
        self.thread.blocking_join_as(Op {
            name: "Timer::blocking_join",
            instead: "`.join().await`",
        })
    }

    /// [`join_timeout`](Timer::join_timeout) for a plain OS thread:
    /// [`Thread::blocking_join_timeout`].
    ///
    /// # Errors
    ///
    /// As [`Thread::join_timeout`].
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime: it panics at once,
    /// at the caller's line; use
    /// [`join_timeout(timeout).await`](Timer::join_timeout) in async code.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = tokio::runtime::Runtime::new().unwrap();
    /// let mut t = rt.block_on(async {
    ///     let t = threadlet::Timer::new(Duration::from_secs(3600), async {});
    ///     t.start().unwrap();
    ///     t
    /// });
    /// assert!(t.blocking_join_timeout(Duration::from_millis(10)).unwrap_err().is_timeout());
    /// t.cancel();
    /// let err = t.blocking_join_timeout(Duration::MAX).unwrap_err();
    /// assert!(matches!(err, threadlet::error::JoinTimeoutError::Join(e) if e.is_cancelled()));
    /// ```
    #[track_caller]
    pub fn blocking_join_timeout(&mut self, timeout: Duration) -> Result<T, JoinTimeoutError> {
        self.thread.blocking_join_timeout_as(
            Op {
                name: "Timer::blocking_join_timeout",
                instead: "`.join_timeout(timeout).await`",
            },
            timeout,
        )
    }
}

impl<T> Deref for Timer<T> {
    type Target = Thread<T>;

    fn deref(&self) -> &Thread<T> {
        &self.thread
    }
}

impl<T: Send + 'static> fmt::Debug for Timer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("thread", &self.thread)
            .field("finished", &self.finished.is_set())
            .finish()
    }
}
