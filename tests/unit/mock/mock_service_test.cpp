// Loopback tests of MockService (src/mock/mock_service.*, reply_sender.*) on a real http::Server
// on port 0: one chunk per SSE event, pacing, and the stream faults that only show on the wire.

#include "mock/mock_service.hpp"

#include <gtest/gtest.h>

#include <future>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/string_body.hpp>

#include "unit/mock/sse_testing.hpp"

namespace sluice::mock {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using testing::parse_sse;

struct RawResponse {
  std::string status_line;
  std::string head;
  std::vector<std::string> chunks;  // body chunks as framed by the server
  bool complete = false;            // the terminal zero-size chunk arrived
  bool reset = false;               // the read ended with an error, not EOF
};

// Splits a chunked body into its chunks; stops at the first incomplete one.
void decode_chunks(std::string_view body, RawResponse& out) {
  while (true) {
    const std::size_t eol = body.find("\r\n");
    if (eol == std::string_view::npos) return;
    const std::size_t size = std::stoul(std::string(body.substr(0, eol)), nullptr, 16);
    if (size == 0) {
      out.complete = true;
      return;
    }
    if (body.size() < eol + 2 + size + 2) return;
    out.chunks.emplace_back(body.substr(eol + 2, size));
    body.remove_prefix(eol + 2 + size + 2);
  }
}

class MockServiceTest : public ::testing::Test {
 protected:
  void start(MockOptions opts) {
    service_ = std::make_unique<MockService>(std::move(opts));
    workers_ = std::make_unique<http::Workers>(1);
    server_ = std::make_unique<http::Server>(
        *workers_, http::ServerLimits{}, service_->handler(), [](const http::Rejection& r) {
          http::bhttp::response<http::bhttp::string_body> res{http::bhttp::status::bad_request, 11};
          res.body() = r.message;
          return res;
        });
    port_ = server_->listen("127.0.0.1", 0).port();
    workers_->start();
  }

  void TearDown() override {
    if (!server_) return;
    service_->stop();
    std::promise<void> drained;
    server_->drain(std::chrono::milliseconds(2000), [&](std::size_t) { drained.set_value(); });
    drained.get_future().wait();
    workers_->stop();
    workers_->join();
    server_.reset();
    workers_.reset();
    service_.reset();
  }

  RawResponse exchange(const std::string& target, const std::string& body, const std::string& extra_headers = {}) {
    net::io_context io;
    tcp::socket sock(io);
    sock.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
    std::string req = "POST " + target + " HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n"
                      "x-api-key: sk-test\r\nanthropic-version: 2023-06-01\r\nauthorization: Bearer sk-test\r\n"
                      "content-type: application/json\r\n" + extra_headers +
                      "content-length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    net::write(sock, net::buffer(req));
    std::string raw;
    boost::system::error_code ec;
    char buf[4096];
    for (;;) {
      const std::size_t n = sock.read_some(net::buffer(buf), ec);
      raw.append(buf, n);
      if (ec) break;
    }
    RawResponse out;
    out.reset = ec != net::error::eof;
    const std::size_t head_end = raw.find("\r\n\r\n");
    if (head_end == std::string::npos) return out;
    out.head = raw.substr(0, head_end);
    out.status_line = out.head.substr(0, out.head.find("\r\n"));
    const std::string body_bytes = raw.substr(head_end + 4);
    if (out.head.find("chunked") != std::string::npos) {
      decode_chunks(body_bytes, out);
    } else {
      out.chunks.push_back(body_bytes);
      out.complete = true;
    }
    return out;
  }

  static std::string stream_body(int max_tokens = 256) {
    return R"({"model":"claude-test","max_tokens":)" + std::to_string(max_tokens) +
           R"(,"stream":true,"messages":[{"role":"user","content":"one two three"}]})";
  }

  std::unique_ptr<MockService> service_;
  std::unique_ptr<http::Workers> workers_;
  std::unique_ptr<http::Server> server_;
  unsigned short port_ = 0;
};

TEST_F(MockServiceTest, EachEventIsOneChunk) {
  start(MockOptions{});
  RawResponse r = exchange("/v1/messages?beta=true", stream_body());
  EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK");
  EXPECT_NE(r.head.find("text/event-stream; charset=utf-8"), std::string::npos);
  EXPECT_NE(r.head.find("request-id: req_"), std::string::npos);
  EXPECT_TRUE(r.complete);
  ASSERT_GT(r.chunks.size(), 5u);
  for (const auto& c : r.chunks) {
    bool ok = false;
    EXPECT_EQ(parse_sse(c, &ok).size(), 1u) << c;
    EXPECT_TRUE(ok) << c;
  }
  EXPECT_TRUE(r.chunks.front().starts_with("event: message_start\n"));
  EXPECT_TRUE(r.chunks.back().starts_with("event: message_stop\n"));
}

TEST_F(MockServiceTest, NonStreamingAndStatusFault) {
  start(MockOptions{});
  RawResponse ok = exchange("/v1/messages", R"({"model":"m","max_tokens":9,"messages":[{"role":"user","content":"x"}]})");
  EXPECT_EQ(ok.status_line, "HTTP/1.1 200 OK");
  ASSERT_EQ(ok.chunks.size(), 1u);
  EXPECT_EQ(testing::json(ok.chunks[0]).at("type").as_string(), "message");

  RawResponse over = exchange("/v1/messages", stream_body(), "x-mock-fault: status-529\r\n");
  EXPECT_EQ(over.status_line, "HTTP/1.1 529 Overloaded");
  ASSERT_EQ(over.chunks.size(), 1u);
  EXPECT_EQ(testing::json(over.chunks[0]).at("error").at("type").as_string(), "overloaded_error");
}

TEST_F(MockServiceTest, ResetAfterN) {
  start(MockOptions{});
  RawResponse r = exchange("/v1/messages", stream_body(), "x-mock-fault: reset-after-2\r\n");
  EXPECT_EQ(r.chunks.size(), 2u);
  EXPECT_FALSE(r.complete);
}

TEST_F(MockServiceTest, ErrorAfterNAndTruncateAfterN) {
  start(MockOptions{});
  RawResponse r = exchange("/v1/messages", stream_body(), "x-mock-fault: error-after-3\r\n");
  ASSERT_EQ(r.chunks.size(), 4u);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.chunks[3], "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n");

  RawResponse t = exchange("/v1/messages", stream_body(), "x-mock-fault: truncate-after-4\r\n");
  EXPECT_EQ(t.chunks.size(), 4u);
  EXPECT_TRUE(t.complete);
  EXPECT_FALSE(t.reset);

  RawResponse o = exchange("/v1/chat/completions",
                           R"({"model":"gpt","stream":true,"messages":[{"role":"user","content":"a b"}]})",
                           "x-mock-fault: error-after-2\r\n");
  ASSERT_EQ(o.chunks.size(), 3u);
  EXPECT_TRUE(o.chunks[2].starts_with("data: {\"error\":"));
}

TEST_F(MockServiceTest, StallAfterNHoldsThenDrops) {
  MockOptions opts;
  opts.stall_limit = std::chrono::milliseconds(300);
  start(opts);
  const auto t0 = std::chrono::steady_clock::now();
  RawResponse r = exchange("/v1/messages", stream_body(), "x-mock-fault: stall-after-1\r\n");
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.chunks.size(), 1u);
  EXPECT_FALSE(r.complete);
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
}

TEST_F(MockServiceTest, MalformedSseAndSlowFirstByte) {
  start(MockOptions{});
  const auto t0 = std::chrono::steady_clock::now();
  RawResponse r = exchange("/v1/messages", stream_body(),
                           "x-mock-fault: malformed-sse, slow-first-byte\r\nx-mock-delay-ms: 150\r\n");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(140));
  ASSERT_GT(r.chunks.size(), 3u);
  EXPECT_TRUE(r.complete);
  EXPECT_TRUE(r.chunks[1].starts_with("event: ping\ndata: {\"type\": \"ping\", this is not JSON"));
}

TEST_F(MockServiceTest, PacingSpreadsTokensOverTime) {
  start(MockOptions{});
  const auto t0 = std::chrono::steady_clock::now();
  // "Hello from sluice mock! You said: one two three" = 9 tokens at 100/s: >= 90 ms.
  RawResponse r = exchange("/v1/messages", stream_body(), "x-mock-tokens-per-second: 100\r\n");
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_TRUE(r.complete);
  EXPECT_GE(elapsed, std::chrono::milliseconds(85));
  EXPECT_LT(elapsed, std::chrono::milliseconds(2000));
}

}  // namespace
}  // namespace sluice::mock
