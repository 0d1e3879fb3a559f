//! Scopes: which threads a [`run`](crate::run), a `#[threadlet::test]`
//! ([`RuntimeBuilder::block_on`](crate::RuntimeBuilder::block_on)) or a
//! [`scope`](crate::scope) waits for.
//!
//! A thread belongs to the scope it was started in, decided when it starts,
//! in this order:
//!
//! 1. inside the body of a scope (polled with that scope installed on its
//!    OS thread, as the current thread is): that scope;
//! 2. inside a threadlet thread: that thread's scope (inherited);
//! 3. on a worker or blocking thread of a runtime built by `RuntimeBuilder`,
//!    or on the thread running its `block_on`: that runtime's scope;
//! 4. anywhere else: the root scope.
//!
//! A scope is a number kept in each thread's `Core`; waits collect the
//! threads of a scope from the registry (`registry::join_non_daemon`), so
//! starting a thread costs a few thread-local reads and one store more, and
//! no shared counter. A scope whose future is dropped before it finished
//! hands its threads to the scope it was made in ([`adopt`]), so that they
//! are still waited for.

use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::core;

/// A scope's number; [`ROOT`] for threads started outside any scope.
pub(crate) type ScopeId = u64;

/// The scope of threads started outside any scope or threadlet runtime.
pub(crate) const ROOT: ScopeId = 0;

static NEXT: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The scope whose body is being polled on this OS thread (`ROOT`: none).
    static BODY: Cell<ScopeId> = const { Cell::new(ROOT) };
    /// The scope of the runtime this OS thread works for (`ROOT`: none).
    static RUNTIME: Cell<ScopeId> = const { Cell::new(ROOT) };
}

/// Dropped scopes, each with the scope that adopted its threads.
static ADOPTED: Mutex<Vec<(ScopeId, ScopeId)>> = Mutex::new(Vec::new());

/// A new scope number.
pub(crate) fn next() -> ScopeId {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The scope a thread started here belongs to (the module docs' order).
pub(crate) fn current() -> ScopeId {
    let body = BODY.get();
    if body != ROOT {
        return body;
    }
    if let Some(thread) = core::current() {
        return thread.scope;
    }
    RUNTIME.get()
}

/// Installs `scope` as the scope whose body is polled on this OS thread;
/// returns the one to put back after the poll.
pub(crate) fn enter_body(scope: ScopeId) -> ScopeId {
    BODY.replace(scope)
}

/// Puts back the body scope [`enter_body`] returned.
pub(crate) fn leave_body(previous: ScopeId) {
    BODY.set(previous);
}

/// Makes `scope` the runtime scope of this OS thread (a runtime's worker and
/// blocking threads, the thread running its `block_on`); returns the
/// previous one.
pub(crate) fn set_runtime(scope: ScopeId) -> ScopeId {
    RUNTIME.replace(scope)
}

/// A snapshot of the adoptions, to [`resolve`] scopes with.
pub(crate) fn adoptions() -> Vec<(ScopeId, ScopeId)> {
    let adopted = core::lock(&ADOPTED);
    if adopted.is_empty() {
        Vec::new()
    } else {
        adopted.clone()
    }
}

/// The scope that now stands for `scope`, following adoptions.
pub(crate) fn resolve(adopted: &[(ScopeId, ScopeId)], mut scope: ScopeId) -> ScopeId {
    while let Some(&(_, parent)) = adopted.iter().find(|&&(child, _)| child == scope) {
        scope = parent;
    }
    scope
}

/// `child` was dropped before it finished: its threads are `parent`'s now.
pub(crate) fn adopt(child: ScopeId, parent: ScopeId) {
    core::lock(&ADOPTED).push((child, parent));
}

/// `scope` has finished (no live thread resolves to it): forgets the scopes
/// it had adopted.
pub(crate) fn forget(scope: ScopeId) {
    let mut adopted = core::lock(&ADOPTED);
    if adopted.is_empty() {
        return;
    }
    let snapshot = adopted.clone();
    adopted.retain(|&(child, _)| resolve(&snapshot, child) != scope);
}
