//! The server-side Lua scripts every queue operation runs, and the key names
//! they take: one prelude (key names, the wake-up signals, lease reclaim)
//! shared by all scripts, so each operation is one atomic script call. See
//! [`conn`](super::conn) for the layout of a queue's keys.
//!
//! Plain constants and one function, with no imports: the cluster bench
//! includes this file (`#[path]`) to run exactly the server work of the
//! queue from a raw client.

/// The key names of queue `name`, in the order every script takes them
/// (`KEYS[1]` to `KEYS[8]`).
pub(crate) fn key_names(name: &str) -> [String; 8] {
    let k = |s: &str| format!("threadlet:{{{name}}}:{s}");
    [
        k("items"),
        k("meta"),
        k("leased"),
        k("leases"),
        k("deliv"),
        k("sig:get"),
        k("sig:put"),
        k("sig:join"),
    ]
}

pub(crate) const PRELUDE: &str = r#"
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
pub(crate) const CREATE: &str = r#"
redis.call('HSETNX', meta, 'kind', ARGV[1])
redis.call('HSETNX', meta, 'maxsize', ARGV[2])
return {redis.call('HGET', meta, 'kind'), redis.call('HGET', meta, 'maxsize')}
"#;

/// ARGV: header prefix (magic + priority), lifo flag, payload.
/// Returns 1 put, 0 full, -1 shut down.
pub(crate) const PUT: &str = r#"
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
pub(crate) const GET: &str = r#"
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
pub(crate) const ACK: &str = r#"
local m = redis.call('HGET', leases, ARGV[1])
if not m then return -1 end
redis.call('HDEL', leases, ARGV[1])
redis.call('ZREM', leased, ARGV[1])
redis.call('HDEL', deliv, m)
if ARGV[2] == '1' then finish(1) end
return 1
"#;

/// ARGV: token, ms. Returns 1 extended, 0 not leased.
pub(crate) const EXTEND: &str = r#"
if redis.call('HEXISTS', leases, ARGV[1]) == 0 then return 0 end
redis.call('ZADD', leased, 'XX', now_ms() + tonumber(ARGV[2]), ARGV[1])
return 1
"#;

/// Returns 1 when every item put was acknowledged.
pub(crate) const JOINED: &str = r#"
local u = tonumber(redis.call('HGET', meta, 'unfinished') or '0')
if u <= 0 then
  signal(sjoin)
  return 1
end
return 0
"#;

/// ARGV: immediate flag.
pub(crate) const SHUTDOWN: &str = r#"
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
pub(crate) const STATS: &str = r#"
return {redis.call('ZCARD', items), tonumber(redis.call('HGET', meta, 'unfinished') or '0'),
  redis.call('ZCARD', leased), tonumber(redis.call('HGET', meta, 'redelivered') or '0'),
  redis.call('HGET', meta, 'shutdown') and 1 or 0}
"#;
