//! The article's Event example: a Boss tells the Workers to work overtime
//! (sets the event), the Workers grumble and wait again, and the Boss later
//! lets them go home (sets it again).
//!
//! Run with `cargo run --example event`.

use std::time::Duration;

use threadlet::Event;

async fn boss(event: Event) {
    println!("BOSS: everybody works overtime until 22:00 tonight.");
    println!("{}", event.is_set());
    event.set();
    tokio::time::sleep(Duration::from_millis(500)).await;
    println!("BOSS: <22:00> you can go home now.");
    println!("{}", event.is_set());
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

#[tokio::main]
async fn main() {
    let event = Event::new();
    let mut tasks = Vec::new();
    for _ in 0..5 {
        tasks.push(tokio::spawn(worker(event.clone())));
    }
    tasks.push(tokio::spawn(boss(event.clone())));
    for t in tasks {
        t.await.unwrap();
    }
}
