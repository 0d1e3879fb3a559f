//! `threadlet::Queue` (FIFO): Python's `queue.Queue` surface, cancel safety,
//! FIFO service of blocked getters and putters, `task_done`/`join`, capacity,
//! Stream and Sink. Behaviour checked against CPython's `Lib/queue.py` and
//! `Lib/test/test_queue.py` (3.13/3.14), written fresh.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use threadlet::error::{GetError, PutError, TaskDoneError};
use threadlet::queue::{QueueSink, QueueStream};
use threadlet::{LifoQueue, PriorityQueue, Queue};
use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

// ----- the basic surface -----

#[test]
fn fifo_order_and_sizes() {
    let q = Queue::new(3);
    assert_eq!(q.maxsize(), 3);
    assert!(q.is_empty());
    assert!(!q.is_full());
    for i in 0..3 {
        q.put_nowait(i).unwrap();
        assert_eq!(q.len(), i + 1);
    }
    assert!(q.is_full());
    assert!(!q.is_empty());
    assert_eq!(q.put_nowait(3), Err(PutError::Full(3)));
    assert_eq!(q.get_nowait(), Ok(0));
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
    assert!(q.is_empty());
}

#[test]
fn unbounded_queue_is_never_full() {
    let q = Queue::default();
    assert_eq!(q.maxsize(), 0);
    for i in 0..10_000 {
        q.put_nowait(i).unwrap();
    }
    assert!(!q.is_full());
    assert_eq!(q.len(), 10_000);
    for i in 0..10_000 {
        assert_eq!(q.get_nowait(), Ok(i));
    }
}

#[test]
fn huge_maxsize_is_unbounded() {
    let q = Queue::new(usize::MAX);
    q.put_nowait(1).unwrap();
    assert!(!q.is_full());
    assert_eq!(q.maxsize(), usize::MAX);
}

#[test]
fn handles_share_one_queue() {
    let a = Queue::new(0);
    let b = a.clone();
    a.put_nowait("x").unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b.get_nowait(), Ok("x"));
    assert!(a.is_empty());
}

#[tokio::test]
async fn put_and_get_await() {
    let q = Queue::new(2);
    q.put(1).await.unwrap();
    q.put(2).await.unwrap();
    assert_eq!(q.get().await, Ok(1));
    assert_eq!(q.get().await, Ok(2));
}

#[test]
fn errors_display_pythons_words_and_hand_items_back() {
    struct NoDebug(#[allow(dead_code)] u8);
    let full = PutError::Full(NoDebug(1));
    assert_eq!(full.to_string(), "queue is full");
    assert_eq!(format!("{full:?}"), "Full(..)");
    assert!(full.is_full() && !full.is_shut_down());
    let down = PutError::ShutDown(NoDebug(2));
    assert_eq!(down.to_string(), "queue is shut down");
    assert_eq!(format!("{down:?}"), "ShutDown(..)");
    assert_eq!(down.into_inner().0, 2);
    assert_eq!(GetError::Empty.to_string(), "queue is empty");
    assert_eq!(GetError::ShutDown.to_string(), "queue is shut down");
    assert_eq!(
        TaskDoneError.to_string(),
        "task_done() called too many times"
    );
    // Usable as boxed errors.
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(PutError::Full(3u8));
    assert_eq!(boxed.to_string(), "queue is full");
}

#[test]
fn debug_shows_state_without_t_debug() {
    struct NoDebug;
    let q = Queue::new(4);
    q.put_nowait(NoDebug).unwrap();
    let shown = format!("{q:?}");
    assert!(shown.starts_with("Queue {"), "{shown}");
    assert!(shown.contains("maxsize: 4"), "{shown}");
    let lifo = LifoQueue::<NoDebug>::new(0);
    assert!(format!("{lifo:?}").starts_with("LifoQueue {"));
    assert!(format!("{:?}", PriorityQueue::<u8>::new(0)).starts_with("PriorityQueue {"));
    assert!(shown.contains("qsize: 1"), "{shown}");
    assert!(shown.contains("unfinished_tasks: 1"), "{shown}");
    assert!(shown.contains("is_shutdown: false"), "{shown}");
}

#[test]
fn handles_and_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<Queue<String>>();
    send_sync::<LifoQueue<String>>();
    send_sync::<PriorityQueue<String>>();
    send_sync::<QueueStream<String, threadlet::queue::Fifo>>();
    send_sync::<QueueSink<String, threadlet::queue::Priority>>();
    send_sync::<PutError<String>>();
    let q: Queue<String> = Queue::new(1);
    send(&q.put(String::new()));
    send(&q.get());
    send(&q.put_timeout(String::new(), Duration::ZERO));
    send(&q.get_timeout(Duration::ZERO));
    send(&q.join());
    send(&q.join_timeout(Duration::ZERO));
}

// ----- timeouts (paused clock: deterministic) -----

#[tokio::test(start_paused = true)]
async fn get_timeout_waits_then_reports_empty() {
    let q = Queue::<u8>::new(0);
    let start = tokio::time::Instant::now();
    assert_eq!(
        q.get_timeout(Duration::from_secs(5)).await,
        Err(GetError::Empty)
    );
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn get_timeout_returns_an_item_that_arrives_in_time() {
    let q = Queue::new(0);
    let q2 = q.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        q2.put(9).await.unwrap();
    });
    let start = tokio::time::Instant::now();
    assert_eq!(q.get_timeout(Duration::from_secs(5)).await, Ok(9));
    assert_eq!(start.elapsed(), Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn put_timeout_waits_then_hands_the_item_back() {
    let q = Queue::new(1);
    q.put("a").await.unwrap();
    let start = tokio::time::Instant::now();
    assert_eq!(
        q.put_timeout("b", Duration::from_secs(3)).await,
        Err(PutError::Full("b"))
    );
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert_eq!(q.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn put_timeout_succeeds_when_a_place_frees_in_time() {
    let q = Queue::new(1);
    q.put(1).await.unwrap();
    let q2 = q.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        q2.get().await.unwrap();
    });
    q.put_timeout(2, Duration::from_secs(5)).await.unwrap();
    assert_eq!(q.get_nowait(), Ok(2));
}

#[tokio::test(start_paused = true)]
async fn zero_timeout_still_takes_what_is_there() {
    let q = Queue::new(1);
    q.put_timeout(1, Duration::ZERO).await.unwrap();
    assert_eq!(
        q.put_timeout(2, Duration::ZERO).await,
        Err(PutError::Full(2))
    );
    assert_eq!(q.get_timeout(Duration::ZERO).await, Ok(1));
    assert_eq!(q.get_timeout(Duration::ZERO).await, Err(GetError::Empty));
}

#[tokio::test]
async fn duration_max_means_forever_without_overflow() {
    let q = Queue::new(1);
    q.put_timeout(1, Duration::MAX).await.unwrap();
    assert_eq!(q.get_timeout(Duration::MAX).await, Ok(1));
    q.put(2).await.unwrap();
    q.get().await.unwrap();
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert!(q.join_timeout(Duration::MAX).await);
}

// ----- FIFO service of blocked getters and putters (poll level) -----

#[test]
fn blocked_getters_are_served_in_fifo_order() {
    let q = Queue::new(0);
    let mut a = spawn(q.get());
    let mut b = spawn(q.get());
    let mut c = spawn(q.get());
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    assert_pending!(c.poll());

    q.put_nowait(1).unwrap();
    assert!(a.is_woken());
    assert!(!b.is_woken() && !c.is_woken());
    assert_eq!(assert_ready!(a.poll()), Ok(1));

    q.put_nowait(2).unwrap();
    assert!(b.is_woken());
    assert!(!c.is_woken());
    q.put_nowait(3).unwrap();
    assert!(c.is_woken());
    assert_eq!(assert_ready!(b.poll()), Ok(2));
    assert_eq!(assert_ready!(c.poll()), Ok(3));
}

#[test]
fn blocked_putters_are_served_in_fifo_order() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let mut a = spawn(q.put(1));
    let mut b = spawn(q.put(2));
    let mut c = spawn(q.put(3));
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    assert_pending!(c.poll());

    assert_eq!(q.get_nowait(), Ok(0));
    assert!(a.is_woken());
    assert!(!b.is_woken() && !c.is_woken());
    assert_ready!(a.poll()).unwrap();
    assert_eq!(q.get_nowait(), Ok(1));
    assert!(b.is_woken());
    assert!(!c.is_woken());
    assert_ready!(b.poll()).unwrap();
    assert_eq!(q.get_nowait(), Ok(2));
    assert_ready!(c.poll()).unwrap();
    assert_eq!(q.get_nowait(), Ok(3));
}

#[tokio::test(flavor = "current_thread")]
async fn waiting_tasks_are_served_in_arrival_order() {
    let q = Queue::new(0);
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for id in 0..10 {
        let q = q.clone();
        let order = order.clone();
        tasks.push(tokio::spawn(async move {
            let item = q.get().await.unwrap();
            order.lock().unwrap().push((id, item));
        }));
        tokio::task::yield_now().await;
    }
    for item in 0..10 {
        q.put(item).await.unwrap();
    }
    for t in tasks {
        t.await.unwrap();
    }
    let expected: Vec<_> = (0..10).map(|i| (i, i)).collect();
    assert_eq!(*order.lock().unwrap(), expected);
}

// ----- cancel safety (poll level) -----

#[test]
fn dropped_pending_get_takes_nothing() {
    let q = Queue::new(0);
    let mut g = spawn(q.get());
    assert_pending!(g.poll());
    drop(g);
    q.put_nowait(1).unwrap();
    assert_eq!(q.get_nowait(), Ok(1));
}

#[test]
fn woken_getter_dropped_passes_its_item_on() {
    let q = Queue::new(0);
    let mut a = spawn(q.get());
    let mut b = spawn(q.get());
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    q.put_nowait("only").unwrap();
    assert!(a.is_woken());
    drop(a); // woken for the item, cancelled before it ran
    assert!(b.is_woken());
    assert_eq!(assert_ready!(b.poll()), Ok("only"));
}

#[test]
fn dropped_pending_put_inserts_nothing_and_drops_its_item() {
    let drops = Arc::new(());
    let q = Queue::new(1);
    q.put_nowait(drops.clone()).unwrap();
    let mut p = spawn(q.put(drops.clone()));
    assert_pending!(p.poll());
    assert_eq!(Arc::strong_count(&drops), 3);
    drop(p);
    assert_eq!(Arc::strong_count(&drops), 2);
    assert_eq!(q.len(), 1);
    q.get_nowait().unwrap();
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
}

#[test]
fn woken_putter_dropped_passes_the_place_on() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let mut a = spawn(q.put(1));
    let mut b = spawn(q.put(2));
    assert_pending!(a.poll());
    assert_pending!(b.poll());
    q.get_nowait().unwrap();
    assert!(a.is_woken());
    drop(a);
    assert!(b.is_woken());
    assert_ready!(b.poll()).unwrap();
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
    // The place is free again, exactly one.
    q.put_nowait(3).unwrap();
    assert!(q.put_nowait(4).unwrap_err().is_full());
}

#[test]
fn barging_get_overtakes_a_woken_getter_who_keeps_the_head_of_the_line() {
    let q = Queue::new(0);
    let mut a = spawn(q.get());
    assert_pending!(a.poll());
    q.put_nowait(1).unwrap();
    assert!(a.is_woken());
    // A caller that finds the item free takes it (as in Python).
    assert_eq!(q.get_nowait(), Ok(1));
    assert_pending!(a.poll());
    // A getter that starts waiting now queues behind the overtaken one.
    let mut b = spawn(q.get());
    assert_pending!(b.poll());
    q.put_nowait(2).unwrap();
    assert!(a.is_woken());
    assert!(!b.is_woken());
    assert_eq!(assert_ready!(a.poll()), Ok(2));
    assert_pending!(b.poll());
    q.put_nowait(3).unwrap();
    assert_eq!(assert_ready!(b.poll()), Ok(3));
}

#[test]
fn overtaken_putter_keeps_the_head_of_the_line() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let mut a = spawn(q.put(1));
    assert_pending!(a.poll());
    q.get_nowait().unwrap();
    assert!(a.is_woken());
    q.put_nowait(9).unwrap(); // barges into the freed place
    assert_pending!(a.poll());
    let mut b = spawn(q.put(2));
    assert_pending!(b.poll());
    assert_eq!(q.get_nowait(), Ok(9));
    assert!(a.is_woken());
    assert!(!b.is_woken());
    assert_ready!(a.poll()).unwrap();
    assert_eq!(q.get_nowait(), Ok(1));
    assert_ready!(b.poll()).unwrap();
    assert_eq!(q.get_nowait(), Ok(2));
}

// ----- task_done / join -----

#[test]
fn task_done_too_often_is_an_error_and_changes_nothing() {
    let q = Queue::new(0);
    assert_eq!(q.task_done(), Err(TaskDoneError));
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert_eq!(q.unfinished_tasks(), 2);
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert_eq!(q.unfinished_tasks(), 0);
    q.put_nowait(3).unwrap();
    assert_eq!(q.unfinished_tasks(), 1);
}

#[test]
fn join_returns_exactly_when_the_last_task_done_arrives() {
    let q = Queue::new(0);
    assert_ready!(spawn(q.join()).poll()); // nothing put: returns at once
    for i in 0..3 {
        q.put_nowait(i).unwrap();
    }
    let mut j1 = spawn(q.join());
    let mut j2 = spawn(q.join());
    assert_pending!(j1.poll());
    assert_pending!(j2.poll());
    for _ in 0..3 {
        q.get_nowait().unwrap();
    }
    assert_pending!(j1.poll()); // taken is not done
    q.task_done().unwrap();
    q.task_done().unwrap();
    assert!(!j1.is_woken() && !j2.is_woken());
    assert_pending!(j1.poll());
    q.task_done().unwrap();
    assert!(j1.is_woken() && j2.is_woken());
    assert_ready!(j1.poll());
    assert_ready!(j2.poll());
}

#[test]
fn join_waits_again_if_a_put_lands_before_it_runs() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    let mut j = spawn(q.join());
    assert_pending!(j.poll());
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    assert!(j.is_woken());
    q.put_nowait(2).unwrap(); // new work before the joiner ran
    assert_pending!(j.poll());
    q.get_nowait().unwrap();
    q.task_done().unwrap();
    assert_ready!(j.poll());
}

#[tokio::test(start_paused = true)]
async fn join_timeout_reports_whether_all_was_done() {
    let q = Queue::new(0);
    q.put(1).await.unwrap();
    assert!(!q.join_timeout(Duration::from_secs(1)).await);
    q.get().await.unwrap();
    q.task_done().unwrap();
    assert!(q.join_timeout(Duration::from_secs(1)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_sees_every_task_done_across_workers() {
    const N: usize = 5_000;
    let q = Queue::new(16);
    let done = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let q = q.clone();
            let done = done.clone();
            tokio::spawn(async move {
                while let Ok(_item) = q.get().await {
                    done.fetch_add(1, Ordering::SeqCst);
                    q.task_done().unwrap();
                }
            })
        })
        .collect();
    for i in 0..N {
        q.put(i).await.unwrap();
    }
    q.join().await;
    // join returned: every item was marked done, none is outstanding.
    assert_eq!(done.load(Ordering::SeqCst), N);
    assert_eq!(q.unfinished_tasks(), 0);
    q.shutdown();
    for w in workers {
        w.await.unwrap();
    }
}

// ----- capacity -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_is_never_exceeded() {
    const MAX: usize = 3;
    let q = Queue::new(MAX);
    let seen_max = Arc::new(AtomicUsize::new(0));
    let producers: Vec<_> = (0..4)
        .map(|p| {
            let q = q.clone();
            let seen_max = seen_max.clone();
            tokio::spawn(async move {
                for i in 0..2_000 {
                    q.put(p * 10_000 + i).await.unwrap();
                    let len = q.len();
                    seen_max.fetch_max(len, Ordering::Relaxed);
                    assert!(len <= MAX, "queue held {len} > maxsize {MAX}");
                    if i % 3 == 0 {
                        let _ = q.put_nowait(p * 10_000 + 5_000 + i);
                    }
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..4)
        .map(|_| {
            let q = q.clone();
            tokio::spawn(async move {
                let mut got = 0usize;
                while q.get().await.is_ok() {
                    assert!(q.len() <= MAX);
                    got += 1;
                    if got.is_multiple_of(5) {
                        tokio::task::yield_now().await;
                    }
                }
                got
            })
        })
        .collect();
    for p in producers {
        p.await.unwrap();
    }
    q.shutdown();
    let mut total = 0;
    for c in consumers {
        total += c.await.unwrap();
    }
    assert_eq!(total, q.unfinished_tasks());
    assert!(total >= 8_000);
    assert!(seen_max.load(Ordering::Relaxed) <= MAX);
}

// ----- Stream and Sink -----

#[tokio::test]
async fn stream_ends_after_shutdown_and_drain() {
    let q = Queue::new(0);
    let consumer = tokio::spawn(q.stream().collect::<Vec<u32>>());
    for i in 0..100 {
        q.put(i).await.unwrap();
    }
    q.shutdown();
    assert_eq!(consumer.await.unwrap(), (0..100).collect::<Vec<_>>());
    let mut s = q.stream();
    assert_eq!(s.next().await, None);
    assert!(futures::stream::FusedStream::is_terminated(&s));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_streams_share_the_items_exactly_once() {
    let q = Queue::new(8);
    let consumers: Vec<_> = (0..3)
        .map(|_| tokio::spawn(q.stream().collect::<Vec<u32>>()))
        .collect();
    for i in 0..3_000 {
        q.put(i).await.unwrap();
    }
    q.shutdown();
    let mut all = Vec::new();
    for c in consumers {
        let got = c.await.unwrap();
        // Each stream sees its share in FIFO order.
        assert!(got.windows(2).all(|w| w[0] < w[1]));
        all.extend(got);
    }
    all.sort_unstable();
    assert_eq!(all, (0..3_000).collect::<Vec<_>>());
}

#[test]
fn dropped_pending_stream_passes_its_wakeup_on() {
    let q = Queue::new(0);
    let mut s1 = q.stream();
    let mut s2 = q.stream();
    let mut n1 = spawn(async { s1.next().await });
    assert_pending!(n1.poll());
    let mut n2 = spawn(async { s2.next().await });
    assert_pending!(n2.poll());
    q.put_nowait(5).unwrap();
    assert!(n1.is_woken());
    drop(n1);
    drop(s1);
    assert!(n2.is_woken());
    assert_eq!(assert_ready!(n2.poll()), Some(5));
}

#[tokio::test]
async fn sink_waits_for_room_and_hands_items_back_after_shutdown() {
    let q = Queue::new(2);
    let mut sink = q.sink();
    sink.send(1).await.unwrap();
    sink.send(2).await.unwrap();
    {
        let mut blocked = spawn(sink.send(3));
        assert_pending!(blocked.poll());
        assert_eq!(q.get_nowait(), Ok(1));
        assert!(blocked.is_woken());
        assert_ready!(blocked.poll()).unwrap();
    }
    assert_eq!(q.len(), 2);
    q.shutdown();
    let err = sink.send(4).await.unwrap_err();
    assert_eq!(err, PutError::ShutDown(4));
}

#[test]
fn dropped_sink_gives_back_a_reserved_place() {
    let q = Queue::<u8>::new(1);
    let mut sink = q.sink();
    let mut ready = spawn(futures::future::poll_fn(|cx| {
        futures::Sink::poll_ready(std::pin::Pin::new(&mut sink), cx)
    }));
    assert_ready!(ready.poll()).unwrap();
    drop(ready);
    // The sink holds the only place until it is dropped.
    assert!(q.put_nowait(1).unwrap_err().is_full());
    drop(sink);
    q.put_nowait(1).unwrap();
}
