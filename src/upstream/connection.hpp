#pragma once
// One keep-alive connection to an upstream, plain TCP or TLS, and the per-worker pool of idle
// ones. A Connection and a Pool belong to one worker thread and are never shared across threads.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "common/result.hpp"
#include "http/server.hpp"
#include "upstream/endpoint.hpp"

namespace sluice::upstream {

namespace net = boost::asio;
namespace beast = boost::beast;
using SteadyClock = std::chrono::steady_clock;

class Connection {
 public:
  explicit Connection(net::any_io_executor ex);  // plain
  Connection(net::any_io_executor ex, net::ssl::context& tls);  // TLS

  bool tls() const { return ssl_ != nullptr; }
  beast::tcp_stream& tcp() { return ssl_ ? ssl_->next_layer() : *tcp_; }
  beast::ssl_stream<beast::tcp_stream>* ssl() { return ssl_.get(); }
  beast::flat_buffer& buffer() { return buffer_; }

  // Resolves, connects and (for TLS) handshakes with SNI and host-name verification, all within
  // `timeout`. Errors are UpstreamFailed, or Timeout when the deadline passed.
  net::awaitable<Result<bool>> open(const Endpoint& ep, std::chrono::milliseconds timeout);

  bool reused = false;               // came from the pool
  SteadyClock::time_point idle_since{};    // when it was returned to the pool
  void close();

 private:
  std::unique_ptr<beast::tcp_stream> tcp_;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> ssl_;
  beast::flat_buffer buffer_;
};

using ConnectionPtr = std::unique_ptr<Connection>;

// Idle connections per endpoint, capped and aged out. Not thread-safe: one per worker.
class Pool {
 public:
  Pool(std::size_t max_idle_per_key, std::chrono::milliseconds idle_timeout)
      : max_idle_(max_idle_per_key), idle_timeout_(idle_timeout) {}
  ConnectionPtr take(const std::string& key);  // nullptr when none is fresh enough
  void give(const std::string& key, ConnectionPtr conn);
  std::size_t idle_count() const;

 private:
  std::size_t max_idle_;
  std::chrono::milliseconds idle_timeout_;
  std::unordered_map<std::string, std::vector<ConnectionPtr>> idle_;
};

}  // namespace sluice::upstream
