//! From the article "Python Road [Article 16]: Python Concurrent Programming": the "deadlock and recursive lock" section: two threads run
//! `do_a` (lock A, then B) and `do_b` (lock B, then A). With two plain Locks
//! they deadlock, and the program would freeze with nothing on the screen;
//! here `threadlet::deadlocks()` names the cycle — who holds which lock,
//! created where, and waits for which. Then the fix: one `RLock` used for
//! both, which its owner may re-acquire.
//!
//! Run with `cargo run --example deadlock`.

use std::time::{Duration, Instant};

use threadlet::{Barrier, Builder, Lock, RLock};

const PAUSE: Duration = Duration::from_millis(50);

/// `doA`: lockA, then lockB.
async fn do_a(lock_a: Lock, lock_b: Lock, both_hold_one: Barrier) {
    let _a = lock_a.lock().await;
    println!("Thread-1 got lockA");
    both_hold_one.wait().await.unwrap(); // the article's time.sleep, made certain
    let _b = lock_b.lock().await; // never returns: Thread-2 holds lockB
    println!("Thread-1 got lockB");
}

/// `doB`: lockB, then lockA.
async fn do_b(lock_a: Lock, lock_b: Lock, both_hold_one: Barrier) {
    let _b = lock_b.lock().await;
    println!("Thread-2 got lockB");
    both_hold_one.wait().await.unwrap();
    let _a = lock_a.lock().await; // never returns: Thread-1 holds lockA
    println!("Thread-2 got lockA");
}

/// Part 1: two Locks taken in opposite orders, and the detector's report.
async fn with_two_locks() {
    // A Lock has no owner; let it record its last acquirer so the detector
    // can follow it (an RLock always knows its owner).
    threadlet::introspect::set_track_holders(true);
    let lock_a = Lock::labeled("lockA");
    let lock_b = Lock::labeled("lockB");
    let gate = Barrier::new(2).unwrap();
    // Daemon threads: the stuck pair does not keep the program alive.
    for (name, doer) in [("Thread-1", true), ("Thread-2", false)] {
        let (a, b, gate) = (lock_a.clone(), lock_b.clone(), gate.clone());
        let builder = Builder::new().name(name).daemon(true);
        if doer {
            builder.spawn(do_a(a, b, gate)).unwrap();
        } else {
            builder.spawn(do_b(a, b, gate)).unwrap();
        }
    }
    let start = Instant::now();
    let cycle = loop {
        if let Some(cycle) = threadlet::deadlocks().into_iter().next() {
            break cycle;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no deadlock found:\n{}",
            threadlet::dump()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    // One sentence (`cycle.summary()`), then its members' dump lines.
    println!("\nthreadlet::deadlocks() found a {cycle}");
}

/// Part 2: the article's fix, `lockA = lockB = RLock()`.
async fn do_a_fixed(name: &str, r_lock: &RLock) {
    let _a = r_lock.lock().await;
    println!("{name} got lockA");
    tokio::time::sleep(PAUSE).await;
    let _b = r_lock.lock().await; // re-entry by the owner: no deadlock
    println!("{name} got lockB (depth {})", r_lock.recursion_count());
}

async fn do_b_fixed(name: &str, r_lock: &RLock) {
    let _b = r_lock.lock().await;
    println!("{name} got lockB");
    tokio::time::sleep(PAUSE).await;
    let _a = r_lock.lock().await;
    println!("{name} got lockA (depth {})", r_lock.recursion_count());
}

#[tokio::main]
async fn main() {
    println!("-- two Locks, taken in opposite orders --");
    with_two_locks().await;

    println!("-- the fix: one RLock for both --");
    let r_lock = RLock::labeled("lockA = lockB");
    let threads: Vec<_> = (3..=7)
        .map(|i| {
            let r = r_lock.clone();
            Builder::new()
                .name(format!("Thread-{i}"))
                .spawn(async move {
                    let name = format!("Thread-{i}");
                    do_a_fixed(&name, &r).await;
                    do_b_fixed(&name, &r).await;
                })
                .unwrap()
        })
        .collect();
    for t in threads {
        tokio::time::timeout(Duration::from_secs(10), t.join())
            .await
            .expect("no deadlock with an RLock")
            .unwrap();
    }
    assert!(!r_lock.locked());
    let cycles = threadlet::deadlocks();
    assert!(cycles.iter().all(|c| !c.names().contains(&"Thread-3")));
    println!("all threads finished: no deadlock (only the stuck pair of part 1 remains)");
}
