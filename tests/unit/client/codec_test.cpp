#include "client/codec.hpp"

#include <gtest/gtest.h>

#include <limits>

#include <boost/json/parse.hpp>

namespace sluice::client {
namespace {

namespace json = boost::json;

TEST(ClientCodec, RequestCarriesModelledFieldsAndExtras) {
  MessageRequest req;
  req.model = "claude-sonnet-4-5";
  req.max_tokens = 300;
  req.system = "be brief";
  req.temperature = 0.5;
  req.stop_sequences = {"END"};
  req.messages.push_back(MessageParam::user("hi"));
  req.thinking_budget_tokens = 2048;
  req.tools.push_back(Tool{"get_weather", "weather", {}, {}});
  req.tool_choice = {{"type", "auto"}};
  req.extra = {{"metadata", {{"user_id", "u1"}}}, {"model", "must-not-override"}};
  auto v = json::parse(codec::message_request_json(req, true)).as_object();
  EXPECT_EQ(v["model"], "claude-sonnet-4-5");
  EXPECT_EQ(v["max_tokens"], 300);
  EXPECT_EQ(v["system"], "be brief");
  EXPECT_EQ(v["temperature"], 0.5);
  EXPECT_EQ(v["stream"], true);
  EXPECT_EQ(v["stop_sequences"].as_array()[0], "END");
  EXPECT_EQ(v["messages"].as_array()[0].as_object()["content"].as_array()[0].as_object()["text"], "hi");
  EXPECT_EQ(v["thinking"].as_object()["budget_tokens"], 2048);
  EXPECT_EQ(v["tools"].as_array()[0].as_object()["input_schema"].as_object()["type"], "object");
  EXPECT_EQ(v["tool_choice"].as_object()["type"], "auto");
  EXPECT_EQ(v["metadata"].as_object()["user_id"], "u1");
  EXPECT_FALSE(v.contains("top_p"));
}

TEST(ClientCodec, NonStreamingRequestHasNoStreamField) {
  MessageRequest req;
  req.model = "m";
  auto v = json::parse(codec::message_request_json(req, false)).as_object();
  EXPECT_FALSE(v.contains("stream"));
  EXPECT_FALSE(v.contains("system"));
}

TEST(ClientCodec, CountTokensLeavesOutGenerationFields) {
  MessageRequest req;
  req.model = "m";
  req.max_tokens = 5;
  req.temperature = 1.0;
  req.messages.push_back(MessageParam::user("x"));
  auto v = json::parse(codec::count_tokens_json(req)).as_object();
  EXPECT_FALSE(v.contains("max_tokens"));
  EXPECT_FALSE(v.contains("temperature"));
  EXPECT_TRUE(v.contains("messages"));
}

TEST(ClientCodec, MessageRoundTripKeepsUnknownFieldsAndSignatures) {
  std::string body = R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x",
    "content":[{"type":"thinking","thinking":"hm","signature":"SIG=="},
               {"type":"text","text":"Hi","citations":[{"type":"x"}]},
               {"type":"tool_use","id":"toolu_1","name":"f","input":{"a":1}},
               {"type":"future_block","payload":7}],
    "stop_reason":"tool_use","stop_sequence":null,"container":{"id":"c"},
    "usage":{"input_tokens":10,"output_tokens":5,"cache_read_input_tokens":3,"service_tier":"standard"}})";
  auto m = codec::parse_message(body);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->id, "msg_1");
  EXPECT_EQ(m->stop_reason, "tool_use");
  EXPECT_EQ(m->stop_sequence, "");
  EXPECT_EQ(m->text(), "Hi");
  EXPECT_EQ(m->usage.input_tokens, 10);
  EXPECT_EQ(m->usage.cache_read_input_tokens, 3);
  EXPECT_EQ(m->usage.total_input_tokens(), 13);
  EXPECT_EQ(m->usage.extra["service_tier"], "standard");
  EXPECT_TRUE(m->extra.contains("container"));
  ASSERT_EQ(m->content.size(), 4u);
  ASSERT_EQ(m->tool_uses().size(), 1u);
  EXPECT_EQ(m->tool_uses()[0]->input.as_object().at("a"), 1);
  // Sent back as the assistant turn, each block is what the API sent.
  auto param = m->to_param();
  auto thinking = codec::block_to_json(param.content[0]);
  EXPECT_EQ(thinking["signature"], "SIG==");
  auto text = codec::block_to_json(param.content[1]);
  EXPECT_TRUE(text.contains("citations"));
  auto future = codec::block_to_json(param.content[3]);
  EXPECT_EQ(future["type"], "future_block");
  EXPECT_EQ(future["payload"], 7);
}

TEST(ClientCodec, ToolResultBlock) {
  auto o = codec::block_to_json(ContentBlock::make_tool_result("toolu_1", "42", true));
  EXPECT_EQ(o["tool_use_id"], "toolu_1");
  EXPECT_EQ(o["content"], "42");
  EXPECT_EQ(o["is_error"], true);
}

TEST(ClientCodec, NotAMessage) {
  EXPECT_FALSE(codec::parse_message("{\"type\":\"error\"}"));
  EXPECT_FALSE(codec::parse_message("not json"));
}

TEST(ClientCodec, ApiErrorFromAnthropicBody) {
  auto e = codec::api_error(
      529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_b"})", "");
  EXPECT_EQ(e.kind, ErrorKind::Api);
  EXPECT_EQ(e.status, 529);
  EXPECT_EQ(e.type, "overloaded_error");
  EXPECT_EQ(e.message, "Overloaded");
  EXPECT_EQ(e.request_id, "req_b");
  // The header's request id wins over the body's.
  EXPECT_EQ(codec::api_error(529, R"({"request_id":"req_b"})", "req_h").request_id, "req_h");
}

TEST(ClientCodec, ApiErrorFromNonJsonBody) {
  auto e = codec::api_error(502, "<html>bad gateway</html>", "req_1");
  EXPECT_EQ(e.status, 502);
  EXPECT_EQ(e.type, "");
  EXPECT_EQ(e.message, "HTTP status 502");
  EXPECT_EQ(e.to_string(), "api 502: HTTP status 502 (request_id req_1)");
}

TEST(ClientCodec, UsageOverlayReplacesNonNullFieldsOnly) {
  Usage u = codec::usage_from_json(json::parse(R"({"input_tokens":472,"output_tokens":2,
      "cache_creation_input_tokens":0,"cache_read_input_tokens":0})").as_object());
  codec::overlay_usage(u, json::parse(R"({"output_tokens":89,"input_tokens":null})").as_object());
  EXPECT_EQ(u.input_tokens, 472);
  EXPECT_EQ(u.output_tokens, 89);
  codec::overlay_usage(u, json::parse(R"({"output_tokens":90,"input_tokens":500})").as_object());
  EXPECT_EQ(u.input_tokens, 500);
  EXPECT_EQ(u.output_tokens, 90);
}

TEST(ClientCodec, HugeCountsSaturateInsteadOfOverflowing) {
  Usage u = codec::usage_from_json(json::parse(R"({"input_tokens":4.7e92,"output_tokens":-1e300,
      "cache_read_input_tokens":18446744073709551615})").as_object());
  EXPECT_EQ(u.input_tokens, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(u.output_tokens, std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(u.cache_read_input_tokens, std::numeric_limits<std::int64_t>::max());
}

TEST(ClientCodec, TokenCount) {
  EXPECT_EQ(codec::parse_token_count(R"({"input_tokens":2095})"), 2095);
  EXPECT_FALSE(codec::parse_token_count(R"({"tokens":1})"));
}

}  // namespace
}  // namespace sluice::client
