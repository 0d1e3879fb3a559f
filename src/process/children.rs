//! The list of this process's started, not yet reaped children, which
//! `active_children()` reads and the exit path joins (or kills).

use std::sync::{Arc, Mutex};

use nix::sys::signal::Signal;

use super::record::Record;
use crate::wait::loom::lock;

static CHILDREN: Mutex<Vec<Arc<Record>>> = Mutex::new(Vec::new());

/// Adds a child that was just spawned.
pub(crate) fn add(child: Arc<Record>) {
    lock(&CHILDREN).push(child);
}

/// Removes a reaped child.
pub(crate) fn remove(child: &Arc<Record>) {
    lock(&CHILDREN).retain(|c| !Arc::ptr_eq(c, child));
}

/// A snapshot of the list.
pub(crate) fn all() -> Vec<Arc<Record>> {
    lock(&CHILDREN).clone()
}

/// Whether a child with this pid is still running.
pub(crate) fn is_running(pid: u32) -> bool {
    all().iter().any(|c| c.running_pid() == Some(pid))
}

/// The children to wait for at exit, after SIGKILLing the daemon ones; empty
/// when there are none left.
fn reap_round() -> Vec<Arc<Record>> {
    let kids = all();
    for kid in kids.iter().filter(|k| k.is_daemon()) {
        let _ = kid.signal(Signal::SIGKILL);
    }
    kids
}

/// Kills the daemon children and waits for all the others (children started
/// meanwhile included), as Python does at exit.
pub(crate) async fn shutdown() {
    loop {
        let kids = reap_round();
        if kids.is_empty() {
            return;
        }
        for kid in kids {
            kid.wait_done().await;
        }
    }
}

/// [`shutdown`] for a plain thread (a child's exit path).
pub(crate) fn blocking_shutdown() {
    loop {
        let kids = reap_round();
        if kids.is_empty() {
            return;
        }
        for kid in kids {
            kid.blocking_wait_done();
        }
    }
}
