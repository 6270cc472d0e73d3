#pragma once
// A whole OpenAI Chat Completions answer -> the Anthropic answer (issue: translation;
// wire-protocols.md §6.2-§6.4, §6.7): a chat.completion becomes a Message (reasoning as a
// thinking block, content as text, tool calls as tool_use blocks with parsed input, the finish
// reason mapped, usage with cached tokens taken out of the input count); an error response
// becomes an Anthropic error with the status and type the table maps it to, and an upstream
// context overflow is worded as the API words it ("prompt is too long: N tokens > W maximum").
// Pure functions; thread-safe.

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "translate/chat_stream.hpp"

namespace sluice::translate {

// `options.input_estimate` stands in for a missing usage.prompt_tokens.
Result<std::string> chat_to_message(std::string_view chat_body, const StreamOptions& options);

struct TranslatedError {
  int status = 500;
  std::string type;     // Anthropic error.type
  std::string message;
};
TranslatedError chat_error_to_anthropic(int status, std::string_view body);

// True when a chat.completion reports its usage (prompt and completion tokens).
bool chat_has_usage(std::string_view chat_body);

}  // namespace sluice::translate
