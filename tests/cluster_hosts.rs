//! Several OS processes ("hosts") on one cluster queue: this test binary
//! re-executes itself in a role named by `THREADLET_CLUSTER_ROLE`.
//! (`harness = false`: `main` runs the tests, or the role of a child.)

mod cluster_support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cluster_support::{Children, RedisServer, run_tests};
use threadlet::cluster::{GetError, Options, Queue};

const ROLE: &str = "THREADLET_CLUSTER_ROLE";
const URL: &str = "THREADLET_CLUSTER_URL";
const ARG: &str = "THREADLET_CLUSTER_ARG";

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(run_role(&role));
        return;
    }
    let tests: [(&str, fn()); 2] = [
        (
            "consumer_killed_between_get_and_task_done_is_redelivered",
            consumer_killed_between_get_and_task_done_is_redelivered,
        ),
        (
            "processes_share_one_queue_and_every_item_is_acknowledged_once",
            processes_share_one_queue_and_every_item_is_acknowledged_once,
        ),
    ];
    run_tests(&tests);
}

fn lease(ms: u64) -> Options {
    Options::default().visibility_timeout(Duration::from_millis(ms))
}

async fn run_role(role: &str) {
    let url = std::env::var(URL).unwrap();
    let arg: u32 = std::env::var(ARG).map_or(0, |a| a.parse().unwrap());
    match role {
        // Take one item, say which, and hang until killed.
        "lease-and-hang" => {
            let q: Queue<u32> = Queue::connect_with(&url, "work", 0, lease(1000))
                .await
                .unwrap();
            let item = q.get().await.unwrap();
            println!("GOT {}", *item);
            std::io::stdout().flush().unwrap();
            std::future::pending::<()>().await;
        }
        "producer" => {
            let q: Queue<u32> = Queue::connect(&url, "work", 0).await.unwrap();
            for i in 0..300 {
                q.put(arg * 1000 + i).await.unwrap();
            }
        }
        // Record every item in `seen`, then acknowledge it; stop at shutdown.
        "consumer" => {
            let q: Queue<u32> = Queue::connect(&url, "work", 0).await.unwrap();
            let seen: Queue<u32> = Queue::connect(&url, "seen", 0).await.unwrap();
            loop {
                match q.get().await {
                    Ok(item) => {
                        seen.put(*item).await.unwrap();
                        item.task_done().await.unwrap();
                    }
                    Err(GetError::ShutDown) => return,
                    Err(e) => panic!("consumer: {e}"),
                }
            }
        }
        other => panic!("unknown role {other}"),
    }
}

fn child(role: &str, url: &str, arg: u32) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .env(ROLE, role)
        .env(URL, url)
        .env(ARG, arg.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

fn consumer_killed_between_get_and_task_done_is_redelivered() {
    let server = RedisServer::start();
    let url = server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let q: Queue<u32> = rt
        .block_on(Queue::connect_with(&url, "work", 0, lease(1000)))
        .unwrap();
    rt.block_on(async {
        for i in 1..=3 {
            q.put(i).await.unwrap();
        }
    });
    let mut consumer = Children(vec![child("lease-and-hang", &url, 0)]);
    let consumer = &mut consumer.0[0];
    let mut line = String::new();
    BufReader::new(consumer.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "GOT 1");
    consumer.kill().unwrap();
    consumer.wait().unwrap();
    let got: BTreeMap<u32, u64> = rt.block_on(async {
        let mut got = BTreeMap::new();
        while got.len() < 3 {
            let item = q.get_timeout(Duration::from_secs(30)).await.unwrap();
            item.task_done().await.unwrap();
            assert!(got.insert(*item, item.deliveries()).is_none());
        }
        assert_eq!(
            q.get_timeout(Duration::from_millis(1500))
                .await
                .unwrap_err(),
            GetError::Empty
        );
        assert!(q.join_timeout(Duration::from_secs(5)).await.unwrap());
        got
    });
    // Item 1 came back once, after the dead consumer's lease expired.
    assert_eq!(got, BTreeMap::from([(1, 2), (2, 1), (3, 1)]));
}

fn processes_share_one_queue_and_every_item_is_acknowledged_once() {
    let server = RedisServer::start();
    let url = server.url();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let q: Queue<u32> = rt.block_on(Queue::connect(&url, "work", 0)).unwrap();
    let seen: Queue<u32> = rt.block_on(Queue::connect(&url, "seen", 0)).unwrap();
    let mut children = Children((0..3).map(|i| child("consumer", &url, i)).collect());
    let mut producers = Children((0..2).map(|i| child("producer", &url, i)).collect());
    for p in &mut producers.0 {
        assert!(p.wait().unwrap().success());
    }
    rt.block_on(async {
        assert!(q.join_timeout(Duration::from_secs(60)).await.unwrap());
        q.shutdown().await.unwrap();
    });
    for c in &mut children.0 {
        assert!(c.wait().unwrap().success());
    }
    let mut all = rt.block_on(async {
        let mut all = Vec::new();
        while let Ok(item) = seen.get_nowait().await {
            item.task_done().await.unwrap();
            all.push(*item);
        }
        all
    });
    all.sort_unstable();
    let expected: Vec<u32> = (0..2)
        .flat_map(|p| (0..300).map(move |i| p * 1000 + i))
        .collect();
    assert_eq!(all, expected);
}
