#pragma once
// Anthropic Messages stream -> OpenAI Chat Completions stream (issue: translation, OpenAI
// clients on Claude; wire-protocols.md §6.6). Anthropic SSE bytes in, `data:` chunks out: a
// first chunk with the assistant role, text deltas as content, each tool_use block as a
// tool_calls entry (index counting tool blocks only) with its input JSON as argument fragments,
// the stop reason as finish_reason, the usage chunk when the client asked for it, `data: [DONE]`.
// Thinking and other blocks are dropped; an error event becomes an error object and ends the
// stream without [DONE]. Never an `event:` line (the OpenAI SDKs choke on them). One per
// stream; not thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "stream/sse_parser.hpp"

namespace sluice::translate {

// OpenAI finish_reason for an Anthropic stop_reason.
std::string_view finish_reason_for(std::string_view stop_reason);
// OpenAI error type, code and status for an Anthropic error type.
struct OpenAIError {
  int status;
  const char* type;
  const char* code;  // nullptr: JSON null
};
OpenAIError openai_error_for(std::string_view anthropic_type);

struct ChatStreamOptions {
  std::string model;           // as the client named it
  bool include_usage = false;  // stream_options.include_usage
  std::int64_t created = 0;    // Unix seconds
};

class MessagesToChatStream {
 public:
  explicit MessagesToChatStream(ChatStreamOptions options) : options_(std::move(options)) {}

  void feed(std::string_view bytes, std::string& out);

 private:
  struct Sink final : stream::SseSink {
    MessagesToChatStream* self = nullptr;
    std::string* out = nullptr;
    void on_event(const stream::SseEvent& ev) override { self->on_event(ev.type, ev.data, *out); }
  };
  void on_event(std::string_view type, std::string_view data, std::string& out);
  void chunk(std::string_view delta_json, std::string_view finish, std::string& out);
  void chunk_head(std::string& out) const;  // `data: {"id",...,"model"` of every chunk

  ChatStreamOptions options_;
  stream::SseParser parser_;
  std::string id_ = "chatcmpl-sluice";
  bool done_ = false;
  long tool_ = -1;          // the OpenAI index of the open tool_use block, -1 when none
  long tools_ = 0;          // tool_use blocks so far
  std::uint64_t input_ = 0, cache_read_ = 0, cache_write_ = 0, output_ = 0;
};

}  // namespace sluice::translate
