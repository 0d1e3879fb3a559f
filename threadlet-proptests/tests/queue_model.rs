//! Model-based property tests of the three queue orderings against simple
//! sequential models (`VecDeque`, `Vec`, a stable binary heap written as a
//! sorted `Vec`), covering `maxsize`, `task_done` / `join` counts and both
//! shutdown modes (Python 3.13 semantics, see PYTHON_SEMANTICS.md §1.9);
//! then longer runs of plain puts and gets against a `Vec` stack (LIFO) and
//! a stable min model (priority: among equal priorities, first put first).

use std::cmp::Ordering;
use std::collections::VecDeque;

use proptest::prelude::*;
use threadlet::error::{GetError, PutError, TaskDoneError};
use threadlet::{LifoQueue, PriorityQueue, Queue};

#[derive(Debug, Clone)]
enum Op {
    Put(u8),
    Get,
    TaskDone,
    Shutdown { immediate: bool },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => any::<u8>().prop_map(|v| Op::Put(v % 8)),
        5 => Just(Op::Get),
        3 => Just(Op::TaskDone),
        1 => any::<bool>().prop_map(|immediate| Op::Shutdown { immediate }),
    ]
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Fifo,
    Lifo,
    Priority,
}

/// The sequential account: items in order of leaving, plus Python's counters.
struct Model {
    kind: Kind,
    items: VecDeque<(u8, u64)>,
    seq: u64,
    maxsize: usize,
    unfinished: usize,
    shut_down: bool,
}

impl Model {
    fn put(&mut self, v: u8) -> Result<(), PutError<u8>> {
        if self.shut_down {
            return Err(PutError::ShutDown(v));
        }
        if self.maxsize > 0 && self.items.len() >= self.maxsize {
            return Err(PutError::Full(v));
        }
        self.seq += 1;
        let entry = (v, self.seq);
        match self.kind {
            Kind::Fifo | Kind::Lifo => self.items.push_back(entry),
            // Smallest first; equal priorities in insertion order.
            Kind::Priority => {
                let at = self.items.partition_point(|&(p, s)| (p, s) <= entry);
                self.items.insert(at, entry);
            }
        }
        self.unfinished += 1;
        Ok(())
    }

    fn get(&mut self) -> Result<u8, GetError> {
        let item = match self.kind {
            Kind::Lifo => self.items.pop_back(),
            Kind::Fifo | Kind::Priority => self.items.pop_front(),
        };
        match item {
            Some((v, _)) => Ok(v),
            None if self.shut_down => Err(GetError::ShutDown),
            None => Err(GetError::Empty),
        }
    }

    fn task_done(&mut self) -> Result<(), TaskDoneError> {
        if self.unfinished == 0 {
            return Err(TaskDoneError);
        }
        self.unfinished -= 1;
        Ok(())
    }

    fn shutdown(&mut self, immediate: bool) {
        self.shut_down = true;
        if immediate {
            // Python drops what is left, counting each dropped item as done.
            for _ in self.items.drain(..) {
                self.unfinished = self.unfinished.saturating_sub(1);
            }
        }
    }
}

macro_rules! model_test {
    ($name:ident, $queue:ident, $kind:expr) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn $name(maxsize in 0usize..4, ops in proptest::collection::vec(op(), 0..60)) {
                let q = $queue::<u8>::new(maxsize);
                let mut m = Model {
                    kind: $kind, items: VecDeque::new(), seq: 0, maxsize,
                    unfinished: 0, shut_down: false,
                };
                for op in ops {
                    match op {
                        Op::Put(v) => prop_assert_eq!(q.put_nowait(v), m.put(v)),
                        Op::Get => prop_assert_eq!(q.get_nowait(), m.get()),
                        Op::TaskDone => prop_assert_eq!(q.task_done(), m.task_done()),
                        Op::Shutdown { immediate } => {
                            if immediate { q.shutdown_immediate() } else { q.shutdown() }
                            m.shutdown(immediate);
                        }
                    }
                    prop_assert_eq!(q.len(), m.items.len());
                    prop_assert_eq!(q.is_empty(), m.items.is_empty());
                    prop_assert_eq!(q.is_full(), maxsize > 0 && m.items.len() >= maxsize);
                    prop_assert_eq!(q.unfinished_tasks(), m.unfinished);
                    prop_assert_eq!(q.is_shutdown(), m.shut_down);
                }
                // `join` returns at once exactly when the model says all are done.
                let joined = tokio::runtime::Builder::new_current_thread()
                    .enable_time().start_paused(true).build().unwrap()
                    .block_on(q.join_timeout(std::time::Duration::from_secs(1)));
                prop_assert_eq!(joined, m.unfinished == 0);
            }
        }
    };
}

model_test!(fifo_matches_vecdeque, Queue, Kind::Fifo);
model_test!(lifo_matches_vec, LifoQueue, Kind::Lifo);
model_test!(priority_matches_stable_heap, PriorityQueue, Kind::Priority);

// ===== LIFO: a plain `Vec` stack =====

proptest! {
    /// Any interleaving of puts and gets behaves as a plain `Vec` stack.
    #[test]
    fn behaves_like_a_stack(ops in proptest::collection::vec(any::<Option<u16>>(), 0..200)) {
        let q = LifoQueue::new(0);
        let mut model = Vec::new();
        for op in ops {
            match op {
                Some(v) => {
                    q.put_nowait(v).unwrap();
                    model.push(v);
                }
                None => prop_assert_eq!(q.get_nowait().ok(), model.pop()),
            }
            prop_assert_eq!(q.len(), model.len());
        }
    }
}

// ===== priority: stable among equal priorities =====

/// Ordered by `priority` only: `id` is the payload that shows stability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Job {
    priority: u8,
    id: u32,
}

impl Ord for Job {
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority.cmp(&other.priority)
    }
}

impl PartialOrd for Job {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

proptest! {
    /// Any interleaving of puts and gets matches a reference model: take the
    /// smallest priority, and among equals the one put first.
    #[test]
    fn matches_a_stable_min_model(ops in proptest::collection::vec(any::<Option<u8>>(), 0..300)) {
        let q = PriorityQueue::new(0);
        let mut model: Vec<Job> = Vec::new();
        let mut next_id = 0;
        for op in ops {
            match op {
                Some(p) => {
                    let job = Job { priority: p % 4, id: next_id };
                    next_id += 1;
                    q.put_nowait(job).unwrap();
                    model.push(job);
                }
                None => {
                    // `min_by_key` returns the first of equal minima.
                    let expected = model
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, j)| j.priority)
                        .map(|(i, _)| i)
                        .map(|i| model.remove(i));
                    let got = q.get_nowait().ok();
                    prop_assert_eq!(got.map(|j| j.id), expected.map(|j| j.id));
                }
            }
            prop_assert_eq!(q.len(), model.len());
        }
    }
}
