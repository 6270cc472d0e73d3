#include "common/error.hpp"

namespace sluice {

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidRequest: return 400;
    case ErrorKind::Unauthenticated: return 401;
    case ErrorKind::Forbidden: return 403;
    case ErrorKind::NotFound: return 404;
    case ErrorKind::MethodNotAllowed: return 405;
    case ErrorKind::UnsupportedMediaType: return 415;
    case ErrorKind::PayloadTooLarge: return 413;
    case ErrorKind::HeadersTooLarge: return 431;
    case ErrorKind::RateLimited: return 429;
    case ErrorKind::BudgetExhausted: return 402;
    case ErrorKind::UpstreamOverloaded: return 529;
    case ErrorKind::UpstreamFailed: return 502;
    case ErrorKind::Timeout: return 504;
    case ErrorKind::Unavailable: return 503;
    case ErrorKind::Internal: return 500;
  }
  return 500;
}

const char* kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidRequest: return "invalid_request";
    case ErrorKind::Unauthenticated: return "unauthenticated";
    case ErrorKind::Forbidden: return "forbidden";
    case ErrorKind::NotFound: return "not_found";
    case ErrorKind::MethodNotAllowed: return "method_not_allowed";
    case ErrorKind::UnsupportedMediaType: return "unsupported_media_type";
    case ErrorKind::PayloadTooLarge: return "payload_too_large";
    case ErrorKind::HeadersTooLarge: return "headers_too_large";
    case ErrorKind::RateLimited: return "rate_limited";
    case ErrorKind::BudgetExhausted: return "budget_exhausted";
    case ErrorKind::UpstreamOverloaded: return "upstream_overloaded";
    case ErrorKind::UpstreamFailed: return "upstream_failed";
    case ErrorKind::Timeout: return "timeout";
    case ErrorKind::Unavailable: return "unavailable";
    case ErrorKind::Internal: return "internal";
  }
  return "internal";
}

}  // namespace sluice
