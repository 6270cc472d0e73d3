#pragma once
// The last alerts raised, newest first, for the dashboard's "recent alerts" (GET /admin/alerts):
// a bounded ring in memory, so a burst of alerts costs a fixed amount of memory and the oldest
// are forgotten first. Not persisted: a restart starts empty (the webhook and the log lines
// are the durable record). Thread-safe: one mutex around the ring.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "alerts/alert.hpp"

namespace sluice::alerts {

class RecentAlerts {
 public:
  // Keeps at most `capacity` alerts (at least 1).
  explicit RecentAlerts(std::size_t capacity = 200);

  void add(const Alert& a);
  // Up to `limit` alerts, newest first.
  std::vector<Alert> latest(std::size_t limit) const;
  // Alerts ever added, forgotten ones included.
  std::uint64_t total() const;
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::deque<Alert> ring_;  // oldest at the front
  std::uint64_t total_ = 0;
};

}  // namespace sluice::alerts
