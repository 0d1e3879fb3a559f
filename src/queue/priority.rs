//! Smallest first, stable: the store of [`PriorityQueue`](super::PriorityQueue).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::core::Order;
use super::core::sealed::{Sealed, Store};

/// The priority ordering of [`PriorityQueue`](super::PriorityQueue): the
/// smallest item (by [`Ord`]) leaves first, as Python's `heapq`-based
/// `queue.PriorityQueue`; items that compare equal leave in the order they
/// were put (Python does not promise this; threadlet does).
///
/// A type-level marker only; it has no values.
#[derive(Debug, Clone, Copy)]
pub enum Priority {}

impl Sealed for Priority {}

impl<T: Ord> Order<T> for Priority {
    type Store = Heap<T>;
    const NAME: &'static str = "PriorityQueue";
}

/// A binary heap of items tagged with their insertion number, so that equal
/// items keep their insertion order.
#[derive(Debug)]
pub struct Heap<T> {
    heap: BinaryHeap<Entry<T>>,
    next_seq: u64,
}

impl<T: Ord> Default for Heap<T> {
    fn default() -> Self {
        Self {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

#[derive(Debug)]
struct Entry<T> {
    item: T,
    seq: u64,
}

impl<T: Ord> Ord for Entry<T> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the smallest item,
    /// and of equal items the one put first.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .item
            .cmp(&self.item)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

impl<T: Ord> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: Ord> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T: Ord> Eq for Entry<T> {}

impl<T: Ord> Store<T> for Heap<T> {
    fn push(&mut self, item: T) {
        let seq = self.next_seq;
        // u64 insertion numbers cannot wrap in practice (584 years at 1 GHz).
        self.next_seq += 1;
        self.heap.push(Entry { item, seq });
    }

    fn pop(&mut self) -> Option<T> {
        self.heap.pop().map(|entry| entry.item)
    }

    fn len(&self) -> usize {
        self.heap.len()
    }
}
