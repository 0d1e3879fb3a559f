//! The attributes `#[threadlet::main]` and `#[threadlet::test]`.
//!
//! Use them through [threadlet](https://docs.rs/threadlet) (its `macros`
//! feature, on by default), as `#[threadlet::main]` and `#[threadlet::test]`:
//! they expand to calls of threadlet's public `RuntimeBuilder`, so they hold
//! no runtime logic of their own.
#![forbid(unsafe_code)]
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Attribute, ItemFn, Meta, Token};

mod config;

use config::{Config, Flavor, Kind};

/// Runs `async fn main` as Python runs a script: `threadlet::run` semantics.
///
/// ```
/// #[threadlet::main]
/// async fn main() {
///     // Not joined: main waits for it anyway, since it is not a daemon.
///     threadlet::spawn(async { println!("hello from {}", threadlet::current_thread().name()) });
///     assert_eq!(threadlet::current_thread().name(), "MainThread");
/// }
/// ```
///
/// It expands to `threadlet::RuntimeBuilder::new().run(…)`, so the program:
///
/// - calls `threadlet::process::init()` first (feature `process`): a child
///   process re-executed by `threadlet::process` runs its target there;
/// - runs the body on a new multi-thread tokio runtime as the thread
///   `MainThread` (a spawned task, so `RLock` ownership works in it);
/// - then waits for every non-daemon thread of its scope (the threads main
///   started, the threads those started, …), cancels the daemon ones and
///   returns main's value;
/// - if main panics, still waits for the non-daemon threads, then resumes
///   the panic: the process exits with Rust's panic exit code, 101 (Python
///   exits with 1 after an uncaught exception).
///
/// A `main` that returns a `Result` works as with a plain `fn main`: an
/// `Err` is printed and the process exits with 1.
///
/// ```
/// #[threadlet::main]
/// async fn main() -> Result<(), std::num::ParseIntError> {
///     let n: u32 = "42".parse()?;
///     let t = threadlet::spawn(async move { n + 1 });
///     assert_eq!(t.join().await.unwrap(), 43);
///     Ok(())
/// }
/// ```
///
/// # Options
///
/// | option | values | default |
/// |---|---|---|
/// | `flavor` | `"multi_thread"`, `"current_thread"` | `"multi_thread"` |
/// | `worker_threads` | a number ≥ 1 (`multi_thread` only) | one per CPU core |
/// | `watchdog` | a duration, e.g. `"5s"`, `"500ms"` (units `ms`, `s`, `m`, `h`; `"0"`: off) | off, or `THREADLET_WATCHDOG` |
/// | `crate` | the path of threadlet, e.g. `"::my_reexport::threadlet"` | `"::threadlet"` |
///
/// `watchdog` sets `RuntimeBuilder::watchdog`: when main has returned and
/// the program has waited longer than that for its non-daemon threads, or
/// when a deadlock cycle appears, threadlet's dump is printed to stderr.
///
/// ```
/// #[threadlet::main(watchdog = "5s")]
/// async fn main() {
///     threadlet::spawn(async {}).join().await.unwrap();
/// }
/// ```
///
/// ```
/// #[threadlet::main(worker_threads = 2)]
/// async fn main() {
///     assert_eq!(tokio::runtime::Handle::current().metrics().num_workers(), 2);
/// }
/// ```
///
/// Main's future must be `Send`, since it runs as a spawned task (as
/// `threadlet::run` requires).
///
/// # Errors
///
/// Mistakes in the attribute are compile errors pointing at the mistake:
///
/// ```compile_fail
/// #[threadlet::main(worker_threads = 0)] // error: `worker_threads` may not be 0
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[threadlet::main]
/// fn main() {} // error: the `async` keyword is missing from the function declaration
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on its own runtime, waiting for the threads it
/// started: `#[tokio::test]` plus a threadlet scope.
///
/// ```
/// #[threadlet::test]
/// async fn a_worker_finishes() {
///     let done = std::sync::Arc::new(threadlet::Event::new());
///     let d = done.clone();
///     // Not joined: the test waits for it, as `threadlet::run` would.
///     threadlet::spawn(async move { d.set() });
/// }
/// ```
///
/// It expands to a `#[test]` whose body is
/// `threadlet::RuntimeBuilder::new_current_thread().block_on(…)`: a new
/// tokio runtime for the test, the body run on the test's thread inside a
/// [`threadlet::scope`](https://docs.rs/threadlet/latest/threadlet/fn.scope.html),
/// which, when the body ends:
///
/// - waits for the non-daemon threads the test started (and the threads
///   those started), **and only those**: tests running in parallel never
///   wait for each other's threads;
/// - cancels the test's daemon threads;
/// - then shuts the runtime down.
///
/// If the body panics, the non-daemon threads are still waited for, then the
/// test fails with the panic. The body is not a threadlet thread:
/// `threadlet::current_thread()` is a dummy thread there, as in
/// `#[tokio::test]`, and its future need not be `Send`.
///
/// # Options
///
/// The options of `#[tokio::test]`:
///
/// | option | values | default |
/// |---|---|---|
/// | `flavor` | `"current_thread"`, `"multi_thread"` | `"current_thread"` |
/// | `worker_threads` | a number ≥ 1 (`multi_thread` only) | one per CPU core |
/// | `start_paused` | `true` / `false` (`current_thread` only; needs threadlet's `test-util` feature) | `false` |
/// | `crate` | the path of threadlet | `"::threadlet"` |
///
/// ```
/// use std::time::Duration;
///
/// #[threadlet::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn on_two_workers() {
///     assert_eq!(tokio::runtime::Handle::current().metrics().num_workers(), 2);
/// }
///
/// #[threadlet::test(start_paused = true)]
/// async fn an_hour_in_no_time() {
///     let t = threadlet::spawn(tokio::time::sleep(Duration::from_secs(3600)));
///     t.join().await.unwrap();
/// }
/// ```
///
/// (A `#[test]` function only exists in a test build, so these examples are
/// compiled, not run; `tests/macros.rs` in threadlet runs each option.)
///
/// `start_paused` pauses tokio's clock (`tokio::time::pause`), which only
/// tokio's `test-util` feature provides: enable it through threadlet,
/// `threadlet = { version = "…", features = ["test-util"] }` in
/// `[dev-dependencies]`.
///
/// # Errors
///
/// Mistakes in the attribute are compile errors pointing at the mistake:
///
/// ```compile_fail
/// #[threadlet::test(flavor = "current_thread", worker_threads = 2)] // error: needs `multi_thread`
/// async fn t() {}
/// ```
///
/// ```compile_fail
/// #[threadlet::test(flavour = "multi_thread")] // error: unknown option `flavour`
/// async fn t() {}
/// ```
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry(Kind::Test, args.into(), item.into()).into()
}

fn entry(kind: Kind, args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let input: ItemFn = match syn::parse2(item.clone()) {
        Ok(input) => input,
        // Not a function: give the item back with the error, so that the
        // error is the only one reported.
        Err(err) => return with_error(item, err),
    };
    let config = Punctuated::<Meta, Token![,]>::parse_terminated
        .parse2(args)
        .and_then(|args| Config::parse(kind, &input, args));
    match config {
        Ok(config) => expand(kind, input, &config),
        // Still expand (with defaults), so that the function's body is
        // type-checked and an IDE keeps working on it.
        Err(err) => with_error(expand(kind, input, &Config::fallback(kind)), err),
    }
}

fn with_error(mut tokens: TokenStream2, err: syn::Error) -> TokenStream2 {
    tokens.extend(err.into_compile_error());
    tokens
}

/// Whether `attr` is a test attribute: `#[test]`, `#[core::prelude::*::test]`,
/// `#[std::prelude::*::test]` (with or without leading `::`).
fn is_test_attribute(attr: &Attribute) -> bool {
    let Meta::Path(path) = &attr.meta else {
        return false;
    };
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segments.as_slice() {
        [test] => path.leading_colon.is_none() && test == "test",
        [krate, prelude, _, test] => {
            (krate == "core" || krate == "std") && prelude == "prelude" && test == "test"
        }
        _ => false,
    }
}

fn expand(kind: Kind, input: ItemFn, config: &Config) -> TokenStream2 {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
        ..
    } = input;
    let krate = config
        .krate
        .as_ref()
        .map_or_else(|| quote!(::threadlet), |path| path.to_token_stream());
    // Spans at the function's name: a type error in the expansion (say, a
    // future that is not `Send` for `main`) points at the function.
    let span = sig.ident.span();
    let output = sig.output.clone();
    let inner = match kind {
        Kind::Main => quote_spanned!(span=> __threadlet_main),
        Kind::Test => quote_spanned!(span=> __threadlet_test),
    };

    let mut builder = match config.flavor {
        Flavor::MultiThread => quote_spanned!(span=> #krate::RuntimeBuilder::new()),
        Flavor::CurrentThread => {
            quote_spanned!(span=> #krate::RuntimeBuilder::new_current_thread())
        }
    };
    if let Some((workers, workers_span)) = config.worker_threads {
        builder = quote_spanned!(workers_span=> #builder.worker_threads(#workers));
    }
    if let Some((nanos, watchdog_span)) = config.watchdog {
        builder = quote_spanned!(watchdog_span=>
            #builder.watchdog(::core::time::Duration::from_nanos(#nanos)));
    }
    if let Some((true, paused_span)) = config.start_paused {
        // The method exists only with threadlet's `test-util` feature: the
        // helper macro says so in a compile error instead of "no method".
        builder = quote_spanned!(paused_span=> #krate::__start_paused!(#builder));
    }
    let call = match kind {
        Kind::Main => quote_spanned!(span=> #builder.run(#inner())),
        Kind::Test => quote_spanned!(span=> #builder.block_on(#inner())),
    };

    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => quote!(),
    };
    sig.asyncness = None;
    // The body becomes an inner `async fn` with the same return type, so
    // that `?` and `return` in it mean what they mean in the written
    // function.
    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            async fn #inner() #output #block
            #call
        }
    }
}
