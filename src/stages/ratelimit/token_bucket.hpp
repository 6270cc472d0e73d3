#pragma once
// A token bucket (capacity + continuous refill) with reserve-then-settle semantics for the
// per-key and per-project limits of the ratelimit stage (issue: projects, keys, limits).
// TPM is reserved at admission (estimated input + max_tokens) and settled with the real usage
// when the request finishes, whatever way it finishes: unused tokens go back, extra usage is
// taken as debt (the bucket may go below zero, so the next requests wait for it).
// Not thread-safe: KeyLimiter (limiter.hpp) locks around it. Time comes from the caller.

#include <chrono>

#include "common/clock.hpp"

namespace sluice::stages::ratelimit {

class TokenBucket {
 public:
  // `per_minute` tokens refill over a minute; the bucket holds at most `per_minute` (a full
  // minute's worth), and starts full.
  TokenBucket(double per_minute, Clock::time_point now);

  struct Take {
    bool ok = false;
    std::chrono::milliseconds retry_after{0};  // when not ok: until `n` tokens are there
    double remaining = 0;                      // tokens left after the take (or now, if refused)
  };
  // Takes `n` tokens if that many are available. A request larger than the whole capacity can
  // never fit and is refused with retry_after 0 (the caller reports it as too large).
  Take take(double n, Clock::time_point now);
  // Settles a reservation of `reserved` tokens whose real cost was `actual`.
  void settle(double reserved, double actual, Clock::time_point now);

  double available(Clock::time_point now);
  double capacity() const { return capacity_; }
  // Time until the bucket is full again (for *-reset headers).
  std::chrono::milliseconds until_full(Clock::time_point now);

 private:
  void refill(Clock::time_point now);

  double capacity_;
  double per_ms_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace sluice::stages::ratelimit
