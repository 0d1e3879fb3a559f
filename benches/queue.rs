//! Queue throughput, threadlet side by side with its peers in one run.
//!
//! * `queue/mpmc_4x4_cap{100,1024}`: 4 producers and 4 consumers move
//!   100 000 `u64` through a bounded FIFO — threadlet `Queue` vs
//!   `async_channel::bounded`, `flume::bounded` and a naive
//!   `Mutex<VecDeque>` + two `tokio::sync::Notify`.
//! * `queue/mpmc_4x4_unbounded`: the same, unbounded.
//! * `queue/spsc_cap100`: one producer, one consumer, plus `tokio::sync::mpsc`.
//! * `queue/uncontended`: one task, `put_nowait` + `get_nowait` pairs
//!   (`try_send` + `try_recv` for the channels).
//! * `queue/priority_4x4_cap100`, `queue/lifo_4x4_cap100`: `PriorityQueue`
//!   and `LifoQueue` vs a naive `Mutex<BinaryHeap>` / `Mutex<Vec>` + `Notify`.
//!
//! A watchdog aborts an iteration that hangs for 10 s and prints a warning:
//! `flume` 0.12's bounded MPMC rows on the 2-worker runtime were seen to hang
//! here now and then (a lost wake-up with several async receivers).
//!
//! Every contended group runs on a multi-thread runtime with 2 workers
//! (`.../mt/...`) and on a current-thread runtime (`.../ct/...`), whose
//! figures are steadier on a small shared machine.
//!
//! ```text
//! cargo bench --bench queue -- --warm-up-time 1 --measurement-time 3
//! ```

use std::collections::{BinaryHeap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use threadlet::queue::{BaseQueue, Order};
use tokio::runtime::Runtime;
use tokio::sync::Notify;

const ITEMS: u64 = 100_000;
/// How long one iteration may take before it counts as hung.
const HANG: Duration = Duration::from_secs(10);

/// The two ends of a multi-producer, multi-consumer FIFO-ish channel.
trait Chan: Clone + Send + Sync + 'static {
    fn send(&self, v: u64) -> impl Future<Output = ()> + Send;
    fn recv(&self) -> impl Future<Output = u64> + Send;
}

impl<O: Order<u64>> Chan for BaseQueue<u64, O>
where
    O::Store: Send,
{
    async fn send(&self, v: u64) {
        self.put(v).await.unwrap();
    }
    async fn recv(&self) -> u64 {
        self.get().await.unwrap()
    }
}

#[derive(Clone)]
struct AsyncChannel(async_channel::Sender<u64>, async_channel::Receiver<u64>);

impl Chan for AsyncChannel {
    async fn send(&self, v: u64) {
        self.0.send(v).await.unwrap();
    }
    async fn recv(&self) -> u64 {
        self.1.recv().await.unwrap()
    }
}

#[derive(Clone)]
struct Flume(flume::Sender<u64>, flume::Receiver<u64>);

impl Chan for Flume {
    async fn send(&self, v: u64) {
        self.0.send_async(v).await.unwrap();
    }
    async fn recv(&self) -> u64 {
        self.1.recv_async().await.unwrap()
    }
}

/// The store of a naive baseline.
trait NaiveStore: Default + Send + 'static {
    fn push(&mut self, v: u64);
    fn pop(&mut self) -> Option<u64>;
    fn len(&self) -> usize;
}

impl NaiveStore for VecDeque<u64> {
    fn push(&mut self, v: u64) {
        self.push_back(v);
    }
    fn pop(&mut self) -> Option<u64> {
        self.pop_front()
    }
    fn len(&self) -> usize {
        VecDeque::len(self)
    }
}

impl NaiveStore for Vec<u64> {
    fn push(&mut self, v: u64) {
        Vec::push(self, v);
    }
    fn pop(&mut self) -> Option<u64> {
        Vec::pop(self)
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
}

impl NaiveStore for BinaryHeap<std::cmp::Reverse<u64>> {
    fn push(&mut self, v: u64) {
        BinaryHeap::push(self, std::cmp::Reverse(v));
    }
    fn pop(&mut self) -> Option<u64> {
        BinaryHeap::pop(self).map(|r| r.0)
    }
    fn len(&self) -> usize {
        BinaryHeap::len(self)
    }
}

/// The obvious hand-rolled queue: a std mutex and two tokio `Notify`s (no
/// shutdown, no task accounting, no fairness, no cancel-safe hand-off).
struct Naive<S> {
    store: Mutex<S>,
    not_empty: Notify,
    not_full: Notify,
    cap: usize,
}

impl<S: NaiveStore> Naive<S> {
    fn new(cap: usize) -> Arc<Self> {
        Arc::new(Naive {
            store: Mutex::new(S::default()),
            not_empty: Notify::new(),
            not_full: Notify::new(),
            cap: if cap == 0 { usize::MAX } else { cap },
        })
    }
}

impl<S: NaiveStore> Chan for Arc<Naive<S>> {
    async fn send(&self, v: u64) {
        loop {
            {
                let mut store = self.store.lock().unwrap();
                if store.len() < self.cap {
                    store.push(v);
                    drop(store);
                    self.not_empty.notify_one();
                    return;
                }
            }
            self.not_full.notified().await;
        }
    }
    async fn recv(&self) -> u64 {
        loop {
            let popped = self.store.lock().unwrap().pop();
            if let Some(v) = popped {
                self.not_full.notify_one();
                return v;
            }
            self.not_empty.notified().await;
        }
    }
}

/// `producers` tasks send `ITEMS` in total, `consumers` tasks receive them.
async fn mpmc<C: Chan>(chan: C, producers: u64, consumers: u64) {
    let mut tasks = Vec::new();
    for _ in 0..consumers {
        let chan = chan.clone();
        tasks.push(tokio::spawn(async move {
            let mut sum = 0u64;
            for _ in 0..ITEMS / consumers {
                sum = sum.wrapping_add(chan.recv().await);
            }
            std::hint::black_box(sum);
        }));
    }
    for p in 0..producers {
        let chan = chan.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..ITEMS / producers {
                chan.send(p * ITEMS + i).await;
            }
        }));
    }
    // A watchdog: flume 0.12 was seen here to lose a wake-up now and then
    // with several async receivers on the 2-worker runtime and hang forever.
    // Report such an iteration and abort it instead of hanging the run.
    let aborts: Vec<_> = tasks.iter().map(|t| t.abort_handle()).collect();
    let all = async {
        for t in tasks {
            t.await.unwrap();
        }
    };
    if tokio::time::timeout(HANG, all).await.is_err() {
        eprintln!(
            "\nWARNING: an iteration hung for {HANG:?} (a lost wake-up in the channel under test); aborted"
        );
        for a in aborts {
            a.abort();
        }
    }
}

async fn spsc_tokio_mpsc(cap: usize) {
    let (tx, mut rx) = tokio::sync::mpsc::channel(cap);
    let consumer = tokio::spawn(async move {
        for _ in 0..ITEMS {
            std::hint::black_box(rx.recv().await.unwrap());
        }
    });
    for i in 0..ITEMS {
        tx.send(i).await.unwrap();
    }
    consumer.await.unwrap();
}

fn runtimes() -> [(&'static str, Runtime); 2] {
    let mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let ct = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    [("mt", mt), ("ct", ct)]
}

fn fifo(c: &mut Criterion) {
    for (flavor, rt) in runtimes() {
        for cap in [100, 1024, 0] {
            let name = if cap == 0 {
                format!("queue/mpmc_4x4_unbounded/{flavor}")
            } else {
                format!("queue/mpmc_4x4_cap{cap}/{flavor}")
            };
            let mut g = c.benchmark_group(name);
            g.throughput(Throughput::Elements(ITEMS));
            g.bench_function("threadlet", |b| {
                b.to_async(&rt)
                    .iter(|| mpmc(threadlet::Queue::<u64>::new(cap), 4, 4));
            });
            g.bench_function("async_channel", |b| {
                b.to_async(&rt).iter(|| {
                    let (tx, rx) = if cap == 0 {
                        async_channel::unbounded()
                    } else {
                        async_channel::bounded(cap)
                    };
                    mpmc(AsyncChannel(tx, rx), 4, 4)
                });
            });
            g.bench_function("flume", |b| {
                b.to_async(&rt).iter(|| {
                    let (tx, rx) = if cap == 0 {
                        flume::unbounded()
                    } else {
                        flume::bounded(cap)
                    };
                    mpmc(Flume(tx, rx), 4, 4)
                });
            });
            g.bench_function("naive_mutex_notify", |b| {
                b.to_async(&rt)
                    .iter(|| mpmc(Naive::<VecDeque<u64>>::new(cap), 4, 4));
            });
            g.finish();
        }

        let mut g = c.benchmark_group(format!("queue/spsc_cap100/{flavor}"));
        g.throughput(Throughput::Elements(ITEMS));
        g.bench_function("threadlet", |b| {
            b.to_async(&rt)
                .iter(|| mpmc(threadlet::Queue::<u64>::new(100), 1, 1));
        });
        g.bench_function("async_channel", |b| {
            b.to_async(&rt).iter(|| {
                let (tx, rx) = async_channel::bounded(100);
                mpmc(AsyncChannel(tx, rx), 1, 1)
            });
        });
        g.bench_function("flume", |b| {
            b.to_async(&rt).iter(|| {
                let (tx, rx) = flume::bounded(100);
                mpmc(Flume(tx, rx), 1, 1)
            });
        });
        g.bench_function("tokio_mpsc", |b| {
            b.to_async(&rt).iter(|| spsc_tokio_mpsc(100));
        });
        g.finish();
    }
}

fn orderings(c: &mut Criterion) {
    for (flavor, rt) in runtimes() {
        let mut g = c.benchmark_group(format!("queue/priority_4x4_cap100/{flavor}"));
        g.throughput(Throughput::Elements(ITEMS));
        g.bench_function("threadlet", |b| {
            b.to_async(&rt)
                .iter(|| mpmc(threadlet::PriorityQueue::<u64>::new(100), 4, 4));
        });
        g.bench_function("naive_heap_notify", |b| {
            b.to_async(&rt)
                .iter(|| mpmc(Naive::<BinaryHeap<std::cmp::Reverse<u64>>>::new(100), 4, 4));
        });
        g.finish();

        let mut g = c.benchmark_group(format!("queue/lifo_4x4_cap100/{flavor}"));
        g.throughput(Throughput::Elements(ITEMS));
        g.bench_function("threadlet", |b| {
            b.to_async(&rt)
                .iter(|| mpmc(threadlet::LifoQueue::<u64>::new(100), 4, 4));
        });
        g.bench_function("naive_vec_notify", |b| {
            b.to_async(&rt)
                .iter(|| mpmc(Naive::<Vec<u64>>::new(100), 4, 4));
        });
        g.finish();
    }
}

fn uncontended(c: &mut Criterion) {
    let mut g = c.benchmark_group("queue/uncontended");
    g.throughput(Throughput::Elements(1));
    let q = threadlet::Queue::<u64>::new(100);
    g.bench_function("threadlet", |b| {
        b.iter(|| {
            q.put_nowait(1).unwrap();
            std::hint::black_box(q.get_nowait().unwrap())
        });
    });
    let (tx, rx) = async_channel::bounded::<u64>(100);
    g.bench_function("async_channel", |b| {
        b.iter(|| {
            tx.try_send(1).unwrap();
            std::hint::black_box(rx.try_recv().unwrap())
        });
    });
    let (tx, rx) = flume::bounded::<u64>(100);
    g.bench_function("flume", |b| {
        b.iter(|| {
            tx.try_send(1).unwrap();
            std::hint::black_box(rx.try_recv().unwrap())
        });
    });
    let (tx, mut rx) = tokio::sync::mpsc::channel::<u64>(100);
    g.bench_function("tokio_mpsc", |b| {
        b.iter(|| {
            tx.try_send(1).unwrap();
            std::hint::black_box(rx.try_recv().unwrap())
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = uncontended, fifo, orderings
}
criterion_main!(benches);
