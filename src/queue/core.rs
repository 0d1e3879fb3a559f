//! The one queue core under [`Queue`](super::Queue), [`LifoQueue`](super::LifoQueue)
//! and [`PriorityQueue`](super::PriorityQueue): the classic bounded buffer.
//!
//! * a mutex over the state (the store, the unfinished-task count and the
//!   shutdown flag), held only for a push or a pop, never across an `.await`;
//! * `items`, a counting semaphore with one permit per stored item: a getter
//!   takes a permit first, then pops — so a `get` dropped while waiting took
//!   nothing, and a permit it had already been handed passes to the next getter;
//! * `slots`, a counting semaphore with one permit per free place (absent when
//!   the queue is unbounded): a putter takes a permit first, then pushes and
//!   releases an `items` permit — so a dropped `put` inserted nothing;
//! * `all_done`, a broadcast wait list for `join`.
//!
//! All waiting goes through the crate's one wait queue
//! ([`RawSemaphore`](crate::wait::core::RawSemaphore)), so blocked getters and
//! putters are woken in FIFO order and tasks and OS threads share one queue.
//!
//! Shutdown closes both semaphores. A getter whose semaphore is closed pops
//! whatever is left under the mutex (non-immediate shutdown drains); a getter
//! holding a permit that finds the store empty can only be racing an immediate
//! shutdown and reports `ShutDown`. Puts check the flag under the mutex, so
//! nothing enters a shut-down queue.

use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use super::error::{GetError, PutError, TaskDoneError};
use crate::wait::core::{MAX_PERMITS, Mode, RawSemaphore, TryAcquireError};
use crate::wait::loom::{Arc, Mutex};
use crate::wait::timeout::{deadline, with_timeout};

pub(crate) mod sealed {
    /// Only this crate's orderings implement [`Order`](super::Order).
    pub trait Sealed {}

    /// The storage of one ordering. Sealed: only this crate implements it.
    pub trait Store<T>: Default {
        /// Stores an item.
        fn push(&mut self, item: T);
        /// Removes the next item in this ordering.
        fn pop(&mut self) -> Option<T>;
        /// Items stored.
        fn len(&self) -> usize;
    }
}

/// The ordering of a [`BaseQueue`]: [`Fifo`](super::Fifo),
/// [`Lifo`](super::Lifo) or [`Priority`](super::Priority).
///
/// Sealed: the three orderings are all there is, and each is only a type-level
/// marker (it cannot be constructed). Use the aliases [`Queue`](super::Queue),
/// [`LifoQueue`](super::LifoQueue) and [`PriorityQueue`](super::PriorityQueue).
pub trait Order<T>: sealed::Sealed + 'static {
    /// The store holding the items in this order.
    #[doc(hidden)]
    type Store: sealed::Store<T>;
    /// The queue's name in `Debug` output.
    #[doc(hidden)]
    const NAME: &'static str;
}

struct State<S> {
    store: S,
    /// Items put and not yet marked done (Python's `unfinished_tasks`).
    unfinished: usize,
    shutdown: bool,
}

struct Inner<S> {
    state: Mutex<State<S>>,
    /// One permit per stored item.
    items: RawSemaphore,
    /// One permit per free place; `None` when unbounded.
    slots: Option<RawSemaphore>,
    /// `join` waits here.
    all_done: RawSemaphore,
    maxsize: usize,
}

/// The one generic queue under [`Queue`](super::Queue) (FIFO),
/// [`LifoQueue`](super::LifoQueue) (LIFO) and
/// [`PriorityQueue`](super::PriorityQueue) (smallest first, stable); `O`
/// picks the ordering. Use those aliases: they are this type.
///
/// The API is Python's `queue.Queue`, with every blocking call in three
/// forms (`.await`, `_nowait`, `_timeout`) plus `blocking_` forms for plain
/// OS threads. The handle is a cheap [`Clone`] (an `Arc` inside): clones
/// share one queue, the way Python threads share one `Queue` object.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::Queue;
///
/// let q = Queue::new(10);
/// let producer = {
///     let q = q.clone();
///     tokio::spawn(async move {
///         for i in 0..3 {
///             q.put(i).await.unwrap();
///         }
///     })
/// };
/// for expected in 0..3 {
///     assert_eq!(q.get().await.unwrap(), expected);
///     q.task_done().unwrap();
/// }
/// producer.await.unwrap();
/// q.join().await; // every item put has been marked done
/// # }
/// ```
pub struct BaseQueue<T, O: Order<T>> {
    inner: Arc<Inner<O::Store>>,
    _order: PhantomData<fn() -> (T, O)>,
}

impl<T, O: Order<T>> Clone for BaseQueue<T, O> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            _order: PhantomData,
        }
    }
}

impl<T, O: Order<T>> Default for BaseQueue<T, O> {
    /// An unbounded queue, as Python's `Queue()`.
    fn default() -> Self {
        Self::new(0)
    }
}

impl<T, O: Order<T>> fmt::Debug for BaseQueue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (len, unfinished, shutdown) = {
            let state = self.inner.state.lock();
            (
                sealed::Store::len(&state.store),
                state.unfinished,
                state.shutdown,
            )
        };
        f.debug_struct(O::NAME)
            .field("maxsize", &self.inner.maxsize)
            .field("qsize", &len)
            .field("unfinished_tasks", &unfinished)
            .field("is_shutdown", &shutdown)
            .finish()
    }
}

impl<T, O: Order<T>> BaseQueue<T, O> {
    /// A queue holding at most `maxsize` items; `0` means unbounded, as in
    /// Python's `Queue(maxsize=0)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::{LifoQueue, PriorityQueue, Queue};
    ///
    /// let fifo: Queue<&str> = Queue::new(0); // unbounded
    /// let lifo: LifoQueue<&str> = LifoQueue::new(8);
    /// let prio: PriorityQueue<(u8, &str)> = PriorityQueue::new(8);
    /// assert_eq!(fifo.maxsize(), 0);
    /// assert_eq!(lifo.maxsize(), 8);
    /// assert!(prio.is_empty());
    /// ```
    pub fn new(maxsize: usize) -> Self {
        // More places than permits can count is unbounded in practice.
        let slots = (maxsize > 0 && maxsize <= MAX_PERMITS)
            .then(|| RawSemaphore::new(maxsize, Mode::Counting));
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    store: O::Store::default(),
                    unfinished: 0,
                    shutdown: false,
                }),
                items: RawSemaphore::new(0, Mode::Counting),
                slots,
                all_done: RawSemaphore::new(0, Mode::Broadcast),
                maxsize,
            }),
            _order: PhantomData,
        }
    }

    /// The capacity given to [`new`](Self::new); `0` means unbounded.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadlet::Queue::<u8>::new(3).maxsize(), 3);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.inner.maxsize
    }

    /// The number of items in the queue right now (Python's `qsize()`).
    ///
    /// Like Python's, the answer may be stale by the time it is used: another
    /// task can put or get in between.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait('a').unwrap();
    /// q.put_nowait('b').unwrap();
    /// assert_eq!(q.len(), 2);
    /// ```
    #[doc(alias = "qsize")]
    pub fn len(&self) -> usize {
        sealed::Store::len(&self.inner.state.lock().store)
    }

    /// Whether the queue holds no item right now (Python's `empty()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// assert!(q.is_empty());
    /// q.put_nowait(1).unwrap();
    /// assert!(!q.is_empty());
    /// ```
    #[doc(alias = "empty")]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a bounded queue holds `maxsize` items right now (Python's
    /// `full()`); an unbounded queue is never full.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(1);
    /// assert!(!q.is_full());
    /// q.put_nowait(1).unwrap();
    /// assert!(q.is_full());
    /// ```
    #[doc(alias = "full")]
    pub fn is_full(&self) -> bool {
        self.inner.slots.is_some() && self.len() >= self.inner.maxsize
    }

    /// Items put and not yet marked done with [`task_done`](Self::task_done)
    /// (Python's `unfinished_tasks`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.get_nowait().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 1); // taken, not yet done
    /// q.task_done().unwrap();
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// ```
    pub fn unfinished_tasks(&self) -> usize {
        self.inner.state.lock().unfinished
    }

    /// Test introspection: (stored items, item permits, waiter slots on
    /// items, free-place permits, waiter slots on places, waiter slots on
    /// `join`). At quiescence the item permits equal the stored items, the
    /// free places `maxsize - stored` (bounded queues), and no slot is in use.
    #[doc(hidden)]
    pub fn __debug_state(&self) -> (usize, usize, usize, usize, usize, usize) {
        let stored = sealed::Store::len(&self.inner.state.lock().store);
        let items = self.inner.items.snapshot();
        let (places, place_slots) = match &self.inner.slots {
            Some(slots) => {
                let s = slots.snapshot();
                (s.permits, s.slots)
            }
            None => (0, 0),
        };
        let join = self.inner.all_done.snapshot();
        (
            stored,
            items.permits,
            items.slots,
            places,
            place_slots,
            join.slots,
        )
    }

    /// Whether [`shutdown`](Self::shutdown) or
    /// [`shutdown_immediate`](Self::shutdown_immediate) was called.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::<u8>::new(0);
    /// assert!(!q.is_shutdown());
    /// q.shutdown();
    /// assert!(q.is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        self.inner.state.lock().shutdown
    }

    // ----- put -----

    /// Puts an item, waiting while the queue is full (Python's `put()`).
    ///
    /// Blocked putters are woken in FIFO order as places free up. On an
    /// unbounded queue this never waits.
    ///
    /// # Errors
    ///
    /// [`PutError::ShutDown`] with the item if the queue is shut down, or is
    /// shut down while this waits.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a `put` dropped before it completed inserted nothing (the
    /// item is dropped with the future), and a free place it had been handed
    /// passes to the next waiting putter.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let q = threadlet::Queue::new(1);
    /// q.put("baozi").await.unwrap();
    /// assert_eq!(q.len(), 1);
    /// # }
    /// ```
    pub async fn put(&self, item: T) -> Result<(), PutError<T>> {
        if let Some(slots) = &self.inner.slots
            && slots.acquire().await.is_err()
        {
            return Err(PutError::ShutDown(item));
        }
        self.push(item)
    }

    /// Puts an item if there is room right now (Python's `put_nowait()`).
    ///
    /// # Errors
    ///
    /// [`PutError::ShutDown`] if the queue is shut down (checked first, as in
    /// Python), else [`PutError::Full`] if it is full; both hand the item back.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(1);
    /// q.put_nowait(1).unwrap();
    /// assert!(q.put_nowait(2).unwrap_err().is_full());
    /// ```
    #[doc(alias = "try_put")]
    pub fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
        if let Some(slots) = &self.inner.slots {
            match slots.try_acquire() {
                Ok(()) => {}
                Err(TryAcquireError::NoPermits) => return Err(PutError::Full(item)),
                Err(TryAcquireError::Closed) => return Err(PutError::ShutDown(item)),
            }
        }
        self.push(item)
    }

    /// Puts an item, waiting at most `timeout` for room (Python's
    /// `put(timeout=...)`). `Duration::MAX` waits forever.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] if no place freed up in time, [`PutError::ShutDown`]
    /// if the queue is or gets shut down; both hand the item back.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`put`](Self::put).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let q = threadlet::Queue::new(1);
    /// q.put(1).await.unwrap();
    /// let err = q.put_timeout(2, Duration::from_millis(10)).await.unwrap_err();
    /// assert!(err.is_full());
    /// # }
    /// ```
    pub async fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        if let Some(slots) = &self.inner.slots {
            match with_timeout(timeout, slots.acquire()).await {
                None => return Err(PutError::Full(item)),
                Some(Err(_closed)) => return Err(PutError::ShutDown(item)),
                Some(Ok(())) => {}
            }
        }
        self.push(item)
    }

    /// Puts an item from a plain OS thread, blocking it while the queue is
    /// full: a queue links sync threads and async tasks.
    ///
    /// Calling this from inside an async task blocks the runtime worker it
    /// runs on; use [`put`](Self::put) there.
    ///
    /// # Errors
    ///
    /// [`PutError::ShutDown`] with the item if the queue is or gets shut down.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(1);
    /// let producer = {
    ///     let q = q.clone();
    ///     std::thread::spawn(move || {
    ///         q.blocking_put(1).unwrap();
    ///         q.blocking_put(2).unwrap(); // waits until 1 is taken
    ///     })
    /// };
    /// assert_eq!(q.blocking_get(), Ok(1));
    /// assert_eq!(q.blocking_get(), Ok(2));
    /// producer.join().unwrap();
    /// ```
    pub fn blocking_put(&self, item: T) -> Result<(), PutError<T>> {
        if let Some(slots) = &self.inner.slots
            && slots.blocking_acquire(None).is_err()
        {
            return Err(PutError::ShutDown(item));
        }
        self.push(item)
    }

    /// [`blocking_put`](Self::blocking_put) waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`PutError::Full`] if no place freed up in time, [`PutError::ShutDown`]
    /// if the queue is or gets shut down; both hand the item back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let q = threadlet::Queue::new(1);
    /// q.blocking_put_timeout(1, Duration::from_millis(10)).unwrap();
    /// let err = q.blocking_put_timeout(2, Duration::from_millis(10)).unwrap_err();
    /// assert!(err.is_full());
    /// ```
    pub fn blocking_put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
        if let Some(slots) = &self.inner.slots {
            match slots.blocking_acquire(deadline(timeout)) {
                Ok(true) => {}
                Ok(false) => return Err(PutError::Full(item)),
                Err(_closed) => return Err(PutError::ShutDown(item)),
            }
        }
        self.push(item)
    }

    /// Stores `item` once a place is held (or the queue is unbounded). On a
    /// shut-down queue gives the place back and fails.
    pub(super) fn push(&self, item: T) -> Result<(), PutError<T>> {
        let mut state = self.inner.state.lock();
        if state.shutdown {
            drop(state);
            self.release_slot();
            return Err(PutError::ShutDown(item));
        }
        sealed::Store::push(&mut state.store, item);
        state.unfinished += 1;
        drop(state);
        self.inner.items.release(1);
        Ok(())
    }

    fn release_slot(&self) {
        if let Some(slots) = &self.inner.slots {
            slots.release(1);
        }
    }

    // ----- get -----

    /// Removes and returns the next item, waiting while the queue is empty
    /// (Python's `get()`).
    ///
    /// Blocked getters are woken in FIFO order as items arrive. After
    /// [`shutdown`](Self::shutdown) it still returns the items left, then
    /// fails.
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`] once the queue is shut down and empty (at once
    /// after [`shutdown_immediate`](Self::shutdown_immediate)).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a `get` dropped before it completed took nothing, and a
    /// wake-up it had been given for an item passes to the next getter.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let q = threadlet::Queue::new(0);
    /// let q2 = q.clone();
    /// tokio::spawn(async move { q2.put("baozi").await.unwrap() });
    /// assert_eq!(q.get().await, Ok("baozi"));
    /// # }
    /// ```
    pub async fn get(&self) -> Result<T, GetError> {
        // Ok: we hold an item's permit. Err(Closed): shut down — take what is left.
        let _ = self.inner.items.acquire().await;
        self.take()
    }

    /// Removes and returns the next item if there is one right now (Python's
    /// `get_nowait()`).
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if there is no item, or [`GetError::ShutDown`] if
    /// the queue is shut down and empty (Python checks shutdown first).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::GetError;
    ///
    /// let q = threadlet::Queue::new(0);
    /// assert_eq!(q.get_nowait(), Err(GetError::Empty));
    /// q.put_nowait(7).unwrap();
    /// assert_eq!(q.get_nowait(), Ok(7));
    /// ```
    #[doc(alias = "try_get")]
    pub fn get_nowait(&self) -> Result<T, GetError> {
        match self.inner.items.try_acquire() {
            Ok(()) | Err(TryAcquireError::Closed) => self.take(),
            Err(TryAcquireError::NoPermits) => Err(GetError::Empty),
        }
    }

    /// Removes and returns the next item, waiting at most `timeout` for one
    /// (Python's `get(timeout=...)`). `Duration::MAX` waits forever.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if no item arrived in time, [`GetError::ShutDown`]
    /// once the queue is shut down and empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`get`](Self::get).
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
    /// assert_eq!(q.get_timeout(Duration::from_millis(10)).await, Err(GetError::Empty));
    /// # }
    /// ```
    pub async fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        match with_timeout(timeout, self.inner.items.acquire()).await {
            None => Err(GetError::Empty),
            Some(_) => self.take(),
        }
    }

    /// Removes and returns the next item from a plain OS thread, blocking it
    /// while the queue is empty.
    ///
    /// Calling this from inside an async task blocks the runtime worker it
    /// runs on; use [`get`](Self::get) there.
    ///
    /// # Errors
    ///
    /// [`GetError::ShutDown`] once the queue is shut down and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let q = threadlet::Queue::new(0);
    /// let consumer = {
    ///     let q = q.clone();
    ///     std::thread::spawn(move || q.blocking_get())
    /// };
    /// q.put(42).await.unwrap();
    /// assert_eq!(consumer.join().unwrap(), Ok(42));
    /// # }
    /// ```
    pub fn blocking_get(&self) -> Result<T, GetError> {
        let _ = self.inner.items.blocking_acquire(None);
        self.take()
    }

    /// [`blocking_get`](Self::blocking_get) waiting at most `timeout`.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if no item arrived in time, [`GetError::ShutDown`]
    /// once the queue is shut down and empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use threadlet::error::GetError;
    ///
    /// let q = threadlet::Queue::<u8>::new(0);
    /// assert_eq!(q.blocking_get_timeout(Duration::from_millis(10)), Err(GetError::Empty));
    /// ```
    pub fn blocking_get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        match self.inner.items.blocking_acquire(deadline(timeout)) {
            Ok(false) => Err(GetError::Empty),
            Ok(true) | Err(_) => self.take(),
        }
    }

    /// Pops an item after taking its permit — or, once the queue is shut
    /// down, whatever is left — and frees its place.
    pub(super) fn take(&self) -> Result<T, GetError> {
        let item = sealed::Store::pop(&mut self.inner.state.lock().store);
        match item {
            Some(item) => {
                self.release_slot();
                Ok(item)
            }
            // Only a shutdown empties the store under a permit holder.
            None => Err(GetError::ShutDown),
        }
    }

    /// The `items` semaphore, for the stream.
    pub(super) fn items(&self) -> &RawSemaphore {
        &self.inner.items
    }

    /// The `slots` semaphore (`None`: unbounded), for the sink.
    pub(super) fn slots(&self) -> Option<&RawSemaphore> {
        self.inner.slots.as_ref()
    }

    // ----- task_done / join -----

    /// Marks one item taken with a get as done (Python's `task_done()`):
    /// when every item put has been marked done, [`join`](Self::join)
    /// returns.
    ///
    /// # Errors
    ///
    /// [`TaskDoneError`] if called more times than items were put; the count
    /// is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait("job").unwrap();
    /// let job = q.get_nowait().unwrap();
    /// // ... work on `job` ...
    /// q.task_done().unwrap();
    /// assert!(q.task_done().is_err()); // one more than was put
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut state = self.inner.state.lock();
        if state.unfinished == 0 {
            return Err(TaskDoneError);
        }
        state.unfinished -= 1;
        let all_done = state.unfinished == 0;
        drop(state);
        if all_done {
            self.inner.all_done.notify(usize::MAX);
        }
        Ok(())
    }

    /// Waits until every item put has been marked done with
    /// [`task_done`](Self::task_done) (Python's `join()`). Returns at once if
    /// nothing is unfinished; never fails, even after shutdown.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping it only gives up the wait.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let q = threadlet::Queue::new(0);
    /// let worker = {
    ///     let q = q.clone();
    ///     tokio::spawn(async move {
    ///         while let Ok(job) = q.get().await {
    ///             let _ = job * 2; // do the work
    ///             q.task_done().unwrap();
    ///         }
    ///     })
    /// };
    /// for job in 0..10 {
    ///     q.put(job).await.unwrap();
    /// }
    /// q.join().await;
    /// assert_eq!(q.unfinished_tasks(), 0);
    /// q.shutdown();
    /// worker.await.unwrap();
    /// # }
    /// ```
    pub async fn join(&self) {
        while self.unfinished_tasks() != 0 {
            // Registered before the re-check, so a last task_done in between
            // still wakes us.
            let waiter = self.inner.all_done.register();
            if self.unfinished_tasks() == 0 {
                return;
            }
            let _ = waiter.await;
        }
    }

    /// [`join`](Self::join) giving up after `timeout`: `true` if every item
    /// was marked done in time. (Python's `join()` has no timeout.)
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`join`](Self::join).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::time::Duration;
    ///
    /// let q = threadlet::Queue::new(0);
    /// q.put(1).await.unwrap();
    /// assert!(!q.join_timeout(Duration::from_millis(10)).await);
    /// q.get().await.unwrap();
    /// q.task_done().unwrap();
    /// assert!(q.join_timeout(Duration::from_millis(10)).await);
    /// # }
    /// ```
    pub async fn join_timeout(&self, timeout: Duration) -> bool {
        with_timeout(timeout, self.join()).await.is_some()
    }

    /// [`join`](Self::join) from a plain OS thread, blocking it.
    ///
    /// Calling this from inside an async task blocks the runtime worker it
    /// runs on; use [`join`](Self::join) there.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// let worker = {
    ///     let q = q.clone();
    ///     std::thread::spawn(move || {
    ///         q.blocking_get().unwrap();
    ///         q.task_done().unwrap();
    ///     })
    /// };
    /// q.blocking_join();
    /// worker.join().unwrap();
    /// ```
    pub fn blocking_join(&self) {
        while self.unfinished_tasks() != 0 {
            let waiter = self.inner.all_done.register();
            if self.unfinished_tasks() == 0 {
                return;
            }
            let _ = waiter.blocking(None);
        }
    }

    // ----- shutdown -----

    /// Shuts the queue down (Python 3.13's `shutdown()`): puts fail with
    /// [`PutError::ShutDown`] from now on, blocked putters wake with it, and
    /// gets return the items left, then fail with [`GetError::ShutDown`]
    /// (blocked getters wake with it once nothing is left). Idempotent; may
    /// follow or precede [`shutdown_immediate`](Self::shutdown_immediate).
    ///
    /// # Examples
    ///
    /// ```
    /// use threadlet::error::GetError;
    ///
    /// let q = threadlet::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.shutdown();
    /// assert!(q.put_nowait(2).unwrap_err().is_shut_down());
    /// assert_eq!(q.get_nowait(), Ok(1)); // drains what is left
    /// assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    /// ```
    pub fn shutdown(&self) {
        self.shut_down(false);
    }

    /// Shuts the queue down and drops every item left (Python 3.13's
    /// `shutdown(immediate=True)`): as [`shutdown`](Self::shutdown), but gets
    /// fail at once, and each dropped item counts as done — so
    /// [`join`](Self::join) returns as soon as the items already taken are
    /// marked done.
    ///
    /// The dropped items are dropped on the calling task, after the queue's
    /// lock is released.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use threadlet::error::GetError;
    ///
    /// let q = threadlet::Queue::new(0);
    /// for i in 0..3 {
    ///     q.put(i).await.unwrap();
    /// }
    /// let taken = q.get().await.unwrap();
    /// q.shutdown_immediate();
    /// assert_eq!(q.get_nowait(), Err(GetError::ShutDown)); // 1 and 2 were dropped
    /// assert_eq!(q.unfinished_tasks(), 1); // `taken` is not done yet
    /// q.task_done().unwrap();
    /// q.join().await;
    /// # }
    /// ```
    #[doc(alias = "shutdown(immediate=True)")]
    pub fn shutdown_immediate(&self) {
        self.shut_down(true);
    }

    fn shut_down(&self, immediate: bool) {
        let inner = &*self.inner;
        let mut state = inner.state.lock();
        state.shutdown = true;
        let dropped = if immediate {
            let dropped = std::mem::take(&mut state.store);
            let n = sealed::Store::len(&dropped);
            state.unfinished = state.unfinished.saturating_sub(n);
            inner.items.drain();
            Some(dropped)
        } else {
            None
        };
        let all_done = state.unfinished == 0;
        inner.items.close();
        if let Some(slots) = &inner.slots {
            slots.close();
        }
        drop(state);
        if immediate && all_done {
            inner.all_done.notify(usize::MAX);
        }
        drop(dropped);
    }
}

/// Loom models of the queue core (`RUSTFLAGS="--cfg threadlet_loom" cargo
/// test --lib queue::core::loom_models`): every interleaving of the state
/// mutex, the two semaphores and shutdown, through the blocking forms.
#[cfg(all(test, threadlet_loom))]
mod loom_models {
    use super::super::{Fifo, Lifo};
    use super::*;
    use loom::thread;

    #[test]
    fn bounded_handoff_keeps_order_and_capacity() {
        loom::model(|| {
            let q = BaseQueue::<u8, Fifo>::new(1);
            let producer = {
                let q = q.clone();
                thread::spawn(move || {
                    q.blocking_put(1).unwrap();
                    q.blocking_put(2).unwrap();
                })
            };
            assert!(q.len() <= 1);
            assert_eq!(q.blocking_get(), Ok(1));
            assert_eq!(q.blocking_get(), Ok(2));
            producer.join().unwrap();
            assert_eq!(q.len(), 0);
            assert_eq!(q.unfinished_tasks(), 2);
        });
    }

    #[test]
    fn shutdown_racing_a_put_loses_nothing() {
        loom::model(|| {
            let q = BaseQueue::<u8, Lifo>::new(1);
            let putter = {
                let q = q.clone();
                thread::spawn(move || q.blocking_put(1))
            };
            let closer = {
                let q = q.clone();
                thread::spawn(move || q.shutdown())
            };
            let put = putter.join().unwrap();
            closer.join().unwrap();
            match put {
                Ok(()) => assert_eq!(q.get_nowait(), Ok(1)),
                Err(e) => assert_eq!(e, PutError::ShutDown(1)),
            }
            assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
        });
    }

    #[test]
    fn shutdown_wakes_a_blocked_getter() {
        loom::model(|| {
            let q = BaseQueue::<u8, Fifo>::new(0);
            let getter = {
                let q = q.clone();
                thread::spawn(move || q.blocking_get())
            };
            q.shutdown();
            assert_eq!(getter.join().unwrap(), Err(GetError::ShutDown));
        });
    }

    #[test]
    fn join_returns_after_the_last_task_done() {
        loom::model(|| {
            let q = BaseQueue::<u8, Fifo>::new(0);
            q.put_nowait(1).unwrap();
            let worker = {
                let q = q.clone();
                thread::spawn(move || {
                    q.blocking_get().unwrap();
                    q.task_done().unwrap();
                })
            };
            q.blocking_join();
            assert_eq!(q.unfinished_tasks(), 0);
            worker.join().unwrap();
        });
    }
}
