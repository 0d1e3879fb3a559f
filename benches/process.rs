//! Start + join latency of a child process running a trivial target, beside the
//! floor: `std::process::Command` running this same binary, which exits at once.
//!
//! `cargo bench --bench process -- --warm-up-time 1 --measurement-time 3`
//! Python's figures for the same work come from `benches/process_python.py`.

use std::process::{Command, Stdio};

use criterion::{Criterion, Throughput};
use threadlet::process::{self, Pool, Process, Queue};

/// Set for the floor's child: exit before doing anything else.
const EXIT_AT_ONCE: &str = "THREADLET_BENCH_EXIT_AT_ONCE";

fn noop(_: ()) {}

fn inc(x: u64) -> u64 {
    x + 1
}

/// CPU-bound work: the number of primes in `[lo, hi)`, by trial division.
fn count_primes((lo, hi): (u64, u64)) -> u64 {
    (lo..hi)
        .filter(|&n| n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count() as u64
}

/// Items per iteration in the cross-process queue row.
const QUEUE_ITEMS: u64 = 5000;

/// Puts `n` items on `q` from a child process.
fn produce((q, n): (Queue<u64>, u64)) {
    for i in 0..n {
        q.blocking_put(i).expect("put");
    }
}

fn queue_cross_process(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let q: Queue<u64> = Queue::new(0).expect("queue");
    let mut group = c.benchmark_group("queue/cross_process");
    group.sample_size(10);
    group.throughput(Throughput::Elements(QUEUE_ITEMS));
    group.bench_function("threadlet", |b| {
        b.iter(|| {
            let p = process::spawn_process(produce, (q.clone(), QUEUE_ITEMS)).expect("spawn");
            let mut sum = 0;
            for _ in 0..QUEUE_ITEMS {
                sum += q.blocking_get().expect("get");
            }
            rt.block_on(p.join()).expect("join");
            sum
        });
    });
    group.finish();
}

/// Items per `map` call in the per-task rows.
const TASKS: u64 = 2000;

fn pool_map(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let pool = Pool::new(workers).expect("pool");
    let mut group = c.benchmark_group("pool/map_trivial");
    group.sample_size(20);
    group.throughput(Throughput::Elements(TASKS));
    group.bench_function("threadlet/chunksize_1", |b| {
        b.to_async(&rt).iter(|| async {
            let out = pool.map_chunked(inc, 0..TASKS, 1).await.expect("map");
            assert_eq!(out.len(), TASKS as usize);
        });
    });
    group.bench_function("threadlet/chunksize_default", |b| {
        b.to_async(&rt).iter(|| async {
            let out = pool.map(inc, 0..TASKS).await.expect("map");
            assert_eq!(out.len(), TASKS as usize);
        });
    });
    group.finish();

    // CPU-bound: primes below 2M in 64 chunks, serially here vs on the pool.
    let chunks: Vec<(u64, u64)> = (0..64).map(|i| (i * 31_250, (i + 1) * 31_250)).collect();
    let mut group = c.benchmark_group("pool/cpu_bound_primes");
    group.sample_size(10);
    group.bench_function("serial", |b| {
        b.iter(|| chunks.iter().map(|&c| count_primes(c)).sum::<u64>());
    });
    group.bench_function(format!("threadlet_pool_{workers}"), |b| {
        b.to_async(&rt).iter(|| async {
            pool.map_chunked(count_primes, chunks.clone(), 1)
                .await
                .expect("map")
                .into_iter()
                .sum::<u64>()
        });
    });
    group.finish();
}

fn start_join(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let exe = std::env::current_exe().expect("current exe");
    let mut group = c.benchmark_group("process/start_join");
    group.sample_size(50);
    group.bench_function("threadlet", |b| {
        b.to_async(&rt).iter(|| async {
            let p = Process::new(noop, ()).expect("encodable");
            p.start().expect("start");
            p.join().await.expect("join");
        });
    });
    group.bench_function("std_command_floor", |b| {
        b.iter(|| {
            let status = Command::new(&exe)
                .env(EXIT_AT_ONCE, "1")
                .stdin(Stdio::null())
                .status()
                .expect("spawn");
            assert!(status.success());
        });
    });
    group.finish();
}

fn main() {
    if std::env::var_os(EXIT_AT_ONCE).is_some() {
        return;
    }
    process::register(noop);
    process::register(inc);
    process::register(count_primes);
    process::register(produce);
    process::init(); // a child runs `noop` here and exits

    let mut c = Criterion::default().configure_from_args();
    start_join(&mut c);
    pool_map(&mut c);
    queue_cross_process(&mut c);
    c.final_summary();
}
