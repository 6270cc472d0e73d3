#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "server/gateway.hpp"

namespace sluice::server {
namespace {

TEST(ErrorResponse, AnthropicShapeWithRequestIdInHeaderAndBody) {
  auto res = error_response("/v1/messages", Error{ErrorKind::PayloadTooLarge, "too big", "detail-not-shown"}, "req_1");
  EXPECT_EQ(res.result_int(), 413u);
  EXPECT_EQ(res["request-id"], "req_1");
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  auto v = boost::json::parse(res.body()).as_object();
  EXPECT_EQ(v["type"].as_string(), "error");
  EXPECT_EQ(v["error"].as_object()["type"].as_string(), "request_too_large");
  EXPECT_EQ(v["error"].as_object()["message"].as_string(), "too big");
  EXPECT_EQ(v["request_id"].as_string(), "req_1");
  EXPECT_EQ(res.body().find("detail-not-shown"), std::string::npos);
  EXPECT_EQ(res["x-should-retry"], "false");
}

TEST(ErrorResponse, OpenAIShapeOnChatCompletions) {
  auto res = error_response("/v1/chat/completions", Error{ErrorKind::Unauthenticated, "bad key", {}}, "req_2");
  EXPECT_EQ(res.result_int(), 401u);
  auto v = boost::json::parse(res.body()).as_object();
  auto err = v["error"].as_object();
  EXPECT_EQ(err["message"].as_string(), "bad key");
  EXPECT_EQ(err["code"].as_string(), "invalid_api_key");
  EXPECT_TRUE(err["param"].is_null());
}

TEST(ErrorResponse, RetryableKindsCarryNoShouldRetryFalse) {
  for (auto k : {ErrorKind::RateLimited, ErrorKind::UpstreamOverloaded, ErrorKind::Timeout, ErrorKind::UpstreamFailed}) {
    auto res = error_response("/v1/messages", Error{k, "x", {}}, "req_3");
    EXPECT_EQ(res.count("x-should-retry"), 0u) << kind_name(k);
  }
  EXPECT_EQ(error_response("/v1/messages", Error{ErrorKind::UpstreamOverloaded, "x", {}}, "r").result_int(), 529u);
  EXPECT_EQ(error_response("/v1/messages", Error{ErrorKind::Timeout, "x", {}}, "r").result_int(), 504u);
}

}  // namespace
}  // namespace sluice::server
