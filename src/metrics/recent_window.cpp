#include "metrics/recent_window.hpp"

#include <algorithm>
#include <cmath>

namespace sluice::metrics {

namespace sc = std::chrono;

RecentWindow::RecentWindow(const Clock& clock, sc::seconds max_window, std::size_t max_samples)
    : clock_(clock),
      max_window_(std::max(max_window, sc::seconds(1))),
      max_samples_(std::max<std::size_t>(max_samples, 1)),
      seconds_(static_cast<std::size_t>(max_window_.count()) + 1) {}

std::int64_t RecentWindow::second_of(Clock::time_point t) const {
  return sc::duration_cast<sc::seconds>(t.time_since_epoch()).count();
}

void RecentWindow::record(double latency_ms, std::optional<double> ttfb_ms, bool error) {
  auto now = clock_.now();
  auto sec = second_of(now);
  std::lock_guard lock(mu_);
  auto& slot = seconds_[static_cast<std::size_t>(sec) % seconds_.size()];
  if (slot.second != sec) slot = Second{sec, 0, 0};
  ++slot.requests;
  if (error) ++slot.errors;
  if (samples_.size() == max_samples_) samples_.pop_front();
  samples_.push_back({now, latency_ms, ttfb_ms});
}

double nearest_rank(const std::vector<double>& sorted, double q) {
  auto n = sorted.size();
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

RecentWindow::Summary RecentWindow::summary(sc::seconds window) const {
  window = std::clamp(window, sc::seconds(1), max_window_);
  auto now = clock_.now();
  auto now_sec = second_of(now);
  Summary s;
  s.window = window;
  std::vector<double> latencies, ttfbs;
  {
    std::lock_guard lock(mu_);
    // The current (partial) second and the window-1 before it.
    for (const auto& slot : seconds_) {
      if (slot.second > now_sec - window.count() && slot.second <= now_sec) {
        s.requests += slot.requests;
        s.errors += slot.errors;
      }
    }
    auto from = now - window;
    for (auto it = samples_.rbegin(); it != samples_.rend() && it->at > from; ++it) {
      latencies.push_back(it->latency_ms);
      if (it->ttfb_ms) ttfbs.push_back(*it->ttfb_ms);
    }
  }
  s.requests_per_second = static_cast<double>(s.requests) / static_cast<double>(window.count());
  if (s.requests > 0) s.error_rate = static_cast<double>(s.errors) / static_cast<double>(s.requests);
  s.latency_samples = latencies.size();
  s.ttfb_samples = ttfbs.size();
  if (!latencies.empty()) {
    std::sort(latencies.begin(), latencies.end());
    s.latency_p50_ms = nearest_rank(latencies, 0.50);
    s.latency_p99_ms = nearest_rank(latencies, 0.99);
  }
  if (!ttfbs.empty()) {
    std::sort(ttfbs.begin(), ttfbs.end());
    s.ttfb_p50_ms = nearest_rank(ttfbs, 0.50);
    s.ttfb_p99_ms = nearest_rank(ttfbs, 0.99);
  }
  return s;
}

}  // namespace sluice::metrics
