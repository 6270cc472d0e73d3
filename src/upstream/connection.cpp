#include "upstream/connection.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sluice::upstream {

namespace {
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

Error connect_error(const boost::system::error_code& ec, const Endpoint& ep, const char* phase) {
  if (ec == beast::error::timeout) {
    return Error{ErrorKind::Timeout, "upstream connect timeout",
                 std::string(phase) + " to " + ep.pool_key() + " timed out"};
  }
  return Error{ErrorKind::UpstreamFailed, "could not connect to the upstream",
               std::string(phase) + " to " + ep.pool_key() + " failed: " + ec.message()};
}
}  // namespace

// The read buffer starts at 4 KiB so a response head and a small body arrive in one read
// (Beast otherwise starts at 512 bytes and grows, costing a read and a timer re-arm each step).
constexpr std::size_t kReadBuffer = 4 * 1024;

Connection::Connection(net::any_io_executor ex) : tcp_(std::make_unique<beast::tcp_stream>(ex)) {
  buffer_.reserve(kReadBuffer);
}

Connection::Connection(net::any_io_executor ex, net::ssl::context& tls)
    : ssl_(std::make_unique<beast::ssl_stream<beast::tcp_stream>>(ex, tls)) {
  buffer_.reserve(kReadBuffer);
}

net::awaitable<Result<bool>> Connection::open(const Endpoint& ep, std::chrono::milliseconds timeout) {
  auto deadline = SteadyClock::now() + timeout;
  net::ip::tcp::resolver resolver{co_await net::this_coro::executor};
  // The resolver has no timeout of its own; loopback and literal addresses resolve at once, and
  // the connect below is bounded.
  auto [rec, results] = co_await resolver.async_resolve(ep.host, ep.port, kTuple);
  if (rec) co_return connect_error(rec, ep, "resolve");
  auto& s = tcp();
  s.expires_at(deadline);
  auto [cec, endpoint] = co_await s.async_connect(results, kTuple);
  if (cec) co_return connect_error(cec, ep, "connect");
  boost::system::error_code ignored;
  s.socket().set_option(net::ip::tcp::no_delay(true), ignored);
  if (ssl_) {
    if (!SSL_set_tlsext_host_name(ssl_->native_handle(), ep.host.c_str())) {
      co_return Error{ErrorKind::UpstreamFailed, "could not connect to the upstream", "SNI setup failed"};
    }
    ssl_->set_verify_callback(net::ssl::host_name_verification(ep.host));
    s.expires_at(deadline);
    auto [hec] = co_await ssl_->async_handshake(net::ssl::stream_base::client, kTuple);
    if (hec) co_return connect_error(hec, ep, "TLS handshake");
  }
  s.expires_never();
  co_return true;
}

void Connection::close() {
  boost::system::error_code ec;
  tcp().socket().close(ec);
}

ConnectionPtr Pool::take(const std::string& key) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  auto now = SteadyClock::now();
  while (!list.empty()) {
    ConnectionPtr c = std::move(list.back());
    list.pop_back();
    // A connection idle for too long has likely been closed by the peer; so has one with
    // unexpected bytes pending. Both are dropped rather than risked.
    if (now - c->idle_since < idle_timeout_ && c->tcp().socket().is_open() && c->buffer().size() == 0) {
      boost::system::error_code ec;
      auto avail = c->tcp().socket().available(ec);
      if (!ec && avail == 0) {
        c->reused = true;
        return c;
      }
    }
    c->close();
  }
  return nullptr;
}

void Pool::give(const std::string& key, ConnectionPtr conn) {
  auto& list = idle_[key];
  if (list.size() >= max_idle_) {
    conn->close();
    return;
  }
  conn->idle_since = SteadyClock::now();
  list.push_back(std::move(conn));
}

std::size_t Pool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [k, v] : idle_) n += v.size();
  return n;
}

}  // namespace sluice::upstream
