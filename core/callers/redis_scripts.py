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

# KEYS: caller hash, caller rpm window, caller tpm window, model rpm window, model tpm window.
# ARGV: model rpm limit, model tpm limit (0: none), '1' for the owner (no caller record: only the
# model's limits apply). The caller's own limits are read from its hash,
# so a revoke or a change made by `scripts/callers` counts from the next call on.
# Returns {reason, retry_after_s, limit}: reason "ok", "revoked", "budget", "rpm", "tpm",
# "model_rpm" or "model_tpm".
ADMIT = """
local now = tonumber(redis.call('TIME')[1])
local c = redis.call('HMGET', KEYS[1], 'rpm', 'tpm', 'budget_tokens', 'spent', 'revoked', 'name')
if ARGV[3] ~= '1' and (not c[6] or (c[5] and c[5] ~= '')) then return {'revoked', 0, 0} end
local function num(v) if v and v ~= '' then return tonumber(v) end return 0 end
local rpm, tpm, budget, spent = num(c[1]), num(c[2]), num(c[3]), num(c[4])
local model_rpm, model_tpm = tonumber(ARGV[1]), tonumber(ARGV[2])
if budget > 0 and spent >= budget then return {'budget', 0, budget} end
local function check(key, limit, reason)
  if limit <= 0 then return nil end
  local flat = redis.call('HGETALL', key)
  local total, buckets = 0, {}
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
local refused = check(KEYS[2], rpm, 'rpm') or check(KEYS[3], tpm, 'tpm')
  or check(KEYS[4], model_rpm, 'model_rpm') or check(KEYS[5], model_tpm, 'model_tpm')
if refused then return refused end
if rpm > 0 then redis.call('HINCRBY', KEYS[2], now, 1); redis.call('EXPIRE', KEYS[2], 120) end
if model_rpm > 0 then redis.call('HINCRBY', KEYS[4], now, 1); redis.call('EXPIRE', KEYS[4], 120) end
return {'ok', 0, 0}
"""

# KEYS: caller hash, caller tpm window, model tpm window, usage hash, usage index set.
# ARGV: total, input, output, reasoning tokens, cost ('' when unpriced), count caller tpm (1/0),
# count model tpm (1/0), caller name, model, day, usage ttl (s), cached and cache-creation input tokens.
SETTLE = """
local now = tonumber(redis.call('TIME')[1])
local total = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HINCRBY', KEYS[1], 'spent', total) end
if ARGV[6] == '1' and total > 0 then redis.call('HINCRBY', KEYS[2], now, total); redis.call('EXPIRE', KEYS[2], 120) end
if ARGV[7] == '1' and total > 0 then redis.call('HINCRBY', KEYS[3], now, total); redis.call('EXPIRE', KEYS[3], 120) end
redis.call('HSET', KEYS[4], 'caller', ARGV[8], 'model', ARGV[9], 'day', ARGV[10])
redis.call('HINCRBY', KEYS[4], 'requests', 1)
redis.call('HINCRBY', KEYS[4], 'input_tokens', ARGV[2])
redis.call('HINCRBY', KEYS[4], 'output_tokens', ARGV[3])
redis.call('HINCRBY', KEYS[4], 'reasoning_tokens', ARGV[4])
redis.call('HINCRBY', KEYS[4], 'cached_input_tokens', ARGV[12])
redis.call('HINCRBY', KEYS[4], 'cache_creation_input_tokens', ARGV[13])
if ARGV[5] ~= '' then redis.call('HINCRBYFLOAT', KEYS[4], 'cost', ARGV[5]) end
redis.call('EXPIRE', KEYS[4], ARGV[11])
redis.call('SADD', KEYS[5], KEYS[4])
return 1
"""
