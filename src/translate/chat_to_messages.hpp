#pragma once
// OpenAI Chat Completions request -> Anthropic Messages request (issue: translation, OpenAI
// clients on Claude; wire-protocols.md §6.1b): system and developer messages (anywhere) become
// `system`; text and image parts become blocks; assistant tool_calls become tool_use blocks
// (arguments that are not a JSON object are the client's error); consecutive `tool` messages
// become one user turn of tool_result blocks; max_tokens / max_completion_tokens (a default when
// absent: Anthropic requires it), temperature (clamped to 1), top_p, stop, tools, tool_choice,
// parallel_tool_calls and user are mapped; n > 1 is refused. Thread-safe (no shared state).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sluice::translate {

struct MessagesRequest {
  std::string body;            // the Messages JSON
  std::string model;           // as the client named it
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage: the client wants the usage chunk
};

// Errors are InvalidRequest with OpenAI-style wording ("messages: Field required").
Result<MessagesRequest> chat_to_messages(std::string_view chat_body, std::int64_t default_max_tokens);

}  // namespace sluice::translate
