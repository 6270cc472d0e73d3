#include "providers/openai/error_body.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sluice::providers::openai {

const char* error_type(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::InvalidRequest:
    case ErrorKind::MethodNotAllowed:
    case ErrorKind::UnsupportedMediaType:
    case ErrorKind::PayloadTooLarge:
    case ErrorKind::HeadersTooLarge:
    case ErrorKind::NotFound:
    case ErrorKind::Forbidden:
    case ErrorKind::Unauthenticated: return "invalid_request_error";
    case ErrorKind::RateLimited: return "rate_limit_error";
    case ErrorKind::BudgetExhausted: return "insufficient_quota";
    case ErrorKind::UpstreamOverloaded:
    case ErrorKind::UpstreamFailed:
    case ErrorKind::Timeout:
    case ErrorKind::Unavailable:
    case ErrorKind::Internal: return "server_error";
  }
  return "server_error";
}

const char* error_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Unauthenticated: return "invalid_api_key";
    case ErrorKind::RateLimited: return "rate_limit_exceeded";
    case ErrorKind::BudgetExhausted: return "insufficient_quota";
    case ErrorKind::NotFound: return "not_found";
    default: return nullptr;
  }
}

std::string error_body(std::string_view message, std::string_view type, const char* code,
                       std::string_view request_id) {
  boost::json::object err{{"message", message}, {"type", type}, {"param", nullptr}};
  if (code) {
    err["code"] = code;
  } else {
    err["code"] = nullptr;
  }
  boost::json::object body{{"error", std::move(err)}};
  if (!request_id.empty()) body["request_id"] = request_id;
  return boost::json::serialize(body);
}

}  // namespace sluice::providers::openai
