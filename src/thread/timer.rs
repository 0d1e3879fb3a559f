//! `Timer`: Python's `threading.Timer`, a thread that waits, then runs.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

use super::thread::Thread;

struct Cancel {
    cancelled: AtomicBool,
    signal: Notify,
}

impl Cancel {
    async fn wait(&self) {
        loop {
            let mut notified = pin!(self.signal.notified());
            notified.as_mut().enable();
            if self.cancelled.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

/// A thread that waits `delay`, then runs its future, unless
/// [`cancel`](Timer::cancel)led first.
///
/// Python's `threading.Timer(interval, function)`, which is a `Thread`
/// subclass: likewise a `Timer` dereferences to its [`Thread`], so
/// [`start`](Thread::start), [`join`](Thread::join), [`name`](Thread::name),
/// [`set_daemon`](Thread::set_daemon) and the rest work on it. The delay
/// starts counting at `start`. A timer cancelled before it fires never runs
/// its future, and joining it gives [`JoinError::Cancelled`]; cancelling after
/// it fired has no effect. `Duration::MAX` waits forever (until cancelled).
///
/// [`JoinError::Cancelled`]: crate::error::JoinError::Cancelled
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// use std::time::Duration;
/// use threadlet::{Timer};
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
    cancel: Arc<Cancel>,
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
        let cancel = Arc::new(Cancel {
            cancelled: AtomicBool::new(false),
            signal: Notify::new(),
        });
        let c = cancel.clone();
        let body = async move {
            let cancelled = crate::wait::timeout::with_timeout(delay, c.wait())
                .await
                .is_some();
            // Python: `finished.wait(interval)`, then run unless `finished` is set.
            if cancelled || c.cancelled.load(Ordering::Acquire) {
                return None;
            }
            drop(c);
            Some(future.await)
        };
        Self {
            thread: Thread::from_parts(None, None, Box::pin(body)),
            cancel,
        }
    }

    /// Stops the timer if it has not fired yet; otherwise does nothing.
    ///
    /// Python's `Timer.cancel()`. Works before `start` too: the timer then
    /// ends as soon as it starts, without running its future.
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
        self.cancel.cancelled.store(true, Ordering::Release);
        self.cancel.signal.notify_waiters();
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
}

impl<T> Deref for Timer<T> {
    type Target = Thread<T>;

    fn deref(&self) -> &Thread<T> {
        &self.thread
    }
}

impl<T> Clone for Timer<T> {
    fn clone(&self) -> Self {
        Self {
            thread: self.thread.clone(),
            cancel: self.cancel.clone(),
        }
    }
}

impl<T: Send + 'static> fmt::Debug for Timer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("thread", &self.thread)
            .field("cancelled", &self.cancel.cancelled.load(Ordering::Relaxed))
            .finish()
    }
}
