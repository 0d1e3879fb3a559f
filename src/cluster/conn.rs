//! The connection to Redis and the compiled server-side scripts every queue
//! operation runs (their sources are in [`scripts`](super::scripts)).
//!
//! # Layout of one queue named `N` (all keys share the hash tag `{N}`)
//!
//! * `items` — a sorted set, every score 0, so members order
//!   lexicographically: `t1`, 16 hex digits of priority, 15 digits of sequence,
//!   then the postcard payload. FIFO counts the sequence up, LIFO down, priority
//!   puts the priority first: one structure, three orderings, stable.
//! * `leased` — sorted set lease token -> deadline (server ms);
//!   `leases` — hash token -> member; `deliv` — hash member -> deliveries.
//! * `meta` — hash: kind, maxsize, shutdown, seq, lease, unfinished, redelivered.
//! * `sig:get`, `sig:put`, `sig:join` — wake-up lists. A waiter blocks in
//!   `BLPOP` on one of them and re-runs its script when woken; every script keeps
//!   each list non-empty while its condition may hold (and deletes it when the
//!   condition is false), so a woken waiter that finds work left wakes the next.

use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::{AsyncConnectionConfig, FromRedisValue, Script};

use super::Options;
use super::error::ClusterError;
use super::scripts::{ACK, CREATE, EXTEND, GET, JOINED, PRELUDE, PUT, SHUTDOWN, STATS, key_names};

/// Length of the member header (`t1` + 16 + 15).
pub(crate) const HEADER: usize = 33;
/// The first bytes of every member written by `put`.
pub(crate) const MAGIC: &[u8; 2] = b"t1";

/// Every script, compiled once with the prelude.
pub(crate) struct Scripts {
    pub(crate) create: Script,
    pub(crate) put: Script,
    pub(crate) get: Script,
    pub(crate) ack: Script,
    pub(crate) extend: Script,
    pub(crate) joined: Script,
    pub(crate) shutdown: Script,
    pub(crate) stats: Script,
}

pub(crate) static SCRIPTS: LazyLock<Scripts> = LazyLock::new(|| {
    let s = |body: &str| Script::new(&format!("{PRELUDE}{body}"));
    Scripts {
        create: s(CREATE),
        put: s(PUT),
        get: s(GET),
        ack: s(ACK),
        extend: s(EXTEND),
        joined: s(JOINED),
        shutdown: s(SHUTDOWN),
        stats: s(STATS),
    }
});

/// The key names of one queue, in the order the prelude reads them.
#[derive(Debug, Clone)]
pub(crate) struct Keys {
    pub(crate) all: [String; 8],
}

impl Keys {
    pub(crate) fn new(name: &str) -> Self {
        Self {
            all: key_names(name),
        }
    }
    pub(crate) fn items(&self) -> &str {
        &self.all[0]
    }
    pub(crate) fn sig_get(&self) -> &str {
        &self.all[5]
    }
    pub(crate) fn sig_put(&self) -> &str {
        &self.all[6]
    }
    pub(crate) fn sig_join(&self) -> &str {
        &self.all[7]
    }
}

/// The least time a server round-trip gets when the caller's deadline is (almost)
/// reached: a last check after a wake-up at the deadline answers rather than
/// failing with `Timeout`. An unreachable server still fails within the caller's
/// timeout plus this.
const LAST_CHECK: Duration = Duration::from_millis(250);

/// The time one round-trip may take: the operation timeout, cut to the caller's
/// deadline (but not below [`LAST_CHECK`]).
fn round_trip(op_timeout: Duration, deadline: Option<Instant>) -> Duration {
    op_timeout.min(remaining(deadline).max(LAST_CHECK))
}

/// A caller's deadline, by the crate's one rule: `None` (forever) for
/// `Duration::MAX` or any timeout too large for the clock.
pub(crate) use crate::wait::timeout::deadline;

/// Time left before `deadline` (`Duration::MAX` for none).
pub(crate) fn remaining(deadline: Option<Instant>) -> Duration {
    deadline.map_or(Duration::MAX, |d| {
        d.saturating_duration_since(Instant::now())
    })
}

/// One client's connections to one server: a reconnecting multiplexed
/// connection for scripts, and a small pool of separate connections for
/// blocking waits (a `BLPOP` would stall everything multiplexed behind it).
pub(crate) struct Conn {
    client: redis::Client,
    manager: ConnectionManager,
    blockers: Mutex<Vec<MultiplexedConnection>>,
    pub(crate) options: Options,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("options", &self.options)
            .finish()
    }
}

impl Conn {
    /// Opens a connection (lazily: the first command connects, and reconnects
    /// after the server went away).
    pub(crate) fn open(url: &str, options: Options) -> Result<Arc<Self>, ClusterError> {
        let client =
            redis::Client::open(url).map_err(|e| ClusterError::InvalidUrl(e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(options.op_timeout))
            .set_response_timeout(None)
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(ClusterError::from)?;
        Ok(Arc::new(Self {
            client,
            manager,
            blockers: Mutex::new(Vec::new()),
            options,
        }))
    }

    /// Runs a script on the queue's keys, bounded by the operation timeout and
    /// the caller's deadline.
    pub(crate) async fn script<T: FromRedisValue>(
        &self,
        script: &Script,
        keys: &Keys,
        args: &[&[u8]],
        deadline: Option<Instant>,
    ) -> Result<T, ClusterError> {
        let mut inv = script.prepare_invoke();
        for k in &keys.all {
            inv.key(k);
        }
        for a in args {
            inv.arg(*a);
        }
        let mut con = self.manager.clone();
        let limit = round_trip(self.options.op_timeout, deadline);
        match tokio::time::timeout(limit, inv.invoke_async(&mut con)).await {
            Ok(r) => r.map_err(ClusterError::from),
            Err(_) => Err(ClusterError::Timeout),
        }
    }

    /// Runs one plain command on the multiplexed connection.
    pub(crate) async fn cmd<T: FromRedisValue>(
        &self,
        cmd: &redis::Cmd,
        deadline: Option<Instant>,
    ) -> Result<T, ClusterError> {
        let mut con = self.manager.clone();
        let limit = round_trip(self.options.op_timeout, deadline);
        match tokio::time::timeout(limit, cmd.query_async(&mut con)).await {
            Ok(r) => r.map_err(ClusterError::from),
            Err(_) => Err(ClusterError::Timeout),
        }
    }

    /// Runs a pipeline (a `MULTI` block when atomic) on the multiplexed connection.
    pub(crate) async fn pipe(&self, pipe: &redis::Pipeline) -> Result<(), ClusterError> {
        let mut con = self.manager.clone();
        match tokio::time::timeout(self.options.op_timeout, pipe.query_async::<()>(&mut con)).await
        {
            Ok(r) => r.map_err(ClusterError::from),
            Err(_) => Err(ClusterError::Timeout),
        }
    }

    /// Blocks on the wake-up list `key` for at most `wait`. Returns whether a
    /// signal was taken; errors only when the server did not answer.
    pub(crate) async fn block_on_signal(
        &self,
        key: &str,
        wait: Duration,
        deadline: Option<Instant>,
    ) -> Result<bool, ClusterError> {
        Ok(self.blpop(key, wait, deadline).await?.is_some())
    }

    /// `BLPOP key` for at most `wait` (rounded up to 10 ms) on a connection of
    /// its own, bounded by `deadline` too. `None` when nothing came.
    pub(crate) async fn blpop(
        &self,
        key: &str,
        wait: Duration,
        deadline: Option<Instant>,
    ) -> Result<Option<Vec<u8>>, ClusterError> {
        let wait = wait.max(Duration::from_millis(10));
        let pooled = self
            .blockers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let mut con = match pooled {
            Some(c) => c,
            None => {
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(self.options.op_timeout))
                    .set_response_timeout(None);
                match tokio::time::timeout(
                    round_trip(self.options.op_timeout, deadline),
                    self.client
                        .get_multiplexed_async_connection_with_config(&config),
                )
                .await
                {
                    Ok(c) => c.map_err(ClusterError::from)?,
                    Err(_) => return Err(ClusterError::Timeout),
                }
            }
        };
        let mut cmd = redis::cmd("BLPOP");
        cmd.arg(key).arg(wait.as_secs_f64());
        let limit = wait
            .saturating_add(self.options.op_timeout)
            .min(remaining(deadline).saturating_add(LAST_CHECK));
        // A connection whose BLPOP timed out on our side, or failed, is dropped,
        // never reused with a reply still in flight.
        let got: Option<(Vec<u8>, Vec<u8>)> =
            match tokio::time::timeout(limit, cmd.query_async(&mut con)).await {
                Ok(r) => r.map_err(ClusterError::from)?,
                Err(_) => return Err(ClusterError::Timeout),
            };
        self.blockers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(con);
        Ok(got.map(|(_, v)| v))
    }
}
