// Unit tests of src/upstream/response_head: the head of a provider's answer as the gateway reads
// it (status, reason, fields in arrival order, case-insensitive lookups, duplicates), and the
// body as buffer_body delivered it (into the caller's buffer, need_buffer when full, chunked
// decoding, trailers dropped, a body that runs to the close), whatever the split of the input.

#include "upstream/response_head.hpp"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace sluice::upstream {
namespace {

constexpr std::string_view kAnthropicHead =
    "HTTP/1.1 200 OK\r\n"
    "content-type: application/json\r\n"
    "request-id: req_4k1tUaoRL10d7rBnoHjh8KhP\r\n"
    "anthropic-ratelimit-requests-limit: 4000\r\n"
    "anthropic-ratelimit-requests-remaining: 3999\r\n"
    "anthropic-ratelimit-requests-reset: 2026-11-26T20:27:23Z\r\n"
    "anthropic-ratelimit-input-tokens-limit: 2000000\r\n"
    "anthropic-ratelimit-tokens-reset: 2026-11-26T20:27:23Z\r\n"
    "anthropic-organization-id: 00000000-0000-4000-8000-5c01ce0a0c0c\r\n"
    "Set-Cookie: a=1\r\n"
    "set-cookie: b=2\r\n"
    "X-Custom:   padded value  \r\n"
    "Content-Length: 11\r\n"
    "\r\n";

// Feeds `raw` in pieces of `step` bytes (the parser keeps what it could not use yet, as the
// connection's buffer does), with the body going into `body`'s free space.
struct Fed {
  boost::system::error_code ec;
  std::string body;
};
Fed feed(ResponseParser& p, std::string_view raw, std::size_t step, std::size_t body_room = 4096) {
  Fed out;
  std::vector<char> room(body_room);
  std::string pending;
  std::size_t at = 0;
  while (!p.is_done()) {
    if (at < raw.size()) {
      const std::size_t n = std::min(step, raw.size() - at);
      pending.append(raw.substr(at, n));
      at += n;
    }
    p.body_data = room.data();
    p.body_size = room.size();
    boost::system::error_code ec;
    const std::size_t used = p.put(boost::asio::buffer(pending.data(), pending.size()), ec);
    out.body.append(room.data(), room.size() - p.body_size);
    pending.erase(0, used);
    const bool stuck = ec == boost::beast::http::error::need_more || (!ec && pending.empty());
    if (!ec || ec == boost::beast::http::error::need_more || ec == boost::beast::http::error::need_buffer) {
      if (at >= raw.size() && used == 0 && stuck) {
        // The input ended: the end of a body that runs to the close, or too early.
        boost::system::error_code eof;
        if (p.is_header_done()) p.put_eof(eof);
        out.ec = p.is_done() && !eof ? boost::system::error_code() : boost::beast::http::error::need_more;
        return out;
      }
      continue;
    }
    out.ec = ec;
    return out;
  }
  return out;
}

TEST(ResponseHead, KeepsStatusReasonAndFieldsInArrivalOrder) {
  ResponseParser p;
  auto fed = feed(p, std::string(kAnthropicHead) + "{\"ok\":true}", 1 << 20);
  ASSERT_FALSE(fed.ec) << fed.ec.message();
  const auto& h = p.head();
  EXPECT_EQ(h.result_int(), 200u);
  EXPECT_EQ(h.reason(), "OK");
  EXPECT_EQ(h.version(), 11);
  ASSERT_EQ(h.size(), 12u);
  std::vector<std::string> names;
  for (const auto& f : h) names.emplace_back(f.name_string());
  EXPECT_EQ(names.front(), "content-type");
  EXPECT_EQ(names[8], "Set-Cookie");
  EXPECT_EQ(names.back(), "Content-Length");
  EXPECT_EQ(h.begin()->name(), boost::beast::http::field::content_type);
  EXPECT_EQ(fed.body, "{\"ok\":true}");
  EXPECT_TRUE(p.keep_alive());
}

TEST(ResponseHead, LooksUpAnyCaseByNameOrFieldFirstValueFirst) {
  ResponseParser p;
  ASSERT_FALSE(feed(p, std::string(kAnthropicHead) + "{\"ok\":true}", 1 << 20).ec);
  const auto& h = p.head();
  EXPECT_EQ(h["REQUEST-ID"], "req_4k1tUaoRL10d7rBnoHjh8KhP");
  EXPECT_EQ(h[boost::beast::http::field::content_type], "application/json");
  EXPECT_EQ(h["set-cookie"], "a=1");  // the first of two
  EXPECT_EQ(h["x-custom"], "padded value");  // Beast trims the value's outer whitespace
  EXPECT_EQ(h["retry-after"], "");
  EXPECT_EQ(h.find("retry-after"), h.end());
  EXPECT_EQ(h.find(boost::beast::http::field::unknown), h.end());
  auto it = h.find("anthropic-ratelimit-requests-remaining");
  ASSERT_NE(it, h.end());
  EXPECT_EQ(it->value(), "3999");
  EXPECT_EQ(it->name(), boost::beast::http::field::unknown);
}

TEST(ResponseHead, SameResultForEverySplitOfTheInput) {
  const std::string raw = std::string(kAnthropicHead) + "{\"ok\":true}";
  for (std::size_t step : {1u, 2u, 3u, 7u, 64u}) {
    ResponseParser p;
    auto fed = feed(p, raw, step);
    ASSERT_FALSE(fed.ec) << step << ": " << fed.ec.message();
    EXPECT_EQ(p.head().size(), 12u) << step;
    EXPECT_EQ(p.head()["anthropic-organization-id"], "00000000-0000-4000-8000-5c01ce0a0c0c") << step;
    EXPECT_EQ(fed.body, "{\"ok\":true}") << step;
  }
}

TEST(ResponseHead, BodyFillsTheCallersBufferThenAsksForAnother) {
  ResponseParser p;
  const std::string raw = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
  auto fed = feed(p, raw, 1 << 20, /*body_room=*/4);  // 4 bytes at a time
  ASSERT_FALSE(fed.ec) << fed.ec.message();
  EXPECT_EQ(fed.body, "0123456789");

  ResponseParser e;  // eager: the whole body offered to a 4-byte buffer in one put
  e.eager(true);
  char room[4];
  e.body_data = room;
  e.body_size = sizeof room;
  boost::system::error_code pec;
  const std::size_t took = e.put(boost::asio::buffer(raw.data(), raw.size()), pec);
  EXPECT_EQ(pec, boost::beast::http::error::need_buffer) << "a full buffer stops the parse";
  EXPECT_EQ(std::string_view(room, 4), "0123");
  EXPECT_EQ(e.body_size, 0u);
  EXPECT_EQ(took, raw.size() - 6) << "the 6 bytes that did not fit are left for the next put";

  ResponseParser q;  // no buffer: the parse stops at the body
  boost::system::error_code ec;
  const std::size_t used = q.put(boost::asio::buffer(raw.data(), raw.size()), ec);  // the head
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(q.is_header_done());
  q.put(boost::asio::buffer(raw.data() + used, raw.size() - used), ec);
  EXPECT_EQ(ec, boost::beast::http::error::need_buffer);
}

TEST(ResponseHead, DecodesChunkedBodiesAndDropsTrailers) {
  const std::string raw =
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
      "6\r\nevent:\r\n"
      "13\r\n message_start\n\n...\r\n"
      "0\r\nx-trailer: late\r\n\r\n";
  for (std::size_t step : {1u, 5u, 1024u}) {
    ResponseParser p;
    auto fed = feed(p, raw, step, 8);
    ASSERT_FALSE(fed.ec) << step << ": " << fed.ec.message();
    EXPECT_EQ(fed.body, "event: message_start\n\n...") << step;
    EXPECT_EQ(p.head().size(), 2u) << step;
    EXPECT_EQ(p.head().find("x-trailer"), p.head().end()) << step;
    EXPECT_EQ(p.head()[boost::beast::http::field::transfer_encoding], "chunked");
  }
}

TEST(ResponseHead, ALongHeadKeepsEveryFieldAsTheTextGrows) {
  // Well past the text's initial reservation: fields read before and after it grew agree.
  std::string raw = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 60; ++i) raw += "x-field-" + std::to_string(i) + ": value-" + std::string(40, 'a' + i % 26) + "\r\n";
  raw += "Content-Length: 0\r\n\r\n";
  ResponseParser p;
  ASSERT_FALSE(feed(p, raw, 1 << 20).ec);
  ASSERT_EQ(p.head().size(), 61u);
  for (int i = 0; i < 60; ++i) {
    EXPECT_EQ(p.head()["x-field-" + std::to_string(i)], "value-" + std::string(40, 'a' + i % 26)) << i;
  }
}

TEST(ResponseHead, ABodyThatRunsToTheCloseEndsAtEof) {
  ResponseParser p;
  auto fed = feed(p, "HTTP/1.0 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it", 3, 2);
  ASSERT_FALSE(fed.ec) << fed.ec.message();
  EXPECT_EQ(fed.body, "all of it");
  EXPECT_FALSE(p.keep_alive());
}

TEST(ResponseHead, ErrorStatusAndOddReasonPhrase) {
  ResponseParser p;
  const std::string raw =
      "HTTP/1.1 529 Site Overloaded\r\nretry-after: 2\r\nx-should-retry: true\r\ncontent-length: 0\r\n\r\n";
  ASSERT_FALSE(feed(p, raw, 1 << 20).ec);
  EXPECT_EQ(p.head().result_int(), 529u);
  EXPECT_EQ(p.head().reason(), "Site Overloaded");
  EXPECT_EQ(p.head()["Retry-After"], "2");
}

TEST(ResponseHead, MalformedHeadsAreErrors) {
  for (std::string_view raw : {std::string_view("HTTP/1.1 200 OK\r\nbad header\r\n\r\n"),
                               std::string_view("HTTP/1.1 2x0 OK\r\n\r\n"),
                               std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")}) {
    ResponseParser p;
    EXPECT_TRUE(feed(p, raw, 1 << 20).ec) << raw;
  }
}

TEST(ResponseHead, HeaderLimitHolds) {
  ResponseParser p;
  p.header_limit(256);
  std::string raw = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 20; ++i) raw += "x-filler-" + std::to_string(i) + ": " + std::string(20, 'v') + "\r\n";
  raw += "\r\n";
  EXPECT_EQ(feed(p, raw, 1 << 20).ec, boost::beast::http::error::header_limit);
}

}  // namespace
}  // namespace sluice::upstream
