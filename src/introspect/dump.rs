//! [`dump`] and [`deadlocks`]: snapshots of the thread registry and the wait
//! records, joined into what a reader (or a test) wants to know.

use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use super::meta::{Meta, NO_HOLDER, PrimitiveKind};
use super::waits::{self, Seen};

/// What a thread waits on: the primitive's identity.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::introspect::PrimitiveKind;
///
/// let gate = threadlet::Event::labeled("gate");
/// let g = gate.clone();
/// let t = threadlet::spawn(async move { g.wait().await });
/// while threadlet::dump().stalled().next().is_none() {
///     tokio::task::yield_now().await;
/// }
/// let dump = threadlet::dump();
/// let wait = dump.waits_on("gate").next().unwrap();
/// assert_eq!(wait.primitive.kind, PrimitiveKind::Event);
/// assert_eq!(wait.primitive.label.as_deref(), Some("gate"));
/// gate.set();
/// t.join().await.unwrap();
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PrimitiveInfo {
    /// Lock, RLock, Queue.get, Thread.join, ...
    pub kind: PrimitiveKind,
    /// A process-wide id, stable for the primitive's life (the three wait
    /// lists of one queue share it).
    pub id: u64,
    /// The label given at construction (`Lock::labeled("name")`), if any.
    pub label: Option<String>,
    /// Where the primitive was created (for a thread join, which has no
    /// creation site of its own, a place in threadlet; its label is the
    /// joined thread's name).
    pub site: &'static Location<'static>,
}

impl PrimitiveInfo {
    pub(super) fn from_meta(meta: &Meta) -> Self {
        Self {
            kind: meta.kind,
            id: meta.id,
            label: meta.label.as_deref().map(str::to_owned),
            site: meta.site,
        }
    }

    /// The short name: the label, or `Kind#id`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = threadlet::Lock::labeled("db");
    /// let _held = lock.lock().await;
    /// let l = lock.clone();
    /// let t = threadlet::spawn(async move { drop(l.lock().await) });
    /// while threadlet::dump().waits_on("db").next().is_none() {
    ///     tokio::task::yield_now().await;
    /// }
    /// let dump = threadlet::dump();
    /// assert_eq!(dump.waits_on("db").next().unwrap().primitive.name(), "db");
    /// # drop(_held);
    /// # t.join().await.unwrap();
    /// # }
    /// ```
    #[must_use]
    pub fn name(&self) -> String {
        match &self.label {
            Some(label) => label.clone(),
            None => format!("{}#{}", self.kind, self.id),
        }
    }
}

impl fmt::Display for PrimitiveInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.kind, self.id)?;
        if let Some(label) = &self.label {
            write!(f, " {label:?}")?;
        }
        // A join's list is the crate's; its label names the joined thread.
        if self.kind == PrimitiveKind::ThreadJoin {
            return Ok(());
        }
        write!(f, " created at {}", self.site)
    }
}

/// One wait of a parked thread.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = threadlet::RLock::labeled("account");
/// let held = lock.lock().await; // owned by this task
/// let l = lock.clone();
/// let t = threadlet::Builder::new()
///     .name("teller")
///     .spawn(async move { drop(l.lock().await) })
///     .unwrap();
/// while threadlet::dump().waits_on("account").next().is_none() {
///     tokio::task::yield_now().await;
/// }
/// let dump = threadlet::dump();
/// let wait = dump.waits_on("account").next().unwrap();
/// assert!(!wait.deadline);
/// assert!(wait.holder.is_some()); // an RLock knows its owner
/// drop(held);
/// t.join().await.unwrap();
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WaitInfo {
    /// The primitive waited on.
    pub primitive: PrimitiveInfo,
    /// How long the thread has waited (when the dump was taken).
    pub waited: Duration,
    /// Whether the wait has a deadline (`*_timeout` forms): it can end by
    /// itself.
    pub deadline: bool,
    /// Who holds the primitive, by thread name: an RLock's owner, a Lock's
    /// last acquirer (with [`set_track_holders`](super::set_track_holders)),
    /// the thread a join waits for.
    pub holder: Option<String>,
    pub(crate) seq: u64,
    pub(crate) holder_key: u64,
}

impl fmt::Display for WaitInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "waiting {:.3?} on {}", self.waited, self.primitive)?;
        if self.deadline {
            f.write_str(" (with a deadline)")?;
        }
        if let Some(holder) = &self.holder {
            let what = if self.primitive.kind == PrimitiveKind::ThreadJoin {
                "joining"
            } else {
                "held by"
            };
            write!(f, "\n      {what} {holder:?}")?;
        }
        Ok(())
    }
}

/// One thread of a [`Dump`].
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let t = threadlet::Builder::new()
///     .name("idle")
///     .daemon(true)
///     .spawn(std::future::pending::<()>())
///     .unwrap();
/// let dump = threadlet::dump();
/// let idle = dump.thread("idle").unwrap();
/// assert!(idle.daemon && idle.alive);
/// assert!(idle.waits.is_empty()); // pending, but not in a threadlet primitive
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThreadDump {
    /// The thread's name (`Thread-N`, a given name, `MainThread`,
    /// `Dummy-<task id>` for a task threadlet did not start, or the OS
    /// thread's name for a `blocking_*` wait outside any task).
    pub name: String,
    /// The tokio task id, if it runs in a task.
    pub ident: Option<tokio::task::Id>,
    /// Whether it is a daemon thread.
    pub daemon: bool,
    /// Whether it is alive (started, not finished).
    pub alive: bool,
    /// Whether it is a plain OS thread waiting in a `blocking_*` form.
    pub os_thread: bool,
    /// What it waits on right now in a threadlet primitive (empty when it
    /// runs, or waits on something else; several for a `select!`).
    pub waits: Vec<WaitInfo>,
    pub(crate) key: u64,
    /// Listed by the thread registry (a threadlet thread or `MainThread`),
    /// not only found parked in a primitive.
    pub(crate) registered: bool,
}

impl fmt::Display for ThreadDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.name)?;
        if let Some(id) = self.ident {
            write!(f, " ident={id}")?;
        }
        if self.os_thread {
            f.write_str(" os-thread")?;
        }
        write!(f, " daemon={} alive={}", self.daemon, self.alive)?;
        if self.waits.is_empty() {
            f.write_str("\n   not waiting in a threadlet primitive")?;
        }
        for wait in &self.waits {
            write!(f, "\n   {wait}")?;
        }
        Ok(())
    }
}

/// A snapshot of every thread and what it waits on: threadlet's `jstack`.
/// See the [guide](super#debugging-a-stuck-program).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let q: threadlet::Queue<u32> = threadlet::Queue::new(0);
/// let q2 = q.clone();
/// let consumer = threadlet::Builder::new()
///     .name("consumer")
///     .spawn(async move { q2.get().await })
///     .unwrap();
/// while threadlet::dump().thread("consumer").is_none_or(|t| t.waits.is_empty()) {
///     tokio::task::yield_now().await;
/// }
/// let dump = threadlet::dump();
/// println!("{dump}");
/// let consumer_dump = dump.thread("consumer").unwrap();
/// assert_eq!(consumer_dump.waits[0].primitive.kind.to_string(), "Queue.get");
/// q.put(1).await.unwrap();
/// assert_eq!(consumer.join().await.unwrap(), Ok(1));
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Dump {
    /// Every registered thread, and every other task or OS thread parked in
    /// a threadlet primitive; sorted by name.
    pub threads: Vec<ThreadDump>,
}

impl Dump {
    /// The threads parked in a threadlet primitive.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadlet::dump().stalled().all(|t| !t.waits.is_empty()));
    /// ```
    pub fn stalled(&self) -> impl Iterator<Item = &ThreadDump> {
        self.threads.iter().filter(|t| !t.waits.is_empty())
    }

    /// Go's "all goroutines are asleep", for threadlet threads: whether
    /// some live thread is not a daemon, and every live threadlet thread
    /// (with `MainThread` while `run`'s main runs) waits in a threadlet
    /// primitive with no deadline — so none of them can wake another, and
    /// the program cannot end by itself.
    ///
    /// threadlet sees only its own threads: a task it did not start (a
    /// plain `tokio::spawn`, a `spawn_blocking` closure) or an OS thread may
    /// still set the event or put the item they wait for. So this is a
    /// proof only for a program whose every task is a threadlet thread; the
    /// watchdog of [`run`](crate::run) reports it only when the runtime has
    /// no other task alive and the same waits have lasted its whole limit
    /// (a waiter woken but not yet run still looks asleep for a moment).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let never = threadlet::Event::labeled("never set");
    /// let n = never.clone();
    /// let sleeper = threadlet::Builder::new()
    ///     .name("sleeper")
    ///     .spawn(async move { n.wait().await })
    ///     .unwrap();
    /// while threadlet::dump().thread("sleeper").is_none_or(|t| t.waits.is_empty()) {
    ///     tokio::task::yield_now().await;
    /// }
    /// // "sleeper" waits for ever — but this test's own task is running, and
    /// // other tests' threads may be too, so nothing is claimed here:
    /// let _maybe = threadlet::dump().all_asleep();
    /// never.set();
    /// sleeper.join().await.unwrap();
    /// # }
    /// ```
    #[must_use]
    pub fn all_asleep(&self) -> bool {
        let live = || self.threads.iter().filter(|t| t.registered && t.alive);
        live().any(|t| !t.daemon)
            && live().all(|t| !t.waits.is_empty() && t.waits.iter().all(|w| !w.deadline))
    }

    /// How many live threadlet threads run as tokio tasks (for the
    /// watchdog's count of the runtime's other tasks).
    pub(crate) fn tasks(&self) -> usize {
        self.threads
            .iter()
            .filter(|t| t.registered && t.alive && t.ident.is_some())
            .count()
    }

    /// What the registered threads wait on now, as comparable numbers (a
    /// wait that ends and starts again gets a new number).
    pub(crate) fn wait_key(&self) -> Vec<(u64, u64)> {
        let mut key: Vec<(u64, u64)> = self
            .threads
            .iter()
            .filter(|t| t.registered)
            .flat_map(|t| t.waits.iter().map(|w| (t.key, w.seq)))
            .collect();
        key.sort_unstable();
        key
    }

    /// The first thread named `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threadlet::dump().thread("no such thread").is_none());
    /// ```
    #[must_use]
    pub fn thread(&self, name: &str) -> Option<&ThreadDump> {
        self.threads.iter().find(|t| t.name == name)
    }

    /// Every wait on primitives labeled `label`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(threadlet::dump().waits_on("nobody waits here").count(), 0);
    /// ```
    pub fn waits_on<'a>(&'a self, label: &'a str) -> impl Iterator<Item = &'a WaitInfo> + 'a {
        self.threads
            .iter()
            .flat_map(|t| &t.waits)
            .filter(move |w| w.primitive.label.as_deref() == Some(label))
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "threadlet dump: {} threads, {} waiting in threadlet primitives",
            self.threads.len(),
            self.stalled().count()
        )?;
        for thread in &self.threads {
            write!(f, "\n{thread}\n")?;
        }
        Ok(())
    }
}

/// A name for an owner id nobody registered.
fn unknown(key: u64) -> String {
    if key & crate::sync::THREAD_TAG != 0 {
        format!("OS thread #{}", key & !crate::sync::THREAD_TAG)
    } else {
        format!("Dummy-{key}")
    }
}

/// Takes a snapshot: the registry's threads, then the wait records.
fn take() -> Dump {
    let now = Instant::now();
    let mut threads: Vec<ThreadDump> = Vec::new();
    let mut by_key: HashMap<u64, usize> = HashMap::new();
    for thread in crate::thread::registered() {
        let core = thread.core();
        let ident = core.ident();
        let key = ident.map_or(NO_HOLDER, crate::sync::task_owner);
        if key != NO_HOLDER {
            by_key.insert(key, threads.len());
        }
        threads.push(ThreadDump {
            name: core.name(),
            ident,
            daemon: core.is_daemon(),
            alive: core.is_alive(),
            os_thread: false,
            waits: Vec::new(),
            key,
            registered: true,
        });
    }
    let seen: Vec<Seen> = waits::snapshot();
    for record in &seen {
        let index = *by_key.entry(record.who).or_insert_with(|| {
            let (name, ident, daemon, alive) = match &record.thread {
                Some(thread) => {
                    let core = thread.core();
                    (core.name(), core.ident(), core.is_daemon(), core.is_alive())
                }
                None => (
                    record
                        .os_name
                        .clone()
                        .unwrap_or_else(|| unknown(record.who)),
                    None,
                    true,
                    true,
                ),
            };
            threads.push(ThreadDump {
                name,
                ident,
                daemon,
                alive,
                os_thread: record.os_name.is_some(),
                waits: Vec::new(),
                key: record.who,
                registered: false,
            });
            threads.len() - 1
        });
        threads[index].waits.push(WaitInfo {
            primitive: PrimitiveInfo::from_meta(&record.meta),
            waited: now.saturating_duration_since(record.since),
            deadline: record.timed,
            holder: None,
            seq: record.seq,
            holder_key: record.holder,
        });
    }
    let names: HashMap<u64, String> = threads
        .iter()
        .filter(|t| t.key != NO_HOLDER)
        .map(|t| (t.key, t.name.clone()))
        .collect();
    for thread in &mut threads {
        for wait in &mut thread.waits {
            if wait.holder_key != NO_HOLDER {
                wait.holder = Some(
                    names
                        .get(&wait.holder_key)
                        .cloned()
                        .unwrap_or_else(|| unknown(wait.holder_key)),
                );
            }
        }
    }
    threads.sort_by(|a, b| a.name.cmp(&b.name));
    Dump { threads }
}

/// Returns a snapshot of every thread and what it waits on: every
/// registered threadlet thread (name, ident, daemon, alive) and every task
/// or OS thread parked in a threadlet primitive, with the primitive's kind,
/// id, label, creation site, how long it has waited, whether the wait has a
/// deadline, and who holds the primitive where that is known.
///
/// It never blocks a waiter or a releaser for long: the primitives' fast
/// paths take no part in it, and it holds each shard of the registries only
/// while it copies it. Safe to call from any thread or task. A thread that
/// waits outside threadlet's primitives (a tokio channel, a sleep) is listed
/// without a wait. See the [guide](super#debugging-a-stuck-program).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let done = threadlet::Event::labeled("done");
/// let d = done.clone();
/// let t = threadlet::Builder::new()
///     .name("waiter")
///     .spawn(async move { d.wait().await })
///     .unwrap();
/// while threadlet::dump().waits_on("done").next().is_none() {
///     tokio::task::yield_now().await;
/// }
/// let dump = threadlet::dump();
/// let text = dump.to_string();
/// assert!(text.contains("\"waiter\""));
/// assert!(text.contains("Event"));
/// done.set();
/// t.join().await.unwrap();
/// # }
/// ```
#[must_use]
pub fn dump() -> Dump {
    take()
}

/// One cycle of the wait-for graph: every member waits on a Lock, an RLock
/// or a thread join whose holder is the next member.
///
/// # Examples
///
/// ```
/// // A program without deadlocks has none.
/// assert!(threadlet::deadlocks().is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Deadlock {
    /// The members in cycle order: each waits for the next, the last for
    /// the first. Their dump lines are what [`Display`](fmt::Display) prints.
    pub members: Vec<ThreadDump>,
    /// Whether some member's wait has a deadline, so the cycle may still
    /// end by a timeout.
    pub deadline: bool,
}

impl Deadlock {
    /// The names of the members, in cycle order.
    ///
    /// # Examples
    ///
    /// ```
    /// for cycle in threadlet::deadlocks() {
    ///     println!("{:?}", cycle.names());
    /// }
    /// ```
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        self.members.iter().map(|m| m.name.as_str()).collect()
    }

    /// One sentence: `Thread-1 holds lockA (file:line:col) and waits for
    /// lockB; Thread-2 holds lockB (...) and waits for lockA`.
    ///
    /// # Examples
    ///
    /// ```
    /// for cycle in threadlet::deadlocks() {
    ///     eprintln!("deadlock: {}", cycle.summary());
    /// }
    /// ```
    #[must_use]
    pub fn summary(&self) -> String {
        let n = self.members.len();
        let wait = |i: usize| &self.members[i].waits[0];
        let mut parts = Vec::with_capacity(n);
        for i in 0..n {
            let me = &self.members[i];
            let mine = wait(i);
            let held = wait((i + n - 1) % n);
            let next = &self.members[(i + 1) % n].name;
            let mut part = me.name.clone();
            if held.primitive.kind != PrimitiveKind::ThreadJoin {
                part.push_str(&format!(
                    " holds {} ({})",
                    held.primitive.name(),
                    held.primitive.site
                ));
                part.push_str(" and");
            }
            if mine.primitive.kind == PrimitiveKind::ThreadJoin {
                part.push_str(&format!(" waits to join {next}"));
            } else {
                part.push_str(&format!(" waits for {}", mine.primitive.name()));
            }
            if mine.deadline {
                part.push_str(" (with a deadline)");
            }
            parts.push(part);
        }
        parts.join("; ")
    }
}

impl fmt::Display for Deadlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "deadlock of {} threads: {}",
            self.members.len(),
            self.summary()
        )?;
        if self.deadline {
            writeln!(
                f,
                "(a wait in it has a deadline: it may still end by a timeout)"
            )?;
        }
        for member in &self.members {
            write!(f, "\n{member}\n")?;
        }
        Ok(())
    }
}

/// The cycles of one snapshot, each as member indexes in cycle order.
/// Only threads with exactly one wait take part (a `select!` over several
/// waits ends when any of them does).
fn cycles(dump: &Dump) -> Vec<Vec<usize>> {
    let index: HashMap<u64, usize> = dump
        .threads
        .iter()
        .enumerate()
        .filter(|(_, t)| t.key != NO_HOLDER)
        .map(|(i, t)| (t.key, i))
        .collect();
    let next = |i: usize| -> Option<usize> {
        let thread = &dump.threads[i];
        match thread.waits.as_slice() {
            [wait] if wait.primitive.kind.has_holder() && wait.holder_key != thread.key => {
                index.get(&wait.holder_key).copied()
            }
            _ => None,
        }
    };
    // A functional graph: follow each path, colouring as we go.
    let n = dump.threads.len();
    let mut colour = vec![0u8; n]; // 0 new, 1 on the current path, 2 done
    let mut found = Vec::new();
    for start in 0..n {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            if colour[i] == 2 {
                break;
            }
            if colour[i] == 1 {
                let from = path.iter().position(|&p| p == i).unwrap_or(0);
                found.push(path[from..].to_vec());
                break;
            }
            colour[i] = 1;
            path.push(i);
            at = next(i);
        }
        for i in path {
            colour[i] = 2;
        }
    }
    found
}

/// How long [`deadlocks`] waits before the snapshot that confirms a cycle.
const CONFIRM_AFTER: Duration = Duration::from_millis(1);

/// Returns every deadlock: the cycles of the wait-for graph (thread →
/// primitive it waits on → thread that holds it → …) over [`Lock`](crate::Lock)
/// (by its last acquirer, with [`set_track_holders`](super::set_track_holders)
/// on), [`RLock`](crate::RLock) (by its owner) and thread joins.
///
/// A cycle is reported only if a second snapshot, taken a millisecond after
/// the first, shows the same waits with the same holders, so waits that are
/// resolving are not reported (the call sleeps that millisecond only when
/// the first snapshot has a cycle). Cycles with a wait that has a deadline are
/// reported and marked ([`Deadlock::deadline`]). Never destructive: it only
/// reads, as [`dump`] does. Waits on other kinds (Event, Queue, Semaphore,
/// Condition) have no single holder and are not followed.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use threadlet::RLock;
///
/// let (a, b) = (RLock::labeled("A"), RLock::labeled("B"));
/// let gate = threadlet::Barrier::new(2).unwrap();
/// let spawn = |name: &str, first: RLock, second: RLock| {
///     let gate = gate.clone();
///     threadlet::Builder::new()
///         .name(name)
///         .daemon(true)
///         .spawn(async move {
///             let _first = first.lock().await;
///             gate.wait().await.unwrap();
///             let _second = second.lock().await;
///         })
///         .unwrap()
/// };
/// let _t1 = spawn("t1", a.clone(), b.clone());
/// let _t2 = spawn("t2", b, a);
/// let cycle = loop {
///     if let Some(cycle) = threadlet::deadlocks().into_iter().find(|c| c.names().contains(&"t1")) {
///         break cycle;
///     }
///     tokio::task::yield_now().await;
/// };
/// let mut names = cycle.names();
/// names.sort();
/// assert_eq!(names, ["t1", "t2"]);
/// println!("{cycle}");
/// # }
/// ```
#[must_use]
pub fn deadlocks() -> Vec<Deadlock> {
    let first = take();
    let candidates = cycles(&first);
    if candidates.is_empty() {
        return Vec::new();
    }
    // Give a waiter that is being woken (its wait about to end) a moment
    // to run; only when a cycle was seen, which is rare.
    std::thread::yield_now();
    std::thread::sleep(CONFIRM_AFTER);
    let second = take();
    let now: HashMap<u64, (u64, u64)> = second
        .threads
        .iter()
        .filter_map(|t| match t.waits.as_slice() {
            [wait] => Some((t.key, (wait.seq, wait.holder_key))),
            _ => None,
        })
        .collect();
    candidates
        .into_iter()
        .filter(|cycle| {
            cycle.iter().all(|&i| {
                let t = &first.threads[i];
                let w = &t.waits[0];
                now.get(&t.key) == Some(&(w.seq, w.holder_key))
            })
        })
        .map(|cycle| {
            let members: Vec<ThreadDump> =
                cycle.iter().map(|&i| first.threads[i].clone()).collect();
            let deadline = members.iter().any(|m| m.waits[0].deadline);
            Deadlock { members, deadline }
        })
        .collect()
}
