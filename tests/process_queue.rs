//! `threadlet::process::Queue` and `Pipe`: items and messages between real
//! processes of this test binary, exactly once, and clean errors (never a
//! hang) when a peer dies.
#![cfg(all(feature = "process", target_os = "linux"))]

use std::collections::HashSet;
use std::time::Duration;

use threadlet::error::{PipeError, ProcessQueueError};
use threadlet::process::{self, Connection, Pipe, Queue};

// ===== targets =====

fn produce((q, id, n): (Queue<(u32, u32)>, u32, u32)) {
    for i in 0..n {
        q.blocking_put((id, i)).unwrap();
    }
}

fn consume_sum((q, n): (Queue<u64>, u64)) -> u64 {
    (0..n).map(|_| q.blocking_get().unwrap()).sum()
}

/// Creates a queue (so this child owns it), returns its handle, and exits.
fn owner_that_exits(_: ()) -> Queue<u8> {
    let q = Queue::new(0).unwrap();
    q.blocking_put(1).unwrap();
    q
}

/// Waits for one item forever (until killed).
fn wait_for_item(q: Queue<String>) -> String {
    q.blocking_get().unwrap()
}

/// Sends `n` messages, then exits (dropping its end).
fn send_n((conn, n): (Connection<u32>, u32)) {
    for i in 0..n {
        conn.blocking_send(&i).unwrap();
    }
}

/// Answers every number with its successor until EOF; returns how many.
fn echo_plus_one(conn: Connection<u32>) -> u32 {
    let mut count = 0;
    loop {
        match conn.blocking_recv() {
            Ok(x) => {
                conn.blocking_send(&(x + 1)).unwrap();
                count += 1;
            }
            Err(PipeError::Eof) => return count,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Passes its end on to a grandchild that sends `n` messages, and exits
/// without waiting for it (its own copy of the end is dropped at once).
fn hand_to_grandchild((conn, n): (Connection<u32>, u32)) {
    process::spawn_process(send_n, (conn, n)).unwrap();
}

/// Creates a pipe (so this child serves it) and returns one end.
fn pipe_owner_that_exits(_: ()) -> Connection<u8> {
    let (a, b) = Pipe::new(true).unwrap();
    a.blocking_send(&1).unwrap();
    b
}

/// Every non-waiting and timed blocking form, from a child without a runtime:
/// (put, put when full, timed put when full, get, get when empty, timed get).
fn blocking_forms(q: Queue<u32>) -> Vec<String> {
    let show = |r: Result<(), ProcessQueueError>| format!("{r:?}");
    vec![
        show(q.put_nowait(1)),
        show(q.put_nowait(2)),
        show(q.blocking_put_timeout(3, Duration::from_millis(20))),
        format!("{:?}", q.get_nowait()),
        format!("{:?}", q.get_nowait()),
        show(q.blocking_put_timeout(4, Duration::from_millis(20))),
        format!("{:?}", q.blocking_get_timeout(Duration::from_millis(20))),
    ]
}

fn targets() {
    process::register(hand_to_grandchild);
    process::register(blocking_forms);
    process::register(send_n);
    process::register(echo_plus_one);
    process::register(pipe_owner_that_exits);
    process::register(produce);
    process::register(consume_sum);
    process::register(owner_that_exits);
    process::register(wait_for_item);
}

process::test_support!(targets);

// ===== tests =====

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_producers_ten_thousand_items_each_arrive_exactly_once() {
    threadlet_process_setup();
    const N: u32 = 10_000;
    let q: Queue<(u32, u32)> = Queue::new(0).unwrap();
    let producers: Vec<_> = (0..4)
        .map(|id| process::spawn_process(produce, (q.clone(), id, N)).unwrap())
        .collect();
    let consumer = q.clone();
    let got = tokio::task::spawn_blocking(move || {
        (0..4 * N)
            .map(|_| consumer.blocking_get().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    for p in &producers {
        p.join().await.unwrap();
    }
    let distinct: HashSet<_> = got.iter().copied().collect();
    assert_eq!(distinct.len(), (4 * N) as usize, "duplicates");
    for id in 0..4 {
        // FIFO per producer.
        let mine: Vec<u32> = got
            .iter()
            .filter(|(p, _)| *p == id)
            .map(|(_, i)| *i)
            .collect();
        assert_eq!(mine, (0..N).collect::<Vec<_>>());
    }
    assert_eq!(q.get_nowait(), Err(ProcessQueueError::Empty));
    assert_eq!(q.qsize().unwrap(), 0);
}

#[tokio::test]
async fn a_bounded_queue_feeds_a_child() {
    threadlet_process_setup();
    let q: Queue<u64> = Queue::new(4).unwrap();
    let child = process::spawn_process(consume_sum, (q.clone(), 100)).unwrap();
    for i in 1..=100 {
        q.put(i).await.unwrap();
        assert!(q.qsize().unwrap() <= 4);
    }
    assert_eq!(child.join().await.unwrap(), 5050);
}

#[tokio::test]
async fn nowait_timeout_and_full() {
    threadlet_process_setup();
    let q: Queue<u8> = Queue::new(2).unwrap();
    assert_eq!(q.get_nowait(), Err(ProcessQueueError::Empty));
    assert_eq!(
        q.get_timeout(Duration::from_millis(20)).await,
        Err(ProcessQueueError::Empty)
    );
    q.put_nowait(1).unwrap();
    q.put(2).await.unwrap();
    assert_eq!(q.qsize().unwrap(), 2);
    assert_eq!(q.put_nowait(3), Err(ProcessQueueError::Full));
    assert_eq!(
        q.put_timeout(3, Duration::from_millis(20)).await,
        Err(ProcessQueueError::Full)
    );
    assert_eq!(q.get().await.unwrap(), 1);
    q.put_timeout(3, Duration::from_secs(5)).await.unwrap();
    assert_eq!(q.get().await.unwrap(), 2);
    assert_eq!(q.get_timeout(Duration::MAX).await.unwrap(), 3);
}

#[tokio::test]
async fn the_owner_exiting_is_closed_not_a_hang() {
    threadlet_process_setup();
    let owner = process::spawn_process(owner_that_exits, ()).unwrap();
    let q: Queue<u8> = owner.join().await.unwrap();
    assert_eq!(q.get().await, Err(ProcessQueueError::Closed));
    assert_eq!(q.put(2).await, Err(ProcessQueueError::Closed));
    assert_eq!(q.qsize(), Err(ProcessQueueError::Closed));
}

#[tokio::test]
async fn an_item_for_a_killed_taker_is_not_lost() {
    threadlet_process_setup();
    let q: Queue<String> = Queue::new(0).unwrap();
    let taker = process::spawn_process(wait_for_item, q.clone()).unwrap();
    // Let the taker connect and wait (if it has not yet, nothing changes).
    tokio::time::sleep(Duration::from_millis(200)).await;
    taker.kill().unwrap();
    assert!(taker.join().await.is_err());
    q.put("kept".into()).await.unwrap();
    assert_eq!(
        q.get_timeout(Duration::from_secs(10)).await.unwrap(),
        "kept"
    );
}

#[tokio::test]
async fn a_cancelled_get_loses_nothing() {
    threadlet_process_setup();
    let q: Queue<char> = Queue::new(0).unwrap();
    let other = q.clone();
    // A get that is dropped while it waits...
    assert!(
        tokio::time::timeout(Duration::from_millis(50), q.get())
            .await
            .is_err()
    );
    // ... then an item arrives: it is not lost, this handle hands it out next.
    other.put('x').await.unwrap();
    assert_eq!(q.get_timeout(Duration::from_secs(10)).await.unwrap(), 'x');
    assert_eq!(other.get_nowait(), Err(ProcessQueueError::Empty));
}

// ===== Pipe =====

#[tokio::test]
async fn pipe_messages_then_eof_when_the_peer_exits() {
    threadlet_process_setup();
    let (ours, theirs) = Pipe::<u32>::new(true).unwrap();
    let child = process::spawn_process(send_n, (theirs, 3)).unwrap();
    for i in 0..3 {
        assert_eq!(ours.recv().await.unwrap(), i);
    }
    assert_eq!(ours.recv().await, Err(PipeError::Eof));
    child.join().await.unwrap();
    // Sending to a gone peer is a broken pipe, not a hang.
    assert_eq!(ours.send(&9).await, Err(PipeError::BrokenPipe));
}

#[tokio::test]
async fn duplex_ping_pong_and_eof_for_the_child() {
    threadlet_process_setup();
    let (ours, theirs) = Pipe::<u32>::new(true).unwrap();
    let child = process::spawn_process(echo_plus_one, theirs).unwrap();
    for x in [1, 10, 100] {
        ours.send(&x).await.unwrap();
        assert_eq!(ours.recv().await.unwrap(), x + 1);
    }
    // Dropping our end is the child's EOF.
    drop(ours);
    assert_eq!(child.join().await.unwrap(), 3);
}

#[tokio::test]
async fn pipe_eof_when_the_peer_is_killed() {
    threadlet_process_setup();
    let (ours, theirs) = Pipe::<u32>::new(true).unwrap();
    let child = process::spawn_process(echo_plus_one, theirs).unwrap();
    ours.send(&1).await.unwrap();
    assert_eq!(ours.recv().await.unwrap(), 2);
    child.kill().unwrap();
    assert!(child.join().await.is_err());
    assert_eq!(
        ours.recv_timeout(Duration::from_secs(10)).await,
        Err(PipeError::Eof)
    );
}

#[tokio::test]
async fn one_way_pipes_and_timeouts() {
    threadlet_process_setup();
    let (reader, writer) = Pipe::<u8>::new(false).unwrap();
    assert_eq!(reader.send(&1).await, Err(PipeError::WrongDirection));
    assert_eq!(writer.recv().await, Err(PipeError::WrongDirection));
    assert_eq!(
        reader.recv_timeout(Duration::from_millis(20)).await,
        Err(PipeError::Timeout)
    );
    // The blocking forms, from a thread that may block.
    let (r, w) = (reader.clone(), writer.clone());
    let blocking = tokio::task::spawn_blocking(move || {
        (
            w.blocking_recv(),
            r.blocking_recv_timeout(Duration::from_millis(20)),
        )
    });
    assert_eq!(
        blocking.await.unwrap(),
        (Err(PipeError::WrongDirection), Err(PipeError::Timeout))
    );
    writer.send(&7).await.unwrap();
    assert_eq!(reader.recv().await.unwrap(), 7);
}

#[tokio::test]
async fn pipe_creator_exiting_is_closed() {
    threadlet_process_setup();
    let owner = process::spawn_process(pipe_owner_that_exits, ()).unwrap();
    let end: Connection<u8> = owner.join().await.unwrap();
    assert_eq!(end.recv().await, Err(PipeError::Closed));
    assert_eq!(end.send(&1).await, Err(PipeError::Closed));
}

// ===== no hoarding, no parked threads =====

#[tokio::test]
async fn qsize_after_put_put_get_is_one() {
    threadlet_process_setup();
    let q: Queue<u8> = Queue::new(0).unwrap();
    q.put(1).await.unwrap();
    q.put(2).await.unwrap();
    assert_eq!(q.get().await.unwrap(), 1);
    assert_eq!(q.qsize().unwrap(), 1);
    let blocking = q.clone();
    let got = tokio::task::spawn_blocking(move || {
        blocking.blocking_put(3).unwrap();
        blocking.blocking_get().unwrap()
    });
    assert_eq!(got.await.unwrap(), 2);
    assert_eq!(q.qsize().unwrap(), 1);
}

#[tokio::test]
async fn a_handle_does_not_hoard_items_another_handle_could_take() {
    threadlet_process_setup();
    let q: Queue<u8> = Queue::new(0).unwrap();
    let other = q.clone();
    for i in 0..3 {
        q.put(i).await.unwrap();
    }
    assert_eq!(q.get().await.unwrap(), 0);
    // The items `q` did not take are visible to every other handle, at once.
    assert_eq!(other.qsize().unwrap(), 2);
    assert_eq!(other.get_nowait().unwrap(), 1);
    assert_eq!(
        other.get_timeout(Duration::from_millis(10)).await.unwrap(),
        2
    );
    assert_eq!(q.get_nowait(), Err(ProcessQueueError::Empty));
}

#[test]
fn a_timed_out_async_get_does_not_keep_the_runtime_from_shutting_down() {
    threadlet_process_setup();
    let q: Queue<u8> = Queue::new(0).unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            // A get that waits forever, given up on by the caller.
            let waited = tokio::time::timeout(Duration::from_millis(20), q.get()).await;
            assert!(waited.is_err());
            assert_eq!(
                q.get_timeout(Duration::from_millis(20)).await,
                Err(ProcessQueueError::Empty)
            );
        });
        // Dropping the runtime waits for its blocking threads: none may be
        // left inside `get`.
        drop(rt);
        let _ = done.send(q);
    });
    let q = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("the runtime did not shut down: a blocking thread is parked in get");
    // The abandoned get took nothing.
    q.blocking_put(5).unwrap();
    assert_eq!(q.blocking_get().unwrap(), 5);
}

#[tokio::test]
async fn a_child_without_a_runtime_has_every_blocking_form() {
    threadlet_process_setup();
    let q: Queue<u32> = Queue::new(1).unwrap();
    let child = process::spawn_process(blocking_forms, q.clone()).unwrap();
    assert_eq!(
        child.join().await.unwrap(),
        [
            "Ok(())",
            "Err(Full)",
            "Err(Full)",
            "Ok(1)",
            "Err(Empty)",
            "Ok(())",
            "Ok(4)"
        ]
    );
    assert_eq!(q.qsize(), Ok(0));
}

#[tokio::test]
async fn a_bounded_queue_keeps_the_room_of_an_unacknowledged_item() {
    threadlet_process_setup();
    let q: Queue<u32> = Queue::new(1).unwrap();
    q.put(1).await.unwrap();
    let taker = q.clone();
    // A get cancelled at any point: it either handed the item out, or the
    // owner still has it (never taken, or put back unacknowledged).
    match tokio::time::timeout(Duration::from_millis(1), taker.get()).await {
        Ok(got) => assert_eq!(got, Ok(1)),
        Err(_) => assert_eq!(q.get_timeout(Duration::from_secs(10)).await, Ok(1)),
    }
    assert_eq!(q.qsize(), Ok(0));
    // The room came back exactly once: one put fits, the next does not.
    q.put_nowait(2).unwrap();
    assert_eq!(q.put_nowait(3), Err(ProcessQueueError::Full));
    assert_eq!(q.get_nowait(), Ok(2));
}

#[tokio::test]
async fn a_pipe_end_passed_on_to_a_grandchild_still_works() {
    threadlet_process_setup();
    let (ours, theirs) = Pipe::<u32>::new(false).unwrap();
    // The child drops its copy of the end as soon as it has handed it on
    // (Python: the grandchild holds a duplicate of the descriptor).
    let child = process::spawn_process(hand_to_grandchild, (theirs, 3)).unwrap();
    for i in 0..3 {
        assert_eq!(
            ours.recv_timeout(Duration::from_secs(20)).await,
            Ok(i),
            "message {i}"
        );
    }
    child.join().await.unwrap();
    // The child waited for its grandchild at exit: both ends are gone now.
    assert_eq!(
        ours.recv_timeout(Duration::from_secs(20)).await,
        Err(PipeError::Eof)
    );
}

#[tokio::test]
async fn two_processes_may_share_one_end() {
    threadlet_process_setup();
    let (ours, theirs) = Pipe::<u32>::new(false).unwrap();
    let a = process::spawn_process(send_n, (theirs.clone(), 5)).unwrap();
    let b = process::spawn_process(send_n, (theirs, 5)).unwrap();
    let mut got = Vec::new();
    for _ in 0..10 {
        got.push(ours.recv_timeout(Duration::from_secs(20)).await.unwrap());
    }
    got.sort_unstable();
    assert_eq!(got, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    a.join().await.unwrap();
    b.join().await.unwrap();
    // EOF only once every process holding the end is gone.
    assert_eq!(
        ours.recv_timeout(Duration::from_secs(20)).await,
        Err(PipeError::Eof)
    );
}

#[test]
fn a_dropped_async_pipe_recv_parks_no_thread_and_loses_no_message() {
    threadlet_process_setup();
    let (a, b) = Pipe::<u8>::new(true).unwrap();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            // A recv that waits, given up on by the caller.
            let waited = tokio::time::timeout(Duration::from_millis(20), a.recv()).await;
            assert!(waited.is_err());
        });
        // Dropping the runtime waits for its blocking threads: none may be
        // left inside `recv`.
        drop(rt);
        let _ = done.send(a);
    });
    let a = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("the runtime did not shut down: a blocking thread is parked in recv");
    // A message sent now is not lost to the abandoned recv.
    b.blocking_send(&7).unwrap();
    assert_eq!(a.blocking_recv_timeout(Duration::from_secs(20)), Ok(7));
}

#[tokio::test]
async fn a_cancelled_async_pipe_recv_loses_no_message() {
    threadlet_process_setup();
    let (a, b) = Pipe::<u8>::new(true).unwrap();
    // A recv given up on (at whatever point of its exchange the time runs
    // out); `timeout` drops it.
    assert!(
        tokio::time::timeout(Duration::from_millis(50), a.recv())
            .await
            .is_err()
    );
    b.send(&9).await.unwrap();
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(20), a.recv()).await,
        Ok(Ok(9))
    );
}
