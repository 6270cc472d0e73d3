#pragma once
// sluice client library: a C++ client of the Anthropic Messages API that behaves like the
// official SDKs (wire-protocols.md §4), for Anthropic itself or a sluice gateway.
//
//   sluice::client::Client client(sluice::client::ClientOptions::from_env());
//   sluice::client::MessageRequest req;
//   req.model = "claude-sonnet-4-5";
//   req.messages.push_back(sluice::client::MessageParam::user("Hello"));
//   auto msg = client.messages.create(req);            // blocking
//   if (!msg) std::cerr << msg.error().to_string();
//
// Behaviour:
// - Retries (max_retries, default 2) on connection failures, timeouts before a response and
//   statuses 408, 409, 429 and >= 500 (529 included). `x-should-retry: true|false` from the
//   server overrides that. The wait is `retry-after-ms`, else `retry-after` (seconds or an HTTP
//   date) when 0 < wait <= max_retry_after, else min(0.5 s * 2^n, 8 s) * (1 - 0.25 * random).
//   A stream is never retried once its 200 head arrived.
// - Tiered timeouts per attempt: connect, first byte (streams: until the response head),
//   idle (streams: longest silence between two reads) and total (non-streaming answers).
// - A stream that ends without message_stop is an error (StreamBroken), never a clean finish;
//   an `event: error` in the stream is an Api error. When the server is a sluice gateway (its
//   response carries `x-sluice-stream-id` and event ids `<id>:<seq>`), a stream whose
//   connection breaks is resumed with `GET /v1/streams/<id>` and `Last-Event-ID`, up to
//   max_resume_attempts times, transparently: callbacks see every event exactly once.
// - Optional client-side rate limit (requests per minute, a token bucket: a call waits for a
//   token) and secret redaction of the prompt text before it leaves the process.
//
// Threading: a Client owns one I/O thread. Blocking calls may be made from any number of
// threads at once (not from a stream callback, which runs on the I/O thread). The awaitable
// calls may be awaited from any executor; they run on the client's thread and resume on the
// caller's executor. Destroying the Client waits for its thread; no call may be in progress.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "sluice/client/messages.hpp"
#include "sluice/client/result.hpp"
#include "sluice/client/stream.hpp"

namespace sluice::client {

using std::chrono::milliseconds;

// Per attempt. The SDKs' defaults are 600 s in all and 5 s to connect. A stream is bounded by
// connect, first_byte and idle only: an answer that keeps arriving is never cut by `total`.
struct Timeouts {
  milliseconds connect{5'000};       // TCP (+ TLS) connect
  milliseconds first_byte{60'000};   // streams: request sent -> response head
  milliseconds idle{120'000};        // streams: longest silence between two body reads
  milliseconds total{600'000};       // non-streaming: the whole attempt, answer included
};

struct RetryOptions {
  int max_retries = 2;                    // retries after the first attempt
  milliseconds initial_delay{500};        // backoff: min(initial * 2^n, max) * (1 - 0.25 r)
  milliseconds max_delay{8'000};
  milliseconds max_retry_after{60'000};   // a longer server-given wait falls back to backoff
  int max_resume_attempts = 3;            // resumes of a broken stream from a sluice gateway
};

struct RateLimitOptions {
  double requests_per_minute = 0;  // 0: no client-side limit
};

struct ClientOptions {
  std::string base_url = "https://api.anthropic.com";  // without /v1
  std::string api_key;       // sent as x-api-key when set
  std::string auth_token;    // sent as "authorization: Bearer <token>" when set
  std::string ca_file;       // extra CA bundle for https; empty: the system store
  Timeouts timeouts;
  RetryOptions retry;
  RateLimitOptions rate_limit;
  bool redact_secrets = false;  // replace secrets in prompt text by [REDACTED:<type>]
  std::vector<std::pair<std::string, std::string>> default_headers;  // sent on every request

  // Defaults, with base_url from ANTHROPIC_BASE_URL, api_key from ANTHROPIC_API_KEY and
  // auth_token from ANTHROPIC_AUTH_TOKEN when they are set.
  static ClientOptions from_env();
};

class Client;

// The Messages API of a Client (client.messages).
class Messages {
 public:
  // POST /v1/messages: the whole message.
  Result<Message> create(const MessageRequest& req);
  // POST /v1/messages with "stream": true: calls `cb` as events arrive and returns the
  // accumulated message once message_stop arrived.
  Result<Message> stream(const MessageRequest& req, const StreamCallbacks& cb);
  // POST /v1/messages/count_tokens (max_tokens, temperature and the like are not sent).
  Result<TokenCount> count_tokens(const MessageRequest& req);

  // The same, awaitable from a coroutine on any executor.
  boost::asio::awaitable<Result<Message>> async_create(MessageRequest req);
  boost::asio::awaitable<Result<Message>> async_stream(MessageRequest req, StreamCallbacks cb);
  boost::asio::awaitable<Result<TokenCount>> async_count_tokens(MessageRequest req);

 private:
  friend class Client;
  explicit Messages(Client& c) : client_(c) {}
  Client& client_;
};

class Client {
 public:
  // Throws std::invalid_argument for an unusable base_url or ca_file.
  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const ClientOptions& options() const;

  Messages messages{*this};

  class Impl;  // src/client/engine.hpp

 private:
  friend class Messages;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::client
