#pragma once
// A retry budget per provider: retries may be at most `ratio` of the requests seen over a
// sliding window (plus a small floor for quiet periods), so a failing upstream is not hit by a
// retry storm — the clients retry on their own too (Claude Code up to 10 times, SDKs twice).
// Thread-safe.

#include <mutex>

#include "common/clock.hpp"
#include "upstream/retry_policy.hpp"
#include "upstream/sliding_window.hpp"

namespace sluice::upstream {

class RetryBudget {
 public:
  RetryBudget(const RetryConfig& cfg, const Clock& clock)
      : ratio_(cfg.budget_ratio), floor_(cfg.budget_min_retries), clock_(clock), window_(cfg.budget_window) {}

  // Counts one client request (call once per request, not per attempt).
  void on_request();
  // Takes one retry from the budget; false when the budget is spent.
  bool try_retry();

 private:
  enum : std::size_t { kRequests = 0, kRetries = 1 };
  double ratio_;
  int floor_;
  const Clock& clock_;
  std::mutex mu_;
  SlidingWindow<2> window_;
};

}  // namespace sluice::upstream
