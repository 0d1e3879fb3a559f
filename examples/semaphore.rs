//! From the article "Python Road [Article 16]: Python Concurrent Programming": the Semaphore example: 100 threads, at most 5 inside at once,
//! with a printed proof (the most ever inside together).
//!
//! Run with `cargo run --example semaphore`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use threadlet::Semaphore;

#[tokio::main]
async fn main() {
    let sem = Semaphore::new(5);
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (sem, inside, most) = (sem.clone(), inside.clone(), most.clone());
            tokio::spawn(async move {
                let _permit = sem.permit().await; // `with semaphore:`
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                println!("Thread-{i} inside ({now} of at most 5)");
                tokio::time::sleep(Duration::from_millis(50)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let most = most.load(Ordering::SeqCst);
    println!("at most {most} tasks were inside at once");
    assert_eq!(most, 5);
}
