#include "translate/messages_stream.hpp"

#include <simdjson.h>

#include "common/padded_json.hpp"
#include "translate/json_out.hpp"
#include "translate/json_read.hpp"
#include "translate/names.hpp"

namespace sluice::translate {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::element;

void read_usage(element usage, std::uint64_t& input, std::uint64_t& read, std::uint64_t& write, std::uint64_t& output) {
  std::uint64_t v = 0;
  if (usage["input_tokens"].get_uint64().get(v) == SUCCESS) input = v;
  if (usage["cache_read_input_tokens"].get_uint64().get(v) == SUCCESS) read = v;
  if (usage["cache_creation_input_tokens"].get_uint64().get(v) == SUCCESS) write = v;
  if (usage["output_tokens"].get_uint64().get(v) == SUCCESS) output = v;
}

}  // namespace

std::string_view finish_reason_for(std::string_view stop_reason) {
  if (stop_reason == "max_tokens" || stop_reason == "model_context_window_exceeded") return "length";
  if (stop_reason == "tool_use") return "tool_calls";
  if (stop_reason == "refusal") return "content_filter";
  return "stop";
}

OpenAIError openai_error_for(std::string_view t) {
  if (t == "invalid_request_error") return {400, "invalid_request_error", nullptr};
  if (t == "authentication_error") return {401, "invalid_request_error", "invalid_api_key"};
  if (t == "permission_error") return {403, "invalid_request_error", nullptr};
  if (t == "not_found_error") return {404, "invalid_request_error", "model_not_found"};
  if (t == "request_too_large") return {413, "invalid_request_error", nullptr};
  if (t == "rate_limit_error") return {429, "requests", "rate_limit_exceeded"};
  if (t == "billing_error") return {429, "insufficient_quota", "insufficient_quota"};
  if (t == "timeout_error") return {504, "server_error", nullptr};
  if (t == "overloaded_error") return {503, "server_error", nullptr};
  return {500, "server_error", nullptr};
}

void MessagesToChatStream::feed(std::string_view bytes, std::string& out) {
  Sink sink;
  sink.self = this;
  sink.out = &out;
  parser_.feed(bytes, sink);
}

void MessagesToChatStream::chunk_head(std::string& out) const {
  out += R"(data: {"id":)";
  append_json_string(out, id_);
  out += R"(,"object":"chat.completion.chunk","created":)";
  append_uint(out, static_cast<std::uint64_t>(options_.created));
  out += R"(,"model":)";
  append_json_string(out, options_.model);
}

void MessagesToChatStream::chunk(std::string_view delta_json, std::string_view finish, std::string& out) {
  chunk_head(out);
  out += R"(,"choices":[{"index":0,"delta":)";
  out += delta_json;
  out += R"(,"logprobs":null,"finish_reason":)";
  if (finish.empty()) {
    out += "null";
  } else {
    append_json_string(out, finish);
  }
  out += "}]}\n\n";
}

void MessagesToChatStream::on_event(std::string_view type, std::string_view data, std::string& out) {
  if (done_ || type == "ping") return;
  element ev;
  if (parse_padded(data, ev) != SUCCESS || !ev.is_object()) return;
  if (type == "message_start") {
    element message;
    if (ev["message"].get(message) == SUCCESS) {
      const std::string_view id = string_at(message, "id");
      if (!id.empty()) id_ = "chatcmpl-" + std::string(id);
      element usage;
      if (message["usage"].get(usage) == SUCCESS) read_usage(usage, input_, cache_read_, cache_write_, output_);
    }
    chunk(R"({"role":"assistant","content":""})", {}, out);
  } else if (type == "content_block_start") {
    element block;
    if (ev["content_block"].get(block) != SUCCESS || string_at(block, "type") != "tool_use") {
      tool_ = -1;
      return;
    }
    tool_ = tools_++;
    std::string d = R"({"tool_calls":[{"index":)";
    append_uint(d, static_cast<std::uint64_t>(tool_));
    d += R"(,"id":)";
    append_json_string(d, tool_id_to_upstream(string_at(block, "id")));
    d += R"(,"type":"function","function":{"name":)";
    append_json_string(d, string_at(block, "name"));
    d += R"(,"arguments":""}}]})";
    chunk(d, {}, out);
  } else if (type == "content_block_delta") {
    element delta;
    if (ev["delta"].get(delta) != SUCCESS) return;
    const std::string_view dt = string_at(delta, "type");
    std::string d;
    if (dt == "text_delta") {
      d = R"({"content":)";
      append_json_string(d, string_at(delta, "text"));
      d += '}';
    } else if (dt == "input_json_delta" && tool_ >= 0) {
      const std::string_view part = string_at(delta, "partial_json");
      if (part.empty()) return;
      d = R"({"tool_calls":[{"index":)";
      append_uint(d, static_cast<std::uint64_t>(tool_));
      d += R"(,"function":{"arguments":)";
      append_json_string(d, part);
      d += "}}]}";
    } else {
      return;  // thinking, signatures, citations: nothing an OpenAI client reads
    }
    chunk(d, {}, out);
  } else if (type == "content_block_stop") {
    tool_ = -1;
  } else if (type == "message_delta") {
    element usage, delta;
    if (ev["usage"].get(usage) == SUCCESS) read_usage(usage, input_, cache_read_, cache_write_, output_);
    std::string_view stop;
    if (ev["delta"].get(delta) == SUCCESS) stop = string_at(delta, "stop_reason");
    chunk("{}", finish_reason_for(stop), out);
  } else if (type == "message_stop") {
    if (options_.include_usage) {
      // OpenAI counts cached tokens inside prompt_tokens (§6.4).
      const std::uint64_t prompt = input_ + cache_read_ + cache_write_;
      chunk_head(out);
      out += R"(,"choices":[],"usage":)";
      append_openai_usage(out, prompt, output_, cache_read_);
      out += "}\n\n";
    }
    out += "data: [DONE]\n\n";
    done_ = true;
  } else if (type == "error") {
    element err;
    std::string_view etype = "api_error", message = "the upstream reported an error";
    if (ev["error"].get(err) == SUCCESS) {
      if (auto t = string_at(err, "type"); !t.empty()) etype = t;
      if (auto m = string_at(err, "message"); !m.empty()) message = m;
    }
    const OpenAIError e = openai_error_for(etype);
    out += R"(data: {"error":{"message":)";
    append_json_string(out, message);
    out += R"(,"type":)";
    append_json_string(out, e.type);
    out += R"(,"param":null,"code":)";
    if (e.code) {
      append_json_string(out, e.code);
    } else {
      out += "null";
    }
    out += "}}\n\n";
    done_ = true;
  }
}

}  // namespace sluice::translate
