#include "client/retry.hpp"

#include <algorithm>
#include <cmath>

#include "upstream/retry_policy.hpp"

namespace sluice::client {

bool is_retryable_status(int status) {
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

milliseconds sdk_backoff(int retries_done, const RetryOptions& opts, Random& random) {
  double delay = static_cast<double>(opts.initial_delay.count()) * std::pow(2.0, std::clamp(retries_done, 0, 30));
  delay = std::min(delay, static_cast<double>(opts.max_delay.count()));
  return milliseconds(static_cast<std::int64_t>(delay * (1.0 - 0.25 * random.uniform())));
}

std::optional<milliseconds> retry_wait(int status, const upstream::RetryHints& hints, int retries_done,
                                       const RetryOptions& opts, Random& random) {
  if (retries_done >= opts.max_retries) return std::nullopt;
  bool retry = status == 0;  // connection failures and timeouts
  if (status != 0) retry = hints.should_retry ? *hints.should_retry : is_retryable_status(status);
  if (!retry) return std::nullopt;
  // retry_after is only ever a positive wait (retry-after-ms before retry-after).
  if (hints.retry_after && *hints.retry_after <= opts.max_retry_after) return *hints.retry_after;
  return sdk_backoff(retries_done, opts, random);
}

}  // namespace sluice::client
