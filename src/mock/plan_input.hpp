#pragma once
// What the reply planner needs from a request, the same for both dialects: read from an
// Anthropic Messages request (anthropic_request.hpp) or an OpenAI Chat Completions request
// (openai_request.hpp). Views point into the parsed request JSON, which must outlive this.
// Plain data; not synchronised.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace sluice::mock {

// How the request lets the model pick tools.
enum class ToolChoice : std::uint8_t {
  Auto,  // a tool is used when the prompt names it (whole word, case-sensitive)
  Any,   // some tool must be used: the named one, else the first
  Tool,  // the tool named in `forced_tool` must be used
  None,  // tools must not be used
};

// A client tool the request offers.
struct ToolSpec {
  std::string_view name;
  const boost::json::object* input_schema = nullptr;  // JSON Schema of the input, if any
};

struct PlanInput {
  std::string_view user_text;        // last user text block (system reminders skipped), trimmed
  bool tool_result_last = false;     // the last user turn carries a tool result
  std::string tool_result_text;      // its text (joined when it has several text parts)
  std::vector<ToolSpec> tools;
  ToolChoice tool_choice = ToolChoice::Auto;
  std::string_view forced_tool;      // for ToolChoice::Tool
  bool thinking = false;             // emit a thinking / reasoning block first
  bool thinking_hidden = false;      // thinking.display == "omitted": counted, text not shown
  std::vector<std::string_view> stop_sequences;
  std::uint64_t max_tokens = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t input_tokens = 1;
  std::uint64_t cache_creation_input_tokens = 0;
  std::uint64_t cache_read_input_tokens = 0;
  std::optional<std::string> reply_override;  // x-mock-reply, already valid UTF-8
  // A final assistant message (a prefill): its text. The reply continues it: when the answer
  // the mock would give starts with it, only the rest is generated (so a stream re-requested
  // with its partial text as a prefill continues exactly where it broke).
  std::string prefill;
};

}  // namespace sluice::mock
