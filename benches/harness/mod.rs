//! The one bench harness: threadlet and its peers measured sample by sample,
//! interleaved, so that a machine shared with other work slows all of them
//! alike; raw per-sample times go to a machine-readable file that
//! `scripts/bench_report.py` turns into BENCHMARKS.md's tables.
//!
//! Each row (one workload) has several peers (threadlet and what a user would
//! pick instead). Every peer is a function `iters -> elapsed` (criterion's
//! `iter_custom` shape). The harness first calibrates, per peer, how many
//! iterations fill one sample of about `THREADLET_BENCH_SAMPLE_MS`, then runs
//! `THREADLET_BENCH_SAMPLES` rounds; round `r` takes one sample of every peer,
//! in an order rotated by `r`, so no peer always runs first or last.
//!
//! Output: `target/bench-raw/<THREADLET_BENCH_RUN>/<bench>.json` in the
//! repository root (run name defaults to `adhoc`) with the CPU model, the load
//! average before and after, and per row and peer the nanoseconds per
//! iteration of every sample, in round order. A table of medians is printed
//! as well.
//!
//! Under `cargo test --benches` (no `--bench` argument) every peer runs once
//! with one iteration as a smoke test and nothing is written. A non-flag
//! argument filters rows by substring, as criterion's does, and
//! `THREADLET_BENCH_PEER=<name>` keeps only that peer (for profiling). A
//! watchdog ends the process (exit code 3) when no sample finished for
//! `THREADLET_BENCH_HANG_SECS` (120): the file is rewritten after every row,
//! so only the hung row is lost.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// One peer of a row: runs `iters` iterations, returns the time they took.
pub type Sampler<'a> = Box<dyn FnMut(u64) -> Duration + 'a>;

struct RowResult {
    row: String,
    unit: String,
    peers: Vec<(String, u64, Vec<f64>)>,
}

/// Collects the rows of one bench binary and writes them out at the end.
pub struct Harness {
    bench: String,
    filter: Option<String>,
    smoke: bool,
    samples: usize,
    sample_time: Duration,
    load_before: String,
    rows: Vec<RowResult>,
}

/// The workspace's target directory: `CARGO_TARGET_DIR` (a relative one is
/// taken from the repository root, where `scripts/bench.sh` runs cargo), else
/// `<repository root>/target`. Cargo runs a bench with its own package's
/// directory (`benches/`) as the working directory, so "target" alone would
/// land in `benches/target`.
fn target_dir() -> PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches/ sits inside the repository");
    root.join(std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into()))
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

impl Harness {
    /// A harness for the bench binary `bench` (the file name of the bench).
    pub fn new(bench: &str) -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        watchdog(bench);
        let smoke = !args.iter().any(|a| a == "--bench");
        let filter = args.iter().find(|a| !a.starts_with('-')).cloned();
        Self {
            bench: bench.to_string(),
            filter,
            smoke,
            samples: env_or("THREADLET_BENCH_SAMPLES", 11).max(1),
            sample_time: Duration::from_millis(env_or("THREADLET_BENCH_SAMPLE_MS", 30)),
            load_before: loadavg(),
            rows: Vec::new(),
        }
    }

    /// Whether this is a smoke run (`cargo test --benches`): callers may
    /// shrink their workloads.
    pub fn smoke(&self) -> bool {
        self.smoke
    }

    /// Measures one row: every peer interleaved with the others, sample by
    /// sample. `unit` names one iteration (for the printed table).
    pub fn row(&mut self, row: &str, unit: &str, peers: Vec<(&str, Sampler<'_>)>) {
        self.row_per(
            row,
            unit,
            peers.into_iter().map(|(n, f)| (n, f, 1)).collect(),
        );
    }

    /// [`row`](Self::row) where one iteration of each peer does `units`
    /// units of work (e.g. items) and the row is reported per unit.
    pub fn row_per(&mut self, row: &str, unit: &str, mut peers: Vec<(&str, Sampler<'_>, u64)>) {
        if self
            .filter
            .as_ref()
            .is_some_and(|f| !row.contains(f.as_str()))
        {
            return;
        }
        // For profiling one peer alone: THREADLET_BENCH_PEER=<name>.
        if let Ok(only) = std::env::var("THREADLET_BENCH_PEER") {
            peers.retain(|(name, _, _)| *name == only);
        }
        if self.smoke {
            for (_, f, _) in &mut peers {
                f(1);
            }
            return;
        }
        // Warm up and calibrate: iterations per sample for each peer.
        let target = self.sample_time.as_secs_f64();
        let mut iters = Vec::with_capacity(peers.len());
        for (_, f, _) in &mut peers {
            f(1);
            mark_progress(*START.get_or_init(Instant::now));
            let mut n = 1u64;
            let per_iter = loop {
                let t = f(n).as_secs_f64();
                if t >= target / 4.0 || n >= 1 << 30 {
                    break t / n as f64;
                }
                n *= if t <= 0.0 {
                    16
                } else {
                    ((target / 4.0 / t).ceil() as u64).clamp(2, 16)
                };
            };
            iters.push(((target / per_iter.max(1e-12)) as u64).max(1));
        }
        let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(self.samples); peers.len()];
        let n = peers.len();
        for round in 0..self.samples {
            for k in 0..n {
                let i = (round + k) % n;
                let elapsed = (peers[i].1)(iters[i]);
                mark_progress(*START.get_or_init(Instant::now));
                let units = iters[i] * peers[i].2.max(1);
                samples[i].push(elapsed.as_nanos() as f64 / units as f64);
            }
        }
        let result = RowResult {
            row: row.to_string(),
            unit: unit.to_string(),
            peers: peers
                .iter()
                .zip(iters)
                .zip(samples)
                .map(|(((name, _, _), it), s)| (name.to_string(), it, s))
                .collect(),
        };
        let first = median(&result.peers[0].2);
        print!("{row:<44}");
        for (name, _, s) in &result.peers {
            let m = median(s);
            print!("  {name} {} ({:.2}x)", human(m), m / first);
        }
        println!("  [per {unit}]");
        self.rows.push(result);
        // Written after every row, so a hang later loses only that row.
        self.write();
    }

    /// Writes the raw samples of every row (nothing in a smoke run) and
    /// says where they are.
    pub fn finish(self) {
        if let Some(path) = self.write() {
            let _ = writeln!(std::io::stdout(), "raw samples: {}", path.display());
        }
    }

    fn write(&self) -> Option<PathBuf> {
        if self.smoke || self.rows.is_empty() {
            return None;
        }
        let run = std::env::var("THREADLET_BENCH_RUN").unwrap_or_else(|_| "adhoc".into());
        let dir = target_dir().join("bench-raw").join(&run);
        std::fs::create_dir_all(&dir).expect("create the raw-output directory");
        let mut out = String::new();
        let _ = write!(
            out,
            "{{\"bench\": {}, \"run\": {}, \"cpu\": {}, \"load_before\": {}, \"load_after\": {}, \
             \"samples\": {}, \"sample_ms\": {}, \"rows\": [",
            json_str(&self.bench),
            json_str(&run),
            json_str(&cpu_model()),
            json_str(&self.load_before),
            json_str(&loadavg()),
            self.samples,
            self.sample_time.as_millis()
        );
        for (r, row) in self.rows.iter().enumerate() {
            let _ = write!(
                out,
                "{}\n  {{\"row\": {}, \"unit\": {}, \"peers\": [",
                if r == 0 { "" } else { "," },
                json_str(&row.row),
                json_str(&row.unit)
            );
            for (p, (name, iters, s)) in row.peers.iter().enumerate() {
                let ns: Vec<String> = s.iter().map(|v| format!("{v:.3}")).collect();
                let _ = write!(
                    out,
                    "{}{{\"peer\": {}, \"iters\": {iters}, \"ns\": [{}]}}",
                    if p == 0 { "" } else { ", " },
                    json_str(name),
                    ns.join(", ")
                );
            }
            out.push_str("]}");
        }
        out.push_str("\n]}\n");
        let path = dir.join(format!("{}.json", self.bench));
        std::fs::write(&path, out).expect("write the raw samples");
        Some(path)
    }
}

/// When the harness last finished a sample (seconds since start).
static PROGRESS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn mark_progress(start: Instant) {
    PROGRESS.store(
        start.elapsed().as_secs(),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Ends the process if no sample finished for `THREADLET_BENCH_HANG_SECS`
/// (default 120): a hung peer (a lost wake-up) must not stall an unattended
/// run. Rows finished before are already on disk.
fn watchdog(bench: &str) {
    let limit: u64 = env_or("THREADLET_BENCH_HANG_SECS", 120);
    let bench = bench.to_string();
    let start = *START.get_or_init(Instant::now);
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_secs(1));
            let last = PROGRESS.load(std::sync::atomic::Ordering::Relaxed);
            if start.elapsed().as_secs() > last + limit {
                eprintln!(
                    "\nbench {bench}: no sample finished for {limit} s: a peer hung \
                     (a lost wake-up?); the rows finished so far are written; exiting"
                );
                std::process::exit(3);
            }
        }
    });
}

static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

fn human(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// Times `iters` runs of an async workload `f` on `rt`, one `block_on` for
/// all of them (the `iter_custom` form of criterion's `to_async(..).iter`).
pub fn on_runtime<F, Fut>(rt: &tokio::runtime::Runtime, mut f: F) -> Sampler<'_>
where
    F: FnMut() -> Fut + 'static,
    Fut: std::future::Future,
{
    Box::new(move |iters| {
        rt.block_on(async {
            let start = Instant::now();
            for _ in 0..iters {
                std::hint::black_box(f().await);
            }
            start.elapsed()
        })
    })
}

/// The machine row: one uncontended compare-and-swap on this machine, so
/// that figures from machines of different speed can be put side by side
/// (only ratios compare across machines).
pub fn cas_row(h: &mut Harness) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cell = AtomicUsize::new(0);
    let cas: Sampler<'_> = Box::new(|iters| {
        let start = Instant::now();
        for _ in 0..iters {
            let v = cell.load(Ordering::Relaxed);
            let _ = std::hint::black_box(cell.compare_exchange(
                v,
                v.wrapping_add(1),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ));
        }
        start.elapsed()
    });
    h.row("machine/uncontended_cas", "CAS", vec![("cas", cas)]);
}
