//! Python's `threading.excepthook`: what happens when a thread panics.
//!
//! A process-wide panic hook, installed once when the first thread starts,
//! passes every panic outside threadlet threads to the hook that was there
//! before. For a panic inside a threadlet thread it records the panic's
//! message and location as *pending* on its OS thread instead of printing
//! it. The thread's wrapper catches the panic and calls the excepthook with
//! that record, in the failing thread, before the thread leaves the
//! registry; so `join` returns only after the hook has run, as in Python.
//!
//! No panic is lost on the way:
//! - a pending record that the excepthook does not take — the panic was
//!   caught inside the thread, or a `Drop` panicked while it unwound (the
//!   process is about to abort) — is printed as Rust prints a panic, at the
//!   next panic on that OS thread or when the thread's poll returns;
//! - the excepthook is given a record's location only when the record is
//!   the panic it reports (same message), never an earlier one (a
//!   `resume_unwind` has no location);
//! - under `panic = "abort"` nothing is ever caught, so the hook calls the
//!   excepthook itself, before the process aborts.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Once, RwLock};

use super::core::{self, Current, Shared, panic_message};
use super::registry;
use super::thread_ref::ThreadRef;

type Hook = Arc<dyn Fn(&ExceptHookArgs) + Send + Sync + 'static>;

static HOOK: RwLock<Option<Hook>> = RwLock::new(None);
static INSTALL: Once = Once::new();

/// A panic inside a threadlet thread that is not reported yet.
struct Pending {
    thread: String,
    message: String,
    location: Option<String>,
}

impl Pending {
    /// Prints it as Rust's default hook prints a panic, in one write.
    fn print(&self) {
        let mut text = format!("thread '{}' panicked", self.thread);
        if let Some(location) = &self.location {
            text.push_str(&format!(" at {location}"));
        }
        text.push_str(&format!(":\n{}\n", self.message));
        report_to_stderr(&text);
    }
}

/// Writes a report to stderr the way `eprint!` does, which is what libtest
/// captures: under `cargo test` a passing test's panicking threads stay
/// quiet (the report shows with the test's output if it fails, or with
/// `--nocapture`), while a normal program prints it. A direct
/// `std::io::stderr().write_all` would bypass the capture. The text goes out
/// in one call, under stderr's lock, so reports from several OS threads do
/// not interleave.
fn report_to_stderr(text: &str) {
    eprint!("{text}");
}

thread_local! {
    /// The panic inside a threadlet thread on this OS thread awaiting its report.
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
    /// Whether `PENDING` may hold a record: a plain flag, so that the check
    /// after every poll reads no `RefCell` and moves no record.
    static ANY_PENDING: Cell<bool> = const { Cell::new(false) };
}

/// Records a panic as pending, printing the one it replaces.
fn set_pending(pending: Pending) {
    ANY_PENDING.set(true);
    if let Some(old) = PENDING.with(|cell| cell.borrow_mut().replace(pending)) {
        old.print();
    }
}

/// Prints a pending panic nobody reported (it was caught inside the thread).
/// Called after each poll of a thread that returned normally; cheap when
/// there is none.
pub(crate) fn flush_pending() {
    if !ANY_PENDING.get() {
        return;
    }
    ANY_PENDING.set(false);
    if let Some(old) = PENDING.with(|cell| cell.borrow_mut().take()) {
        old.print();
    }
}

/// Takes the pending record if it is the panic whose message is `message`
/// and returns its location; a record of another panic is printed instead.
fn take_location(message: &str) -> Option<String> {
    let pending = PENDING.with(|cell| cell.borrow_mut().take())?;
    if pending.message == message {
        pending.location
    } else {
        pending.print();
        None
    }
}

/// What the excepthook is told about a thread's panic: Python's
/// `threading.ExceptHookArgs`.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::{Arc, Mutex};
///
/// let seen = Arc::new(Mutex::new(None));
/// let s = seen.clone();
/// threadlet::set_excepthook(move |args: &threadlet::ExceptHookArgs| {
///     *s.lock().unwrap() = Some((args.thread().name(), args.message().to_owned()));
/// });
/// let t = threadlet::Builder::new()
///     .name("bad")
///     .spawn(async { panic!("oops") })
///     .unwrap();
/// assert!(t.join().await.unwrap_err().is_panic());
/// assert_eq!(*seen.lock().unwrap(), Some(("bad".to_owned(), "oops".to_owned())));
/// # threadlet::set_excepthook(threadlet::default_excepthook);
/// # }
/// ```
pub struct ExceptHookArgs {
    thread: ThreadRef,
    message: String,
    location: Option<String>,
}

impl ExceptHookArgs {
    /// The thread that panicked (Python's `args.thread`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::sync::{Arc, Mutex};
    ///
    /// let failed = Arc::new(Mutex::new(Vec::new()));
    /// let f = failed.clone();
    /// threadlet::set_excepthook(move |args: &threadlet::ExceptHookArgs| {
    ///     f.lock().unwrap().push(args.thread().clone());
    /// });
    /// let t = threadlet::spawn(async { panic!("x") });
    /// let r = t.thread_ref();
    /// let _ = t.join().await;
    /// assert_eq!(*failed.lock().unwrap(), vec![r]);
    /// # threadlet::set_excepthook(threadlet::default_excepthook);
    /// # }
    /// ```
    pub fn thread(&self) -> &ThreadRef {
        &self.thread
    }

    /// The panic message (Python's `args.exc_value`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::sync::{Arc, Mutex};
    ///
    /// let messages = Arc::new(Mutex::new(Vec::new()));
    /// let m = messages.clone();
    /// threadlet::set_excepthook(move |args: &threadlet::ExceptHookArgs| {
    ///     m.lock().unwrap().push(args.message().to_owned());
    /// });
    /// let _ = threadlet::spawn(async { panic!("disk full: {}", "/tmp") }).join().await;
    /// assert_eq!(*messages.lock().unwrap(), vec!["disk full: /tmp"]);
    /// # threadlet::set_excepthook(threadlet::default_excepthook);
    /// # }
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where the panic happened, `file:line:column`, when known.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::sync::{Arc, Mutex};
    ///
    /// let seen = Arc::new(Mutex::new(None));
    /// let s = seen.clone();
    /// threadlet::set_excepthook(move |args: &threadlet::ExceptHookArgs| {
    ///     *s.lock().unwrap() = args.location().map(str::to_owned);
    /// });
    /// let _ = threadlet::spawn(async { panic!("here") }).join().await;
    /// assert!(seen.lock().unwrap().as_deref().unwrap().contains(".rs:"));
    /// # threadlet::set_excepthook(threadlet::default_excepthook);
    /// # }
    /// ```
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }
}

impl fmt::Debug for ExceptHookArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExceptHookArgs")
            .field("thread", &self.thread)
            .field("message", &self.message)
            .field("location", &self.location)
            .finish()
    }
}

/// The default excepthook (Python's `threading.__excepthook__`): prints
///
/// ```text
/// Exception in thread NAME:
/// panicked at FILE:LINE:COL:
/// MESSAGE
/// ```
///
/// to stderr in one write, without a backtrace.
///
/// # Examples
///
/// ```
/// // Put the default back after replacing it.
/// threadlet::set_excepthook(|_: &threadlet::ExceptHookArgs| {});
/// threadlet::set_excepthook(threadlet::default_excepthook);
/// ```
pub fn default_excepthook(args: &ExceptHookArgs) {
    let mut text = format!("Exception in thread {}:\n", args.thread.name());
    if let Some(location) = &args.location {
        text.push_str(&format!("panicked at {location}:\n"));
    }
    text.push_str(&args.message);
    text.push('\n');
    report_to_stderr(&text);
}

/// Replaces the excepthook: the function called, in the failing thread, when
/// a threadlet thread panics.
///
/// Python's `threading.excepthook = hook`. Process-wide. The thread counts as
/// alive while the hook runs, and its joiners wait for it. If the hook itself
/// panics, `Exception in threading.excepthook:` and the hook's panic message
/// are printed to stderr. Pass [`default_excepthook`] to restore the default.
///
/// To keep Rust's own panic report quiet for thread panics, threadlet installs
/// a process-wide panic hook (once, when the first thread starts) that passes
/// every other panic on to the hook that was there before. A panic hook set
/// later with `std::panic::set_hook` replaces it, and thread panics are then
/// reported by that hook too. A panic that the excepthook does not get (caught
/// inside the thread, or one that aborts the process while another unwinds)
/// is still printed, with its message and location, as Rust prints a panic.
/// Under `panic = "abort"` the excepthook is called from the panic hook,
/// before the process aborts.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// static PANICS: AtomicUsize = AtomicUsize::new(0);
/// threadlet::set_excepthook(|_: &threadlet::ExceptHookArgs| {
///     PANICS.fetch_add(1, Ordering::SeqCst);
/// });
/// let _ = threadlet::spawn(async { panic!("quiet") }).join().await;
/// assert_eq!(PANICS.load(Ordering::SeqCst), 1);
/// threadlet::set_excepthook(threadlet::default_excepthook);
/// # }
/// ```
pub fn set_excepthook<F>(hook: F)
where
    F: Fn(&ExceptHookArgs) + Send + Sync + 'static,
{
    let hook: Hook = Arc::new(hook);
    *HOOK.write().unwrap_or_else(|p| p.into_inner()) = Some(hook);
}

/// Installs the process-wide panic hook once (cheap after the first call).
pub(crate) fn install_panic_hook() {
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = core::current()
                .filter(|c| c.is_thread)
                .and_then(|_| registry::current_shared());
            let Some(thread) = thread else {
                return previous(info);
            };
            let message = panic_message(info.payload());
            let location = info.location().map(|l| l.to_string());
            if cfg!(panic = "abort") {
                // Nothing will catch it: report it now, the process aborts next.
                flush_pending();
                call_hook(&ExceptHookArgs {
                    thread: ThreadRef::from_shared(thread),
                    message,
                    location,
                });
            } else {
                set_pending(Pending {
                    thread: thread.core().name(),
                    message,
                    location,
                });
            }
        }));
    });
}

/// Calls the excepthook for a panic caught in `thread` (whose values are
/// `me`), with it still the current thread.
pub(crate) fn report(me: Current, thread: Shared, message: &str) {
    let args = ExceptHookArgs {
        thread: ThreadRef::from_shared(thread),
        message: message.to_owned(),
        location: take_location(message),
    };
    let outcome = core::run_as(me, || catch_unwind(AssertUnwindSafe(|| call_hook(&args))));
    if let Err(payload) = outcome {
        let message = panic_message(&*payload);
        // The hook's own panic is reported here, not left pending.
        let _ = take_location(&message);
        report_to_stderr(&format!("Exception in threading.excepthook:\n{message}\n"));
    }
}

/// Calls the excepthook that is set (or the default one).
fn call_hook(args: &ExceptHookArgs) {
    let hook = HOOK.read().unwrap_or_else(|p| p.into_inner()).clone();
    match &hook {
        Some(hook) => hook(args),
        None => default_excepthook(args),
    }
}
