//! No item lost or duplicated: 8 producers and 8 consumers on a multi-thread
//! runtime push 100 000 items through small queues while their `put` and
//! `get` futures are cancelled at random mid-wait (a `tokio::time::timeout`
//! of zero or one millisecond, a losing `select!` branch), then every item is
//! accounted for exactly once and `join` returns.
//!
//! `THREADLET_STRESS=1` runs 100 000 items *per producer* (800 000) instead.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use threadlet::queue::{BaseQueue, Fifo, Lifo, Order, Priority};

const PRODUCERS: u64 = 8;
const CONSUMERS: usize = 8;

fn items_per_producer() -> u64 {
    if std::env::var_os("THREADLET_STRESS").is_some_and(|v| v == "1") {
        100_000
    } else {
        100_000 / PRODUCERS
    }
}

/// A small xorshift generator: each task gets its own seed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// What one run counted.
#[derive(Default)]
struct Counters {
    cancelled_puts: AtomicUsize,
    cancelled_gets: AtomicUsize,
}

async fn producer<O: Order<u64>>(q: BaseQueue<u64, O>, p: u64, n: u64, counters: Arc<Counters>) {
    let mut rng = Rng::new(p + 1);
    for i in 0..n {
        let item = p * 1_000_000_000 + i;
        if rng.below(32) == 0 {
            // Let the consumers catch up now and then, so they wait too.
            tokio::time::sleep(Duration::from_micros(100)).await;
        }
        // Retry until the item is in; a cancelled put must have inserted nothing.
        loop {
            let inserted = match rng.below(6) {
                0 => q.put(item).await.is_ok(),
                1 => matches!(
                    tokio::time::timeout(Duration::ZERO, q.put(item)).await,
                    Ok(Ok(()))
                ),
                2 => matches!(
                    tokio::time::timeout(Duration::from_millis(1), q.put(item)).await,
                    Ok(Ok(()))
                ),
                3 => tokio::select! {
                    r = q.put(item) => r.is_ok(),
                    () = tokio::task::yield_now() => false,
                },
                4 => match q.put_timeout(item, Duration::from_millis(1)).await {
                    Ok(()) => true,
                    Err(e) => {
                        assert_eq!(e.into_inner(), item, "the item must come back");
                        false
                    }
                },
                _ => q.put_nowait(item).is_ok(),
            };
            if inserted {
                break;
            }
            counters.cancelled_puts.fetch_add(1, Ordering::Relaxed);
        }
    }
}

async fn consumer<O: Order<u64>>(
    q: BaseQueue<u64, O>,
    c: usize,
    counters: Arc<Counters>,
) -> Vec<u64> {
    let mut rng = Rng::new(1_000 + c as u64);
    let mut got = Vec::new();
    loop {
        let result = match rng.below(7) {
            0 => Some(q.get().await),
            1 => tokio::time::timeout(Duration::ZERO, q.get()).await.ok(),
            2 => tokio::time::timeout(Duration::from_millis(1), q.get())
                .await
                .ok(),
            3 => tokio::select! {
                r = q.get() => Some(r),
                () = tokio::task::yield_now() => None,
            },
            4 => match q.get_timeout(Duration::from_millis(1)).await {
                Err(e) if e.is_empty() => None,
                other => Some(other),
            },
            // A fresh stream each time: dropping it gives up its place.
            5 => {
                let mut stream = q.stream();
                tokio::select! {
                    r = stream.next() => Some(r.ok_or(threadlet::error::GetError::ShutDown)),
                    () = tokio::task::yield_now() => None,
                }
            }
            _ => match q.get_nowait() {
                Err(e) if e.is_empty() => None,
                other => Some(other),
            },
        };
        match result {
            None => {
                counters.cancelled_gets.fetch_add(1, Ordering::Relaxed);
            }
            Some(Ok(item)) => {
                got.push(item);
                q.task_done().unwrap();
            }
            Some(Err(e)) => {
                assert!(e.is_shut_down(), "{e}");
                return got;
            }
        }
    }
}

fn run<O: Order<u64>>(maxsize: usize)
where
    O::Store: Send,
{
    let n = items_per_producer();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let counters = Arc::new(Counters::default());
    let got = rt.block_on(async {
        let q = BaseQueue::<u64, O>::new(maxsize);
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|c| tokio::spawn(consumer(q.clone(), c, counters.clone())))
            .collect();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| tokio::spawn(producer(q.clone(), p, n, counters.clone())))
            .collect();
        for p in producers {
            p.await.unwrap();
        }
        // Every item put is got and marked done: a get cancelled after taking
        // an item would leave join hanging, so bound it.
        let joined = tokio::time::timeout(Duration::from_secs(120), q.join()).await;
        assert!(
            joined.is_ok(),
            "join hung: {} unfinished, {} queued",
            q.unfinished_tasks(),
            q.len()
        );
        q.shutdown();
        let mut got = Vec::new();
        for c in consumers {
            got.extend(c.await.unwrap());
        }
        assert!(q.is_empty());
        got
    });
    let total = PRODUCERS * n;
    assert_eq!(got.len() as u64, total, "items lost or duplicated");
    let mut seen = vec![0u8; total as usize];
    for item in got {
        let (p, i) = (item / 1_000_000_000, item % 1_000_000_000);
        let slot = &mut seen[(p * n + i) as usize];
        assert_eq!(*slot, 0, "item {item} got twice");
        *slot = 1;
    }
    // The cancellations really happened, on both sides.
    let cancelled_puts = counters.cancelled_puts.load(Ordering::Relaxed);
    let cancelled_gets = counters.cancelled_gets.load(Ordering::Relaxed);
    eprintln!("{cancelled_puts} cancelled puts, {cancelled_gets} cancelled gets");
    assert!(cancelled_gets > 100, "only {cancelled_gets} cancelled gets");
    if maxsize > 0 {
        assert!(cancelled_puts > 100, "only {cancelled_puts} cancelled puts");
    }
}

#[test]
fn fifo_bounded_loses_and_duplicates_nothing_under_cancellation() {
    run::<Fifo>(16);
}

#[test]
fn fifo_unbounded_loses_and_duplicates_nothing_under_cancellation() {
    run::<Fifo>(0);
}

#[test]
fn lifo_loses_and_duplicates_nothing_under_cancellation() {
    run::<Lifo>(4);
}

#[test]
fn priority_loses_and_duplicates_nothing_under_cancellation() {
    run::<Priority>(8);
}

/// The FIFO order survives the storm: one consumer sees each producer's
/// items in the order they were put.
#[test]
fn fifo_order_per_producer_survives_cancellation() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let counters = Arc::new(Counters::default());
    rt.block_on(async {
        let q = BaseQueue::<u64, Fifo>::new(8);
        let cons = tokio::spawn(consumer(q.clone(), 0, counters.clone()));
        let producers: Vec<_> = (0..4)
            .map(|p| tokio::spawn(producer(q.clone(), p, 5_000, counters.clone())))
            .collect();
        for p in producers {
            p.await.unwrap();
        }
        q.join().await;
        q.shutdown();
        let got = cons.await.unwrap();
        assert_eq!(got.len(), 20_000);
        for p in 0..4 {
            let mine: Vec<_> = got.iter().filter(|i| **i / 1_000_000_000 == p).collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "producer {p} reordered"
            );
        }
    });
}
