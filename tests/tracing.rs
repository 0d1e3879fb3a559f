//! The `tracing` feature: each threadlet thread runs inside a span `thread`
//! with its name, ident and daemon flag. Checked with a small recording
//! subscriber (installed per test, on the test's one OS thread: every
//! test here runs a current-thread runtime).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// A span as the subscriber saw it.
#[derive(Clone, Debug, Default)]
struct SpanRecord {
    name: &'static str,
    fields: HashMap<String, String>,
    parent: Option<u64>,
}

#[derive(Default)]
struct State {
    spans: HashMap<u64, SpanRecord>,
    stack: Vec<u64>,
    /// Each event's fields (its text in `message`) and the spans entered
    /// when it was emitted, innermost last.
    events: Vec<(HashMap<String, String>, Vec<u64>)>,
}

#[derive(Clone, Default)]
struct Recorder {
    next: Arc<AtomicU64>,
    state: Arc<Mutex<State>>,
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut state = self.state.lock().unwrap();
        let parent = if attrs.is_contextual() {
            state.stack.last().copied()
        } else {
            attrs.parent().map(Id::into_u64)
        };
        let mut span = SpanRecord {
            name: attrs.metadata().name(),
            parent,
            ..SpanRecord::default()
        };
        attrs.record(&mut Fields(&mut span.fields));
        state.spans.insert(id, span);
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut state = self.state.lock().unwrap();
        if let Some(span) = state.spans.get_mut(&span.into_u64()) {
            values.record(&mut Fields(&mut span.fields));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        let mut state = self.state.lock().unwrap();
        let stack = state.stack.clone();
        state.events.push((fields, stack));
    }

    fn enter(&self, span: &Id) {
        self.state.lock().unwrap().stack.push(span.into_u64());
    }

    fn exit(&self, span: &Id) {
        let mut state = self.state.lock().unwrap();
        if let Some(at) = state.stack.iter().rposition(|&s| s == span.into_u64()) {
            state.stack.remove(at);
        }
    }
}

impl Recorder {
    /// The first event whose message starts with `prefix`: its fields and
    /// its innermost span.
    fn event(&self, prefix: &str) -> (HashMap<String, String>, SpanRecord) {
        let state = self.state.lock().unwrap();
        let (fields, stack) = state
            .events
            .iter()
            .find(|(f, _)| f.get("message").is_some_and(|m| m.starts_with(prefix)))
            .unwrap_or_else(|| panic!("no event {prefix:?}"));
        let span = state.spans[stack.last().expect("the event is in no span")].clone();
        (fields.clone(), span)
    }

    /// The innermost span around the event `message`.
    fn span_of(&self, message: &str) -> SpanRecord {
        self.event(message).1
    }

    fn span(&self, id: u64) -> SpanRecord {
        self.state.lock().unwrap().spans[&id].clone()
    }
}

/// Runs `body` on a current-thread runtime with a fresh recorder as the
/// subscriber of this OS thread.
fn traced<F: Future>(body: impl FnOnce() -> F) -> (F::Output, Recorder) {
    let recorder = Recorder::default();
    let out = tracing::subscriber::with_default(recorder.clone(), || {
        threadlet::RuntimeBuilder::new_current_thread().block_on(body())
    });
    (out, recorder)
}

#[test]
fn a_named_thread_runs_in_its_span() {
    let (ident, rec) = traced(|| async {
        let t = threadlet::Builder::new()
            .name("worker")
            .spawn(async { tracing::info!("hello from the worker") })
            .unwrap();
        let ident = t.ident().unwrap();
        t.join().await.unwrap();
        ident
    });
    let span = rec.span_of("hello from the worker");
    assert_eq!(span.name, "thread");
    assert_eq!(span.fields["name"], "worker");
    assert_eq!(span.fields["daemon"], "false");
    assert_eq!(span.fields["ident"], ident.to_string());
}

#[test]
fn unnamed_daemon_and_started_threads_have_spans_too() {
    let (names, rec) = traced(|| async {
        let spawned = threadlet::spawn(async { tracing::info!("spawned") });
        let daemon = threadlet::Builder::new()
            .daemon(true)
            .spawn(async { tracing::info!("daemon") })
            .unwrap();
        let started = threadlet::Thread::new(async { tracing::info!("started") });
        started.start().unwrap();
        let names = [spawned.name(), daemon.name(), started.name()];
        spawned.join().await.unwrap();
        daemon.join().await.unwrap();
        started.join().await.unwrap();
        names
    });
    let spawned = rec.span_of("spawned");
    assert_eq!(spawned.fields["name"], names[0]);
    assert!(names[0].starts_with("Thread-"), "{}", names[0]);
    let daemon = rec.span_of("daemon");
    assert_eq!(daemon.fields["name"], names[1]);
    assert_eq!(daemon.fields["daemon"], "true");
    let started = rec.span_of("started");
    assert_eq!(started.fields["name"], names[2]);
    assert!(started.fields.contains_key("ident"));
}

#[test]
fn a_thread_started_by_a_thread_is_inside_its_span() {
    let ((), rec) = traced(|| async {
        let outer = threadlet::Builder::new()
            .name("outer")
            .spawn(async {
                let inner = threadlet::Builder::new()
                    .name("inner")
                    .spawn(async { tracing::info!("from inner") })
                    .unwrap();
                inner.join().await.unwrap();
            })
            .unwrap();
        outer.join().await.unwrap();
    });
    let inner = rec.span_of("from inner");
    assert_eq!(inner.fields["name"], "inner");
    let parent = rec.span(inner.parent.expect("the inner span has a parent"));
    assert_eq!(parent.name, "thread");
    assert_eq!(parent.fields["name"], "outer");
}

#[test]
fn a_slow_wait_emits_a_debug_event_naming_the_primitive() {
    let ((), rec) = traced(|| async {
        let lock = threadlet::Lock::labeled("slowlock");
        let held = lock.lock().await;
        let l = lock.clone();
        let waiter = threadlet::Builder::new()
            .name("waiter")
            .spawn(async move { drop(l.lock().await) })
            .unwrap();
        while threadlet::dump().waits_on("slowlock").next().is_none() {
            tokio::task::yield_now().await;
        }
        // Real time (the wait is measured by the OS clock): well over the
        // 100 ms threshold.
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        drop(held);
        waiter.join().await.unwrap();
    });
    let (fields, span) = rec.event("slow wait");
    assert_eq!(fields["kind"], "Lock");
    assert_eq!(fields["label"], "slowlock");
    assert!(fields["created"].contains("tests/tracing.rs"), "{fields:?}");
    assert!(
        fields["waited_ms"].parse::<u64>().unwrap() >= 100,
        "{fields:?}"
    );
    assert!(fields["message"].contains("\"slowlock\""), "{fields:?}");
    assert_eq!(span.fields["name"], "waiter");
}
