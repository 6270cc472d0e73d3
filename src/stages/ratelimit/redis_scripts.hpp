#pragma once
// The Lua scripts that keep RPM, TPM and concurrency limits in Redis (redis_limiter.hpp). Each
// runs atomically inside Redis, so replicas admitting at the same moment cannot both take the
// last token. Time is Redis's own (TIME), so the replicas' clocks do not matter.
//
// Layout: per scope, three keys: <prefix><scope>:rpm and :tpm (hashes {t = tokens, ts = ms})
// and :conc (a sorted set of request members scored by the time their lease expires). A missing
// bucket is full. Limits are passed per call, so a changed limit applies at once (the level is
// clamped to the new capacity).

#include <string>

namespace sluice::stages::ratelimit {

// KEYS: 3 per scope (rpm, tpm, conc). ARGV: member, tokens, lease_ms, scope count, then per
// scope rpm, tpm, concurrency (-1 = no such limit).
// Returns {1} when admitted (every bucket taken, the member added to every concurrency set), or
// {0, scope index, limit (1 rpm, 2 tpm, 3 concurrency), retry after ms, never fits (0/1)}.
// All or nothing: a refusal changes nothing but expired concurrency members.
std::string admit_script();

// KEYS: 3 per scope as above, then the settled marker of the member. ARGV: member, reserved,
// actual, scope count, the marker's lifetime in ms, then per scope rpm, tpm, concurrency.
// Removes the member from the concurrency sets and gives back (reserved - actual) TPM tokens (a
// negative difference is debt). Idempotent: a retried settlement (its first reply lost) within
// the marker's lifetime credits nothing twice; returns 1 when it applied, 0 when it had already.
std::string settle_script();

}  // namespace sluice::stages::ratelimit
