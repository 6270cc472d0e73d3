#pragma once
// The gateway's request handler: routes, validation, and the passthrough to the Anthropic
// provider (relay of the response, event by event for streams). Life of a request:
// docs/life-of-a-request.md.
//
// Thread-safety: one Gateway serves every worker concurrently; it holds only immutable config,
// the upstream client (per-worker pools inside) and the thread-safe access log.

#include <atomic>
#include <memory>

#include "config/config.hpp"
#include "http/server.hpp"
#include "server/access_log.hpp"
#include "upstream/client.hpp"

namespace sluice::server {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;

class Gateway {
 public:
  // `log` must outlive the Gateway.
  Gateway(const config::Config& cfg, unsigned workers, AccessLog& log);

  net::awaitable<void> handle(http::Request& req, http::ResponseWriter& w);
  // Reply for requests the HTTP layer refused before routing (framing, limits); logs them.
  bhttp::response<bhttp::string_body> reject(const http::Rejection& r);
  // From now on /healthz answers 503 so load balancers move traffic away.
  void set_draining() { draining_.store(true); }

 private:
  struct Exchange;  // per-request state, defined in gateway.cpp

  net::awaitable<void> proxy(http::Request& req, http::ResponseWriter& w, Exchange& ex);
  net::awaitable<void> relay_stream(const http::Request& req, upstream::UpstreamResponse& res,
                                    http::ResponseWriter& w, Exchange& ex);
  net::awaitable<void> relay_body(const http::Request& req, upstream::UpstreamResponse& res,
                                  http::ResponseWriter& w, Exchange& ex);
  net::awaitable<void> reply_error(http::Request& req, http::ResponseWriter& w, Exchange& ex, const Error& e);
  void log(const http::Request& req, const http::ResponseWriter& w, const Exchange& ex);

  const config::ProviderConfig& provider_;
  std::unique_ptr<upstream::UpstreamClient> client_;
  AccessLog& log_;
  std::atomic<bool> draining_{false};
};

// An error response in the dialect of `path`, with the request id in a header and the body.
bhttp::response<bhttp::string_body> error_response(std::string_view path, const Error& e,
                                                   const std::string& request_id);

}  // namespace sluice::server
