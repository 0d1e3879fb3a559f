//! Start + join latency of a child process running a trivial target, beside the
//! floor: `std::process::Command` running this same binary, which exits at once.
//!
//! `cargo bench --bench process -- --warm-up-time 1 --measurement-time 3`
//! Python's figures for the same work come from `benches/process_python.py`.

use std::process::{Command, Stdio};

use criterion::Criterion;
use threadlet::process::{self, Process};

/// Set for the floor's child: exit before doing anything else.
const EXIT_AT_ONCE: &str = "THREADLET_BENCH_EXIT_AT_ONCE";

fn noop(_: ()) {}

fn start_join(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let exe = std::env::current_exe().expect("current exe");
    let mut group = c.benchmark_group("process/start_join");
    group.sample_size(50);
    group.bench_function("threadlet", |b| {
        b.to_async(&rt).iter(|| async {
            let p = Process::new(noop, ()).expect("encodable");
            p.start().expect("start");
            p.join().await.expect("join");
        });
    });
    group.bench_function("std_command_floor", |b| {
        b.iter(|| {
            let status = Command::new(&exe)
                .env(EXIT_AT_ONCE, "1")
                .stdin(Stdio::null())
                .status()
                .expect("spawn");
            assert!(status.success());
        });
    });
    group.finish();
}

fn main() {
    if std::env::var_os(EXIT_AT_ONCE).is_some() {
        return;
    }
    process::register(noop);
    process::init(); // a child runs `noop` here and exits

    let mut c = Criterion::default().configure_from_args();
    start_join(&mut c);
    c.final_summary();
}
