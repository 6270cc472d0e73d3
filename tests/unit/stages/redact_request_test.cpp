#include "stages/redact/request_text.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace sluice::stages::redact {
namespace {

const Engine& engine() {
  static const Engine e = Engine::compile(default_rules());
  return e;
}

constexpr const char* kAws = "AKIAIOSFODNN7EXAMPLE";

TEST(RedactRequest, EveryTextTheModelReadsAndNothingElse) {
  std::string body = std::string(R"({"model":"m","max_tokens":5,"system":"key )") + kAws + R"(",)" +
                     R"("tools":[{"name":"t","description":"uses )" + kAws + R"(","input_schema":{}}],)" +
                     R"("messages":[{"role":"user","content":[{"type":"text","text":"a )" + kAws + R"("},)" +
                     R"({"type":"image","source":{"type":"base64","media_type":"image/png","data":")" + kAws + R"("}},)" +
                     R"({"type":"tool_result","tool_use_id":"x","content":[{"type":"text","text":")" + kAws + R"("}]}]},)" +
                     R"({"role":"assistant","content":[{"type":"thinking","thinking":")" + kAws +
                     R"(","signature":"sig=="},{"type":"text","text":"fine"}]}]})";
  auto r = redact_request(body, BodyDialect::Anthropic, engine());
  EXPECT_TRUE(r.changed);
  EXPECT_FALSE(r.blocked);
  ASSERT_EQ(r.counts.size(), 1u);
  EXPECT_EQ(r.counts[0].first, "aws_access_key");
  EXPECT_EQ(r.counts[0].second, 3);  // system, the text block, the tool result
  EXPECT_EQ(r.total(), 3);
  auto v = boost::json::parse(body).as_object();
  EXPECT_EQ(v["system"].as_string(), "key [REDACTED:aws_access_key]");
  auto& msgs = v["messages"].as_array();
  auto& user = msgs[0].as_object()["content"].as_array();
  EXPECT_EQ(user[0].as_object()["text"].as_string(), "a [REDACTED:aws_access_key]");
  // Not text the model reads as prompt: image data, tool definitions, thinking (signed) blocks.
  EXPECT_EQ(user[1].as_object()["source"].as_object()["data"].as_string(), kAws);
  EXPECT_NE(boost::json::serialize(v["tools"]).find(kAws), std::string::npos);
  auto& thinking = msgs[1].as_object()["content"].as_array()[0].as_object();
  EXPECT_EQ(thinking["thinking"].as_string(), kAws);
  EXPECT_EQ(thinking["signature"].as_string(), "sig==");
}

TEST(RedactRequest, NothingFoundLeavesTheBytesAlone) {
  std::string body = R"({"model":"m",  "max_tokens":5,"temperature":0.70,"messages":[{"role":"user","content":"hello"}]})";
  const std::string before = body;
  auto r = redact_request(body, BodyDialect::Anthropic, engine());
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.total(), 0);
  EXPECT_EQ(body, before);
}

TEST(RedactRequest, OpenAiMessagesAndParts) {
  std::string body = std::string(R"({"model":"m","messages":[{"role":"system","content":"k )") + kAws +
                     R"("},{"role":"user","content":[{"type":"text","text":")" + kAws +
                     R"("},{"type":"image_url","image_url":{"url":"https://x/)" + kAws + R"("}}]}]})";
  auto r = redact_request(body, BodyDialect::OpenAI, engine());
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.total(), 2);
  EXPECT_NE(body.find("https://x/AKIA"), std::string::npos) << "image URLs are not prompt text";
}

TEST(RedactRequest, BlockReportsTheTypeAndLeavesTheBodyForTheCaller) {
  auto rules = default_rules();
  for (auto& r : rules) {
    if (r.type == "aws_access_key") r.action = Action::Block;
  }
  auto blocking = Engine::compile(std::move(rules));
  std::string body = std::string(R"({"model":"m","messages":[{"role":"user","content":"x )") + kAws + R"("}]})";
  auto r = redact_request(body, BodyDialect::Anthropic, blocking);
  EXPECT_TRUE(r.blocked);
  EXPECT_EQ(r.blocked_type, "aws_access_key");
}

TEST(RedactRequest, LogOnlyCountsWithoutRewriting) {
  auto rules = default_rules();
  for (auto& r : rules) {
    if (r.type == "aws_access_key") r.action = Action::Log;
  }
  auto logging = Engine::compile(std::move(rules));
  std::string body = std::string(R"({"model":"m","messages":[{"role":"user","content":"x )") + kAws + R"("}]})";
  const std::string before = body;
  auto r = redact_request(body, BodyDialect::Anthropic, logging);
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.total(), 1);
  EXPECT_EQ(body, before);
}

}  // namespace
}  // namespace sluice::stages::redact
