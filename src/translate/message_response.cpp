#include "translate/message_response.hpp"

#include <simdjson.h>

#include "common/padded_json.hpp"
#include "translate/json_out.hpp"
#include "translate/json_read.hpp"
#include "translate/messages_stream.hpp"
#include "translate/names.hpp"

namespace sluice::translate {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::element;

}  // namespace

Result<std::string> message_to_chat_completion(std::string_view message_json, std::string_view model,
                                               std::int64_t created) {
  element m;
  if (parse_padded(message_json, m) != SUCCESS || !m.is_object()) {
    return Error{ErrorKind::UpstreamFailed, "the upstream answer is not JSON", "upstream_malformed"};
  }
  std::string text, calls;
  std::size_t k = 0;
  simdjson::dom::array content;
  if (m["content"].get_array().get(content) == SUCCESS) {
    for (element b : content) {
      const std::string_view type = string_at(b, "type");
      if (type == "text") {
        text += string_at(b, "text");
      } else if (type == "tool_use") {
        element input;
        if (!calls.empty()) calls += ',';
        calls += R"({"id":)";
        append_json_string(calls, tool_id_to_upstream(string_at(b, "id")));
        calls += R"(,"type":"function","function":{"name":)";
        append_json_string(calls, string_at(b, "name"));
        calls += R"(,"arguments":)";
        append_json_string(calls, b["input"].get(input) == SUCCESS ? simdjson::minify(input) : std::string("{}"));
        calls += "}}";
        ++k;
      }
    }
  }
  std::string out = R"({"id":)";
  append_json_string(out, "chatcmpl-" + std::string(string_at(m, "id")));
  out += R"(,"object":"chat.completion","created":)";
  append_uint(out, static_cast<std::uint64_t>(created));
  out += R"(,"model":)";
  append_json_string(out, model);
  out += R"(,"choices":[{"index":0,"message":{"role":"assistant","content":)";
  if (text.empty() && k > 0) {
    out += "null";
  } else {
    append_json_string(out, text);
  }
  out += R"(,"refusal":null)";
  if (k > 0) out += R"(,"tool_calls":[)" + calls + "]";
  out += R"(},"logprobs":null,"finish_reason":)";
  append_json_string(out, finish_reason_for(string_at(m, "stop_reason")));
  out += "}]";
  element usage;
  if (m["usage"].get(usage) == SUCCESS && usage.is_object()) {
    const std::uint64_t cached = uint_at(usage, "cache_read_input_tokens").value_or(0);
    const std::uint64_t prompt =
        uint_at(usage, "input_tokens").value_or(0) + cached + uint_at(usage, "cache_creation_input_tokens").value_or(0);
    const std::uint64_t completion = uint_at(usage, "output_tokens").value_or(0);
    out += R"(,"usage":)";
    append_openai_usage(out, prompt, completion, cached);
  }
  out += '}';
  return out;
}

ChatError anthropic_error_to_openai(int status, std::string_view body) {
  element doc, err;
  std::string_view type = "api_error", message;
  if (parse_padded(body, doc) == SUCCESS && doc["error"].get(err) == SUCCESS && err.is_object()) {
    if (auto t = string_at(err, "type"); !t.empty()) type = t;
    message = string_at(err, "message");
  }
  const OpenAIError e = openai_error_for(type);
  ChatError out;
  out.status = e.status;
  if (status == 429 || status == 529 || status >= 500) out.status = status == 529 ? 503 : status;
  out.body = R"({"error":{"message":)";
  append_json_string(out.body, message.empty() ? "the upstream answered " + std::to_string(status) : std::string(message));
  out.body += R"(,"type":)";
  append_json_string(out.body, e.type);
  out.body += R"(,"param":null,"code":)";
  if (e.code) {
    append_json_string(out.body, e.code);
  } else {
    out.body += "null";
  }
  out.body += "}}";
  return out;
}

}  // namespace sluice::translate
