//! The connection to Redis and the server-side scripts every queue operation
//! runs: one Lua prelude (key names, the wake-up signals, lease reclaim) shared
//! by all scripts, so each operation is one atomic script call.
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

/// Length of the member header (`t1` + 16 + 15).
pub(crate) const HEADER: usize = 33;
/// The first bytes of every member written by `put`.
pub(crate) const MAGIC: &[u8; 2] = b"t1";

const PRELUDE: &str = r#"
local items, meta, leased, leases, deliv = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local sget, sput, sjoin = KEYS[6], KEYS[7], KEYS[8]
local function signal(k)
  if redis.call('LLEN', k) == 0 then redis.call('RPUSH', k, '1') end
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function maxsize() return tonumber(redis.call('HGET', meta, 'maxsize') or '0') end
local function finish(n)
  -- (never HINCRBY by -0: Lua writes it "-0", which Redis refuses)
  local u = tonumber(redis.call('HGET', meta, 'unfinished') or '0')
  if n > 0 then u = redis.call('HINCRBY', meta, 'unfinished', -n) end
  if u <= 0 then
    redis.call('HSET', meta, 'unfinished', 0)
    signal(sjoin)
  end
end
local function reclaim(now)
  local due = redis.call('ZRANGEBYSCORE', leased, '-inf', now, 'LIMIT', 0, 256)
  if #due == 0 then return end
  local immediate = redis.call('HGET', meta, 'shutdown') == 'immediate'
  for _, tok in ipairs(due) do
    local m = redis.call('HGET', leases, tok)
    redis.call('HDEL', leases, tok)
    redis.call('ZREM', leased, tok)
    if m then
      if immediate then
        redis.call('HDEL', deliv, m)
        finish(1)
      else
        redis.call('ZADD', items, 0, m)
        redis.call('HINCRBY', meta, 'redelivered', 1)
      end
    end
  end
  if not immediate then signal(sget) end
end
"#;

/// ARGV: kind, maxsize. Returns {kind, maxsize} as stored.
const CREATE: &str = r#"
redis.call('HSETNX', meta, 'kind', ARGV[1])
redis.call('HSETNX', meta, 'maxsize', ARGV[2])
return {redis.call('HGET', meta, 'kind'), redis.call('HGET', meta, 'maxsize')}
"#;

/// ARGV: header prefix (magic + priority), lifo flag, payload.
/// Returns 1 put, 0 full, -1 shut down.
const PUT: &str = r#"
if redis.call('HGET', meta, 'shutdown') then
  signal(sput)
  return -1
end
local ms = maxsize()
local n = redis.call('ZCARD', items)
if ms > 0 and n >= ms then
  redis.call('DEL', sput)
  return 0
end
local seq = redis.call('HINCRBY', meta, 'seq', 1)
if ARGV[2] == '1' then seq = 999999999999999 - seq end
redis.call('ZADD', items, 0, ARGV[1] .. string.format('%015d', seq) .. ARGV[3])
if redis.call('HINCRBY', meta, 'unfinished', 1) == 1 then redis.call('DEL', sjoin) end
signal(sget)
if ms > 0 then
  if n + 1 >= ms then redis.call('DEL', sput) else signal(sput) end
end
return 1
"#;

/// ARGV: visibility timeout (ms). Returns {code, token or wait ms, member, deliveries}:
/// code 1 taken, 0 empty (second field: ms to the next lease expiry, -1 none),
/// -1 shut down.
const GET: &str = r#"
local now = now_ms()
reclaim(now)
local sd = redis.call('HGET', meta, 'shutdown')
if sd == 'immediate' then
  signal(sget)
  return {-1, 0, '', 0}
end
local popped = redis.call('ZPOPMIN', items)
if #popped == 0 then
  if sd then
    signal(sget)
    return {-1, 0, '', 0}
  end
  redis.call('DEL', sget)
  local nxt = redis.call('ZRANGE', leased, 0, 0, 'WITHSCORES')
  local wait = -1
  if #nxt > 0 then wait = math.max(0, tonumber(nxt[2]) - now) end
  return {0, wait, '', 0}
end
local m = popped[1]
local tok = redis.call('HINCRBY', meta, 'lease', 1)
redis.call('ZADD', leased, now + tonumber(ARGV[1]), tok)
redis.call('HSET', leases, tok, m)
local d = redis.call('HINCRBY', deliv, m, 1)
local left = redis.call('ZCARD', items)
if left > 0 then signal(sget) else redis.call('DEL', sget) end
local ms = maxsize()
if ms > 0 and left < ms then signal(sput) end
return {1, tok, m, d}
"#;

/// ARGV: token, counted flag. Returns 1 acknowledged, -1 not leased.
const ACK: &str = r#"
local m = redis.call('HGET', leases, ARGV[1])
if not m then return -1 end
redis.call('HDEL', leases, ARGV[1])
redis.call('ZREM', leased, ARGV[1])
redis.call('HDEL', deliv, m)
if ARGV[2] == '1' then finish(1) end
return 1
"#;

/// ARGV: token, ms. Returns 1 extended, 0 not leased.
const EXTEND: &str = r#"
if redis.call('HEXISTS', leases, ARGV[1]) == 0 then return 0 end
redis.call('ZADD', leased, 'XX', now_ms() + tonumber(ARGV[2]), ARGV[1])
return 1
"#;

/// Returns 1 when every item put was acknowledged.
const JOINED: &str = r#"
local u = tonumber(redis.call('HGET', meta, 'unfinished') or '0')
if u <= 0 then
  signal(sjoin)
  return 1
end
return 0
"#;

/// ARGV: immediate flag.
const SHUTDOWN: &str = r#"
if ARGV[1] == '1' then
  redis.call('HSET', meta, 'shutdown', 'immediate')
  local all = redis.call('ZRANGE', items, 0, -1)
  for _, m in ipairs(all) do redis.call('HDEL', deliv, m) end
  redis.call('DEL', items)
  finish(#all)
elseif not redis.call('HGET', meta, 'shutdown') then
  redis.call('HSET', meta, 'shutdown', '1')
end
signal(sget)
signal(sput)
return 1
"#;

/// Returns {len, unfinished, leased, redelivered, shutdown flag}.
const STATS: &str = r#"
return {redis.call('ZCARD', items), tonumber(redis.call('HGET', meta, 'unfinished') or '0'),
  redis.call('ZCARD', leased), tonumber(redis.call('HGET', meta, 'redelivered') or '0'),
  redis.call('HGET', meta, 'shutdown') and 1 or 0}
"#;

/// The full source (prelude included) of the put, get and ack scripts, and the
/// queue's key names in the order the scripts take them: for the bench that
/// measures the same server work pipelined from one client (the raw floor).
pub(crate) fn bench_scripts(name: &str) -> (Vec<(&'static str, String)>, Vec<String>) {
    let scripts = [("put", PUT), ("get", GET), ("ack", ACK)]
        .into_iter()
        .map(|(n, body)| (n, format!("{PRELUDE}{body}")))
        .collect();
    (scripts, Keys::new(name).all.to_vec())
}

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
        let k = |s: &str| format!("threadlet:{{{name}}}:{s}");
        Self {
            all: [
                k("items"),
                k("meta"),
                k("leased"),
                k("leases"),
                k("deliv"),
                k("sig:get"),
                k("sig:put"),
                k("sig:join"),
            ],
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

/// A caller's deadline: `None` is forever.
pub(crate) fn deadline(timeout: Duration) -> Option<Instant> {
    Instant::now().checked_add(timeout)
}

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
