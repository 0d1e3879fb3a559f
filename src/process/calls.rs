//! A handle's spare call connection, shared by the `Queue` and `Pipe`
//! clients: a call takes it (or opens a new one), makes its exchange, and
//! hands it back. The connection remembers whether it is in non-blocking
//! mode, so a call switches the mode only when it must. A call dropped
//! midway drops its connection instead (the owner then undoes what that
//! call had not acknowledged).

use std::future::Future;
use std::os::unix::net::UnixStream;
use std::sync::Mutex;

use crate::wait::loom::lock;

/// At most one connection no call is using.
#[derive(Debug, Default)]
pub(crate) struct Idle(Mutex<Option<(UnixStream, bool)>>);

impl Idle {
    /// A connection in blocking mode: the spare one, or `open()`'s. `closed`
    /// is the error if the spare one cannot be switched.
    pub(crate) fn take_blocking<E>(
        &self,
        open: impl FnOnce() -> Result<UnixStream, E>,
        closed: E,
    ) -> Result<UnixStream, E> {
        let spare = lock(&self.0).take();
        match spare {
            Some((stream, false)) => Ok(stream),
            Some((stream, true)) => match stream.set_nonblocking(false) {
                Ok(()) => Ok(stream),
                Err(_) => Err(closed),
            },
            None => open(),
        }
    }

    /// An async connection: the spare one, or `open()`'s.
    pub(crate) async fn take_async<E, F>(
        &self,
        open: impl FnOnce() -> F,
        closed: E,
    ) -> Result<tokio::net::UnixStream, E>
    where
        F: Future<Output = Result<tokio::net::UnixStream, E>>,
    {
        let spare = lock(&self.0).take();
        match spare {
            Some((stream, nonblocking)) => {
                if !nonblocking && stream.set_nonblocking(true).is_err() {
                    return Err(closed);
                }
                tokio::net::UnixStream::from_std(stream).map_err(|_| closed)
            }
            None => open().await,
        }
    }

    /// Keeps a blocking-mode connection for the next call, unless another
    /// call already gave one back.
    pub(crate) fn give_back(&self, stream: UnixStream) {
        self.keep(stream, false);
    }

    /// Keeps an async connection (in non-blocking mode) for the next call.
    pub(crate) fn give_back_async(&self, stream: tokio::net::UnixStream) {
        if let Ok(stream) = stream.into_std() {
            self.keep(stream, true);
        }
    }

    fn keep(&self, stream: UnixStream, nonblocking: bool) {
        let mut spare = lock(&self.0);
        if spare.is_none() {
            *spare = Some((stream, nonblocking));
        }
    }
}
