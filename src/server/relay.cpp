// Relaying an upstream response body to the client (the `relay` shape of Beast's examples):
// streams event by event, byte-identical, with backpressure; other bodies piece by piece.
#include <array>

#include <boost/beast/http/empty_body.hpp>

#include "providers/anthropic/error_body.hpp"
#include "server/exchange.hpp"
#include "server/headers.hpp"
#include "stream/sse_parser.hpp"

namespace sluice::server {

namespace {

constexpr std::size_t kReadChunk = 16 * 1024;
// An upstream event still incomplete after this many bytes is treated as a broken stream, so
// a peer that never ends a line cannot grow our memory without bound.
constexpr std::size_t kMaxPendingEvent = 8 * 1024 * 1024;
// Non-streaming bodies up to this size are sent in one write with the head.
constexpr std::uint64_t kWholeBodyLimit = 1024 * 1024;

// Watches the events of an Anthropic stream for its end: `message_stop`, or an in-band `error`.
class StreamWatcher : public stream::SseSink {
 public:
  void on_event(const stream::SseEvent& ev) override {
    if (ev.type == "message_stop" || ev.type == "error") ended = true;
  }
  bool ended = false;
};

bhttp::response<bhttp::empty_body> response_head(upstream::UpstreamResponse& res, const std::string& request_id) {
  bhttp::response<bhttp::empty_body> head{static_cast<bhttp::status>(res.status()), 11};
  copy_response_headers(res.head(), head.base());
  head.set("x-sluice-request-id", request_id);
  return head;
}

}  // namespace

net::awaitable<void> Gateway::relay_stream(const http::Request& req, upstream::UpstreamResponse& res,
                                           http::ResponseWriter& w, Exchange& ex) {
  if (!co_await w.start(response_head(res, req.request_id))) co_return;
  stream::SseParser parser;
  StreamWatcher watcher;
  std::array<char, kReadChunk> buf;
  std::string pending;        // bytes read but not yet forwarded: an incomplete event
  std::uint64_t forwarded = 0;  // stream offset up to which bytes went to the client
  for (;;) {
    auto got = co_await res.read(buf.data(), buf.size());
    if (!got.ok() || got.value() == 0) {
      if (!watcher.ended) {
        // A broken stream must never look like a finished one: whatever part of an event was
        // pending is dropped and the client gets an in-band error instead of message_stop.
        const Error& e = got.ok() ? Error{ErrorKind::UpstreamFailed, "upstream stream ended before message_stop", {}}
                                  : got.error();
        ex.error = kind_name(got.ok() ? ErrorKind::UpstreamFailed : e.kind);
        std::string event;
        stream::append_event(event, "error",
                             providers::anthropic::error_event_data(providers::anthropic::error_type(e.kind),
                                                                    "upstream stream interrupted: " + e.message));
        if (!co_await w.write(event)) co_return;
      }
      co_await w.finish();
      co_return;
    }
    std::string_view chunk{buf.data(), got.value()};
    parser.feed(chunk, watcher);
    std::uint64_t boundary = parser.boundary();
    std::uint64_t ready = boundary - forwarded;  // complete bytes not yet sent
    if (ready == 0) {
      pending.append(chunk);
      if (pending.size() > kMaxPendingEvent) {
        ex.error = kind_name(ErrorKind::UpstreamFailed);
        std::string event;
        stream::append_event(event, "error",
                             providers::anthropic::error_event_data(
                                 "api_error", "upstream stream interrupted: an event exceeded 8 MiB"));
        if (co_await w.write(event)) co_await w.finish();
        co_return;
      }
      continue;
    }
    bool ok;
    if (pending.empty() && ready == chunk.size()) {
      ok = co_await w.write(chunk);  // the common case: the read ended on an event boundary
    } else {
      pending.append(chunk);
      ok = co_await w.write(std::string_view(pending).substr(0, ready));
      pending.erase(0, ready);
    }
    forwarded = boundary;
    if (!ok) {
      ex.error = "client_gone";
      co_return;  // the upstream connection is closed with the response, cancelling generation
    }
  }
}

net::awaitable<void> Gateway::relay_body(const http::Request& req, upstream::UpstreamResponse& res,
                                         http::ResponseWriter& w, Exchange& ex) {
  auto head = response_head(res, req.request_id);
  auto length = res.parser().content_length();
  std::array<char, kReadChunk> buf;
  if (length && *length <= kWholeBodyLimit) {
    // Small bodies (every JSON answer and error) go out in one write with their head.
    bhttp::response<bhttp::string_body> whole{head.result(), 11};
    whole.base() = head.base();
    std::string& body = whole.body();
    body.reserve(*length);
    for (;;) {
      auto got = co_await res.read(buf.data(), buf.size());
      if (!got.ok()) {
        ex.error = kind_name(got.error().kind);
        co_await w.send(error_response(req.path(), got.error(), req.request_id));
        co_return;
      }
      if (got.value() == 0) break;
      body.append(buf.data(), got.value());
    }
    co_await w.send(std::move(whole));
    co_return;
  }
  if (length) head.content_length(*length);
  if (!co_await w.start(std::move(head))) co_return;
  for (;;) {
    auto got = co_await res.read(buf.data(), buf.size());
    if (!got.ok()) {
      // The status is frozen; cutting the connection is the only honest signal left.
      ex.error = kind_name(got.error().kind);
      w.abort();
      co_return;
    }
    if (got.value() == 0) break;
    if (!co_await w.write({buf.data(), got.value()})) {
      ex.error = "client_gone";
      co_return;
    }
  }
  co_await w.finish();
}

}  // namespace sluice::server
