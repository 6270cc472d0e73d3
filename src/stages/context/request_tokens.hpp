#pragma once
// The estimated input tokens of an Anthropic Messages request (issue: long-context guard):
// the text of `system`, every message's content blocks (text, tool_use input, tool_result
// content, documents of text, images by their pixel size, PDFs by their pages, thinking in the
// last assistant turn only, other blocks by the text inside them) and the tool definitions,
// plus the framing the API adds around each. Where the cost is unknowable it counts low, the
// safe side for a guard. Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace sluice::stages::context {

// Framing tokens the API adds that no text shows (assumed; see docs/context-guard.md).
inline constexpr std::uint64_t kRequestOverhead = 4;   // once per request
inline constexpr std::uint64_t kMessageOverhead = 4;   // per message: role and turn markers
inline constexpr std::uint64_t kToolsOverhead = 300;   // the tool-use system prompt, when tools are given

struct RequestTokens {
  std::uint64_t fixed = 0;                // system, tools and the request's own framing
  std::vector<std::uint64_t> messages;    // per message, framing included, in order
  // `context_management` edits: the API applies them before the model reads the prompt, so it
  // may accept more than the estimate says. `clears` when one clears tool uses or results.
  bool edits_context = false;
  bool clears_context = false;
  std::uint64_t total() const {
    std::uint64_t t = fixed;
    for (auto m : messages) t += m;
    return t;
  }
};

// nullopt when `body` is not a JSON object with a `messages` array (validation ran before).
std::optional<RequestTokens> estimate_request(std::string_view body);

}  // namespace sluice::stages::context
