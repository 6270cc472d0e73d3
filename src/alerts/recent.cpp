#include "alerts/recent.hpp"

#include <algorithm>

namespace sluice::alerts {

RecentAlerts::RecentAlerts(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

void RecentAlerts::add(const Alert& a) {
  std::lock_guard lock(mu_);
  if (ring_.size() == capacity_) ring_.pop_front();
  ring_.push_back(a);
  ++total_;
}

std::vector<Alert> RecentAlerts::latest(std::size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<Alert> out;
  out.reserve(std::min(limit, ring_.size()));
  for (auto it = ring_.rbegin(); it != ring_.rend() && out.size() < limit; ++it) out.push_back(*it);
  return out;
}

std::uint64_t RecentAlerts::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

}  // namespace sluice::alerts
