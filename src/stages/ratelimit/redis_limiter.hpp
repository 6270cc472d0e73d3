#pragma once
// RPM, TPM and concurrency limits kept in Redis, shared by every replica (docs/deployment.md):
// the same reserve-then-settle semantics as KeyLimiter, with each admission and each settlement
// one atomic Lua script (redis_scripts.hpp). A request's concurrency slot is a member with a
// lease: a replica that dies mid-request leaves a slot that expires after `lease`, never one
// held forever.
// Blocking: each call is one Redis round trip (bounded by the connection's timeout). Not
// thread-safe: use it from the one thread that owns the connection (server/shared_limits.hpp).

#include <chrono>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "redis/connection.hpp"
#include "redis/script.hpp"
#include "stages/ratelimit/registry.hpp"
#include "stages/ratelimit/shared_reservation.hpp"

namespace sluice::stages::ratelimit {

class RedisLimiter {
 public:
  // `conn` must outlive the limiter. Keys are "<prefix><scope id>:rpm|tpm|conc".
  RedisLimiter(redis::Connection& conn, std::string prefix, std::chrono::milliseconds lease);

  struct Decision {
    bool admitted = false;
    Refusal refusal;  // when not admitted
  };
  // Admits `ticket` (its scopes' limits, `ticket.tokens` for TPM) all-or-nothing. An error only
  // when Redis could not be asked (unreachable, timed out, or a script error).
  Result<Decision> admit(const SharedTicket& ticket);
  // Frees the ticket's slots and settles its TPM reservation with `actual` tokens. Idempotent.
  Result<bool> settle(const SharedTicket& ticket, double actual);
  // A PING, to know whether Redis is back.
  Result<bool> ping();

  std::chrono::milliseconds lease() const { return lease_; }

 private:
  std::vector<std::string> keys_of(const SharedTicket& ticket) const;

  redis::Connection& conn_;
  std::string prefix_;
  std::chrono::milliseconds lease_;
  redis::Script admit_, settle_;
};

}  // namespace sluice::stages::ratelimit
