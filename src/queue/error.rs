//! Errors of the `queue` module: Python's `queue.Full`, `queue.Empty`,
//! `queue.ShutDown` and the `ValueError` of an extra `task_done()`.
//!
//! Python's exceptions carry no message; the `Display` strings here are short
//! lowercase nouns in tokio's style. A failed put hands the item back.

use std::fmt;

/// A put that failed, with the item handed back.
///
/// Every put form returns it: [`put_nowait`](crate::queue::BaseQueue::put_nowait)
/// and the `_timeout` forms can fail with either variant (Python's `queue.Full`
/// and `queue.ShutDown`); [`put`](crate::queue::BaseQueue::put) and
/// [`blocking_put`](crate::queue::BaseQueue::blocking_put) only with
/// [`ShutDown`](PutError::ShutDown).
///
/// `Debug` does not require `T: Debug` (the item is shown as `..`).
///
/// # Examples
///
/// ```
/// use threadlet::Queue;
/// use threadlet::error::PutError;
///
/// let q = Queue::new(1);
/// q.put_nowait("first").unwrap();
/// let err = q.put_nowait("second").unwrap_err();
/// assert!(err.is_full());
/// assert_eq!(err.to_string(), "queue is full");
/// assert_eq!(err.into_inner(), "second");
///
/// q.shutdown();
/// assert!(matches!(q.put_nowait("third"), Err(PutError::ShutDown("third"))));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PutError<T> {
    /// The queue was full: no room now (`put_nowait`) or none before the
    /// timeout (Python's `queue.Full`).
    Full(T),
    /// The queue was shut down (Python's `queue.ShutDown`).
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The item that could not be put.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(1);
    /// q.put_nowait(1).unwrap();
    /// assert_eq!(q.put_nowait(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }

    /// Whether the queue was full.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(1);
    /// q.put_nowait(1).unwrap();
    /// assert!(q.put_nowait(2).unwrap_err().is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, PutError::Full(_))
    }

    /// Whether the queue was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// q.shutdown();
    /// assert!(q.put_nowait(1).unwrap_err().is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        matches!(self, PutError::ShutDown(_))
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("queue is full"),
            PutError::ShutDown(_) => f.write_str("queue is shut down"),
        }
    }
}

impl<T> std::error::Error for PutError<T> {}

/// A get that failed.
///
/// [`get_nowait`](crate::queue::BaseQueue::get_nowait) and the `_timeout` forms
/// can fail with either variant (Python's `queue.Empty` and `queue.ShutDown`);
/// [`get`](crate::queue::BaseQueue::get) and
/// [`blocking_get`](crate::queue::BaseQueue::blocking_get) only with
/// [`ShutDown`](GetError::ShutDown). As in Python, a shut-down queue that is
/// empty reports `ShutDown`, never `Empty`.
///
/// # Examples
///
/// ```
/// use threadlet::Queue;
/// use threadlet::error::GetError;
///
/// let q = Queue::<u32>::new(0);
/// assert_eq!(q.get_nowait(), Err(GetError::Empty));
/// q.shutdown();
/// assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
/// assert_eq!(GetError::ShutDown.to_string(), "queue is shut down");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GetError {
    /// The queue was empty: no item now (`get_nowait`) or none before the
    /// timeout (Python's `queue.Empty`).
    Empty,
    /// The queue was shut down and has no item left (Python's `queue.ShutDown`).
    ShutDown,
}

impl GetError {
    /// Whether the queue was empty (and not shut down).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::<u8>::new(0);
    /// assert!(q.get_nowait().unwrap_err().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, GetError::Empty)
    }

    /// Whether the queue was shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::<u8>::new(0);
    /// q.shutdown();
    /// assert!(q.get_nowait().unwrap_err().is_shut_down());
    /// ```
    pub fn is_shut_down(&self) -> bool {
        matches!(self, GetError::ShutDown)
    }
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => f.write_str("queue is empty"),
            GetError::ShutDown => f.write_str("queue is shut down"),
        }
    }
}

impl std::error::Error for GetError {}

/// [`task_done`](crate::queue::BaseQueue::task_done) was called more times
/// than items were put (Python's `ValueError`); the count was left unchanged.
///
/// # Examples
///
/// ```
/// let q = threadlet::Queue::<u8>::new(0);
/// let err = q.task_done().unwrap_err();
/// assert_eq!(err.to_string(), "task_done() called too many times");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called too many times")
    }
}

impl std::error::Error for TaskDoneError {}
