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
//!   and `LifoQueue` vs a naive `Mutex<BinaryHeap>` / `Mutex<Vec>` + `Notify`
//!   (and, for the heap, + `event-listener`, the baseline issue 11 names).
//! * `queue/mpmc_4x4_cap100_task_done`: threadlet with `task_done()` per item
//!   and a final `join()` (what `queue.Queue` users write) vs the channels
//!   without any accounting.
//! * `queue/baozi`: the baozi shop (4 cooks, 4 customers, maxsize 100,
//!   `task_done`, `join`) vs Python's `threading` + `queue.Queue` and
//!   `asyncio.Queue` (`benches/baozi_python.py`, run as `python3` in the same
//!   interleaved rounds; the Python samples time only the workload, not the
//!   interpreter start). Per item.
//!
//! A watchdog aborts an iteration that hangs for 10 s and prints a warning:
//! `flume` 0.12's bounded MPMC rows on the 2-worker runtime were seen to hang
//! here now and then (a lost wake-up with several async receivers).
//!
//! Every contended group runs on a multi-thread runtime with 2 workers
//! (`.../mt/...`) and on a current-thread runtime (`.../ct/...`), whose
//! figures are steadier on a small shared machine.
//!
//! `cargo bench --bench queue` (settings and output: `benches/harness/mod.rs`)

use std::collections::{BinaryHeap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use threadlet::queue::{BaseQueue, Order};
use tokio::runtime::Runtime;
use tokio::sync::Notify;

mod harness;
use harness::{Harness, Sampler, on_runtime};

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
    mpmc_with(chan, producers, consumers, |_| {}).await;
}

/// [`mpmc`] calling `done(&chan)` after each item received.
async fn mpmc_with<C: Chan>(chan: C, producers: u64, consumers: u64, done: fn(&C)) {
    let mut tasks = Vec::new();
    for _ in 0..consumers {
        let chan = chan.clone();
        tasks.push(tokio::spawn(async move {
            let mut sum = 0u64;
            for _ in 0..ITEMS / consumers {
                sum = sum.wrapping_add(chan.recv().await);
                done(&chan);
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
            "\nWARNING: an iteration of {} hung for {HANG:?} (a lost wake-up in the channel under test); aborted",
            std::any::type_name::<C>()
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

/// The `queue.Queue` user's loop: `task_done()` per item, then `join()`.
async fn fifo_task_done(cap: usize) {
    let q = threadlet::Queue::<u64>::new(cap);
    mpmc_with(q.clone(), 4, 4, |q| q.task_done().unwrap()).await;
    q.join().await;
}

/// A `Mutex<BinaryHeap>` with two `event-listener` events (listen, re-check,
/// wait), the priority baseline issue 11 names.
struct HeapEvents {
    store: Mutex<BinaryHeap<std::cmp::Reverse<u64>>>,
    not_empty: event_listener::Event,
    not_full: event_listener::Event,
    cap: usize,
}

impl Chan for Arc<HeapEvents> {
    async fn send(&self, v: u64) {
        loop {
            let listener = {
                let mut store = self.store.lock().unwrap();
                if store.len() < self.cap {
                    store.push(std::cmp::Reverse(v));
                    drop(store);
                    self.not_empty.notify(1);
                    return;
                }
                self.not_full.listen()
            };
            if self.store.lock().unwrap().len() < self.cap {
                continue;
            }
            listener.await;
        }
    }
    async fn recv(&self) -> u64 {
        loop {
            let listener = {
                let mut store = self.store.lock().unwrap();
                if let Some(v) = store.pop() {
                    drop(store);
                    self.not_full.notify(1);
                    return v.0;
                }
                self.not_empty.listen()
            };
            if !self.store.lock().unwrap().is_empty() {
                continue;
            }
            listener.await;
        }
    }
}

fn heap_events(cap: usize) -> Arc<HeapEvents> {
    Arc::new(HeapEvents {
        store: Mutex::new(BinaryHeap::new()),
        not_empty: event_listener::Event::new(),
        not_full: event_listener::Event::new(),
        cap,
    })
}

/// One sample of the Python baozi shop: `python3 benches/baozi_python.py
/// <mode> <items>` prints the seconds its workload took (interpreter start
/// excluded); `iters` such runs, summed.
fn python_baozi(mode: &'static str, items: u64) -> Sampler<'static> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/baozi_python.py");
    Box::new(move |iters| {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let out = std::process::Command::new("python3")
                .args([script, mode, &items.to_string()])
                .output()
                .expect("run python3");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let secs: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
            total += Duration::from_secs_f64(secs);
        }
        total
    })
}

/// Items per Python sample (Python moves far fewer per second; the row is per item).
const PY_ITEMS: u64 = 50_000;

/// threadlet's baozi shop: 4 cooks, 4 customers, maxsize 100, `task_done`,
/// `join`, then `shutdown` — the same program as `baozi_python.py`.
async fn baozi(items: u64) {
    let q = threadlet::Queue::<u64>::new(100);
    let mut customers = Vec::new();
    for _ in 0..4 {
        let q = q.clone();
        customers.push(tokio::spawn(async move {
            while let Ok(b) = q.get().await {
                std::hint::black_box(b);
                q.task_done().unwrap();
            }
        }));
    }
    let mut cooks = Vec::new();
    for c in 0..4 {
        let q = q.clone();
        cooks.push(tokio::spawn(async move {
            for i in 0..items / 4 {
                q.put(c * items + i).await.unwrap();
            }
        }));
    }
    for c in cooks {
        c.await.unwrap();
    }
    q.join().await;
    q.shutdown();
    for c in customers {
        c.await.unwrap();
    }
}

fn main() {
    let [(_, mt), (_, ct)] = runtimes();
    let mut h = Harness::new("queue");

    let q = threadlet::Queue::<u64>::new(100);
    let (atx, arx) = async_channel::bounded::<u64>(100);
    let (ftx, frx) = flume::bounded::<u64>(100);
    let (ttx, mut trx) = tokio::sync::mpsc::channel::<u64>(100);
    h.row(
        "queue/uncontended",
        "put_nowait+get_nowait",
        vec![
            (
                "threadlet",
                Box::new(|n| {
                    time_n(n, || {
                        q.put_nowait(1).unwrap();
                        q.get_nowait().unwrap()
                    })
                }) as Sampler<'_>,
            ),
            (
                "async_channel",
                Box::new(|n| {
                    time_n(n, || {
                        atx.try_send(1).unwrap();
                        arx.try_recv().unwrap()
                    })
                }),
            ),
            (
                "flume",
                Box::new(|n| {
                    time_n(n, || {
                        ftx.try_send(1).unwrap();
                        frx.try_recv().unwrap()
                    })
                }),
            ),
            (
                "tokio_mpsc",
                Box::new(|n| {
                    time_n(n, || {
                        ttx.try_send(1).unwrap();
                        trx.try_recv().unwrap()
                    })
                }),
            ),
        ],
    );

    for (flavor, rt) in [("ct", &ct), ("mt", &mt)] {
        for cap in [100, 1024, 0] {
            let name = if cap == 0 {
                format!("queue/mpmc_4x4_unbounded/{flavor}")
            } else {
                format!("queue/mpmc_4x4_cap{cap}/{flavor}")
            };
            let chan = move || {
                if cap == 0 {
                    flume::unbounded()
                } else {
                    flume::bounded(cap)
                }
            };
            let achan = move || {
                if cap == 0 {
                    async_channel::unbounded()
                } else {
                    async_channel::bounded(cap)
                }
            };
            h.row(
                &name,
                "100k items",
                vec![
                    (
                        "threadlet",
                        on_runtime(rt, move || mpmc(threadlet::Queue::<u64>::new(cap), 4, 4)),
                    ),
                    (
                        "async_channel",
                        on_runtime(rt, move || {
                            let (tx, rx) = achan();
                            mpmc(AsyncChannel(tx, rx), 4, 4)
                        }),
                    ),
                    (
                        "flume",
                        on_runtime(rt, move || {
                            let (tx, rx) = chan();
                            mpmc(Flume(tx, rx), 4, 4)
                        }),
                    ),
                    (
                        "naive_mutex_notify",
                        on_runtime(rt, move || mpmc(Naive::<VecDeque<u64>>::new(cap), 4, 4)),
                    ),
                ],
            );
        }

        h.row(
            &format!("queue/mpmc_4x4_cap100_task_done/{flavor}"),
            "100k items",
            vec![
                ("threadlet", on_runtime(rt, || fifo_task_done(100))),
                (
                    "async_channel",
                    on_runtime(rt, || {
                        let (tx, rx) = async_channel::bounded(100);
                        mpmc(AsyncChannel(tx, rx), 4, 4)
                    }),
                ),
                (
                    "flume",
                    on_runtime(rt, || {
                        let (tx, rx) = flume::bounded(100);
                        mpmc(Flume(tx, rx), 4, 4)
                    }),
                ),
            ],
        );

        h.row(
            &format!("queue/spsc_cap100/{flavor}"),
            "100k items",
            vec![
                (
                    "threadlet",
                    on_runtime(rt, || mpmc(threadlet::Queue::<u64>::new(100), 1, 1)),
                ),
                (
                    "async_channel",
                    on_runtime(rt, || {
                        let (tx, rx) = async_channel::bounded(100);
                        mpmc(AsyncChannel(tx, rx), 1, 1)
                    }),
                ),
                (
                    "flume",
                    on_runtime(rt, || {
                        let (tx, rx) = flume::bounded(100);
                        mpmc(Flume(tx, rx), 1, 1)
                    }),
                ),
                ("tokio_mpsc", on_runtime(rt, || spsc_tokio_mpsc(100))),
            ],
        );

        h.row(
            &format!("queue/priority_4x4_cap100/{flavor}"),
            "100k items",
            vec![
                (
                    "threadlet",
                    on_runtime(rt, || mpmc(threadlet::PriorityQueue::<u64>::new(100), 4, 4)),
                ),
                (
                    "naive_heap_notify",
                    on_runtime(rt, || {
                        mpmc(Naive::<BinaryHeap<std::cmp::Reverse<u64>>>::new(100), 4, 4)
                    }),
                ),
                (
                    "naive_heap_event_listener",
                    on_runtime(rt, || mpmc(heap_events(100), 4, 4)),
                ),
            ],
        );

        h.row(
            &format!("queue/lifo_4x4_cap100/{flavor}"),
            "100k items",
            vec![
                (
                    "threadlet",
                    on_runtime(rt, || mpmc(threadlet::LifoQueue::<u64>::new(100), 4, 4)),
                ),
                (
                    "naive_vec_notify",
                    on_runtime(rt, || mpmc(Naive::<Vec<u64>>::new(100), 4, 4)),
                ),
            ],
        );
    }

    let items = if h.smoke() { 400 } else { ITEMS };
    let py_items = if h.smoke() { 400 } else { PY_ITEMS };
    h.row_per(
        "queue/baozi/ct",
        "item",
        vec![
            ("threadlet", on_runtime(&ct, move || baozi(items)), items),
            (
                "python_threading",
                python_baozi("threading", py_items),
                py_items,
            ),
            (
                "python_asyncio",
                python_baozi("asyncio", py_items),
                py_items,
            ),
        ],
    );
    h.finish();
}

fn time_n<R>(iters: u64, mut f: impl FnMut() -> R) -> Duration {
    let start = std::time::Instant::now();
    for _ in 0..iters {
        std::hint::black_box(f());
    }
    start.elapsed()
}
