//! From the article "Python Road [Article 16]: Python Concurrent Programming": the queue section: the three kinds of queue side by side —
//! `Queue` (first in, first out), `LifoQueue` (last in, first out) and
//! `PriorityQueue` (smallest first) — and then why a plain shared list is not
//! a queue: tasks that check the list and then pop from it race each other,
//! so items are handled twice or never, while the same work through a
//! `Queue` hands every item to exactly one task.
//!
//! ```text
//! cargo run --example queue_kinds
//! ```

use std::sync::{Arc, Mutex};
use std::time::Duration;

use threadlet::{LifoQueue, PriorityQueue, Queue};

const WORKERS: usize = 4;
const ITEMS: u32 = 1_000;

fn kinds() {
    let put_order = [3, 1, 4, 1, 5, 9, 2, 6];
    let fifo = Queue::new(0);
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(0);
    for n in put_order {
        fifo.put_nowait(n).unwrap();
        lifo.put_nowait(n).unwrap();
        prio.put_nowait(n).unwrap();
    }
    let show = |items: Vec<i32>| {
        items
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!("put in this order:   {}", show(put_order.to_vec()));
    println!(
        "Queue (FIFO):        {}",
        show(std::iter::from_fn(|| fifo.get_nowait().ok()).collect())
    );
    println!(
        "LifoQueue (LIFO):    {}",
        show(std::iter::from_fn(|| lifo.get_nowait().ok()).collect())
    );
    println!(
        "PriorityQueue:       {}",
        show(std::iter::from_fn(|| prio.get_nowait().ok()).collect())
    );

    // The article's priority queue of (priority, name) pairs.
    let q = PriorityQueue::new(0);
    q.put_nowait((3, "Alex")).unwrap();
    q.put_nowait((1, "Lily")).unwrap();
    q.put_nowait((2, "Mei")).unwrap();
    q.put_nowait((1, "Jun")).unwrap();
    println!("\nPriorityQueue of (priority, name):");
    while let Ok((priority, name)) = q.get_nowait() {
        println!("  {priority} {name}");
    }
}

/// A worker's "moment of thought": 0 to 1.5 ms, varying from item to item.
struct Think(u64);

impl Think {
    async fn now(&mut self) {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        tokio::time::sleep(Duration::from_micros((self.0 >> 33) % 1_500)).await;
    }
}

/// What the workers did with the items 0..ITEMS.
struct Report {
    handled: Vec<u32>,
    failed_pops: usize,
}

impl Report {
    fn print(&self, title: &str) -> bool {
        let mut times = vec![0u32; ITEMS as usize];
        for &item in &self.handled {
            times[item as usize] += 1;
        }
        let never = times.iter().filter(|&&t| t == 0).count();
        let twice = times.iter().filter(|&&t| t > 1).count();
        println!(
            "{title:<34} handled {:>4} times: {never:>3} items never, {twice:>3} more than once, \
             {:>3} pops found nothing",
            self.handled.len(),
            self.failed_pops
        );
        never == 0 && twice == 0 && self.failed_pops == 0
    }
}

/// A plain list shared by tasks, "protected" by a lock taken separately for
/// each step — the mistake the article warns about. No undefined behaviour
/// (the `Mutex` keeps every single step safe), just a wrong program: between
/// looking and popping, another task can change the list.
async fn plain_list() -> Report {
    let list = Arc::new(Mutex::new((0..ITEMS).collect::<Vec<u32>>()));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let list = list.clone();
            tokio::spawn(async move {
                let mut think = Think(w as u64 + 1);
                let mut handled = Vec::new();
                let mut failed_pops = 0;
                loop {
                    // Look at the last item ...
                    let last = list.lock().unwrap().last().copied();
                    let Some(item) = last else { break };
                    // ... think about it for a moment (another task may run) ...
                    think.now().await;
                    // ... then pop "it" (maybe another one by now, or none).
                    if list.lock().unwrap().pop().is_none() {
                        failed_pops += 1; // Python: IndexError: pop from empty list
                    }
                    handled.push(item);
                    think.now().await; // handling the item
                }
                (handled, failed_pops)
            })
        })
        .collect();
    let mut report = Report {
        handled: Vec::new(),
        failed_pops: 0,
    };
    for w in workers {
        let (handled, failed) = w.await.unwrap();
        report.handled.extend(handled);
        report.failed_pops += failed;
    }
    report
}

/// The same work through a `Queue`: taking an item is one step.
async fn queue() -> Report {
    let q = Queue::new(0);
    for item in 0..ITEMS {
        q.put(item).await.unwrap();
    }
    q.shutdown(); // no more items: getters stop once it is drained
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let q = q.clone();
            tokio::spawn(async move {
                let mut think = Think(w as u64 + 1);
                let mut handled = Vec::new();
                while let Ok(item) = q.get().await {
                    think.now().await; // handling the item

                    handled.push(item);
                }
                handled
            })
        })
        .collect();
    let mut report = Report {
        handled: Vec::new(),
        failed_pops: 0,
    };
    for w in workers {
        report.handled.extend(w.await.unwrap());
    }
    report
}

#[tokio::main]
async fn main() {
    kinds();

    println!("\n{WORKERS} tasks share {ITEMS} items:");
    let list_ok = plain_list().await.print("a plain list (look, then pop):");
    let queue_ok = queue().await.print("a threadlet::Queue (get):");
    if list_ok {
        println!("(the plain list got lucky this time: run it again)");
    } else {
        println!("The list lost and repeated work; the queue handed out every item exactly once.");
    }
    assert!(queue_ok, "the queue must hand out every item exactly once");
}
