"""The Lua scripts that make the Redis store's checks atomic across every instance.

Redis runs a script alone, so "check every limit, then count the request" cannot interleave with
another instance's: with rpm=10 and any burst, exactly 10 pass. Time comes from Redis (TIME), so
instances with skewed clocks share one clock. Windows are hashes of one-second buckets
(second -> count) over the last 60 s: a sliding minute, exact to the second, with at most 60 fields.
"""

from __future__ import annotations

# KEYS[1] key:<hash> -> caller name. ARGV[1] the key prefix. One round trip per lookup.
FIND = """
local name = redis.call('GET', KEYS[1])
if not name then return false end
local fields = redis.call('HGETALL', ARGV[1] .. 'caller:' .. name)
if #fields == 0 then return false end
return fields
"""

# KEYS: caller hash, caller rpm window, caller tpm window, model rpm window, model tpm window,
# caller reservations, model reservations.
# ARGV: model rpm limit, model tpm limit (0: none), '1' for the owner (no caller record: only the
# model's limits apply), tokens to reserve, the reservation's id, its ttl (s), '1' to only check (the
# check before a body is read: nothing counted, nothing reserved). The caller's own limits are read
# from its hash, so a revoke or a change made by `scripts/callers` counts from the next call on.
# Reservations are sorted sets of "<tokens>:<id>" scored by when they expire: a reservation whose
# instance died mid-call lapses then. tpm and budget count what is spent plus what is reserved.
# Returns {reason, retry_after_s, limit}: reason "ok", "revoked", "budget", "budget_reserved", "rpm",
# "tpm", "model_rpm" or "model_tpm".
ADMIT = """
local now = tonumber(redis.call('TIME')[1])
local c = redis.call('HMGET', KEYS[1], 'rpm', 'tpm', 'budget_tokens', 'spent', 'revoked', 'name')
if ARGV[3] ~= '1' and (not c[6] or (c[5] and c[5] ~= '')) then return {'revoked', 0, 0} end
local function num(v) if v and v ~= '' then return tonumber(v) end return 0 end
local rpm, tpm, budget, spent = num(c[1]), num(c[2]), num(c[3]), num(c[4])
local model_rpm, model_tpm = tonumber(ARGV[1]), tonumber(ARGV[2])
local holds_caller = ARGV[3] ~= '1' and (tpm > 0 or budget > 0)
local function reserved(key)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local total = 0
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do total = total + tonumber(string.match(member, '^(%d+):')) end
  return total
end
local caller_reserved = holds_caller and reserved(KEYS[6]) or 0
local model_reserved = model_tpm > 0 and reserved(KEYS[7]) or 0
if budget > 0 and spent >= budget then return {'budget', 0, budget} end
if budget > 0 and spent + caller_reserved >= budget then return {'budget_reserved', 1, budget} end
local function check(key, limit, reason, held)
  if limit <= 0 then return nil end
  local flat = redis.call('HGETALL', key)
  local total, buckets = held, {}
  for i = 1, #flat, 2 do
    local second, n = tonumber(flat[i]), tonumber(flat[i + 1])
    if second <= now - 60 then redis.call('HDEL', key, flat[i])
    else total = total + n; buckets[#buckets + 1] = {second, n} end
  end
  if total < limit then return nil end
  table.sort(buckets, function(a, b) return a[1] < b[1] end)
  for _, b in ipairs(buckets) do
    total = total - b[2]
    if total < limit then return {reason, b[1] + 60 - now, limit} end
  end
  return {reason, 1, limit}
end
local refused = check(KEYS[2], rpm, 'rpm', 0) or check(KEYS[3], tpm, 'tpm', caller_reserved)
  or check(KEYS[4], model_rpm, 'model_rpm', 0) or check(KEYS[5], model_tpm, 'model_tpm', model_reserved)
if refused then return refused end
if ARGV[7] == '1' then return {'ok', 0, 0} end
if rpm > 0 then redis.call('HINCRBY', KEYS[2], now, 1); redis.call('EXPIRE', KEYS[2], 120) end
if model_rpm > 0 then redis.call('HINCRBY', KEYS[4], now, 1); redis.call('EXPIRE', KEYS[4], 120) end
local reserve, ttl = tonumber(ARGV[4]), tonumber(ARGV[6])
if reserve > 0 then
  local member = ARGV[4] .. ':' .. ARGV[5]
  if holds_caller then redis.call('ZADD', KEYS[6], now + ttl, member); redis.call('EXPIRE', KEYS[6], ttl) end
  if model_tpm > 0 then redis.call('ZADD', KEYS[7], now + ttl, member); redis.call('EXPIRE', KEYS[7], ttl) end
end
return {'ok', 0, 0}
"""

# KEYS: caller hash, caller tpm window, model tpm window, usage hash, usage index set, caller
# reservations, model reservations.
# ARGV: total, input, output, reasoning tokens, cost ('' when unpriced), count caller tpm (1/0),
# count model tpm (1/0), caller name, model, day, usage ttl (s), the reservation to release ('' none),
# cached and cache-creation input tokens. The tokens are counted and the reservation released in one
# step: no moment holds neither.
SETTLE = """
local now = tonumber(redis.call('TIME')[1])
if ARGV[12] ~= '' then redis.call('ZREM', KEYS[6], ARGV[12]); redis.call('ZREM', KEYS[7], ARGV[12]) end
local total = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'spent', total) end
if ARGV[6] == '1' and total > 0 then redis.call('HINCRBY', KEYS[2], now, total); redis.call('EXPIRE', KEYS[2], 120) end
if ARGV[7] == '1' and total > 0 then redis.call('HINCRBY', KEYS[3], now, total); redis.call('EXPIRE', KEYS[3], 120) end
redis.call('HSET', KEYS[4], 'caller', ARGV[8], 'model', ARGV[9], 'day', ARGV[10])
redis.call('HINCRBY', KEYS[4], 'requests', 1)
redis.call('HINCRBY', KEYS[4], 'input_tokens', ARGV[2])
redis.call('HINCRBY', KEYS[4], 'output_tokens', ARGV[3])
redis.call('HINCRBY', KEYS[4], 'reasoning_tokens', ARGV[4])
redis.call('HINCRBY', KEYS[4], 'cached_input_tokens', ARGV[13])
redis.call('HINCRBY', KEYS[4], 'cache_creation_input_tokens', ARGV[14])
if ARGV[5] ~= '' then redis.call('HINCRBYFLOAT', KEYS[4], 'cost', ARGV[5]) end
redis.call('EXPIRE', KEYS[4], ARGV[11])
redis.call('SADD', KEYS[5], KEYS[4])
return 1
"""
