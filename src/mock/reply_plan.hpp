#pragma once
// The deterministic answer to a request, before it is rendered in a dialect: which content
// blocks (thinking, text, tool_use), their text, why the turn stopped, and the usage. The same
// PlanInput always gives the same plan, except for the ids that assign_ids() fills in.
// Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mock/plan_input.hpp"

namespace sluice::mock {

enum class BlockKind : std::uint8_t {
  Thinking,  // extended thinking (Anthropic) / reasoning_content (OpenAI-compatible)
  Text,      // assistant text
  ToolUse,   // a client tool call
};

enum class StopReason : std::uint8_t {
  EndTurn,       // end_turn / stop
  MaxTokens,     // max_tokens / length
  StopSequence,  // stop_sequence / stop
  ToolUse,       // tool_use / tool_calls
};

const char* anthropic_stop_reason(StopReason r);
const char* openai_finish_reason(StopReason r);

struct Block {
  BlockKind kind = BlockKind::Text;
  std::string text;       // thinking text, reply text, or the tool input as compact JSON
  std::string name;       // ToolUse: the tool's name
  std::string id;         // ToolUse: toolu_… / call_…, set by assign_ids()
  std::string signature;  // Thinking: deterministic opaque signature
  std::uint64_t tokens = 0;  // output tokens this block accounts for
};

struct Usage {
  std::uint64_t input_tokens = 0;
  std::uint64_t cache_creation_input_tokens = 0;
  std::uint64_t cache_read_input_tokens = 0;
  std::uint64_t output_tokens = 0;
};

struct ReplyPlan {
  std::vector<Block> blocks;  // in content order; never empty
  StopReason stop_reason = StopReason::EndTurn;
  std::string stop_sequence;  // the matched stop sequence when stop_reason is StopSequence
  Usage usage;

  std::uint64_t thinking_tokens() const;
};

ReplyPlan make_plan(const PlanInput& in);

// Fills in random tool-call ids: `toolu_` + 24 base62 characters, or `call_` + 24 for OpenAI.
void assign_ids(ReplyPlan& plan, const char* prefix);

// The text part of a plain reply to `user_text` (exposed for tests and the README).
std::string greeting_for(std::string_view user_text);

}  // namespace sluice::mock
