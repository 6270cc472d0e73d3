#pragma once
// Client::Impl: the client library's engine. Owns the I/O thread and its io_context, the
// upstream HTTP client (connection pool, TLS, tiered deadlines: upstream/client.hpp), the
// optional client-side limiter and redaction engine. Every request runs as a coroutine on the
// I/O thread, so the pool, the limiter and the accumulators are only touched from there.

#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "common/clock.hpp"
#include "sluice/client/client.hpp"
#include "stages/ratelimit/token_bucket.hpp"
#include "stages/redact/engine.hpp"
#include "upstream/client.hpp"

namespace sluice::client {

namespace net = boost::asio;

class Client::Impl {
 public:
  explicit Impl(ClientOptions options);
  ~Impl();

  const ClientOptions& options() const { return options_; }
  net::io_context& io() { return io_; }

  net::awaitable<Result<Message>> create(MessageRequest req);
  net::awaitable<Result<Message>> stream(MessageRequest req, StreamCallbacks cb);
  net::awaitable<Result<TokenCount>> count_tokens(MessageRequest req);

  // One HTTP exchange with the SDK's retries: returns the response of the first attempt that
  // got a 2xx head, or the last error. `max_retries` < 0 means options().retry.max_retries.
  struct Call {
    boost::beast::http::verb method = boost::beast::http::verb::post;
    std::string target;
    std::string body;
    std::string betas;          // anthropic-beta
    std::string last_event_id;  // Last-Event-ID (resume)
    bool streaming = false;
    int max_retries = -1;
  };
  struct Sent {
    upstream::UpstreamResponsePtr response;
    int attempts = 0;
  };
  net::awaitable<Result<Sent>> send(const Call& call);

 private:
  std::string render_headers(const Call& call, int retries_done) const;
  net::awaitable<void> sleep(milliseconds d);
  net::awaitable<void> wait_for_limiter();
  // Redacts the prompt text of `body` when enabled; an error when a blocking rule matched.
  std::optional<Error> redact(std::string& body) const;
  net::awaitable<Result<std::string>> read_body(upstream::UpstreamResponse& res);

  ClientOptions options_;
  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
  std::unique_ptr<upstream::UpstreamClient> upstream_;         // non-streaming: the total deadline
  std::unique_ptr<upstream::UpstreamClient> stream_upstream_;  // streams: first byte + idle only
  std::optional<stages::ratelimit::TokenBucket> limiter_;
  std::unique_ptr<stages::redact::Engine> redactor_;
  SystemClock& clock_ = SystemClock::instance();
  SystemRandom& random_ = SystemRandom::instance();
  std::thread thread_;
};

}  // namespace sluice::client
