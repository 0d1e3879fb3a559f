//! The cluster layer beside its peers, interleaved run by run on one private
//! redis-server (`harness = false`; feature `cluster`):
//!
//! * `cluster::Queue` 4 producers / 4 consumers (each its own client) — items/s
//!   of put + get + task_done;
//! * the raw floor: the same three scripts pipelined from one client;
//! * Python's `multiprocessing.managers` queue, 4P/4C processes;
//! * Python RQ, enqueue + work with 4 workers (if `rq` is installed);
//! * apalis with its Redis storage, if `THREADLET_APALIS_BENCH` names a built
//!   peer binary (`benches/cluster_peers/apalis`);
//! * `cluster::Pool::map` per-task overhead beside `process::Pool`'s (2 workers,
//!   chunk size 1, a no-op function).
//!
//! ```text
//! cargo bench --features cluster --bench cluster            # 3 runs
//! THREADLET_BENCH_RUNS=5 cargo bench --features cluster --bench cluster
//! ```
//! Prints one table row per measurement: median, min and max over the runs.

/// The queue's own Lua scripts and key names (the raw floor runs exactly
/// them); not public API, so read from the source file.
#[path = "../src/cluster/scripts.rs"]
#[allow(dead_code, unreachable_pub)]
mod scripts;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use threadlet::cluster::{self, GetError, Pool, Queue};
use threadlet::process;

fn noop(x: u64) -> u64 {
    x
}

const QUEUE_ITEMS: usize = 20_000;
const PYTHON_ITEMS: usize = 8_000;
const RQ_JOBS: usize = 1_000;
const APALIS_JOBS: usize = 2_000;
const POOL_TASKS: usize = 2_000;

fn main() {
    process::register(noop);
    process::init();
    if let Ok(url) = std::env::var("THREADLET_BENCH_WORKER") {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let _ = rt.block_on(cluster::worker(&url, "bench-pool"));
        return;
    }
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` / `--list`: nothing to test here
    }
    let runs: usize = std::env::var("THREADLET_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let server = Server::start();
    let url = server.url();
    let peers = Path::new(env!("CARGO_MANIFEST_DIR")).join("cluster_peers");
    let rq = Command::new("python3")
        .args(["-c", "import rq"])
        .status()
        .is_ok_and(|s| s.success());
    let apalis = std::env::var("THREADLET_APALIS_BENCH")
        .ok()
        .map(PathBuf::from);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut rows: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut workers = Workers(
        (0..2)
            .map(|_| {
                Command::new(std::env::current_exe().unwrap())
                    .env("THREADLET_BENCH_WORKER", &url)
                    .stdin(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect(),
    );
    let local_pool = process::Pool::new(2).unwrap();
    for run in 0..runs {
        eprintln!("run {}/{runs}", run + 1);
        let q = rt.block_on(queue_rate(&url, &format!("bench-{run}"), QUEUE_ITEMS));
        rows.entry("a cluster::Queue 4P/4C (items/s)")
            .or_default()
            .push(q);
        let raw = rt.block_on(raw_floor(&url, &format!("raw-{run}"), QUEUE_ITEMS));
        rows.entry("b raw floor: same scripts pipelined, 1 client (items/s)")
            .or_default()
            .push(raw);
        let m = python(
            &peers.join("managers_queue.py"),
            &[&PYTHON_ITEMS.to_string()],
        );
        rows.entry("c Python multiprocessing.managers Queue 4P/4C (items/s)")
            .or_default()
            .push(m);
        if rq {
            let r = python(&peers.join("rq_rate.py"), &[&url, &RQ_JOBS.to_string()]);
            rows.entry("d Python RQ enqueue+work, 4 workers (jobs/s)")
                .or_default()
                .push(r);
        }
        if let Some(bin) = &apalis {
            let out = Command::new(bin)
                .args([&url, &APALIS_JOBS.to_string()])
                .output()
                .expect("apalis peer");
            if out.status.success() {
                rows.entry("e apalis-redis push+work, 4 workers (jobs/s)")
                    .or_default()
                    .push(parse_rate(&String::from_utf8_lossy(&out.stdout)));
            } else {
                eprintln!(
                    "apalis peer: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
        }
        let (cluster_us, local_us) = rt.block_on(async {
            let pool = Pool::connect(&url, "bench-pool").await.unwrap();
            let _ = pool.map_chunked(noop, 0..100, 1).await.unwrap(); // warm up
            let t = Instant::now();
            let v = pool
                .map_chunked(noop, 0..POOL_TASKS as u64, 1)
                .await
                .unwrap();
            assert_eq!(v.len(), POOL_TASKS);
            let cluster_us = t.elapsed().as_secs_f64() * 1e6 / POOL_TASKS as f64;
            let _ = local_pool.map_chunked(noop, 0..100, 1).await.unwrap();
            let t = Instant::now();
            let v = local_pool
                .map_chunked(noop, 0..POOL_TASKS as u64, 1)
                .await
                .unwrap();
            assert_eq!(v.len(), POOL_TASKS);
            (
                cluster_us,
                t.elapsed().as_secs_f64() * 1e6 / POOL_TASKS as f64,
            )
        });
        rows.entry("f cluster::Pool::map per task, 2 workers, chunk 1 (us)")
            .or_default()
            .push(cluster_us);
        rows.entry("g process::Pool::map per task, 2 workers, chunk 1 (us)")
            .or_default()
            .push(local_us);
    }
    rt.block_on(async {
        let pool = Pool::connect(&url, "bench-pool").await.unwrap();
        pool.terminate().await.unwrap();
    });
    for w in &mut workers.0 {
        let _ = w.wait();
    }
    println!("| measurement | median | min | max | runs |");
    println!("|---|---:|---:|---:|---:|");
    let mut medians = BTreeMap::new();
    for (name, mut v) in rows {
        v.sort_by(f64::total_cmp);
        let median = v[v.len() / 2];
        medians.insert(&name[..1], median);
        println!(
            "| {} | {median:.1} | {:.1} | {:.1} | {} |",
            &name[2..],
            v[0],
            v[v.len() - 1],
            v.len()
        );
    }
    let q = medians["a"];
    println!();
    println!("cluster::Queue / raw floor: {:.2}", q / medians["b"]);
    println!("cluster::Queue / managers queue: {:.1}x", q / medians["c"]);
    if let Some(r) = medians.get("d") {
        println!("cluster::Queue / RQ: {:.1}x", q / r);
    }
    if let Some(a) = medians.get("e") {
        println!("cluster::Queue / apalis-redis: {:.2}x", q / a);
    }
    println!(
        "cluster::Pool / process::Pool per-task overhead: {:.1}x",
        medians["f"] / medians["g"]
    );
}

/// 4 producer and 4 consumer clients, each with its own connection.
async fn queue_rate(url: &str, name: &str, items: usize) -> f64 {
    let taken = Arc::new(AtomicUsize::new(0));
    let per = items / 4;
    let mut handles = Vec::new();
    let t = Instant::now();
    for p in 0..4 {
        let q: Queue<u64> = Queue::connect(url, name, 0).await.unwrap();
        handles.push(tokio::spawn(async move {
            for i in 0..per {
                q.put((p * per + i) as u64).await.unwrap();
            }
        }));
    }
    for _ in 0..4 {
        let q: Queue<u64> = Queue::connect(url, name, 0).await.unwrap();
        let taken = Arc::clone(&taken);
        handles.push(tokio::spawn(async move {
            while taken.load(Ordering::Relaxed) < 4 * per {
                match q.get_timeout(Duration::from_millis(50)).await {
                    Ok(item) => {
                        item.task_done().await.unwrap();
                        taken.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(GetError::Empty) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    (4 * per) as f64 / t.elapsed().as_secs_f64()
}

/// The same put, get and ack scripts, pipelined in batches from one client.
async fn raw_floor(url: &str, name: &str, items: usize) -> f64 {
    let scripts = [
        ("put", scripts::PUT),
        ("get", scripts::GET),
        ("ack", scripts::ACK),
    ]
    .map(|(n, body)| (n, format!("{}{body}", scripts::PRELUDE)));
    let keys = scripts::key_names(name);
    let client = redis::Client::open(url).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let mut sha = BTreeMap::new();
    for (n, src) in &scripts {
        let s: String = redis::cmd("SCRIPT")
            .arg("LOAD")
            .arg(src)
            .query_async(&mut con)
            .await
            .unwrap();
        sha.insert(*n, s);
    }
    // The create step: an unbounded FIFO.
    let _: () = redis::cmd("HSET")
        .arg(&keys[1])
        .arg("kind")
        .arg("fifo")
        .arg("maxsize")
        .arg("0")
        .query_async(&mut con)
        .await
        .unwrap();
    let payload = postcard::to_stdvec(&7u64).unwrap();
    let prefix = format!("t1{:016x}", 1u64 << 63);
    const BATCH: usize = 200;
    let t = Instant::now();
    let mut done = 0;
    while done < items {
        let mut put = redis::pipe();
        for _ in 0..BATCH {
            put.cmd("EVALSHA")
                .arg(&sha["put"])
                .arg(keys.len())
                .arg(&keys);
            put.arg(&prefix).arg("0").arg(&payload);
        }
        let _: Vec<i64> = put.query_async(&mut con).await.unwrap();
        let mut get = redis::pipe();
        for _ in 0..BATCH {
            get.cmd("EVALSHA")
                .arg(&sha["get"])
                .arg(keys.len())
                .arg(&keys)
                .arg(30_000);
        }
        let got: Vec<(i64, i64, Vec<u8>, i64)> = get.query_async(&mut con).await.unwrap();
        let mut ack = redis::pipe();
        for (code, token, _, _) in &got {
            assert_eq!(*code, 1);
            ack.cmd("EVALSHA")
                .arg(&sha["ack"])
                .arg(keys.len())
                .arg(&keys);
            ack.arg(token).arg("1");
        }
        let _: Vec<i64> = ack.query_async(&mut con).await.unwrap();
        done += BATCH;
    }
    done as f64 / t.elapsed().as_secs_f64()
}

fn python(script: &Path, args: &[&str]) -> f64 {
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    parse_rate(&String::from_utf8_lossy(&out.stdout))
}

fn parse_rate(out: &str) -> f64 {
    out.lines()
        .find_map(|l| l.strip_prefix("items_per_sec "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no rate in {out:?}"))
}

struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A private redis-server on a free port in a temp dir.
struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Server {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("threadlet-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--dir"])
            .arg(&dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        let start = Instant::now();
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                let mut buf = [0u8; 8];
                if s.write_all(b"PING\r\n").is_ok() && s.read(&mut buf).is_ok_and(|n| n > 0) {
                    break;
                }
            }
            assert!(start.elapsed() < Duration::from_secs(10), "redis-server");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port, dir }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
