//! `Thread`: life cycle, errors with Python's messages, names, ident, daemon
//! flag, join (value, panic, cancellation, many joiners, timeouts), `spawn`,
//! `Builder` and the `ThreadRun` (subclass) form. Python reference:
//! Lib/threading.py `Thread`, Lib/test/test_threading.py.

#[path = "common/thread_util.rs"]
mod thread_util;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use thread_util::Gate;
use threadlet::error::{DaemonError, JoinError, JoinTimeoutError, StartError};
use threadlet::{Builder, Thread, ThreadRef, ThreadRun};
#[tokio::test]
async fn does_not_run_until_started() {
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let t = Thread::new(async move { r.store(true, Ordering::SeqCst) });
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!ran.load(Ordering::SeqCst));
    assert!(!t.is_alive());
    assert_eq!(t.ident(), None);
    t.start().unwrap();
    t.join().await.unwrap();
    assert!(ran.load(Ordering::SeqCst));
}

struct Greeter {
    name: &'static str,
    times: usize,
}

impl ThreadRun for Greeter {
    type Output = Vec<String>;

    async fn run(self) -> Vec<String> {
        let mut out = Vec::new();
        for i in 0..self.times {
            tokio::task::yield_now().await;
            out.push(format!("{} {i}", self.name));
        }
        out
    }
}

#[tokio::test]
async fn subclass_form_runs_its_run_method() {
    let t = Thread::from_run(Greeter {
        name: "hi",
        times: 2,
    });
    assert!(!t.is_alive());
    t.start().unwrap();
    assert_eq!(t.join().await.unwrap(), vec!["hi 0", "hi 1"]);

    let named = Builder::new().name("greeter").build_run(Greeter {
        name: "yo",
        times: 1,
    });
    assert_eq!(named.name(), "greeter");
    named.start().unwrap();
    assert_eq!(named.join().await.unwrap(), vec!["yo 0"]);
}

#[tokio::test]
async fn start_twice_is_an_error() {
    let t = Thread::new(async { 1 });
    assert_eq!(t.start(), Ok(()));
    let err = t.start().unwrap_err();
    assert_eq!(err, StartError::AlreadyStarted);
    assert_eq!(err.to_string(), "threads can only be started once");
    // Still joinable, ran once.
    assert_eq!(t.thread_ref().join().await, Ok(()));
    assert_eq!(t.start(), Err(StartError::AlreadyStarted));
    assert_eq!(t.join().await, Ok(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_starts_start_once() {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let t = Arc::new(Thread::new(async move {
        r.fetch_add(1, Ordering::SeqCst);
    }));
    let starters: Vec<_> = (0..8)
        .map(|_| {
            let t = t.clone();
            tokio::spawn(async move { t.start() })
        })
        .collect();
    let mut ok = 0;
    for s in starters {
        match s.await.unwrap() {
            Ok(()) => ok += 1,
            Err(e) => assert_eq!(e, StartError::AlreadyStarted),
        }
    }
    assert_eq!(ok, 1);
    t.thread_ref().join().await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn join_before_start_is_an_error() {
    let mut t = Thread::new(async { 1 });
    let not_started = JoinTimeoutError::Join(JoinError::NotStarted);
    assert_eq!(t.try_join(), Err(not_started.clone()));
    let within_a_second = t.join_timeout(Duration::from_secs(1)).await;
    assert_eq!(within_a_second, Err(not_started.clone()));
    assert_eq!(
        t.join_timeout(Duration::ZERO).await,
        Err(not_started.clone())
    );
    let r = t.thread_ref();
    assert_eq!(r.join().await, Err(JoinError::NotStarted));
    assert_eq!(r.try_join(), Err(not_started.clone()));
    let within_a_second = r.join_timeout(Duration::from_secs(1)).await;
    assert_eq!(within_a_second, Err(not_started));
    let err = t.join().await.unwrap_err();
    assert_eq!(err, JoinError::NotStarted);
    assert_eq!(err.to_string(), "cannot join thread before it is started");
}

#[tokio::test]
async fn daemon_after_start_is_an_error() {
    let t = Thread::new(async {});
    t.set_daemon(true).unwrap();
    t.set_daemon(false).unwrap();
    assert!(!t.is_daemon());
    t.start().unwrap();
    let err = t.set_daemon(true).unwrap_err();
    assert_eq!(err, DaemonError);
    assert_eq!(err.to_string(), "cannot set daemon status of active thread");
    assert!(!t.is_daemon());
    t.thread_ref().join().await.unwrap();
    assert_eq!(t.set_daemon(true), Err(DaemonError));
}

#[tokio::test]
async fn default_names_count_up() {
    let a = Thread::new(async {});
    let b = Thread::new(async {});
    let n = |t: &Thread<()>| -> u64 {
        t.name()
            .strip_prefix("Thread-")
            .expect("default name is Thread-N")
            .parse()
            .unwrap()
    };
    assert!(n(&b) > n(&a));
    assert!(n(&a) >= 1);
}

#[tokio::test]
async fn names_can_be_given_and_changed() {
    let t = Builder::new()
        .name("reader")
        .build(async { threadlet::current_thread().name() });
    assert_eq!(t.name(), "reader");
    t.set_name("writer");
    t.start().unwrap();
    let r = t.thread_ref();
    assert_eq!(t.join().await.unwrap(), "writer");
    // Renaming after the end is allowed too, as in Python.
    r.set_name("done");
    assert_eq!(r.name(), "done");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ident_is_the_task_id() {
    let t = Thread::new(async { (tokio::task::id(), threadlet::current_thread().ident()) });
    assert_eq!(t.ident(), None);
    t.start().unwrap();
    let started_ident = t.ident();
    assert!(started_ident.is_some(), "ident is set when start returns");
    let r = t.thread_ref();
    let (inside, current) = t.join().await.unwrap();
    assert_eq!(started_ident, Some(inside));
    assert_eq!(current, Some(inside));
    // Kept after the end.
    assert_eq!(r.ident(), Some(inside));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn is_alive_follows_the_life_cycle() {
    let gate = Gate::new();
    let g = gate.clone();
    let t = Thread::new(async move { g.wait().await });
    assert!(!t.is_alive());
    t.start().unwrap();
    assert!(t.is_alive());
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(t.is_alive());
    gate.open();
    t.thread_ref().join().await.unwrap();
    assert!(!t.is_alive());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_joiners_see_the_end_and_the_owner_gets_the_value() {
    let gate = Gate::new();
    let g = gate.clone();
    let t = threadlet::spawn(async move {
        g.wait().await;
        String::from("owned")
    });
    let joiners: Vec<_> = (0..16)
        .map(|_| {
            let r = t.thread_ref();
            tokio::spawn(async move { r.join().await })
        })
        .collect();
    let owner = tokio::spawn(t.join());
    // Let them all block in join.
    tokio::time::sleep(Duration::from_millis(20)).await;
    gate.open();
    for j in joiners {
        assert_eq!(j.await.unwrap(), Ok(()));
    }
    assert_eq!(owner.await.unwrap().unwrap(), "owned");
}

/// Issue 13 item 3: a value that is not `Clone` is joined for itself.
#[tokio::test]
async fn a_value_without_clone_goes_to_its_owner() {
    let t: Thread<std::io::Result<String>> =
        threadlet::spawn(async { std::fs::read_to_string("/no/such/threadlet/file") });
    let r = t.thread_ref();
    let err = t.join().await.unwrap().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    // Python's `join()` from anyone else: the status, as often as asked.
    assert_eq!(r.join().await, Ok(()));
    assert_eq!(r.join().await, Ok(()));

    struct NotClone(u8);
    let t = threadlet::spawn(async { NotClone(9) });
    assert_eq!(t.join().await.map(|v| v.0).ok(), Some(9));
}

/// Issue 13 item 3, bad input: asking for the value after it was taken is
/// an error at once, in every form, never a wait.
#[tokio::test(start_paused = true)]
async fn the_value_taken_twice_is_an_error_not_a_hang() {
    let mut t = threadlet::spawn(async { String::from("once") });
    let r = t.thread_ref();
    assert_eq!(t.join_timeout(Duration::MAX).await.unwrap(), "once");
    let taken = Err(JoinTimeoutError::Join(JoinError::ValueTaken));
    assert_eq!(t.try_join(), taken);
    assert_eq!(t.join_timeout(Duration::ZERO).await, taken);
    assert_eq!(t.join_timeout(Duration::from_secs(1)).await, taken);
    assert_eq!(t.join_timeout(Duration::MAX).await, taken);
    // The status is unchanged: it ended with a value.
    assert_eq!(r.join().await, Ok(()));
    assert_eq!(r.try_join(), Ok(()));
    let err = t.join().await.unwrap_err();
    assert_eq!(err, JoinError::ValueTaken);
    assert_eq!(err.to_string(), "the thread's value was already taken");
}

#[tokio::test]
async fn joiners_from_threadlet_threads() {
    let worker = threadlet::spawn(async { 7 });
    let w = worker.thread_ref();
    let waiter = threadlet::spawn(async move { w.join().await });
    assert_eq!(waiter.join().await.unwrap(), Ok(()));
    let owner = threadlet::spawn(worker.join());
    assert_eq!(owner.join().await.unwrap(), Ok(7));
}

#[tokio::test]
async fn join_reports_a_panic_with_its_message() {
    threadlet::set_excepthook(|_: &threadlet::ExceptHookArgs| {});
    let t = threadlet::spawn(async {
        if true {
            panic!("boom {}", 42);
        }
    });
    let r = t.thread_ref();
    let err = t.join().await.unwrap_err();
    assert_eq!(err, JoinError::Panicked("boom 42".into()));
    assert!(err.is_panic());
    assert_eq!(err.to_string(), "thread panicked: boom 42");
    assert!(!r.is_alive());
    // Every joiner sees the failure, as often as asked.
    assert_eq!(r.join().await, Err(err.clone()));
    assert_eq!(r.try_join(), Err(JoinTimeoutError::Join(err)));

    let s = threadlet::spawn(async { std::panic::panic_any(5_u8) });
    assert_eq!(
        s.join().await,
        Err(JoinError::Panicked("Box<dyn Any>".into()))
    );
    let r = threadlet::spawn(async { panic!("static") });
    assert_eq!(
        r.thread_ref().join().await,
        Err(JoinError::Panicked("static".into()))
    );
}

#[tokio::test]
async fn joining_itself_is_an_error() {
    type Me = Thread<()>;
    let slot: Arc<std::sync::Mutex<Option<Me>>> = Arc::default();
    let s = slot.clone();
    let gate = Gate::new();
    let g = gate.clone();
    let t = Thread::new(async move {
        g.wait().await;
        // The thread owns its own handle here.
        let mut me = s.lock().unwrap().take().unwrap();
        let current = threadlet::current_thread();
        let itself = Err(JoinTimeoutError::Join(JoinError::CurrentThread));
        assert_eq!(current.join().await, Err(JoinError::CurrentThread));
        assert_eq!(current.join_timeout(Duration::from_secs(1)).await, itself);
        assert_eq!(current.try_join(), itself);
        assert_eq!(me.try_join().map(|_| ()), itself);
        assert_eq!(
            me.join_timeout(Duration::from_secs(1)).await.map(|_| ()),
            itself
        );
        let err = me.join().await.unwrap_err();
        assert_eq!(err, JoinError::CurrentThread);
        assert_eq!(err.to_string(), "cannot join current thread");
    });
    t.start().unwrap();
    let r = t.thread_ref();
    *slot.lock().unwrap() = Some(t);
    gate.open();
    // The thread's own asserts passed: it ended with a value, not a panic.
    assert_eq!(r.join().await, Ok(()));
}

#[tokio::test(start_paused = true)]
async fn join_timeout_tells_running_from_finished() {
    let mut t = threadlet::spawn(async {
        tokio::time::sleep(Duration::from_secs(10)).await;
        "late"
    });
    let err = t.join_timeout(Duration::from_secs(1)).await.unwrap_err();
    assert_eq!(err, JoinTimeoutError::Timeout);
    assert!(err.is_timeout());
    assert!(t.is_alive());
    assert!(
        t.thread_ref()
            .join_timeout(Duration::from_secs(1))
            .await
            .unwrap_err()
            .is_timeout()
    );
    assert_eq!(t.thread_ref().join_timeout(Duration::MAX).await, Ok(()));
    // A finished thread with a zero timeout: the value, not a timeout.
    assert_eq!(t.join_timeout(Duration::ZERO).await, Ok("late"));
    assert_eq!(t.thread_ref().join_timeout(Duration::ZERO).await, Ok(()));

    threadlet::set_excepthook(|_: &threadlet::ExceptHookArgs| {});
    let mut p = threadlet::spawn(async { panic!("late boom") });
    assert_eq!(
        p.join_timeout(Duration::from_secs(1)).await,
        Err(JoinTimeoutError::Join(JoinError::Panicked(
            "late boom".into()
        )))
    );
}

#[tokio::test(start_paused = true)]
async fn dropped_join_leaves_the_thread_untouched() {
    let mut t = threadlet::spawn(async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        3
    });
    for _ in 0..100 {
        assert!(
            t.join_timeout(Duration::from_millis(1))
                .await
                .unwrap_err()
                .is_timeout()
        );
    }
    {
        let pending = t.join_timeout(Duration::MAX);
        tokio::pin!(pending);
        assert!(futures::poll!(pending.as_mut()).is_pending());
    }
    {
        let pending = t.thread_ref();
        let pending = pending.join();
        tokio::pin!(pending);
        assert!(futures::poll!(pending.as_mut()).is_pending());
    }
    assert_eq!(t.join().await, Ok(3));
}

#[test]
fn a_thread_whose_runtime_shuts_down_is_cancelled() {
    let dropped = Arc::new(AtomicBool::new(false));
    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let d = SetOnDrop(dropped.clone());
    let t = rt.block_on(async move {
        threadlet::spawn(async move {
            let _d = d;
            std::future::pending::<u8>().await
        })
    });
    assert!(t.is_alive());
    drop(rt);
    assert!(dropped.load(Ordering::SeqCst), "the future was dropped");
    assert!(!t.is_alive());
    let other = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let err = other.block_on(t.join()).unwrap_err();
    assert_eq!(err, JoinError::Cancelled);
    assert!(err.is_cancelled());
    assert_eq!(err.to_string(), "thread was cancelled");
}

#[test]
fn start_outside_a_runtime_is_an_error() {
    let t = Thread::new(async { 9 });
    assert_eq!(t.start(), Err(StartError::NoRuntime));
    assert!(!t.is_alive());
    assert_eq!(
        StartError::NoRuntime.to_string(),
        "must be called from the context of a Tokio runtime"
    );
    assert_eq!(
        Builder::new().spawn(async {}).map(|_| ()),
        Err(StartError::NoRuntime)
    );
    // It stays unstarted and can be started inside a runtime later.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let v = rt.block_on(async {
        t.start().unwrap();
        t.join().await
    });
    assert_eq!(v, Ok(9));
}

#[test]
#[should_panic(expected = "Tokio")]
fn spawn_outside_a_runtime_panics_like_tokio() {
    let _ = threadlet::spawn(async {});
}

#[tokio::test]
async fn daemon_flag_is_inherited_from_the_creating_thread() {
    let outside = Thread::new(async {});
    assert!(!outside.is_daemon(), "made outside threadlet: non-daemon");

    let from_daemon = Builder::new()
        .daemon(true)
        .spawn(async {
            let child = Thread::new(async {});
            let explicit = Builder::new().daemon(false).build(async {});
            (child.is_daemon(), explicit.is_daemon())
        })
        .unwrap();
    assert_eq!(from_daemon.join().await.unwrap(), (true, false));

    let from_normal = threadlet::spawn(async { threadlet::spawn(async {}).is_daemon() });
    assert!(!from_normal.join().await.unwrap());
}

#[tokio::test]
async fn thread_refs_compare_by_identity() {
    let mut t = threadlet::spawn(async { threadlet::current_thread() });
    let inside: ThreadRef = t.join_timeout(Duration::MAX).await.unwrap();
    assert_eq!(inside, t.thread_ref());
    assert!(t == inside);
    assert!(inside == t);
    assert_eq!(ThreadRef::from(&t), inside);
    let other = threadlet::spawn(async {});
    assert_ne!(other.thread_ref(), inside);
}

#[tokio::test]
async fn debug_shows_name_state_and_flags() {
    let t = Builder::new().name("dbg").daemon(true).build(async {});
    let text = format!("{t:?}");
    assert!(text.contains("\"dbg\""), "{text}");
    assert!(text.contains("initial"), "{text}");
    assert!(text.contains("daemon: true"), "{text}");
    t.start().unwrap();
    let r = t.thread_ref();
    t.join().await.unwrap();
    let text = format!("{r:?}");
    assert!(text.contains("stopped"), "{text}");
    assert!(text.contains("ident: Some"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_threads_from_many_threads() {
    let total = Arc::new(AtomicUsize::new(0));
    let parents: Vec<_> = (0..8)
        .map(|_| {
            let total = total.clone();
            threadlet::spawn(async move {
                let kids: Vec<_> = (0..200)
                    .map(|i| {
                        let total = total.clone();
                        threadlet::spawn(async move {
                            total.fetch_add(1, Ordering::SeqCst);
                            i
                        })
                    })
                    .collect();
                let mut sum = 0;
                for k in kids {
                    sum += k.join().await.unwrap();
                }
                sum
            })
        })
        .collect();
    for p in parents {
        assert_eq!(p.join().await.unwrap(), (0..200).sum::<usize>());
    }
    assert_eq!(total.load(Ordering::SeqCst), 1600);
}

#[test]
fn handles_and_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let mut t = Thread::new(async { 1 });
    send_sync(&t);
    send_sync(&t.thread_ref());
    send(&t.join_timeout(Duration::from_secs(1)));
    let r = t.thread_ref();
    send(&r.join());
    send(&r.join_timeout(Duration::from_secs(1)));
    send(&t.join());
    send_sync(&Builder::new());
    send_sync(&threadlet::Timer::new(Duration::from_secs(1), async {}));
    send_sync(&StartError::NoRuntime);
    send_sync(&JoinError::Cancelled);
    // A thread whose output is Send but not Sync is still a Sync handle.
    let cell = Thread::new(async { std::cell::Cell::new(1) });
    send_sync(&cell);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn joiners_racing_start_never_hang() {
    for _ in 0..200 {
        let t = Thread::new(async { 5 });
        let joiners: Vec<_> = (0..4)
            .map(|_| {
                let t = t.thread_ref();
                tokio::spawn(async move {
                    loop {
                        match t.join().await {
                            Err(JoinError::NotStarted) => tokio::task::yield_now().await,
                            other => return other,
                        }
                    }
                })
            })
            .collect();
        tokio::task::yield_now().await;
        t.start().unwrap();
        for j in joiners {
            let joined = tokio::time::timeout(Duration::from_secs(30), j).await;
            assert_eq!(joined.expect("joiner hung").unwrap(), Ok(()));
        }
        assert_eq!(t.join().await, Ok(5));
    }
}

#[test]
fn a_thread_cancelled_before_its_first_poll_still_finishes() {
    // On a current-thread runtime nothing runs until the body yields: the
    // thread is spawned, then its runtime dropped, without ever being polled.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let t = rt.block_on(async { threadlet::spawn(async { 1 }) });
    assert!(t.is_alive());
    assert!(threadlet::enumerate().contains(&t.thread_ref()));
    drop(rt);
    assert!(!t.is_alive());
    assert!(!threadlet::enumerate().contains(&t.thread_ref()));
    assert_eq!(t.blocking_join(), Err(JoinError::Cancelled));
}
