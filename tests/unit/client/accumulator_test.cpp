#include "client/accumulator.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace sluice::client {
namespace {

using State = MessageAccumulator::State;
using Events = std::vector<std::pair<std::string, std::string>>;

// wire-protocols.md §2.5: text, then a tool call.
const Events kTextThenTool = {
    {"message_start", R"({"type":"message_start","message":{"id":"msg_014p","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}})"},
    {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
    {"ping", R"({"type": "ping"})"},
    {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay, let's check"}})"},
    {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the weather."}})"},
    {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
    {"content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1","name":"get_weather","input":{}}})"},
    {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}})"},
    {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}})"},
    {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"San Francisco, CA\"}"}})"},
    {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
    {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}})"},
    {"message_stop", R"({"type":"message_stop"})"},
};

State feed_all(MessageAccumulator& acc, const Events& events) {
  for (const auto& [e, d] : events) acc.feed(e, d);
  return acc.state();
}

TEST(MessageAccumulator, TextThenToolCallAsTheSdkAccumulatesIt) {
  std::string text;
  std::string json;
  std::vector<Usage> usages;
  std::vector<std::string> stopped_blocks;
  int stops = 0;
  StreamCallbacks cb;
  cb.on_text = [&](std::size_t i, std::string_view t) { EXPECT_EQ(i, 0u); text += t; };
  cb.on_input_json = [&](std::size_t i, std::string_view j) { EXPECT_EQ(i, 1u); json += j; };
  cb.on_usage = [&](const Usage& u) { usages.push_back(u); };
  cb.on_block_stop = [&](std::size_t, const ContentBlock& b) { stopped_blocks.push_back(b.type); };
  cb.on_stop = [&](const Message& m) { ++stops; EXPECT_EQ(m.stop_reason, "tool_use"); };
  MessageAccumulator acc(cb, 200, "req_1");
  ASSERT_EQ(feed_all(acc, kTextThenTool), State::Stopped);
  EXPECT_EQ(text, "Okay, let's check the weather.");
  EXPECT_EQ(json, "{\"location\": \"San Francisco, CA\"}");
  EXPECT_EQ(stops, 1);
  EXPECT_EQ(stopped_blocks, (std::vector<std::string>{"text", "tool_use"}));
  ASSERT_EQ(usages.size(), 2u);
  EXPECT_EQ(usages[0].output_tokens, 2);
  EXPECT_EQ(usages[1].output_tokens, 89);
  EXPECT_EQ(usages[1].input_tokens, 472);

  const Message& m = acc.message();
  EXPECT_EQ(m.id, "msg_014p");
  EXPECT_EQ(m.request_id, "req_1");
  ASSERT_EQ(m.content.size(), 2u);
  EXPECT_EQ(m.content[0].text, "Okay, let's check the weather.");
  EXPECT_EQ(m.content[1].name, "get_weather");
  EXPECT_EQ(m.content[1].input.as_object().at("location"), "San Francisco, CA");
  EXPECT_EQ(m.stop_reason, "tool_use");
  EXPECT_EQ(m.usage.output_tokens, 89);
}

TEST(MessageAccumulator, ThinkingAndSignature) {
  Events ev = {
      {"message_start", R"({"type":"message_start","message":{"id":"m","role":"assistant","model":"x","content":[],"usage":{"input_tokens":5,"output_tokens":1}}})"},
      {"content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Let me "}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"think"}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
      {"content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})"},
      {"content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"12,231"}})"},
      {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
      {"message_delta", R"({"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":310}})"},
      {"message_stop", R"({"type":"message_stop"})"},
  };
  std::string thinking, sig;
  StreamCallbacks cb;
  cb.on_thinking = [&](std::size_t, std::string_view t) { thinking += t; };
  cb.on_signature = [&](std::size_t, std::string_view s) { sig += s; };
  MessageAccumulator acc(cb, 200, "");
  ASSERT_EQ(feed_all(acc, ev), State::Stopped);
  EXPECT_EQ(thinking, "Let me think");
  EXPECT_EQ(sig, "EqQBCgIYAhIM");
  EXPECT_EQ(acc.message().content[0].thinking, "Let me think");
  EXPECT_EQ(acc.message().content[0].signature, "EqQBCgIYAhIM");
  EXPECT_EQ(acc.message().text(), "12,231");
}

TEST(MessageAccumulator, ErrorEventIsAnApiError) {
  StreamCallbacks cb;
  MessageAccumulator acc(cb, 200, "req_9");
  acc.feed("message_start", kTextThenTool[0].second);
  acc.feed("content_block_start", kTextThenTool[1].second);
  auto s = acc.feed("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  ASSERT_EQ(s, State::Failed);
  EXPECT_EQ(acc.error().kind, ErrorKind::Api);
  EXPECT_EQ(acc.error().status, 200);
  EXPECT_EQ(acc.error().type, "overloaded_error");
  EXPECT_EQ(acc.error().message, "Overloaded");
  EXPECT_EQ(acc.error().request_id, "req_9");
  // Nothing after the error changes the outcome.
  EXPECT_EQ(acc.feed("message_stop", "{}"), State::Failed);
}

TEST(MessageAccumulator, EventBeforeMessageStartIsAnOrderError) {
  StreamCallbacks cb;
  MessageAccumulator acc(cb, 200, "");
  EXPECT_EQ(acc.feed("content_block_start", kTextThenTool[1].second), State::Failed);
  EXPECT_EQ(acc.error().kind, ErrorKind::InvalidResponse);
}

TEST(MessageAccumulator, ASecondMessageStartIsAnOrderError) {
  StreamCallbacks cb;
  MessageAccumulator acc(cb, 200, "");
  acc.feed("message_start", kTextThenTool[0].second);
  acc.feed("content_block_start", kTextThenTool[1].second);
  EXPECT_EQ(acc.feed("message_start", kTextThenTool[0].second), State::Failed);
  EXPECT_EQ(acc.error().kind, ErrorKind::InvalidResponse);
  EXPECT_EQ(acc.message().content.size(), 1u);  // what was received is kept
}

TEST(MessageAccumulator, DeltaForAnUnstartedBlockIsAnError) {
  StreamCallbacks cb;
  MessageAccumulator acc(cb, 200, "");
  acc.feed("message_start", kTextThenTool[0].second);
  EXPECT_EQ(acc.feed("content_block_delta", kTextThenTool[3].second), State::Failed);
}

TEST(MessageAccumulator, MalformedToolInputFailsAtBlockStop) {
  StreamCallbacks cb;
  MessageAccumulator acc(cb, 200, "");
  acc.feed("message_start", kTextThenTool[0].second);
  acc.feed("content_block_start", R"({"index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}})");
  acc.feed("content_block_delta", R"({"index":0,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}})");
  EXPECT_EQ(acc.feed("content_block_stop", R"({"index":0})"), State::Failed);
  EXPECT_NE(acc.error().message.find("not valid JSON"), std::string::npos);
}

TEST(MessageAccumulator, NonJsonDataIsAnError) {
  StreamCallbacks cb;
  MessageAccumulator acc(cb, 200, "");
  EXPECT_EQ(acc.feed("message_start", "not json"), State::Failed);
}

TEST(MessageAccumulator, UnknownEventsAndDeltasAreTolerated) {
  std::vector<std::string> unknown;
  StreamCallbacks cb;
  cb.on_unknown_event = [&](std::string_view e, std::string_view) { unknown.emplace_back(e); };
  MessageAccumulator acc(cb, 200, "");
  acc.feed("message_start", kTextThenTool[0].second);
  acc.feed("content_block_start", kTextThenTool[1].second);
  EXPECT_EQ(acc.feed("brand_new_event", "{}"), State::Open);
  EXPECT_EQ(acc.feed("content_block_delta", R"({"index":0,"delta":{"type":"future_delta","x":1}})"), State::Open);
  EXPECT_EQ(acc.feed("content_block_delta", R"({"index":0,"delta":{"type":"citations_delta","citation":{"n":1}}})"),
            State::Open);
  EXPECT_EQ(unknown, (std::vector<std::string>{"brand_new_event"}));
  EXPECT_EQ(acc.message().content[0].extra.at("citations").as_array().size(), 1u);
}

TEST(MessageAccumulator, ADeltaForAnotherKindOfBlockIsDropped) {
  std::string text;
  StreamCallbacks cb;
  cb.on_text = [&](std::size_t, std::string_view t) { text += t; };
  MessageAccumulator acc(cb, 200, "");
  acc.feed("message_start", kTextThenTool[0].second);
  acc.feed("content_block_start", R"({"index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}})");
  EXPECT_EQ(acc.feed("content_block_delta", R"({"index":0,"delta":{"type":"text_delta","text":"x"}})"), State::Open);
  EXPECT_EQ(text, "");
  EXPECT_EQ(acc.message().content[0].text, "");
}

TEST(MessageAccumulator, WithoutMessageStopItStaysOpen) {
  StreamCallbacks cb;
  MessageAccumulator acc(cb, 200, "");
  Events partial(kTextThenTool.begin(), kTextThenTool.end() - 1);
  EXPECT_EQ(feed_all(acc, partial), State::Open);
}

}  // namespace
}  // namespace sluice::client
