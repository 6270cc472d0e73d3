#include "alerts/webhook.hpp"

#include "http/url.hpp"

#include <openssl/ssl.h>

#include <exception>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace sluice::alerts {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

namespace {
constexpr auto kTuple = net::as_tuple(net::use_awaitable);
// How often a waiting post() checks whether it has been abandoned.
constexpr std::chrono::milliseconds kPollSlice{20};

std::string where(const WebhookTarget& t) { return t.host + ":" + t.port; }

// Writes the request and reads the response head into `out` (the body is not needed).
template <class Stream>
net::awaitable<void> exchange(Stream& stream, const WebhookTarget& t, const std::string& body, PostResult& out) {
  http::request<http::string_body> req{http::verb::post, t.target, 11};
  req.set(http::field::host, t.host_header);
  req.set(http::field::user_agent, "sluice-alerts");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  req.body() = body;
  req.prepare_payload();
  auto [wec, written] = co_await http::async_write(stream, req, kTuple);
  if (wec) {
    out.error = "sending to " + where(t) + " failed: " + wec.message();
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  auto [rec, read] = co_await http::async_read_header(stream, buffer, parser, kTuple);
  if (rec) {
    out.error = "reading the response from " + where(t) + " failed: " + rec.message();
    co_return;
  }
  out.status = static_cast<int>(parser.get().result_int());
}

net::awaitable<void> post_once(const WebhookTarget& t, net::ssl::context* tls, const std::string& body,
                               PostResult& out) {
  auto ex = co_await net::this_coro::executor;
  tcp::resolver resolver(ex);
  auto [rec, endpoints] = co_await resolver.async_resolve(t.host, t.port, kTuple);
  if (rec) {
    out.error = "resolving " + t.host + " failed: " + rec.message();
    co_return;
  }
  if (tls == nullptr) {
    beast::tcp_stream stream(ex);
    auto [cec, ep] = co_await stream.async_connect(endpoints, kTuple);
    if (cec) {
      out.error = "connecting to " + where(t) + " failed: " + cec.message();
      co_return;
    }
    co_await exchange(stream, t, body, out);
    co_return;
  }
  beast::ssl_stream<beast::tcp_stream> stream(ex, *tls);
  boost::system::error_code not_ip;
  net::ip::make_address(t.host, not_ip);
  if (not_ip && !SSL_set_tlsext_host_name(stream.native_handle(), t.host.c_str())) {
    out.error = "TLS SNI setup failed";
    co_return;
  }
  stream.set_verify_callback(net::ssl::host_name_verification(t.host));
  auto [cec, ep] = co_await beast::get_lowest_layer(stream).async_connect(endpoints, kTuple);
  if (cec) {
    out.error = "connecting to " + where(t) + " failed: " + cec.message();
    co_return;
  }
  auto [hec] = co_await stream.async_handshake(net::ssl::stream_base::client, kTuple);
  if (hec) {
    out.error = "TLS handshake with " + where(t) + " failed: " + hec.message();
    co_return;
  }
  co_await exchange(stream, t, body, out);
}
}  // namespace

std::optional<WebhookTarget> parse_webhook_url(std::string_view url, std::string& error) {
  auto u = sluice::http::parse_http_url(url, /*allow_query=*/true, error);
  if (!u) return std::nullopt;
  WebhookTarget t;
  t.tls = u->tls;
  t.host = std::move(u->host);
  t.port = std::move(u->port);
  t.host_header = std::move(u->host_header);
  t.target = u->path.empty() ? "/" : std::move(u->path);
  if (u->has_query) t.target += "?" + u->query;
  return t;
}

Verdict classify(const PostResult& r) {
  if (r.status >= 200 && r.status <= 299) return Verdict::Delivered;
  if (r.status == 0 || r.status == 429 || r.status >= 500) return Verdict::Retry;
  return Verdict::Fail;
}

WebhookClient::WebhookClient(WebhookTarget target) : target_(std::move(target)) {
  if (!target_.tls) return;
  tls_ = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
  tls_->set_verify_mode(net::ssl::verify_peer);
  tls_->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                    net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  tls_->set_default_verify_paths(ec);
  if (ec) throw std::runtime_error("alerts webhook: cannot load the system CA store: " + ec.message());
}

WebhookClient::~WebhookClient() = default;

PostResult WebhookClient::post(const std::string& body, std::chrono::milliseconds timeout,
                               const std::atomic<bool>& abandon) {
  // The state the coroutine writes outlives the io_context: destroying the io_context is how an
  // unfinished attempt is given up (its coroutine frame and sockets are destroyed with it).
  PostResult result;
  bool done = false;
  net::io_context ioc(1);
  net::co_spawn(ioc, post_once(target_, tls_.get(), body, result), [&done, &result](std::exception_ptr e) {
    done = true;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      result = PostResult{0, std::string("webhook delivery failed: ") + ex.what()};
    }
  });
  const auto deadline = SteadyClock::now() + timeout;
  while (!done) {
    if (abandon.load()) {
      result = PostResult{0, "abandoned at shutdown"};
      break;
    }
    auto left = deadline - SteadyClock::now();
    if (left <= SteadyClock::duration::zero()) {
      result = PostResult{0, "no response from " + where(target_) + " within " + std::to_string(timeout.count()) + " ms"};
      break;
    }
    ioc.run_for(std::min<SteadyClock::duration>(left, kPollSlice));
    if (ioc.stopped() && !done) {
      result = PostResult{0, "webhook delivery ended without a result"};
      break;
    }
  }
  return result;
}

}  // namespace sluice::alerts
