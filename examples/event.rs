//! From the article "Python Road [Article 16]: Python Concurrent Programming": the Event example: a Boss tells the Workers to work overtime
//! (sets the event), the Workers grumble and wait again, and the Boss later
//! lets them go home (sets it again).
//!
//! Run with `cargo run --example event`.

use std::time::Duration;

use threadlet::Event;

async fn boss(event: Event) {
    println!("BOSS: everybody works overtime until 22:00 tonight.");
    // The article prints `event.isSet()` here: nobody has set the event yet.
    println!(
        "{}  (is_set before the first set: the workers are still waiting)",
        event.is_set()
    );
    event.set();
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!("BOSS: <22:00> you can go home now.");
    // False again: after the first set, the workers cleared the event so
    // that their second `wait` blocks until this second set.
    println!(
        "{}  (is_set before the second set: the workers cleared it and wait again)",
        event.is_set()
    );
    event.set();
}

async fn worker(event: Event) {
    event.wait().await;
    println!("Worker: sigh... what a hard life!");
    tokio::time::sleep(Duration::from_millis(100)).await;
    event.clear();
    event.wait().await;
    println!("Worker: OhYeah!");
}

#[threadlet::main]
async fn main() {
    let event = Event::new();
    let mut threads = Vec::new();
    for _ in 0..5 {
        threads.push(threadlet::spawn(worker(event.clone())));
    }
    threads.push(threadlet::spawn(boss(event.clone())));
    for t in threads {
        t.join().await.unwrap();
    }
}
