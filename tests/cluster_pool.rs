//! `cluster::Pool` with `cluster::worker` processes (this binary, re-executed
//! with `THREADLET_CLUSTER_ROLE=worker`), against a real redis-server.
//! (`harness = false`: `main` runs the tests, or a worker.)

mod cluster_support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use cluster_support::{Children, RedisServer, run_tests};
use futures::StreamExt;
use threadlet::cluster::{self, Options, Pool, PoolError, PoolOptions};
use threadlet::process;

fn square(x: u64) -> u64 {
    x * x
}

fn fail_on_13(x: u64) -> u64 {
    assert_ne!(x, 13, "thirteen is unlucky");
    x
}

/// Kills its worker the first time (the marker file does not exist yet).
fn die_once(marker: PathBuf) -> u32 {
    if std::fs::File::create_new(&marker).is_ok() {
        std::process::abort();
    }
    7
}

fn always_die(_: ()) -> u32 {
    std::process::abort();
}

/// Which pool's worker ran it.
fn tag(x: u32) -> (String, u32) {
    (std::env::var("THREADLET_POOL_TAG").unwrap_or_default(), x)
}

fn not_registered_in_workers(x: u32) -> u32 {
    x
}

fn register_all() {
    process::register(square);
    process::register(fail_on_13);
    process::register(die_once);
    process::register(always_die);
    process::register(tag);
}

fn main() {
    register_all();
    if std::env::var("THREADLET_CLUSTER_ROLE").as_deref() == Ok("worker") {
        let url = std::env::var("THREADLET_CLUSTER_URL").unwrap();
        let name = std::env::var("THREADLET_POOL").unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let options = Options::default().visibility_timeout(Duration::from_millis(1000));
        rt.block_on(cluster::worker_with(&url, &name, options))
            .unwrap();
        return;
    }
    process::register(not_registered_in_workers);
    let tests: [(&str, fn()); 4] = [
        (
            "map_apply_and_imap_over_worker_processes",
            map_apply_and_imap_over_worker_processes,
        ),
        (
            "a_killed_worker_s_job_is_retried_and_the_pool_keeps_serving",
            a_killed_worker_s_job_is_retried_and_the_pool_keeps_serving,
        ),
        (
            "after_the_last_retry_the_error_names_the_job",
            after_the_last_retry_the_error_names_the_job,
        ),
        (
            "two_pools_with_different_names_never_see_each_others_jobs",
            two_pools_with_different_names_never_see_each_others_jobs,
        ),
    ];
    run_tests(&tests);
}

fn workers(url: &str, pool: &str, n: usize, tag: &str) -> Children {
    Children(
        (0..n)
            .map(|_| {
                Command::new(std::env::current_exe().unwrap())
                    .env("THREADLET_CLUSTER_ROLE", "worker")
                    .env("THREADLET_CLUSTER_URL", url)
                    .env("THREADLET_POOL", pool)
                    .env("THREADLET_POOL_TAG", tag)
                    .stdin(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect(),
    )
}

fn map_apply_and_imap_over_worker_processes() {
    let server = RedisServer::start();
    let url = server.url();
    let mut children = workers(&url, "squares", 2, "");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = Pool::connect(&url, "squares").await.unwrap();
        let want: Vec<u64> = (0..100).map(|x| x * x).collect();
        assert_eq!(pool.map(square, 0..100).await.unwrap(), want);
        assert_eq!(pool.map_chunked(square, 0..100, 7).await.unwrap(), want);
        assert_eq!(
            pool.map_chunked(square, 0..3, 0).await,
            Err(PoolError::InvalidChunksize)
        );
        let r = pool.apply_async(square, 12).await.unwrap();
        assert_eq!(r.get().await.unwrap(), 144);
        assert_eq!(pool.apply(square, 3).await.unwrap(), 9);
        let ordered: Vec<u64> = pool
            .imap(square, 0..20)
            .await
            .unwrap()
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(ordered, want[..20]);
        let mut unordered: Vec<u64> = pool
            .imap_unordered(square, 0..20)
            .await
            .unwrap()
            .map(Result::unwrap)
            .collect()
            .await;
        unordered.sort_unstable();
        assert_eq!(unordered, want[..20]);
        // A panicking job fails with its message and job id; the pool goes on.
        match pool.map_chunked(fail_on_13, 10..20, 1).await {
            Err(PoolError::Panicked { job, message, .. }) => {
                assert!(message.contains("thirteen is unlucky"), "{message}");
                assert!(job.ends_with("#3"), "{job}");
            }
            other => panic!("{other:?}"),
        }
        // A function the workers do not know: a typed error naming the job.
        assert!(matches!(
            pool.apply(not_registered_in_workers, 1).await,
            Err(PoolError::Worker { .. })
        ));
        assert_eq!(pool.apply(square, 5).await.unwrap(), 25);
        pool.close();
        assert_eq!(pool.apply(square, 1).await, Err(PoolError::NotRunning));
        pool.join().await.unwrap();
        pool.terminate().await.unwrap();
    });
    // terminate: every worker exits.
    for c in &mut children.0 {
        assert!(c.wait().unwrap().success());
    }
}

fn a_killed_worker_s_job_is_retried_and_the_pool_keeps_serving() {
    let server = RedisServer::start();
    let url = server.url();
    let marker = std::env::temp_dir().join(format!("threadlet-die-once-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let mut children = workers(&url, "flaky", 2, "");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = Pool::connect(&url, "flaky").await.unwrap();
        assert_eq!(pool.apply(die_once, marker.clone()).await.unwrap(), 7);
        assert!(marker.exists());
        assert_eq!(
            pool.map(square, 0..10).await.unwrap(),
            (0..10).map(|x| x * x).collect::<Vec<_>>()
        );
        pool.terminate().await.unwrap();
    });
    let statuses: Vec<bool> = children
        .0
        .iter_mut()
        .map(|c| c.wait().unwrap().success())
        .collect();
    // One worker died running the job, the other answered it and exited at terminate.
    assert_eq!(statuses.iter().filter(|ok| **ok).count(), 1, "{statuses:?}");
    let _ = std::fs::remove_file(&marker);
}

fn after_the_last_retry_the_error_names_the_job() {
    let server = RedisServer::start();
    let url = server.url();
    // Each delivery kills a worker: 1 delivery + 1 retry kill two, the third
    // worker sees the job a third time and gives up.
    let mut children = workers(&url, "doomed", 3, "");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let pool = Pool::connect_with(&url, "doomed", PoolOptions::default().retries(1))
            .await
            .unwrap();
        let r = pool.apply_async(always_die, ()).await.unwrap();
        match r.get_timeout(Duration::from_secs(60)).await {
            Err(e @ PoolError::GaveUp { .. }) => {
                let PoolError::GaveUp { job, deliveries } = &e else {
                    unreachable!()
                };
                assert_eq!(*deliveries, 2);
                assert!(job.ends_with("/0#0"), "{job}");
                assert!(e.to_string().contains(job.as_str()), "{e}");
            }
            other => panic!("{other:?}"),
        }
        // The surviving worker still serves.
        assert_eq!(pool.apply(square, 4).await.unwrap(), 16);
        pool.terminate().await.unwrap();
    });
    let ok = children
        .0
        .iter_mut()
        .map(|c| c.wait().unwrap().success())
        .filter(|ok| *ok)
        .count();
    assert_eq!(ok, 1);
}

fn two_pools_with_different_names_never_see_each_others_jobs() {
    let server = RedisServer::start();
    let url = server.url();
    let mut children = workers(&url, "a", 1, "a");
    children.0.append(&mut workers(&url, "b", 1, "b").0);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let a = Pool::connect(&url, "a").await.unwrap();
        let b = Pool::connect(&url, "b").await.unwrap();
        let c = Pool::connect(&url, "c").await.unwrap();
        let (ra, rb) = tokio::join!(a.map_chunked(tag, 0..50, 1), b.map_chunked(tag, 0..50, 1));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        assert!(ra.iter().all(|(t, _)| t == "a"), "{ra:?}");
        assert!(rb.iter().all(|(t, _)| t == "b"), "{rb:?}");
        assert_eq!(
            ra.iter().map(|(_, x)| *x).collect::<Vec<_>>(),
            (0..50).collect::<Vec<_>>()
        );
        // Nobody serves `c`, though the workers of `a` and `b` are idle.
        let r = c.apply_async(tag, 1).await.unwrap();
        assert_eq!(
            r.get_timeout(Duration::from_secs(2)).await,
            Err(PoolError::Timeout)
        );
        a.terminate().await.unwrap();
        b.terminate().await.unwrap();
    });
    for ch in &mut children.0 {
        assert!(ch.wait().unwrap().success());
    }
}
