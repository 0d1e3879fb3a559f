//! From the article "Python Road [Article 16]: Python Concurrent Programming": the "synchronization lock" section: 100 threads each do
//! `num -= 1` on a shared counter with a pause between reading and writing
//! it. Without a lock most updates are lost; with the counter inside a `Lock`
//! the total is right.
//!
//! Run with `cargo run --example sync_lock`.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use threadlet::Lock;

/// `temp = num; sleep(); num = temp - 1`: read, yield, write back.
async fn sub(num: &AtomicI64) {
    let temp = num.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1)).await;
    num.store(temp - 1, Ordering::SeqCst);
}

#[tokio::main]
async fn main() {
    // Without a lock: every task reads 100 before anyone writes.
    let num = Arc::new(AtomicI64::new(100));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let num = num.clone();
            tokio::spawn(async move { sub(&num).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let racy = num.load(Ordering::SeqCst);
    println!("without a lock: final num: {racy}  (wrong: the read-pause-write race lost updates)");
    assert_ne!(racy, 0);

    // With the counter inside a Lock: the guard (Python's `with lock:`) is
    // the only way to it, and it is held across the read-pause-write.
    let num = Lock::with_value(100i64);
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let num = num.clone();
            tokio::spawn(async move {
                let mut num = num.lock().await;
                let temp = *num;
                tokio::time::sleep(Duration::from_millis(1)).await;
                *num = temp - 1;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let fixed = *num.lock().await;
    println!("with a Lock:    final num: {fixed}");
    assert_eq!(fixed, 0);
}
