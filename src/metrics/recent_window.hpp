#pragma once
// What the gateway did over the last seconds, for the dashboard's live view (GET /admin/live):
// requests and errors per second over a sliding window, and exact p50 / p99 of latency and
// time to first byte over the same window. Kept in process for that purpose, next to (not
// read from) the Prometheus histograms, whose fixed buckets cannot give a recent percentile.
//
// Memory is bounded: per-second counters for `max_window` seconds, and the latest
// `max_samples` latency samples (under heavier traffic the percentiles are those of the most
// recent samples of the window). Thread-safe: one mutex; record() holds it for a few stores.
// The clock must outlive the window.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "common/clock.hpp"

namespace sluice::metrics {

class RecentWindow {
 public:
  explicit RecentWindow(const Clock& clock, std::chrono::seconds max_window = std::chrono::seconds(300),
                        std::size_t max_samples = 8192);

  // One finished request: its latency, its time to first byte when it sent one, and whether
  // it failed (an error status or an error kind).
  void record(double latency_ms, std::optional<double> ttfb_ms, bool error);

  struct Summary {
    std::chrono::seconds window{0};
    std::uint64_t requests = 0, errors = 0;
    double requests_per_second = 0;
    double error_rate = 0;  // errors / requests; 0 without requests
    std::optional<double> latency_p50_ms, latency_p99_ms;  // none without samples
    std::optional<double> ttfb_p50_ms, ttfb_p99_ms;
    std::size_t latency_samples = 0, ttfb_samples = 0;
  };
  // The last `window` seconds up to now, clamped to [1 s, max_window].
  Summary summary(std::chrono::seconds window) const;
  std::chrono::seconds max_window() const { return max_window_; }

 private:
  struct Second {
    std::int64_t second = -1;  // which clock second these counts belong to
    std::uint64_t requests = 0, errors = 0;
  };
  struct Sample {
    Clock::time_point at;
    double latency_ms = 0;
    std::optional<double> ttfb_ms;
  };
  std::int64_t second_of(Clock::time_point t) const;

  const Clock& clock_;
  const std::chrono::seconds max_window_;
  const std::size_t max_samples_;
  mutable std::mutex mu_;
  std::vector<Second> seconds_;  // ring indexed by second % size
  std::deque<Sample> samples_;   // oldest first
};

// The nearest-rank percentile `q` (0 < q <= 1) of `sorted` (ascending, not empty).
double nearest_rank(const std::vector<double>& sorted, double q);

}  // namespace sluice::metrics
