//! First in, first out: the store of [`Queue`](super::Queue).

use std::collections::VecDeque;

use super::core::Order;
use super::core::sealed::{Sealed, Store};

/// The FIFO ordering of [`Queue`](super::Queue): items leave in the order
/// they were put, as Python's `queue.Queue` (a `deque`).
///
/// A type-level marker only; it has no values.
#[derive(Debug, Clone, Copy)]
pub enum Fifo {}

impl Sealed for Fifo {}

impl<T> Order<T> for Fifo {
    type Store = VecDeque<T>;
    const NAME: &'static str = "Queue";
}

impl<T> Store<T> for VecDeque<T> {
    fn push(&mut self, item: T) {
        self.push_back(item);
    }

    fn pop(&mut self) -> Option<T> {
        self.pop_front()
    }

    // `push_back`/`push` and `pop_front`/`pop` run no user code (I7).
    const PLAIN: bool = true;

    fn len(&self) -> usize {
        VecDeque::len(self)
    }
}
