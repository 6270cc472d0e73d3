#include "alerts/settings.hpp"

#include <cmath>

#include "alerts/webhook.hpp"

namespace sluice::alerts {

std::string settings_error(const Settings& s) {
  if (s.large_request_tokens < 0) return "large_request_tokens must not be negative";
  if (!(s.anomaly_factor >= 0) || std::isinf(s.anomaly_factor)) return "anomaly_factor must be a number >= 0";
  if (s.anomaly_min_tokens < 0) return "anomaly_min_tokens must not be negative";
  if (s.baseline_hours < 1) return "baseline_hours must be at least 1";
  if (s.min_history_hours < 0) return "min_history_hours must not be negative";
  if (s.webhook_attempts < 1) return "webhook_attempts must be at least 1";
  if (s.webhook_backoff.count() < 0) return "webhook_backoff must not be negative";
  if (s.webhook_timeout.count() <= 0) return "webhook_timeout must be positive";
  if (!s.webhook_url.empty()) {
    std::string error;
    if (!parse_webhook_url(s.webhook_url, error)) return "webhook_url: " + error;
  }
  return {};
}

}  // namespace sluice::alerts
