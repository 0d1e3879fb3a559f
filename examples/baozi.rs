//! From the article "Python Road [Article 16]: Python Concurrent Programming": the producer–consumer shop, "baozi" (steamed buns): cooks put
//! baozi into a steamer that holds only a few, customers take them out and
//! eat them. The steamer is a [`threadlet::Queue`] with a `maxsize`: a cook
//! finding it full waits, a customer finding it empty waits. At closing time
//! the shop checks that every baozi was eaten exactly once.
//!
//! ```text
//! cargo run --example baozi
//! cargo run --example baozi -- --producers 4 --consumers 4 --count 200 --maxsize 10
//! cargo run --example baozi -- --count 1000000 --maxsize 100 --quiet   # no sleeps, no lines
//! ```
//!
//! Python's version:
//!
//! ```python
//! q = queue.Queue(maxsize=5)
//! def producer(name):
//!     for n in range(count):
//!         q.put(f"baozi {n}")
//!         print(f"{name} made baozi {n}")
//! def consumer(name):
//!     while True:
//!         baozi = q.get()
//!         print(f"[{name}] got [{baozi}] and ate it")
//!         q.task_done()
//! ```

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threadlet::Queue;
use threadlet::error::{GetError, PutError};

const COOKS: [&str; 8] = ["Lily", "Alex", "Mei", "Jun", "Rosa", "Omar", "Nina", "Tao"];
const CUSTOMERS: [&str; 8] = [
    "Lilei", "Ahi", "Hanmei", "Bo", "Yuki", "Sam", "Ivan", "Zara",
];

/// Colours for the customers' lines (the cooks' are green).
const CUSTOMER_COLOURS: [&str; 4] = ["\x1b[33;1m", "\x1b[36;1m", "\x1b[35;1m", "\x1b[34;1m"];
const GREEN: &str = "\x1b[32;1m";
const RED: &str = "\x1b[31;1m";
const RESET: &str = "\x1b[0m";

/// One baozi: who made it and its number in the shop's day.
#[derive(Debug)]
struct Baozi {
    id: usize,
    cook: &'static str,
}

struct Options {
    producers: usize,
    consumers: usize,
    count: usize,
    maxsize: usize,
    quiet: bool,
}

fn usage() -> &'static str {
    "usage: baozi [--producers N] [--consumers N] [--count N] [--maxsize N] [--quiet]\n\
     \n\
     --producers N  cooks (default 2)\n\
     --consumers N  customers (default 3)\n\
     --count N      baozi made in total (default 24)\n\
     --maxsize N    baozi the steamer holds, 0 = unlimited (default 5)\n\
     --quiet        no sleeps and no per-baozi lines: a throughput run"
}

fn parse_args() -> Result<Options, String> {
    let mut opts = Options {
        producers: 2,
        consumers: 3,
        count: 24,
        maxsize: 5,
        quiet: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let target = match arg.as_str() {
            "--producers" => &mut opts.producers,
            "--consumers" => &mut opts.consumers,
            "--count" => &mut opts.count,
            "--maxsize" => &mut opts.maxsize,
            "--quiet" => {
                opts.quiet = true;
                continue;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other:?}")),
        };
        let value = args.next().ok_or_else(|| format!("{arg} needs a number"))?;
        *target = value
            .parse()
            .map_err(|_| format!("{arg} needs a number, not {value:?}"))?;
    }
    if opts.producers == 0 || opts.consumers == 0 {
        return Err("the shop needs at least one cook and one customer".into());
    }
    Ok(opts)
}

/// Paints a line, unless colours are off (`NO_COLOR`, or not a terminal).
struct Painter {
    on: bool,
}

impl Painter {
    fn paint(&self, colour: &str, text: &str) -> String {
        if self.on {
            format!("{colour}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

/// A small deterministic generator for the cooking and eating times.
struct Rng(u64);

impl Rng {
    fn millis(&mut self, low: u64, high: u64) -> Duration {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Duration::from_millis(low + self.0 % (high - low))
    }
}

async fn cook(
    name: &'static str,
    ids: std::ops::Range<usize>,
    steamer: Queue<Baozi>,
    paint: Arc<Painter>,
    quiet: bool,
) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (ids.start as u64 + 1));
    for id in ids {
        if !quiet {
            tokio::time::sleep(rng.millis(20, 60)).await; // kneading, steaming
        }
        let baozi = Baozi { id, cook: name };
        // Try first, to show the wait when the steamer is full.
        let baozi = match steamer.put_nowait(baozi) {
            Ok(()) => None,
            Err(PutError::Full(baozi)) => Some(baozi),
            Err(PutError::ShutDown(_)) => unreachable!("the shop closes after the cooks"),
        };
        if let Some(baozi) = baozi {
            if !quiet {
                println!(
                    "{}",
                    paint.paint(GREEN, &format!("{name}: the steamer is full, waiting ..."))
                );
            }
            steamer.put(baozi).await.expect("the shop is open");
        }
        if !quiet {
            println!(
                "{}",
                paint.paint(
                    GREEN,
                    &format!(
                        "{name} made baozi #{id:<3} ({} in the steamer)",
                        steamer.len()
                    )
                )
            );
        }
    }
}

async fn customer(
    seat: usize,
    name: &'static str,
    colour: &'static str,
    steamer: Queue<Baozi>,
    eaten: Arc<Mutex<Vec<u32>>>,
    paint: Arc<Painter>,
    quiet: bool,
) -> usize {
    let mut rng = Rng(0xC0FF_EE00_D15E_A5E5 ^ (seat as u64 + 1));
    let mut mine = 0;
    loop {
        // `get_task`: the baozi comes in a guard that calls Python's
        // `task_done()` when it is dropped, even if eating it panics.
        let baozi = match steamer.get_task_nowait() {
            Ok(baozi) => baozi,
            Err(GetError::Empty) => {
                if !quiet {
                    println!(
                        "{}",
                        paint.paint(colour, &format!("[{name}] waits for a baozi ..."))
                    );
                }
                match steamer.get_task().await {
                    Ok(baozi) => baozi,
                    Err(GetError::ShutDown) => break, // closing time
                    Err(GetError::Empty) => unreachable!("get waits"),
                }
            }
            Err(GetError::ShutDown) => break,
        };
        if !quiet {
            println!(
                "{}",
                paint.paint(
                    colour,
                    &format!(
                        "[{name}] got [baozi #{} by {}] and ate it",
                        baozi.id, baozi.cook
                    )
                )
            );
            tokio::time::sleep(rng.millis(100, 300)).await; // chewing
        }
        eaten.lock().unwrap()[baozi.id] += 1;
        mine += 1;
        drop(baozi); // eaten: its task is done (Python's `q.task_done()`)
    }
    if !quiet {
        println!("{}", paint.paint(colour, &format!("[{name}] goes home")));
    }
    mine
}

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(opts) => opts,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("baozi: {msg}\n");
            }
            eprintln!("{}", usage());
            return if msg.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(2)
            };
        }
    };
    let paint = Arc::new(Painter {
        on: std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
    });
    let steamer: Queue<Baozi> = Queue::new(opts.maxsize);
    let eaten = Arc::new(Mutex::new(vec![0u32; opts.count]));
    println!(
        "The shop opens: {} cook(s), {} customer(s), {} baozi, a steamer for {}.",
        opts.producers,
        opts.consumers,
        opts.count,
        if opts.maxsize == 0 {
            "any number".to_string()
        } else {
            opts.maxsize.to_string()
        }
    );
    let start = Instant::now();

    let customers: Vec<_> = (0..opts.consumers)
        .map(|i| {
            let name = CUSTOMERS[i % CUSTOMERS.len()];
            let colour = CUSTOMER_COLOURS[i % CUSTOMER_COLOURS.len()];
            let task = customer(
                i,
                name,
                colour,
                steamer.clone(),
                eaten.clone(),
                paint.clone(),
                opts.quiet,
            );
            (name, tokio::spawn(task))
        })
        .collect();
    // Share the day's baozi out among the cooks.
    let per_cook = opts.count / opts.producers;
    let extra = opts.count % opts.producers;
    let mut next = 0;
    let cooks: Vec<_> = (0..opts.producers)
        .map(|i| {
            let n = per_cook + usize::from(i < extra);
            let ids = next..next + n;
            next += n;
            let name = COOKS[i % COOKS.len()];
            tokio::spawn(cook(name, ids, steamer.clone(), paint.clone(), opts.quiet))
        })
        .collect();

    for c in cooks {
        c.await.expect("a cook panicked");
    }
    steamer.join().await; // every baozi put has been eaten (its task done)
    steamer.shutdown(); // closing time: waiting customers go home
    let mut tally = Vec::new();
    for (name, c) in customers {
        tally.push((name, c.await.expect("a customer panicked")));
    }
    let elapsed = start.elapsed();

    let eaten = eaten.lock().unwrap();
    let once = eaten.iter().filter(|&&n| n == 1).count();
    let never = eaten.iter().filter(|&&n| n == 0).count();
    let twice = eaten.iter().filter(|&&n| n > 1).count();
    let total: usize = tally.iter().map(|(_, n)| n).sum();
    println!();
    for (name, n) in &tally {
        println!("  {name:<7} ate {n}");
    }
    println!(
        "Closing time after {:.2?}: {} baozi made, {total} eaten ({:.0} baozi/s).",
        elapsed,
        opts.count,
        opts.count as f64 / elapsed.as_secs_f64()
    );
    if once == opts.count && total == opts.count && steamer.is_empty() {
        println!(
            "{}",
            paint.paint(GREEN, "Every baozi was eaten exactly once.")
        );
        ExitCode::SUCCESS
    } else {
        println!(
            "{}",
            paint.paint(
                RED,
                &format!("Wrong count: {never} never eaten, {twice} eaten more than once!")
            )
        );
        ExitCode::FAILURE
    }
}
