//! The task wrapper under every thread (and under `run`'s main): it runs the
//! thread's future with "current thread" set, catches its panic, reports it,
//! and on any ending (value, panic, cancellation or runtime shutdown) leaves
//! the registry, stores the outcome, marks the thread done and wakes the
//! joiners. It sits above `core`, `registry` and `excepthook`, which know
//! nothing of it.

use std::any::Any;
use std::future::{Future, poll_fn};
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};

use super::core::{Current, Inner, Stage, Typed, lock, panic_message, run_as};
use super::error::JoinError;
use super::{excepthook, registry};

/// Polls `fut` once with `me` installed as the current thread, catching a
/// panic.
fn poll_step<F: Future>(
    me: Current,
    fut: Pin<&mut F>,
    cx: &mut Context<'_>,
) -> Poll<Result<F::Output, Box<dyn Any + Send>>> {
    let polled = run_as(me, || catch_unwind(AssertUnwindSafe(|| fut.poll(cx))));
    match polled {
        Ok(polled) => {
            // A panic caught inside the future is printed, not lost.
            excepthook::flush_pending();
            polled.map(Ok)
        }
        Err(payload) => Poll::Ready(Err(payload)),
    }
}

/// Runs `fut` with `me` installed as the current thread, catching a panic.
async fn poll_as<F: Future>(me: Current, fut: F) -> Result<F::Output, Box<dyn Any + Send>> {
    let mut fut = pin!(fut);
    poll_fn(|cx| poll_step(me, fut.as_mut(), cx)).await
}

/// Finishes a thread: leaves the registry, stores the outcome, marks it done
/// and wakes joiners. On drop without [`Finish::complete`] (the task was
/// cancelled or its runtime shut down) it finishes the thread as cancelled.
pub(crate) struct Finish<T: Send + 'static, I: Typed<T> = Inner<T>> {
    /// The thread, registered until finished.
    thread: Arc<I>,
    output: PhantomData<fn() -> T>,
}

impl<T: Send + 'static, I: Typed<T>> Finish<T, I> {
    /// The guard of a registered thread.
    pub(crate) fn new(thread: Arc<I>) -> Self {
        Self {
            thread,
            output: PhantomData,
        }
    }

    pub(crate) fn complete(self, outcome: Result<T, JoinError>) {
        self.finish(outcome);
        // Its drop sees the thread done and does nothing more.
    }

    fn finish(&self, outcome: Result<T, JoinError>) {
        let inner = self.thread.inner();
        // Python removes a thread from `_active` before `join` returns.
        registry::remove(inner.core.slot());
        *lock(&inner.stage) = Stage::Done(outcome);
        inner.core.mark_done();
    }
}

impl<T: Send + 'static, I: Typed<T>> Drop for Finish<T, I> {
    fn drop(&mut self) {
        // Completed already (the common case): no outcome to make and drop.
        // (Only `finish` marks a registered thread done.)
        if !self.thread.core().is_done() {
            self.finish(Err(JoinError::Cancelled));
        }
    }
}

/// Starts an already-marked-started thread: registers it and spawns the
/// wrapper on `handle` (on the current runtime when `None`). The task keeps
/// `thread`; the caller stores the returned handle
/// ([`Core::set_handle`](super::core::Core::set_handle)).
///
/// `map` turns the future's output into the thread's (`None`: cancelled); a
/// function item such as `Some`, so that it takes no room in the task.
pub(crate) fn launch<T, I, F, M>(
    thread: Arc<I>,
    fut: F,
    map: M,
    handle: Option<&tokio::runtime::Handle>,
) -> tokio::task::JoinHandle<()>
where
    T: Send + 'static,
    I: Typed<T>,
    F: Future + Send + 'static,
    M: Fn(F::Output) -> Option<T> + Send + 'static,
{
    excepthook::install_panic_hook();
    registry::insert(&thread);
    // The guard is made here, not when the task first runs: a task cancelled
    // before its first poll drops only its future, and must still finish.
    let task = ThreadTask::Running {
        fut,
        finish: Finish::<T, I>::new(thread),
        map,
    };
    match handle {
        Some(handle) => handle.spawn(task),
        None => tokio::spawn(task),
    }
}

pin_project_lite::pin_project! {
    /// The task a thread runs: its future, polled as the current thread,
    /// then the thread's finish. Written out rather than as an `async fn`,
    /// whose coroutine keeps its arguments and their moved copies side by
    /// side: this one is the future plus one pointer (`Finished` takes the
    /// pointer's niche), so tokio's task cell keeps its smallest size for a
    /// small future and spawning moves a small value instead of calling
    /// `memcpy` at each of tokio's moves (measured with callgrind).
    #[project = Proj]
    #[project_replace = ProjReplace]
    enum ThreadTask<T, I, F, M>
    where
        T: Send,
        T: 'static,
        I: Typed<T>,
    {
        Running {
            // Declared first, so that on cancellation the future is dropped
            // before `finish` finishes the thread.
            #[pin]
            fut: F,
            finish: Finish<T, I>,
            map: M,
        },
        Finished,
    }
}

impl<T, I, F, M> Future for ThreadTask<T, I, F, M>
where
    T: Send + 'static,
    I: Typed<T>,
    F: Future,
    M: Fn(F::Output) -> Option<T>,
{
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let (me, outcome) = match self.as_mut().project() {
            Proj::Running { fut, finish, .. } => {
                let me = Current::of(&finish.thread);
                match poll_step(me, fut, cx) {
                    Poll::Ready(outcome) => (me, outcome),
                    Poll::Pending => return Poll::Pending,
                }
            }
            // Polled again after it finished (tokio never does).
            Proj::Finished => return Poll::Ready(()),
        };
        // The future is dropped (in place) before the thread finishes.
        let ProjReplace::Running { finish, map, .. } = self.project_replace(ThreadTask::Finished)
        else {
            return Poll::Ready(());
        };
        let outcome = match outcome.map(map) {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(JoinError::Cancelled),
            Err(payload) => {
                let message = panic_message(&*payload);
                drop(payload);
                excepthook::report(me, finish.thread.clone(), &message);
                Err(JoinError::Panicked(message))
            }
        };
        finish.complete(outcome);
        Poll::Ready(())
    }
}

/// Runs `main` as `MainThread` on the current runtime: registers it, runs it
/// as a task, and once it has ended marks it done (a non-daemon thread
/// joining it returns then). Returns main's value or its panic payload; the
/// interpreter-exit wait and the runtime belong to the caller
/// ([`run`](crate::run)), which calls [`registry::end_main`] after shutdown.
pub(crate) async fn run_main<F>(main: F) -> Result<F::Output, Box<dyn Any + Send>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let inner = registry::new_main();
    registry::insert(&inner);
    let finish = Finish::<()>::new(inner.clone());
    let me = Current::of(&inner);
    let in_task = inner.clone();
    let task = tokio::spawn(async move {
        in_task.core.set_ident(tokio::task::id());
        drop(in_task);
        poll_as(me, main).await
    });
    inner.core.set_ident(task.id());
    let outcome = match task.await {
        Ok(outcome) => outcome,
        Err(err) if err.is_panic() => Err(err.into_panic()),
        Err(_) => Err(Box::new("the main task was cancelled") as _),
    };
    // Main is done (a non-daemon thread joining it returns now).
    finish.complete(match &outcome {
        Ok(_) => Ok(()),
        Err(payload) => Err(JoinError::Panicked(panic_message(&**payload))),
    });
    outcome
}
