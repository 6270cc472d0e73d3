#pragma once
// A whole Anthropic answer -> the OpenAI answer (issue: translation, OpenAI clients on Claude;
// wire-protocols.md §6.6, §6.7): a Message becomes a chat.completion (text blocks joined as
// content, tool_use blocks as tool_calls with their input as arguments, thinking dropped, the
// stop reason as finish_reason, usage with cache tokens counted inside prompt_tokens); an
// Anthropic error becomes an OpenAI error with the status its type maps to. Pure; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sluice::translate {

Result<std::string> message_to_chat_completion(std::string_view message_json, std::string_view model,
                                               std::int64_t created);

struct ChatError {
  int status = 500;
  std::string body;  // {"error":{"message","type","param","code"}}
};
ChatError anthropic_error_to_openai(int status, std::string_view body);

}  // namespace sluice::translate
