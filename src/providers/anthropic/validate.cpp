#include "providers/anthropic/validate.hpp"

#include <cstring>

#include <boost/json/stream_parser.hpp>
#include <simdjson.h>

#include "common/padded_json.hpp"

namespace sluice::providers::anthropic {
namespace {

Error invalid(std::string message) { return Error{ErrorKind::InvalidRequest, std::move(message), {}}; }

// simdjson needs SIMDJSON_PADDING readable bytes after the document; with an unpadded input it
// allocates and copies a padded one on every call. One buffer per thread, reused, avoids that
// (it was 14 % of the instructions of a relayed stream, checking each event).
simdjson::error_code parse_padded(std::string_view text, simdjson::dom::parser& parser, simdjson::dom::element& doc) {
  return parser.parse(padded_copy(text), text.size(), false).get(doc);
}

// simdjson validates at several GB/s but does not say where a document broke; only on that
// (rare) path does Boost.JSON's incremental parser find the offset of the first bad byte.
Error malformed_json(std::string_view body) {
  boost::json::stream_parser p;
  boost::system::error_code ec;
  std::size_t consumed = p.write_some(body.data(), body.size(), ec);
  if (!ec) {
    p.finish(ec);
    if (!ec) return invalid("malformed JSON: the body is not valid UTF-8 JSON");
    return invalid("malformed JSON: unexpected end of body at " + describe_position(body, body.size()));
  }
  return invalid("malformed JSON at " + describe_position(body, consumed) + ": " + ec.message());
}

}  // namespace

bool is_valid_json(std::string_view text) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  return parse_padded(text, parser, doc) == simdjson::SUCCESS;
}

std::string describe_position(std::string_view text, std::size_t offset) {
  if (offset > text.size()) offset = text.size();
  std::size_t line = 1;
  std::size_t col = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

Result<RequestInfo> validate_request(std::string_view body, RequestKind kind) {
  if (body.empty()) return invalid("request body is empty; expected a JSON object");
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parse_padded(body, parser, doc) != simdjson::SUCCESS) {
    return malformed_json(body);
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return invalid("request body must be a JSON object");

  RequestInfo info;
  simdjson::dom::element v;
  if (obj["model"].get(v) != simdjson::SUCCESS) return invalid("model: Field required");
  std::string_view model;
  if (v.get_string().get(model) != simdjson::SUCCESS) return invalid("model: Input should be a valid string");
  if (model.empty()) return invalid("model: String should have at least 1 character");
  info.model = std::string(model);

  if (obj["messages"].get(v) != simdjson::SUCCESS) return invalid("messages: Field required");
  if (!v.is_array()) return invalid("messages: Input should be a valid list");

  if (kind == RequestKind::Messages) {
    if (obj["max_tokens"].get(v) != simdjson::SUCCESS) return invalid("max_tokens: Field required");
    std::int64_t max_tokens = 0;
    if (v.get_int64().get(max_tokens) != simdjson::SUCCESS) {
      return invalid("max_tokens: Input should be a valid integer");
    }
    if (max_tokens < 1) return invalid("max_tokens: Input should be greater than or equal to 1");
    info.max_tokens = max_tokens;
  }
  if (obj["stream"].get(v) == simdjson::SUCCESS && !v.is_null()) {
    bool stream = false;
    if (v.get_bool().get(stream) != simdjson::SUCCESS) return invalid("stream: Input should be a valid boolean");
    info.stream = stream;
  }
  return info;
}

}  // namespace sluice::providers::anthropic
