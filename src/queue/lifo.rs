//! Last in, first out: the store of [`LifoQueue`](super::LifoQueue).

use super::core::Order;
use super::core::sealed::{Sealed, Store};

/// The LIFO ordering of [`LifoQueue`](super::LifoQueue): the item put last
/// leaves first, as Python's `queue.LifoQueue` (a list used as a stack).
///
/// A type-level marker only; it has no values.
#[derive(Debug, Clone, Copy)]
pub enum Lifo {}

impl Sealed for Lifo {}

impl<T> Order<T> for Lifo {
    type Store = Vec<T>;
    const NAME: &'static str = "LifoQueue";
}

impl<T> Store<T> for Vec<T> {
    fn push(&mut self, item: T) {
        Vec::push(self, item);
    }

    fn pop(&mut self) -> Option<T> {
        Vec::pop(self)
    }

    // `push_back`/`push` and `pop_front`/`pop` run no user code (I7).
    const PLAIN: bool = true;

    fn len(&self) -> usize {
        Vec::len(self)
    }
}
