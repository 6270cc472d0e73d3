#include "providers/anthropic/validate.hpp"

#include <gtest/gtest.h>

namespace sluice::providers::anthropic {
namespace {

std::string error_of(std::string_view body, RequestKind kind = RequestKind::Messages) {
  auto r = validate_request(body, kind);
  if (r.ok()) return "ok";
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidRequest);
  return r.error().message;
}

TEST(Validate, MinimalRequest) {
  auto r = validate_request(R"({"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[{"role":"user","content":"Hello"}]})",
                            RequestKind::Messages);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().model, "claude-sonnet-4-5");
  EXPECT_EQ(r.value().max_tokens, 1024);
  EXPECT_FALSE(r.value().stream);
}

TEST(Validate, LenientAboutWhatSluiceDoesNotNeed) {
  // Claude Code: a system role inside messages, unknown fields, new block types, thinking.
  auto body = R"({"model":"claude-opus-5-5","max_tokens":128000,"stream":true,
    "messages":[{"role":"system","content":"per-turn"},{"role":"user","content":[{"type":"brand_new_block","x":1}]}],
    "thinking":{"type":"adaptive","display":"omitted"},"context_management":{"edits":[]},
    "output_config":{"effort":"high"},"future_field":{"nested":[1,2,3]}})";
  auto r = validate_request(body, RequestKind::Messages);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r.value().stream);
}

TEST(Validate, MissingFieldsSayWhich) {
  EXPECT_EQ(error_of(R"({"max_tokens":1,"messages":[]})"), "model: Field required");
  EXPECT_EQ(error_of(R"({"model":"m","max_tokens":1})"), "messages: Field required");
  EXPECT_EQ(error_of(R"({"model":"m","messages":[]})"), "max_tokens: Field required");
  EXPECT_EQ(error_of(R"({"model":"m","messages":[]})", RequestKind::CountTokens), "ok")
      << "count_tokens takes no max_tokens";
}

TEST(Validate, WrongTypes) {
  EXPECT_EQ(error_of(R"({"model":5,"max_tokens":1,"messages":[]})"), "model: Input should be a valid string");
  EXPECT_EQ(error_of(R"({"model":"m","max_tokens":"1","messages":[]})"), "max_tokens: Input should be a valid integer");
  EXPECT_EQ(error_of(R"({"model":"m","max_tokens":0,"messages":[]})"),
            "max_tokens: Input should be greater than or equal to 1");
  EXPECT_EQ(error_of(R"({"model":"m","max_tokens":1,"messages":{}})"), "messages: Input should be a valid list");
  EXPECT_EQ(error_of(R"({"model":"m","max_tokens":1,"messages":[],"stream":"yes"})"),
            "stream: Input should be a valid boolean");
  EXPECT_EQ(error_of(R"([1,2])"), "request body must be a JSON object");
}

TEST(Validate, MalformedJsonSaysWhere) {
  auto msg = error_of("{\n  \"model\": \"m\",\n  \"max_tokens\": 1,,\n}");
  EXPECT_NE(msg.find("malformed JSON at line 3"), std::string::npos) << msg;
  EXPECT_NE(error_of("{\"model\": \"m\"").find("unexpected end"), std::string::npos);
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("{\"model\":\"\xff\xfe\"}").find("malformed JSON"), std::string::npos) << "invalid UTF-8";
}

TEST(Validate, DescribePosition) {
  EXPECT_EQ(describe_position("ab\ncd", 4), "line 2, column 2");
  EXPECT_EQ(describe_position("x", 99), "line 1, column 2");
}

}  // namespace
}  // namespace sluice::providers::anthropic
