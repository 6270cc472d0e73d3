#include "providers/anthropic/error_body.hpp"
#include "providers/dialect.hpp"
#include "providers/openai/error_body.hpp"
#include "server/gateway.hpp"
#include "stream/sse_parser.hpp"

namespace sluice::server {

bhttp::response<bhttp::string_body> error_response(std::string_view path, const Error& e,
                                                   const std::string& request_id) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(http_status(e.kind)), 11};
  if (providers::dialect_of_path(path) == providers::Dialect::OpenAI) {
    res.body() = providers::openai::error_body(e.message, providers::openai::error_type(e.kind),
                                               providers::openai::error_code(e.kind), request_id);
  } else {
    res.body() = providers::anthropic::error_body(providers::anthropic::error_type(e.kind), e.message, request_id);
  }
  if (e.kind == ErrorKind::UpstreamOverloaded) res.reason("Overloaded");  // 529 has no standard phrase
  res.set(bhttp::field::content_type, "application/json");
  res.set("request-id", request_id);
  res.set("x-sluice-request-id", request_id);
  // A client error that a retry cannot fix must not be retried by the SDKs (wire-protocols §4.4).
  int status = http_status(e.kind);
  if (status >= 400 && status < 500 && status != 408 && status != 409 && status != 429) {
    res.set("x-should-retry", "false");
  }
  return res;
}

std::string stream_error_event(bool openai, ErrorKind kind, std::string_view message) {
  if (openai) {
    return "data: " +
           providers::openai::error_body(message, providers::openai::error_type(kind),
                                         providers::openai::error_code(kind), {}) +
           "\n\n";
  }
  std::string out;
  stream::append_event(out, "error", providers::anthropic::error_event_data(providers::anthropic::error_type(kind), message));
  return out;
}

bhttp::response<bhttp::string_body> rejection_response(const http::Rejection& r) {
  Error e{r.kind, r.message, {}};
  return error_response(r.target, e, r.request_id);
}

}  // namespace sluice::server
