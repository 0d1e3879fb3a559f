//! Helpers shared by the thread-layer test files (include with
//! `#[path = "common/thread_util.rs"] mod thread_util;`).
#![allow(dead_code, unreachable_pub)]

use tokio::sync::{Mutex, MutexGuard};

/// The registry, the non-daemon wait and the excepthook are process-wide, as
/// in Python; tests that assert on them (or replace the hook) take this lock
/// so that the other tests of the same binary do not disturb them. (A tokio
/// mutex: async tests hold it across awaits; it does not poison.)
static SERIAL: Mutex<()> = Mutex::const_new(());

/// Takes the test lock from an async test.
pub async fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().await
}

/// Takes the test lock from a plain `#[test]` (outside any runtime).
pub fn serial_blocking() -> MutexGuard<'static, ()> {
    SERIAL.blocking_lock()
}

/// A one-shot gate: threads wait on it, the test opens it.
#[derive(Clone, Default)]
pub struct Gate(
    std::sync::Arc<tokio::sync::Notify>,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
);

impl Gate {
    pub fn new() -> Self {
        Self::default()
    }

    pub async fn wait(&self) {
        loop {
            let notified = self.0.notified();
            if self.1.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    pub fn open(&self) {
        self.1.store(true, std::sync::atomic::Ordering::SeqCst);
        self.0.notify_waiters();
    }
}
