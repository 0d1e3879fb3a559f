//! The queue as a [`futures_core::Stream`] for consumers and a
//! [`futures_sink::Sink`] for producers.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use futures_sink::Sink;

use super::core::{BaseQueue, Order, Step};
use super::error::PutError;
use crate::wait::Parked;

impl<T, O: Order<T>> BaseQueue<T, O> {
    /// A [`Stream`] of the items of this queue: each `next()` is a
    /// [`get`](BaseQueue::get), and the stream ends once the queue is shut
    /// down and drained.
    ///
    /// The stream holds its own handle, so it can move into a task; several
    /// streams (and plain getters) over one queue share the items, each item
    /// going to exactly one of them.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futures::StreamExt;
    ///
    /// let q = threadlet::Queue::new(0);
    /// for i in 1..=3 {
    ///     q.put(i).await.unwrap();
    /// }
    /// q.shutdown();
    /// let items: Vec<i32> = q.stream().collect().await;
    /// assert_eq!(items, [1, 2, 3]);
    /// # }
    /// ```
    pub fn stream(&self) -> QueueStream<T, O> {
        QueueStream {
            queue: self.clone(),
            waiting: Parked::default(),
            done: false,
        }
    }

    /// A [`Sink`] putting into this queue: `poll_ready` waits for a free
    /// place (and holds it), `start_send` puts. The sink's error is
    /// [`PutError`], which hands the item back.
    ///
    /// Closing the sink gives back a place it held but does not shut the
    /// queue down (other producers may still be putting); call
    /// [`shutdown`](BaseQueue::shutdown) for that.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use futures::{SinkExt, StreamExt};
    ///
    /// let q = threadlet::Queue::new(2);
    /// let consumer = tokio::spawn(q.stream().collect::<Vec<u32>>());
    /// let mut sink = q.sink();
    /// sink.send_all(&mut futures::stream::iter(0..10).map(Ok)).await.unwrap();
    /// q.shutdown();
    /// assert_eq!(consumer.await.unwrap(), (0..10).collect::<Vec<_>>());
    /// # }
    /// ```
    pub fn sink(&self) -> QueueSink<T, O> {
        QueueSink {
            queue: self.clone(),
            waiting: Parked::default(),
            reserved: false,
        }
    }
}

/// A [`Stream`] over a queue's items, made by [`BaseQueue::stream`]; it ends
/// once the queue is shut down and drained.
///
/// # Cancel safety
///
/// A pending `next()` that is dropped takes no item. The stream itself keeps
/// its place in the line of waiting getters until it is polled again or
/// dropped — so it may be handed the next item's wake-up meanwhile. Dropping
/// the stream passes such a wake-up on to the next getter; don't keep a
/// pending stream around unpolled while getting from the same queue by other
/// means (a `select!` loop should create the stream once, outside the loop,
/// and keep polling it, or drop it).
#[must_use = "streams do nothing unless polled"]
pub struct QueueStream<T, O: Order<T>> {
    queue: BaseQueue<T, O>,
    /// Our slot in the getters' wait list while waiting.
    waiting: Parked,
    done: bool,
}

impl<T, O: Order<T>> Stream for QueueStream<T, O> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let mut again = false;
        loop {
            if this.waiting.is_waiting() {
                // Woken (or the queue was shut down): try again.
                if this.waiting.poll(this.queue.waiters().0, cx).is_pending() {
                    return Poll::Pending;
                }
                again = true;
            }
            match this.queue.get_step(true, again) {
                Step::Done(Ok(item)) => return Poll::Ready(Some(item)),
                Step::Done(Err(_shut_down)) => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Step::Wait((), waiter) => this.waiting.hold(waiter),
            }
        }
    }
}

impl<T, O: Order<T>> FusedStream for QueueStream<T, O> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T, O: Order<T>> Drop for QueueStream<T, O> {
    fn drop(&mut self) {
        self.waiting.cancel(self.queue.waiters().0);
    }
}

impl<T, O: Order<T>> fmt::Debug for QueueStream<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueStream")
            .field("queue", &self.queue)
            .field("waiting", &self.waiting.is_waiting())
            .field("done", &self.done)
            .finish()
    }
}

/// A [`Sink`] putting into a queue, made by [`BaseQueue::sink`].
///
/// # Cancel safety
///
/// Dropping the sink, or a pending `send`, inserts nothing that was not
/// already sent; a place it held or had been handed passes to the next putter.
#[must_use = "sinks do nothing unless polled"]
pub struct QueueSink<T, O: Order<T>> {
    queue: BaseQueue<T, O>,
    /// Our slot in the putters' wait list while waiting for a place.
    waiting: Parked,
    /// We hold a free place for the next `start_send`.
    reserved: bool,
}

impl<T, O: Order<T>> Sink<T> for QueueSink<T, O> {
    type Error = PutError<T>;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        let this = self.get_mut();
        if this.reserved || this.queue.maxsize() == 0 {
            return Poll::Ready(Ok(())); // held already, or unbounded: always room
        }
        let mut again = false;
        loop {
            if this.waiting.is_waiting() {
                if this.waiting.poll(this.queue.waiters().1, cx).is_pending() {
                    return Poll::Pending;
                }
                again = true;
            }
            match this.queue.reserve_step(again) {
                // Shut down: ready anyway; `start_send` reports it and hands
                // the item back.
                Ok(held) => {
                    this.reserved = held;
                    return Poll::Ready(Ok(()));
                }
                Err(waiter) => this.waiting.hold(waiter),
            }
        }
    }

    fn start_send(self: Pin<&mut Self>, item: T) -> Result<(), Self::Error> {
        let this = self.get_mut();
        if std::mem::take(&mut this.reserved) {
            this.queue.put_reserved(item)
        } else {
            this.queue.put_nowait(item)
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().give_back();
        Poll::Ready(Ok(()))
    }
}

impl<T, O: Order<T>> QueueSink<T, O> {
    /// Leaves the wait list and returns a held place.
    fn give_back(&mut self) {
        self.waiting.cancel(self.queue.waiters().1);
        if std::mem::take(&mut self.reserved) {
            self.queue.unreserve();
        }
    }
}

impl<T, O: Order<T>> Drop for QueueSink<T, O> {
    fn drop(&mut self) {
        self.give_back();
    }
}

impl<T, O: Order<T>> fmt::Debug for QueueSink<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueSink")
            .field("queue", &self.queue)
            .field("waiting", &self.waiting.is_waiting())
            .field("reserved", &self.reserved)
            .finish()
    }
}
