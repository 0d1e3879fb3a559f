//! The waiter list: a FIFO of waiters threaded through a slab, with the
//! sleeper cursor, arrival numbers and the shrink after a burst. It knows
//! nothing of permits or modes (that is [`semaphore`](super::semaphore) and
//! [`mode`](super::mode)); every method runs with the list's lock held.
//!
//! The invariants it keeps are named in the [wait layer's
//! docs](super#invariants): `[I-fifo]`, `[I-sleeper]`, `[I-slot]`,
//! `[I-drain]`, `[I-wake-unlocked]`.

use std::task::Waker;
use std::time::Instant;

use crate::wait::loom::planted;

/// How to wake a parked waiter (a blocked OS thread is woken through a
/// waker too: see `wait::blocking`).
#[derive(Debug)]
pub(super) enum Wake {
    None,
    Task(Waker),
}

impl Wake {
    pub(super) fn wake(self) {
        match self {
            Wake::None => {}
            Wake::Task(waker) => waker.wake(),
        }
    }
}

/// Who is polling: a task, or an OS thread in `wait::blocking`'s driver,
/// with its waker.
#[derive(Clone, Copy)]
pub(super) enum Source<'a> {
    Task(&'a Waker),
}

impl Source<'_> {
    /// Stores this source's wake handle in `slot` unless it is already there.
    pub(super) fn store(self, slot: &mut Wake) {
        match (self, &*slot) {
            (Source::Task(new), Wake::Task(old)) if old.will_wake(new) => {}
            (Source::Task(new), _) => *slot = Wake::Task(new.clone()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Queued, asleep.
    Waiting,
    /// Queued and woken: a permit was put in the counter for it to take.
    Notified,
    /// Out of the queue, holding a permit (or a notification) handed over directly.
    Granted,
    /// Out of the queue: the semaphore was closed.
    Closed,
}

pub(super) const NIL: usize = usize::MAX;

/// The first arrival number: nodes pushed at the back count up from it, nodes
/// pushed at the front count down below it.
const SEQ_START: u64 = 1 << 63;

/// Below every arrival number pushed at the back: the drain epoch of a
/// semaphore that has drained nobody yet (`[I-drain]`).
pub(super) const NONE_DRAINED: u64 = SEQ_START - 1;

/// A slab grown past this many slots is given back once no waiter is left.
const SHRINK_ABOVE: usize = 1024;
/// The room a shrunk slab keeps.
pub(super) const SHRINK_TO: usize = 64;

#[derive(Debug)]
pub(super) struct Node {
    prev: usize,
    next: usize,
    pub(super) state: State,
    /// Its place in arrival order (for re-inserting the sleeper cursor).
    seq: u64,
    /// When it was first woken and found its permit taken by a barger.
    pub(super) passed_over: Option<Instant>,
    pub(super) wake: Wake,
}

#[derive(Debug)]
pub(super) enum Slot {
    Used(Node),
    Free { next_free: usize },
}

/// A FIFO of waiters: a doubly linked list threaded through a slab, so a
/// cancelled waiter leaves from the middle in O(1) and slots are reused
/// (no allocation per wait once the slab has grown; a slab grown past
/// [`SHRINK_ABOVE`] by a burst is given back once no waiter is left).
///
/// Woken (`Notified`) waiters stay linked until they run, so the oldest
/// *sleeper* is not always the head: `sleeper` points at it, and moves
/// forward past woken nodes only, so handing out N permits to N sleepers
/// visits O(N) nodes in all, never rescanning those already woken.
#[derive(Debug)]
pub(super) struct List {
    pub(super) slots: Vec<Slot>,
    free: usize,
    pub(super) head: usize,
    tail: usize,
    /// Nodes in the linked FIFO (states `Waiting` and `Notified`).
    pub(super) linked: usize,
    /// Linked nodes in state `Notified`.
    pub(super) notified: usize,
    /// Slots in use (linked, or granted/closed and not yet collected).
    pub(super) used: usize,
    /// The oldest linked node in state `Waiting` (`NIL` if none): every
    /// linked node before it is `Notified`.
    sleeper: usize,
    /// The `seq` of the next node pushed at the back.
    next_seq: u64,
    /// The `seq` of the last node pushed at the front (counts down from
    /// below `next_seq`'s start, so `seq` order is list order).
    first_seq: u64,
    /// Test-only: list nodes visited while looking for a sleeper.
    #[cfg(test)]
    pub(super) visits: usize,
}

impl List {
    pub(super) const fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            linked: 0,
            notified: 0,
            used: 0,
            sleeper: NIL,
            next_seq: SEQ_START,
            first_seq: SEQ_START,
            #[cfg(test)]
            visits: 0,
        }
    }

    pub(super) fn node(&mut self, key: usize) -> &mut Node {
        match &mut self.slots[key] {
            Slot::Used(node) => node,
            Slot::Free { .. } => unreachable!("waiter slot {key} is free"),
        }
    }

    /// Appends a new `Waiting` node and returns its key.
    pub(super) fn push_back(&mut self, wake: Wake) -> usize {
        let node = Node {
            prev: self.tail,
            next: NIL,
            state: State::Waiting,
            seq: self.next_seq,
            passed_over: None,
            wake,
        };
        // [I-fifo]: arrival numbers count up at the tail.
        self.next_seq += 1;
        let key = if self.free == NIL {
            self.slots.push(Slot::Used(node));
            self.slots.len() - 1
        } else {
            let key = self.free;
            if let Slot::Free { next_free } = self.slots[key] {
                self.free = next_free;
            }
            self.slots[key] = Slot::Used(node);
            key
        };
        if self.tail == NIL {
            self.head = key;
        } else {
            self.node(self.tail).next = key;
        }
        self.tail = key;
        self.linked += 1;
        self.used += 1;
        // [I-sleeper]: the only sleeper, so the oldest.
        if self.sleeper == NIL {
            self.sleeper = key;
        }
        key
    }

    /// The first `Waiting` node after `key` in the FIFO (`NIL` if none).
    /// Only woken nodes are stepped over.
    fn next_sleeper(&mut self, key: usize) -> usize {
        let mut key = self.node(key).next;
        while key != NIL {
            #[cfg(test)]
            {
                self.visits += 1;
            }
            let node = self.node(key);
            if node.state == State::Waiting {
                break;
            }
            key = node.next;
        }
        key
    }

    /// Links a new `Waiting` node at the head of the FIFO and returns its key
    /// (a queue's woken waiter that found its item taken goes back first).
    pub(super) fn push_front(&mut self, wake: Wake) -> usize {
        let key = self.push_back(wake);
        if self.head != key {
            // Move it from the tail to the head.
            let prev = self.node(key).prev;
            self.node(prev).next = NIL;
            self.tail = prev;
            let head = self.head;
            let node = self.node(key);
            node.prev = NIL;
            node.next = head;
            self.node(head).prev = key;
            self.head = key;
        }
        // It is now the oldest node, and asleep: the sleeper cursor, with an
        // arrival number below every other linked node's (keeps `seq` in
        // list order, which `resleep` relies on) ([I-fifo], [I-sleeper]).
        self.first_seq -= 1;
        self.node(key).seq = self.first_seq;
        self.sleeper = key;
        key
    }

    /// Moves the sleeper cursor off `key`, which stops sleeping.
    fn leave_sleepers(&mut self, key: usize) {
        // [I-sleeper]: forward, past woken nodes only.
        if self.sleeper == key {
            self.sleeper = self.next_sleeper(key);
        }
    }

    /// A woken linked node goes back to sleep (it lost its permit to a
    /// barger); it becomes the sleeper cursor if it is older than it.
    pub(super) fn resleep(&mut self, key: usize) -> &mut Node {
        self.notified -= 1;
        let sleeper_seq = match self.sleeper {
            NIL => u64::MAX,
            sleeper => self.node(sleeper).seq,
        };
        let node = self.node(key);
        node.state = State::Waiting;
        // [I-sleeper]: an older sleeper becomes the cursor.
        if node.seq < sleeper_seq && !planted("lost-sleeper") {
            self.sleeper = key;
        }
        self.node(key)
    }

    /// Takes a linked node out of the FIFO (its slot stays in use).
    pub(super) fn unlink(&mut self, key: usize) {
        self.leave_sleepers(key);
        let (prev, next, state) = {
            let node = self.node(key);
            let links = (node.prev, node.next, node.state);
            node.prev = NIL;
            node.next = NIL;
            links
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.node(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.node(next).prev = prev;
        }
        self.linked -= 1;
        if state == State::Notified {
            self.notified -= 1;
        }
    }

    /// Returns an unlinked node's slot to the free list.
    pub(super) fn release_slot(&mut self, key: usize) {
        self.slots[key] = Slot::Free {
            next_free: self.free,
        };
        self.free = key;
        self.used -= 1;
        // [I-slot]: only when no waiter holds a key.
        if self.used == 0 && self.slots.capacity() > SHRINK_ABOVE {
            // The burst is over: give its memory back. Keys are only held by
            // waiters, and none is left.
            self.slots.clear();
            self.slots.shrink_to(SHRINK_TO);
            self.free = NIL;
        }
    }

    /// The oldest linked node that is asleep (not already woken): O(1).
    pub(super) fn first_waiting(&self) -> Option<usize> {
        (self.sleeper != NIL).then_some(self.sleeper)
    }

    /// The arrival number of the node last pushed at the back.
    pub(super) fn last_seq(&self) -> u64 {
        self.next_seq - 1
    }

    /// A notification in [`Mode::Discard`](super::Mode::Discard): unlinks up
    /// to `n` nodes from the head in one pass, collects their wake handles
    /// and returns their slots to the slab. Returns how many, and the
    /// arrival number of the last one: every drained node's `seq` is at
    /// most that and every node still linked has a larger one (drains go
    /// from the head, and nodes are only pushed at the back in this mode),
    /// which is how the owners of the drained keys learn it and never touch
    /// them again (`[I-drain]`).
    pub(super) fn drain_front(&mut self, n: usize, wakes: &mut Wakes) -> (usize, u64) {
        let drained = n.min(self.linked);
        // Every slot in use is drained: the whole slab goes at once.
        let whole = self.used == drained;
        let mut key = self.head;
        let mut last = NONE_DRAINED;
        for _ in 0..drained {
            let node = self.node(key);
            let next = node.next;
            last = node.seq;
            wakes.push(std::mem::replace(&mut node.wake, Wake::None));
            if !whole {
                self.slots[key] = Slot::Free {
                    next_free: self.free,
                };
                self.free = key;
            }
            key = next;
        }
        self.head = key;
        if key == NIL {
            self.tail = NIL;
        } else {
            self.node(key).prev = NIL;
        }
        // No node is `Notified` in this mode: the cursor is the new head.
        self.sleeper = key;
        self.linked -= drained;
        self.used -= drained;
        if whole {
            // [I-slot]: no waiter holds a key any more.
            self.slots.clear();
            self.free = NIL;
            if self.slots.capacity() > SHRINK_ABOVE {
                self.slots.shrink_to(SHRINK_TO);
            }
        }
        (drained, last)
    }

    /// Unlinks `key` and marks it `Granted`; returns its wake handle.
    pub(super) fn grant(&mut self, key: usize) -> Wake {
        self.unlink(key);
        let node = self.node(key);
        node.state = State::Granted;
        std::mem::replace(&mut node.wake, Wake::None)
    }

    /// Marks a linked `Waiting` node `Notified`; returns its wake handle.
    pub(super) fn notify(&mut self, key: usize) -> Wake {
        self.leave_sleepers(key);
        self.notified += 1;
        let node = self.node(key);
        node.state = State::Notified;
        std::mem::replace(&mut node.wake, Wake::None)
    }
}

/// Wake handles collected under the list's lock, woken after it is released
/// (`[I-wake-unlocked]`).
#[derive(Debug, Default)]
pub(super) struct Wakes {
    first: Option<Wake>,
    rest: Vec<Wake>,
}

impl Wakes {
    pub(super) fn push(&mut self, wake: Wake) {
        if self.first.is_none() {
            self.first = Some(wake);
        } else {
            self.rest.push(wake);
        }
    }

    pub(super) fn wake_all(self) {
        if let Some(first) = self.first {
            first.wake();
        }
        // Most notifications wake one waiter: no iterator to set up and drop.
        if !self.rest.is_empty() {
            for wake in self.rest {
                wake.wake();
            }
        }
    }
}
