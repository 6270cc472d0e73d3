#pragma once
// The HTTP/1.1 front end shared by `sluice serve` and `sluice mock`: a listener that hands each
// connection to one of N worker threads (one io_context each), and a session coroutine per
// connection that reads a request under size and time limits, refuses ambiguous framing
// (request smuggling), and gives the request to a Handler together with a ResponseWriter.
//
// Thread-safety: a Server is built and started on one thread; drain() may be called from any
// thread. Handlers run on the worker that owns the connection and must not block it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "common/error.hpp"

namespace sluice::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

// N io_contexts, each run by one thread. Owns the threads; stop() and join() end them.
class Workers {
 public:
  explicit Workers(unsigned count);  // 0 = one per core
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  unsigned size() const { return static_cast<unsigned>(contexts_.size()); }
  net::io_context& at(unsigned i) { return *contexts_[i]; }
  void start();  // one thread per context; returns at once
  void stop();   // asks every context to stop
  void join();   // waits for the threads
  // Returns once every worker has run the handlers queued on it before the call, and the ones
  // those post while they run (a write's completion, say). Two rounds of a post to each worker:
  // a handler posted by a worker's own thread waits in that thread's private queue until the
  // posting handler returns, which can put it behind a post from another thread.
  net::awaitable<void> catch_up();

 private:
  std::vector<std::unique_ptr<net::io_context>> contexts_;
  std::vector<std::unique_ptr<net::executor_work_guard<net::io_context::executor_type>>> guards_;
  std::vector<std::thread> threads_;
};

struct ServerLimits {
  std::size_t max_header_bytes = 64 * 1024;          // request line + headers; over -> 431
  std::uint64_t max_body_bytes = 32ull * 1024 * 1024;  // over -> 413, without reading the body
  std::chrono::milliseconds header_timeout{10'000};  // the whole head must arrive within this
  std::chrono::milliseconds body_timeout{60'000};    // the whole body must arrive within this
  std::chrono::milliseconds idle_timeout{75'000};    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{60'000};   // one write to a client that stopped reading
};

// A complete request as the handler sees it.
struct Request {
  bhttp::request<bhttp::string_body> msg;
  std::string request_id;    // sluice's id for this request (also in errors and the access log)
  Clock::time_point received;  // when the head was complete
  std::uint64_t bytes_in = 0;  // head + body bytes as received
  unsigned worker = 0;         // index of the worker thread that runs this request
  tcp::endpoint peer;

  std::string_view origin_form() const;  // the target as "/path?query", also for absolute-form
  std::string_view path() const;   // target without the query string
  std::string_view query() const;  // after '?', or empty
};

// Writes one response to the client. The first byte freezes the status (started()); after that
// a failure can only be reported in-band or by abort(). Every method returns false once the
// client is gone (write error or timeout); the caller should then stop producing.
class ResponseWriter {
 public:
  ResponseWriter(beast::tcp_stream& stream, unsigned version, bool keep_alive,
                 std::chrono::milliseconds write_timeout);

  // A complete response; sets content-length and the connection header.
  net::awaitable<bool> send(bhttp::response<bhttp::string_body> res);
  // Starts a streamed response by sending its head. If the head has no content-length the
  // body is sent chunked.
  net::awaitable<bool> start(bhttp::response<bhttp::empty_body> head);
  // Sends one piece of the body (one chunk when chunked); waits until the client took it, which
  // is the backpressure that keeps memory per stream bounded.
  net::awaitable<bool> write(std::string_view bytes);
  // The fast path: `fields` holds rendered "Name: value\r\n" lines (wire.hpp) without framing
  // headers; the writer adds the status line, Content-Length / Transfer-Encoding and
  // Connection, and writes head and body in one gather write. An empty reason is filled in.
  net::awaitable<bool> send_raw(unsigned status, std::string_view reason, std::string_view fields,
                                std::string_view body);
  // Starts a streamed body: Content-Length when given, else chunked (close-delimited for HTTP/1.0).
  net::awaitable<bool> start_raw(unsigned status, std::string_view reason, std::string_view fields,
                                 std::optional<std::uint64_t> content_length);
  // Ends the body (the last chunk when chunked).
  net::awaitable<bool> finish();
  // Closes the connection without ending the body: the client sees a truncated response.
  void abort();
  // Records that the client went away (noticed by the handler): no response is owed any more.
  void mark_client_gone() { gone_ = true; }

  bool started() const { return started_; }
  bool finished() const { return finished_; }
  bool client_gone() const { return gone_; }
  bool keep_alive() const { return keep_alive_ && !aborted_; }
  int status() const { return status_; }
  std::uint64_t bytes_out() const { return bytes_out_; }
  Clock::time_point first_byte_at() const { return first_byte_at_; }
  // Set by the server when it is draining: the response says `connection: close`.
  void set_keep_alive(bool on) { keep_alive_ = keep_alive_ && on; }

  // Calls `on_gone` (on this worker) as soon as the client closes or resets its connection,
  // so the caller can cancel upstream work at once instead of at its next write. One watch at a
  // time; unwatch() (or the writer's destruction) ends it. Must not be active while the server
  // reads the next request, so callers unwatch before returning.
  void watch_client(std::function<void()> on_gone);
  void unwatch();
  ~ResponseWriter();

 private:
  beast::tcp_stream& stream_;
  unsigned version_;
  bool keep_alive_;
  std::chrono::milliseconds write_timeout_;
  bool started_ = false;
  bool finished_ = false;
  bool chunked_ = false;
  bool gone_ = false;
  bool aborted_ = false;
  int status_ = 0;
  std::uint64_t bytes_out_ = 0;
  Clock::time_point first_byte_at_{};
  std::shared_ptr<bool> watching_;  // shared with the pending wait's handler
};

using Handler = std::function<net::awaitable<void>(Request&, ResponseWriter&)>;

// Builds the reply for a request the server refuses before any handler runs (framing errors,
// limits). `target` is the request target when it was read, else empty; it picks the dialect.
struct Rejection {
  std::string_view target;
  ErrorKind kind;
  std::string message;
  const std::string& request_id;
  std::uint64_t bytes_in;
};
using Rejector = std::function<bhttp::response<bhttp::string_body>(const Rejection&)>;

class Server {
 public:
  Server(Workers& workers, ServerLimits limits, Handler handler, Rejector rejector);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens (port 0 picks a free port) and starts accepting. Throws on failure.
  tcp::endpoint listen(const std::string& host, std::uint16_t port);
  // Stops accepting, closes idle keep-alive connections and lets in-flight requests finish.
  // Connections still open at `deadline` are closed (their requests fail). `done` runs on a
  // worker thread with the number of sessions that had still not ended after that.
  void drain(std::chrono::milliseconds deadline, std::function<void(std::size_t left)> done);
  std::size_t active_connections() const { return active_.load(); }

  struct Session;  // one per connection; defined in server.cpp

 private:
  net::awaitable<void> accept_loop();
  void for_each_session(bool idle_only);  // cancel idle sessions, or close every one
  net::awaitable<void> run_session(tcp::socket socket, unsigned worker);

  Workers& workers_;
  ServerLimits limits_;
  Handler handler_;
  Rejector rejector_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::atomic<std::size_t> active_{0};
  std::atomic<bool> draining_{false};
  struct Registry;  // live sessions per worker, for drain
  std::unique_ptr<Registry> registry_;
};

}  // namespace sluice::http
