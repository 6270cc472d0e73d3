#include "providers/anthropic/error_body.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "providers/dialect.hpp"

namespace sluice::providers {

Dialect dialect_of_path(std::string_view path) {
  if (path.ends_with("/chat/completions")) return Dialect::OpenAI;
  return Dialect::Anthropic;
}

namespace anthropic {

const char* error_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidRequest:
    case ErrorKind::MethodNotAllowed:
    case ErrorKind::UnsupportedMediaType: return "invalid_request_error";
    case ErrorKind::Unauthenticated: return "authentication_error";
    case ErrorKind::Forbidden: return "permission_error";
    case ErrorKind::NotFound: return "not_found_error";
    case ErrorKind::PayloadTooLarge:
    case ErrorKind::HeadersTooLarge: return "request_too_large";
    case ErrorKind::RateLimited: return "rate_limit_error";
    case ErrorKind::BudgetExhausted: return "billing_error";
    case ErrorKind::UpstreamOverloaded: return "overloaded_error";
    case ErrorKind::Timeout: return "timeout_error";
    case ErrorKind::UpstreamFailed:
    case ErrorKind::Unavailable:
    case ErrorKind::Internal: return "api_error";
  }
  return "api_error";
}

std::string error_body(std::string_view type, std::string_view message, std::string_view request_id) {
  boost::json::object err{{"type", type}, {"message", message}};
  boost::json::object body{{"type", "error"}, {"error", std::move(err)}};
  if (!request_id.empty()) body["request_id"] = request_id;
  return boost::json::serialize(body);
}

std::string error_event_data(std::string_view type, std::string_view message) {
  return error_body(type, message, {});
}

}  // namespace anthropic
}  // namespace sluice::providers
