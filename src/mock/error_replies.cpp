#include "mock/error_replies.hpp"

#include "mock/json_text.hpp"
#include "providers/anthropic/error_body.hpp"
#include "providers/openai/error_body.hpp"

namespace sluice::mock {
namespace {

ApiError with_overrides(ApiError e, const Faults& f) {
  if (!f.error_type.empty()) e.type = f.error_type;
  if (!f.error_message.empty()) e.message = f.error_message;
  return e;
}

}  // namespace

Reply anthropic_error_reply(const ApiError& err, std::string_view request_id) {
  Reply r;
  r.status = err.status;
  r.add_header("content-type", "application/json");
  r.add_header("request-id", std::string(request_id));
  r.body = providers::anthropic::error_body(err.type, err.message, request_id);
  return r;
}

Reply openai_error_reply(const ApiError& err, std::string_view request_id) {
  Reply r;
  r.status = err.status;
  r.add_header("content-type", "application/json");
  r.add_header("x-request-id", std::string(request_id));
  r.body = providers::openai::error_body(err.message, err.type, err.code, {});
  return r;
}

ApiError anthropic_status_error(int status, const Faults& faults) {
  ApiError e{status, "invalid_request_error", "Injected error (x-mock-fault)"};
  switch (status) {
    case 400: e.message = "Injected invalid request (x-mock-fault: status-400)"; break;
    case 401: e = {status, "authentication_error", "invalid x-api-key"}; break;
    case 402:
      e = {status, "billing_error",
           "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to "
           "upgrade or purchase credits."};
      break;
    case 403: e = {status, "permission_error", "Your API key does not have permission to use the specified resource."}; break;
    case 404: e = {status, "not_found_error", "Not found"}; break;
    case 413: e = {status, "request_too_large", "Request exceeds the maximum allowed number of bytes."}; break;
    case 429:
      e = {status, "rate_limit_error",
           "This request would exceed the rate limit for your organization of 4,000 requests per minute. "
           "For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response "
           "headers for current usage. Please reduce the prompt length or the maximum tokens requested, "
           "or try again later."};
      break;
    case 500: e = {status, "api_error", "Internal server error"}; break;
    case 503: e = {status, "api_error", "Service unavailable"}; break;
    case 504: e = {status, "timeout_error", "Request timeout"}; break;
    case 529: e = {status, "overloaded_error", "Overloaded"}; break;
    default:
      if (status >= 500) e = {status, "api_error", "Internal server error"};
  }
  return with_overrides(std::move(e), faults);
}

ApiError openai_status_error(int status, const Faults& faults) {
  ApiError e{status, "invalid_request_error", "Injected error (x-mock-fault)"};
  switch (status) {
    case 401:
      e = {status, "invalid_request_error",
           "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
           "invalid_api_key"};
      break;
    case 404: e = {status, "invalid_request_error", "The model does not exist or you do not have access to it.", "model_not_found"}; break;
    case 429:
      e = {status, "requests", "Rate limit reached for requests. Please try again in 1s.", "rate_limit_exceeded"};
      break;
    case 503: e = {status, "server_error", "The engine is currently overloaded, please try again later."}; break;
    default:
      if (status >= 500) e = {status, "server_error", "The server had an error while processing your request. Sorry about that!"};
  }
  return with_overrides(std::move(e), faults);
}

ApiError anthropic_stream_error(const Faults& faults) {
  ApiError e{200, "overloaded_error", "Overloaded"};
  if (!faults.error_type.empty()) {
    e.type = faults.error_type;
    e.message = e.type == "api_error" ? "Internal server error" : "Injected error (x-mock-fault)";
  }
  if (!faults.error_message.empty()) e.message = faults.error_message;
  return e;
}

ApiError openai_stream_error(const Faults& faults) {
  return with_overrides(
      ApiError{200, "server_error", "The server had an error while processing your request. Sorry about that!"}, faults);
}

void add_retry_after(Reply& reply, std::uint32_t seconds) {
  std::string s;
  append_uint(s, seconds);
  reply.add_header("retry-after", s);
  std::string ms;
  append_uint(ms, static_cast<std::uint64_t>(seconds) * 1000);
  reply.add_header("retry-after-ms", std::move(ms));
}

}  // namespace sluice::mock
