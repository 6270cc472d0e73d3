#include "mock/fail_counter.hpp"

namespace sluice::mock {

bool FailCounter::should_fail(std::string_view key, std::uint32_t times) {
  std::lock_guard lock(mu_);
  auto it = seen_.find(std::string(key));
  if (it == seen_.end()) {
    if (seen_.size() >= kMaxKeys) seen_.clear();
    it = seen_.emplace(std::string(key), 0).first;
  }
  if (it->second < UINT32_MAX) ++it->second;
  return it->second <= times;
}

void FailCounter::clear() {
  std::lock_guard lock(mu_);
  seen_.clear();
}

}  // namespace sluice::mock
