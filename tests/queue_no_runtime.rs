//! Timed queue operations outside a tokio runtime (issue 16, item 10), e.g.
//! under `futures::executor::block_on`: the zero-timeout and `Duration::MAX`
//! forms and every non-waiting form work without a runtime, whether or not
//! the queue is ready; any other timeout panics with one clear message naming
//! the caller, the same way whether or not the queue is ready.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use futures::executor::block_on;
use threadlet::error::GetError;
use threadlet::{LifoQueue, PriorityQueue, Queue};

#[test]
fn zero_timeouts_need_no_runtime_ready_or_not() {
    let q = Queue::new(1);
    // Not ready: empty for get, nothing unfinished... then full for put.
    assert_eq!(
        block_on(q.get_timeout(Duration::ZERO)),
        Err(GetError::Empty)
    );
    assert!(block_on(q.join_timeout(Duration::ZERO)));
    block_on(q.put_timeout(1, Duration::ZERO)).unwrap();
    let err = block_on(q.put_timeout(2, Duration::ZERO)).unwrap_err();
    assert!(err.is_full());
    assert_eq!(err.into_inner(), 2);
    assert!(!block_on(q.join_timeout(Duration::ZERO)));
    // Ready.
    assert_eq!(block_on(q.get_timeout(Duration::ZERO)), Ok(1));
    q.task_done().unwrap();
    assert!(block_on(q.join_timeout(Duration::ZERO)));

    let lifo = LifoQueue::new(0);
    lifo.put_nowait('a').unwrap();
    assert_eq!(block_on(lifo.get_timeout(Duration::ZERO)), Ok('a'));
    let prio = PriorityQueue::<u8>::new(0);
    assert_eq!(
        block_on(prio.get_timeout(Duration::ZERO)),
        Err(GetError::Empty)
    );
}

#[test]
fn forever_timeouts_need_no_runtime() {
    let q = Queue::new(1);
    block_on(q.put_timeout(7, Duration::MAX)).unwrap();
    assert_eq!(block_on(q.get_timeout(Duration::MAX)), Ok(7));
    q.task_done().unwrap();
    assert!(block_on(q.join_timeout(Duration::MAX)));
    // A waiting one, served by a plain thread.
    let q2 = q.clone();
    let producer = std::thread::spawn(move || q2.blocking_put(8).unwrap());
    assert_eq!(block_on(q.get_timeout(Duration::MAX)), Ok(8));
    producer.join().unwrap();
}

fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("must panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn other_timeouts_outside_a_runtime_panic_the_same_way_ready_or_not() {
    let q = Queue::new(1);
    let t = Duration::from_millis(5);
    // Empty (would wait) and ready (would not): the same panic.
    let empty = panic_message(|| {
        let _ = block_on(q.get_timeout(t));
    });
    q.put_nowait(1).unwrap();
    let ready = panic_message(|| {
        let _ = block_on(q.get_timeout(t));
    });
    for msg in [&empty, &ready] {
        assert!(msg.contains("get_timeout`"), "{msg}");
        assert!(msg.contains("needs a tokio runtime"), "{msg}");
        assert!(
            msg.contains("queue_no_runtime.rs"),
            "names the caller: {msg}"
        );
    }
    assert_eq!(q.len(), 1, "the panicking call took nothing");
    // Full (would wait) and with room (would not).
    let full = panic_message(|| {
        let _ = block_on(q.put_timeout(2, t));
    });
    q.get_nowait().unwrap();
    let room = panic_message(|| {
        let _ = block_on(q.put_timeout(2, t));
    });
    for msg in [&full, &room] {
        assert!(msg.contains("put_timeout`"), "{msg}");
        assert!(msg.contains("needs a tokio runtime"), "{msg}");
    }
    assert_eq!(q.len(), 0, "the panicking call put nothing");
    // join_timeout: with nothing unfinished... and with something.
    q.task_done().unwrap();
    let done = panic_message(|| {
        let _ = block_on(q.join_timeout(t));
    });
    q.put_nowait(3).unwrap();
    let pending = panic_message(|| {
        let _ = block_on(q.join_timeout(t));
    });
    for msg in [&done, &pending] {
        assert!(msg.contains("join_timeout`"), "{msg}");
    }
}

#[test]
fn timed_futures_made_outside_and_polled_inside_a_runtime_work() {
    let q = Queue::<u8>::new(0);
    let fut = q.get_timeout(Duration::from_millis(10));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    assert_eq!(rt.block_on(fut), Err(GetError::Empty));
}
