//! [`Task`]: an item got from a queue, marked done when it is dropped.
//!
//! Python's accounting asks every worker to call `task_done()` once per item
//! it got, on every path out of the work — a worker that raises (here: panics)
//! or is cancelled before its call leaves `unfinished_tasks` above zero
//! forever, and `join()` never returns. The guard makes the count follow the
//! item's lifetime instead: [`get_task`](BaseQueue::get_task) hands the item
//! inside a [`Task`], and dropping the `Task` — at the end of the loop body,
//! while unwinding from a panic, or with a cancelled future — calls
//! [`task_done`](BaseQueue::task_done).
//!
//! # Owned, not borrowed
//!
//! A `Task` holds its own handle on the queue (a clone: one reference-count
//! increment per item), not a borrow of the handle it was got from. So it is
//! `'static` when the item is: it can be moved into a spawned task or an OS
//! thread — the usual "take a job, hand it to a worker" dispatch — and it
//! still marks the job done wherever it ends. A borrowed guard would be
//! cheaper by that one increment but could not leave the scope of the
//! `get`, which is where the work most often goes.

use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::time::Duration;

use super::core::{BaseQueue, Order};
use super::error::{GetError, TaskDoneError};
use super::fifo::Fifo;
use crate::wait::blocking::{Op, block_on_forever, block_on_timed};
use crate::wait::timeout::Wait;
use crate::wait::timeout::deadline;

/// An item got with [`get_task`](BaseQueue::get_task) (or its other forms):
/// the item itself through [`Deref`] / [`DerefMut`], and the queue's
/// [`task_done`](BaseQueue::task_done) call for it, made when the `Task` is
/// dropped — also while unwinding from a panic and when the future holding
/// it is cancelled. So a worker that panics or is cancelled cannot leave
/// [`join`](BaseQueue::join) waiting forever.
///
/// The item is dropped first, then the task is marked done: when `join`
/// returns, every item's destructor has run.
///
/// `O` is the queue's ordering; it defaults to [`Fifo`], so a
/// [`Queue<T>`](super::Queue)'s tasks are `Task<T>`.
///
/// # Owned, not borrowed
///
/// A `Task` holds its own handle on the queue (a clone: one reference-count
/// increment per item), not a borrow of the handle it was got from. So it is
/// `'static` when the item is: it can move into a spawned task or an OS
/// thread — the usual "take a job, hand it to a worker" dispatch — and still
/// marks the job done wherever it ends. A borrowed guard would save that one
/// increment but could not leave the scope of the `get`.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::Queue;
///
/// let q = Queue::new(0);
/// let worker = {
///     let q = q.clone();
///     tokio::spawn(async move {
///         let mut total = 0;
///         while let Ok(job) = q.get_task().await {
///             total += *job; // done when `job` drops, whatever happens
///         }
///         total
///     })
/// };
/// for n in 1..=4 {
///     q.put(n).await.unwrap();
/// }
/// q.join().await; // every job was marked done
/// q.shutdown();
/// assert_eq!(worker.await.unwrap(), 10);
/// # }
/// ```
#[must_use = "dropping a `Task` marks it done at once"]
pub struct Task<T, O: Order<T> = Fifo> {
    /// `Some` until [`into_inner`](Self::into_inner) or the drop takes it.
    item: Option<T>,
    queue: BaseQueue<T, O>,
}

impl<T, O: Order<T>> Task<T, O> {
    pub(super) fn new(item: T, queue: BaseQueue<T, O>) -> Self {
        Self {
            item: Some(item),
            queue,
        }
    }

    fn item(&self) -> &T {
        self.item.as_ref().expect("a live `Task` holds its item")
    }

    /// Drops the item, then marks the task done now, reporting what
    /// [`task_done`](BaseQueue::task_done) reports (dropping the `Task` does
    /// the same and ignores the result).
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if the queue has no unfinished task left, which
    /// happens only when somebody also called `task_done` for this item
    /// (Python allows a `task_done` ahead of its `get`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait("job").unwrap();
    /// let job = q.get_task_nowait().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1);
    /// job.done().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    pub fn done(mut self) -> Result<(), TaskDoneError> {
        drop(self.item.take());
        self.queue.task_done()
    }

    /// Takes the item out *without* marking the task done: the task stays
    /// unfinished, as after a plain [`get`](BaseQueue::get), and the caller
    /// takes over the explicit [`task_done`](BaseQueue::task_done) call.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait(String::from("job")).unwrap();
    /// let job: String = q.get_task_nowait().unwrap().into_inner();
    /// assert_eq!(job, "job");
    /// assert_eq!(q.unfinished_tasks(), 1); // still ours to mark done
    /// q.task_done().unwrap();
    /// ```
    pub fn into_inner(mut self) -> T {
        // With its item gone, the `Task`'s drop marks nothing done.
        self.item.take().expect("a live `Task` holds its item")
    }

    /// The queue this task was got from (a handle on the same queue).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// let job = q.get_task_nowait().unwrap();
    /// job.queue().put_nowait(*job + 1).unwrap(); // follow-up work
    /// drop(job);
    /// assert_eq!(q.get_nowait(), Ok(2));
    /// ```
    pub fn queue(&self) -> &BaseQueue<T, O> {
        &self.queue
    }
}

impl<T, O: Order<T>> Deref for Task<T, O> {
    type Target = T;

    fn deref(&self) -> &T {
        self.item()
    }
}

impl<T, O: Order<T>> DerefMut for Task<T, O> {
    fn deref_mut(&mut self) -> &mut T {
        self.item.as_mut().expect("a live `Task` holds its item")
    }
}

impl<T, O: Order<T>> Drop for Task<T, O> {
    fn drop(&mut self) {
        if let Some(item) = self.item.take() {
            // Item first, so `join` returns after its destructor ran; the
            // task is marked done when `_done` drops, after the item, also
            // if the item's destructor panics.
            struct Done<'a, T, O: Order<T>>(&'a BaseQueue<T, O>);
            impl<T, O: Order<T>> Drop for Done<'_, T, O> {
                fn drop(&mut self) {
                    // Only fails if somebody else marked this task done.
                    let _ = self.0.task_done();
                }
            }
            let _done = Done(&self.queue);
            drop(item);
        }
    }
}

impl<T: fmt::Debug, O: Order<T>> fmt::Debug for Task<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Task").field(self.item()).finish()
    }
}

impl<T, O: Order<T>> BaseQueue<T, O> {
    fn task(&self, got: Result<T, GetError>) -> Result<Task<T, O>, GetError> {
        got.map(|item| Task::new(item, self.clone()))
    }

    /// [`get`](Self::get), handing the item inside a [`Task`] that marks it
    /// done when dropped — on every path, panics and cancellation included —
    /// so `while let Ok(job) = q.get_task().await { … }` needs no
    /// [`task_done`](Self::task_done) call and cannot hang
    /// [`join`](Self::join).
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`] once the queue is shut down and empty, as
    /// [`get`](Self::get).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`get`](Self::get): dropped before it completed, it
    /// took nothing; the item is inside its `Task` in the same step that
    /// takes it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let q = threadlet::Queue::new(0);
    /// q.put("job").await.unwrap();
    /// let worker = {
    ///     let q = q.clone();
    ///     tokio::spawn(async move {
    ///         let job = q.get_task().await.unwrap();
    ///         panic!("worker failed on {}", *job); // `job` is still marked done
    ///     })
    /// };
    /// assert!(worker.await.is_err());
    /// q.join().await; // returns: the panicking worker did not hang it
    /// # }
    /// ```
    pub async fn get_task(&self) -> Result<Task<T, O>, GetError> {
        let got = self.get().await;
        self.task(got)
    }

    /// [`get_nowait`](Self::get_nowait), handing the item inside a [`Task`].
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if there is no item, [`GetError::ShutDown`] if the
    /// queue is shut down and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::GetError;
    ///
    /// let q = threadlet::Queue::new(0);
    /// assert_eq!(q.get_task_nowait().unwrap_err(), GetError::Empty);
    /// q.put_nowait(7).unwrap();
    /// let job = q.get_task_nowait().unwrap();
    /// assert_eq!(*job, 7);
    /// drop(job);
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    #[doc(alias = "try_get_task")]
    pub fn get_task_nowait(&self) -> Result<Task<T, O>, GetError> {
        self.task(self.get_nowait())
    }

    /// [`get_timeout`](Self::get_timeout), handing the item inside a
    /// [`Task`]. `Duration::MAX` waits forever.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if no item arrived in time, [`GetError::ShutDown`]
    /// once the queue is shut down and empty.
    ///
    /// # Panics
    ///
    /// As [`get_timeout`](Self::get_timeout): if polled outside a tokio
    /// runtime with a timeout other than zero and `Duration::MAX`, naming the
    /// caller's location.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`get_task`](Self::get_task).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    /// use threadlet::error::GetError;
    ///
    /// let q = threadlet::Queue::<u8>::new(0);
    /// let got = q.get_task_timeout(Duration::from_millis(10)).await;
    /// assert_eq!(got.unwrap_err(), GetError::Empty);
    /// # }
    /// ```
    #[track_caller]
    pub fn get_task_timeout(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Result<Task<T, O>, GetError>> + '_ {
        let caller = Location::caller();
        async move {
            let wait = Wait::plan(timeout, "Queue::get_task_timeout", caller);
            let got = self.get_within(wait).await;
            self.task(got)
        }
    }

    /// [`blocking_get`](Self::blocking_get), handing the item inside a
    /// [`Task`]: the worker loop of a plain OS thread.
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`] once the queue is shut down and empty.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use
    /// [`get_task().await`](Self::get_task) in async code, or call it from
    /// `spawn_blocking` / `block_in_place` / a plain thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// let worker = {
    ///     let q = q.clone();
    ///     std::thread::spawn(move || {
    ///         while let Ok(job) = q.blocking_get_task() {
    ///             println!("working on {}", *job);
    ///         }
    ///     })
    /// };
    /// q.put_nowait(1).unwrap();
    /// q.put_nowait(2).unwrap();
    /// q.blocking_join();
    /// q.shutdown();
    /// worker.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_get_task(&self) -> Result<Task<T, O>, GetError> {
        let op = Op {
            name: "Queue::blocking_get_task",
            instead: "`.get_task().await`",
        };
        block_on_forever(op, self.get_task())
    }

    /// [`blocking_get_timeout`](Self::blocking_get_timeout), handing the
    /// item inside a [`Task`]; it needs no tokio runtime.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if no item arrived in time, [`GetError::ShutDown`]
    /// once the queue is shut down and empty.
    ///
    /// # Panics
    ///
    /// Called on a thread that is driving a tokio runtime (an async task, a
    /// `#[tokio::test]` or `block_on` body), where it could never be woken:
    /// it panics at once, at the caller's line; use
    /// [`get_task_timeout(timeout).await`](Self::get_task_timeout) in async
    /// code, or call it from `spawn_blocking` / `block_in_place` / a plain
    /// thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::error::GetError;
    ///
    /// let q = threadlet::Queue::<u8>::new(0);
    /// let got = q.blocking_get_task_timeout(Duration::from_millis(10));
    /// assert_eq!(got.unwrap_err(), GetError::Empty);
    /// ```
    #[track_caller]
    pub fn blocking_get_task_timeout(&self, timeout: Duration) -> Result<Task<T, O>, GetError> {
        let op = Op {
            name: "Queue::blocking_get_task_timeout",
            instead: "`.get_task_timeout(timeout).await`",
        };
        let got = block_on_timed(op, deadline(timeout), |wait| self.get_within(wait));
        self.task(got)
    }
}
