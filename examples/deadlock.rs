//! The article's "deadlock and recursive lock" section: two threads run
//! `do_a` (lock A, then B) and `do_b` (lock B, then A). With two plain Locks
//! they deadlock; here a timeout detects it and says so instead of hanging.
//! Then the fix: one `RLock` used for both, which its owner may re-acquire.
//!
//! Run with `cargo run --example deadlock`.

use std::time::Duration;

use threadlet::{Lock, RLock};

const PAUSE: Duration = Duration::from_millis(200);
const PATIENCE: Duration = Duration::from_secs(1);

/// Part 1: two Locks taken in opposite orders. Returns whether it deadlocked.
async fn with_two_locks() -> bool {
    let (lock_a, lock_b) = (Lock::new(), Lock::new());
    let t1 = {
        let (a, b) = (lock_a.clone(), lock_b.clone());
        tokio::spawn(async move {
            let _a = a.lock().await;
            println!("Thread-1 got lockA");
            tokio::time::sleep(PAUSE).await;
            match b.lock_timeout(PATIENCE).await {
                Some(_b) => {
                    println!("Thread-1 got lockB");
                    false
                }
                None => {
                    println!(
                        "Thread-1 holds lockA and has waited {PATIENCE:?} for lockB: deadlock!"
                    );
                    true
                }
            }
        })
    };
    let t2 = {
        let (a, b) = (lock_a.clone(), lock_b.clone());
        tokio::spawn(async move {
            let _b = b.lock().await;
            println!("Thread-2 got lockB");
            tokio::time::sleep(PAUSE).await;
            match a.lock_timeout(PATIENCE).await {
                Some(_a) => {
                    println!("Thread-2 got lockA");
                    false
                }
                None => {
                    println!(
                        "Thread-2 holds lockB and has waited {PATIENCE:?} for lockA: deadlock!"
                    );
                    true
                }
            }
        })
    };
    let (d1, d2) = (t1.await.unwrap(), t2.await.unwrap());
    d1 || d2
}

/// Part 2: the article's fix, `lockA = lockB = RLock()`.
async fn do_a(name: &str, r_lock: &RLock) {
    let _a = r_lock.lock().await;
    println!("{name} got lockA");
    tokio::time::sleep(PAUSE / 4).await;
    let _b = r_lock.lock().await; // re-entry by the owner: no deadlock
    println!("{name} got lockB (depth {})", r_lock.recursion_count());
}

async fn do_b(name: &str, r_lock: &RLock) {
    let _b = r_lock.lock().await;
    println!("{name} got lockB");
    tokio::time::sleep(PAUSE / 4).await;
    let _a = r_lock.lock().await;
    println!("{name} got lockA (depth {})", r_lock.recursion_count());
}

#[tokio::main]
async fn main() {
    println!("-- two Locks, taken in opposite orders --");
    let deadlocked = with_two_locks().await;
    assert!(deadlocked);
    println!("(a timeout turned the hang into a report)\n");

    println!("-- one RLock for both --");
    let r_lock = RLock::new();
    let tasks: Vec<_> = (1..=5)
        .map(|i| {
            let r = r_lock.clone();
            tokio::spawn(async move {
                let name = format!("Thread-{i}");
                do_a(&name, &r).await;
                do_b(&name, &r).await;
            })
        })
        .collect();
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(10), t)
            .await
            .expect("no deadlock with an RLock")
            .unwrap();
    }
    assert!(!r_lock.locked());
    println!("all threads finished: no deadlock");
}
