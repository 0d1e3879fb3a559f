//! Helpers for the process tests: is a pid still running, unique temp paths.

#![allow(dead_code)]

use std::time::{Duration, Instant};

/// Whether `pid` no longer runs (gone, or a zombie waiting for its reaper).
pub fn pid_is_gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_none_or(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
    }
}

/// Polls until `pid` is gone; false if it still runs after `within`.
pub async fn wait_gone(pid: u32, within: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < within {
        if pid_is_gone(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    pid_is_gone(pid)
}

/// Polls `f` until it returns `Some`, for at most 20 s.
pub async fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A fresh path in the temp dir, unique to this process and `tag`.
pub fn temp_path(tag: &str) -> String {
    let path = std::env::temp_dir().join(format!(
        "threadlet-process-test-{}-{tag}",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path.to_string_lossy().into_owned()
}
