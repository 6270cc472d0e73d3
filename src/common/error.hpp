#pragma once
// The one error type of the data plane (conventions.md §2.4): a kind that maps to a status and
// an error type in each client dialect, a client-safe message, and a log-only detail.
// Neither string may contain prompt text or credentials.

#include <cstdint>
#include <string>

namespace sluice {

enum class ErrorKind : std::uint8_t {
  InvalidRequest,        // 400 invalid_request_error: the client's request is malformed
  Unauthenticated,       // 401 authentication_error: missing or bad credentials
  Forbidden,             // 403 permission_error
  NotFound,              // 404 not_found_error: unknown route or resource
  MethodNotAllowed,      // 405 invalid_request_error: known route, wrong method
  UnsupportedMediaType,  // 415 invalid_request_error: body is not application/json
  PayloadTooLarge,       // 413 request_too_large: body over the configured limit
  HeadersTooLarge,       // 431 request_too_large: request head over the limit
  RateLimited,           // 429 rate_limit_error
  BudgetExhausted,       // 402 billing_error: a spend budget is used up (no retry helps)
  UpstreamOverloaded,    // 529 overloaded_error
  UpstreamFailed,        // 502 api_error: connect failure, reset, malformed upstream reply
  Timeout,               // 504 timeout_error: an upstream deadline expired
  Unavailable,           // 503 api_error: sluice is draining or not ready
  Internal,              // 500 api_error: a bug in sluice
};

struct Error {
  ErrorKind kind = ErrorKind::Internal;
  std::string message;  // safe to show the client
  std::string detail;   // for logs only
};

// HTTP status for an error kind (the same in every dialect).
int http_status(ErrorKind kind);
// Short stable name of the kind, used in logs and metrics labels.
const char* kind_name(ErrorKind kind);

}  // namespace sluice
