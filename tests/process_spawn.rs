//! Python's `spawn` start method, seen from an ordinary binary (not a libtest
//! harness, whose children `test_support!` re-points): each scenario runs as
//! its own program, `BIN SCENARIO ARGS...`, so `init()` and the driver are
//! fresh, and its children re-execute it with the same arguments.
//! (`harness = false`: `main` runs the scenarios, or is one of them.)

#[cfg(all(feature = "process", target_os = "linux"))]
mod scenarios {
    use std::process::Command;
    use std::time::{Duration, Instant};

    use threadlet::error::{ProcessJoinError, ProcessStartError};
    use threadlet::process::{self, Process};

    const MARKER: &str = "THREADLET_PROCESS_CHILD";

    /// A target that hands back the arguments its process sees.
    fn argv(_: ()) -> Vec<String> {
        std::env::args().collect()
    }

    fn nap(ms: u64) -> u64 {
        std::thread::sleep(Duration::from_millis(ms));
        ms
    }

    fn square(x: u64) -> u64 {
        x * x
    }

    /// A CLI that parses its arguments before `init()`, strictly: anything but
    /// `argv hello "two words"` is a usage error (exit code 2), as clap does.
    fn cli_argv() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        if args != ["argv", "hello", "two words"] {
            eprintln!("usage: process_spawn argv hello 'two words' (got {args:?})");
            std::process::exit(2);
        }
        process::register(argv);
        process::init();
        let p = Process::new(argv, ()).unwrap();
        p.start().unwrap();
        let seen = p.blocking_join().unwrap();
        let mine: Vec<String> = std::env::args().collect();
        assert_eq!(seen, mine, "the child must see the parent's argv");
    }

    /// A child whose `main` fails before `init()`: the error has its exit
    /// code and the end of its stderr.
    fn cli_noinit() {
        process::register(square);
        if std::env::var_os(MARKER).is_some() {
            // The child: its `main` never reaches init(). It may not start
            // processes itself (no fork bomb), and it says why it stops.
            let err = Process::new(square, 2).unwrap().start().unwrap_err();
            assert_eq!(err, ProcessStartError::NotInitialized);
            eprintln!("noinit child: the config file is missing");
            std::process::exit(42);
        }
        // The parent never called init(): refused, and nothing was spawned.
        let p = Process::new(square, 3).unwrap();
        let err = p.start().unwrap_err();
        assert_eq!(err, ProcessStartError::NotInitialized);
        assert!(err.to_string().contains("threadlet::process::init()"));
        assert_eq!(p.pid(), None);

        process::init();
        let p = Process::new(square, 3).unwrap();
        p.start().unwrap();
        let err = p.blocking_join().unwrap_err();
        assert_eq!(
            err,
            ProcessJoinError::NoInit {
                exitcode: 42,
                stderr: "noinit child: the config file is missing".into()
            }
        );
        let text = err.to_string();
        assert!(text.contains("code 42"), "{text}");
        assert!(text.contains("the config file is missing"), "{text}");
        assert!(text.contains("threadlet::process::init()"), "{text}");
        assert_eq!(p.exitcode(), Some(42));
    }

    /// Under a paused tokio clock (`start_paused`, `time::pause`), a process
    /// timeout is still measured in real time: the child runs in real time,
    /// and the auto-advancing clock must not make a join time out at once.
    fn cli_paused() {
        process::register(nap);
        process::init();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            let p = Process::new(nap, 300).unwrap();
            p.start().unwrap();
            let got = p.join_timeout(Duration::from_secs(60)).await;
            assert_eq!(got, Ok(300), "a paused clock timed the join out");

            let p = Process::new(nap, 60_000).unwrap();
            p.start().unwrap();
            let t = Instant::now();
            let got = p.join_timeout(Duration::from_millis(200)).await;
            assert_eq!(got, Err(ProcessJoinError::Timeout));
            assert!(
                t.elapsed() >= Duration::from_millis(200),
                "{:?}",
                t.elapsed()
            );
            p.kill().unwrap();
            assert!(p.join().await.is_err());

            // A process queue's and a pipe's async forms talk to their owner
            // over sockets; the paused clock must not time that out either.
            let q = threadlet::process::Queue::new(0).unwrap();
            for i in 0..20u32 {
                q.put(i).await.unwrap();
                assert_eq!(q.get().await.unwrap(), i);
            }
            let (a, b) = threadlet::process::Pipe::<u32>::new(true).unwrap();
            for i in 0..20u32 {
                b.send(&i).await.unwrap();
                assert_eq!(a.recv().await.unwrap(), i);
            }
        });
    }

    /// Runs `BIN args...` and checks it succeeded; returns its stderr.
    fn run(args: &[&str]) -> String {
        let out = Command::new(std::env::current_exe().unwrap())
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            out.status.success(),
            "`{}` failed: {}\n{stderr}",
            args.join(" "),
            out.status
        );
        stderr
    }

    fn child_sees_the_parents_argv() {
        run(&["argv", "hello", "two words"]);
    }

    fn a_child_failing_before_init_reports_its_exit_code_and_stderr() {
        let stderr = run(&["noinit"]);
        // The child's text also reached the parent's stderr as it came.
        assert!(stderr.contains("the config file is missing"), "{stderr}");
    }

    fn process_timeouts_are_real_time_under_a_paused_clock() {
        run(&["paused"]);
    }

    pub fn main() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        match args.first().map(String::as_str) {
            Some("argv") => return cli_argv(),
            Some("noinit") => return cli_noinit(),
            Some("paused") => return cli_paused(),
            _ => {}
        }
        if std::env::var_os(MARKER).is_some() {
            // A child that did not get a scenario's arguments: fail fast
            // rather than run the scenarios again.
            eprintln!("process_spawn: a child got no scenario ({args:?})");
            std::process::exit(2);
        }
        let filter: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
        let tests: [(&str, fn()); 3] = [
            ("child_sees_the_parents_argv", child_sees_the_parents_argv),
            (
                "a_child_failing_before_init_reports_its_exit_code_and_stderr",
                a_child_failing_before_init_reports_its_exit_code_and_stderr,
            ),
            (
                "process_timeouts_are_real_time_under_a_paused_clock",
                process_timeouts_are_real_time_under_a_paused_clock,
            ),
        ];
        for (name, test) in tests {
            if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
                continue;
            }
            test();
            println!("test {name} ... ok");
        }
    }
}

fn main() {
    #[cfg(all(feature = "process", target_os = "linux"))]
    scenarios::main();
}
