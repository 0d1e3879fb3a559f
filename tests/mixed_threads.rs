//! One primitive serves async tasks and plain OS threads together: a Lock, a
//! Semaphore and an Event each shared by `std::thread`s (blocking forms),
//! `spawn_blocking` closures and tasks on a multi-thread runtime.

#[path = "common/sync_util.rs"]
mod sync_util;
use sync_util::State;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use threadlet::{Event, Lock, Semaphore};

#[test]
fn lock_shared_by_threads_blocking_tasks_and_tasks() {
    let lock = Lock::new();
    let counter = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (l, c) = (lock.clone(), counter.clone());
            std::thread::spawn(move || {
                for _ in 0..500 {
                    let _g = l.blocking_lock();
                    let v = c.load(Ordering::Relaxed);
                    std::thread::yield_now();
                    c.store(v + 1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let (l, c) = (lock.clone(), counter.clone());
    sync_util::run_mt(60, async move {
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let (l, c) = (l.clone(), c.clone());
            tasks.push(tokio::task::spawn_blocking(move || {
                for _ in 0..500 {
                    l.blocking_acquire();
                    let v = c.load(Ordering::Relaxed);
                    c.store(v + 1, Ordering::Relaxed);
                    l.release().unwrap();
                }
            }));
        }
        for _ in 0..16 {
            let (l, c) = (l.clone(), c.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..500 {
                    let _g = l.lock().await;
                    let v = c.load(Ordering::Relaxed);
                    tokio::task::yield_now().await;
                    c.store(v + 1, Ordering::Relaxed);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::Relaxed), 20 * 500);
    assert_eq!(lock.state(), (1, 0));
}

#[test]
fn semaphore_bounds_threads_and_tasks_together() {
    let sem = Semaphore::new(3);
    let inside = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let enter = |inside: &AtomicUsize, max: &AtomicUsize| {
        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
        max.fetch_max(now, Ordering::SeqCst);
    };
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let (s, i, m) = (sem.clone(), inside.clone(), max.clone());
            std::thread::spawn(move || {
                for _ in 0..300 {
                    let _p = s.blocking_permit();
                    enter(&i, &m);
                    std::thread::yield_now();
                    i.fetch_sub(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    let (s, i, m) = (sem.clone(), inside.clone(), max.clone());
    sync_util::run_mt(60, async move {
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (s, i, m) = (s.clone(), i.clone(), m.clone());
                tokio::spawn(async move {
                    for _ in 0..300 {
                        let _p = s.permit().await;
                        enter(&i, &m);
                        tokio::task::yield_now().await;
                        i.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    for t in threads {
        t.join().unwrap();
    }
    let max = max.load(Ordering::SeqCst);
    assert!(max <= 3, "{max} inside a Semaphore(3)");
    assert_eq!(sem.state(), (3, 0));
}

#[test]
fn event_wakes_threads_and_tasks_together() {
    for _round in 0..20 {
        let event = Event::new();
        let woken = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (e, w) = (event.clone(), woken.clone());
                std::thread::spawn(move || {
                    e.blocking_wait();
                    w.fetch_add(1, Ordering::SeqCst);
                })
            })
            .collect();
        let (e, w) = (event.clone(), woken.clone());
        sync_util::run_mt(60, async move {
            let tasks: Vec<_> = (0..16)
                .map(|_| {
                    let (e, w) = (e.clone(), w.clone());
                    tokio::spawn(async move {
                        e.wait().await;
                        w.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            let setter = e.clone();
            tokio::task::spawn_blocking(move || setter.set())
                .await
                .unwrap();
            for t in tasks {
                t.await.unwrap();
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(woken.load(Ordering::SeqCst), 20);
        assert_eq!(event.statistics().waiters, 0);
    }
}
