#pragma once
// When to retry an upstream attempt and how long to wait (issue: resilience). Pure functions
// over the attempt's outcome; the clock and random source are injected.
//
// Retried: connect failures and timeouts before any response byte, statuses 408 409 429 500
// 502 503 504 529, and an in-band overloaded_error / api_error that arrives before any content
// went to the client. Never another 4xx, never after bytes reached the client. The upstream's
// `x-should-retry: false` stops a retry; `true` allows one for a status not in the list (but
// never for a 4xx outside it). Waits: `retry-after-ms`, else `retry-after` (seconds or HTTP
// date), else exponential backoff with full jitter: uniform(0, min(cap, base * 2^n)).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>

#include "common/clock.hpp"
#include "common/error.hpp"

namespace sluice::upstream {

using std::chrono::milliseconds;

struct RetryConfig {
  int max_attempts = 3;                  // attempts in all, the first included
  milliseconds base{500};                // backoff base
  milliseconds cap{8'000};               // backoff cap
  milliseconds max_retry_after{30'000};  // a longer retry-after is passed to the client instead
  double budget_ratio = 0.2;             // retries <= ratio x requests over the window ...
  milliseconds budget_window{10'000};
  int budget_min_retries = 3;            // ... but at least this many per window at low volume
  bool exhausted_should_retry_false = true;  // final error says x-should-retry: false
};

// What a response's headers say about retrying it (retry_hints below).
struct RetryHints {
  std::optional<bool> should_retry;         // x-should-retry
  std::optional<milliseconds> retry_after;  // retry-after-ms / retry-after, when positive
};

// What one attempt produced, as far as the decision needs it.
struct AttemptOutcome {
  int status = 0;                      // upstream HTTP status; 0 when none was received
  std::optional<ErrorKind> transport;  // connect failure / timeout / reset before a response
  std::string inband_error_type;       // error.type of an in-band error before the commit point
  RetryHints hints;                    // from the response's headers, when there was a response
};

struct RetryDecision {
  bool retry = false;
  milliseconds wait{0};
  const char* reason = "";  // short, for logs: "status", "transport", "inband", "exhausted", ...
};

// Whether the status is retryable by default (the list above).
bool is_retryable_status(int status);
// Whether an in-band error type is retryable before the commit point.
bool is_retryable_inband(std::string_view error_type);
// Server-provided wait from the values of retry-after-ms and retry-after (empty when absent):
// retry-after-ms, then retry-after (seconds, fractional allowed, or an HTTP date). nullopt when
// both are absent, unparsable or not positive.
std::optional<milliseconds> parse_retry_after(std::string_view retry_after_ms, std::string_view retry_after,
                                              const Clock& clock);
// The value of x-should-retry: true / false / anything else (absent).
std::optional<bool> parse_should_retry(std::string_view value);

// A header's value, empty when absent, in Beast's fields (the client library's tests) or an
// upstream response's head (response_head.hpp).
template <class Fields>
std::string_view field_value(const Fields& h, std::string_view name) {
  auto it = h.find(boost::beast::string_view(name.data(), name.size()));
  if (it == h.end()) return {};
  return {it->value().data(), it->value().size()};
}
// The retry hints of a response's headers (Beast's fields or an upstream response's head).
template <class Fields>
RetryHints retry_hints(const Fields& h, const Clock& clock) {
  return {parse_should_retry(field_value(h, "x-should-retry")),
          parse_retry_after(field_value(h, "retry-after-ms"), field_value(h, "retry-after"), clock)};
}
// Full-jitter backoff after `retries_done` retries (0 for the first retry).
milliseconds backoff(int retries_done, const RetryConfig& cfg, Random& random);

// Decides after attempt number `attempt` (1-based). `deadline` is the request's total deadline:
// a wait that would pass it means giving up (the caller then returns the upstream's error).
RetryDecision decide(const AttemptOutcome& outcome, int attempt, Clock::time_point deadline,
                     const RetryConfig& cfg, const Clock& clock, Random& random);

}  // namespace sluice::upstream
