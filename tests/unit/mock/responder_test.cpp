// Tests of routing, authentication, validation, faults and the recorder (src/mock/responder.*),
// without sockets.

#include "mock/responder.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "unit/mock/sse_testing.hpp"

namespace sluice::mock {
namespace {

namespace bj = boost::json;
using testing::json;
using testing::parse_sse;

constexpr std::string_view kHello = R"({"model":"claude-sonnet-4-5","max_tokens":64,"messages":[{"role":"user","content":"hi"}]})";

struct Req {
  std::string method = "POST";
  std::string target = "/v1/messages";
  std::vector<std::pair<std::string, std::string>> headers = {
      {"x-api-key", "sk-test"}, {"anthropic-version", "2023-06-01"}, {"content-type", "application/json"}};
  std::string body{kHello};

  Req& set(std::string name, std::string value) {
    for (auto& [n, v] : headers) {
      if (n == name) {
        v = std::move(value);
        return *this;
      }
    }
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  Req& drop(const std::string& name) {
    std::erase_if(headers, [&](const auto& h) { return h.first == name; });
    return *this;
  }
  IncomingRequest view() const {
    IncomingRequest in;
    in.method = method;
    in.target = target;
    for (const auto& [n, v] : headers) in.headers.push_back({n, v});
    in.body = body;
    in.request_id = "req_test";
    return in;
  }
};

Req openai_req() {
  Req r;
  r.target = "/v1/chat/completions";
  r.headers = {{"authorization", "Bearer sk-openai"}, {"content-type", "application/json"}};
  r.body = R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})";
  return r;
}

std::string error_type(const Reply& r) { return std::string(json(r.body).at("error").at("type").as_string()); }
std::string error_message(const Reply& r) { return std::string(json(r.body).at("error").at("message").as_string()); }

TEST(Responder, MessagesNonStreaming) {
  Responder responder(MockOptions{});
  Reply r = responder.respond(Req{}.view());
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.streamed);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("request-id"), "req_test");
  EXPECT_EQ(r.header("anthropic-ratelimit-requests-limit"), "4000");
  EXPECT_FALSE(r.header("anthropic-ratelimit-tokens-reset").empty());
  const bj::object m = json(r.body).as_object();
  EXPECT_TRUE(m.at("id").as_string().starts_with("msg_"));
  EXPECT_EQ(m.at("model").as_string(), "claude-sonnet-4-5");
  EXPECT_EQ(m.at("content").at(0).at("text").as_string(), "Hello from sluice mock! You said: hi");
}

TEST(Responder, MessagesStreamingWithBetaQuery) {
  Responder responder(MockOptions{});
  Req req;
  req.target = "/v1/messages?beta=true";
  req.body = R"({"model":"m","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]})";
  Reply r = responder.respond(req.view());
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.streamed);
  EXPECT_EQ(r.header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(r.header("cache-control"), "no-cache");
  auto events = parse_sse(r.events.bytes);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.front().name, "message_start");
  EXPECT_EQ(events.back().name, "message_stop");
  EXPECT_TRUE(r.error_event.starts_with("event: error\n"));
}

TEST(Responder, AuthVersionContentTypeAndJson) {
  Responder responder(MockOptions{});
  Reply r = responder.respond(Req{}.drop("x-api-key").view());
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_type(r), "authentication_error");
  EXPECT_EQ(error_message(r), "x-api-key header is required");
  EXPECT_EQ(json(r.body).at("request_id").as_string(), "req_test");
  EXPECT_EQ(r.header("request-id"), "req_test");

  r = responder.respond(Req{}.drop("x-api-key").set("authorization", "Bearer tok").view());
  EXPECT_EQ(r.status, 200);

  r = responder.respond(Req{}.drop("anthropic-version").view());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_message(r), "anthropic-version: header is required");

  r = responder.respond(Req{}.set("content-type", "text/plain").view());
  EXPECT_EQ(r.status, 415);

  Req bad;
  bad.body = R"({"model":"m",)";
  r = responder.respond(bad.view());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_type(r), "invalid_request_error");
  EXPECT_TRUE(error_message(r).starts_with("Invalid JSON in request body at byte")) << error_message(r);

  Req missing;
  missing.body = R"({"model":"m","messages":[]})";
  r = responder.respond(missing.view());
  EXPECT_EQ(error_message(r), "max_tokens: Field required");
}

TEST(Responder, ConfiguredKeyAndNoAuthMode) {
  MockOptions opts;
  opts.api_key = "right";
  Responder strict(opts);
  EXPECT_EQ(strict.respond(Req{}.view()).status, 401);
  EXPECT_EQ(strict.respond(Req{}.set("x-api-key", "right").view()).status, 200);
  EXPECT_EQ(strict.respond(openai_req().view()).status, 401);

  MockOptions open;
  open.require_auth = false;
  Responder lax(open);
  EXPECT_EQ(lax.respond(Req{}.drop("x-api-key").view()).status, 200);
}

TEST(Responder, StatusFaultsCarryRealBodiesAndRetryAfter) {
  Responder responder(MockOptions{});
  Reply r = responder.respond(Req{}.set("x-mock-fault", "status-429").view());
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(error_type(r), "rate_limit_error");
  EXPECT_EQ(r.header("retry-after"), "1");
  EXPECT_EQ(r.header("retry-after-ms"), "1000");
  EXPECT_EQ(r.header("anthropic-ratelimit-requests-remaining"), "0");

  r = responder.respond(Req{}.set("x-mock-fault", "status-429").set("x-mock-retry-after", "3").view());
  EXPECT_EQ(r.header("retry-after"), "3");
  EXPECT_EQ(r.header("retry-after-ms"), "3000");

  r = responder.respond(Req{}.set("x-mock-fault", "status-529").view());
  EXPECT_EQ(r.status, 529);
  EXPECT_EQ(error_type(r), "overloaded_error");
  EXPECT_EQ(error_message(r), "Overloaded");
  EXPECT_EQ(r.header("retry-after"), "");

  r = responder.respond(Req{}.set("x-mock-fault", "status-500").view());
  EXPECT_EQ(error_type(r), "api_error");
  r = responder.respond(Req{}.set("x-mock-fault", "status-503,slow-first-byte").set("x-mock-delay-ms", "5").view());
  EXPECT_EQ(r.status, 503);
  EXPECT_TRUE(r.faults.slow_first_byte);
  EXPECT_EQ(r.faults.first_byte_delay, std::chrono::milliseconds(5));

  r = responder.respond(Req{}.set("x-mock-fault", "status-418").set("x-mock-error-type", "teapot_error").view());
  EXPECT_EQ(r.status, 418);
  EXPECT_EQ(error_type(r), "teapot_error");

  r = responder.respond(openai_req().set("x-mock-fault", "status-429").view());
  EXPECT_EQ(r.status, 429);
  EXPECT_STREQ(json(r.body).at("error").at("code").as_string().c_str(), "rate_limit_exceeded");
  EXPECT_FALSE(json(r.body).as_object().contains("type"));
  EXPECT_EQ(r.header("x-ratelimit-remaining-requests"), "0");

  r = responder.respond(Req{}.set("x-mock-fault", "explode").view());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(error_message(r), "x-mock-fault: unknown fault 'explode'");
}

TEST(Responder, FailTimesPerKey) {
  Responder responder(MockOptions{});
  auto req = Req{}.set("x-mock-fault", "status-529").set("x-mock-fail-times", "2").set("x-mock-fault-key", "retry-1");
  EXPECT_EQ(responder.respond(req.view()).status, 529);
  EXPECT_EQ(responder.respond(req.view()).status, 529);
  EXPECT_EQ(responder.respond(req.view()).status, 200);
  EXPECT_EQ(responder.respond(req.set("x-mock-fault-key", "retry-2").view()).status, 529);
}

TEST(Responder, StreamFaultsOnlyOnStreams) {
  Responder responder(MockOptions{});
  Req stream;
  stream.body = R"({"model":"m","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]})";
  Reply r = responder.respond(stream.set("x-mock-fault", "error-after-3").set("x-mock-error-type", "api_error").view());
  EXPECT_EQ(r.faults.error_after, 3u);
  EXPECT_NE(r.error_event.find("\"api_error\""), std::string::npos);
  EXPECT_NE(r.error_event.find("Internal server error"), std::string::npos);
}

TEST(Responder, CountTokensModelsHealthAndRouting) {
  Responder responder(MockOptions{});
  Req count;
  count.target = "/v1/messages/count_tokens?beta=true";
  count.body = R"({"model":"m","system":"abcd","messages":[{"role":"user","content":"hello"}]})";
  Reply r = responder.respond(count.view());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"input_tokens":4})");

  Req list;
  list.method = "GET";
  list.target = "/v1/models?limit=2";
  list.body.clear();
  r = responder.respond(list.view());
  EXPECT_EQ(r.status, 200);
  bj::object l = json(r.body).as_object();
  EXPECT_EQ(l.at("data").as_array().size(), 2u);
  EXPECT_TRUE(l.at("has_more").as_bool());
  EXPECT_EQ(l.at("first_id"), l.at("data").at(0).at("id"));
  EXPECT_EQ(l.at("data").at(0).at("type").as_string(), "model");
  list.target = "/v1/models?after_id=" + std::string(l.at("last_id").as_string());
  r = responder.respond(list.view());
  EXPECT_EQ(json(r.body).at("data").as_array().size(), 4u);

  Req one = list;
  one.target = "/v1/models/claude-sonnet-4-5";
  r = responder.respond(one.view());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json(r.body).at("id").as_string(), "claude-sonnet-4-5-20250929");
  one.target = "/v1/models/claude-nope";
  r = responder.respond(one.view());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_type(r), "not_found_error");

  Req oa;
  oa.method = "GET";
  oa.target = "/v1/models";
  oa.headers = {{"authorization", "Bearer sk"}};
  oa.body.clear();
  r = responder.respond(oa.view());
  EXPECT_EQ(json(r.body).at("object").as_string(), "list");

  Req health;
  health.method = "GET";
  health.target = "/healthz";
  health.headers.clear();
  r = responder.respond(health.view());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"status":"ok"})");

  Req nf;
  nf.target = "/v1/nope";
  r = responder.respond(nf.view());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_type(r), "not_found_error");
  nf.target = "/v1/chat/nope";
  r = responder.respond(nf.view());
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(error_type(r), "invalid_request_error");  // OpenAI dialect
  EXPECT_FALSE(json(r.body).as_object().contains("type"));

  Req wrong;
  wrong.method = "GET";
  r = responder.respond(wrong.view());
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "POST");
}

TEST(Responder, ChatCompletions) {
  Responder responder(MockOptions{});
  Reply r = responder.respond(openai_req().view());
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-request-id"), "req_test");
  const bj::object c = json(r.body).as_object();
  EXPECT_TRUE(c.at("id").as_string().starts_with("chatcmpl-"));
  EXPECT_EQ(c.at("choices").at(0).at("message").at("content").as_string(), "Hello from sluice mock! You said: hi");

  r = responder.respond(openai_req().drop("authorization").view());
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(error_type(r), "invalid_request_error");
  EXPECT_TRUE(error_message(r).starts_with("You didn't provide an API key"));

  Req s = openai_req();
  s.body = R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]})";
  r = responder.respond(s.view());
  EXPECT_TRUE(r.streamed);
  EXPECT_TRUE(r.events.bytes.ends_with("data: [DONE]\n\n"));
  EXPECT_TRUE(r.error_event.starts_with("data: {\"error\":"));
}

TEST(Responder, PlanHeaders) {
  Responder responder(MockOptions{});
  Reply r = responder.respond(Req{}.set("x-mock-reply", "Fixed reply.").set("x-mock-cache-read-tokens", "100")
                                  .set("x-mock-tokens-per-second", "12.5").view());
  const bj::object m = json(r.body).as_object();
  EXPECT_EQ(m.at("content").at(0).at("text").as_string(), "Fixed reply.");
  EXPECT_EQ(m.at("usage").at("cache_read_input_tokens").as_int64(), 100);
  EXPECT_DOUBLE_EQ(r.tokens_per_second, 12.5);
  EXPECT_EQ(r.output_tokens, 2u);
  r = responder.respond(Req{}.set("x-mock-tokens-per-second", "fast").view());
  EXPECT_EQ(r.status, 400);
}

TEST(Responder, RecorderKeepsWhatWasForwarded) {
  MockOptions opts;
  opts.record_limit = 2;
  Responder responder(opts);
  Req first;
  first.target = "/v1/messages?beta=true";
  first.set("anthropic-beta", "a-1,b-2").set("Authorization", "Bearer tok");
  responder.respond(first.view());
  Req notjson;
  notjson.body = "not json";
  responder.respond(notjson.view());
  Req third = Req{}.set("x-third", "3");
  responder.respond(third.view());

  Req get;
  get.method = "GET";
  get.target = "/_mock/requests";
  get.headers.clear();
  get.body.clear();
  Reply r = responder.respond(get.view());
  ASSERT_EQ(r.status, 200);
  bj::array recs = json(r.body).as_array();
  ASSERT_EQ(recs.size(), 2u);  // the oldest was dropped
  EXPECT_EQ(recs[0].at("body").as_string(), "not json");
  EXPECT_EQ(recs[1].at("headers").at("x-third").as_string(), "3");
  EXPECT_EQ(recs[1].at("body").at("model").as_string(), "claude-sonnet-4-5");
  EXPECT_EQ(recs[1].at("method").as_string(), "POST");
  EXPECT_EQ(recs[1].at("request_id").as_string(), "req_test");

  responder.respond(first.view());
  r = responder.respond(get.view());
  recs = json(r.body).as_array();
  EXPECT_EQ(recs[1].at("target").as_string(), "/v1/messages?beta=true");
  EXPECT_EQ(recs[1].at("headers").at("anthropic-beta").as_string(), "a-1,b-2");
  EXPECT_EQ(recs[1].at("headers").at("authorization").as_string(), "Bearer tok");

  get.method = "DELETE";
  EXPECT_EQ(responder.respond(get.view()).status, 200);
  get.method = "GET";
  EXPECT_EQ(json(responder.respond(get.view()).body).as_array().size(), 0u);
}

}  // namespace
}  // namespace sluice::mock

namespace sluice::mock {
namespace {

TEST(Responder, OddBodiesGetAnswersNotCrashes) {
  Responder responder(MockOptions{});
  std::string deep(300, '[');
  deep += std::string(300, ']');
  const std::vector<std::string> bodies = {
      "",
      "null",
      deep,
      R"({"model":"m","max_tokens":1e30,"messages":[]})",
      R"({"model":"m","max_tokens":18446744073709551615,"messages":[1,null,{"role":"user","content":5},{"role":"user"}]})",
      R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":[1,{"type":"tool_result"},{"type":"text"}]}],
          "tools":"x","tool_choice":"any","thinking":true,"stop_sequences":[1,""],"system":{"a":["b"]}})",
      R"({"model":"m","max_tokens":50,"messages":[{"role":"user","content":"T"}],"tools":[{"name":5},{"name":"T","input_schema":{"required":[1,"a"],"properties":[]}}]})",
      R"({"model":"m","max_tokens":5,"stream":"yes","messages":[]})",
  };
  for (const auto& body : bodies) {
    Req r;
    r.body = body;
    Reply reply = responder.respond(r.view());
    EXPECT_TRUE(reply.status == 200 || reply.status == 400) << body.substr(0, 80) << " -> " << reply.status;
    if (!reply.streamed) {
      EXPECT_NO_THROW(json(reply.body)) << body.substr(0, 80);
    }
  }
  Req tool;
  tool.body = bodies[6];
  const Reply reply = responder.respond(tool.view());
  ASSERT_EQ(reply.status, 200);
  ASSERT_EQ(json(reply.body).at("content").as_array().size(), 2u) << reply.body;
  EXPECT_EQ(json(reply.body).at("content").at(1).at("input"), json(R"({"a":"example"})"));
}

TEST(Responder, ConcurrentRespondIsSafe) {
  MockOptions opts;
  opts.record_limit = 50;
  Responder responder(opts);
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Req r = Req{}.set("x-mock-fault", "status-529").set("x-mock-fail-times", "100").set("x-mock-fault-key", "shared");
        if (responder.respond(r.view()).status == 529) failed.fetch_add(1);
        if (i % 50 == 0) {
          Req get;
          get.method = "GET";
          get.target = "/_mock/requests";
          get.headers.clear();
          (void)responder.respond(get.view());
        }
        (void)t;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failed.load(), 100);
  EXPECT_EQ(responder.recorder().size(), 50u);
}

}  // namespace
}  // namespace sluice::mock
