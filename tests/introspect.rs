//! `threadlet::dump()` and `threadlet::deadlocks()`: planted deadlocks are
//! found with exactly their members, dumps show kind / label / creation site,
//! cancelled waiters leave, OS-thread waits show, and waits that resolve are
//! never reported as cycles.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use threadlet::introspect::{PrimitiveKind, set_track_holders};
use threadlet::{Builder, Deadlock, Lock, RLock, ThreadRef};

/// Generous bound for a planted situation to show up.
const PATIENCE: Duration = Duration::from_secs(30);

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}-{i}")).collect()
}

/// Polls `deadlocks()` until a cycle with a member named in `members`
/// appears, and checks that its members are exactly `members`.
async fn find_cycle(members: &[String]) -> Deadlock {
    let want: BTreeSet<&str> = members.iter().map(String::as_str).collect();
    let start = Instant::now();
    loop {
        let found = threadlet::deadlocks()
            .into_iter()
            .find(|c| c.names().iter().any(|n| want.contains(n)));
        if let Some(cycle) = found {
            let got: BTreeSet<&str> = cycle.names().into_iter().collect();
            assert_eq!(got, want, "cycle: {cycle}");
            assert_eq!(cycle.members.len(), members.len());
            return cycle;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "no deadlock among {members:?}; dump:\n{}",
            threadlet::dump()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Polls `dump()` until `ok` holds.
async fn until(what: &str, ok: impl Fn(&threadlet::Dump) -> bool) -> threadlet::Dump {
    let start = Instant::now();
    loop {
        let dump = threadlet::dump();
        if ok(&dump) {
            return dump;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "never saw {what}; dump:\n{dump}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A ring of `n` daemon threads: thread i takes lock i, waits until every
/// thread holds its own, then takes lock i+1.
async fn lock_ring(prefix: &str, n: usize) -> Deadlock {
    set_track_holders(true);
    let members = names(prefix, n);
    let locks: Vec<Lock> = members.iter().map(|m| Lock::labeled(m.clone())).collect();
    let gate = Arc::new(tokio::sync::Barrier::new(n));
    for i in 0..n {
        let (mine, next) = (locks[i].clone(), locks[(i + 1) % n].clone());
        let gate = gate.clone();
        Builder::new()
            .name(members[i].clone())
            .daemon(true)
            .spawn(async move {
                let _mine = mine.lock().await;
                gate.wait().await;
                let _next = next.lock().await;
            })
            .unwrap();
    }
    find_cycle(&members).await
}

/// The same ring over RLocks (found by owner, no switch needed).
async fn rlock_ring(prefix: &str, n: usize) -> Deadlock {
    let members = names(prefix, n);
    let locks: Vec<RLock> = members.iter().map(|m| RLock::labeled(m.clone())).collect();
    let gate = Arc::new(tokio::sync::Barrier::new(n));
    for i in 0..n {
        let (mine, next) = (locks[i].clone(), locks[(i + 1) % n].clone());
        let gate = gate.clone();
        Builder::new()
            .name(members[i].clone())
            .daemon(true)
            .spawn(async move {
                let _mine = mine.lock().await;
                gate.wait().await;
                let _next = next.lock().await;
            })
            .unwrap();
    }
    find_cycle(&members).await
}

/// A ring of `n` threads each joining the next.
async fn join_ring(prefix: &str, n: usize) -> Deadlock {
    let members = names(prefix, n);
    let mut senders = Vec::new();
    let mut refs = Vec::new();
    for name in &members {
        let (tx, rx) = tokio::sync::oneshot::channel::<ThreadRef>();
        senders.push(tx);
        let t = Builder::new()
            .name(name.clone())
            .daemon(true)
            .spawn(async move {
                let next = rx.await.unwrap();
                let _ = next.join().await;
            })
            .unwrap();
        refs.push(t.thread_ref());
    }
    for (i, tx) in senders.into_iter().enumerate() {
        tx.send(refs[(i + 1) % n].clone()).unwrap();
    }
    find_cycle(&members).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_deadlock_of_two_is_found_with_its_members() {
    let cycle = lock_ring("lock2", 2).await;
    let summary = cycle.summary();
    assert!(
        summary.contains("holds lock2-0 (tests/introspect.rs:"),
        "{summary}"
    );
    assert!(summary.contains("waits for lock2-1"), "{summary}");
    assert!(!cycle.deadline);
    for member in &cycle.members {
        assert_eq!(member.waits[0].primitive.kind, PrimitiveKind::Lock);
        assert!(member.waits[0].holder.is_some());
    }
    println!("{cycle}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_deadlock_of_three_is_found_with_its_members() {
    lock_ring("lock3", 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rlock_deadlocks_of_two_three_and_ten_are_found() {
    for n in [2, 3, 10] {
        let cycle = rlock_ring(&format!("rlock{n}"), n).await;
        assert!(
            cycle
                .members
                .iter()
                .all(|m| m.waits[0].primitive.kind == PrimitiveKind::RLock)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lock_deadlock_of_ten_is_found_with_its_members() {
    lock_ring("lock10", 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_deadlocks_of_two_three_and_ten_are_found() {
    for n in [2, 3, 10] {
        let cycle = join_ring(&format!("join{n}"), n).await;
        assert!(cycle.summary().contains("waits to join"), "{cycle}");
    }
}

/// Thread 0 waits on a Lock held by 1, 1 on an RLock held by 2, and 2
/// joins 0: one cycle across the three kinds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_deadlock_across_lock_rlock_and_join_is_found() {
    set_track_holders(true);
    let members = names("mixed", 3);
    let lock = Lock::labeled("mixed-lock");
    let rlock = RLock::labeled("mixed-rlock");
    let gate = Arc::new(tokio::sync::Barrier::new(3));
    let (tx, rx) = tokio::sync::oneshot::channel::<ThreadRef>();
    let t0 = {
        let (lock, gate) = (lock.clone(), gate.clone());
        Builder::new()
            .name(members[0].clone())
            .daemon(true)
            .spawn(async move {
                gate.wait().await;
                let _l = lock.lock().await;
            })
            .unwrap()
    };
    {
        let (lock, rlock, gate) = (lock.clone(), rlock.clone(), gate.clone());
        Builder::new()
            .name(members[1].clone())
            .daemon(true)
            .spawn(async move {
                let _l = lock.lock().await;
                gate.wait().await;
                let _r = rlock.lock().await;
            })
            .unwrap();
    }
    {
        let (rlock, gate) = (rlock.clone(), gate.clone());
        Builder::new()
            .name(members[2].clone())
            .daemon(true)
            .spawn(async move {
                let _r = rlock.lock().await;
                gate.wait().await;
                let t0 = rx.await.unwrap();
                let _ = t0.join().await;
            })
            .unwrap();
    }
    tx.send(t0.thread_ref()).unwrap();
    let cycle = find_cycle(&members).await;
    let kinds: BTreeSet<String> = cycle
        .members
        .iter()
        .map(|m| m.waits[0].primitive.kind.to_string())
        .collect();
    assert_eq!(
        kinds,
        ["Lock", "RLock", "Thread.join"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_shows_kind_label_site_and_holder() {
    let (lock, line) = (RLock::labeled("dump-rlock"), line!());
    let held = lock.lock().await;
    let l = lock.clone();
    let t = Builder::new()
        .name("dump-waiter")
        .spawn(async move { drop(l.lock().await) })
        .unwrap();
    let dump = until("dump-waiter parked", |d| {
        d.thread("dump-waiter").is_some_and(|t| !t.waits.is_empty())
    })
    .await;
    let waiter = dump.thread("dump-waiter").unwrap();
    assert!(waiter.alive && !waiter.daemon && !waiter.os_thread);
    assert!(waiter.ident.is_some());
    let wait = &waiter.waits[0];
    assert_eq!(wait.primitive.kind, PrimitiveKind::RLock);
    assert_eq!(wait.primitive.label.as_deref(), Some("dump-rlock"));
    assert!(wait.primitive.site.file().ends_with("introspect.rs"));
    assert_eq!(wait.primitive.site.line(), line);
    assert!(!wait.deadline);
    // The owner is this test's body (a task threadlet did not start).
    assert!(wait.holder.is_some());
    let text = dump.to_string();
    assert!(text.contains("\"dump-waiter\""), "{text}");
    assert!(text.contains("RLock#"), "{text}");
    assert!(text.contains("\"dump-rlock\""), "{text}");
    assert!(text.contains(&format!("introspect.rs:{line}")), "{text}");
    assert!(threadlet::dump().stalled().any(|t| t.name == "dump-waiter"));
    drop(held);
    t.join().await.unwrap();
    assert!(threadlet::dump().waits_on("dump-rlock").next().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dump_names_the_kind_of_every_wait() {
    let q: threadlet::Queue<u8> = threadlet::Queue::new(1);
    let event = threadlet::Event::labeled("kinds-event");
    let sem = threadlet::Semaphore::labeled(0, "kinds-sem");
    let getter = {
        let q = q.clone();
        Builder::new()
            .name("kinds-get")
            .spawn(async move { q.get().await.unwrap() })
            .unwrap()
    };
    let waiter = {
        let e = event.clone();
        Builder::new()
            .name("kinds-event")
            .spawn(async move { e.wait().await })
            .unwrap()
    };
    let acquirer = {
        let s = sem.clone();
        Builder::new()
            .name("kinds-sem")
            .spawn(async move { s.acquire().await })
            .unwrap()
    };
    let kind = |d: &threadlet::Dump, name: &str| {
        d.thread(name)
            .and_then(|t| t.waits.first())
            .map(|w| w.primitive.kind)
    };
    until("three kinds", |d| {
        kind(d, "kinds-get") == Some(PrimitiveKind::QueueGet)
            && kind(d, "kinds-event") == Some(PrimitiveKind::Event)
            && kind(d, "kinds-sem") == Some(PrimitiveKind::Semaphore)
    })
    .await;
    q.put(1).await.unwrap();
    event.set();
    sem.release().unwrap();
    getter.join().await.unwrap();
    waiter.join().await.unwrap();
    acquirer.join().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_waiter_is_gone_from_the_next_dump() {
    let lock = Lock::labeled("cancel-me");
    let held = lock.lock().await;
    let l = lock.clone();
    let task = tokio::spawn(async move { drop(l.lock().await) });
    until("the waiter", |d| d.waits_on("cancel-me").count() == 1).await;
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(threadlet::dump().waits_on("cancel-me").count(), 0);

    // A timed wait is marked as having a deadline, and leaves when it times
    // out.
    let l = lock.clone();
    let timed = tokio::spawn(async move { l.acquire_timeout(Duration::from_millis(300)).await });
    let dump = until("the timed waiter", |d| d.waits_on("cancel-me").count() == 1).await;
    assert!(dump.waits_on("cancel-me").next().unwrap().deadline);
    assert!(!timed.await.unwrap());
    assert_eq!(threadlet::dump().waits_on("cancel-me").count(), 0);
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_wait_on_an_os_thread_is_shown() {
    let lock = Lock::labeled("os-lock");
    assert!(lock.try_acquire());
    let l = lock.clone();
    let os = std::thread::Builder::new()
        .name("os-waiter".into())
        .spawn(move || {
            l.blocking_acquire();
            l.release().unwrap();
        })
        .unwrap();
    let dump = until("the OS thread", |d| d.waits_on("os-lock").count() == 1).await;
    let thread = dump.thread("os-waiter").expect("the OS thread is listed");
    assert!(thread.os_thread);
    assert_eq!(thread.waits[0].primitive.kind, PrimitiveKind::Lock);
    lock.release().unwrap();
    tokio::task::spawn_blocking(move || os.join().unwrap())
        .await
        .unwrap();
    assert_eq!(threadlet::dump().waits_on("os-lock").count(), 0);
}

/// 100 rounds of contended waits that always resolve (same lock order,
/// joins of threads that end): the detector, asked all along, never
/// reports a cycle among them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_false_cycle_in_waits_that_resolve() {
    set_track_holders(true);
    let (x, y) = (RLock::labeled("calm-x"), Lock::labeled("calm-y"));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let checker = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut checks = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for cycle in threadlet::deadlocks() {
                    assert!(
                        !cycle.names().iter().any(|n| n.starts_with("calm-")),
                        "false cycle: {cycle}"
                    );
                }
                checks += 1;
                std::thread::yield_now();
            }
            checks
        })
    };
    for round in 0..100 {
        let workers: Vec<_> = (0..4)
            .map(|i| {
                let (x, y) = (x.clone(), y.clone());
                Builder::new()
                    .name(format!("calm-{round}-{i}"))
                    .spawn(async move {
                        for _ in 0..5 {
                            let _x = x.lock().await;
                            let _y = y.lock().await;
                            tokio::task::yield_now().await;
                        }
                    })
                    .unwrap()
            })
            .collect();
        let refs: Vec<ThreadRef> = workers.iter().map(|w| w.thread_ref()).collect();
        // Joiners of the workers (waits that end when the workers do).
        let joiner = Builder::new()
            .name(format!("calm-{round}-joiner"))
            .spawn(async move {
                for r in refs {
                    r.join().await.unwrap();
                }
            })
            .unwrap();
        for w in workers {
            w.join().await.unwrap();
        }
        joiner.join().await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let checks = tokio::task::spawn_blocking(move || checker.join().unwrap())
        .await
        .unwrap();
    assert!(checks > 0);
}

/// A queue's `stream()` and `sink()` wait in the same lines as `get` and
/// `put`, and show in a dump the same way; their records go when they end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_and_sink_waits_are_shown() {
    use futures::{SinkExt, StreamExt};
    let empty: threadlet::Queue<u8> = threadlet::Queue::new(1);
    let full: threadlet::Queue<u8> = threadlet::Queue::new(1);
    full.put_nowait(0).unwrap();
    let reader = {
        let q = empty.clone();
        Builder::new()
            .name("stream-reader")
            .spawn(async move { q.stream().next().await })
            .unwrap()
    };
    let writer = {
        let q = full.clone();
        Builder::new()
            .name("sink-writer")
            .spawn(async move { q.sink().send(1).await.is_ok() })
            .unwrap()
    };
    let kind = |d: &threadlet::Dump, name: &str| {
        d.thread(name)
            .and_then(|t| t.waits.first())
            .map(|w| w.primitive.kind)
    };
    until("the stream and the sink", |d| {
        kind(d, "stream-reader") == Some(PrimitiveKind::QueueGet)
            && kind(d, "sink-writer") == Some(PrimitiveKind::QueuePut)
    })
    .await;
    empty.put(7).await.unwrap();
    assert_eq!(reader.join().await.unwrap(), Some(7));
    assert_eq!(full.get().await.unwrap(), 0);
    assert!(writer.join().await.unwrap());
    assert_eq!(full.get().await.unwrap(), 1);
    let dump = threadlet::dump();
    assert!(
        dump.stalled()
            .all(|t| t.name != "stream-reader" && t.name != "sink-writer"),
        "{dump}"
    );
}
