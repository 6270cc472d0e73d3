#pragma once
// A circuit breaker per deployment (issue: resilience). Closed: requests flow and outcomes are
// counted. It opens after `consecutive_failures` failures in a row, or when failures are at
// least `failure_ratio` of at least `min_requests` outcomes over the window. Open: requests fail
// fast for `open_for`. Then half-open: up to `half_open_probes` requests go through; a success
// closes it, a failure opens it again. Failures are transport errors, timeouts, 5xx/529 and
// in-band overloads; a 4xx (429 included) is the upstream working as designed.
// Thread-safe.

#include <chrono>
#include <mutex>
#include <string>

#include "common/clock.hpp"
#include "upstream/sliding_window.hpp"

namespace sluice::upstream {

struct BreakerConfig {
  int consecutive_failures = 5;
  double failure_ratio = 0.5;
  int min_requests = 20;
  std::chrono::milliseconds window{10'000};
  std::chrono::milliseconds open_for{5'000};
  int half_open_probes = 1;
};

class CircuitBreaker {
 public:
  enum class State { Closed, Open, HalfOpen };

  struct Admission {
    bool allowed = true;
    bool probe = false;                  // a half-open trial: its outcome decides the state
    std::chrono::milliseconds retry_in{0};  // when rejected: time until the next probe
  };

  CircuitBreaker(const BreakerConfig& cfg, const Clock& clock) : cfg_(cfg), clock_(clock), window_(cfg.window) {}

  Admission admit();
  // Reports the outcome of an admitted request (`probe` as returned by admit()).
  void record(bool success, bool probe);
  // Gives back a half-open probe whose request ended without an outcome (its client left):
  // the state stays as it is and the next request may probe.
  void release_probe();
  State state() const;
  static const char* state_name(State s);

 private:
  void open_locked();

  enum : std::size_t { kTotal = 0, kFailures = 1 };
  BreakerConfig cfg_;
  const Clock& clock_;
  mutable std::mutex mu_;
  State state_ = State::Closed;
  int consecutive_ = 0;
  int probes_in_flight_ = 0;
  Clock::time_point open_until_{};
  SlidingWindow<2> window_;
};

}  // namespace sluice::upstream
