#include "mock/reply_sender.hpp"

#include <algorithm>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/status.hpp>

namespace sluice::mock {
namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kTuple = net::as_tuple(net::use_awaitable);
constexpr std::chrono::milliseconds kStopPoll{500};  // how often long waits look at `stopping`

bool stopping(const SendContext& ctx) { return ctx.stopping && ctx.stopping->load(std::memory_order_relaxed); }

// Waits until `until` (or until shutdown); false when cut short by shutdown.
net::awaitable<bool> wait_until(SteadyClock::time_point until, const SendContext& ctx) {
  net::steady_timer timer(co_await net::this_coro::executor);
  while (SteadyClock::now() < until) {
    if (stopping(ctx)) co_return false;
    timer.expires_at(std::min(until, SteadyClock::now() + kStopPoll));
    co_await timer.async_wait(kTuple);
  }
  co_return true;
}

template <class Body>
void set_head(bhttp::response<Body>& res, const Reply& reply) {
  res.result(static_cast<unsigned>(reply.status));
  if (bhttp::int_to_status(static_cast<unsigned>(reply.status)) == bhttp::status::unknown) {
    res.reason(reply.status == 529 ? "Overloaded" : "Unknown");
  }
  for (const auto& [name, value] : reply.headers) {
    res.insert(boost::beast::string_view(name.data(), name.size()),
               boost::beast::string_view(value.data(), value.size()));
  }
}

std::chrono::nanoseconds token_time(double tokens_per_second, std::uint64_t tokens) {
  if (tokens_per_second <= 0 || tokens == 0) return std::chrono::nanoseconds(0);
  // Capped at an hour so that an absurd rate cannot overflow the clock arithmetic.
  const double ns = std::min(static_cast<double>(tokens) * 1e9 / tokens_per_second, 3600e9);
  return std::chrono::nanoseconds(static_cast<std::int64_t>(ns));
}

net::awaitable<void> send_stream(Reply& reply, http::ResponseWriter& writer, const SendContext& ctx) {
  bhttp::response<bhttp::empty_body> head;
  set_head(head, reply);
  if (!co_await writer.start(std::move(head))) co_return;

  const Faults& f = reply.faults;
  const SseEvents& ev = reply.events;
  SteadyClock::time_point due = SteadyClock::now();
  for (std::size_t i = 0; i < ev.size(); ++i) {
    if (i == f.reset_after) {
      writer.abort();
      co_return;
    }
    if (i == f.stall_after) {
      // Silence: nothing more is written; the connection is dropped at the limit.
      co_await wait_until(SteadyClock::now() + ctx.stall_limit, ctx);
      writer.abort();
      co_return;
    }
    if (i == f.error_after) {
      if (co_await writer.write(reply.error_event)) co_await writer.finish();
      co_return;
    }
    if (i == f.truncate_after) {
      co_await writer.finish();
      co_return;
    }
    if (f.malformed_sse && i == 1) {
      if (!co_await writer.write(reply.malformed)) co_return;
    }
    const auto pace = token_time(reply.tokens_per_second, ev.tokens(i));
    if (pace.count() > 0) {
      due += std::chrono::duration_cast<SteadyClock::duration>(pace);
      if (due > SteadyClock::now() && !co_await wait_until(due, ctx)) {
        writer.abort();
        co_return;
      }
    }
    if (!co_await writer.write(ev.at(i))) co_return;
  }
  if (f.stall_after == ev.size()) {
    // Every event, then silence before the end of the body: an upstream that lingers after
    // message_stop.
    co_await wait_until(SteadyClock::now() + ctx.stall_limit, ctx);
    writer.abort();
    co_return;
  }
  co_await writer.finish();
}

}  // namespace

net::awaitable<void> send_reply(Reply& reply, http::ResponseWriter& writer, const SendContext& ctx) {
  if (reply.faults.slow_first_byte) {
    co_await wait_until(SteadyClock::now() + reply.faults.first_byte_delay, ctx);
  }
  if (reply.streamed) {
    co_await send_stream(reply, writer, ctx);
    co_return;
  }
  const auto pace = token_time(reply.tokens_per_second, reply.output_tokens);
  if (pace.count() > 0) {
    co_await wait_until(SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(pace), ctx);
  }
  bhttp::response<bhttp::string_body> res;
  set_head(res, reply);
  res.body() = std::move(reply.body);
  co_await writer.send(std::move(res));
}

}  // namespace sluice::mock
