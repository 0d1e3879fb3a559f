//! Who this process is: `current_process()`, `parent_process()`, `getpid()`,
//! `getppid()`.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::children;

/// Set by `init()`: a process that never called it may not start children
/// (its children would re-run `main`).
pub(crate) static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// Python's per-process counter behind `Process-N`; starts at 1 in every process.
static COUNTER: AtomicU32 = AtomicU32::new(1);

/// The next identity path in this process (`[1]`, then `[2]`, ...; `[1, 1]` in
/// `Process-1`), from Python's shared counter.
pub(crate) fn next_identity() -> Vec<u32> {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut identity = my_identity().to_vec();
    identity.push(n);
    identity
}

/// `PREFIX-1:2` for identity `[1, 2]`.
pub(crate) fn identity_name(prefix: &str, identity: &[u32]) -> String {
    let id: Vec<String> = identity.iter().map(u32::to_string).collect();
    format!("{prefix}-{}", id.join(":"))
}

/// What a dispatched child knows about itself (unset in the main process).
#[derive(Debug)]
pub(crate) struct Me {
    pub(crate) name: String,
    pub(crate) daemon: bool,
    pub(crate) identity: Vec<u32>,
    pub(crate) parent_name: String,
    pub(crate) parent_pid: u32,
}

static ME: OnceLock<Me> = OnceLock::new();

/// Records the child's identity; called once by the child dispatcher.
pub(crate) fn set_me(me: Me) {
    let _ = ME.set(me);
}

/// The child's identity, `None` in the main process.
pub(crate) fn me() -> Option<&'static Me> {
    ME.get()
}

/// This process's name: `MainProcess`, or the name its parent gave it.
pub(crate) fn my_name() -> &'static str {
    me().map_or("MainProcess", |m| m.name.as_str())
}

/// Whether this process is a daemon child.
pub(crate) fn i_am_daemon() -> bool {
    me().is_some_and(|m| m.daemon)
}

/// This process's identity path (`[]` in the main process, `[1]` in `Process-1`).
pub(crate) fn my_identity() -> &'static [u32] {
    me().map_or(&[], |m| m.identity.as_slice())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Current,
    Parent,
    Child,
}

/// A process as `current_process()` / `parent_process()` see it: name, pid,
/// daemon flag and liveness.
///
/// # Examples
///
/// ```
/// let me = threadlet::process::current_process();
/// assert_eq!(me.name(), "MainProcess");
/// assert_eq!(me.pid(), std::process::id());
/// assert!(!me.is_daemon());
/// assert!(me.is_alive());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessInfo {
    name: String,
    pid: u32,
    daemon: bool,
    which: Which,
}

impl ProcessInfo {
    /// The name: `MainProcess` for the main process, else the `Process`'s name
    /// (`Process-1`, `Process-1:2` for the second child of `Process-1`, ...).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadlet::process::current_process().name(), "MainProcess");
    /// ```
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The OS process id (Python's `pid` / `ident`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadlet::process::current_process().pid(), threadlet::process::getpid());
    /// ```
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the process is a daemon (`false` for the main process and for the
    /// parent as seen from a child: threadlet does not send the parent's flag).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!threadlet::process::current_process().is_daemon());
    /// ```
    #[must_use]
    pub fn is_daemon(&self) -> bool {
        self.daemon
    }

    /// Whether the process is alive: always `true` for the current process; for
    /// the parent, whether this child still has it as its parent (a child whose
    /// parent died is re-parented, so `getppid()` changes); for a child from
    /// [`active_children`], whether it has not been
    /// reaped yet.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadlet::process::current_process().is_alive());
    /// ```
    #[must_use]
    pub fn is_alive(&self) -> bool {
        match self.which {
            Which::Current => true,
            Which::Parent => getppid() == self.pid,
            Which::Child => children::is_running(self.pid),
        }
    }
}

/// The current process, as Python's `multiprocessing.current_process()`:
/// `MainProcess` in the process the user started, the `Process`'s name in a child.
///
/// # Examples
///
/// ```
/// use threadlet::process::current_process;
///
/// assert_eq!(current_process().name(), "MainProcess");
/// ```
#[must_use]
pub fn current_process() -> ProcessInfo {
    ProcessInfo {
        name: my_name().to_owned(),
        pid: getpid(),
        daemon: i_am_daemon(),
        which: Which::Current,
    }
}

/// The parent of a child process, `None` in the main process (Python's
/// `multiprocessing.parent_process()`).
///
/// # Examples
///
/// ```
/// assert!(threadlet::process::parent_process().is_none());
/// ```
#[must_use]
pub fn parent_process() -> Option<ProcessInfo> {
    me().map(|m| ProcessInfo {
        name: m.parent_name.clone(),
        pid: m.parent_pid,
        daemon: false,
        which: Which::Parent,
    })
}

/// This process's id (Python's `os.getpid()`).
///
/// # Examples
///
/// ```
/// assert_eq!(threadlet::process::getpid(), std::process::id());
/// ```
#[must_use]
pub fn getpid() -> u32 {
    std::process::id()
}

/// The parent's process id (Python's `os.getppid()`).
///
/// # Examples
///
/// ```
/// assert_ne!(threadlet::process::getppid(), threadlet::process::getpid());
/// ```
#[must_use]
pub fn getppid() -> u32 {
    u32::try_from(nix::unistd::getppid().as_raw()).unwrap_or(0)
}

/// The children started by this process that are still running, oldest first
/// (Python's `multiprocessing.active_children()`; pool workers are not
/// listed). Finished children are reaped in the background, so unlike
/// Python's this call has nothing to clean up.
///
/// # Examples
///
/// ```
/// use threadlet::process::{self, Process};
///
/// fn nap(ms: u64) {
///     std::thread::sleep(std::time::Duration::from_millis(ms));
/// }
///
/// fn main() {
///     process::register(nap);
///     process::init();
///     let p = Process::new(nap, 5_000).unwrap();
///     p.start().unwrap();
///     let active = process::active_children();
///     assert!(active.iter().any(|c| Some(c.pid()) == p.pid() && c.is_alive()));
///     p.kill().unwrap();
///     let _ = p.blocking_join();
///     assert!(process::active_children().iter().all(|c| Some(c.pid()) != p.pid()));
/// }
/// ```
#[must_use]
pub fn active_children() -> Vec<ProcessInfo> {
    children::all()
        .iter()
        .filter_map(|c| {
            let pid = c.running_pid()?;
            let meta = crate::wait::loom::lock(&c.meta);
            Some(ProcessInfo {
                name: meta.name.clone(),
                pid,
                daemon: meta.daemon,
                which: Which::Child,
            })
        })
        .collect()
}
