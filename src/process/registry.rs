//! The table of process targets: key -> type-erased runner.
//!
//! The key is the target's type name (`std::any::type_name`), which for a `fn`
//! item is its path (`my_crate::worker`), so the parent and the re-executed
//! child name the same function without `unsafe` (procspawn transmutes a function
//! pointer instead). Each entry also keeps the `TypeId`: two closures that share
//! a type name make the key ambiguous, and using it is an error, never a wrong
//! call.

use std::any::TypeId;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::wait::loom::lock;

/// Why a runner could not produce a value (a panic unwinds through it instead).
pub(crate) enum RunFailure {
    Codec(String),
}

/// Decodes the arguments, runs the target and encodes its value.
pub(crate) type Runner = Arc<dyn Fn(&[u8]) -> Result<Vec<u8>, RunFailure> + Send + Sync>;

struct Entry {
    type_id: TypeId,
    /// `None` once a second type registered the same key.
    runner: Option<Runner>,
    /// For pools: decodes a `Vec` of arguments, runs each, encodes the `Vec`
    /// of values (one allocation per chunk, not per item). `None` for `ProcessRun`
    /// types and ambiguous keys.
    chunk_runner: Option<Runner>,
}

static REGISTRY: Mutex<BTreeMap<&'static str, Entry>> = Mutex::new(BTreeMap::new());

/// Why a key cannot be used.
pub(crate) enum Lookup {
    Unknown,
    Ambiguous,
}

fn insert(key: &'static str, type_id: TypeId, runner: Runner, chunk_runner: Option<Runner>) {
    let mut table = lock(&REGISTRY);
    match table.get_mut(key) {
        Some(entry) if entry.type_id != type_id => {
            entry.runner = None;
            entry.chunk_runner = None;
        }
        Some(_) => {}
        None => {
            table.insert(
                key,
                Entry {
                    type_id,
                    runner: Some(runner),
                    chunk_runner,
                },
            );
        }
    }
}

/// The chunk runner for `key` (pool workers).
pub(crate) fn lookup_chunk(key: &str) -> Option<Runner> {
    let table = lock(&REGISTRY);
    table.get(key).and_then(|e| e.chunk_runner.clone())
}

/// The runner for `key`, checking that it was registered by `type_id` when given.
pub(crate) fn lookup(key: &str, type_id: Option<TypeId>) -> Result<Runner, Lookup> {
    let table = lock(&REGISTRY);
    let entry = table.get(key).ok_or(Lookup::Unknown)?;
    if type_id.is_some_and(|id| id != entry.type_id) {
        return Err(Lookup::Ambiguous);
    }
    entry.runner.clone().ok_or(Lookup::Ambiguous)
}

/// The registry key of a target type.
pub(crate) fn key_of<F: ?Sized + 'static>() -> &'static str {
    std::any::type_name::<F>()
}

/// Registers a plain function as a process target (call mode 1).
///
/// The re-executed child finds its target in this table, so **register every
/// target before [`init`](super::init)**, in code that runs the same way in the
/// parent and in the child (typically the first lines of `main`). The key is
/// the function's path; registering the same function again does nothing. Use
/// named `fn` items: two closures in one function share a type name, and such
/// an ambiguous target fails to start with
/// [`ProcessStartError::AmbiguousTarget`](crate::error::ProcessStartError::AmbiguousTarget).
///
/// Arguments and the return value travel as serde values (postcard); pass
/// several arguments as a tuple.
///
/// # Examples
///
/// ```
/// use threadlet::process;
///
/// fn square(x: u64) -> u64 {
///     x * x
/// }
///
/// fn main() {
///     process::register(square);
///     process::init(); // a re-executed child runs `square` here and exits
///     // ... the parent goes on; see `Process` for starting one.
/// }
/// ```
pub fn register<A, R, F>(target: F)
where
    F: Fn(A) -> R + Send + Sync + 'static,
    A: DeserializeOwned,
    R: Serialize,
{
    let target = Arc::new(target);
    let f = Arc::clone(&target);
    let chunk_runner: Runner = Arc::new(move |bytes: &[u8]| {
        let args: Vec<A> = postcard::from_bytes(bytes)
            .map_err(|e| RunFailure::Codec(format!("cannot decode the arguments: {e}")))?;
        let values: Vec<R> = args.into_iter().map(|a| (*f)(a)).collect();
        postcard::to_stdvec(&values)
            .map_err(|e| RunFailure::Codec(format!("cannot encode the return value: {e}")))
    });
    let runner: Runner = Arc::new(move |bytes: &[u8]| {
        let args: A = postcard::from_bytes(bytes)
            .map_err(|e| RunFailure::Codec(format!("cannot decode the arguments: {e}")))?;
        let value = (*target)(args);
        postcard::to_stdvec(&value)
            .map_err(|e| RunFailure::Codec(format!("cannot encode the return value: {e}")))
    });
    insert(key_of::<F>(), TypeId::of::<F>(), runner, Some(chunk_runner));
}

/// A value that is its own process target: the article's call mode 2, where
/// Python subclasses `Process` and overrides `run()`.
///
/// The value is encoded in the parent, decoded in the child, and `run` consumes
/// it there; register the type with [`register_run`] and start it with
/// [`Process::from_run`](super::Process::from_run). The default process name is
/// the type's name plus a counter (`MyProcess-1`), as Python names subclasses.
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use threadlet::process::{self, ProcessRun};
///
/// #[derive(Serialize, Deserialize)]
/// struct Countdown {
///     from: u32,
/// }
///
/// impl ProcessRun for Countdown {
///     type Output = Vec<u32>;
///     fn run(self) -> Vec<u32> {
///         (0..=self.from).rev().collect()
///     }
/// }
///
/// fn main() {
///     process::register_run::<Countdown>();
///     process::init();
///     assert_eq!(Countdown { from: 2 }.run(), vec![2, 1, 0]);
/// }
/// ```
pub trait ProcessRun: Serialize + DeserializeOwned + 'static {
    /// What `run` hands back to the parent's `join`.
    type Output: Serialize + DeserializeOwned;

    /// The process body; runs in the child.
    fn run(self) -> Self::Output;
}

/// Registers a [`ProcessRun`] type as a process target (call mode 2).
///
/// The same rules as [`register`]: call it before [`init`](super::init), in code
/// the child runs too.
///
/// # Examples
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use threadlet::process::{self, ProcessRun};
///
/// #[derive(Serialize, Deserialize)]
/// struct Hello;
///
/// impl ProcessRun for Hello {
///     type Output = String;
///     fn run(self) -> String {
///         format!("hello from {}", process::current_process().name())
///     }
/// }
///
/// fn main() {
///     process::register_run::<Hello>();
///     process::init();
/// }
/// ```
pub fn register_run<T: ProcessRun>() {
    let runner: Runner = Arc::new(|bytes: &[u8]| {
        let value: T = postcard::from_bytes(bytes)
            .map_err(|e| RunFailure::Codec(format!("cannot decode the ProcessRun value: {e}")))?;
        let out = value.run();
        postcard::to_stdvec(&out)
            .map_err(|e| RunFailure::Codec(format!("cannot encode the return value: {e}")))
    });
    insert(key_of::<T>(), TypeId::of::<T>(), runner, None);
}
