#pragma once
// Sends a Reply through an http::ResponseWriter: the slow-first-byte delay, pacing with a
// steady_timer (never blocking the thread), each SSE event as its own write (one chunk), and
// the stream faults of reply.faults. Thread-safe per call; runs on the connection's worker.

#include <atomic>
#include <chrono>

#include <boost/asio/awaitable.hpp>

#include "http/server.hpp"
#include "mock/reply.hpp"

namespace sluice::mock {

struct SendContext {
  std::chrono::milliseconds stall_limit{600'000};  // how long stall-after-N holds the stream
  const std::atomic<bool>* stopping = nullptr;     // set at shutdown: end waits early
};

boost::asio::awaitable<void> send_reply(Reply& reply, http::ResponseWriter& writer, const SendContext& ctx);

}  // namespace sluice::mock
