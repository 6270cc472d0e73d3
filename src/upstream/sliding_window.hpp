#pragma once
// Counts of events over a sliding time window, kept in fixed buckets (window / kBuckets each)
// so memory is constant and old counts age out without timers. Not thread-safe: owners lock.

#include <array>
#include <chrono>
#include <cstdint>

#include "common/clock.hpp"

namespace sluice::upstream {

template <std::size_t kCounters>
class SlidingWindow {
 public:
  static constexpr std::size_t kBuckets = 10;
  explicit SlidingWindow(std::chrono::milliseconds window) : bucket_width_(window / kBuckets) {
    if (bucket_width_.count() <= 0) bucket_width_ = std::chrono::milliseconds(1);
  }

  void add(Clock::time_point now, std::size_t counter, std::uint64_t n = 1) {
    rotate(now);
    buckets_[current_][counter] += n;
  }
  std::uint64_t sum(Clock::time_point now, std::size_t counter) {
    rotate(now);
    std::uint64_t total = 0;
    for (const auto& b : buckets_) total += b[counter];
    return total;
  }
  void clear() {
    for (auto& b : buckets_) b.fill(0);
  }

 private:
  // Moves the current bucket forward to `now`, zeroing the buckets it passes.
  void rotate(Clock::time_point now) {
    auto index = static_cast<std::int64_t>(now.time_since_epoch() / bucket_width_);
    if (started_ && index <= index_) return;
    auto steps = started_ ? index - index_ : static_cast<std::int64_t>(kBuckets);
    for (std::int64_t i = 0; i < steps && i < static_cast<std::int64_t>(kBuckets); ++i) {
      current_ = (current_ + 1) % kBuckets;
      buckets_[current_].fill(0);
    }
    index_ = index;
    started_ = true;
  }

  std::chrono::milliseconds bucket_width_;
  std::array<std::array<std::uint64_t, kCounters>, kBuckets> buckets_{};
  std::size_t current_ = 0;
  std::int64_t index_ = 0;
  bool started_ = false;
};

}  // namespace sluice::upstream
