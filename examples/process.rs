//! From the article "Python Road [Article 16]: Python Concurrent Programming": the `multiprocessing` section, with real child processes: the
//! direct call (a function plus arguments), the subclass form (a type
//! implementing `process::ProcessRun`), and the pid / parent-pid demo.
//!
//! Run it with `cargo run --example process`. Each child re-executes this
//! binary; `threadlet::run` calls `process::init()` before anything else, which
//! turns the child into the target's runner, so the children's prints below
//! come from other processes. The targets are registered before `run`.

#[cfg(not(all(feature = "process", target_os = "linux")))]
fn main() {
    eprintln!("this example needs the `process` feature (on by default) on Linux");
}

#[cfg(all(feature = "process", target_os = "linux"))]
fn main() {
    article::main();
}

#[cfg(all(feature = "process", target_os = "linux"))]
mod article {
    use std::io::IsTerminal;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use serde::{Deserialize, Serialize};
    use threadlet::process::{self, Process, ProcessRun};

    /// Call mode 1's target: `def f(name): time.sleep(1); print('hello', name, time.ctime())`.
    fn f(name: String) {
        std::thread::sleep(Duration::from_secs(1));
        println!("hello {name} {}", ctime());
    }

    /// Call mode 2: `class MyProcess(Process)` with `run` overridden.
    #[derive(Serialize, Deserialize)]
    struct MyProcess;

    impl ProcessRun for MyProcess {
        type Output = ();

        fn run(self) {
            std::thread::sleep(Duration::from_secs(1));
            println!("hello {} {}", process::current_process().name(), ctime());
        }
    }

    /// Example 3: `def info(title)` prints the module, the parent's pid and its own.
    fn info(title: &str) {
        println!("{title}");
        println!("process name: {}", process::current_process().name());
        println!("parent process: {}", process::getppid());
        println!("process id: {}", process::getpid());
    }

    /// `text` in the article's colour (an ANSI `code`) on a terminal; plain
    /// when stdout is a pipe or a file, so no escape codes end up there.
    fn paint(text: &str, code: &str) -> String {
        if std::io::stdout().is_terminal() {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Example 3's child: `def f(name): info('function f'); print('hello', name)`.
    fn info_f(name: String) {
        info(&paint("function f", "31;1"));
        println!("hello {name}");
    }

    pub(crate) fn main() {
        process::register(f);
        process::register_run::<MyProcess>();
        process::register(info_f);
        // `run` calls `process::init()` first: a child runs its target there
        // and exits. At the end it joins any child process still running.
        threadlet::run(async {
            println!("== call mode 1: Process(target=f, args=('alvin:N',)) ==");
            let mut procs = Vec::new();
            for i in 0..3 {
                let p = Process::new(f, format!("alvin:{i}")).expect("encodable");
                p.start().expect("start");
                procs.push(p);
            }
            for p in &procs {
                p.join().await.expect("join");
            }
            println!("end");

            println!();
            println!("== call mode 2: class MyProcess(Process) ==");
            let mut procs = Vec::new();
            for _ in 0..3 {
                let p = Process::from_run(MyProcess).expect("encodable");
                p.start().expect("start");
                procs.push(p);
            }
            for p in &procs {
                p.join().await.expect("join");
            }
            println!("end");

            println!();
            println!("== example 3: parent and own pid ==");
            info(&paint("main process line", "32;1"));
            let p = Process::new(info_f, "bob".to_string()).expect("encodable");
            p.start().expect("start");
            p.join().await.expect("join");
        });
    }

    /// `time.ctime()` in UTC, e.g. `Thu Nov 26 06:18:53 2026` (no date crate needed).
    fn ctime() -> String {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let days = i64::try_from(secs / 86_400).unwrap_or(0);
        let rem = secs % 86_400;
        let (h, m, s) = (rem / 3600, rem / 60 % 60, rem % 60);
        // Howard Hinnant's days-to-civil algorithm.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let weekday = (days + 4).rem_euclid(7); // 1970-01-01 was a Thursday
        const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        format!(
            "{} {} {day:>2} {h:02}:{m:02}:{s:02} {year}",
            DAYS[weekday as usize],
            MONTHS[(month - 1) as usize]
        )
    }
}
