#include "upstream/client.hpp"

#include "http/wire.hpp"

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace sluice::upstream {

namespace {
constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr int kMaxInterim = 8;  // interim (1xx) responses read and dropped before the answer

SteadyClock::time_point earliest(SteadyClock::time_point a, SteadyClock::time_point b) { return a < b ? a : b; }

Error io_error(const boost::system::error_code& ec, const char* what) {
  if (ec == beast::error::timeout) {
    return Error{ErrorKind::Timeout, std::string("upstream ") + what + " timed out", ec.message()};
  }
  return Error{ErrorKind::UpstreamFailed, std::string("upstream ") + what + " failed", ec.message()};
}

// Errors that mean "the pooled connection was already dead": worth one retry on a fresh one.
bool is_stale_connection_error(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == net::error::eof || ec == net::error::connection_aborted ||
         ec == net::ssl::error::stream_truncated;
}
}  // namespace

UpstreamResponse::UpstreamResponse(ConnectionPtr conn, Pool& pool, std::string pool_key,
                                   config::Timeouts timeouts, SteadyClock::time_point deadline, bool streaming)
    : conn_(std::move(conn)),
      pool_(pool),
      pool_key_(std::move(pool_key)),
      timeouts_(timeouts),
      deadline_(deadline),
      streaming_(streaming) {
  fresh_parser();
}

void UpstreamResponse::fresh_parser() {
  parser_.emplace();
  parser_->body_limit(boost::none);  // the upstream's body size is not ours to limit
  // Not eager: with eager parsing, async_read_some waits for more input after a partial chunk
  // instead of returning what it parsed, which would hold a stream's events back. read() parses
  // what is already buffered itself. (async_read_header sets eager off for the head anyway.)
}

UpstreamResponse::~UpstreamResponse() {
  if (!conn_) return;
  // Only a connection whose response was read to the end, cleanly, can carry another request.
  if (!failed_ && parser_->is_done() && parser_->keep_alive() && conn_->buffer().size() == 0) {
    pool_.give(pool_key_, std::move(conn_));
  } else {
    conn_->close();
  }
}

void UpstreamResponse::cancel() {
  failed_ = true;
  if (conn_) conn_->close();
}

net::awaitable<Result<std::size_t>> UpstreamResponse::read(char* buf, std::size_t cap) {
  auto& parser = *parser_;
  if (parser.is_done()) co_return std::size_t{0};
  for (;;) {
    parser.body_data = buf;
    parser.body_size = cap;
    auto limit = streaming_ ? earliest(SteadyClock::now() + timeouts_.idle, deadline_) : deadline_;
    conn_->tcp().expires_at(limit);
    boost::system::error_code ec;
    if (auto* ssl = conn_->ssl()) {
      std::tie(ec, std::ignore) = co_await bhttp::async_read_some(*ssl, conn_->buffer(), parser, kTuple);
    } else {
      std::tie(ec, std::ignore) = co_await bhttp::async_read_some(conn_->tcp(), conn_->buffer(), parser, kTuple);
    }
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) {
      failed_ = true;
      co_return io_error(ec, streaming_ ? "stream" : "body read");
    }
    // Parse what else is already buffered (more chunks that arrived together) into the rest of
    // `buf` without waiting, so one read hands the relay everything at hand: one client write
    // instead of one per chunk. A partial chunk header stays for the next read.
    while (parser.body_size > 0 && !parser.is_done() && conn_->buffer().size() > 0) {
      boost::system::error_code pec;
      std::size_t used = parser.put(conn_->buffer().data(), pec);
      conn_->buffer().consume(used);
      if (pec == bhttp::error::need_more || pec == bhttp::error::need_buffer) break;
      if (pec) {
        failed_ = true;
        co_return io_error(pec, streaming_ ? "stream" : "body read");
      }
      if (used == 0) break;
    }
    std::size_t got = cap - parser.body_size;
    if (got > 0 || parser.is_done()) co_return got;
  }
}

UpstreamClient::UpstreamClient(const config::ProviderConfig& provider, unsigned workers)
    : timeouts_(provider.timeouts) {
  std::string error;
  auto ep = parse_endpoint(provider.base_url, error);
  if (!ep) throw config::ConfigError("provider " + provider.name + ": " + error);
  endpoint_ = std::move(*ep);
  if (endpoint_.tls) {
    tls_ = std::make_unique<net::ssl::context>(net::ssl::context::tls_client);
    tls_->set_verify_mode(net::ssl::verify_peer);
    tls_->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                      net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 | net::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    if (!provider.ca_file.empty()) {
      tls_->load_verify_file(provider.ca_file, ec);
      if (ec) throw config::ConfigError("provider " + provider.name + ": cannot load ca_file " + provider.ca_file);
    } else {
      tls_->set_default_verify_paths(ec);
      if (ec) throw config::ConfigError("provider " + provider.name + ": no system CA store");
    }
  }
  for (unsigned i = 0; i < workers; ++i) {
    pools_.push_back(std::make_unique<Pool>(provider.pool_max_idle, provider.pool_idle_timeout));
  }
}

UpstreamClient::~UpstreamClient() = default;

net::awaitable<Result<UpstreamResponsePtr>> UpstreamClient::send(unsigned worker, UpstreamRequest& req) {
  // The head is rendered by hand and written with the body in one gather write (http/wire.hpp).
  std::string head;
  head.reserve(req.headers.size() + req.target.size() + endpoint_.base_path.size() + 96);
  auto method = bhttp::to_string(req.method);
  head.append(method.data(), method.size());
  head.push_back(' ');
  head.append(endpoint_.base_path);
  head.append(req.target);
  head.append(" HTTP/1.1\r\n");
  http::append_field(head, "Host", endpoint_.host_header);
  if (!req.body.empty() || req.method == bhttp::verb::post) {
    http::append_field(head, "Content-Length", std::to_string(req.body.size()));
  }
  head.append(req.headers);
  head.append("\r\n");
  auto deadline = SteadyClock::now() + timeouts_.total;
  bool stale = false;
  req.attempts = 1;
  auto result = co_await attempt(worker, head, req.body, req.streaming, deadline, true, stale, req.live);
  if (!result.ok() && stale) {
    req.attempts = 2;
    result = co_await attempt(worker, head, req.body, req.streaming, deadline, false, stale, req.live);
  }
  co_return result;
}

net::awaitable<Result<UpstreamResponsePtr>> UpstreamClient::attempt(unsigned worker, const std::string& head,
                                                                    std::string_view body,
                                                                    bool streaming, SteadyClock::time_point deadline,
                                                                    bool allow_pooled, bool& stale,
                                                                    Connection** live_slot) {
  stale = false;
  // Publishes the connection while this attempt owns it, for the caller's cancellation.
  struct Live {
    Connection** slot;
    void set(Connection* c) { if (slot) *slot = c; }
    ~Live() { set(nullptr); }
  } live{live_slot};
  auto& pool = *pools_[worker];
  auto key = endpoint_.pool_key();
  ConnectionPtr conn = allow_pooled ? pool.take(key) : nullptr;
  if (!conn) {
    auto ex = co_await net::this_coro::executor;
    conn = tls_ ? std::make_unique<Connection>(ex, *tls_) : std::make_unique<Connection>(ex);
    live.set(conn.get());
    auto opened = co_await conn->open(endpoint_, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                     std::min<SteadyClock::duration>(timeouts_.connect, deadline - SteadyClock::now())));
    if (!opened.ok()) co_return opened.error();
  }
  bool reused = conn->reused;
  live.set(conn.get());

  // Writing the request and waiting for the head share one deadline: first_byte for streams,
  // the total deadline otherwise (a long non-streaming answer sends nothing until it is done).
  auto head_deadline = streaming ? earliest(SteadyClock::now() + timeouts_.first_byte, deadline) : deadline;
  conn->tcp().expires_at(head_deadline);
  boost::system::error_code ec;
  std::array<net::const_buffer, 2> request{net::buffer(head), net::const_buffer(body.data(), body.size())};
  if (auto* ssl = conn->ssl()) {
    std::tie(ec, std::ignore) = co_await net::async_write(*ssl, request, kTuple);
  } else {
    std::tie(ec, std::ignore) = co_await net::async_write(conn->tcp(), request, kTuple);
  }
  if (ec) {
    conn->close();
    stale = reused && is_stale_connection_error(ec);
    co_return io_error(ec, "request write");
  }
  auto res = std::make_unique<UpstreamResponse>(std::move(conn), pool, key, timeouts_, deadline, streaming);
  auto& c = *res->conn_;
  c.tcp().expires_at(head_deadline);
  // Interim responses (103 Early Hints, a stray 100 Continue) precede the answer: each is read
  // and dropped, up to kMaxInterim, all within the head deadline. 101 would switch protocols:
  // it is the answer, and not one a provider gives.
  for (int interim = 0;; ++interim) {
    if (auto* ssl = c.ssl()) {
      std::tie(ec, std::ignore) = co_await bhttp::async_read_header(*ssl, c.buffer(), *res->parser_, kTuple);
    } else {
      std::tie(ec, std::ignore) = co_await bhttp::async_read_header(c.tcp(), c.buffer(), *res->parser_, kTuple);
    }
    const unsigned status = res->status();
    if (ec || status < 100 || status >= 200 || status == 101) break;
    if (interim == kMaxInterim) {
      res->failed_ = true;
      co_return Error{ErrorKind::UpstreamFailed, "upstream sent more than " + std::to_string(kMaxInterim) +
                                                     " interim (1xx) responses", "protocol"};
    }
    res->fresh_parser();
  }
  if (ec) {
    res->failed_ = true;
    stale = reused && is_stale_connection_error(ec) && c.buffer().size() == 0;
    if (ec == beast::error::timeout) {
      co_return Error{ErrorKind::Timeout,
                      streaming ? "upstream did not start responding in time" : "upstream did not respond in time",
                      streaming ? "first-byte timeout" : "total timeout"};
    }
    co_return io_error(ec, "response");
  }
  co_return std::move(res);
}

}  // namespace sluice::upstream
