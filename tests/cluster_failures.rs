//! Failure behaviour of the cluster queues against a real redis-server:
//! restarts with persistence, an unreachable or frozen server.
#![cfg(feature = "cluster")]

mod cluster_support;

use std::time::{Duration, Instant};

use cluster_support::RedisServer;
use threadlet::cluster::{ClusterError, GetError, Options, PutError, Queue};

fn quick() -> Options {
    Options::default()
        .op_timeout(Duration::from_secs(2))
        .visibility_timeout(Duration::from_secs(60))
}

#[tokio::test]
async fn restart_with_persistence_loses_no_acknowledged_state_and_clients_reconnect() {
    let mut server = RedisServer::start_persistent();
    let url = server.url();
    let producer: Queue<u32> = Queue::connect_with(&url, "durable", 0, quick())
        .await
        .unwrap();
    let consumer: Queue<u32> = Queue::connect_with(&url, "durable", 0, quick())
        .await
        .unwrap();
    for i in 0..100 {
        producer.put(i).await.unwrap();
    }
    let mut acked = Vec::new();
    for _ in 0..40 {
        let item = consumer.get().await.unwrap();
        item.task_done().await.unwrap();
        acked.push(*item);
    }
    // Ten more are leased, not acknowledged, when the server dies.
    let mut held = Vec::new();
    for _ in 0..10 {
        held.push(consumer.get().await.unwrap());
    }
    server.kill();
    // While it is down: a typed error, within the caller's timeout.
    let t = Instant::now();
    let err = consumer
        .get_timeout(Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(matches!(err, GetError::Cluster(_)), "{err}");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    match producer.put_nowait(1000).await {
        Err(PutError::Cluster(1000, _)) => {}
        other => panic!("{other:?}"),
    }
    server.restart();
    // The same handles work again (the connection manager reconnects; the
    // first call may still see the dead connection).
    let mut stats = None;
    for _ in 0..20 {
        match producer.stats().await {
            Ok(s) => {
                stats = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let stats = stats.expect("client reconnected");
    assert_eq!(stats.len, 50);
    assert_eq!(stats.leased, 10);
    assert_eq!(stats.unfinished, 60);
    // The leases taken before the crash are still held and can be acknowledged.
    for item in &held {
        item.task_done().await.unwrap();
        acked.push(**item);
    }
    // Acknowledged items never come back; the rest are all there, in order.
    let mut rest = Vec::new();
    while let Ok(item) = consumer.get_nowait().await {
        item.task_done().await.unwrap();
        rest.push(*item);
    }
    assert_eq!(rest, (50..100).collect::<Vec<_>>());
    acked.sort_unstable();
    assert_eq!(acked, (0..50).collect::<Vec<_>>());
    assert!(producer.join_timeout(Duration::from_secs(5)).await.unwrap());
}

#[tokio::test]
async fn unreachable_server_is_a_typed_error_within_the_timeout() {
    // Nothing listens on the port of a server that was started and killed.
    let mut server = RedisServer::start();
    let url = server.url();
    server.kill();
    let t = Instant::now();
    let err = Queue::<u32>::connect_with(&url, "q", 0, quick())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ClusterError::Unreachable(_) | ClusterError::Timeout),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[tokio::test]
async fn frozen_server_fails_every_operation_within_the_callers_timeout() {
    let server = RedisServer::start();
    let q: Queue<u32> = Queue::connect_with(&server.url(), "frozen", 0, quick())
        .await
        .unwrap();
    q.put(1).await.unwrap();
    server.freeze();
    let t = Instant::now();
    let err = q.get_timeout(Duration::from_millis(500)).await.unwrap_err();
    assert_eq!(err, GetError::Cluster(ClusterError::Timeout));
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    let t = Instant::now();
    assert!(matches!(
        q.put_timeout(2, Duration::from_millis(500)).await,
        Err(PutError::Cluster(2, ClusterError::Timeout))
    ));
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // Without a caller's timeout, the operation timeout bounds the wait.
    let t = Instant::now();
    assert_eq!(q.len().await.unwrap_err(), ClusterError::Timeout);
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    server.thaw();
    // Back: the item is still there.
    let mut got = None;
    for _ in 0..20 {
        match q.get_timeout(Duration::from_secs(2)).await {
            Ok(item) => {
                got = Some(*item);
                break;
            }
            Err(GetError::Cluster(_)) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(got, Some(1));
}
