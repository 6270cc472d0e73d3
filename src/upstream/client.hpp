#pragma once
// The HTTP client a provider uses to reach its upstream: keep-alive pooling per worker thread,
// TLS with certificate verification, and the tiered deadlines of config::Timeouts. One attempt
// per send(), except that a request that failed on a reused pooled connection before any
// response byte arrived is sent again once on a fresh connection (the peer had closed it).
//
// Thread-safety: an UpstreamClient is shared by all workers; send() must be called on the
// worker thread whose index it is given, and the returned response used on that thread only.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/verb.hpp>

#include "common/result.hpp"
#include "config/config.hpp"
#include "upstream/connection.hpp"
#include "upstream/response_head.hpp"

namespace sluice::upstream {

namespace bhttp = boost::beast::http;

struct UpstreamRequest {
  bhttp::verb method = bhttp::verb::post;
  std::string target;    // path and query, appended to the endpoint's base path
  std::string headers;     // rendered "Name: value\r\n" lines (http/wire.hpp); send() adds
                           // the request line, Host and Content-Length
  std::string body;
  bool streaming = false;  // picks first_byte (streaming) or total (not) as the head deadline
  int attempts = 0;        // set by send(): 1, or 2 after a stale pooled connection
  // When set, points at the connection in use while send() connects and waits for the head
  // (nullptr otherwise), so the caller can close it if its client goes away meanwhile.
  Connection** live = nullptr;
};

// A response whose head has arrived; the body is read piece by piece with read().
class UpstreamResponse {
 public:
  UpstreamResponse(ConnectionPtr conn, Pool& pool, std::string pool_key, config::Timeouts timeouts,
                   SteadyClock::time_point deadline, bool streaming);
  ~UpstreamResponse();
  UpstreamResponse(const UpstreamResponse&) = delete;
  UpstreamResponse& operator=(const UpstreamResponse&) = delete;

  ResponseParser& parser() { return *parser_; }
  const ResponseHead& head() const { return parser_->head(); }
  unsigned status() const { return parser_->head().result_int(); }
  bool done() const { return parser_->is_done(); }
  // Closes the connection now: a pending read() fails at once (the client went away).
  void cancel();

  // Reads the next piece of the body into [buf, buf+cap): returns the byte count, 0 when the
  // body is complete. Waits at most the idle timeout (streams) and never past the total deadline.
  net::awaitable<Result<std::size_t>> read(char* buf, std::size_t cap);

  friend class UpstreamClient;

 private:
  ConnectionPtr conn_;
  Pool& pool_;
  std::string pool_key_;
  config::Timeouts timeouts_;
  SteadyClock::time_point deadline_;
  bool streaming_;
  bool failed_ = false;
  // Always engaged; a fresh one per head, as an interim (1xx) response is followed by another.
  std::optional<ResponseParser> parser_;
  void fresh_parser();
};

using UpstreamResponsePtr = std::unique_ptr<UpstreamResponse>;

class UpstreamClient {
 public:
  // Throws config::ConfigError when the base URL or the CA file is unusable.
  UpstreamClient(const config::ProviderConfig& provider, unsigned workers);
  ~UpstreamClient();

  const Endpoint& endpoint() const { return endpoint_; }
  const config::Timeouts& timeouts() const { return timeouts_; }

  // Sends the request and waits for the response head.
  net::awaitable<Result<UpstreamResponsePtr>> send(unsigned worker, UpstreamRequest& req);

  // Idle pooled connections on a worker (for tests and metrics).
  std::size_t idle_connections(unsigned worker) const { return pools_[worker]->idle_count(); }

 private:
  net::awaitable<Result<UpstreamResponsePtr>> attempt(unsigned worker, const std::string& head, std::string_view body,
                                                      bool streaming, SteadyClock::time_point deadline,
                                                      bool allow_pooled, bool& stale, Connection** live);

  Endpoint endpoint_;
  config::Timeouts timeouts_;
  std::unique_ptr<net::ssl::context> tls_;
  std::vector<std::unique_ptr<Pool>> pools_;
};

}  // namespace sluice::upstream
