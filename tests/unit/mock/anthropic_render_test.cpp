// Tests of the Anthropic renderer (src/mock/anthropic_render.*): the stream must follow the
// event grammar of wire-protocols.md §2.2–2.6 and accumulate to the non-streaming Message.

#include "mock/anthropic_render.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "mock/anthropic_request.hpp"
#include "unit/mock/sse_testing.hpp"

namespace sluice::mock {
namespace {

namespace bj = boost::json;
using testing::Event;
using testing::json;
using testing::parse_sse;

ReplyPlan plan_for(const std::string& request) {
  const bj::value body = json(request);
  MessagesRequest req;
  EXPECT_FALSE(read_messages_request(body, req));
  ReplyPlan plan = make_plan(req.plan);
  assign_ids(plan, "toolu_");
  return plan;
}

// Checks the §2.2 grammar and accumulates the stream into a Message, as the SDKs do.
bj::object accumulate(const SseEvents& ev) {
  // Every item is exactly one event.
  std::string all;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    bool ok = false;
    auto one = parse_sse(ev.at(i), &ok);
    EXPECT_TRUE(ok) << ev.at(i);
    EXPECT_EQ(one.size(), 1u) << ev.at(i);
    all.append(ev.at(i));
  }
  EXPECT_EQ(all, ev.bytes);
  bool ok = false;
  const std::vector<Event> events = parse_sse(ev.bytes, &ok);
  EXPECT_TRUE(ok);

  bj::object msg;
  std::vector<std::string> partial_json;
  int open = -1;
  bool stopped = false;
  bool ping_seen = false;
  std::uint64_t last_output = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    EXPECT_FALSE(e.name.empty()) << "every Anthropic event needs an event: line";
    if (e.name.empty()) continue;
    const bj::object data = json(e.data).as_object();
    EXPECT_EQ(data.at("type").as_string(), e.name) << "event name must equal the JSON type";
    EXPECT_FALSE(stopped) << "nothing after message_stop";
    if (i == 0) {
      EXPECT_EQ(e.name, "message_start");
    }
    if (e.name == "message_start") {
      EXPECT_EQ(i, 0u);
      msg = data.at("message").as_object();
      EXPECT_TRUE(msg.at("content").as_array().empty());
      EXPECT_TRUE(msg.at("stop_reason").is_null());
      EXPECT_EQ(msg.at("usage").at("output_tokens").as_int64(), 1);
      EXPECT_GE(msg.at("usage").at("input_tokens").as_int64(), 1);
    } else if (e.name == "ping") {
      ping_seen = true;
      EXPECT_EQ(events[i - 1].name, "content_block_start");
    } else if (e.name == "content_block_start") {
      EXPECT_EQ(open, -1) << "blocks never interleave";
      auto& content = msg.at("content").as_array();
      EXPECT_EQ(data.at("index").as_int64(), static_cast<std::int64_t>(content.size())) << "indexes are dense";
      open = static_cast<int>(content.size());
      content.push_back(data.at("content_block"));
      partial_json.emplace_back();
    } else if (e.name == "content_block_delta") {
      EXPECT_EQ(data.at("index").as_int64(), open);
      auto& block = msg.at("content").as_array().at(open).as_object();
      const auto& d = data.at("delta").as_object();
      const std::string_view dt = d.at("type").as_string();
      if (dt == "text_delta") {
        EXPECT_EQ(block.at("type").as_string(), "text");
        block["text"] = std::string(block.at("text").as_string()) + std::string(d.at("text").as_string());
      } else if (dt == "thinking_delta") {
        EXPECT_EQ(block.at("type").as_string(), "thinking");
        block["thinking"] = std::string(block.at("thinking").as_string()) + std::string(d.at("thinking").as_string());
      } else if (dt == "signature_delta") {
        EXPECT_EQ(block.at("type").as_string(), "thinking");
        EXPECT_EQ(events[i + 1].name, "content_block_stop") << "signature_delta comes just before the stop";
        block["signature"] = d.at("signature");
      } else if (dt == "input_json_delta") {
        EXPECT_EQ(block.at("type").as_string(), "tool_use");
        partial_json.back() += std::string(d.at("partial_json").as_string());
      } else {
        ADD_FAILURE() << "unknown delta " << dt;
      }
    } else if (e.name == "content_block_stop") {
      EXPECT_EQ(data.at("index").as_int64(), open);
      auto& block = msg.at("content").as_array().at(open).as_object();
      if (block.at("type").as_string() == "tool_use") {
        EXPECT_FALSE(partial_json.back().empty());
        block["input"] = json(partial_json.back());
        EXPECT_TRUE(block.at("input").is_object());
      }
      open = -1;
    } else if (e.name == "message_delta") {
      EXPECT_EQ(open, -1);
      const auto& usage = data.at("usage").as_object();
      const auto out = static_cast<std::uint64_t>(usage.at("output_tokens").as_int64());
      EXPECT_GE(out, last_output) << "usage is cumulative";
      last_output = out;
      msg["stop_reason"] = data.at("delta").at("stop_reason");
      msg["stop_sequence"] = data.at("delta").at("stop_sequence");
      auto& mu = msg.at("usage").as_object();
      for (const auto& kv : usage) mu[kv.key()] = kv.value();
    } else if (e.name == "message_stop") {
      stopped = true;
    } else {
      ADD_FAILURE() << "unexpected event " << e.name;
    }
  }
  EXPECT_TRUE(stopped) << "a stream ends with message_stop";
  EXPECT_TRUE(ping_seen);
  return msg;
}

TEST(AnthropicRender, TextStreamFollowsTheGrammarAndMatchesTheMessage) {
  const ReplyPlan plan = plan_for(R"({"model":"claude-x","max_tokens":100,"messages":[{"role":"user","content":"say \"hi\"\n"}]})");
  const SseEvents ev = render_anthropic_stream(plan, "msg_1", "claude-x");
  bj::object streamed = accumulate(ev);
  const bj::object message = json(render_anthropic_message(plan, "msg_1", "claude-x")).as_object();

  EXPECT_EQ(streamed.at("content"), message.at("content"));
  EXPECT_EQ(streamed.at("stop_reason"), message.at("stop_reason"));
  EXPECT_EQ(message.at("content").at(0).at("text").as_string(), "Hello from sluice mock! You said: say \"hi\"");
  EXPECT_EQ(message.at("id").as_string(), "msg_1");
  EXPECT_EQ(message.at("type").as_string(), "message");
  EXPECT_EQ(message.at("role").as_string(), "assistant");
  EXPECT_EQ(message.at("model").as_string(), "claude-x");
  EXPECT_EQ(message.at("stop_reason").as_string(), "end_turn");
  EXPECT_TRUE(message.at("stop_sequence").is_null());
  const auto& usage = message.at("usage").as_object();
  EXPECT_EQ(static_cast<std::uint64_t>(usage.at("output_tokens").as_int64()), plan.usage.output_tokens);
  EXPECT_EQ(static_cast<std::uint64_t>(usage.at("input_tokens").as_int64()), plan.usage.input_tokens);
  EXPECT_EQ(usage.at("cache_creation_input_tokens").as_int64(), 0);
  EXPECT_EQ(usage.at("cache_read_input_tokens").as_int64(), 0);
  EXPECT_EQ(usage.at("service_tier").as_string(), "standard");
  EXPECT_EQ(streamed.at("usage").at("output_tokens"), usage.at("output_tokens"));

  // One delta per piece; pacing tokens: one per text delta.
  std::uint32_t tokens = 0;
  for (std::size_t i = 0; i < ev.size(); ++i) tokens += ev.tokens(i);
  EXPECT_EQ(tokens, plan.usage.output_tokens);
  // The ping is the real API's bytes.
  EXPECT_NE(ev.bytes.find("event: ping\ndata: {\"type\": \"ping\"}\n\n"), std::string::npos);
  EXPECT_TRUE(ev.bytes.starts_with("event: message_start\ndata: {\"type\":\"message_start\""));
  EXPECT_TRUE(ev.bytes.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
}

TEST(AnthropicRender, ToolUseStreamsInputJsonThatParsesToTheSchema) {
  const ReplyPlan plan = plan_for(R"({"model":"m","max_tokens":1000,"stream":true,
    "tools":[{"name":"get_weather","input_schema":{"type":"object","properties":{
      "location":{"type":"string"},"days":{"type":"integer"},"note":{"type":"string"}},"required":["location","days","note"]}}],
    "messages":[{"role":"user","content":"get_weather S\u00e3o Paulo \"centro\""}]})");
  const SseEvents ev = render_anthropic_stream(plan, "msg_2", "m");
  bj::object streamed = accumulate(ev);
  const auto& content = streamed.at("content").as_array();
  ASSERT_EQ(content.size(), 2u);
  EXPECT_EQ(content.at(0).at("type").as_string(), "text");
  const auto& tool = content.at(1).as_object();
  EXPECT_EQ(tool.at("type").as_string(), "tool_use");
  EXPECT_EQ(tool.at("name").as_string(), "get_weather");
  EXPECT_TRUE(tool.at("id").as_string().starts_with("toolu_"));
  EXPECT_EQ(tool.at("id").as_string().size(), 30u);
  EXPECT_EQ(tool.at("input"), json(R"({"location":"S\u00e3o Paulo \"centro\"","days":1,"note":"S\u00e3o Paulo \"centro\""})"));
  EXPECT_EQ(streamed.at("stop_reason").as_string(), "tool_use");

  // The first fragment is "", then 2-3 pieces.
  std::vector<std::string> fragments;
  for (const auto& e : parse_sse(ev.bytes)) {
    if (e.name != "content_block_delta") continue;
    auto d = json(e.data).at("delta");
    if (d.at("type").as_string() == "input_json_delta") fragments.emplace_back(d.at("partial_json").as_string());
  }
  ASSERT_GE(fragments.size(), 3u);
  ASSERT_LE(fragments.size(), 4u);
  EXPECT_EQ(fragments[0], "");

  const bj::object message = json(render_anthropic_message(plan, "msg_2", "m")).as_object();
  EXPECT_EQ(message.at("content"), streamed.at("content"));
}

TEST(AnthropicRender, ThinkingBlockHasDeltasThenOneSignature) {
  const ReplyPlan plan = plan_for(R"({"model":"m","max_tokens":1000,"thinking":{"type":"enabled","budget_tokens":100},
    "messages":[{"role":"user","content":"hi"}]})");
  const SseEvents ev = render_anthropic_stream(plan, "msg_3", "m");
  bj::object streamed = accumulate(ev);
  const auto& content = streamed.at("content").as_array();
  ASSERT_EQ(content.size(), 2u);
  EXPECT_EQ(content.at(0).at("type").as_string(), "thinking");
  EXPECT_FALSE(content.at(0).at("thinking").as_string().empty());
  EXPECT_FALSE(content.at(0).at("signature").as_string().empty());
  const bj::object message = json(render_anthropic_message(plan, "msg_3", "m")).as_object();
  EXPECT_EQ(message.at("content"), streamed.at("content"));
  // The ping follows the first content_block_start, which is the thinking block.
  const auto events = parse_sse(ev.bytes);
  EXPECT_EQ(events[1].name, "content_block_start");
  EXPECT_EQ(events[2].name, "ping");
}

TEST(AnthropicRender, StopSequenceAndMaxTokensAreReported) {
  const ReplyPlan stop = plan_for(R"({"model":"m","max_tokens":100,"stop_sequences":["mock"],"messages":[{"role":"user","content":"hi"}]})");
  bj::object streamed = accumulate(render_anthropic_stream(stop, "msg_4", "m"));
  EXPECT_EQ(streamed.at("stop_reason").as_string(), "stop_sequence");
  EXPECT_EQ(streamed.at("stop_sequence").as_string(), "mock");
  const bj::object message = json(render_anthropic_message(stop, "msg_4", "m")).as_object();
  EXPECT_EQ(message.at("stop_sequence").as_string(), "mock");
  EXPECT_EQ(message.at("content").at(0).at("text").as_string(), "Hello from sluice ");

  const ReplyPlan max = plan_for(R"({"model":"m","max_tokens":2,"messages":[{"role":"user","content":"hi"}]})");
  bj::object m2 = accumulate(render_anthropic_stream(max, "msg_5", "m"));
  EXPECT_EQ(m2.at("stop_reason").as_string(), "max_tokens");
  EXPECT_EQ(m2.at("usage").at("output_tokens").as_int64(), 2);
  EXPECT_EQ(m2.at("content").at(0).at("text").as_string(), "Hello from");
}

TEST(AnthropicRender, ErrorAndMalformedEvents) {
  const std::string err = render_anthropic_error_event("overloaded_error", "Overloaded");
  EXPECT_EQ(err, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n");
  bool ok = false;
  auto events = parse_sse(anthropic_malformed_events(), &ok);
  EXPECT_TRUE(ok);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].name, "ping");
  EXPECT_THROW(json(events[0].data), std::exception);
  EXPECT_EQ(events[1].name, "");
}

TEST(AnthropicRender, JsonFragmentsKeepCharactersWhole) {
  const std::string s = "{\"k\":\"\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\"}";
  auto frags = json_fragments(s);
  std::string joined;
  for (std::size_t i = 0; i < frags.size(); ++i) {
    if (i > 0) {
      EXPECT_FALSE(frags[i].empty());
      EXPECT_NE(static_cast<unsigned char>(frags[i][0]) & 0xC0, 0x80u);
    }
    joined += frags[i];
  }
  EXPECT_EQ(joined, s);
  EXPECT_EQ(json_fragments("{}").size(), 2u);
}

}  // namespace
}  // namespace sluice::mock
