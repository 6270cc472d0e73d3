#include "upstream/circuit_breaker.hpp"

namespace sluice::upstream {

CircuitBreaker::Admission CircuitBreaker::admit() {
  std::lock_guard lk(mu_);
  auto now = clock_.now();
  if (state_ == State::Open) {
    if (now < open_until_) {
      return {false, false, std::chrono::duration_cast<std::chrono::milliseconds>(open_until_ - now)};
    }
    state_ = State::HalfOpen;
    probes_in_flight_ = 0;
  }
  if (state_ == State::HalfOpen) {
    if (probes_in_flight_ >= cfg_.half_open_probes) {
      return {false, false, std::chrono::milliseconds(100)};
    }
    ++probes_in_flight_;
    return {true, true, {}};
  }
  return {};
}

void CircuitBreaker::record(bool success, bool probe) {
  std::lock_guard lk(mu_);
  auto now = clock_.now();
  if (probe || state_ == State::HalfOpen) {
    if (probe && probes_in_flight_ > 0) --probes_in_flight_;
    if (state_ == State::HalfOpen) {
      if (success) {
        state_ = State::Closed;
        consecutive_ = 0;
        window_.clear();
      } else {
        open_locked();
      }
      return;
    }
  }
  if (state_ != State::Closed) return;  // a late outcome from before the breaker opened
  window_.add(now, kTotal);
  if (success) {
    consecutive_ = 0;
    return;
  }
  window_.add(now, kFailures);
  ++consecutive_;
  auto total = window_.sum(now, kTotal);
  auto failures = window_.sum(now, kFailures);
  bool ratio_tripped = total >= static_cast<std::uint64_t>(cfg_.min_requests) &&
                       static_cast<double>(failures) >= cfg_.failure_ratio * static_cast<double>(total);
  if (consecutive_ >= cfg_.consecutive_failures || ratio_tripped) open_locked();
}

void CircuitBreaker::release_probe() {
  std::lock_guard lk(mu_);
  if (probes_in_flight_ > 0) --probes_in_flight_;
}

void CircuitBreaker::open_locked() {
  state_ = State::Open;
  open_until_ = clock_.now() + cfg_.open_for;
  consecutive_ = 0;
  probes_in_flight_ = 0;
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard lk(mu_);
  // Report half-open as soon as the open period is over, even before the next admit().
  if (state_ == State::Open && clock_.now() >= open_until_) return State::HalfOpen;
  return state_;
}

const char* CircuitBreaker::state_name(State s) {
  switch (s) {
    case State::Closed: return "closed";
    case State::Open: return "open";
    case State::HalfOpen: return "half_open";
  }
  return "closed";
}

}  // namespace sluice::upstream
