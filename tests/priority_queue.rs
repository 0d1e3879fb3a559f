//! `threadlet::PriorityQueue`: Python's `queue.PriorityQueue` (smallest
//! first, as `heapq`) — and, unlike Python's, stable: items that compare
//! equal leave in the order they were put.

use std::cmp::{Ordering, Reverse};

use threadlet::PriorityQueue;
use threadlet::error::GetError;
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

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

fn drain<T: Ord>(q: &PriorityQueue<T>) -> Vec<T> {
    std::iter::from_fn(|| q.get_nowait().ok()).collect()
}

#[test]
fn smallest_first_like_heapq() {
    let q = PriorityQueue::new(0);
    for p in [5, 1, 4, 2, 3, 1] {
        q.put_nowait(p).unwrap();
    }
    assert_eq!(drain(&q), [1, 1, 2, 3, 4, 5]);
}

#[test]
fn tuples_order_by_priority_then_payload() {
    let q = PriorityQueue::new(0);
    q.put_nowait((2, "b")).unwrap();
    q.put_nowait((1, "z")).unwrap();
    q.put_nowait((2, "a")).unwrap();
    assert_eq!(drain(&q), [(1, "z"), (2, "a"), (2, "b")]);
}

#[test]
fn reverse_gives_largest_first() {
    let q = PriorityQueue::new(0);
    for p in [1, 3, 2] {
        q.put_nowait(Reverse(p)).unwrap();
    }
    assert_eq!(drain(&q), [Reverse(3), Reverse(2), Reverse(1)]);
}

#[test]
fn equal_priorities_leave_in_insertion_order() {
    let q = PriorityQueue::new(0);
    let jobs: Vec<Job> = (0..1_000)
        .map(|id| Job {
            priority: (id * 7 % 3) as u8,
            id,
        })
        .collect();
    for job in &jobs {
        q.put_nowait(*job).unwrap();
    }
    let mut expected = jobs.clone();
    expected.sort_by_key(|j| j.priority); // a stable sort
    assert_eq!(drain(&q), expected);
}

#[test]
fn a_blocked_getter_takes_the_smallest_item_when_it_runs() {
    let q = PriorityQueue::new(0);
    let mut g = spawn(q.get());
    assert_pending!(g.poll());
    q.put_nowait(9).unwrap();
    q.put_nowait(3).unwrap();
    assert_eq!(assert_ready!(g.poll()), Ok(3));
    assert_eq!(q.get_nowait(), Ok(9));
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
}

#[test]
fn bounded_priority_queue_keeps_its_capacity() {
    let q = PriorityQueue::new(2);
    q.put_nowait(5).unwrap();
    q.put_nowait(1).unwrap();
    assert!(q.put_nowait(0).unwrap_err().is_full());
    assert_eq!(q.get_nowait(), Ok(1));
    q.put_nowait(0).unwrap();
    assert_eq!(drain(&q), [0, 5]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_priority_queue_loses_and_duplicates_nothing() {
    let q = PriorityQueue::new(16);
    let producers: Vec<_> = (0..4u32)
        .map(|p| {
            let q = q.clone();
            tokio::spawn(async move {
                for i in 0..2_000u32 {
                    q.put((i % 10, p, i)).await.unwrap();
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move {
                let mut got = Vec::new();
                while let Ok(item) = q.get().await {
                    got.push(item);
                }
                got
            })
        })
        .collect();
    for p in producers {
        p.await.unwrap();
    }
    q.shutdown();
    let mut all = Vec::new();
    for c in consumers {
        all.extend(c.await.unwrap());
    }
    all.sort_unstable();
    let mut expected: Vec<_> = (0..4u32)
        .flat_map(|p| (0..2_000u32).map(move |i| (i % 10, p, i)))
        .collect();
    expected.sort_unstable();
    assert_eq!(all, expected);
}
