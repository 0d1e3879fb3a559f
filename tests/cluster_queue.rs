//! `cluster::Queue` / `LifoQueue` / `PriorityQueue` against a real redis-server.
#![cfg(feature = "cluster")]

mod cluster_support;

use std::time::{Duration, Instant};

use cluster_support::RedisServer;
use futures::StreamExt;
use threadlet::cluster::{
    ClusterError, GetError, LifoQueue, Options, PriorityQueue, PutError, Queue, TaskDoneError,
};

/// Waiters re-check only once a minute: a wake-up must come from the server.
fn no_recheck() -> Options {
    Options::default().recheck(Duration::from_secs(60))
}

async fn drain<T, O>(q: &threadlet::cluster::BaseQueue<T, O>) -> Vec<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Clone + 'static,
    O: threadlet::cluster::Order<T>,
{
    let mut out = Vec::new();
    loop {
        match q.get_nowait().await {
            Ok(item) => {
                item.task_done().await.unwrap();
                out.push(item.item().clone());
            }
            Err(GetError::Empty) => return out,
            Err(e) => panic!("{e}"),
        }
    }
}

#[tokio::test]
async fn three_orderings() {
    let server = RedisServer::start();
    let fifo: Queue<u32> = Queue::connect(&server.url(), "fifo", 0).await.unwrap();
    let lifo: LifoQueue<u32> = LifoQueue::connect(&server.url(), "lifo", 0).await.unwrap();
    let prio: PriorityQueue<String> = PriorityQueue::connect(&server.url(), "prio", 0)
        .await
        .unwrap();
    for i in 0..5 {
        fifo.put(i).await.unwrap();
        lifo.put(i).await.unwrap();
    }
    for (p, s) in [
        (3, "c"),
        (-7, "a"),
        (3, "d"),
        (i64::MAX, "z"),
        (0, "b"),
        (i64::MIN, "first"),
    ] {
        prio.put((p, s.to_owned())).await.unwrap();
    }
    assert_eq!(drain(&fifo).await, vec![0, 1, 2, 3, 4]);
    assert_eq!(drain(&lifo).await, vec![4, 3, 2, 1, 0]);
    let order: Vec<_> = drain(&prio).await.into_iter().map(|(_, s)| s).collect();
    assert_eq!(order, vec!["first", "a", "b", "c", "d", "z"]);
}

#[tokio::test]
async fn maxsize_is_enforced_on_the_server() {
    let server = RedisServer::start();
    let a: Queue<u32> = Queue::connect(&server.url(), "bounded", 2).await.unwrap();
    let b: Queue<u32> = Queue::connect(&server.url(), "bounded", 2).await.unwrap();
    assert_eq!(a.maxsize(), 2);
    a.put_nowait(1).await.unwrap();
    b.put_nowait(2).await.unwrap();
    assert!(a.is_full().await.unwrap());
    assert!(matches!(b.put_nowait(3).await, Err(PutError::Full(3))));
    let t = Instant::now();
    assert!(matches!(
        a.put_timeout(4, Duration::from_millis(200)).await,
        Err(PutError::Full(4))
    ));
    assert!(t.elapsed() >= Duration::from_millis(200));
    assert_eq!(a.len().await.unwrap(), 2);
    // A different maxsize for the same name is refused.
    let err = Queue::<u32>::connect(&server.url(), "bounded", 3)
        .await
        .unwrap_err();
    assert!(matches!(err, ClusterError::Mismatch { .. }), "{err}");
    let err = LifoQueue::<u32>::connect(&server.url(), "bounded", 2)
        .await
        .unwrap_err();
    assert!(matches!(err, ClusterError::Mismatch { .. }), "{err}");
}

#[tokio::test]
async fn blocked_put_is_woken_by_a_get_from_another_client() {
    let server = RedisServer::start();
    let url = server.url();
    let a: Queue<u32> = Queue::connect_with(&url, "q", 1, no_recheck())
        .await
        .unwrap();
    let b: Queue<u32> = Queue::connect_with(&url, "q", 1, no_recheck())
        .await
        .unwrap();
    a.put(1).await.unwrap();
    let putter = tokio::spawn(async move { a.put_timeout(2, Duration::from_secs(30)).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let first = b.get().await.unwrap();
    assert_eq!(*first, 1);
    putter.await.unwrap().unwrap();
    assert_eq!(*b.get().await.unwrap(), 2);
}

#[tokio::test]
async fn blocked_get_is_woken_by_a_put_from_another_client() {
    let server = RedisServer::start();
    let url = server.url();
    let a: Queue<String> = Queue::connect_with(&url, "q", 0, no_recheck())
        .await
        .unwrap();
    let b: Queue<String> = Queue::connect_with(&url, "q", 0, no_recheck())
        .await
        .unwrap();
    let getters: Vec<_> = (0..3)
        .map(|_| {
            let a = a.clone();
            tokio::spawn(async move { a.get_timeout(Duration::from_secs(30)).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for s in ["x", "y", "z"] {
        b.put(s.to_owned()).await.unwrap();
    }
    let mut got = Vec::new();
    for g in getters {
        got.push(g.await.unwrap().unwrap().into_inner());
    }
    got.sort();
    assert_eq!(got, ["x", "y", "z"]);
}

#[tokio::test]
async fn get_nowait_and_get_timeout_on_empty() {
    let server = RedisServer::start();
    let q: Queue<u8> = Queue::connect(&server.url(), "e", 0).await.unwrap();
    assert!(q.is_empty().await.unwrap());
    assert_eq!(q.get_nowait().await.unwrap_err(), GetError::Empty);
    let t = Instant::now();
    assert_eq!(
        q.get_timeout(Duration::from_millis(150)).await.unwrap_err(),
        GetError::Empty
    );
    assert!(t.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn task_done_and_join_across_clients() {
    let server = RedisServer::start();
    let url = server.url();
    let producer: Queue<u32> = Queue::connect(&url, "j", 0).await.unwrap();
    let consumer: Queue<u32> = Queue::connect_with(&url, "j", 0, no_recheck())
        .await
        .unwrap();
    for i in 0..10 {
        producer.put(i).await.unwrap();
    }
    assert!(
        !producer
            .join_timeout(Duration::from_millis(50))
            .await
            .unwrap()
    );
    let joiner = {
        let p = producer.clone();
        tokio::spawn(async move { p.join_timeout(Duration::from_secs(30)).await })
    };
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(consumer.get().await.unwrap());
    }
    assert_eq!(producer.stats().await.unwrap().unfinished, 10);
    assert_eq!(producer.stats().await.unwrap().leased, 10);
    for item in &held[..9] {
        consumer.task_done(item).await.unwrap();
    }
    assert!(!joiner.is_finished());
    held[9].task_done().await.unwrap();
    assert!(joiner.await.unwrap().unwrap());
    // Acknowledging twice is an error, as Python's extra task_done().
    assert_eq!(held[0].task_done().await, Err(TaskDoneError::NotLeased));
    assert_eq!(producer.stats().await.unwrap().unfinished, 0);
}

#[tokio::test]
async fn expired_lease_is_redelivered_once_per_expiry() {
    let server = RedisServer::start();
    let url = server.url();
    let short = Options::default().visibility_timeout(Duration::from_millis(300));
    let slow: Queue<u32> = Queue::connect_with(&url, "lease", 0, short.clone())
        .await
        .unwrap();
    let other: Queue<u32> = Queue::connect_with(&url, "lease", 0, short).await.unwrap();
    slow.put(42).await.unwrap();
    let first = slow.get().await.unwrap();
    assert_eq!((*first, first.deliveries()), (42, 1));
    // Nothing else is waiting while the lease is held.
    assert_eq!(other.get_nowait().await.unwrap_err(), GetError::Empty);
    // After the expiry the other client gets the same item, second delivery.
    let second = other.get_timeout(Duration::from_secs(20)).await.unwrap();
    assert_eq!((*second, second.deliveries()), (42, 2));
    // The slow consumer's late acknowledgement is refused: the duplicate case.
    assert_eq!(first.task_done().await, Err(TaskDoneError::NotLeased));
    second.task_done().await.unwrap();
    // Acknowledged: never delivered again, however long we wait.
    assert_eq!(
        other
            .get_timeout(Duration::from_millis(800))
            .await
            .unwrap_err(),
        GetError::Empty
    );
    let stats = other.stats().await.unwrap();
    assert_eq!(
        (stats.redelivered, stats.unfinished, stats.leased),
        (1, 0, 0)
    );
    assert!(other.join_timeout(Duration::from_secs(5)).await.unwrap());
}

#[tokio::test]
async fn extend_keeps_a_lease() {
    let server = RedisServer::start();
    let short = Options::default().visibility_timeout(Duration::from_millis(300));
    let q: Queue<u32> = Queue::connect_with(&server.url(), "ext", 0, short)
        .await
        .unwrap();
    q.put(1).await.unwrap();
    let item = q.get().await.unwrap();
    assert!(item.extend(Duration::from_secs(60)).await.unwrap());
    assert_eq!(
        q.get_timeout(Duration::from_millis(700)).await.unwrap_err(),
        GetError::Empty
    );
    item.task_done().await.unwrap();
    assert!(!item.extend(Duration::from_secs(1)).await.unwrap());
}

#[tokio::test]
async fn shutdown_is_seen_by_every_client() {
    let server = RedisServer::start();
    let url = server.url();
    let a: Queue<u32> = Queue::connect_with(&url, "sd", 0, no_recheck())
        .await
        .unwrap();
    let b: Queue<u32> = Queue::connect_with(&url, "sd", 0, no_recheck())
        .await
        .unwrap();
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let b = b.clone();
            tokio::spawn(async move { b.get_timeout(Duration::from_secs(30)).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    a.put(7).await.unwrap();
    a.shutdown().await.unwrap();
    let mut results = Vec::new();
    for w in waiters {
        results.push(w.await.unwrap().map(|l| l.into_inner()));
    }
    results.sort_by_key(|r| r.is_err());
    assert_eq!(results[0], Ok(7));
    assert_eq!(results[1], Err(GetError::ShutDown));
    assert_eq!(results[2], Err(GetError::ShutDown));
    assert!(matches!(b.put(8).await, Err(PutError::ShutDown(8))));
    assert!(b.stats().await.unwrap().shut_down);
}

#[tokio::test]
async fn shutdown_drains_then_ends_the_stream() {
    let server = RedisServer::start();
    let q: Queue<u32> = Queue::connect(&server.url(), "st", 0).await.unwrap();
    for i in 0..4 {
        q.put(i).await.unwrap();
    }
    q.shutdown().await.unwrap();
    let mut got = Vec::new();
    let mut s = q.stream();
    while let Some(item) = s.next().await {
        let item = item.unwrap();
        item.task_done().await.unwrap();
        got.push(*item);
    }
    assert_eq!(got, [0, 1, 2, 3]);
    q.join().await.unwrap();
}

#[tokio::test]
async fn shutdown_immediate_drops_items_and_releases_join() {
    let server = RedisServer::start();
    let q: Queue<u32> = Queue::connect(&server.url(), "imm", 0).await.unwrap();
    for i in 0..5 {
        q.put(i).await.unwrap();
    }
    let held = q.get().await.unwrap();
    q.shutdown_immediate().await.unwrap();
    assert_eq!(q.get_nowait().await.unwrap_err(), GetError::ShutDown);
    assert_eq!(q.len().await.unwrap(), 0);
    // The leased item is still unfinished until acknowledged.
    assert!(!q.join_timeout(Duration::from_millis(50)).await.unwrap());
    held.task_done().await.unwrap();
    assert!(q.join_timeout(Duration::from_secs(5)).await.unwrap());
}

#[tokio::test]
async fn malformed_items_are_typed_decode_errors_and_the_queue_goes_on() {
    let server = RedisServer::start();
    let q: Queue<u32> = Queue::connect(&server.url(), "bad", 0).await.unwrap();
    q.put(1).await.unwrap();
    // Another program writes garbage straight into the queue's sorted set...
    server.command(&[b"ZADD", b"threadlet:{bad}:items", b"0", b"\xff\x00garbage"]);
    // ...and another client of a different item type puts a String.
    let strings: Queue<String> = Queue::connect(&server.url(), "bad", 0).await.unwrap();
    strings.put("hello".to_owned()).await.unwrap();
    q.put(2).await.unwrap();
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for _ in 0..4 {
        match q.get_nowait().await {
            Ok(item) => {
                item.task_done().await.unwrap();
                good.push(*item);
            }
            Err(GetError::Decode(e)) => bad.push(e),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(good, [1, 2]);
    assert_eq!(bad.len(), 2);
    assert!(bad.iter().any(|e| e.bytes == b"\xff\x00garbage"));
    assert!(bad[0].to_string().starts_with("cannot decode a queue item"));
    assert_eq!(q.get_nowait().await.unwrap_err(), GetError::Empty);
    // Undecodable items were taken out and counted: join does not hang.
    assert!(q.join_timeout(Duration::from_secs(5)).await.unwrap());
    q.put(3).await.unwrap();
    assert_eq!(*q.get().await.unwrap(), 3);
}

#[tokio::test]
async fn encode_failure_hands_the_item_back() {
    #[derive(Debug, PartialEq)]
    struct NoSerialize;
    impl serde::Serialize for NoSerialize {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("refused"))
        }
    }
    impl<'de> serde::Deserialize<'de> for NoSerialize {
        fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            Ok(NoSerialize)
        }
    }
    let server = RedisServer::start();
    let q: Queue<NoSerialize> = Queue::connect(&server.url(), "enc", 0).await.unwrap();
    match q.put(NoSerialize).await {
        Err(PutError::Encode(item, _)) => assert_eq!(item, NoSerialize),
        other => panic!("{other:?}"),
    }
    assert_eq!(q.len().await.unwrap(), 0);
}

#[tokio::test]
async fn shutdown_immediate_on_an_empty_queue() {
    let server = RedisServer::start();
    let q: Queue<u32> = Queue::connect(&server.url(), "imm0", 0).await.unwrap();
    q.shutdown_immediate().await.unwrap();
    assert_eq!(q.get_nowait().await.unwrap_err(), GetError::ShutDown);
    assert!(q.join_timeout(Duration::from_secs(5)).await.unwrap());
}
