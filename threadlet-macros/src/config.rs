//! The attribute's options, checked: every mistake is a `syn::Error` spanned
//! at the option (or the part of the function) that is wrong.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, ItemFn, Lit, Meta, Path, Token};

/// Which attribute is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::Main => "threadlet::main",
            Self::Test => "threadlet::test",
        }
    }

    fn options(self) -> &'static str {
        match self {
            Self::Main => "`flavor`, `worker_threads`, `watchdog`, `crate`",
            Self::Test => "`flavor`, `worker_threads`, `start_paused`, `crate`",
        }
    }
}

/// The tokio runtime flavour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Flavor {
    fn parse(value: &str) -> Result<Self, String> {
        match value {
            "current_thread" => Ok(Self::CurrentThread),
            "multi_thread" => Ok(Self::MultiThread),
            "single_thread" | "basic_scheduler" => {
                Err("the single-threaded runtime flavor is called `current_thread`".to_owned())
            }
            "threaded_scheduler" => {
                Err("the multi-threaded runtime flavor is called `multi_thread`".to_owned())
            }
            other => Err(format!(
                "no such runtime flavor `{other}`; the flavors are `current_thread` and `multi_thread`"
            )),
        }
    }
}

/// A checked configuration.
pub(crate) struct Config {
    pub(crate) flavor: Flavor,
    pub(crate) worker_threads: Option<(usize, Span)>,
    pub(crate) start_paused: Option<(bool, Span)>,
    /// `watchdog = "5s"` of `#[threadlet::main]`, in nanoseconds.
    pub(crate) watchdog: Option<(u64, Span)>,
    pub(crate) krate: Option<Path>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads.map(|(n, _)| n))
            .field("start_paused", &self.start_paused.map(|(b, _)| b))
            .field("watchdog", &self.watchdog.map(|(n, _)| n))
            .field(
                "crate",
                &self.krate.as_ref().map(|p| quote::quote!(#p).to_string()),
            )
            .finish()
    }
}

impl Config {
    fn default_flavor(kind: Kind) -> Flavor {
        match kind {
            // `threadlet::run`'s: threads run in parallel, as Python's do.
            Kind::Main => Flavor::MultiThread,
            // `#[tokio::test]`'s.
            Kind::Test => Flavor::CurrentThread,
        }
    }

    /// What is expanded when the attribute has a mistake (the error is
    /// reported beside it).
    pub(crate) fn fallback(kind: Kind) -> Self {
        Self {
            flavor: Self::default_flavor(kind),
            worker_threads: None,
            start_paused: None,
            watchdog: None,
            krate: None,
        }
    }

    /// Checks the function and the options.
    pub(crate) fn parse(
        kind: Kind,
        input: &ItemFn,
        args: Punctuated<Meta, Token![,]>,
    ) -> syn::Result<Self> {
        check_function(kind, input)?;
        let mut flavor: Option<(Flavor, Span)> = None;
        let mut worker_threads = None;
        let mut start_paused = None;
        let mut watchdog = None;
        let mut krate = None;
        for arg in args {
            let name_value = match arg {
                Meta::NameValue(name_value) => name_value,
                Meta::Path(path) => {
                    let name = path_name(&path);
                    let msg = match name.as_str() {
                        "multi_thread" | "current_thread" => format!(
                            "set the runtime flavor with `#[{}(flavor = \"{name}\")]`",
                            kind.name()
                        ),
                        "flavor" | "worker_threads" | "start_paused" | "watchdog" | "crate" => {
                            format!("the `{name}` option needs a value: `{name} = …`")
                        }
                        _ => unknown(kind, &name),
                    };
                    return Err(syn::Error::new_spanned(path, msg));
                }
                Meta::List(list) => {
                    let msg = unknown(kind, &path_name(&list.path));
                    return Err(syn::Error::new_spanned(list, msg));
                }
            };
            let name = path_name(&name_value.path);
            let lit = match &name_value.value {
                Expr::Lit(ExprLit { lit, .. }) => lit,
                other => {
                    return Err(syn::Error::new_spanned(
                        other,
                        format!("the value of `{name}` must be a literal"),
                    ));
                }
            };
            let span = lit.span();
            let duplicate = || syn::Error::new(span, format!("`{name}` is set more than once"));
            match name.as_str() {
                "flavor" => {
                    if flavor.is_some() {
                        return Err(duplicate());
                    }
                    let value = string(lit, &name)?;
                    let parsed = Flavor::parse(&value).map_err(|msg| syn::Error::new(span, msg))?;
                    flavor = Some((parsed, span));
                }
                "worker_threads" => {
                    if worker_threads.is_some() {
                        return Err(duplicate());
                    }
                    let n = int(lit, &name)?;
                    if n == 0 {
                        return Err(syn::Error::new(span, "`worker_threads` may not be 0"));
                    }
                    worker_threads = Some((n, span));
                }
                "start_paused" if kind == Kind::Test => {
                    if start_paused.is_some() {
                        return Err(duplicate());
                    }
                    start_paused = Some((boolean(lit, &name)?, span));
                }
                "watchdog" if kind == Kind::Main => {
                    if watchdog.is_some() {
                        return Err(duplicate());
                    }
                    let text = string(lit, &name)?;
                    let nanos = parse_duration(&text)
                        .map_err(|msg| syn::Error::new(span, format!("`watchdog`: {msg}")))?;
                    watchdog = Some((nanos, span));
                }
                "crate" => {
                    if krate.is_some() {
                        return Err(duplicate());
                    }
                    let path = string(lit, &name)?;
                    let path = syn::parse_str::<Path>(&path).map_err(|_| {
                        syn::Error::new(span, format!("`crate` must be a path, not \"{path}\""))
                    })?;
                    krate = Some(path);
                }
                "core_threads" => {
                    return Err(syn::Error::new_spanned(
                        &name_value,
                        "`core_threads` is called `worker_threads`",
                    ));
                }
                _ => return Err(syn::Error::new_spanned(&name_value, unknown(kind, &name))),
            }
        }

        let flavor_value = flavor.map_or(Self::default_flavor(kind), |(f, _)| f);
        if let (Flavor::CurrentThread, Some((_, span))) = (flavor_value, worker_threads) {
            return Err(syn::Error::new(
                span,
                format!(
                    "`worker_threads` needs the `multi_thread` flavor: \
                     `#[{}(flavor = \"multi_thread\", worker_threads = …)]`",
                    kind.name()
                ),
            ));
        }
        if let (Flavor::MultiThread, Some((true, span))) = (flavor_value, start_paused) {
            return Err(syn::Error::new(
                span,
                format!(
                    "`start_paused` needs the `current_thread` flavor (tokio pauses the clock \
                     of a current-thread runtime only): `#[{}(start_paused = true)]`",
                    kind.name()
                ),
            ));
        }
        Ok(Self {
            flavor: flavor_value,
            worker_threads,
            start_paused,
            watchdog,
            krate,
        })
    }
}

fn check_function(kind: Kind, input: &ItemFn) -> syn::Result<()> {
    let sig = &input.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            sig.fn_token,
            "the `async` keyword is missing from the function declaration",
        ));
    }
    let what = match kind {
        Kind::Main => "the main function",
        Kind::Test => "a test function",
    };
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            format!("{what} cannot take arguments"),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            format!("{what} cannot be generic"),
        ));
    }
    if kind == Kind::Test
        && let Some(attr) = input.attrs.iter().find(|a| crate::is_test_attribute(a))
    {
        return Err(syn::Error::new_spanned(
            attr,
            "`#[threadlet::test]` already makes this a test: remove this `#[test]`",
        ));
    }
    Ok(())
}

fn path_name(path: &Path) -> String {
    path.get_ident()
        .map_or_else(|| quote::quote!(#path).to_string(), ToString::to_string)
}

fn unknown(kind: Kind, name: &str) -> String {
    format!(
        "unknown option `{name}` of `#[{}]`; the options are {}",
        kind.name(),
        kind.options()
    )
}

fn string(lit: &Lit, name: &str) -> syn::Result<String> {
    match lit {
        Lit::Str(s) => Ok(s.value()),
        other => Err(syn::Error::new_spanned(
            other,
            format!("the value of `{name}` must be a string, e.g. `{name} = \"…\"`"),
        )),
    }
}

fn int(lit: &Lit, name: &str) -> syn::Result<usize> {
    match lit {
        Lit::Int(n) => n.base10_parse::<usize>().map_err(|err| {
            syn::Error::new_spanned(n, format!("the value of `{name}` must be a number: {err}"))
        }),
        other => Err(syn::Error::new_spanned(
            other,
            format!("the value of `{name}` must be a number, e.g. `{name} = 2`"),
        )),
    }
}

/// Reads `"5s"`, `"500ms"`, `"1.5s"`, `"2m"`, `"1h"` (a number, then a unit
/// among `ms`, `s`, `m`, `h`; `"0"` alone turns the watchdog off) into
/// nanoseconds: the rules of threadlet's `THREADLET_WATCHDOG`.
fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(0);
    }
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| format!("\"{text}\" has no unit; write e.g. \"5s\" or \"500ms\""))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("\"{text}\" is not a duration like \"5s\" or \"500ms\""))?;
    let scale = match unit {
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        other => {
            return Err(format!(
                "unknown unit \"{other}\"; the units are ms, s, m, h"
            ));
        }
    };
    let nanos = number * scale;
    if !(0.0..=u64::MAX as f64).contains(&nanos) {
        return Err(format!("\"{text}\" is out of range"));
    }
    // In range and not negative: checked above.
    Ok(nanos.round() as u64)
}

fn boolean(lit: &Lit, name: &str) -> syn::Result<bool> {
    match lit {
        Lit::Bool(b) => Ok(b.value),
        other => Err(syn::Error::new_spanned(
            other,
            format!("the value of `{name}` must be `true` or `false`"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;
    use syn::parse::Parser;

    fn parse(kind: Kind, args: proc_macro2::TokenStream) -> syn::Result<Config> {
        let input: ItemFn = syn::parse2(quote!(
            async fn f() {}
        ))
        .unwrap();
        let args = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
        Config::parse(kind, &input, args)
    }

    fn error(kind: Kind, args: proc_macro2::TokenStream) -> String {
        parse(kind, args).unwrap_err().to_string()
    }

    #[test]
    fn defaults_follow_run_and_tokio_test() {
        assert_eq!(
            parse(Kind::Main, quote!()).unwrap().flavor,
            Flavor::MultiThread
        );
        assert_eq!(
            parse(Kind::Test, quote!()).unwrap().flavor,
            Flavor::CurrentThread
        );
    }

    #[test]
    fn every_option_is_read() {
        let c = parse(
            Kind::Test,
            quote!(
                flavor = "multi_thread",
                worker_threads = 3,
                crate = "::x::threadlet"
            ),
        )
        .unwrap();
        assert_eq!(c.flavor, Flavor::MultiThread);
        assert_eq!(c.worker_threads.map(|(n, _)| n), Some(3));
        assert!(c.krate.is_some());
        let c = parse(Kind::Test, quote!(start_paused = true)).unwrap();
        assert_eq!(c.start_paused.map(|(b, _)| b), Some(true));
        let c = parse(Kind::Main, quote!(watchdog = "1.5s")).unwrap();
        assert_eq!(c.watchdog.map(|(n, _)| n), Some(1_500_000_000));
        let c = parse(Kind::Main, quote!(watchdog = "500ms")).unwrap();
        assert_eq!(c.watchdog.map(|(n, _)| n), Some(500_000_000));
    }

    #[test]
    fn mistakes_are_named() {
        assert!(error(Kind::Test, quote!(flavour = "x")).contains("unknown option `flavour`"));
        assert!(error(Kind::Main, quote!(start_paused = true)).contains("unknown option"));
        assert!(error(Kind::Test, quote!(worker_threads = 0)).contains("may not be 0"));
        assert!(error(Kind::Test, quote!(worker_threads = 2)).contains("`multi_thread` flavor"));
        assert!(
            error(
                Kind::Test,
                quote!(flavor = "multi_thread", start_paused = true)
            )
            .contains("`current_thread` flavor")
        );
        assert!(error(Kind::Test, quote!(flavor = "fast")).contains("no such runtime flavor"));
        assert!(error(Kind::Test, quote!(flavor = 1)).contains("must be a string"));
        assert!(error(Kind::Main, quote!(worker_threads = "2")).contains("must be a number"));
        assert!(error(Kind::Test, quote!(start_paused = 1)).contains("`true` or `false`"));
        assert!(error(Kind::Test, quote!(multi_thread)).contains("flavor = \"multi_thread\""));
        assert!(error(Kind::Test, quote!(flavor)).contains("needs a value"));
        assert!(
            error(
                Kind::Test,
                quote!(flavor = "multi_thread", flavor = "multi_thread")
            )
            .contains("more than once")
        );
        assert!(error(Kind::Main, quote!(crate = "not a path")).contains("must be a path"));
        assert!(error(Kind::Main, quote!(watchdog = "5")).contains("has no unit"));
        assert!(error(Kind::Main, quote!(watchdog = "5d")).contains("unknown unit"));
        assert!(error(Kind::Main, quote!(watchdog = 5)).contains("must be a string"));
        assert!(error(Kind::Test, quote!(watchdog = "5s")).contains("unknown option"));
    }

    #[test]
    fn the_function_is_checked() {
        let check = |item: proc_macro2::TokenStream, kind| {
            let input: ItemFn = syn::parse2(item).unwrap();
            check_function(kind, &input).unwrap_err().to_string()
        };
        assert!(
            check(
                quote!(
                    fn main() {}
                ),
                Kind::Main
            )
            .contains("`async` keyword is missing")
        );
        assert!(
            check(
                quote!(
                    async fn main(x: u8) {}
                ),
                Kind::Main
            )
            .contains("arguments")
        );
        assert!(
            check(
                quote!(
                    async fn t<T>() {}
                ),
                Kind::Test
            )
            .contains("generic")
        );
        assert!(
            check(
                quote!(
                    #[test]
                    async fn t() {}
                ),
                Kind::Test
            )
            .contains("remove this")
        );
    }
}
