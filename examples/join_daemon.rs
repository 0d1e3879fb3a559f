//! From the article "Python Road [Article 16]: Python Concurrent Programming": the "join and daemon" section: ListenMusic (3 s) and RecordBlog
//! (5 s) as two threads, with `join` in three places, then as daemons.
//!
//! `cargo run --example join_daemon`. The article's seconds are tenths of a
//! second here; the timestamps are the seconds since each scenario began.
//!
//! What Python prints, and this prints too:
//! 1. `t.join()` inside the start loop: the threads run one after the other,
//!    "all over" at 0.8 (3 + 5).
//! 2. `t.join()` after the loop (`t` is the last thread, RecordBlog):
//!    "all over" at 0.5, when the longer one ends.
//! 3. `t1.join()` after the loop: "all over" at 0.3, when ListenMusic ends;
//!    RecordBlog still finishes (at 0.5) because the program waits for
//!    non-daemon threads before exiting.
//! 4. `setDaemon(True)` on both, no join: "all over" at once, and the program
//!    ends without waiting: neither "end ..." line is printed.

use std::time::Duration;

use threadlet::Thread;
use tokio::time::Instant;

const UNIT: Duration = Duration::from_millis(100);

/// `ctime()`, as seconds since the scenario began.
fn ctime(begin: Instant) -> String {
    format!("t+{:.1}", begin.elapsed().as_secs_f64())
}

async fn listen_music(name: &'static str, begin: Instant) {
    println!("Begin listening to {name}. {}", ctime(begin));
    tokio::time::sleep(UNIT * 3).await;
    println!("end listening {}", ctime(begin));
}

async fn record_blog(title: &'static str, begin: Instant) {
    println!("Begin recording the {title}! {}", ctime(begin));
    tokio::time::sleep(UNIT * 5).await;
    println!("end recording {}", ctime(begin));
}

#[derive(Clone, Copy)]
enum Placement {
    InsideLoop,
    LastAfterLoop,
    FirstAfterLoop,
    Daemons,
}

async fn scenario(placement: Placement) {
    let begin = Instant::now();
    let t1 = Thread::new(listen_music("水手", begin));
    let t2 = Thread::new(record_blog("python线程", begin));
    // Python's `join()` returns nothing: wait through each thread's
    // `ThreadRef`, which any number of joiners may hold.
    let first = t1.thread_ref();
    let threads = [t1, t2];
    for t in &threads {
        if let Placement::Daemons = placement {
            t.set_daemon(true).unwrap(); // must be set before start
        }
        t.start().unwrap();
        if let Placement::InsideLoop = placement {
            t.thread_ref().join().await.unwrap();
        }
    }
    match placement {
        Placement::LastAfterLoop => threads[1].thread_ref().join().await.unwrap(),
        Placement::FirstAfterLoop => first.join().await.unwrap(),
        // Give the threads a moment to print their first line, as they do
        // in Python before the main thread gets the GIL back.
        Placement::Daemons => tokio::time::sleep(UNIT / 10).await,
        Placement::InsideLoop => {}
    }
    println!("all over {}", ctime(begin));
}

fn main() {
    let cases = [
        ("1. t.join() inside the loop", Placement::InsideLoop),
        (
            "2. t.join() after the loop (the last thread)",
            Placement::LastAfterLoop,
        ),
        ("3. t1.join() after the loop", Placement::FirstAfterLoop),
        ("4. daemon threads, no join", Placement::Daemons),
    ];
    for (title, placement) in cases {
        println!("--- {title}");
        // Each scenario is a whole program: `run` waits for the non-daemon
        // threads and cancels the daemon ones, as Python's exit does.
        threadlet::run(scenario(placement));
    }
}
