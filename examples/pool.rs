//! From the article "Python Road [Article 16]: Python Concurrent Programming": the closing `multiprocessing` ideas. First CPU-bound work: count
//! the primes below N in chunks, serially, then on a `process::Pool` of one
//! worker per core, and report the speedup. Then the baozi producer-consumer
//! across processes: two chef processes steam baozi into a
//! `process::Queue` (a basket of 5) and the main process eats them.
//!
//! Run it with `cargo run --release --example pool`.

#[cfg(not(all(feature = "process", target_os = "linux")))]
fn main() {
    eprintln!("this example needs the `process` feature (on by default) on Linux");
}

#[cfg(all(feature = "process", target_os = "linux"))]
fn main() {
    demo::main();
}

#[cfg(all(feature = "process", target_os = "linux"))]
mod demo {
    use std::time::Instant;

    use threadlet::process::{self, Pool, Queue};

    /// The number of primes in `[lo, hi)`, by trial division (deliberately CPU-bound).
    fn count_primes((lo, hi): (u64, u64)) -> u64 {
        (lo..hi)
            .filter(|&n| n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
            .count() as u64
    }

    /// `count_primes` plus which worker ran it, to show the work spread over processes.
    fn count_primes_where(bounds: (u64, u64)) -> (u64, String) {
        let me = process::current_process();
        (
            count_primes(bounds),
            format!("{} (pid {})", me.name(), me.pid()),
        )
    }

    /// A chef process: steams `count` baozi into the basket.
    fn chef((basket, count): (Queue<String>, u32)) {
        let me = process::current_process();
        for i in 1..=count {
            let baozi = format!("baozi {i} from {}", me.name());
            println!("{} (pid {}) made {baozi}", me.name(), me.pid());
            basket.blocking_put(baozi).expect("put");
        }
    }

    pub(crate) fn main() {
        process::register(count_primes);
        process::register(count_primes_where);
        process::register(chef);

        // `run` calls `process::init()` first: a pool worker or a chef serves
        // its parent from there and never comes back here. So everything else,
        // the serial count too, happens inside `run`.
        threadlet::run(async {
            // Smaller in debug builds, so the unoptimized example stays quick.
            const N: u64 = if cfg!(debug_assertions) {
                400_000
            } else {
                1_500_000
            };
            const CHUNKS: u64 = 48;
            let chunks: Vec<(u64, u64)> = (0..CHUNKS)
                .map(|i| (i * N / CHUNKS, (i + 1) * N / CHUNKS))
                .collect();
            let workers = std::thread::available_parallelism().map_or(2, usize::from);

            let t = Instant::now();
            let serial_chunks = chunks.clone();
            // CPU-bound: off the async workers.
            let serial: u64 = tokio::task::spawn_blocking(move || {
                serial_chunks.iter().map(|&c| count_primes(c)).sum()
            })
            .await
            .expect("serial count");
            let serial_time = t.elapsed();
            println!("serial:          {serial} primes below {N} in {serial_time:.2?}");

            let pool = Pool::new(workers).expect("pool");
            let t = Instant::now();
            let counts = pool
                .map_chunked(count_primes_where, chunks, 1)
                .await
                .expect("map");
            let parallel_time = t.elapsed();
            let parallel: u64 = counts.iter().map(|(n, _)| n).sum();
            let mut names: Vec<&str> = counts.iter().map(|(_, w)| w.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            println!("pool workers:    {}", names.join(", "));
            assert_eq!(parallel, serial);
            println!("Pool({workers}).map:     {parallel} primes below {N} in {parallel_time:.2?}");
            println!(
                "speedup:         {:.2}x on {workers} cores",
                serial_time.as_secs_f64() / parallel_time.as_secs_f64()
            );
            pool.close();
            pool.join().await.expect("join");

            println!();
            println!("== baozi across processes: 2 chefs, 1 eater, a basket of 5 ==");
            let basket = Queue::new(5).expect("queue");
            let chefs: Vec<_> = ["Chef-A", "Chef-B"]
                .into_iter()
                .map(|name| {
                    process::Builder::new()
                        .name(name)
                        .spawn(chef, (basket.clone(), 4))
                        .expect("spawn")
                })
                .collect();
            for _ in 0..8 {
                let baozi = basket.get().await.expect("get");
                println!("MainProcess (pid {}) ate {baozi}", process::getpid());
            }
            for c in &chefs {
                c.join().await.expect("chef");
            }
            println!("all 8 baozi eaten");
        });
    }
}
