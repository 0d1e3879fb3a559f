//! Start + join of 10k threads: threadlet `spawn` (and `Thread::new` +
//! `start`) versus plain `tokio::spawn` + `JoinHandle`, in the same group and
//! run; once on a multi-thread runtime (the target: threadlet at most 1.5x
//! tokio per task), once on a current-thread runtime, where no cross-core
//! traffic hides threadlet's own bookkeeping (name, registry, shared output).
//!
//! After the criterion groups it prints an interleaved comparison: rounds of
//! tokio and threadlet alternate, so that a machine shared with other work
//! slows both alike, and the median of the per-round ratios is reported.
//!
//! `cargo bench --bench thread_spawn_join -- --warm-up-time 1 --measurement-time 3`

use std::time::Instant;

use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group};
use tokio::runtime::Runtime;

const N: usize = 10_000;

fn rows(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, rt: &Runtime) {
    group.throughput(Throughput::Elements(N as u64));

    group.bench_function("tokio", |b| {
        b.to_async(rt).iter(|| async {
            let handles: Vec<_> = (0..N).map(|i| tokio::spawn(async move { i })).collect();
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            sum
        })
    });

    group.bench_function("threadlet", |b| {
        b.to_async(rt).iter(|| async {
            let threads: Vec<_> = (0..N).map(|i| threadlet::spawn(async move { i })).collect();
            let mut sum = 0;
            for t in &threads {
                sum += t.join().await.unwrap();
            }
            sum
        })
    });

    group.bench_function("threadlet_new_start", |b| {
        b.to_async(rt).iter(|| async {
            let threads: Vec<_> = (0..N)
                .map(|i| {
                    let t = threadlet::Thread::new(async move { i });
                    t.start().unwrap();
                    t
                })
                .collect();
            let mut sum = 0;
            for t in &threads {
                sum += t.join().await.unwrap();
            }
            sum
        })
    });
}

fn spawn_join(c: &mut Criterion) {
    let multi = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("thread_spawn_join");
    rows(&mut group, &multi);
    group.finish();

    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("thread_spawn_join_current_thread");
    rows(&mut group, &single);
    group.finish();
}

/// Nanoseconds per task of one round of `N` spawns + joins.
fn round(rt: &Runtime, threadlet: bool) -> f64 {
    let begin = Instant::now();
    rt.block_on(async {
        let mut sum = 0;
        if threadlet {
            let threads: Vec<_> = (0..N).map(|i| threadlet::spawn(async move { i })).collect();
            for t in &threads {
                sum += t.join().await.unwrap();
            }
        } else {
            let handles: Vec<_> = (0..N).map(|i| tokio::spawn(async move { i })).collect();
            for h in handles {
                sum += h.await.unwrap();
            }
        }
        std::hint::black_box(sum)
    });
    begin.elapsed().as_nanos() as f64 / N as f64
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn interleaved(name: &str, rt: &Runtime) {
    let (mut tokio, mut threadlet, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..5 {
        round(rt, false);
        round(rt, true);
    }
    for _ in 0..60 {
        let a = round(rt, false);
        let b = round(rt, true);
        tokio.push(a);
        threadlet.push(b);
        ratio.push(b / a);
    }
    println!(
        "{name} interleaved (60 rounds of {N}): tokio {:.0} ns/task, threadlet {:.0} ns/task, \
         median ratio {:.2}x",
        median(&mut tokio),
        median(&mut threadlet),
        median(&mut ratio)
    );
}

criterion_group!(benches, spawn_join);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Only under `cargo bench`, not when `cargo test --benches` smoke-runs it.
    if std::env::args().any(|arg| arg == "--bench") {
        let multi = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        interleaved("thread_spawn_join", &multi);
        let single = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        interleaved("thread_spawn_join_current_thread", &single);
    }
}
