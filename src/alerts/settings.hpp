#pragma once
// Settings of usage alerts: what raises an alert (detector.hpp) and where alerts go
// (notifier.hpp). Filled from the config file; a plain value type.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace sluice::alerts {

struct Settings {
  std::int64_t large_request_tokens = 10'000;  // a single request over this many tokens (input+output+cache) alerts; 0 = off
  double anomaly_factor = 5.0;                  // a project's tokens in the current hour > factor x its baseline; 0 = off
  std::int64_t anomaly_min_tokens = 100'000;    // ... and above this floor (small projects do not page anyone)
  int baseline_hours = 24;                      // baseline = mean of the previous N full hours (hours with no use count as 0)
  int min_history_hours = 3;                    // no anomaly alerts until this many hours of history exist for the project
  std::string webhook_url;                      // http:// or https://; empty = log and metrics only
  int webhook_attempts = 4;                     // with exponential backoff from webhook_backoff: 0.5 s, 1 s, 2 s... (at most 1 min)
  std::chrono::milliseconds webhook_backoff{500};  // wait before the first retry; doubles after each
  std::chrono::milliseconds webhook_timeout{5'000};  // bounds each attempt: resolve, connect, TLS, request, response head
  std::size_t queue_max = 1'000;                // alerts waiting for the webhook; beyond, the oldest is dropped and counted
};

// What is wrong with `s` ("" when nothing): negative thresholds, a factor below 0, fewer than
// one baseline hour, no webhook attempts, a webhook URL that is not http(s)://host[:port][/path].
std::string settings_error(const Settings& s);

}  // namespace sluice::alerts
