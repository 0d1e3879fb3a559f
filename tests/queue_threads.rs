//! The blocking forms: a queue links plain OS threads and async tasks.

use std::time::{Duration, Instant};

use threadlet::error::{GetError, PutError};
use threadlet::{LifoQueue, PriorityQueue, Queue};

const PER_PRODUCER: u32 = 5_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn expected(producers: u32) -> Vec<u32> {
    (0..producers)
        .flat_map(|p| (0..PER_PRODUCER).map(move |i| p * 1_000_000 + i))
        .collect()
}

#[test]
fn os_thread_producers_feed_task_consumers() {
    let rt = runtime();
    let q = Queue::new(8);
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let q = q.clone();
            rt.spawn(async move {
                let mut got = Vec::new();
                while let Ok(item) = q.get().await {
                    got.push(item);
                    q.task_done().unwrap();
                }
                got
            })
        })
        .collect();
    let producers: Vec<_> = (0..4u32)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    q.blocking_put(p * 1_000_000 + i).unwrap();
                }
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    q.blocking_join(); // a thread waits for the tasks' task_done calls
    assert_eq!(q.unfinished_tasks(), 0);
    q.shutdown();
    let mut all = Vec::new();
    for c in consumers {
        let got = rt.block_on(c).unwrap();
        all.extend(got);
    }
    all.sort_unstable();
    assert_eq!(all, expected(4));
}

#[test]
fn task_producers_feed_os_thread_consumers() {
    let rt = runtime();
    let q = Queue::new(8);
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let q = q.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(item) = q.blocking_get() {
                    got.push(item);
                }
                got
            })
        })
        .collect();
    rt.block_on(async {
        let producers: Vec<_> = (0..4u32)
            .map(|p| {
                let q = q.clone();
                tokio::spawn(async move {
                    for i in 0..PER_PRODUCER {
                        q.put(p * 1_000_000 + i).await.unwrap();
                    }
                })
            })
            .collect();
        for p in producers {
            p.await.unwrap();
        }
    });
    q.shutdown();
    let mut all = Vec::new();
    for c in consumers {
        let got = c.join().unwrap();
        // One consumer sees one producer's items in order (FIFO).
        for p in 0..4 {
            let mine: Vec<_> = got.iter().filter(|i| *i / 1_000_000 == p).collect();
            assert!(mine.windows(2).all(|w| w[0] < w[1]));
        }
        all.extend(got);
    }
    all.sort_unstable();
    assert_eq!(all, expected(4));
}

#[test]
fn threads_and_tasks_share_both_ends() {
    let rt = runtime();
    let q = PriorityQueue::new(4);
    let thread_consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = q.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                while let Ok(item) = q.blocking_get_timeout(Duration::from_secs(30)) {
                    got.push(item);
                }
                got
            })
        })
        .collect();
    let task_consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = q.clone();
            rt.spawn(async move {
                let mut got = Vec::new();
                while let Ok(item) = q.get().await {
                    got.push(item);
                }
                got
            })
        })
        .collect();
    let thread_producers: Vec<_> = (0..2u32)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    q.blocking_put_timeout(p * 1_000_000 + i, Duration::from_secs(30))
                        .unwrap();
                }
            })
        })
        .collect();
    rt.block_on(async {
        let producers: Vec<_> = (2..4u32)
            .map(|p| {
                let q = q.clone();
                tokio::spawn(async move {
                    for i in 0..PER_PRODUCER {
                        q.put(p * 1_000_000 + i).await.unwrap();
                    }
                })
            })
            .collect();
        for p in producers {
            p.await.unwrap();
        }
    });
    for p in thread_producers {
        p.join().unwrap();
    }
    q.shutdown();
    let mut all = Vec::new();
    for c in thread_consumers {
        all.extend(c.join().unwrap());
    }
    for c in task_consumers {
        all.extend(rt.block_on(c).unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, expected(4));
}

#[test]
fn blocking_timeouts_expire_and_hand_items_back() {
    let q = LifoQueue::new(1);
    let start = Instant::now();
    assert_eq!(
        q.blocking_get_timeout(Duration::from_millis(50)),
        Err(GetError::Empty)
    );
    assert!(start.elapsed() >= Duration::from_millis(50));
    q.blocking_put(1).unwrap();
    let start = Instant::now();
    assert_eq!(
        q.blocking_put_timeout(2, Duration::from_millis(50)),
        Err(PutError::Full(2))
    );
    assert!(start.elapsed() >= Duration::from_millis(50));
    // Zero timeout: a try that still takes what is there.
    assert_eq!(q.blocking_get_timeout(Duration::ZERO), Ok(1));
    q.blocking_put_timeout(3, Duration::ZERO).unwrap();
    assert_eq!(q.blocking_get_timeout(Duration::MAX), Ok(3));
    assert_eq!(q.len(), 0);
}

#[test]
fn a_blocked_thread_is_woken_by_a_task() {
    let rt = runtime();
    let q = Queue::new(1);
    let waiter = {
        let q = q.clone();
        std::thread::spawn(move || q.blocking_get_timeout(Duration::from_secs(30)))
    };
    rt.block_on(async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        q.put("from a task").await.unwrap();
    });
    assert_eq!(waiter.join().unwrap(), Ok("from a task"));
}

/// Blocking waits that time out mid-wait give up their place without taking
/// or losing anything: threads retry short timed puts and gets against tasks.
#[test]
fn timed_out_blocking_waits_lose_nothing() {
    let rt = runtime();
    let q = Queue::new(1);
    let timeouts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let thread_consumers: Vec<_> = (0..2)
        .map(|_| {
            let q = q.clone();
            let timeouts = timeouts.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    match q.blocking_get_timeout(Duration::from_micros(50)) {
                        Ok(item) => got.push(item),
                        Err(GetError::Empty) => {
                            timeouts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Err(GetError::ShutDown) => return got,
                    }
                }
            })
        })
        .collect();
    let thread_producers: Vec<_> = (0..2u32)
        .map(|p| {
            let q = q.clone();
            let timeouts = timeouts.clone();
            std::thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    let mut item = p * 1_000_000 + i;
                    loop {
                        match q.blocking_put_timeout(item, Duration::from_micros(50)) {
                            Ok(()) => break,
                            Err(e) => {
                                assert!(e.is_full());
                                timeouts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                item = e.into_inner();
                            }
                        }
                    }
                }
            })
        })
        .collect();
    let consumer = {
        let q = q.clone();
        rt.spawn(async move {
            let mut got = Vec::new();
            while let Ok(item) = q.get().await {
                got.push(item);
            }
            got
        })
    };
    rt.block_on(async {
        let producers: Vec<_> = (2..4u32)
            .map(|p| {
                let q = q.clone();
                tokio::spawn(async move {
                    for i in 0..PER_PRODUCER {
                        q.put(p * 1_000_000 + i).await.unwrap();
                    }
                })
            })
            .collect();
        for p in producers {
            p.await.unwrap();
        }
    });
    for p in thread_producers {
        p.join().unwrap();
    }
    q.shutdown();
    let mut all = rt.block_on(consumer).unwrap();
    for c in thread_consumers {
        all.extend(c.join().unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, expected(4));
    eprintln!(
        "{} blocking waits timed out",
        timeouts.load(std::sync::atomic::Ordering::Relaxed)
    );
}
