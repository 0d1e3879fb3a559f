//! Models of the queue core (`queue::core`): two counting semaphores (items,
//! free slots) over a store, through the public `Queue` API.

use loom::future::block_on;
use loom::thread;

use super::{model, poll_once};
use crate::queue::Queue;

/// A bounded queue of one: items arrive in order, exactly once, and the
/// capacity is never exceeded while a producer and a consumer race.
#[test]
fn bounded_put_get_keeps_order_and_capacity() {
    model(|| {
        let q = Queue::new(1);
        let producer = {
            let q = q.clone();
            thread::spawn(move || {
                for i in 0..2 {
                    block_on(q.put(i)).unwrap();
                    assert!(q.len() <= 1);
                }
            })
        };
        let got: Vec<i32> = (0..2).map(|_| block_on(q.get()).unwrap()).collect();
        producer.join().unwrap();
        assert_eq!(got, [0, 1]);
        assert!(q.is_empty());
    });
}

/// A `get` that was handed an item's permit (after a barger passed it over)
/// and is then dropped before returning must leave the item for the next
/// getter: nothing is lost.
#[test]
fn dropped_get_after_handoff_loses_no_item() {
    model(|| {
        let q = Queue::new(0);
        let mut quitter = Box::pin(q.get());
        assert!(poll_once(&mut quitter).is_pending()); // queued
        q.put_nowait(1).unwrap(); // wakes the quitter...
        assert_eq!(q.get_nowait(), Ok(1)); // ...but a barger takes the item
        assert!(poll_once(&mut quitter).is_pending()); // passed over

        let producer = {
            let q = q.clone();
            thread::spawn(move || q.put_nowait(2).unwrap()) // handed to the quitter
        };
        let consumer = {
            let q = q.clone();
            thread::spawn(move || block_on(q.get()).unwrap())
        };
        drop(quitter);
        producer.join().unwrap();
        assert_eq!(consumer.join().unwrap(), 2);
        assert!(q.is_empty());
    });
}

/// Shutdown racing a blocked getter and a putter: the getter gets the item or
/// `ShutDown`, never hangs; a refused put hands its item back.
#[test]
fn shutdown_races_blocked_getter() {
    model(|| {
        let q = Queue::new(0);
        let getter = {
            let q = q.clone();
            thread::spawn(move || block_on(q.get()).ok())
        };
        let putter = {
            let q = q.clone();
            thread::spawn(move || q.put_nowait(7).map_err(|e| e.into_inner()))
        };
        q.shutdown();
        let got = getter.join().unwrap();
        let put = putter.join().unwrap();
        match (put, got) {
            (Ok(()), Some(7)) => assert!(q.is_empty()),
            (Ok(()), None) => assert_eq!(q.len(), 1),
            (Err(7), None) => assert!(q.is_empty()),
            other => panic!("impossible outcome {other:?}"),
        }
    });
}
