//! From the article "Python Road [Article 16]: Python Concurrent Programming": the first section, "threads": starting threads by direct call
//! (`threading.Thread(target=sayhi, args=(1,))`) and by subclassing
//! (`class MyThread(threading.Thread)` with a `run` method), and their names.
//!
//! `cargo run --example threads`. The article sleeps 3 s per thread; here a
//! tenth of that, so the example finishes on its own in well under a second.

use std::time::Duration;

use threadlet::{Thread, ThreadRun};

const SLEEP: Duration = Duration::from_millis(300);

/// `def sayhi(num)`: what each thread runs.
async fn sayhi(num: u32) {
    println!("running on number:{num}");
    tokio::time::sleep(SLEEP).await;
}

/// `class MyThread(threading.Thread)`: the subclass form. The fields are what
/// `__init__` stores; `run` is the thread's body.
struct MyThread {
    num: u32,
}

impl ThreadRun for MyThread {
    type Output = ();

    async fn run(self) {
        println!("running on number:{}", self.num);
        tokio::time::sleep(SLEEP).await;
    }
}

fn main() {
    threadlet::run(async {
        println!("-- direct call: Thread(target=sayhi, args=(n,))");
        let t1 = Thread::new(sayhi(1)); // a thread instance
        let t2 = Thread::new(sayhi(2)); // another one
        t1.start().unwrap(); // start the thread
        t2.start().unwrap();
        println!("{}", t1.name()); // the thread's name: Thread-1
        println!("{}", t2.name()); // Thread-2
        t1.join().await.unwrap();
        t2.join().await.unwrap();

        println!("-- subclass form: class MyThread(threading.Thread)");
        let t1 = Thread::from_run(MyThread { num: 1 });
        let t2 = Thread::from_run(MyThread { num: 2 });
        t1.start().unwrap();
        t2.start().unwrap();
        println!("ending......");
        // Not joined: like Python's interpreter exit, `run` waits for these
        // non-daemon threads before returning.
        println!("main thread: {}", threadlet::current_thread().name());
    });
    println!("all threads finished");
}
