#include "stages/ratelimit/token_bucket.hpp"

#include <algorithm>
#include <cmath>

namespace sluice::stages::ratelimit {

using std::chrono::milliseconds;

TokenBucket::TokenBucket(double per_minute, Clock::time_point now)
    : capacity_(per_minute), per_ms_(per_minute / 60'000.0), tokens_(per_minute), last_(now) {}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_) return;
  double ms = std::chrono::duration<double, std::milli>(now - last_).count();
  tokens_ = std::min(capacity_, tokens_ + ms * per_ms_);
  last_ = now;
}

TokenBucket::Take TokenBucket::take(double n, Clock::time_point now) {
  refill(now);
  Take t;
  if (n <= tokens_) {
    tokens_ -= n;
    t.ok = true;
    t.remaining = tokens_;
    return t;
  }
  t.remaining = std::max(0.0, tokens_);
  if (n > capacity_ || per_ms_ <= 0) return t;  // can never fit: retry_after stays 0
  t.retry_after = milliseconds(static_cast<std::int64_t>(std::ceil((n - tokens_) / per_ms_)));
  return t;
}

void TokenBucket::settle(double reserved, double actual, Clock::time_point now) {
  refill(now);
  // Unused tokens come back (never above capacity); extra usage is debt below zero.
  tokens_ = std::min(capacity_, tokens_ + (reserved - actual));
}

double TokenBucket::available(Clock::time_point now) {
  refill(now);
  return tokens_;
}

milliseconds TokenBucket::until_full(Clock::time_point now) {
  refill(now);
  if (tokens_ >= capacity_ || per_ms_ <= 0) return milliseconds(0);
  return milliseconds(static_cast<std::int64_t>(std::ceil((capacity_ - tokens_) / per_ms_)));
}

}  // namespace sluice::stages::ratelimit
