// Relaying an upstream response body to the client (the `relay` shape of Beast's examples):
// streams event by event, byte-identical, with backpressure; other bodies piece by piece.
#include <array>

#include <boost/beast/http/empty_body.hpp>
#include <boost/json/parse.hpp>

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

// Watches the events of an Anthropic stream: where its preamble ends (the commit point: the
// first event that is not message_start or ping) and how it ends (message_stop or error).
class StreamWatcher : public stream::SseSink {
 public:
  void on_event(const stream::SseEvent& ev) override {
    if (ev.type == "message_stop") {
      ended = true;
    } else if (ev.type == "error") {
      ended = true;
      errored = true;
      error_type = parse_error_type(ev.data);
    }
    if (commit_at == 0 && ev.type != "message_start" && ev.type != "ping") commit_at = index + 1;
    ++index;
  }
  bool ended = false;
  bool errored = false;
  std::string error_type;
  std::size_t index = 0;
  std::size_t commit_at = 0;  // 1-based index of the first non-preamble event; 0 = not yet

 private:
  static std::string parse_error_type(std::string_view data) {
    boost::system::error_code ec;
    auto v = boost::json::parse(data, ec);
    if (ec || !v.is_object()) return "api_error";
    const auto* err = v.as_object().if_contains("error");
    if (!err || !err->is_object()) return "api_error";
    const auto* type = err->as_object().if_contains("type");
    if (!type || !type->is_string()) return "api_error";
    return std::string(type->as_string());
  }
};

std::string error_event(ErrorKind kind, const std::string& message) {
  std::string event;
  stream::append_event(event, "error",
                       providers::anthropic::error_event_data(providers::anthropic::error_type(kind),
                                                              "upstream stream interrupted: " + message));
  return event;
}

}  // namespace

bhttp::response<bhttp::empty_body> Gateway::response_head(const http::Request& req, upstream::UpstreamResponse& res,
                                                           const Exchange& ex) const {
  bhttp::response<bhttp::empty_body> head{static_cast<bhttp::status>(res.status()), 11};
  head.reason(res.head().reason());  // Beast knows no phrase for 529; keep the upstream's
  copy_response_headers(res.head(), head.base());
  head.set("x-sluice-request-id", req.request_id);
  head.set("x-sluice-attempts", std::to_string(ex.attempts));
  if (ex.exhausted && res.status() >= 400) head.set("x-should-retry", "false");
  return head;
}

net::awaitable<void> Gateway::relay_stream(const http::Request& req, upstream::UpstreamResponse& res,
                                           http::ResponseWriter& w, Exchange& ex, StreamResult& sr) {
  stream::SseParser parser;
  StreamWatcher watcher;
  std::array<char, kReadChunk> buf;
  std::string pending;          // bytes read but not yet forwarded: an incomplete event
  std::uint64_t forwarded = 0;  // stream offset up to which bytes were forwarded (or held)
  for (;;) {
    auto got = co_await res.read(buf.data(), buf.size());
    if (ex.client_gone) co_return;
    if (!got.ok() || got.value() == 0) {
      if (watcher.ended) {
        sr.completed = !watcher.errored;
        if (!sr.committed) {
          // An in-band error before any content: the caller decides between retry and relay.
          sr.inband_error_type = watcher.error_type;
          co_return;
        }
        co_await w.finish();
        co_return;
      }
      // A broken stream must never look like a finished one: a partial event is dropped and the
      // client gets an in-band error instead of message_stop.
      sr.failure = got.ok() ? Error{ErrorKind::UpstreamFailed, "upstream stream ended before message_stop", {}}
                            : got.error();
      ex.error = kind_name(sr.failure->kind);
      if (!sr.committed) co_return;  // nothing sent: the caller may retry or answer with a status
      std::string event = error_event(sr.failure->kind, sr.failure->message);
      if (co_await w.write(event)) co_await w.finish();
      co_return;
    }
    std::string_view chunk{buf.data(), got.value()};
    parser.feed(chunk, watcher);
    std::uint64_t ready = parser.boundary() - forwarded;  // complete bytes not yet forwarded
    if (ready == 0) {
      pending.append(chunk);
      if (pending.size() > kMaxPendingEvent) {
        sr.failure = Error{ErrorKind::UpstreamFailed, "an upstream event exceeded 8 MiB", {}};
        ex.error = kind_name(sr.failure->kind);
        if (!sr.committed) co_return;
        std::string event = error_event(sr.failure->kind, sr.failure->message);
      if (co_await w.write(event)) co_await w.finish();
        co_return;
      }
      continue;
    }
    std::string_view complete;
    bool direct = pending.empty() && ready == chunk.size();  // the read ended on an event boundary
    if (!direct) pending.append(chunk);
    complete = direct ? chunk : std::string_view(pending).substr(0, ready);
    forwarded = parser.boundary();

    bool ok = true;
    if (!sr.committed) {
      sr.held.append(complete);
      if (!direct) pending.erase(0, ready);
      // The preamble is held until the first content event; an error before it stays held too.
      if (watcher.commit_at == 0 || watcher.errored) continue;
      sr.committed = true;
      // Separate statements: g++ 12 miscompiles co_await inside && operands.
      auto head = response_head(req, res, ex);
      ok = co_await w.start(std::move(head));
      if (ok) ok = co_await w.write(sr.held);
      sr.held.clear();
    } else {
      ok = co_await w.write(complete);
      if (!direct) pending.erase(0, ready);
    }
    if (!ok) {
      ex.error = "client_gone";
      co_return;  // the upstream connection closes with the response, cancelling generation
    }
  }
}

net::awaitable<void> Gateway::flush_held(const http::Request& req, upstream::UpstreamResponse& res,
                                         http::ResponseWriter& w, Exchange& ex, StreamResult& sr) {
  // Relays a stream that ended before its commit point (an in-band error the gateway did not
  // retry) exactly as the upstream sent it.
  auto head = response_head(req, res, ex);
  if (!co_await w.start(std::move(head))) co_return;
  if (!co_await w.write(sr.held)) co_return;
  co_await w.finish();
  // (An if, not ?: with a temporary: g++ 12 miscompiles that inside coroutines.)
  if (!sr.inband_error_type.empty()) ex.error = "upstream_" + sr.inband_error_type;
}

net::awaitable<bool> Gateway::relay_body(const http::Request& req, upstream::UpstreamResponse& res,
                                         http::ResponseWriter& w, Exchange& ex) {
  auto head = response_head(req, res, ex);
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
        if (ex.client_gone) co_return false;
        auto err = error_response(req.path(), got.error(), req.request_id);
        err.set("x-sluice-attempts", std::to_string(ex.attempts));
        co_await w.send(std::move(err));
        co_return false;
      }
      if (got.value() == 0) break;
      body.append(buf.data(), got.value());
    }
    co_await w.send(std::move(whole));
    co_return true;
  }
  if (length) head.content_length(*length);
  if (!co_await w.start(std::move(head))) co_return true;
  for (;;) {
    auto got = co_await res.read(buf.data(), buf.size());
    if (!got.ok()) {
      // The status is frozen; cutting the connection is the only honest signal left.
      ex.error = kind_name(got.error().kind);
      w.abort();
      co_return false;
    }
    if (got.value() == 0) break;
    if (!co_await w.write({buf.data(), got.value()})) {
      ex.error = "client_gone";
      co_return true;
    }
  }
  co_await w.finish();
  co_return true;
}

}  // namespace sluice::server
