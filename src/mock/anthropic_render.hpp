#pragma once
// Renders a ReplyPlan in the Anthropic dialect: the non-streaming Message JSON (§1.4) and the
// SSE event stream (§2.2–2.6): message_start, a ping after the first content_block_start, one
// delta per piece of text, input_json_delta fragments for tool input, signature_delta before a
// thinking block stops, message_delta with cumulative usage, message_stop. Every event has an
// `event:` line equal to its JSON `type`. Pure functions; thread-safe.

#include <string>
#include <string_view>

#include "mock/reply_plan.hpp"
#include "mock/sse_events.hpp"

namespace sluice::mock {

std::string render_anthropic_message(const ReplyPlan& plan, std::string_view message_id,
                                     std::string_view model);
SseEvents render_anthropic_stream(const ReplyPlan& plan, std::string_view message_id,
                                  std::string_view model);
// One `event: error` event, e.g. for error-after-N.
std::string render_anthropic_error_event(std::string_view type, std::string_view message);
// The bytes the malformed-sse fault inserts: a `ping` event whose data is not JSON, then a
// `data:` line without an `event:` line. The official SDKs skip both; a strict parser chokes.
std::string_view anthropic_malformed_events();

// Splits tool input JSON into the fragments streamed as partial_json: "" first, then 2–3
// pieces cut at UTF-8 boundaries (1 when the JSON is very short).
std::vector<std::string_view> json_fragments(std::string_view json);

}  // namespace sluice::mock
