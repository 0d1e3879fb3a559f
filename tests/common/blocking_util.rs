//! The harness shared by the tests of the `blocking_*` forms (issue 13 item
//! 1): on a thread driving a tokio runtime each form panics at once, at the
//! caller's line, naming the async form to use instead; inside
//! `spawn_blocking`, `block_in_place` and on plain threads it works.
//!
//! A case is `(the method's name, one complete call of it that ends by itself
//! when allowed)`. The caller's file (`file!()`) is passed in: the refusal
//! must name the line of the call in the test, not a line in here.
#![allow(dead_code)]

use std::panic::{AssertUnwindSafe, catch_unwind};

/// `(the method, one complete call of it that ends by itself when allowed)`.
pub type Case = (&'static str, fn());

/// The text of a panic payload.
pub fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

/// Runs `call` on this thread; its panic message if it panicked.
pub fn run_here(call: impl FnOnce()) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(call)).map_err(|p| message(&*p))
}

/// Runs `call` in a task spawned on the current runtime; its panic message
/// if it panicked.
pub async fn run_in_task(call: fn()) -> Result<(), String> {
    tokio::spawn(async move { call() })
        .await
        .map_err(|e| message(&*e.into_panic()))
}

/// Checks that the call of `name` made in `file` panicked with the refusal:
/// naming the method, the reason, the ways out (`spawn_blocking`, the
/// `.await` form) and the caller's line (`#[track_caller]` all the way).
pub fn assert_refused(file: &str, name: &str, outcome: Result<(), String>) {
    let msg = outcome.expect_err(name);
    assert!(msg.contains(&format!("`{name}`")), "{name}: {msg}");
    assert!(
        msg.contains("would block a thread that is driving a tokio runtime"),
        "{name}: {msg}"
    );
    assert!(msg.contains("spawn_blocking"), "{name}: {msg}");
    assert!(
        msg.contains(".await`"),
        "{name}: names the async form: {msg}"
    );
    assert!(msg.contains(file), "{name}: not the caller's line: {msg}");
}

/// Every case is refused on this thread (one that drives a runtime).
pub fn refused_here(file: &str, cases: &[Case]) {
    for &(name, call) in cases {
        assert_refused(file, name, run_here(call));
    }
}

/// Every case is refused in a task spawned on the current runtime.
pub async fn refused_in_tasks(file: &str, cases: &[Case]) {
    for &(name, call) in cases {
        assert_refused(file, name, run_in_task(call).await);
    }
}

/// Every case completes in `spawn_blocking` on the current runtime.
pub async fn work_in_spawn_blocking(cases: &[Case]) {
    for &(name, call) in cases {
        tokio::task::spawn_blocking(call)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// Every case completes in `block_in_place` (a multi-thread runtime only).
pub async fn work_in_block_in_place(cases: &[Case]) {
    for &(name, call) in cases {
        tokio::spawn(async move { tokio::task::block_in_place(call) })
            .await
            .unwrap_or_else(|e| panic!("{name} in block_in_place: {e}"));
    }
}

/// Every case completes on a plain thread of its own.
pub fn work_on_plain_threads(cases: &[Case]) {
    for &(name, call) in cases {
        std::thread::spawn(call)
            .join()
            .unwrap_or_else(|_| panic!("{name} failed on a plain thread"));
    }
}
