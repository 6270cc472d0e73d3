#include "stages/ratelimit/redis_scripts.hpp"

#include <string>

namespace sluice::stages::ratelimit {

namespace {

// Shared by both scripts: now (ms, from Redis), the level of a bucket after refill, and writing
// a bucket back with an expiry for when it would be full again (a missing bucket is full).
constexpr const char* kBuckets = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function level(key, cap)
  local v = redis.call('HMGET', key, 't', 'ts')
  local tok, ts = tonumber(v[1]), tonumber(v[2])
  if tok == nil or ts == nil then return cap end
  if tok > cap then tok = cap end
  if now > ts then tok = math.min(cap, tok + (now - ts) * cap / 60000) end
  return tok
end
local function store(key, cap, tok)
  if tok >= cap then redis.call('DEL', key) return end
  redis.call('HSET', key, 't', string.format('%.17g', tok), 'ts', string.format('%d', now))
  local full = 1000
  if cap > 0 then full = math.ceil((cap - tok) * 60000 / cap) + 1000 end
  redis.call('PEXPIRE', key, full)
end
)lua";

constexpr const char* kAdmitBody = R"lua(
local member, tokens, lease, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function wait(missing, cap)
  if cap <= 0 then return 0 end
  return math.ceil(missing * 60000 / cap)
end
local take = {}
for i = 0, n - 1 do
  local rpm, tpm, conc = tonumber(ARGV[5 + i * 3]), tonumber(ARGV[6 + i * 3]), tonumber(ARGV[7 + i * 3])
  local krpm, ktpm, kconc = KEYS[1 + i * 3], KEYS[2 + i * 3], KEYS[3 + i * 3]
  if conc >= 0 then
    redis.call('ZREMRANGEBYSCORE', kconc, '-inf', now)
    if redis.call('ZCARD', kconc) >= conc then return {0, i, 3, 1000, 0} end
  end
  if rpm >= 0 then
    local l = level(krpm, rpm)
    if l < 1 then
      if rpm < 1 then return {0, i, 1, 0, 0} end
      return {0, i, 1, wait(1 - l, rpm), 0}
    end
    take[#take + 1] = {krpm, rpm, l - 1}
  end
  if tpm >= 0 then
    if tokens > tpm then return {0, i, 2, 0, 1} end
    local l = level(ktpm, tpm)
    if l < tokens then return {0, i, 2, wait(tokens - l, tpm), 0} end
    take[#take + 1] = {ktpm, tpm, l - tokens}
  end
end
for _, b in ipairs(take) do store(b[1], b[2], b[3]) end
for i = 0, n - 1 do
  if tonumber(ARGV[7 + i * 3]) >= 0 then
    local kconc = KEYS[3 + i * 3]
    redis.call('ZADD', kconc, now + lease, member)
    local last = redis.call('ZRANGE', kconc, -1, -1, 'WITHSCORES')
    redis.call('PEXPIREAT', kconc, math.max(now + lease, tonumber(last[2])))
  end
end
return {1}
)lua";

constexpr const char* kSettleBody = R"lua(
local member, reserved, actual, n, marker_ms = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
-- Only a TPM credit must not apply twice (removing a member is idempotent by itself): the
-- marker is written only then, so RPM- and concurrency-only requests leave nothing behind.
local credit = reserved ~= actual
local needs = false
for i = 0, n - 1 do
  if tonumber(ARGV[7 + i * 3]) >= 0 then needs = true end
end
local applied = 1
if credit and needs and not redis.call('SET', KEYS[n * 3 + 1], '1', 'NX', 'PX', marker_ms) then
  credit = false
  applied = 0
end
for i = 0, n - 1 do
  local tpm, conc = tonumber(ARGV[7 + i * 3]), tonumber(ARGV[8 + i * 3])
  if conc >= 0 then redis.call('ZREM', KEYS[3 + i * 3], member) end
  if credit and tpm >= 0 then
    local ktpm = KEYS[2 + i * 3]
    store(ktpm, tpm, math.min(tpm, level(ktpm, tpm) + reserved - actual))
  end
end
return applied
)lua";

}  // namespace

std::string admit_script() { return std::string(kBuckets) + kAdmitBody; }
std::string settle_script() { return std::string(kBuckets) + kSettleBody; }

}  // namespace sluice::stages::ratelimit
