//! `Builder`: Python's `Thread(name=..., daemon=...)` keyword arguments.

use std::future::Future;

use super::error::StartError;
use super::thread::{Thread, ThreadRun};

/// Configures a thread's name and daemon flag before making it.
///
/// Python's `Thread(target, name=..., daemon=...)` keywords. Defaults: name
/// `Thread-N`, daemon inherited from the creating threadlet thread (else
/// non-daemon).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::Builder;
///
/// let t = Builder::new().name("logger").daemon(true).build(async { 7 });
/// assert_eq!(t.name(), "logger");
/// assert!(t.is_daemon());
/// t.start().unwrap();
/// assert_eq!(t.join().await, Ok(7));
/// # }
/// ```
#[derive(Debug, Default, Clone)]
#[must_use = "a Builder does nothing until build or spawn is called"]
pub struct Builder {
    name: Option<String>,
    daemon: Option<bool>,
}

impl Builder {
    /// A builder with the defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadlet::Builder::new().build(async {});
    /// assert!(t.name().starts_with("Thread-"));
    /// ```
    pub const fn new() -> Self {
        Self {
            name: None,
            daemon: None,
        }
    }

    /// Names the thread (instead of `Thread-N`).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadlet::Builder::new().name("reader").build(async {});
    /// assert_eq!(t.name(), "reader");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the daemon flag (instead of inheriting it).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threadlet::Builder::new().daemon(true).build(async {});
    /// assert!(t.is_daemon());
    /// ```
    pub fn daemon(mut self, daemon: bool) -> Self {
        self.daemon = Some(daemon);
        self
    }

    /// Makes an unstarted thread running `future`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let t = threadlet::Builder::new().name("t").build(async { 1 });
    /// assert!(!t.is_alive());
    /// t.start().unwrap();
    /// assert_eq!(t.join().await, Ok(1));
    /// # }
    /// ```
    pub fn build<F>(self, future: F) -> Thread<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Thread::from_parts(self.name, self.daemon, future, Some)
    }

    /// Makes an unstarted thread running `body.run()` (the subclass form).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use threadlet::{Builder, ThreadRun};
    ///
    /// struct Hello;
    /// impl ThreadRun for Hello {
    ///     type Output = String;
    ///     async fn run(self) -> String {
    ///         threadlet::current_thread().name()
    ///     }
    /// }
    ///
    /// let t = Builder::new().name("hello").build_run(Hello);
    /// t.start().unwrap();
    /// assert_eq!(t.join().await.unwrap(), "hello");
    /// # }
    /// ```
    pub fn build_run<R: ThreadRun>(self, body: R) -> Thread<R::Output> {
        self.build(async move { body.run().await })
    }

    /// Makes a thread running `future` and starts it.
    ///
    /// # Errors
    ///
    /// [`StartError::NoRuntime`] outside a tokio runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let t = threadlet::Builder::new().name("s").spawn(async { 2 }).unwrap();
    /// assert_eq!(t.join().await, Ok(2));
    ///
    /// // Outside a runtime:
    /// let err = std::thread::spawn(|| threadlet::Builder::new().spawn(async {}).map(|_| ()))
    ///     .join()
    ///     .unwrap();
    /// assert_eq!(err, Err(threadlet::error::StartError::NoRuntime));
    /// # }
    /// ```
    pub fn spawn<F>(self, future: F) -> Result<Thread<F::Output>, StartError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        Ok(Thread::spawn_parts(
            self.name,
            self.daemon,
            future,
            Some(&handle),
        ))
    }
}
