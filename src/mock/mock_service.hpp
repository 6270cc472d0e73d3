#pragma once
// `sluice mock`: a faithful fake of the Anthropic Messages API and the OpenAI Chat Completions
// API with fault injection (README.md in this folder lists every route and header). Use
// handle() as the http::Handler of an http::Server. It owns the Responder (routing, replies,
// recorder, fail counters) and does the I/O: pacing with steady timers, one write per event,
// and the stream faults (stall, reset, in-band error, truncation, malformed SSE).
// Thread-safe: handle() runs concurrently on every worker thread; stop() may be called from any
// thread. The service must outlive the Server that calls it.

#include <atomic>

#include <boost/asio/awaitable.hpp>

#include "http/server.hpp"
#include "mock/mock_options.hpp"
#include "mock/responder.hpp"

namespace sluice::mock {

class MockService {
 public:
  explicit MockService(MockOptions options);
  MockService(const MockService&) = delete;
  MockService& operator=(const MockService&) = delete;

  boost::asio::awaitable<void> handle(http::Request& req, http::ResponseWriter& writer);
  // A Handler bound to this service.
  http::Handler handler();
  // Ends stalled streams and pacing waits promptly (at shutdown); new requests still work.
  void stop() { stopping_.store(true); }

  Responder& responder() { return responder_; }

 private:
  Responder responder_;
  std::atomic<bool> stopping_{false};
};

}  // namespace sluice::mock
