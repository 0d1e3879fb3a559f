//! Start + join of 10k threads: threadlet `spawn` (and `Thread::new` +
//! `start`) versus plain `tokio::spawn` + `JoinHandle`, in the same group and
//! run; once on a multi-thread runtime (the target: threadlet at most 1.5x
//! tokio per task), once on a current-thread runtime, where no cross-core
//! traffic hides threadlet's own bookkeeping (name, registry, shared output).
//!
//! `cargo bench --bench thread_spawn_join -- --warm-up-time 1 --measurement-time 3`

use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
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

criterion_group!(benches, spawn_join);
criterion_main!(benches);
