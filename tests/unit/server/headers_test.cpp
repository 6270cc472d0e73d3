#include "server/headers.hpp"

#include <gtest/gtest.h>

#include <string>

#include "upstream/response_head.hpp"

namespace sluice::server {
namespace {

// Parses rendered "Name: value\r\n" lines back into fields, to assert on them.
bhttp::fields parse_lines(const std::string& lines) {
  bhttp::fields f;
  std::size_t pos = 0;
  while (pos < lines.size()) {
    auto end = lines.find("\r\n", pos);
    auto line = lines.substr(pos, end - pos);
    auto colon = line.find(": ");
    f.insert(line.substr(0, colon), line.substr(colon + 2));
    pos = end + 2;
  }
  return f;
}

bhttp::fields upstream_request_headers(const bhttp::fields& client, std::string_view key) {
  std::string out;
  render_upstream_request_headers(client, key, out);
  return parse_lines(out);
}

void copy_response_headers(const bhttp::fields& upstream, bhttp::fields& out) {
  std::string lines;
  render_response_headers(upstream, lines);
  out = parse_lines(lines);
}

bhttp::fields claude_code_headers() {
  bhttp::fields f;
  f.set(bhttp::field::host, "127.0.0.1:8787");
  f.set("x-api-key", "sk-client-key");
  f.set("anthropic-version", "2023-06-01");
  f.set("anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14");
  f.set(bhttp::field::content_type, "application/json");
  f.set(bhttp::field::content_length, "1234");
  f.set(bhttp::field::connection, "keep-alive, x-secret-hop");
  f.set("x-secret-hop", "should not pass");
  f.set(bhttp::field::keep_alive, "timeout=5");
  f.set(bhttp::field::accept_encoding, "gzip, deflate, br, zstd");
  f.set(bhttp::field::user_agent, "claude-cli/2.1.332 (external, sdk-cli)");
  f.set("X-Claude-Code-Session-Id", "9a1b");
  f.set("x-stainless-retry-count", "0");
  f.set("x-custom-unknown", "kept");
  return f;
}

TEST(UpstreamRequestHeaders, ForwardsEndToEndHeadersUnchanged) {
  auto out = upstream_request_headers(claude_code_headers(), "");
  EXPECT_EQ(out["anthropic-version"], "2023-06-01");
  EXPECT_EQ(out["anthropic-beta"], "claude-code-20250219,interleaved-thinking-2025-05-14");
  EXPECT_EQ(out[bhttp::field::user_agent], "claude-cli/2.1.332 (external, sdk-cli)");
  EXPECT_EQ(out["X-Claude-Code-Session-Id"], "9a1b");
  EXPECT_EQ(out["x-stainless-retry-count"], "0");
  EXPECT_EQ(out["x-custom-unknown"], "kept");
  EXPECT_EQ(out[bhttp::field::content_type], "application/json");
}

TEST(UpstreamRequestHeaders, StripsHopByHopHostAndLength) {
  auto out = upstream_request_headers(claude_code_headers(), "");
  EXPECT_EQ(out.count(bhttp::field::connection), 0u);
  EXPECT_EQ(out.count(bhttp::field::keep_alive), 0u);
  EXPECT_EQ(out.count("x-secret-hop"), 0u) << "headers named in Connection are hop-by-hop";
  EXPECT_EQ(out.count(bhttp::field::host), 0u);
  EXPECT_EQ(out.count(bhttp::field::content_length), 0u);
  EXPECT_EQ(out[bhttp::field::accept_encoding], "identity");
}

TEST(UpstreamRequestHeaders, ForwardsClientCredentialsWithoutProviderKey) {
  auto out = upstream_request_headers(claude_code_headers(), "");
  EXPECT_EQ(out["x-api-key"], "sk-client-key");
  bhttp::fields bearer;
  bearer.set(bhttp::field::authorization, "Bearer tok-123");
  auto out2 = upstream_request_headers(bearer, "");
  EXPECT_EQ(out2[bhttp::field::authorization], "Bearer tok-123");
}

TEST(UpstreamRequestHeaders, ProviderKeyReplacesEitherClientCredential) {
  auto in = claude_code_headers();
  in.set(bhttp::field::authorization, "Bearer client-token");
  auto out = upstream_request_headers(in, "sk-provider");
  EXPECT_EQ(out["x-api-key"], "sk-provider");
  EXPECT_EQ(out.count("x-api-key"), 1u);
  EXPECT_EQ(out.count(bhttp::field::authorization), 0u);
}

TEST(ResponseHeaders, KeepsRateLimitAndRequestIdDropsFraming) {
  bhttp::fields up;
  up.set("request-id", "req_01");
  up.set("anthropic-ratelimit-requests-remaining", "999");
  up.set("retry-after", "3");
  up.set(bhttp::field::content_type, "text/event-stream; charset=utf-8");
  up.set(bhttp::field::transfer_encoding, "chunked");
  up.set(bhttp::field::content_length, "10");
  up.set(bhttp::field::connection, "keep-alive");
  bhttp::fields out;
  copy_response_headers(up, out);
  EXPECT_EQ(out["request-id"], "req_01");
  EXPECT_EQ(out["anthropic-ratelimit-requests-remaining"], "999");
  EXPECT_EQ(out["retry-after"], "3");
  EXPECT_EQ(out[bhttp::field::content_type], "text/event-stream; charset=utf-8");
  EXPECT_EQ(out.count(bhttp::field::transfer_encoding), 0u);
  EXPECT_EQ(out.count(bhttp::field::content_length), 0u);
  EXPECT_EQ(out.count(bhttp::field::connection), 0u);
}

TEST(ContentTypes, JsonAndEventStreamMatchingIgnoresCaseAndParameters) {
  EXPECT_TRUE(is_json_content_type("application/json"));
  EXPECT_TRUE(is_json_content_type("Application/JSON; charset=utf-8"));
  EXPECT_FALSE(is_json_content_type("text/plain"));
  EXPECT_FALSE(is_json_content_type("application/jsonx"));
  EXPECT_FALSE(is_json_content_type(""));
  EXPECT_TRUE(is_event_stream("text/event-stream; charset=utf-8"));
  EXPECT_FALSE(is_event_stream("application/json"));
}

}  // namespace
}  // namespace sluice::server

namespace sluice::server {
namespace {

TEST(UpstreamRequestHeaders, ASluiceKeyNeverReachesTheProvider) {
  bhttp::fields client;
  client.set("x-api-key", "sk-sluice-secret");
  client.set(bhttp::field::authorization, "Bearer sk-sluice-secret");
  client.set("anthropic-version", "2023-06-01");
  std::string out;
  render_upstream_request_headers(client, "", out, /*drop_client_credentials=*/true);
  EXPECT_EQ(out.find("sk-sluice-secret"), std::string::npos) << out;
  EXPECT_NE(out.find("anthropic-version: 2023-06-01"), std::string::npos);
  out.clear();
  render_upstream_request_headers(client, "sk-provider", out, true);
  EXPECT_EQ(out.find("sk-sluice-secret"), std::string::npos) << out;
  EXPECT_NE(out.find("x-api-key: sk-provider"), std::string::npos);
}

TEST(UpstreamRequestHeaders, RequestsToSluiceItselfStayHere) {
  bhttp::fields client;
  client.set("X-Sluice-Context-Trim", "true");
  client.set("x-sluice-anything", "1");
  client.set("x-sluicex", "kept: not our prefix");
  client.set("anthropic-version", "2023-06-01");
  std::string out;
  render_upstream_request_headers(client, "", out);
  EXPECT_EQ(out.find("Context-Trim"), std::string::npos) << out;
  EXPECT_EQ(out.find("x-sluice-anything"), std::string::npos) << out;
  EXPECT_NE(out.find("x-sluicex"), std::string::npos) << out;
}

// Connection may come in several fields, anywhere in the head: every name they list is dropped.
TEST(ResponseHeaders, ConnectionFieldsApartEachNameTheirHops) {
  bhttp::fields upstream;
  upstream.insert(bhttp::field::connection, "x-first-hop");
  upstream.insert("request-id", "req_01");
  upstream.insert("x-first-hop", "dropped");
  upstream.insert(bhttp::field::connection, "X-Second-Hop");
  upstream.insert("x-second-hop", "dropped");
  upstream.insert("x-kept", "yes");
  std::string lines;
  render_response_headers(upstream, lines);
  EXPECT_EQ(lines, "request-id: req_01\r\nx-kept: yes\r\n");

  upstream::ResponseParser parser;
  const std::string_view raw =
      "HTTP/1.1 200 OK\r\nConnection: x-first-hop\r\nrequest-id: req_01\r\nx-first-hop: dropped\r\n"
      "Connection: X-Second-Hop\r\nx-second-hop: dropped\r\nx-kept: yes\r\nContent-Length: 0\r\n\r\n";
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
  ASSERT_FALSE(ec) << ec.message();
  std::string flat;
  render_response_headers(parser.head(), flat);
  EXPECT_EQ(flat, lines);
}

// An upstream response's head (upstream/response_head.hpp) follows the same rules, the
// Connection header's extra names included.
TEST(ResponseHeaders, UpstreamHeadFollowsTheSameRules) {
  upstream::ResponseParser parser;
  const std::string_view raw =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\nrequest-id: req_01\r\n"
      "anthropic-ratelimit-requests-remaining: 3999\r\nConnection: keep-alive, X-Upstream-Hop\r\n"
      "x-upstream-hop: dropped\r\nKeep-Alive: timeout=5\r\nretry-after: 7\r\n\r\n";
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(raw.data(), raw.size()), ec);
  ASSERT_FALSE(ec) << ec.message();
  ASSERT_TRUE(parser.is_done());
  std::string lines;
  render_response_headers(parser.head(), lines);
  EXPECT_EQ(lines,
            "Content-Type: application/json\r\nrequest-id: req_01\r\n"
            "anthropic-ratelimit-requests-remaining: 3999\r\nretry-after: 7\r\n");
}

}  // namespace
}  // namespace sluice::server
