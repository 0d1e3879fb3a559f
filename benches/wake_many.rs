//! Handing permits to many parked waiters: 40,000 waiters queued on a
//! semaphore with no permit, then released all at once (`release_n(N)` /
//! `add_permits(N)`) or one by one (N `release()` / `add_permits(1)`), and
//! every waiter polled to completion. threadlet's `Semaphore` beside
//! `tokio::sync::Semaphore`, interleaved in one run. Only the release and the
//! completing polls are timed; queueing the waiters is setup. Waiters are
//! polled by hand with a no-op waker, so no scheduler cost is included.
//!
//! `cargo bench --bench wake_many -- --warm-up-time 1 --measurement-time 3`

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

const WAITERS: usize = 40_000;

type Waiter<'a> = Pin<Box<dyn Future<Output = ()> + 'a>>;

/// Polls every waiter once; returns how many completed.
fn poll_all(waiters: &mut [Waiter<'_>]) -> usize {
    let mut cx = Context::from_waker(Waker::noop());
    let mut done = 0;
    for waiter in waiters {
        if let Poll::Ready(()) = waiter.as_mut().poll(&mut cx) {
            done += 1;
        }
    }
    done
}

/// Queues `WAITERS` waiters made by `wait`, then times `release` plus the
/// polls that complete them.
fn run<'a>(wait: impl Fn() -> Waiter<'a>, release: impl FnOnce()) -> Duration {
    let mut waiters: Vec<Waiter<'a>> = (0..WAITERS).map(|_| wait()).collect();
    assert_eq!(poll_all(&mut waiters), 0, "every waiter queues");
    let start = Instant::now();
    release();
    let done = poll_all(&mut waiters);
    let took = start.elapsed();
    assert_eq!(done, WAITERS, "every waiter got a permit");
    took
}

fn threadlet_once(one_by_one: bool) -> Duration {
    let sem = threadlet::Semaphore::new(0);
    run(
        || Box::pin(sem.acquire()),
        || {
            if one_by_one {
                for _ in 0..WAITERS {
                    sem.release().unwrap();
                }
            } else {
                sem.release_n(WAITERS).unwrap();
            }
        },
    )
}

fn tokio_once(one_by_one: bool) -> Duration {
    let sem = Arc::new(tokio::sync::Semaphore::new(0));
    run(
        || {
            let sem = sem.clone();
            Box::pin(async move { sem.acquire().await.unwrap().forget() })
        },
        || {
            if one_by_one {
                for _ in 0..WAITERS {
                    sem.add_permits(1);
                }
            } else {
                sem.add_permits(WAITERS);
            }
        },
    )
}

fn wake_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("wake_many_40k");
    group.sample_size(10);
    for (name, one_by_one) in [("release_n", false), ("n_releases", true)] {
        group.bench_function(BenchmarkId::new("threadlet", name), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| threadlet_once(one_by_one)).sum())
        });
        group.bench_function(BenchmarkId::new("tokio", name), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| tokio_once(one_by_one)).sum())
        });
    }
    group.finish();
}

criterion_group!(benches, wake_many);
criterion_main!(benches);
