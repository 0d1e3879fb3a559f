//! The opt-in watchdog of [`run`](crate::run): an OS thread that, while
//! `run` runs, prints [`dump`](crate::dump) and the
//! [`deadlocks`](crate::deadlocks) to stderr when a deadlock cycle appears,
//! when every thread is asleep with nothing left to wake it
//! ([`Dump::all_asleep`](crate::Dump::all_asleep), with no other task alive
//! on the runtime), or when the wait at exit for the non-daemon threads
//! lasts longer than the setting — once per episode; and, with the `process` feature on Unix, on
//! SIGQUIT (`Ctrl-\`). Never started unless asked for
//! ([`RuntimeBuilder::watchdog`](super::RuntimeBuilder::watchdog), the
//! `THREADLET_WATCHDOG` environment variable, or
//! `#[threadlet::main(watchdog = "5s")]`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The environment variable read by `run` when the builder sets nothing.
pub(super) const ENV: &str = "THREADLET_WATCHDOG";

/// What `run` tells the watchdog thread.
enum Event {
    /// Main has returned: the wait for the non-daemon threads begins.
    Exiting(Instant),
    /// The exit wait is over (the non-daemon threads and child processes
    /// are done); what is left is the runtime's shutdown.
    Exited,
    /// SIGQUIT arrived: print the dump now.
    #[cfg_attr(not(all(feature = "process", unix)), allow(dead_code))]
    Dump,
    /// `run` is ending.
    Stop,
}

/// A running watchdog; dropping it stops its thread (and waits for it).
pub(super) struct Watchdog {
    events: Option<Sender<Event>>,
    thread: Option<JoinHandle<()>>,
    /// Tasks the watchdog itself keeps on the runtime (the SIGQUIT
    /// listener), left out of the count of other tasks.
    #[cfg_attr(not(all(feature = "process", unix)), allow(dead_code))]
    own_tasks: Arc<AtomicUsize>,
}

impl Watchdog {
    /// Starts the watchdog thread; `None` (with a note on stderr) if the OS
    /// refuses a thread: the program runs on without it.
    pub(super) fn start(limit: Duration, runtime: tokio::runtime::Handle) -> Option<Self> {
        let (events, rx) = mpsc::channel();
        let own_tasks = Arc::new(AtomicUsize::new(0));
        let own = own_tasks.clone();
        let spawned = std::thread::Builder::new()
            .name("threadlet-watchdog".to_owned())
            .spawn(move || watch(limit, &rx, &runtime, &own));
        match spawned {
            Ok(thread) => Some(Self {
                events: Some(events),
                thread: Some(thread),
                own_tasks,
            }),
            Err(err) => {
                eprintln!("threadlet watchdog: not started: {err}");
                None
            }
        }
    }

    /// Main has returned; from now on `run` waits for the non-daemon
    /// threads.
    pub(super) fn exiting(&self) {
        if let Some(events) = &self.events {
            let _ = events.send(Event::Exiting(Instant::now()));
        }
    }

    /// The wait for the non-daemon threads and children has ended: from
    /// now on nothing is reported (the runtime's own shutdown may still
    /// take a while on a loaded machine, and is not a wait for threads).
    pub(super) fn exited(&self) {
        if let Some(events) = &self.events {
            let _ = events.send(Event::Exited);
        }
    }

    /// Makes SIGQUIT print the dump (and the program go on), as the JVM
    /// does: a task on the current runtime receives the signal and asks the
    /// watchdog thread to print. Called inside the runtime, only when the
    /// watchdog is on. (tokio keeps its handler for the rest of the
    /// process: a later SIGQUIT is ignored rather than fatal.)
    #[cfg(all(feature = "process", unix))]
    pub(super) fn listen_sigquit(&self) {
        use tokio::signal::unix::{SignalKind, signal};
        let Some(events) = self.events.clone() else {
            return;
        };
        match signal(SignalKind::quit()) {
            Ok(mut quit) => {
                // Cancelled with the runtime's other tasks at its shutdown.
                self.own_tasks.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(async move {
                    while quit.recv().await.is_some() {
                        if events.send(Event::Dump).is_err() {
                            break;
                        }
                    }
                });
            }
            Err(err) => eprintln!("threadlet watchdog: SIGQUIT not handled: {err}"),
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // Wakes the thread at once (the SIGQUIT task may still hold a
        // sender, so disconnecting alone would not do).
        if let Some(events) = self.events.take() {
            let _ = events.send(Event::Stop);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The watchdog thread's loop: check every quarter of the limit (10 ms to
/// 1 s), until `run` drops the sender.
fn watch(
    limit: Duration,
    events: &mpsc::Receiver<Event>,
    runtime: &tokio::runtime::Handle,
    own_tasks: &AtomicUsize,
) {
    let period = (limit / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut exiting: Option<Instant> = None;
    let mut exit_reported = false;
    let mut last_cycles: Vec<String> = Vec::new();
    // Since when every thread has been asleep in the same waits with the
    // same number of tasks alive, and the waits of the last episode reported.
    let mut asleep_seen: Option<Asleep> = None;
    let mut asleep_reported: Option<Vec<(u64, u64)>> = None;
    let mut quiet = false;
    loop {
        match events.recv_timeout(period) {
            Ok(Event::Exiting(since)) => exiting = Some(since),
            // Nothing is waited for any more: stay quiet until stopped
            // (SIGQUIT still prints).
            Ok(Event::Exited) => {
                quiet = true;
                continue;
            }
            Ok(Event::Dump) => {
                report(
                    "SIGQUIT: the dump (the program goes on)",
                    &crate::deadlocks(),
                );
                continue;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Ok(Event::Stop) | Err(RecvTimeoutError::Disconnected) => return,
        }
        if quiet {
            continue;
        }
        let cycles = crate::deadlocks();
        let mut key: Vec<String> = cycles.iter().map(|c| c.summary()).collect();
        key.sort();
        // A new set of cycles is a new episode; none ends the episode.
        if !cycles.is_empty() && key != last_cycles {
            let head = match cycles.len() {
                1 => "a deadlock cycle exists".to_owned(),
                n => format!("{n} deadlock cycles exist"),
            };
            report(&head, &cycles);
        }
        last_cycles = key;
        // Every thread asleep: decidable only when no task threadlet did
        // not start is alive on the runtime (it could wake them). A waiter
        // already woken but not yet run still looks asleep, so the same
        // waits with the same number of live tasks must last: the limit for
        // a report of its own, half of it for the exit report's sentence.
        let dump = crate::dump();
        let alive = runtime.metrics().num_alive_tasks();
        let others = alive.saturating_sub(dump.tasks() + own_tasks.load(Ordering::Relaxed));
        let mut asleep_for = Duration::ZERO;
        if dump.all_asleep() && others == 0 {
            let waits = dump.wait_key();
            let since = match &asleep_seen {
                Some((seen, was_alive, since)) if *seen == waits && *was_alive == alive => *since,
                _ => Instant::now(),
            };
            asleep_for = since.elapsed();
            // Before main returns, its own report (unless a cycle report
            // already explains it); after, the exit report below says it:
            // one report per stuck program.
            if asleep_for >= limit
                && exiting.is_none()
                && cycles.is_empty()
                && asleep_reported.as_ref() != Some(&waits)
            {
                report(&format!("{ALL_ASLEEP} (deadlock!)"), &cycles);
                asleep_reported = Some(waits.clone());
            }
            asleep_seen = Some((waits, alive, since));
        } else {
            asleep_seen = None;
        }
        if let Some(since) = exiting
            && !exit_reported
            && since.elapsed() >= limit
        {
            exit_reported = true;
            let mut head = format!(
                "main returned {:.1?} ago and `run` still waits for its non-daemon threads \
                 (a forgotten `shutdown()`, `set()` or `join()`?)",
                since.elapsed()
            );
            if asleep_for >= limit / 2 {
                head.push_str("; ");
                head.push_str(ALL_ASLEEP);
            }
            report(&head, &cycles);
        }
    }
}

/// An episode of every thread asleep: the waits (`Dump::wait_key`), the
/// runtime's live tasks, and since when both have stayed the same.
type Asleep = (Vec<(u64, u64)>, usize, Instant);

/// What the watchdog says when every thread is asleep with nothing left to
/// wake it.
const ALL_ASLEEP: &str = "all threads are asleep in threadlet primitives, with no deadline \
                          and no other task on the runtime: nothing can wake them";

/// Prints one report to stderr in one write, so that lines of other
/// threads do not interleave with it.
fn report(head: &str, cycles: &[crate::Deadlock]) {
    let mut text = format!("threadlet watchdog: {head}\n");
    for cycle in cycles {
        let _ = writeln!(text, "{cycle}");
    }
    let _ = writeln!(text, "{}", crate::dump());
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// The setting in `THREADLET_WATCHDOG`: `None` when unset, empty, `0` or
/// `off`, or (with a note on stderr) when it cannot be read.
pub(super) fn from_env() -> Option<Duration> {
    let value = std::env::var(ENV).ok()?;
    let value = value.trim();
    if value.is_empty() || value == "off" {
        return None;
    }
    match parse_duration(value) {
        Ok(limit) => (!limit.is_zero()).then_some(limit),
        Err(err) => {
            eprintln!("threadlet: {ENV}={value:?} ignored: {err}");
            None
        }
    }
}

/// Reads `"5s"`, `"500ms"`, `"1.5s"`, `"2m"`, `"1h"` (a number, then a unit
/// among `ms`, `s`, `m`, `h`); `"0"` alone is zero. The same rules as
/// `#[threadlet::main(watchdog = …)]`.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| format!("{text:?} has no unit; write e.g. \"5s\" or \"500ms\""))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration like \"5s\" or \"500ms\""))?;
    let scale = match unit {
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        other => return Err(format!("unknown unit {other:?}; the units are ms, s, m, h")),
    };
    Duration::try_from_secs_f64(number * scale).map_err(|_| format!("{text:?} is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_read() {
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration(" 500ms "), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert!(parse_duration("5").unwrap_err().contains("no unit"));
        assert!(
            parse_duration("5 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_duration("xs").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
