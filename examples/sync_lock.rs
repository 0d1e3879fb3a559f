//! The article's "synchronization lock" section: 100 threads each do
//! `num -= 1` on a shared counter with a pause between reading and writing
//! it. Without a lock most updates are lost; with a `Lock` the total is right.
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

    // With a Lock around the read-modify-write (Python's `with lock:`).
    let num = Arc::new(AtomicI64::new(100));
    let lock = Lock::new();
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (num, lock) = (num.clone(), lock.clone());
            tokio::spawn(async move {
                let _guard = lock.lock().await;
                sub(&num).await;
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let fixed = num.load(Ordering::SeqCst);
    println!("with a Lock:    final num: {fixed}");
    assert_eq!(fixed, 0);
}
