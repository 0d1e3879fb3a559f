//! `run`'s watchdog, seen from outside: each scenario runs as its own
//! program (`BIN SCENARIO`, this binary re-run), one that hangs for ever;
//! its stderr must name the stuck thread and the primitive, then it is
//! killed. (`harness = false`: `main` runs the scenarios, or is one of them.)

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threadlet::{Builder, Event, RLock, RuntimeBuilder};

/// How long a child may take to print what is expected: generous, for a
/// loaded CI machine (the watchdog itself fires after 200 ms).
const PATIENCE: Duration = Duration::from_secs(60);

/// Main forgets to `set()` the event its worker waits on: `run` waits for
/// the worker for ever. The watchdog comes from `THREADLET_WATCHDOG`.
fn forgotten_set() {
    threadlet::run(async {
        let stop = Event::labeled("stop");
        let s = stop.clone();
        Builder::new()
            .name("worker")
            .spawn(async move { s.wait().await })
            .unwrap();
        // stop.set() forgotten.
    });
}

/// Two threads take two RLocks in opposite orders; main joins them. The
/// watchdog comes from the builder.
fn deadlock() {
    RuntimeBuilder::new()
        .watchdog(Duration::from_millis(200))
        .run(async {
            let (a, b) = (RLock::labeled("lockA"), RLock::labeled("lockB"));
            let gate = Arc::new(tokio::sync::Barrier::new(2));
            let spawn = |name: &str, first: RLock, second: RLock| {
                let gate = gate.clone();
                Builder::new()
                    .name(name)
                    .spawn(async move {
                        let _first = first.lock().await;
                        gate.wait().await;
                        let _second = second.lock().await;
                    })
                    .unwrap()
            };
            let t1 = spawn("doA", a.clone(), b.clone());
            let t2 = spawn("doB", b, a);
            let _ = t1.join().await;
            let _ = t2.join().await;
        });
}

/// Main waits on an event nobody will set, and so does its worker: every
/// thread is asleep with nothing to wake it, before main returns.
fn all_asleep() {
    RuntimeBuilder::new()
        .watchdog(Duration::from_millis(200))
        .run(async {
            let (a, b) = (Event::labeled("eventA"), Event::labeled("eventB"));
            Builder::new()
                .name("worker")
                .spawn(async move { a.wait().await })
                .unwrap();
            b.wait().await;
        });
}

/// Every threadlet thread waits, but a plain tokio task is alive and sets
/// the event after a while: the watchdog cannot know that nothing will wake
/// them, so it must stay silent, and the program ends by itself. (The wait
/// lasts three times the limit: a watchdog that ignored the other task would
/// report it.)
fn outside_waker() {
    RuntimeBuilder::new()
        .watchdog(Duration::from_secs(1))
        .run(async {
            let go = Event::labeled("go");
            let g = go.clone();
            let worker = Builder::new()
                .name("worker")
                .spawn(async move { g.wait().await })
                .unwrap();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(3)).await;
                go.set();
            });
            worker.join().await.unwrap();
        });
    eprintln!("outside_waker: done");
}

/// A program that ends on its own, quicker than the watchdog's limit: the
/// watchdog says nothing.
fn quiet() {
    threadlet::run(async {
        threadlet::spawn(tokio::time::sleep(Duration::from_millis(10)));
    });
    eprintln!("quiet: done");
}

/// A program that waits for ever with the watchdog on (for an hour: it
/// never fires by itself); SIGQUIT prints the dump each time, and the
/// program goes on.
fn sigquit() {
    threadlet::run(async {
        let gate = Event::labeled("quitgate");
        let g = gate.clone();
        Builder::new()
            .name("sleeper")
            .spawn(async move { g.wait().await })
            .unwrap();
        eprintln!("sigquit: ready");
        gate.wait().await;
    });
}

/// Runs this binary as `scenario` (with `THREADLET_WATCHDOG=env` when
/// given) until its stderr holds every one of `needles` or it exits; kills
/// it if it still runs. Returns its stderr and whether it exited by itself.
fn child(scenario: &str, env: Option<&str>, needles: &[&str]) -> (String, bool) {
    child_until(scenario, env, |seen, _| {
        needles.iter().all(|n| seen.contains(n))
    })
}

/// As [`child`], until `done(stderr so far, pid)` says so.
fn child_until(
    scenario: &str,
    env: Option<&str>,
    mut done: impl FnMut(&str, u32) -> bool,
) -> (String, bool) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .arg(scenario)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    match env {
        Some(value) => command.env("THREADLET_WATCHDOG", value),
        None => command.env_remove("THREADLET_WATCHDOG"),
    };
    let mut process = command.spawn().unwrap();
    let mut stderr = process.stderr.take().unwrap();
    let text = Arc::new(Mutex::new(String::new()));
    let sink = text.clone();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let begin = Instant::now();
    let exited = loop {
        if process.try_wait().unwrap().is_some() {
            break true;
        }
        let seen = text.lock().unwrap().clone();
        if done(&seen, process.id()) || begin.elapsed() > PATIENCE {
            // Let a report that is being written finish.
            std::thread::sleep(Duration::from_millis(100));
            let _ = process.kill();
            break false;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    process.wait().unwrap();
    reader.join().unwrap();
    let text = text.lock().unwrap().clone();
    (text, exited)
}

fn check(name: &str, ok: bool, stderr: &str) {
    assert!(ok, "scenario {name} failed; its stderr:\n{stderr}");
    println!("watchdog scenario {name} ... ok");
}

fn main() {
    if let Some(scenario) = std::env::args().nth(1) {
        match scenario.as_str() {
            "forgotten_set" => forgotten_set(),
            "deadlock" => deadlock(),
            "quiet" => quiet(),
            "sigquit" => sigquit(),
            "all_asleep" => all_asleep(),
            "outside_waker" => outside_waker(),
            // Anything else (cargo test's own flags): run the scenarios.
            _ => return parent(),
        }
        return;
    }
    parent();
}

fn parent() {
    let needles = ["threadlet watchdog", "\"worker\"", "Event", "\"stop\""];
    let (stderr, exited) = child("forgotten_set", Some("200ms"), &needles);
    check(
        "forgotten_set",
        !exited
            && needles.iter().all(|n| stderr.contains(n))
            && stderr.contains("still waits for its non-daemon threads")
            && stderr.matches("threadlet watchdog:").count() == 1,
        &stderr,
    );

    let needles = [
        "all threads are asleep",
        "(deadlock!)",
        "\"MainThread\"",
        "\"worker\"",
        "\"eventA\"",
        "\"eventB\"",
    ];
    let (stderr, exited) = child("all_asleep", None, &needles);
    check(
        "all_asleep",
        !exited
            && needles.iter().all(|n| stderr.contains(n))
            && stderr.matches("threadlet watchdog:").count() == 1,
        &stderr,
    );

    // Threads asleep but a task threadlet did not start is alive: silent.
    let (stderr, exited) = child("outside_waker", None, &["outside_waker: done"]);
    check(
        "outside_waker",
        exited && stderr.contains("outside_waker: done") && !stderr.contains("watchdog"),
        &stderr,
    );

    let needles = ["deadlock of 2 threads", "lockA", "lockB", "doA", "doB"];
    let (stderr, exited) = child("deadlock", None, &needles);
    check(
        "deadlock",
        !exited && needles.iter().all(|n| stderr.contains(n)),
        &stderr,
    );

    // A limit far above the program's 10 ms exit wait, so a loaded machine
    // cannot make the watchdog fire: on, it must stay silent.
    let (stderr, _) = child("quiet", Some("30s"), &["quiet: done"]);
    check(
        "quiet",
        stderr.contains("quiet: done") && !stderr.contains("watchdog"),
        &stderr,
    );

    #[cfg(all(feature = "process", unix))]
    {
        const REPORT: &str = "threadlet watchdog: SIGQUIT";
        let mut sent = 0;
        let (stderr, exited) = child_until("sigquit", Some("1h"), |seen, pid| {
            let reports = seen.matches(REPORT).count();
            if seen.contains("sigquit: ready") && sent == reports && reports < 2 {
                let status = Command::new("kill")
                    .args(["-QUIT", &pid.to_string()])
                    .status()
                    .unwrap();
                assert!(status.success());
                sent += 1;
            }
            reports >= 2
        });
        // Two reports: the first SIGQUIT did not end the program.
        check(
            "sigquit",
            !exited
                && stderr.matches(REPORT).count() == 2
                && stderr.contains("\"sleeper\"")
                && stderr.contains("\"quitgate\""),
            &stderr,
        );
    }
}
