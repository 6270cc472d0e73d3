#pragma once
// The client's retry decision, as the official SDKs make it (wire-protocols.md §4.1, §4.2):
// `x-should-retry` first, then 408, 409, 429 and >= 500, and connection failures; the wait is
// the server's retry-after-ms / retry-after when 0 < wait <= max_retry_after, else
// min(initial * 2^n, max) * (1 - 0.25 * random). Differs from the gateway's own policy
// (upstream/retry_policy.hpp: full jitter, a fixed status list), whose header parsing it reuses.
// Pure functions; the clock and random source are injected.

#include <chrono>
#include <optional>

#include "common/clock.hpp"
#include "upstream/retry_policy.hpp"
#include "sluice/client/client.hpp"

namespace sluice::client {

// Whether a status is retried when the server says nothing (x-should-retry absent).
bool is_retryable_status(int status);

// SDK backoff after `retries_done` retries (0 before the first retry).
milliseconds sdk_backoff(int retries_done, const RetryOptions& opts, Random& random);

// The wait before the next attempt, or nullopt for "do not retry". `status` is 0 for a
// connection failure or timeout (then `hints` is empty: upstream::retry_hints of the response's
// headers otherwise); `retries_done` counts retries so far.
std::optional<milliseconds> retry_wait(int status, const upstream::RetryHints& hints, int retries_done,
                                       const RetryOptions& opts, Random& random);

}  // namespace sluice::client
