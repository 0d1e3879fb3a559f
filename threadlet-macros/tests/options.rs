//! The options of `#[threadlet::test]` that need threadlet's `test-util`
//! feature (on in this crate's dev-dependency), and `crate`.

use std::time::Duration;

#[threadlet::test(start_paused = true)]
async fn start_paused_pauses_the_clock() {
    let begin = tokio::time::Instant::now();
    let wall = std::time::Instant::now();
    // A thread that sleeps an hour, not joined: the scope waits for it, and
    // the paused clock jumps to its timer at once.
    let t = threadlet::spawn(tokio::time::sleep(Duration::from_secs(3600)));
    t.join().await.unwrap();
    assert!(begin.elapsed() >= Duration::from_secs(3600));
    assert!(wall.elapsed() < Duration::from_secs(3600));
}

#[threadlet::test(start_paused = false)]
async fn start_paused_false_leaves_the_clock_running() {
    let begin = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert!(begin.elapsed() >= Duration::from_millis(1));
}

mod reexport {
    pub use threadlet as renamed;
}

#[threadlet::test(crate = "crate::reexport::renamed")]
async fn crate_option_names_the_path_of_threadlet() {
    let t = threadlet::spawn(async { 1 });
    assert_eq!(t.join().await.unwrap(), 1);
}

#[threadlet::main(crate = "crate::reexport::renamed", flavor = "current_thread")]
async fn program() -> String {
    threadlet::current_thread().name()
}

#[test]
fn main_with_crate_and_flavor() {
    assert_eq!(program(), "MainThread");
}
