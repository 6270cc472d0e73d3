#include "stages/meter/usage.hpp"

#include <gtest/gtest.h>

namespace sluice::stages::meter {
namespace {

constexpr std::string_view kStart =
    R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,"output_tokens":2}}})";

TEST(StreamMeter, OverlaysTheLastDeltaOnTheStartAndNeverSums) {
  StreamMeter m;
  m.on_event("message_start", kStart);
  m.on_event("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}})");
  m.on_event("message_delta", R"({"type":"message_delta","delta":{"stop_reason":null},"usage":{"output_tokens":40}})");
  m.on_event("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":89}})");
  Usage u = m.usage();
  EXPECT_EQ(u.input_tokens, 472);
  EXPECT_EQ(u.cache_creation_tokens, 100);
  EXPECT_EQ(u.cache_read_tokens, 2000);
  EXPECT_EQ(u.output_tokens, 89);  // the last cumulative count, not 40 + 89
  EXPECT_FALSE(u.estimated);
  EXPECT_TRUE(m.saw_final());
  EXPECT_EQ(u.total_tokens(), 472 + 100 + 2000 + 89);
}

TEST(StreamMeter, DeltaInputCountsReplaceTheStartsAndNullsAreIgnored) {
  // With server tools the final input count is larger than message_start's (wire-protocols §2.4).
  StreamMeter m;
  m.on_event("message_start", kStart);
  m.on_event("message_delta",
             R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":10682,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":510,"server_tool_use":{"web_search_requests":2,"web_fetch_requests":1}}})");
  Usage u = m.usage();
  EXPECT_EQ(u.input_tokens, 10682);
  EXPECT_EQ(u.cache_creation_tokens, 100);
  EXPECT_EQ(u.cache_read_tokens, 2000);
  EXPECT_EQ(u.output_tokens, 510);
  EXPECT_EQ(u.server_tool_uses, 3);
}

TEST(StreamMeter, ABrokenStreamIsEstimatedFromDeliveredText) {
  StreamMeter m;
  m.on_event("message_start", kStart);
  m.on_event("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"0123456789abcdef"}})");
  m.on_event("content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}})");
  m.on_event("content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"thinking_delta","thinking":"hmm"}})");
  Usage u = m.usage();
  EXPECT_TRUE(u.estimated);
  EXPECT_FALSE(m.saw_final());
  EXPECT_EQ(m.delivered_text_bytes(), 16 + 9 + 3);  // escapes count as sent
  EXPECT_EQ(u.output_tokens, estimate_tokens(28));
  EXPECT_EQ(u.input_tokens, 472);  // the input side was reported by message_start
}

TEST(StreamMeter, NothingDeliveredIsZeroAndNotEstimated) {
  StreamMeter m;
  m.on_event("ping", "{}");
  EXPECT_EQ(m.usage(), Usage{});
}

TEST(StreamMeter, MalformedUsageEventsAreIgnored) {
  StreamMeter m;
  m.on_event("message_start", "{not json");
  m.on_event("message_delta", R"({"usage":{"output_tokens":-5}})");
  m.on_event("message_delta", R"({"usage":"nope"})");
  Usage u = m.usage();
  EXPECT_EQ(u.output_tokens, 0);
  EXPECT_EQ(u.input_tokens, 0);
}

TEST(StreamMeter, AbsurdCountsAreClampedSoCostsCannotOverflow) {
  StreamMeter m;
  m.on_event("message_start", R"({"message":{"usage":{"input_tokens":9223372036854775807,"output_tokens":9223372036854775807}}})");
  m.on_event("message_delta", R"({"usage":{"output_tokens":9223372036854775807,"server_tool_use":{"a":9223372036854775807,"b":5}}})");
  Usage u = m.usage();
  EXPECT_EQ(u.input_tokens, 1'000'000'000'000);
  EXPECT_EQ(u.output_tokens, 1'000'000'000'000);
  EXPECT_EQ(u.server_tool_uses, 1'000'000'000);
}

TEST(UsageFromMessage, ReadsEveryCounter) {
  auto u = usage_from_message(
      R"({"id":"msg_1","type":"message","content":[],"usage":{"input_tokens":12,"cache_creation_input_tokens":3,"cache_read_input_tokens":4,"cache_creation":{"ephemeral_5m_input_tokens":3},"output_tokens":9,"service_tier":"standard","server_tool_use":{"web_search_requests":1}}})");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->input_tokens, 12);
  EXPECT_EQ(u->cache_creation_tokens, 3);
  EXPECT_EQ(u->cache_read_tokens, 4);
  EXPECT_EQ(u->output_tokens, 9);
  EXPECT_EQ(u->server_tool_uses, 1);
  EXPECT_FALSE(u->estimated);
}

TEST(UsageFromMessage, NoUsageOrNoJson) {
  EXPECT_FALSE(usage_from_message(R"({"type":"error","error":{"type":"api_error"}})").has_value());
  EXPECT_FALSE(usage_from_message("garbage").has_value());
}

}  // namespace
}  // namespace sluice::stages::meter
