// Relaying an upstream stream to the client (the `relay` shape of Beast's examples): event by
// event, byte-identical but for the id lines of resumable streams, with backpressure; the
// commit point, in-band errors, broken streams. Whole (not streamed) answers: relay_whole.cpp.
#include <algorithm>
#include <memory>

#include <boost/asio/this_coro.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/json/parse.hpp>

#include "providers/anthropic/validate.hpp"
#include "upstream/retry_policy.hpp"
#include "server/exchange.hpp"
#include "http/wire.hpp"
#include "server/headers.hpp"
#include "server/shared_streams.hpp"
#include "stream/event_id.hpp"
#include "stream/sse_parser.hpp"

namespace sluice::server {

namespace {

// The upstream read buffer starts at kFirstReadChunk: a model's stream trickles a few events per
// read, and thousands of streams may be open at once (the buffer used to be 16 KB of every
// stream's coroutine frame, a third of its memory). A read that fills it, from an upstream
// that bursts, doubles it up to kReadChunk.
constexpr std::size_t kFirstReadChunk = 2 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;

class ReadBuffer {
 public:
  char* data() { return data_.get(); }
  std::size_t size() const { return size_; }
  // After a read of `got` bytes; call only when nothing points into the buffer any more.
  void grow_if_filled(std::size_t got) {
    if (got < size_ || size_ >= kReadChunk) return;
    size_ = std::min(size_ * 2, kReadChunk);
    data_ = std::make_unique_for_overwrite<char[]>(size_);
  }

 private:
  std::size_t size_ = kFirstReadChunk;
  std::unique_ptr<char[]> data_ = std::make_unique_for_overwrite<char[]>(kFirstReadChunk);
};
// An upstream event still incomplete after this many bytes is treated as a broken stream, so
// a peer that never ends a line cannot grow our memory without bound.
constexpr std::size_t kMaxPendingEvent = 8 * 1024 * 1024;

// Whether an event a client must parse is well-formed. The few structural events are fully
// validated; content_block_delta — most of a stream's events — only has its framing checked
// (one JSON object: '{' ... '}'), which catches truncation and garbage: full validation of every
// delta cost 14 % of a relayed stream's instructions (callgrind). Other noise (a malformed ping,
// nameless or unknown events) is not checked at all: the SDKs skip it, so it is relayed.
bool is_well_formed(std::string_view type, std::string_view data) {
  if (type == "content_block_delta") {
    while (!data.empty() && (data.back() == ' ' || data.back() == '\t')) data.remove_suffix(1);
    return data.size() >= 2 && data.front() == '{' && data.back() == '}';
  }
  if (type == "message_start" || type == "message_delta" || type == "message_stop" ||
      type == "content_block_start" || type == "content_block_stop" || type == "error") {
    return providers::anthropic::is_valid_json(data);
  }
  return true;
}

// Watches the events of an Anthropic stream: where its preamble ends (the commit point: the
// first event that is not message_start or ping), how it ends (message_stop or error), and
// whether an event is malformed (then `good_end` is the stream offset where the good part ends).
class StreamWatcher : public stream::SseSink {
 public:
  StreamWatcher(const stream::SseParser& parser, stages::meter::StreamMeter& meter) : parser_(parser), meter_(meter) {}

  void on_event(const stream::SseEvent& ev) override {
    if (malformed || inband_break) return;
    if (!is_well_formed(ev.type, ev.data)) {
      malformed = true;
      return;
    }
    if (ev.type == "error" && commit_at != 0 && recover_allowed && splice && !splice->blocker() &&
        upstream::is_retryable_inband(parse_error_type(ev.data))) {
      // Overloaded after content began: the stream may be continued, so the error is not relayed.
      inband_break = true;
      error_type = parse_error_type(ev.data);
      return;
    }
    meter_.on_event(ev.type, ev.data);
    if (splice) splice->observe(ev.type, ev.data);
    good_end = parser_.boundary();
    if (record_ends) ends.push_back(good_end);
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
  bool malformed = false;
  std::uint64_t good_end = 0;  // offset just past the last well-formed event
  std::string error_type;
  std::size_t index = 0;
  std::size_t commit_at = 0;  // 1-based index of the first non-preamble event; 0 = not yet
  bool record_ends = false;      // resumable: keep where each event ends
  StreamSplice* splice = nullptr;   // recovery: watches what the client gets
  bool recover_allowed = false;     // a recovery is still possible for this stream
  bool inband_break = false;        // a retryable error event after content, held back for recovery
  std::vector<std::uint64_t> ends;  // stream offsets where the events not yet forwarded end

 private:
  const stream::SseParser& parser_;
  stages::meter::StreamMeter& meter_;

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

// The event that ends a committed stream honestly: an error in the client's dialect.
std::string interrupted_event(const Error& e, bool openai) {
  return stream_error_event(openai, e.kind, "upstream stream interrupted: " + e.message);
}

}  // namespace

std::string Gateway::response_fields(const http::Request& req, upstream::UpstreamResponse& res,
                                     const Exchange& ex) const {
  std::string fields;
  fields.reserve(1024);
  render_response_headers(res.head(), fields);
  http::append_field(fields, "x-sluice-request-id", req.request_id);
  http::append_field(fields, "x-sluice-attempts", std::to_string(ex.attempts));
  // A translated answer has no Anthropic request-id (OpenAI servers send x-request-id): the
  // Anthropic SDKs report this one.
  if (ex.translation && res.head().find("request-id") == res.head().end()) {
    http::append_field(fields, "request-id", req.request_id);
  }
  // ... and an OpenAI client reads x-request-id, which an Anthropic upstream does not send.
  if ((ex.openai_client || ex.openai_models) && res.head().find("x-request-id") == res.head().end()) {
    http::append_field(fields, "x-request-id", req.request_id);
  }
  for (const auto& [name, value] : ex.response_headers) http::append_field(fields, name, value);
  if (ex.replay) http::append_field(fields, "x-sluice-stream-id", ex.replay->id());
  if (ex.exhausted && res.status() >= 400) http::append_field(fields, "x-should-retry", "false");
  return fields;
}

std::string Gateway::seal_broken_replay(Exchange& ex, const Error& e) {
  std::string event = interrupted_event(e, ex.replay->openai());
  std::string out;
  const std::uint64_t end[] = {event.size()};
  stream::append_with_ids(out, event, end, ex.replay->id(), ex.replay->events() + 1);
  ex.replay->append(out);
  ex.replay->end(stream::StreamState::Failed);
  return out;
}

net::awaitable<void> Gateway::end_broken_stream(http::ResponseWriter& w, Exchange& ex, StreamResult& sr) {
  accounting_->release(ex.charge, ex.model);
  // Into the replay buffer too, with its id: a resume ends the same way.
  std::string event = ex.replay ? seal_broken_replay(ex, *sr.failure) : interrupted_event(*sr.failure, ex.openai_client.has_value());
  if (ex.replay) sr.next_seq = ex.replay->events() + 1;
  if (ex.detached) co_return;
  if (co_await w.write(event)) co_await w.finish();
}

void Gateway::share_recipe(const http::Request& req, Exchange& ex) {
  // Another replica may have to continue this stream: what this hop asked upstream, without
  // credentials (that replica adds its own, or the resuming client's).
  SharedStreams::Recipe r;
  r.provider = ex.hop_provider;
  r.target = ex.upstream_request->target;
  r.body = ex.upstream_request->body;
  render_upstream_request_headers(req.msg.base(), {}, r.headers, true);
  r.price_model = ex.charge.price_model;
  shared_streams_->set_recipe(ex.replay->id(), r);
}

net::awaitable<bool> Gateway::emit(http::ResponseWriter& w, Exchange& ex, std::string_view bytes,
                                   const std::vector<std::size_t>& event_ends) {
  // Into the buffer before the client: whoever resumes must find every event the client got.
  if (ex.replay) {
    std::size_t at = 0;
    for (std::size_t end : event_ends) {
      ex.replay->append(bytes.substr(at, end - at));
      at = end;
    }
  }
  if (ex.detached) co_return true;
  co_return co_await w.write(bytes);
}

net::awaitable<void> Gateway::relay_stream(const http::Request& req, upstream::UpstreamResponse& res,
                                           http::ResponseWriter& w, Exchange& ex, StreamResult& sr) {
  stream::SseParser parser;
  StreamWatcher watcher{parser, ex.charge.stream};
  struct ActiveStream {  // counted in sluice_active_streams from the commit point to the end
    std::atomic<std::int64_t>& gauge;
    bool counted = false;
    ~ActiveStream() {
      if (counted) --gauge;
    }
  } active{accounting_->active_streams()};
  ReadBuffer buf;
  std::string pending;          // bytes read but not yet forwarded: an incomplete event
  std::uint64_t forwarded = 0;  // stream offset up to which bytes were forwarded (or held)

  // A resumable stream: its events get ids and go into its replay buffer; a client that leaves
  // after the commit point detaches it instead of cancelling the upstream.
  std::optional<GraceWatch> grace;
  struct Unregister {
    Exchange& ex;
    ~Unregister() { ex.grace_watch = nullptr; }
  } unregister{ex};
  if (!ex.replay && replay_ && resumable(req, ex)) {
    ex.replay = replay_->create(ex.owner, ex.openai_client.has_value());
    ex.charge.stream_id = ex.replay->id();
  }
  if (ex.replay) {
    grace.emplace(co_await net::this_coro::executor);
    ex.grace_watch = &*grace;
    watcher.record_ends = !ex.to_openai;
    sr.next_seq = ex.replay->events() + 1;
    if (ex.detached) arm_grace(ex, *grace, replay_->settings().grace);  // a continuation of a detached stream
  }
  // Upstream recovery: the splicer watches what the client gets; a continuation's bytes go
  // through it (like a translation) before anything else sees them. A new attempt before the
  // commit point starts a new splicer: the client has seen nothing of the last one.
  if (ex.recovery && !sr.continuation) ex.splice = std::make_unique<StreamSplice>();
  watcher.splice = ex.splice.get();
  watcher.recover_allowed = ex.splice && ex.charge.recoveries < streams_.recovery_attempts;
  StreamSplice* splicer = sr.continuation ? ex.splice.get() : nullptr;
  if (sr.committed) {
    ++active.gauge;
    active.counted = true;
  }
  auto can_recover = [&] {
    return watcher.recover_allowed && !ex.abandoned && !(ex.client_gone && !ex.detached) && !ex.splice->blocker();
  };
  std::string with_ids;
  std::vector<std::uint64_t> ends;
  std::vector<std::size_t> event_ends;

  // Records a failure; returns true when the caller must still tell the client in-band (the
  // stream was committed). Uncommitted failures go back to the attempt loop.
  auto fail = [&](Error e) {
    if (ex.abandoned) {
      e = Error{ErrorKind::UpstreamFailed, "the client left and nobody resumed the stream within the grace period",
                "abandoned"};
    }
    ex.error = e.detail.empty() ? kind_name(e.kind) : e.detail;
    sr.failure = std::move(e);
    return sr.committed;
  };

  // An OpenAI upstream's stream is translated chunk by chunk: everything below sees the
  // Anthropic events it becomes. At a clean end of the body the translator may still hold the
  // final events (a finish reason without [DONE]): they are processed as one more chunk, and
  // the end is taken after them.
  translate::ChatToMessagesStream* translator = ex.translation ? ex.translation->stream.get() : nullptr;
  std::string translated;
  std::string to_client;
  bool end_after_chunk = false;
  std::size_t last_read = 0;
  for (;;) {
    buf.grow_if_filled(last_read);  // the previous chunk is forwarded or copied by now
    Result<std::size_t> got = std::size_t{0};
    if (!end_after_chunk) got = co_await res.read(buf.data(), buf.size());
    last_read = got.ok() ? got.value() : 0;
    if (ex.client_gone && !ex.detached) co_return;
    const bool at_end = !got.ok() || got.value() == 0;
    std::string_view chunk;
    if (translator) {
      translated.clear();
      if (!at_end) {
        translator->feed({buf.data(), got.value()}, translated);
      } else if (got.ok() && !end_after_chunk) {
        translator->finish(translated);
        end_after_chunk = !translated.empty();
      }
      if (!at_end && translated.empty()) continue;  // no complete event yet
      // Decided before the meter sees the final events (and the charge is released).
      if (translator->done() && !translator->usage_reported()) ex.charge.usage_guessed = true;
      chunk = translated;
    } else if (splicer) {
      translated.clear();
      if (!at_end) splicer->feed({buf.data(), got.value()}, translated);
      if (!at_end && translated.empty()) continue;  // no complete event yet
      chunk = translated;
    } else if (!at_end) {
      chunk = {buf.data(), got.value()};
    }
    if (chunk.empty()) {
      if (watcher.ended) {
        sr.completed = !watcher.errored;
        if (!sr.committed) {
          // An in-band error before any content: the caller decides between retry and relay.
          sr.inband_error_type = watcher.error_type;
          co_return;
        }
        if (ex.replay) ex.replay->end(sr.completed ? stream::StreamState::Completed : stream::StreamState::Failed);
        if (!ex.detached) co_await w.finish();
        co_return;
      }
      // A broken stream must never look like a finished one: a partial event is dropped and the
      // client gets an in-band error instead of message_stop.
      Error e = got.ok() ? Error{ErrorKind::UpstreamFailed, "upstream stream ended before message_stop", {}}
                         : got.error();
      if (fail(std::move(e))) {
        if (can_recover()) {
          sr.recover = true;  // the caller asks for the rest (server/recovery.cpp)
          co_return;
        }
        if (ex.splice && ex.splice->blocker()) accounting_->metrics().recoveries.inc({"impossible"});
        co_await end_broken_stream(w, ex, sr);
      }
      co_return;
    }
    parser.feed(chunk, watcher);
    // The stream's last event is in this read (message_stop, or an in-band error after
    // content): settle before it is written. An error before any content is not the end: the
    // attempt loop may retry it.
    if (watcher.ended && !watcher.malformed && (sr.committed || !watcher.errored)) {
      accounting_->release(ex.charge, ex.model);
    }
    if (watcher.malformed && !sr.committed) {
      fail(Error{ErrorKind::UpstreamFailed, "malformed upstream event (data is not JSON)", "upstream_malformed"});
      co_return;
    }
    // Complete bytes not yet forwarded; with a malformed event (or an error held back for a
    // recovery), only those before it.
    const bool cut = watcher.malformed || watcher.inband_break;
    std::uint64_t limit = cut ? std::max(watcher.good_end, forwarded) : parser.boundary();
    std::uint64_t ready = limit - forwarded;
    bool direct = pending.empty() && ready == chunk.size();  // the read ended on an event boundary
    if (!direct) pending.append(chunk);
    if (ready > 0) {
      std::string_view complete = direct ? chunk : std::string_view(pending).substr(0, ready);
      if (ex.to_openai) {
        // An OpenAI client: the same events, as chat.completion.chunk lines.
        to_client.clear();
        ex.to_openai->feed(complete, to_client);
        complete = to_client;
      }
      event_ends.clear();
      if (ex.replay) {
        // Each event gets its id line; the events' ends are where the buffer cuts them.
        ends.clear();
        if (ex.to_openai) {
          stream::split_lf_events(complete, ends);
        } else {
          std::size_t taken = 0;
          while (taken < watcher.ends.size() && watcher.ends[taken] <= limit) {
            ends.push_back(watcher.ends[taken] - forwarded);
            ++taken;
          }
          watcher.ends.erase(watcher.ends.begin(), watcher.ends.begin() + static_cast<std::ptrdiff_t>(taken));
        }
        with_ids.clear();
        sr.next_seq = stream::append_with_ids(with_ids, complete, ends, ex.replay->id(), sr.next_seq, &event_ends);
        complete = with_ids;
      }
      forwarded = limit;
      bool ok = true;
      bool wrote = false;  // these bytes went to the client (not only into the buffer)
      if (!sr.committed) {
        for (std::size_t end : event_ends) sr.held_events.push_back(sr.held.size() + end);
        sr.held.append(complete);
        // The preamble is held until the first content event; an error before it stays held too.
        if (watcher.commit_at != 0 && !watcher.errored) {
          sr.committed = true;
          ex.committed = true;
          ++active.gauge;
          active.counted = true;
          if (ex.replay) {
            ex.replay->set_meta(ex.model, ex.upstream_request_id);
            if (shared_streams_ && ex.recovery && ex.upstream_request) share_recipe(req, ex);
          }
          std::string fields = response_fields(req, res, ex);
          std::string reason(res.head().reason());  // Beast knows no phrase for 529: keep the upstream's
          ok = co_await w.start_raw(res.status(), reason, fields, std::nullopt);
          wrote = ok && !ex.detached;
          if (ok) ok = co_await emit(w, ex, sr.held, sr.held_events);
          sr.held.clear();
          sr.held_events.clear();
        }
      } else {
        wrote = !ex.detached;
        ok = co_await emit(w, ex, complete, event_ends);
      }
      // The final event reached the client's socket: a client that closes as soon as it reads
      // message_stop has had it all, even if its close is noticed (and detaches the stream)
      // before this write completes. The same request again is then a deliberate repeat.
      if (ok && wrote && ex.replay && watcher.ended && !watcher.errored && limit == parser.boundary()) {
        ex.replay->delivered_whole();
      }
      if (!direct) pending.erase(0, ready);
      if (!ok) {
        if (!ex.replay || !sr.committed) {
          ex.error = "client_gone";
          co_return;  // the upstream connection closes with the response, cancelling generation
        }
        // The client went away mid-stream: the rest goes into the buffer for a resume.
        w.mark_client_gone();
        ex.client_gone = true;
        detach(ex, *grace);
      }
    }
    if (watcher.inband_break && sr.committed) {
      fail(Error{ErrorKind::UpstreamOverloaded, "upstream error event after content: " + watcher.error_type,
                 "upstream_" + watcher.error_type});
      if (can_recover()) {
        sr.recover = true;
        co_return;
      }
      co_await end_broken_stream(w, ex, sr);
      co_return;
    }
    if (watcher.malformed) {
      fail(Error{ErrorKind::UpstreamFailed, "malformed upstream event (data is not JSON)", "upstream_malformed"});
      co_await end_broken_stream(w, ex, sr);
      co_return;
    }
    if (pending.size() > kMaxPendingEvent) {
      if (fail(Error{ErrorKind::UpstreamFailed, "an upstream event exceeded 8 MiB", {}})) {
        co_await end_broken_stream(w, ex, sr);
      }
      co_return;
    }
  }
}

net::awaitable<void> Gateway::flush_held(const http::Request& req, upstream::UpstreamResponse& res,
                                         http::ResponseWriter& w, Exchange& ex, StreamResult& sr) {
  // Relays a stream that ended before its commit point (an in-band error the gateway did not
  // retry) exactly as the upstream sent it.
  std::string fields = response_fields(req, res, ex);
  std::string reason(res.head().reason());
  accounting_->release(ex.charge, ex.model);
  if (!co_await w.start_raw(res.status(), reason, fields, std::nullopt)) co_return;
  if (!co_await w.write(sr.held)) co_return;
  co_await w.finish();
  // (An if, not ?: with a temporary: g++ 12 miscompiles that inside coroutines.)
  if (!sr.inband_error_type.empty()) ex.error = "upstream_" + sr.inband_error_type;
}

}  // namespace sluice::server
