#include "upstream/retry_budget.hpp"

namespace sluice::upstream {

void RetryBudget::on_request() {
  std::lock_guard lk(mu_);
  window_.add(clock_.now(), kRequests);
}

bool RetryBudget::try_retry() {
  std::lock_guard lk(mu_);
  auto now = clock_.now();
  double allowed = std::max<double>(floor_, ratio_ * static_cast<double>(window_.sum(now, kRequests)));
  if (static_cast<double>(window_.sum(now, kRetries)) + 1.0 > allowed) return false;
  window_.add(now, kRetries);
  return true;
}

}  // namespace sluice::upstream
