#pragma once
// Anthropic Messages request -> OpenAI Chat Completions request (issue: translation, the Claude
// Code path; wire-protocols.md §6.1). The system prompt and `role: "system"` messages become
// one leading system message; text, images and documents become content parts (a plain string
// when the message is text only); tool_result blocks become `tool` messages, placed before the
// rest of their user turn; tool_use blocks become `tool_calls`; thinking blocks are dropped;
// consecutive turns of one role are merged; client tools become functions (server tools, which
// an OpenAI model cannot run, are dropped); tool_choice, stop sequences, max_tokens,
// temperature and top_p are mapped; a stream asks for its usage. Thread-safe (no shared state).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "translate/names.hpp"

namespace sluice::translate {

struct ChatRequestOptions {
  std::string model;                       // the upstream model name
  std::optional<std::int64_t> max_tokens;  // a cap on max_tokens (the upstream's output limit)
};

struct ChatRequest {
  std::string body;   // the Chat Completions JSON
  bool stream = false;
  ToolNames tools;    // the tool names the body uses, for mapping the answer back
};

// `anthropic_body` must be a valid Messages request (validated before). An error is an
// InvalidRequest naming what has no OpenAI form.
Result<ChatRequest> messages_to_chat(std::string_view anthropic_body, const ChatRequestOptions& options);

}  // namespace sluice::translate
