//! Stress: many tasks contending on every primitive on the multi-thread
//! runtime, round after round, with the process's memory (RSS) flat after the
//! first round and the thread registry empty at the end.
//!
//! Each round runs, one primitive after the other, `TASKS` threadlet threads
//! ([`threadlet::spawn`], so every one also goes through the thread registry)
//! contending on a `Lock`, an `RLock`, a `Semaphore`, a `BoundedSemaphore`, a
//! `Condition`, an `Event`, a `Barrier` and a `Queue`, and checks the
//! primitive's account afterwards (exclusion never broken, every permit back,
//! every item got once, no waiter left). `VmRSS` is read after each round.
//!
//! By default: 10 000 tasks per primitive, 3 rounds (`cargo test` stays quick).
//! `THREADLET_STRESS=1`: 100 000 tasks per primitive, 10 rounds.
//!
//! The file holds a single `#[test]` on purpose: RSS is per process and libtest
//! runs the tests of a binary in parallel threads, so a second test here would
//! add its own allocations to the figures.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use threadlet::{Barrier, BoundedSemaphore, Condition, Event, Lock, Queue, RLock, Semaphore};

/// Permits of the two semaphores: several holders at once, many waiters.
const PERMITS: usize = 8;
/// Barrier parties: a divisor of both task counts (10 000 and 100 000).
const PARTIES: usize = 100;
/// Queue bound: small, so producers block too.
const MAXSIZE: usize = 64;
/// Upper bound for one primitive's round: a hang fails instead of stalling CI.
const ROUND_LIMIT: Duration = Duration::from_secs(300);

fn full() -> bool {
    std::env::var_os("THREADLET_STRESS").is_some_and(|v| v == "1")
}

/// `VmRSS` of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS line");
    line.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmRSS value in kB")
}

/// Spawns `n` threadlet threads running `f(i)` and joins them all.
async fn run_threads<F, Fut>(n: usize, f: F)
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let threads: Vec<_> = (0..n).map(|i| threadlet::spawn(f(i))).collect();
    for t in threads {
        t.join().await.expect("a stress thread failed");
    }
}

/// A critical section that notices a second holder: read, yield (so other
/// tasks run, on this worker and the others), write back the read value + 1.
/// Two holders at once lose an increment, and the final count shows it.
async fn unguarded_increment(counter: &AtomicUsize) {
    let v = counter.load(Ordering::SeqCst);
    tokio::task::yield_now().await;
    counter.store(v + 1, Ordering::SeqCst);
}

async fn lock(n: usize) {
    let lock = Arc::new(Lock::new());
    let count = Arc::new(AtomicUsize::new(0));
    run_threads(n, |_| {
        let (lock, count) = (lock.clone(), count.clone());
        async move {
            let _guard = lock.lock().await;
            unguarded_increment(&count).await;
        }
    })
    .await;
    assert_eq!(count.load(Ordering::SeqCst), n, "Lock: exclusion broken");
    assert!(!lock.locked());
    assert!(lock.try_acquire(), "Lock: left unusable");
    lock.release().unwrap();
}

async fn rlock(n: usize) {
    let lock = Arc::new(RLock::new());
    let count = Arc::new(AtomicUsize::new(0));
    run_threads(n, |_| {
        let (lock, count) = (lock.clone(), count.clone());
        async move {
            let _outer = lock.lock().await;
            let _inner = lock.lock().await; // re-entry: completes at once
            assert_eq!(lock.recursion_count(), 2);
            unguarded_increment(&count).await;
        }
    })
    .await;
    assert_eq!(count.load(Ordering::SeqCst), n, "RLock: exclusion broken");
    assert!(!lock.locked());
    assert_eq!(lock.count(), 0);
}

/// Both semaphores: never more than `PERMITS` holders, every permit back.
macro_rules! semaphore_round {
    ($name:ident, $ty:ty) => {
        async fn $name(n: usize) {
            let sem = Arc::new(<$ty>::new(PERMITS));
            let holders = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            run_threads(n, |_| {
                let (sem, holders, peak) = (sem.clone(), holders.clone(), peak.clone());
                async move {
                    let _permit = sem.permit().await;
                    let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    holders.fetch_sub(1, Ordering::SeqCst);
                }
            })
            .await;
            let peak = peak.load(Ordering::SeqCst);
            assert!(
                (1..=PERMITS).contains(&peak),
                "{}: {peak} holders at once",
                stringify!($ty)
            );
            assert_eq!(sem.value(), PERMITS, "{}: permits lost", stringify!($ty));
        }
    };
}

semaphore_round!(semaphore, Semaphore);
semaphore_round!(bounded_semaphore, BoundedSemaphore);

/// Half the threads produce one item each (`notify(1)`), half consume one
/// each (`wait_for` an item): every consumer gets one, none is left waiting.
async fn condition(n: usize) {
    let cond = Condition::new();
    let items = Arc::new(AtomicUsize::new(0));
    let consumed = Arc::new(AtomicUsize::new(0));
    run_threads(n, |i| {
        let (cond, items, consumed) = (cond.clone(), items.clone(), consumed.clone());
        async move {
            let mut guard = cond.lock().await;
            if i % 2 == 0 {
                items.fetch_add(1, Ordering::SeqCst);
                guard.notify(1).unwrap();
            } else {
                guard
                    .wait_for(|| items.load(Ordering::SeqCst) > 0)
                    .await
                    .unwrap();
                items.fetch_sub(1, Ordering::SeqCst);
                consumed.fetch_add(1, Ordering::SeqCst);
            }
        }
    })
    .await;
    assert_eq!(consumed.load(Ordering::SeqCst), n / 2);
    assert_eq!(items.load(Ordering::SeqCst), 0);
    assert!(!cond.locked());
}

/// Every thread waits for one event; the round's driver sets it once they
/// are all spawned (some are already waiting, some not yet).
async fn event(n: usize) {
    let event = Arc::new(Event::new());
    let woken = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (event, woken) = (event.clone(), woken.clone());
            threadlet::spawn(async move {
                event.wait().await;
                woken.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    tokio::task::yield_now().await;
    event.set();
    for t in threads {
        t.join().await.unwrap();
    }
    assert_eq!(woken.load(Ordering::SeqCst), n);
    event.clear();
    assert!(!event.wait_timeout(Duration::ZERO).await);
}

/// `n / PARTIES` generations; exactly one thread per generation gets index 0.
async fn barrier(n: usize) {
    assert_eq!(n % PARTIES, 0);
    let barrier = Barrier::new(PARTIES).unwrap();
    let zeros = Arc::new(AtomicUsize::new(0));
    run_threads(n, |_| {
        let (barrier, zeros) = (barrier.clone(), zeros.clone());
        async move {
            if barrier.wait().await.unwrap() == 0 {
                zeros.fetch_add(1, Ordering::SeqCst);
            }
        }
    })
    .await;
    assert_eq!(zeros.load(Ordering::SeqCst), n / PARTIES);
    assert_eq!(barrier.n_waiting(), 0);
    assert!(!barrier.broken());
}

/// Half the threads put one item each into a small queue, half get one each
/// and mark it done: every item got exactly once, `join` returns.
async fn queue(n: usize) {
    let q: Queue<usize> = Queue::new(MAXSIZE);
    let sum = Arc::new(AtomicUsize::new(0));
    run_threads(n, |i| {
        let (q, sum) = (q.clone(), sum.clone());
        async move {
            if i % 2 == 0 {
                q.put(i).await.unwrap();
            } else {
                let item = q.get().await.unwrap();
                sum.fetch_add(item, Ordering::SeqCst);
                q.task_done().unwrap();
            }
        }
    })
    .await;
    let expected: usize = (0..n).step_by(2).sum();
    assert_eq!(sum.load(Ordering::SeqCst), expected, "Queue: item lost");
    assert!(q.is_empty());
    assert_eq!(q.unfinished_tasks(), 0);
    q.join().await;
}

#[test]
fn contention_rounds_keep_memory_flat_and_the_registry_empty() {
    let (tasks, rounds) = if full() { (100_000, 10) } else { (10_000, 3) };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let mut rss = Vec::with_capacity(rounds);
    rt.block_on(async {
        for round in 1..=rounds {
            let round_start = Instant::now();
            macro_rules! step {
                ($f:ident) => {
                    tokio::time::timeout(ROUND_LIMIT, $f(tasks))
                        .await
                        .unwrap_or_else(|_| panic!("{} hung in round {round}", stringify!($f)));
                };
            }
            step!(lock);
            step!(rlock);
            step!(semaphore);
            step!(bounded_semaphore);
            step!(condition);
            step!(event);
            step!(barrier);
            step!(queue);
            let kib = rss_kib();
            rss.push(kib);
            eprintln!(
                "stress round {round}/{rounds}: {tasks} tasks x 8 primitives in {:?}, VmRSS {kib} KiB",
                round_start.elapsed()
            );
            assert_eq!(threadlet::active_count(), 0, "threads left after round {round}");
        }
    });
    drop(rt);
    eprintln!("stress: {rounds} rounds in {:?}", started.elapsed());

    // Flat after the first round. Exact equality would be wrong: the
    // allocator keeps freed pages (glibc trims its arenas only now and then,
    // and each worker allocates from its own arena), so RSS wanders without
    // any leak. Round 1 is not the base: it sizes the runtime, the registry
    // shards and the arenas to the peak task count. Since the wait lists give
    // their memory back after a burst, every round re-grows them, so round 2
    // is no longer at the plateau either: measured on the 2-core CI machine
    // (release, 100 000 tasks) rounds 2..10 went 117, 134, 134, 142, 135,
    // 147, 138, 138, 141 MiB, and in another run 118, 135, 135, 143, 143,
    // 137, 148, 148, 139 MiB — climbing for three or four rounds, then up and
    // down by up to 13 MiB around a level, no trend. So the check compares
    // levels once the climb is over, not single rounds: the median of the
    // last three rounds (8..=10) must stay within the larger of +10 % or
    // +16 MiB of the median of rounds 4..=6. A leak grows linearly instead:
    // in the full run the two medians (rounds 5 and 9) are four rounds of
    // 800 000 contended operations apart, so a leak of 6 bytes per operation
    // (any leaked task, waiter node or `Arc`) fails. The default run (3
    // rounds of 10 000 tasks) is a smoke test: each round after the first
    // within the same tolerance of round 2 catches leaks of about 200 bytes
    // per operation (a whole task or thread); `THREADLET_STRESS=1` is the
    // memory check.
    let median = |rounds: &[u64]| {
        let mut sorted = rounds.to_vec();
        sorted.sort_unstable();
        sorted[sorted.len() / 2]
    };
    let tolerance = |base: u64| base + (base / 10).max(16 * 1024);
    if rss.len() >= 9 {
        let base = median(&rss[3..6]);
        let level = median(&rss[rss.len() - 3..]);
        assert!(
            level <= tolerance(base),
            "RSS grew: the last three rounds' median {level} KiB, rounds 4..=6's median {base} KiB, limit {} KiB (all: {rss:?})",
            tolerance(base)
        );
    } else {
        let base = rss[rss.len().min(2) - 1];
        for (i, &kib) in rss.iter().enumerate().skip(1) {
            assert!(
                kib <= tolerance(base),
                "RSS grew: round {} at {kib} KiB, round 2 at {base} KiB, limit {} KiB (all: {rss:?})",
                i + 1,
                tolerance(base)
            );
        }
    }

    assert!(
        threadlet::enumerate().is_empty(),
        "threads left in the registry: {:?}",
        threadlet::enumerate()
    );
    assert_eq!(threadlet::active_count(), 0);
}
