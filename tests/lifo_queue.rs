//! `threadlet::LifoQueue`: Python's `queue.LifoQueue` — the same core as
//! `Queue`, last in first out.

use std::time::Duration;

use threadlet::LifoQueue;
use threadlet::error::{GetError, PutError};
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

#[test]
fn last_in_first_out() {
    let q = LifoQueue::new(0);
    for i in 0..5 {
        q.put_nowait(i).unwrap();
    }
    let out: Vec<_> = std::iter::from_fn(|| q.get_nowait().ok()).collect();
    assert_eq!(out, [4, 3, 2, 1, 0]);
}

#[test]
fn bounded_lifo_reports_full_and_frees_a_place_per_get() {
    let q = LifoQueue::new(2);
    q.put_nowait('a').unwrap();
    q.put_nowait('b').unwrap();
    assert!(q.is_full());
    assert_eq!(q.put_nowait('c'), Err(PutError::Full('c')));
    assert_eq!(q.get_nowait(), Ok('b'));
    q.put_nowait('c').unwrap();
    assert_eq!(q.get_nowait(), Ok('c'));
    assert_eq!(q.get_nowait(), Ok('a'));
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
}

#[test]
fn a_blocked_getter_takes_the_newest_item_when_it_runs() {
    let q = LifoQueue::new(0);
    let mut g = spawn(q.get());
    assert_pending!(g.poll());
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert!(g.is_woken());
    assert_eq!(assert_ready!(g.poll()), Ok(2));
    assert_eq!(q.get_nowait(), Ok(1));
}

#[test]
fn blocked_putters_are_served_in_fifo_order() {
    let q = LifoQueue::new(1);
    q.put_nowait(0).unwrap();
    let mut a = spawn(q.put(1));
    let mut b = spawn(q.put(2));
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    assert_eq!(q.get_nowait(), Ok(0));
    assert!(a.is_woken() && !b.is_woken());
    assert_ready!(a.poll()).unwrap();
    assert_eq!(q.get_nowait(), Ok(1));
    assert_ready!(b.poll()).unwrap();
    assert_eq!(q.get_nowait(), Ok(2));
}

#[tokio::test(start_paused = true)]
async fn timeouts_and_join_work_as_for_fifo() {
    let q = LifoQueue::new(1);
    q.put(1).await.unwrap();
    assert!(
        q.put_timeout(2, Duration::from_secs(1))
            .await
            .unwrap_err()
            .is_full()
    );
    assert!(!q.join_timeout(Duration::from_secs(1)).await);
    assert_eq!(q.get_timeout(Duration::from_secs(1)).await, Ok(1));
    q.task_done().unwrap();
    q.join().await;
    assert_eq!(
        q.get_timeout(Duration::from_secs(1)).await,
        Err(GetError::Empty)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_lifo_loses_and_duplicates_nothing() {
    let q = LifoQueue::new(4);
    let producers: Vec<_> = (0..4u32)
        .map(|p| {
            let q = q.clone();
            tokio::spawn(async move {
                for i in 0..2_000 {
                    q.put(p * 10_000 + i).await.unwrap();
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
    let expected: Vec<u32> = (0..4u32)
        .flat_map(|p| (0..2_000).map(move |i| p * 10_000 + i))
        .collect();
    assert_eq!(all, expected);
}
