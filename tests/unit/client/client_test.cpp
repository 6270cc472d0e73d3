// The client against a fake server: headers, retries, timeouts, streams, errors, awaitable API.

#include "sluice/client/client.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include "unit/client/fake_server.hpp"
#include "unit/client/test_stream.hpp"

namespace sluice::client {
namespace {

using namespace test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const char* kOverloaded = R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";

ClientOptions options_for(const FakeServer& s) {
  ClientOptions o;
  o.base_url = s.url();
  o.api_key = "sk-test";
  o.timeouts.connect = 2s;
  o.timeouts.first_byte = 5s;
  o.timeouts.idle = 5s;
  o.timeouts.total = 10s;
  return o;
}

MessageRequest hello_request() {
  MessageRequest r;
  r.model = "claude-test";
  r.max_tokens = 64;
  r.messages.push_back(MessageParam::user("hi"));
  return r;
}

void stream_hello(FakeConn& c, std::size_t upto = 99, bool finish = true) {
  c.sse_head({{"request-id", "req_s"}});
  auto events = hello_events();
  for (std::size_t i = 0; i < events.size() && i < upto; ++i) c.chunk(sse(events[i].first, events[i].second));
  if (finish) c.finish();
}

TEST(Client, CreateSendsSdkHeadersAndParsesTheMessage) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) { c.json(200, kHelloMessage, {{"request-id", "req_1"}}); });
  auto opts = options_for(server);
  opts.default_headers = {{"x-custom", "yes"}};
  Client client(opts);
  auto req = hello_request();
  req.betas = {"a-2025", "b-2025"};
  auto msg = client.messages.create(req);
  ASSERT_TRUE(msg) << msg.error().to_string();
  EXPECT_EQ(msg->text(), "Hello world");
  EXPECT_EQ(msg->request_id, "req_1");
  EXPECT_EQ(msg->usage.output_tokens, 3);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].target, "/v1/messages");
  EXPECT_EQ(reqs[0].header("x-api-key"), "sk-test");
  EXPECT_EQ(reqs[0].header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(reqs[0].header("anthropic-beta"), "a-2025,b-2025");
  EXPECT_EQ(reqs[0].header("x-stainless-retry-count"), "0");
  EXPECT_EQ(reqs[0].header("x-custom"), "yes");
  EXPECT_NE(reqs[0].body.find("\"model\":\"claude-test\""), std::string::npos);
}

TEST(Client, Retries529ThenSucceedsWaitingRetryAfterMs) {
  FakeServer server([](const FakeRequest&, int i, FakeConn& c) {
    if (i == 0) {
      c.json(529, kOverloaded, {{"retry-after-ms", "300"}});
    } else {
      c.json(200, kHelloMessage);
    }
  });
  Client client(options_for(server));
  auto start = Clock::now();
  auto msg = client.messages.create(hello_request());
  ASSERT_TRUE(msg) << msg.error().to_string();
  EXPECT_GE(Clock::now() - start, 300ms);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].header("x-stainless-retry-count"), "1");
}

TEST(Client, GivesUpAfterMaxRetriesWithTheLastError) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) {
    c.json(429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})",
           {{"retry-after-ms", "10"}, {"request-id", "req_429"}});
  });
  Client client(options_for(server));
  auto msg = client.messages.create(hello_request());
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, ErrorKind::Api);
  EXPECT_EQ(msg.error().status, 429);
  EXPECT_EQ(msg.error().type, "rate_limit_error");
  EXPECT_EQ(msg.error().request_id, "req_429");
  EXPECT_EQ(msg.error().attempts, 3);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(Client, ShouldRetryFalseStopsAtOnce) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) { c.json(529, kOverloaded, {{"x-should-retry", "false"}}); });
  Client client(options_for(server));
  auto msg = client.messages.create(hello_request());
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().type, "overloaded_error");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Client, BadRequestIsNotRetried) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) {
    c.json(400, R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: required"}})");
  });
  auto opts = options_for(server);
  opts.retry.max_retries = 5;
  Client client(opts);
  auto msg = client.messages.create(hello_request());
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().status, 400);
  EXPECT_EQ(msg.error().message, "max_tokens: required");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Client, ConnectionRefusedIsAConnectionErrorAfterRetries) {
  std::string url;
  {
    FakeServer gone([](const FakeRequest&, int, FakeConn&) {});
    url = gone.url();
  }
  ClientOptions o;
  o.base_url = url;
  o.retry.initial_delay = 1ms;
  Client client(o);
  auto msg = client.messages.create(hello_request());
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, ErrorKind::Connection);
  EXPECT_EQ(msg.error().attempts, 3);
}

TEST(Client, FirstByteTimeout) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) {
    std::this_thread::sleep_for(600ms);
    stream_hello(c);
  });
  auto opts = options_for(server);
  opts.timeouts.first_byte = 150ms;
  opts.retry.max_retries = 0;
  Client client(opts);
  auto msg = client.messages.stream(hello_request(), {});
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, ErrorKind::Timeout);
}

TEST(Client, IdleTimeoutMidStream) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) {
    stream_hello(c, 3, false);
    std::this_thread::sleep_for(600ms);
  });
  auto opts = options_for(server);
  opts.timeouts.idle = 150ms;
  Client client(opts);
  std::string text;
  StreamCallbacks cb;
  cb.on_text = [&](std::size_t, std::string_view t) { text += t; };
  auto msg = client.messages.stream(hello_request(), cb);
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, ErrorKind::Timeout);
  EXPECT_EQ(text, "Hel");
  EXPECT_EQ(server.requests().size(), 1u);  // never retried once the stream started
}

TEST(Client, TotalTimeoutBoundsANonStreamingAnswer) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) {
    std::this_thread::sleep_for(600ms);
    c.json(200, kHelloMessage);
  });
  auto opts = options_for(server);
  opts.timeouts.total = 150ms;
  opts.retry.max_retries = 0;
  Client client(opts);
  auto msg = client.messages.create(hello_request());
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, ErrorKind::Timeout);
}

TEST(Client, AStreamThatKeepsArrivingOutlivesTheTotalTimeout) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) {
    c.sse_head();
    for (const auto& [type, data] : hello_events()) {
      c.chunk(sse(type, data));
      std::this_thread::sleep_for(60ms);  // 8 events: ~480 ms in all, never 200 ms silent
    }
    c.finish();
  });
  auto opts = options_for(server);
  opts.timeouts.total = 150ms;
  opts.timeouts.idle = 400ms;
  Client client(opts);
  auto msg = client.messages.stream(hello_request(), {});
  ASSERT_TRUE(msg) << msg.error().to_string();
  EXPECT_EQ(msg->text(), "Hello world");
}

TEST(Client, StreamDeliversTypedEventsAndTheFinalMessage) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) { stream_hello(c); });
  Client client(options_for(server));
  std::string text;
  std::int64_t last_output = 0;
  int starts = 0;
  StreamCallbacks cb;
  cb.on_message_start = [&](const Message& m) { ++starts; EXPECT_EQ(m.id, "msg_1"); };
  cb.on_text = [&](std::size_t, std::string_view t) { text += t; };
  cb.on_usage = [&](const Usage& u) { last_output = u.output_tokens; };
  auto msg = client.messages.stream(hello_request(), cb);
  ASSERT_TRUE(msg) << msg.error().to_string();
  EXPECT_EQ(starts, 1);
  EXPECT_EQ(text, "Hello world");
  EXPECT_EQ(last_output, 3);
  EXPECT_EQ(msg->text(), "Hello world");
  EXPECT_EQ(msg->stop_reason, "end_turn");
  EXPECT_EQ(msg->request_id, "req_s");
  EXPECT_NE(server.requests()[0].body.find("\"stream\":true"), std::string::npos);
}

TEST(Client, StreamEndingWithoutMessageStopIsAnError) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) { stream_hello(c, 7, true); });
  Client client(options_for(server));
  auto msg = client.messages.stream(hello_request(), {});
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, ErrorKind::StreamBroken);
  EXPECT_EQ(msg.error().request_id, "req_s");
}

TEST(Client, StreamErrorEventIsAnApiError) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) {
    stream_hello(c, 3, false);
    c.chunk(sse("error", kOverloaded));
    c.finish();
  });
  Client client(options_for(server));
  auto msg = client.messages.stream(hello_request(), {});
  ASSERT_FALSE(msg);
  EXPECT_EQ(msg.error().kind, ErrorKind::Api);
  EXPECT_EQ(msg.error().status, 200);
  EXPECT_EQ(msg.error().type, "overloaded_error");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(Client, CountTokens) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) { c.json(200, R"({"input_tokens":42})"); });
  Client client(options_for(server));
  auto n = client.messages.count_tokens(hello_request());
  ASSERT_TRUE(n) << n.error().to_string();
  EXPECT_EQ(n->input_tokens, 42);
  EXPECT_EQ(server.requests()[0].target, "/v1/messages/count_tokens");
  EXPECT_EQ(server.requests()[0].body.find("max_tokens"), std::string::npos);
}

TEST(Client, RedactsSecretsBeforeSending) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) { c.json(200, kHelloMessage); });
  auto opts = options_for(server);
  opts.redact_secrets = true;
  Client client(opts);
  auto req = hello_request();
  const std::string secret = "ghp_" + std::string("a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8");
  req.messages[0] = MessageParam::user("my token is " + secret);
  auto msg = client.messages.create(req);
  ASSERT_TRUE(msg) << msg.error().to_string();
  auto body = server.requests()[0].body;
  EXPECT_EQ(body.find(secret), std::string::npos);
  EXPECT_NE(body.find("[REDACTED:"), std::string::npos);
}

TEST(Client, AwaitableApiFromAnotherExecutor) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) { stream_hello(c); });
  Client client(options_for(server));
  boost::asio::io_context mine;
  std::string text;
  std::optional<Result<Message>> out;
  auto task = [&]() -> boost::asio::awaitable<void> {
    StreamCallbacks cb;
    cb.on_text = [&](std::size_t, std::string_view t) { text += t; };
    auto req = hello_request();
    auto r = co_await client.messages.async_stream(std::move(req), std::move(cb));
    out.emplace(std::move(r));
  };
  boost::asio::co_spawn(mine, task(), boost::asio::detached);
  mine.run();
  ASSERT_TRUE(out);
  ASSERT_TRUE(*out) << out->error().to_string();
  EXPECT_EQ(text, "Hello world");
  EXPECT_EQ((*out)->text(), "Hello world");
}

TEST(Client, ClientSideRateLimitHoldsRequestsBack) {
  FakeServer server([](const FakeRequest&, int, FakeConn& c) { c.json(200, kHelloMessage); });
  auto opts = options_for(server);
  opts.rate_limit.requests_per_minute = 1;  // one request now, the next in a minute
  boost::asio::io_context mine;
  int done = 0;
  {
    Client client(opts);
    auto one = [&]() -> boost::asio::awaitable<void> {
      auto req = hello_request();
      auto r = co_await client.messages.async_create(std::move(req));
      EXPECT_TRUE(r);
      ++done;
    };
    boost::asio::co_spawn(mine, one(), boost::asio::detached);
    boost::asio::co_spawn(mine, one(), boost::asio::detached);
    mine.run_for(500ms);
    EXPECT_EQ(done, 1);
    EXPECT_EQ(server.requests().size(), 1u);
  }  // the held request is abandoned with the client
}

}  // namespace
}  // namespace sluice::client
