#include "upstream/retry_policy.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>

namespace sluice::upstream {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  if (s.empty()) return std::nullopt;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// IMF-fixdate (RFC 9110 §5.6.7), e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s) {
  std::string text(trim(s));
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

bool is_client_error_not_retryable(int status) {
  return status >= 400 && status < 500 && status != 408 && status != 409 && status != 429;
}

}  // namespace

bool is_retryable_status(int status) {
  switch (status) {
    case 408: case 409: case 429: case 500: case 502: case 503: case 504: case 529:
      return true;
    default:
      return false;
  }
}

bool is_retryable_inband(std::string_view error_type) {
  return error_type == "overloaded_error" || error_type == "api_error";
}

std::optional<milliseconds> parse_retry_after(std::string_view retry_after_ms, std::string_view ra,
                                              const Clock& clock) {
  if (auto ms = parse_number(retry_after_ms); ms && *ms > 0) {
    return milliseconds(static_cast<std::int64_t>(std::ceil(*ms)));
  }
  if (ra.empty()) return std::nullopt;
  if (auto secs = parse_number(ra)) {
    if (*secs <= 0) return std::nullopt;
    return milliseconds(static_cast<std::int64_t>(std::ceil(*secs * 1000.0)));
  }
  if (auto date = parse_http_date(ra)) {
    auto wait = std::chrono::duration_cast<milliseconds>(*date - clock.wall_now());
    if (wait.count() <= 0) return std::nullopt;
    return wait;
  }
  return std::nullopt;
}

std::optional<bool> parse_should_retry(std::string_view value) {
  auto v = trim(value);
  if (v == "true") return true;
  if (v == "false") return false;
  return std::nullopt;
}

milliseconds backoff(int retries_done, const RetryConfig& cfg, Random& random) {
  double ceiling = static_cast<double>(cfg.base.count()) * std::pow(2.0, std::clamp(retries_done, 0, 30));
  ceiling = std::min(ceiling, static_cast<double>(cfg.cap.count()));
  return milliseconds(static_cast<std::int64_t>(random.uniform() * ceiling));
}

RetryDecision decide(const AttemptOutcome& outcome, int attempt, Clock::time_point deadline,
                     const RetryConfig& cfg, const Clock& clock, Random& random) {
  RetryDecision d;
  const std::optional<bool> should_retry = outcome.hints.should_retry;

  bool retryable = false;
  if (outcome.transport) {
    retryable = true;
    d.reason = "transport";
  } else if (!outcome.inband_error_type.empty()) {
    retryable = is_retryable_inband(outcome.inband_error_type);
    d.reason = "inband";
  } else if (outcome.status != 0) {
    retryable = is_retryable_status(outcome.status);
    d.reason = "status";
    if (should_retry == true && !is_client_error_not_retryable(outcome.status) && outcome.status >= 400) {
      retryable = true;
    }
  }
  if (should_retry == false) {
    d.reason = "x-should-retry";
    return d;
  }
  if (!retryable) return d;
  if (attempt >= cfg.max_attempts) {
    d.reason = "exhausted";
    return d;
  }
  const std::optional<milliseconds> hinted = outcome.hints.retry_after;
  if (hinted && *hinted > cfg.max_retry_after) {
    d.reason = "retry-after too long";
    return d;
  }
  d.wait = hinted ? *hinted : backoff(attempt - 1, cfg, random);
  if (clock.now() + d.wait >= deadline) {
    d.reason = "deadline";
    d.wait = milliseconds(0);
    return d;
  }
  d.retry = true;
  return d;
}

}  // namespace sluice::upstream
