#include "translate/chat_response.hpp"


#include <simdjson.h>

#include "common/padded_json.hpp"
#include "translate/json_out.hpp"
#include "translate/json_read.hpp"

namespace sluice::translate {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::element;

// The first run of digits after `marker` in `text`, or 0.
std::uint64_t number_after(std::string_view text, std::string_view marker) {
  auto at = text.find(marker);
  if (at == std::string_view::npos) return 0;
  std::uint64_t n = 0;
  bool seen = false;
  for (std::size_t i = at + marker.size(); i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
      seen = true;
    } else if (seen) {
      break;
    } else if (c != ' ') {
      return 0;
    }
  }
  return n;
}

}  // namespace

Result<std::string> chat_to_message(std::string_view chat_body, const StreamOptions& options) {
  element doc;
  if (parse_padded(chat_body, doc) != SUCCESS || !doc.is_object()) {
    return Error{ErrorKind::UpstreamFailed, "the upstream answer is not JSON", "upstream_malformed"};
  }
  simdjson::dom::array choices;
  if (doc["choices"].get_array().get(choices) != SUCCESS || choices.size() == 0) {
    return Error{ErrorKind::UpstreamFailed, "the upstream answer has no choices", "upstream_malformed"};
  }
  element choice = choices.at(0);
  element message;
  if (choice["message"].get(message) != SUCCESS || !message.is_object()) {
    return Error{ErrorKind::UpstreamFailed, "the upstream answer has no message", "upstream_malformed"};
  }
  std::string out = R"({"id":)";
  append_json_string(out, message_id_for(string_at(doc, "id")));
  out += R"(,"type":"message","role":"assistant","model":)";
  append_json_string(out, options.model);
  out += R"(,"content":[)";
  bool first = true;
  auto comma = [&] {
    if (!first) out += ',';
    first = false;
  };
  std::string_view reasoning = string_at(message, "reasoning_content");
  if (reasoning.empty()) reasoning = string_at(message, "reasoning");
  if (!reasoning.empty()) {
    comma();
    out += R"({"type":"thinking","thinking":)";
    append_json_string(out, reasoning);
    out += R"(,"signature":""})";
  }
  std::string_view text = string_at(message, "content");
  std::string_view refusal = string_at(message, "refusal");
  if (text.empty()) text = refusal;
  if (!text.empty()) {
    comma();
    out += R"({"type":"text","text":)";
    append_json_string(out, text);
    out += '}';
  }
  simdjson::dom::array calls;
  bool had_tools = false;
  if (message["tool_calls"].get_array().get(calls) == SUCCESS) {
    std::size_t k = 0;
    for (element call : calls) {
      element fn;
      if (call["function"].get(fn) != SUCCESS) continue;
      had_tools = true;
      comma();
      const std::string_view upstream_id = string_at(call, "id");
      out += R"({"type":"tool_use","id":)";
      append_json_string(out, upstream_id.empty() ? "toolu_sluice_" + std::to_string(k) : tool_id_to_client(upstream_id));
      out += R"(,"name":)";
      const std::string_view name = string_at(fn, "name");
      append_json_string(out, options.tools ? options.tools->to_client(name) : std::string(name));
      out += R"(,"input":)";
      const std::string_view raw = string_at(fn, "arguments");
      if (is_json_object(raw)) out += raw;
      else out += "{}";
      out += '}';
      ++k;
    }
  }
  const std::string_view finish = string_at(choice, "finish_reason");
  out += R"(],"stop_reason":")";
  out += !refusal.empty() && string_at(message, "content").empty() ? std::string_view("refusal") : stop_reason_for(finish, had_tools);
  out += R"(","stop_sequence":null,"usage":)";
  element usage;
  std::uint64_t input = options.input_estimate, output = 0, cached = 0, written = 0;
  if (doc["usage"].get(usage) == SUCCESS && usage.is_object()) {
    element details;
    if (usage["prompt_tokens_details"].get(details) == SUCCESS && details.is_object()) {
      cached = uint_at(details, "cached_tokens").value_or(0);
      written = uint_at(details, "cache_write_tokens").value_or(0);
    }
    const std::uint64_t prompt = uint_at(usage, "prompt_tokens").value_or(input + cached + written);
    input = prompt > cached + written ? prompt - cached - written : 0;
    output = uint_at(usage, "completion_tokens").value_or(0);
  }
  append_anthropic_usage(out, input, written, cached, output);
  out += '}';
  return out;
}

bool chat_has_usage(std::string_view chat_body) {
  element doc, usage;
  return parse_padded(chat_body, doc) == SUCCESS && doc["usage"].get(usage) == SUCCESS && usage.is_object() &&
         uint_at(usage, "prompt_tokens").has_value() && uint_at(usage, "completion_tokens").has_value();
}

TranslatedError chat_error_to_anthropic(int status, std::string_view body) {
  TranslatedError e;
  std::string_view type, code, message;
  element doc, err;
  if (parse_padded(body, doc) == SUCCESS && doc.is_object()) {
    if (doc["error"].get(err) == SUCCESS && err.is_object()) {
      type = string_at(err, "type");
      code = string_at(err, "code");
      message = string_at(err, "message");
    } else if (doc["error"].get_string().get(message) != SUCCESS) {
      message = string_at(doc, "message");
    }
  }
  e.message = message.empty() ? "the upstream answered " + std::to_string(status) : std::string(message);
  switch (status) {
    case 400:
    case 422: e = {400, "invalid_request_error", e.message}; break;
    case 401: e = {401, "authentication_error", e.message}; break;
    case 402: e = {402, "billing_error", e.message}; break;
    case 403: e = {403, "permission_error", e.message}; break;
    case 404: e = {404, "not_found_error", e.message}; break;
    case 408: e = {504, "timeout_error", e.message}; break;
    case 413: e = {413, "request_too_large", e.message}; break;
    case 429:
      e = code == "insufficient_quota" ? TranslatedError{402, "billing_error", e.message}
                                       : TranslatedError{429, "rate_limit_error", e.message};
      break;
    case 502:
    case 503:
    case 529: e = {529, "overloaded_error", e.message}; break;
    case 504: e = {504, "timeout_error", e.message}; break;
    default: e = status >= 500 ? TranslatedError{500, "api_error", e.message} : TranslatedError{400, "invalid_request_error", e.message};
  }
  // A context overflow, in the wording the Anthropic API uses (Claude Code reads its numbers):
  // "This model's maximum context length is 8192 tokens. However, you requested 8804 tokens".
  const std::uint64_t limit = number_after(e.message, "maximum context length is");
  std::uint64_t asked = number_after(e.message, "you requested");
  if (asked == 0) asked = number_after(e.message, "resulted in");
  if (limit > 0 && asked > limit && e.status < 500) {
    e = {400, "invalid_request_error",
         "prompt is too long: " + std::to_string(asked) + " tokens > " + std::to_string(limit) + " maximum (upstream: " + e.message + ")"};
  }
  return e;
}

}  // namespace sluice::translate
