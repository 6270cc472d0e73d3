#include "translate/chat_stream.hpp"


#include <simdjson.h>

#include "common/padded_json.hpp"
#include "translate/json_out.hpp"
#include "translate/json_read.hpp"

namespace sluice::translate {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::element;

}  // namespace

std::string_view stop_reason_for(std::string_view finish_reason, bool had_tools) {
  if (finish_reason == "length") return "max_tokens";
  if (finish_reason == "tool_calls" || finish_reason == "function_call") return "tool_use";
  if (finish_reason == "content_filter") return "refusal";
  // Some servers say "stop" after tool calls: the calls are what the client must act on.
  return had_tools ? "tool_use" : "end_turn";
}

std::string_view anthropic_error_type(std::string_view type, std::string_view code) {
  if (type == "rate_limit_exceeded" || code == "rate_limit_exceeded" || type == "rate_limit_error") return "rate_limit_error";
  if (code == "insufficient_quota" || type == "insufficient_quota") return "billing_error";
  if (type == "invalid_request_error") return "invalid_request_error";
  if (type == "authentication_error" || code == "invalid_api_key") return "authentication_error";
  if (type == "permission_error") return "permission_error";
  if (type == "not_found_error" || code == "model_not_found") return "not_found_error";
  if (type == "overloaded_error" || type == "server_overloaded") return "overloaded_error";
  return "api_error";
}

ChatToMessagesStream::ChatToMessagesStream(StreamOptions options) : options_(std::move(options)) {}

void ChatToMessagesStream::feed(std::string_view bytes, std::string& out) {
  if (done_) return;
  Sink sink;
  sink.self = this;
  sink.out = &out;
  parser_.feed(bytes, sink);
  // The relay caps what it holds; the translator caps what it buffers the same way: one
  // unfinished upstream event, or the arguments of the tool calls, past 8 MiB is a broken stream.
  std::size_t arguments = 0;
  for (const auto& t : tools_) arguments += t.arguments.size();
  if (!done_ && (parser_.fed() - parser_.boundary() > kMaxBuffered || arguments > kMaxBuffered)) {
    error("api_error", "an upstream event or tool call exceeded 8 MiB", out);
  }
}

void ChatToMessagesStream::finish(std::string& out) {
  // A clean end after a finish reason is a finished answer (some servers send no [DONE]).
  if (!done_ && !finish_reason_.empty()) end(out);
}

void ChatToMessagesStream::on_data(std::string_view data, std::string& out) {
  if (done_) return;
  if (data == "[DONE]") {
    if (!started_) start({}, out);
    // [DONE] without a finish reason is a relay giving up, not an answer (§6.3).
    if (finish_reason_.empty()) error("api_error", "the upstream ended the stream without a finish reason", out);
    else end(out);
    return;
  }
  element chunk;
  if (parse_padded(data, chunk) != SUCCESS || !chunk.is_object()) {
    error("api_error", "the upstream sent a malformed stream chunk", out);
    return;
  }
  element err;
  if (chunk["error"].get(err) == SUCCESS && err.is_object()) {
    std::string_view message = string_at(err, "message");
    error(anthropic_error_type(string_at(err, "type"), string_at(err, "code")),
          message.empty() ? std::string_view("the upstream reported an error") : message, out);
    return;
  }
  if (!started_) start(string_at(chunk, "id"), out);

  element usage;
  if (chunk["usage"].get(usage) == SUCCESS && usage.is_object()) {
    prompt_tokens_ = uint_at(usage, "prompt_tokens");
    completion_tokens_ = uint_at(usage, "completion_tokens");
    element details;
    if (usage["prompt_tokens_details"].get(details) == SUCCESS && details.is_object()) {
      cached_tokens_ = uint_at(details, "cached_tokens");
      cache_write_tokens_ = uint_at(details, "cache_write_tokens");
    }
  }
  simdjson::dom::array choices;
  if (chunk["choices"].get_array().get(choices) != SUCCESS || choices.size() == 0) return;
  element choice = choices.at(0);
  element d;
  if (choice["delta"].get(d) == SUCCESS && d.is_object()) {
    std::string_view reasoning = string_at(d, "reasoning_content");
    if (reasoning.empty()) reasoning = string_at(d, "reasoning");
    if (!reasoning.empty() && live_tool_ < 0) {  // (reasoning amid a streaming call is dropped)
      open(Block::Thinking, out);
      delta("thinking_delta", "thinking", reasoning, out);
    }
    std::string_view content = string_at(d, "content");
    if (content.empty()) content = string_at(d, "refusal");  // a refusal is the answer's text
    if (!content.empty()) {
      if (live_tool_ >= 0) {
        held_text_.append(content);  // blocks cannot interleave: after the tool calls
        output_bytes_ += content.size();
      } else {
        open(Block::Text, out);
        delta("text_delta", "text", content, out);
      }
    }
    simdjson::dom::array calls;
    if (d["tool_calls"].get_array().get(calls) == SUCCESS) {
      for (element call : calls) {
        const std::uint64_t index = uint_at(call, "index").value_or(tools_.size());
        Tool* t = nullptr;
        for (auto& existing : tools_) {
          if (existing.openai_index == index) t = &existing;
        }
        if (!t) {
          tools_.push_back(Tool{index, {}, {}, {}, false});
          t = &tools_.back();
        }
        // Some servers repeat id and name in every fragment, or send them late: first one wins.
        if (t->id.empty()) t->id = std::string(string_at(call, "id"));
        element fn;
        std::string_view args;
        if (call["function"].get(fn) == SUCCESS) {
          if (t->name.empty()) t->name = std::string(string_at(fn, "name"));
          args = string_at(fn, "arguments");
        }
        tool_fragment(static_cast<std::size_t>(t - tools_.data()), args, out);
      }
    }
  }
  std::string_view finish = string_at(choice, "finish_reason");
  if (!finish.empty()) finish_reason_ = std::string(finish);  // held: the usage comes after it
}

void ChatToMessagesStream::start(std::string_view upstream_id, std::string& out) {
  started_ = true;
  std::string data = R"({"type":"message_start","message":{"id":)";
  std::string id = message_id_for(upstream_id);
  if (upstream_id.empty()) id += "sluice";
  append_json_string(data, id);
  data += R"(,"type":"message","role":"assistant","model":)";
  append_json_string(data, options_.model);
  data += R"(,"content":[],"stop_reason":null,"stop_sequence":null,"usage":)";
  append_anthropic_usage(data, options_.input_estimate, 0, 0, 0);
  data += "}}";
  stream::append_event(out, "message_start", data);
}

void ChatToMessagesStream::open(Block kind, std::string& out) {
  if (open_ == kind) return;
  close(out);
  live_tool_ = -1;
  open_ = kind;
  std::string data = R"({"type":"content_block_start","index":)";
  append_uint(data, next_index_);
  data += kind == Block::Thinking ? R"(,"content_block":{"type":"thinking","thinking":"","signature":""}})"
                                  : R"(,"content_block":{"type":"text","text":""}})";
  stream::append_event(out, "content_block_start", data);
}

void ChatToMessagesStream::close(std::string& out) {
  if (open_ == Block::None) return;
  std::string data = R"({"type":"content_block_stop","index":)";
  append_uint(data, next_index_++);
  data += '}';
  stream::append_event(out, "content_block_stop", data);
  open_ = Block::None;
}

void ChatToMessagesStream::delta(std::string_view delta_type, std::string_view field, std::string_view text,
                                 std::string& out) {
  output_bytes_ += text.size();
  std::string data;
  data.reserve(text.size() + 96);
  data += R"({"type":"content_block_delta","index":)";
  append_uint(data, next_index_);
  data += R"(,"delta":{"type":")";
  data += delta_type;
  data += R"(",")";
  data += field;
  data += R"(":)";
  append_json_string(data, text);
  data += "}}";
  stream::append_event(out, "content_block_delta", data);
}

void ChatToMessagesStream::tool_block_start(std::size_t k, std::string& out) {
  const Tool& t = tools_[k];
  std::string data = R"({"type":"content_block_start","index":)";
  append_uint(data, next_index_);
  data += R"(,"content_block":{"type":"tool_use","id":)";
  append_json_string(data, t.id.empty() ? "toolu_sluice_" + std::to_string(k) : tool_id_to_client(t.id));
  data += R"(,"name":)";
  append_json_string(data, options_.tools ? options_.tools->to_client(t.name) : t.name);
  data += R"(,"input":{}}})";
  stream::append_event(out, "content_block_start", data);
}

void ChatToMessagesStream::tool_arguments(std::string_view json, std::string& out) {
  std::string data = R"({"type":"content_block_delta","index":)";
  append_uint(data, next_index_);
  data += R"(,"delta":{"type":"input_json_delta","partial_json":)";
  append_json_string(data, json);
  data += "}}";
  stream::append_event(out, "content_block_delta", data);
}

void ChatToMessagesStream::tool_fragment(std::size_t k, std::string_view args, std::string& out) {
  Tool& t = tools_[k];
  t.arguments.append(args);
  output_bytes_ += args.size();
  if (live_tool_ == static_cast<long>(k)) {
    if (!args.empty()) tool_arguments(args, out);
    return;
  }
  if (t.live) return;  // its block is closed (cannot happen with the rules above)
  // The first call streams live once its name is known; later ones wait while it streams.
  if (live_tool_ >= 0 || t.name.empty()) return;
  bool first_pending = true;
  for (std::size_t j = 0; j < k; ++j) first_pending = first_pending && tools_[j].live;
  if (!first_pending) return;
  close(out);
  open_ = Block::Tool;
  t.live = true;
  live_tool_ = static_cast<long>(k);
  tool_block_start(k, out);
  if (!t.arguments.empty()) tool_arguments(t.arguments, out);
}

void ChatToMessagesStream::end(std::string& out) {
  close(out);
  live_tool_ = -1;
  // The calls that waited, each as one contiguous block, in the order they first appeared.
  for (std::size_t k = 0; k < tools_.size(); ++k) {
    const Tool& t = tools_[k];
    if (t.live) continue;
    tool_block_start(k, out);
    // The input must be a JSON object: empty or broken arguments become {}.
    tool_arguments(is_json_object(t.arguments) ? std::string_view(t.arguments) : std::string_view("{}"), out);
    std::string data = R"({"type":"content_block_stop","index":)";
    append_uint(data, next_index_++);
    data += '}';
    stream::append_event(out, "content_block_stop", data);
  }
  if (!held_text_.empty()) {
    open(Block::Text, out);
    delta("text_delta", "text", held_text_, out);
    output_bytes_ -= held_text_.size();  // counted when it came
    close(out);
  }
  // Usage per §6.4: OpenAI counts cached tokens inside prompt_tokens, Anthropic outside.
  const std::uint64_t cached = cached_tokens_.value_or(0);
  const std::uint64_t written = cache_write_tokens_.value_or(0);
  std::uint64_t input = options_.input_estimate;
  if (prompt_tokens_) input = *prompt_tokens_ > cached + written ? *prompt_tokens_ - cached - written : 0;
  const std::uint64_t output = completion_tokens_.value_or((output_bytes_ + 3) / 4);
  std::string data = R"({"type":"message_delta","delta":{"stop_reason":")";
  data += stop_reason_for(finish_reason_, !tools_.empty());
  data += R"(","stop_sequence":null},"usage":)";
  append_anthropic_usage(data, input, written, cached, output);
  data += '}';
  stream::append_event(out, "message_delta", data);
  stream::append_event(out, "message_stop", R"({"type":"message_stop"})");
  done_ = true;
}

void ChatToMessagesStream::error(std::string_view type, std::string_view message, std::string& out) {
  std::string data = R"({"type":"error","error":{"type":)";
  append_json_string(data, type);
  data += R"(,"message":)";
  append_json_string(data, message);
  data += "}}";
  stream::append_event(out, "error", data);
  done_ = true;
  failed_ = true;
}

}  // namespace sluice::translate
