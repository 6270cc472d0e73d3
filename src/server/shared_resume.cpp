// Resuming a stream another replica produced, from the shared replay buffers in Redis
// (streams.engine: redis; docs/deployment.md): the events after the client's Last-Event-ID,
// then the rest as the producing replica mirrors it, polled. When that replica died (its
// heartbeat key expired), this one claims the stream in Redis and continues it the way upstream
// recovery continues a broken stream: the text so far as a prefill, the continuation spliced in,
// its events mirrored under the same stream id. Where a continuation is impossible (recovery off
// for the route, a tool_use or open thinking block, an OpenAI client's stream) the stream ends
// with an error event, never as if it were complete.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/wire.hpp"
#include "keys/secret.hpp"
#include "server/exchange.hpp"
#include "server/headers.hpp"
#include "server/shared_streams.hpp"
#include "stream/event_id.hpp"
#include "stream/sse_parser.hpp"

namespace sluice::server {

namespace {

constexpr std::size_t kReadBatch = 256;                      // events per Redis read
constexpr auto kPollEvery = std::chrono::milliseconds(50);   // following a running stream
constexpr auto kStalledAfter = std::chrono::seconds(120);    // no event, producer alive: give up
constexpr int kUnknownRetries = 4;                           // an unknown id is looked for 200 ms
constexpr std::size_t kWholeStream = 1u << 20;               // events read for a takeover

// The events of a stream, concatenated, with where each ends (ReplayStore::adopt's shape).
void join_events(const std::vector<std::string>& events, std::string& bytes, std::vector<std::size_t>& ends) {
  for (const auto& e : events) {
    bytes += e;
    ends.push_back(bytes.size());
  }
}

// Feeds the client's events of the attempts so far to the meter and the splicer, as the relay
// did on the replica that produced them.
class Replayed : public stream::SseSink {
 public:
  Replayed(stages::meter::StreamMeter& meter, StreamSplice& splice) : meter_(meter), splice_(splice) {}
  void on_event(const stream::SseEvent& ev) override {
    meter_.on_event(ev.type, ev.data);
    splice_.observe(ev.type, ev.data);
    if (ev.type == "message_stop" || ev.type == "error") {
      ended = true;
      errored = ev.type == "error";
    }
  }
  bool ended = false;    // the events end the stream (message_stop, or an error event)
  bool errored = false;

 private:
  stages::meter::StreamMeter& meter_;
  StreamSplice& splice_;
};

// The request the stream's replica sent upstream, as `recipe` keeps it, with credentials: the
// provider's key, or in passthrough the resuming client's own (the same credential that started
// the stream: its owner hash matched). A sluice key never goes upstream.
upstream::UpstreamRequest first_request(const SharedStreams::Recipe& recipe, const upstream::Deployment& d,
                                        const http::Request& req, bool key_mode) {
  upstream::UpstreamRequest ureq;
  ureq.method = bhttp::verb::post;
  ureq.target = recipe.target;
  ureq.body = recipe.body;
  ureq.streaming = true;
  ureq.headers = recipe.headers;
  if (!d.api_key.empty()) {
    http::append_field(ureq.headers, "x-api-key", d.api_key);
  } else if (!key_mode) {
    for (auto name : {"x-api-key", "authorization"}) {
      auto value = req.msg[name];
      if (!value.empty()) http::append_field(ureq.headers, name, {value.data(), value.size()});
    }
  }
  return ureq;
}

// Ends a replayed stream with an error event saying `message`, in the stream's dialect.
net::awaitable<void> end_with_error(http::ResponseWriter& w, bool openai, std::string message) {
  const std::string event = stream_error_event(openai, ErrorKind::UpstreamFailed, message);
  if (co_await w.write(event)) co_await w.finish();
}

}  // namespace

net::awaitable<void> Gateway::resume_shared(http::Request& req, http::ResponseWriter& w, Exchange& ex, std::string id,
                                            std::uint64_t from, std::string last) {
  auto v = co_await shared_streams_->read(id, from, kReadBatch, false);
  // The mirror runs a few milliseconds behind its replica: a client back at once may be faster.
  for (int retry = 0; retry < kUnknownRetries && v.reachable && !v.found; ++retry) {
    net::steady_timer wait{co_await net::this_coro::executor, kPollEvery};
    co_await wait.async_wait(net::as_tuple(net::use_awaitable));
    v = co_await shared_streams_->read(id, from, kReadBatch, false);
  }
  if (!v.reachable) {
    Error e{ErrorKind::Unavailable, "stream " + id + " is not on this replica and the shared replay buffers (Redis) are unreachable",
            "resume_unreachable"};
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  if (!v.found) {
    Error e = unknown_stream(id);
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  if (!keys::same_digest(v.owner_hash, SharedStreams::owner_hash(owner_of(req, ex)))) {
    Error e = foreign_stream(id);
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  if (from > v.count && v.state != "running") {
    Error e{ErrorKind::InvalidRequest,
            "Last-Event-ID " + last + " is past the stream's last event (" + std::to_string(v.count) + ")", "resume_bad_id"};
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  accounting_->metrics().resumes.inc({"by_id", "ok"});
  co_await serve_shared(req, w, ex, id, v.openai, v.model, v.upstream_request_id, from, "resume");
  log(req, w, ex);
}

net::awaitable<bool> Gateway::try_shared_transparent_resume(http::Request& req, http::ResponseWriter& w,
                                                            Exchange& ex) {
  std::string key = shared_streams_->abandoned_key(ex.owner, ex.fingerprint);
  const auto filed_at = shared_streams_->filed_at(key);
  if (!filed_at) co_return false;  // the usual case, known without asking Redis
  auto id = co_await shared_streams_->find_abandoned(key, filed_at);
  // This replica's own streams were looked for already: one here that is not reusable stays so.
  if (!id || replay_->find(*id)) co_return false;
  // The stream's fields only: follow_shared reads its events from the first.
  auto v = co_await shared_streams_->read(*id, 0, 0, true);
  const std::string mine = SharedStreams::owner_hash(ex.owner);
  // Reusable as in ReplayStore::claim: running, or completed within the grace period; never a
  // failed or lost one, and only for its owner (the key says so too, this makes sure). A running
  // one whose replica died must be one this replica can continue (a recipe, not an OpenAI
  // client's stream): a retry that cannot be served whole goes upstream afresh, as the client
  // meant it to, rather than to an error event.
  bool usable = false;
  if (v.state == "running") {
    usable = v.producer_alive || (v.recipe.has_value() && !v.openai);
  } else if (v.state == "completed") {
    usable = v.quiet_ms < replay_->settings().grace.count();
  }
  const bool reusable = v.reachable && v.found && usable && keys::same_digest(v.owner_hash, mine);
  if (!reusable) {
    if (v.reachable) shared_streams_->unfile(key, filed_at);  // not a newer filing meanwhile
    co_return false;
  }
  accounting_->metrics().resumes.inc({"transparent", "ok"});
  ex.shared_abandoned_key = std::move(key);
  co_await serve_shared(req, w, ex, *id, v.openai, v.model, v.upstream_request_id, 0, "transparent");
  co_return true;
}

net::awaitable<void> Gateway::serve_shared(http::Request& req, http::ResponseWriter& w, Exchange& ex,
                                           const std::string& id, bool openai, const std::string& model,
                                           const std::string& upstream_request_id, std::uint64_t from,
                                           const char* how) {
  if (ex.model.empty()) ex.model = model;  // a GET /v1/streams/<id> names none
  ex.stream = true;
  ex.charge.metered = true;  // a row that says the stream was replayed, at no cost (unless taken over)
  ex.charge.replayed = true;
  ex.charge.stream_id = id;
  ex.replay_kind = how;
  ex.upstream_request_id = upstream_request_id;
  watch_client(w, ex);
  struct Unwatch {
    http::ResponseWriter& w;
    ~Unwatch() { w.unwatch(); }
  } unwatch{w};
  const std::string fields = replay_fields(req, id, how, upstream_request_id, openai);
  if (co_await w.start_raw(200, "", fields, std::nullopt)) co_await follow_shared(req, w, ex, id, openai, from);
}

net::awaitable<void> Gateway::follow_shared(http::Request& req, http::ResponseWriter& w, Exchange& ex,
                                            const std::string& id, bool openai, std::uint64_t from) {
  net::steady_timer poll{co_await net::this_coro::executor};
  auto progress = std::chrono::steady_clock::now();
  auto v = co_await shared_streams_->read(id, from, kReadBatch, false);
  for (;;) {
    if (!v.reachable || !v.found) {
      ex.error = "replay_unreachable";
      std::string message = "stream " + id + " is no longer in the shared replay buffers: " +
                            (v.reachable ? std::string("expired") : v.error);
      co_await end_with_error(w, openai, std::move(message));
      co_return;
    }
    if (!v.events.empty()) {
      std::string out;
      for (const auto& e : v.events) out += e;
      from += v.events.size();
      progress = std::chrono::steady_clock::now();
      if (!co_await w.write(out)) co_return;
    }
    const bool caught_up = from >= v.count;
    if (caught_up && v.state == "completed") {
      // Delivered whole: the same request again is a deliberate repeat, on every replica.
      shared_streams_->delivered_whole(id, ex.shared_abandoned_key);
      co_await w.finish();
      co_return;
    }
    if (caught_up && v.state != "running") {
      // Failed (its error event was the last one), or lost: Redis missed some of its events.
      if (v.state == "failed") {
        ex.error = "upstream_stream_failed";
        co_await w.finish();
        co_return;
      }
      ex.error = "replay_lost";
      std::string message = "stream " + id + " lost events in the shared replay buffers; send the request again";
      co_await end_with_error(w, openai, std::move(message));
      co_return;
    }
    if (caught_up && !v.producer_alive && from > v.count) {
      // The client got events its dead replica never mirrored: nothing consistent to go on from.
      ex.error = "replay_lost";
      std::string message = "stream " + id + " lost events with the replica that produced it; send the request again";
      co_await end_with_error(w, openai, std::move(message));
      co_return;
    }
    if (caught_up && !v.producer_alive) {
      // The replica producing it is gone: continue it here (or end it honestly).
      if (co_await take_over(req, w, ex, id, openai, from)) {
        if (ex.error.empty() && !ex.client_gone) shared_streams_->delivered_whole(id, ex.shared_abandoned_key);
        co_return;
      }
      // Not claimed (yet: the stream has not been quiet long enough, or another replica won):
      // look again after the usual wait rather than at once.
      poll.expires_after(kPollEvery);
      co_await poll.async_wait(net::as_tuple(net::use_awaitable));
    } else if (caught_up) {
      if (std::chrono::steady_clock::now() - progress > kStalledAfter) {
        ex.error = "replay_stalled";
        std::string message = "stream " + id + " stalled on its replica";
        co_await end_with_error(w, openai, std::move(message));
        co_return;
      }
      poll.expires_after(kPollEvery);
      co_await poll.async_wait(net::as_tuple(net::use_awaitable));
    }
    if (ex.client_gone) co_return;
    v = co_await shared_streams_->read(id, from, kReadBatch, false);
  }
}

net::awaitable<bool> Gateway::take_over(http::Request& req, http::ResponseWriter& w, Exchange& ex,
                                        const std::string& id, bool openai, std::uint64_t& from) {
  if (!co_await shared_streams_->claim(id)) co_return false;  // alive after all, or claimed by another
  auto v = co_await shared_streams_->read(id, 0, kWholeStream, true);
  std::shared_ptr<stream::ReplayStream> s;
  if (v.found && v.count == v.events.size() && from <= v.count) {
    std::string bytes;
    std::vector<std::size_t> ends;
    join_events(v.events, bytes, ends);
    // (Null when the id is still held here, evicted or expired but not swept yet.)
    s = replay_->adopt(id, owner_of(req, ex), v.openai, std::move(bytes), std::move(ends));
  }
  if (!s) {
    // Claimed, but nothing consistent to continue from: nobody must wait for it any longer.
    shared_streams_->mark_lost(id);
    ex.error = "replay_lost";
    std::string message = "stream " + id + " lost events with the replica that produced it; send the request again";
    co_await end_with_error(w, openai, std::move(message));
    co_return true;
  }
  s->set_meta(v.model, v.upstream_request_id);
  std::fprintf(stderr, "{\"event\":\"stream_takeover\",\"request_id\":\"%s\",\"stream_id\":\"%s\",\"from_replica\":\"%s\",\"events\":%llu}\n",
               req.request_id.c_str(), id.c_str(), v.producer.c_str(), static_cast<unsigned long long>(v.count));
  // This replica produces the stream now: its row bills what each attempt consumed.
  ex.replay = s;
  ex.committed = true;
  ex.charge.replayed = false;
  ex.replay_kind = "takeover";
  ex.splice = std::make_unique<StreamSplice>();
  Replayed sink{ex.charge.stream, *ex.splice};
  {
    stream::SseParser parser;
    for (const auto& e : v.events) parser.feed(e, sink);
  }
  // The events the client has not had yet.
  for (std::size_t i = from; i < v.events.size(); ++i) {
    if (!co_await w.write(v.events[i])) break;
  }
  from = v.count;
  if (sink.ended) {
    // The replica died after the stream's last event and before it said so: it is whole.
    s->end(sink.errored ? stream::StreamState::Failed : stream::StreamState::Completed);
    accounting_->release(ex.charge, ex.model);
    if (sink.errored) ex.error = "upstream_stream_failed";
    co_await w.finish();
    co_return true;
  }

  StreamResult broken;
  broken.committed = true;
  broken.next_seq = s->events() + 1;
  broken.failure = Error{ErrorKind::UpstreamFailed, "the replica producing the stream stopped", "replica_lost"};
  upstream::Provider* provider = v.recipe ? provider_named(v.recipe->provider) : nullptr;
  upstream::Deployment* d = nullptr;
  if (provider) {
    auto pick = provider->pick(nullptr);
    d = pick.deployment;
    if (d && pick.probe) {  // half-open: the probe is for a request of its own, not this one
      d->breaker.release_probe();
      d = nullptr;
    }
  }
  const char* why = !v.recipe ? "stream recovery is off for its route"
                    : !provider ? "its provider is not configured on this replica"
                    : !d ? "its provider is unavailable (circuit breaker open)"
                    : v.openai ? "an OpenAI client's stream is not continued"
                    : !takes_prefill(v.recipe->price_model.empty() ? v.model : v.recipe->price_model)
                        ? "the model takes no prefill"
                        : ex.splice->blocker();
  if (why) {
    broken.failure->message += " and it cannot be continued here: ";
    broken.failure->message += why;
    accounting_->metrics().recoveries.inc({"impossible"});
    ex.error = "replica_lost";  // the access log and the ledger row say it ended broken
    co_await end_broken_stream(w, ex, broken);
    co_return true;
  }
  ex.charge.price_model = v.recipe->price_model;
  ex.recovery = true;
  ex.provider = d->label;
  upstream::UpstreamRequest ureq = first_request(*v.recipe, *d, req, ex.charge.key != nullptr);
  ureq.live = &ex.connecting;
  ex.upstream_request = &ureq;
  if (!ex.upstream_start) ex.upstream_start = http::Clock::now();
  co_await recover_stream(req, w, ex, ureq, *d, broken);
  ex.current = nullptr;
  co_return true;
}

}  // namespace sluice::server
