#pragma once
// Renders a ReplyPlan in the OpenAI Chat Completions dialect: the `chat.completion` object
// (§5.3) and the `chat.completion.chunk` stream (§5.4): a first chunk with role "assistant",
// reasoning_content deltas (DeepSeek style) for a thinking block, content deltas, tool_calls
// deltas keyed by index, a finish chunk, a usage chunk with "choices":[] only when
// include_usage, then `data: [DONE]`. No `event:` lines. Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "mock/reply_plan.hpp"
#include "mock/sse_events.hpp"

namespace sluice::mock {

struct ChatMeta {
  std::string_view id;       // chatcmpl-…
  std::string_view model;    // echoed from the request
  std::int64_t created = 0;  // unix seconds
  bool include_usage = false;
};

std::string render_chat_completion(const ReplyPlan& plan, const ChatMeta& meta);
SseEvents render_chat_chunks(const ReplyPlan& plan, const ChatMeta& meta);
// A mid-stream error: `data: {"error":{…}}` (the SDKs raise on a top-level `error` key).
std::string render_chat_error_event(std::string_view message, std::string_view type);
// The bytes the malformed-sse fault inserts: a `data:` line that is not JSON.
std::string_view chat_malformed_events();

}  // namespace sluice::mock
