//! `threadlet::process::Queue`: items between real processes of this test
//! binary, exactly once, and clean errors (never a hang) when a peer dies.
#![cfg(all(feature = "process", target_os = "linux"))]

use std::collections::HashSet;
use std::time::Duration;

use threadlet::error::ProcessQueueError;
use threadlet::process::{self, Queue};

// ===== targets =====

fn produce((q, id, n): (Queue<(u32, u32)>, u32, u32)) {
    for i in 0..n {
        q.blocking_put((id, i)).unwrap();
    }
}

fn consume_sum((q, n): (Queue<u64>, u64)) -> u64 {
    (0..n).map(|_| q.blocking_get().unwrap()).sum()
}

/// Creates a queue (so this child owns it), returns its handle, and exits.
fn owner_that_exits(_: ()) -> Queue<u8> {
    let q = Queue::new(0).unwrap();
    q.blocking_put(1).unwrap();
    q
}

/// Waits for one item forever (until killed).
fn wait_for_item(q: Queue<String>) -> String {
    q.blocking_get().unwrap()
}

fn targets() {
    process::register(produce);
    process::register(consume_sum);
    process::register(owner_that_exits);
    process::register(wait_for_item);
}

process::test_support!(targets);

// ===== tests =====

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_producers_ten_thousand_items_each_arrive_exactly_once() {
    threadlet_process_setup();
    const N: u32 = 10_000;
    let q: Queue<(u32, u32)> = Queue::new(0).unwrap();
    let producers: Vec<_> = (0..4)
        .map(|id| process::spawn_process(produce, (q.clone(), id, N)).unwrap())
        .collect();
    let consumer = q.clone();
    let got = tokio::task::spawn_blocking(move || {
        (0..4 * N)
            .map(|_| consumer.blocking_get().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for p in &producers {
        p.join().await.unwrap();
    }
    let distinct: HashSet<_> = got.iter().copied().collect();
    assert_eq!(distinct.len(), (4 * N) as usize, "duplicates");
    for id in 0..4 {
        // FIFO per producer.
        let mine: Vec<u32> = got
            .iter()
            .filter(|(p, _)| *p == id)
            .map(|(_, i)| *i)
            .collect();
        assert_eq!(mine, (0..N).collect::<Vec<_>>());
    }
    assert_eq!(q.get_nowait().await, Err(ProcessQueueError::Empty));
    assert_eq!(q.qsize().unwrap(), 0);
}

#[tokio::test]
async fn a_bounded_queue_feeds_a_child() {
    threadlet_process_setup();
    let q: Queue<u64> = Queue::new(4).unwrap();
    let child = process::spawn_process(consume_sum, (q.clone(), 100)).unwrap();
    for i in 1..=100 {
        q.put(i).await.unwrap();
        assert!(q.qsize().unwrap() <= 4);
    }
    assert_eq!(child.join().await.unwrap(), 5050);
}

#[tokio::test]
async fn nowait_timeout_and_full() {
    threadlet_process_setup();
    let q: Queue<u8> = Queue::new(2).unwrap();
    assert_eq!(q.get_nowait().await, Err(ProcessQueueError::Empty));
    assert_eq!(
        q.get_timeout(Duration::from_millis(20)).await,
        Err(ProcessQueueError::Empty)
    );
    q.put_nowait(1).await.unwrap();
    q.put(2).await.unwrap();
    assert_eq!(q.qsize().unwrap(), 2);
    assert_eq!(q.put_nowait(3).await, Err(ProcessQueueError::Full));
    assert_eq!(
        q.put_timeout(3, Duration::from_millis(20)).await,
        Err(ProcessQueueError::Full)
    );
    assert_eq!(q.get().await.unwrap(), 1);
    q.put_timeout(3, Duration::from_secs(5)).await.unwrap();
    assert_eq!(q.blocking_get().unwrap(), 2);
    assert_eq!(q.get_timeout(Duration::MAX).await.unwrap(), 3);
}

#[tokio::test]
async fn the_owner_exiting_is_closed_not_a_hang() {
    threadlet_process_setup();
    let owner = process::spawn_process(owner_that_exits, ()).unwrap();
    let q: Queue<u8> = owner.join().await.unwrap();
    assert_eq!(q.get().await, Err(ProcessQueueError::Closed));
    assert_eq!(q.put(2).await, Err(ProcessQueueError::Closed));
    assert_eq!(q.qsize(), Err(ProcessQueueError::Closed));
}

#[tokio::test]
async fn an_item_for_a_killed_taker_is_not_lost() {
    threadlet_process_setup();
    let q: Queue<String> = Queue::new(0).unwrap();
    let taker = process::spawn_process(wait_for_item, q.clone()).unwrap();
    // Let the taker connect and wait (if it has not yet, nothing changes).
    tokio::time::sleep(Duration::from_millis(200)).await;
    taker.kill().unwrap();
    assert!(taker.join().await.is_err());
    q.put("kept".into()).await.unwrap();
    assert_eq!(
        q.get_timeout(Duration::from_secs(10)).await.unwrap(),
        "kept"
    );
}

#[tokio::test]
async fn a_cancelled_get_loses_nothing() {
    threadlet_process_setup();
    let q: Queue<char> = Queue::new(0).unwrap();
    let other = q.clone();
    // A get that is dropped while it waits...
    assert!(
        tokio::time::timeout(Duration::from_millis(50), q.get())
            .await
            .is_err()
    );
    // ... then an item arrives: it is not lost, this handle hands it out next.
    other.put('x').await.unwrap();
    assert_eq!(q.get_timeout(Duration::from_secs(10)).await.unwrap(), 'x');
    assert_eq!(other.get_nowait().await, Err(ProcessQueueError::Empty));
}
