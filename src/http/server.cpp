#include "http/server.hpp"

#include <cstdio>
#include <exception>
#include <mutex>
#include <unordered_set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "common/ids.hpp"

namespace sluice::http {

namespace {
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// What a parse error means for the client: 431, 413, or 400 (every other framing error,
// including the request-smuggling shapes Beast refuses: Content-Length together with
// Transfer-Encoding, conflicting Content-Lengths, bad chunk sizes).
ErrorKind classify_parse_error(const boost::system::error_code& ec) {
  if (ec == bhttp::error::header_limit) return ErrorKind::HeadersTooLarge;
  if (ec == bhttp::error::body_limit) return ErrorKind::PayloadTooLarge;
  return ErrorKind::InvalidRequest;
}

// Errors of the HTTP parser itself (as opposed to I/O errors and timeouts), except a peer that
// closed mid-message, which nobody is left to hear about.
bool is_framing_error(const boost::system::error_code& ec) {
  static const auto& http_category = bhttp::make_error_code(bhttp::error::bad_target).category();
  return ec.category() == http_category && ec != bhttp::error::end_of_stream &&
         ec != bhttp::error::partial_message;
}

std::string parse_error_message(const boost::system::error_code& ec) {
  if (ec == bhttp::error::header_limit) return "request headers are too large";
  if (ec == bhttp::error::body_limit) return "request body is too large";
  if (ec == bhttp::error::bad_content_length) return "invalid or conflicting Content-Length";
  if (ec == bhttp::error::bad_transfer_encoding) return "invalid Transfer-Encoding (or Transfer-Encoding with Content-Length)";
  if (ec == bhttp::error::bad_chunk || ec == bhttp::error::bad_chunk_extension) return "invalid chunked encoding";
  if (ec == bhttp::error::multiple_content_length) return "conflicting Content-Length headers";
  return "malformed HTTP request: " + ec.message();
}
}  // namespace

std::string_view Request::origin_form() const {
  std::string_view t{msg.target().data(), msg.target().size()};
  // absolute-form (RFC 9112 §3.2.2): "http://host/path?q" -> "/path?q"
  if (t.starts_with("http://") || t.starts_with("https://")) {
    auto slash = t.find('/', t.find("//") + 2);
    return slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
  }
  return t;
}

std::string_view Request::path() const {
  std::string_view t = origin_form();
  auto q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string_view Request::query() const {
  std::string_view t = origin_form();
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

// One live connection, as drain() sees it. Touched only on its worker's thread.
struct Server::Session {
  beast::tcp_stream* stream = nullptr;
  bool idle = true;  // waiting for the next request (safe to close on drain)
};

struct Server::Registry {
  explicit Registry(unsigned n) : per_worker(n) {}
  std::vector<std::unordered_set<Session*>> per_worker;
};

Server::Server(Workers& workers, ServerLimits limits, Handler handler, Rejector rejector)
    : workers_(workers),
      limits_(limits),
      handler_(std::move(handler)),
      rejector_(std::move(rejector)),
      registry_(std::make_unique<Registry>(workers.size())) {}

Server::~Server() = default;

tcp::endpoint Server::listen(const std::string& host, std::uint16_t port) {
  auto addr = net::ip::make_address(host);
  tcp::endpoint ep{addr, port};
  acceptor_ = std::make_unique<tcp::acceptor>(workers_.at(0));
  acceptor_->open(ep.protocol());
  acceptor_->set_option(net::socket_base::reuse_address(true));
  acceptor_->bind(ep);
  acceptor_->listen(net::socket_base::max_listen_connections);
  auto bound = acceptor_->local_endpoint();
  net::co_spawn(workers_.at(0), accept_loop(), net::detached);
  return bound;
}

net::awaitable<void> Server::accept_loop() {
  unsigned next = 0;
  while (!draining_.load()) {
    unsigned worker = next++ % workers_.size();
    auto [ec, sock] = co_await acceptor_->async_accept(workers_.at(worker), kTuple);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor_->is_open()) co_return;
      // EMFILE and friends: back off briefly instead of spinning.
      net::steady_timer t{co_await net::this_coro::executor, std::chrono::milliseconds(50)};
      co_await t.async_wait(kTuple);
      continue;
    }
    active_.fetch_add(1);
    net::co_spawn(workers_.at(worker), run_session(std::move(sock), worker), [](std::exception_ptr e) {
      // The last-resort catch (conventions.md §2.4): a handler that threw loses its
      // connection, never the process.
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "sluice: internal error in a session: %s\n", ex.what());
      } catch (...) {
        std::fprintf(stderr, "sluice: internal error in a session\n");
      }
    });
  }
}

net::awaitable<void> Server::run_session(tcp::socket socket, unsigned worker) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  tcp::endpoint peer = socket.remote_endpoint(ignored);
  beast::tcp_stream stream{std::move(socket)};
  Session session{&stream, true};
  auto& mine = registry_->per_worker[worker];
  mine.insert(&session);
  struct Leave {
    Server* self;
    std::unordered_set<Session*>& set;
    Session* s;
    ~Leave() {
      set.erase(s);
      self->active_.fetch_sub(1);
    }
  } leave{this, mine, &session};

  beast::flat_buffer buffer;
  for (;;) {
    session.idle = true;
    if (draining_.load()) break;
    // Wait for the first byte of the next request under the keep-alive idle timeout.
    if (buffer.size() == 0) {
      stream.expires_after(limits_.idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), kTuple);
      if (ec) break;
      buffer.commit(n);
    }
    session.idle = false;

    std::string request_id = make_request_id();
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser.body_limit(limits_.max_body_bytes);

    // The whole head must arrive within header_timeout: a client that trickles headers is cut off.
    stream.expires_after(limits_.header_timeout);
    auto [hec, head_bytes] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    if (hec) {
      // Timeouts, resets and EOF leave nobody to answer; framing errors get a 4xx.
      if (!is_framing_error(hec)) break;
      std::string_view target;
      if (parser.is_header_done()) target = {parser.get().target().data(), parser.get().target().size()};
      auto res = rejector_(Rejection{target, classify_parse_error(hec), parse_error_message(hec),
                                     request_id, head_bytes});
      ResponseWriter w{stream, 11, false, limits_.write_timeout};
      co_await w.send(std::move(res));
      break;
    }

    auto& msg = parser.get();
    // Expect: 100-continue (curl sends it for bodies over 1 MB): answer before reading the body.
    if (auto it = msg.find(bhttp::field::expect); it != msg.end() && iequals(it->value(), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream.expires_after(limits_.write_timeout);
      auto [wec, wn] = co_await net::async_write(stream, net::buffer(kContinue), kTuple);
      if (wec) break;
    }

    std::uint64_t body_bytes = 0;
    if (!parser.is_done()) {
      stream.expires_after(limits_.body_timeout);
      auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      body_bytes = bn;
      if (bec) {
        if (!is_framing_error(bec)) break;
        std::string_view target{msg.target().data(), msg.target().size()};
        auto res = rejector_(Rejection{target, classify_parse_error(bec), parse_error_message(bec),
                                       request_id, head_bytes + bn});
        ResponseWriter w{stream, msg.version(), false, limits_.write_timeout};
        co_await w.send(std::move(res));
        break;
      }
    }

    Request req;
    bool keep_alive = msg.keep_alive() && !draining_.load();
    unsigned version = msg.version();
    req.msg = parser.release();
    req.request_id = std::move(request_id);
    req.received = Clock::now();
    req.bytes_in = head_bytes + body_bytes;
    req.worker = worker;
    req.peer = peer;
    ResponseWriter writer{stream, version, keep_alive, limits_.write_timeout};
    // The read buffer's 8 KB are not needed while the handler runs (a stream can run for
    // minutes); the next request's first read allocates them again.
    if (buffer.size() == 0) buffer.shrink_to_fit();
    co_await handler_(req, writer);
    if (!writer.started() && !writer.client_gone()) {
      // A handler that answers nothing is a bug; the client still gets an answer.
      auto res = rejector_(Rejection{req.path(), ErrorKind::Internal, "internal error: no response",
                                     req.request_id, req.bytes_in});
      co_await writer.send(std::move(res));
    }
    if (!writer.finished() || !writer.keep_alive() || writer.client_gone()) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.close();
}

void Server::for_each_session(bool idle_only) {
  for (unsigned i = 0; i < workers_.size(); ++i) {
    net::post(workers_.at(i), [this, i, idle_only] {
      for (Session* s : registry_->per_worker[i]) {
        if (!idle_only) {
          // Past the drain deadline: closing the socket makes every pending operation of the
          // session fail, so its coroutine unwinds instead of outliving the server.
          boost::system::error_code ec;
          s->stream->socket().close(ec);
        } else if (s->idle) {
          s->stream->cancel();
        }
      }
    });
  }
}

void Server::drain(std::chrono::milliseconds deadline, std::function<void(std::size_t)> done) {
  draining_.store(true);
  net::post(workers_.at(0), [this] {
    boost::system::error_code ec;
    if (acceptor_) acceptor_->close(ec);
  });
  auto until = Clock::now() + deadline;
  net::co_spawn(
      workers_.at(0),
      [this, until, done = std::move(done)]() -> net::awaitable<void> {
        net::steady_timer t{co_await net::this_coro::executor};
        // Idle keep-alive sessions are closed at once; busy ones finish their response and then
        // close (draining_ turns keep-alive off). The sweep repeats for sessions that go idle.
        while (active_.load() > 0 && Clock::now() < until) {
          for_each_session(true);
          t.expires_after(std::chrono::milliseconds(50));
          co_await t.async_wait(kTuple);
        }
        if (active_.load() > 0) {
          for_each_session(false);
          auto hard = Clock::now() + std::chrono::seconds(2);
          while (active_.load() > 0 && Clock::now() < hard) {
            t.expires_after(std::chrono::milliseconds(20));
            co_await t.async_wait(kTuple);
          }
        }
        done(active_.load());
      },
      net::detached);
}

}  // namespace sluice::http
