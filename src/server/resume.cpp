// Resumable streams (issue 6, docs/resume.md): who owns a stream, resuming one by its id
// (GET /v1/streams/<id> or the request repeated with Last-Event-ID), answering an identical retry
// from a stream its client abandoned, and keeping an abandoned stream's upstream running for the
// grace period.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/wire.hpp"
#include "keys/secret.hpp"
#include "server/exchange.hpp"
#include "server/shared_streams.hpp"
#include "stream/event_id.hpp"
#include "stream/sse_parser.hpp"

namespace sluice::server {

namespace {

constexpr std::size_t kReplayChunk = 256 * 1024;

std::string raw_hash(std::string_view bytes) {
  auto h = keys::hash_secret(bytes);
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace

std::string Gateway::request_fingerprint(const http::Request& req, std::string_view body) {
  // The body and what else changes the answer: the path, the API version and every beta line.
  std::string basis(req.path());
  basis += '\n';
  auto version = req.msg["anthropic-version"];
  basis.append(version.data(), version.size());
  for (auto it = req.msg.find("anthropic-beta"); it != req.msg.end() && it->name_string() == "anthropic-beta"; ++it) {
    basis += '\n';
    basis.append(it->value().data(), it->value().size());
  }
  basis += '\n';
  basis += raw_hash(body);
  return raw_hash(basis);
}

bool Gateway::resumable(const http::Request& req, const Exchange& ex) const {
  if (!replay_ || !ex.stream) return false;
  if (!ex.openai_client) return true;
  // OpenAI clients opt in: an `id:` line crashes openai-python's decoder on later empty events.
  auto opt = req.msg["x-sluice-resumable"];
  return opt == "1" || opt == "true";
}

std::string Gateway::owner_of(const http::Request& req, const Exchange& ex) const {
  if (ex.charge.key) return "key:" + ex.charge.key->id;
  // Passthrough: the credential the client presented (only its hash is kept).
  return "cred:" + raw_hash(presented_key(req));
}

std::optional<Error> Gateway::find_resumable(const http::Request& req, Exchange& ex, std::string_view id,
                                             std::shared_ptr<stream::ReplayStream>& out) {
  if (!replay_) return Error{ErrorKind::NotFound, "stream resume is disabled on this gateway (streams.resume: false)", {}};
  out = replay_->find(id);
  if (!out) return unknown_stream(id);
  if (!keys::same_digest(out->owner(), owner_of(req, ex))) {
    out.reset();
    return foreign_stream(id);
  }
  return std::nullopt;
}

Error Gateway::unknown_stream(std::string_view id) {
  accounting_->metrics().resumes.inc({"by_id", "unknown"});
  return Error{ErrorKind::NotFound,
               "stream " + std::string(id) + " is unknown or has expired (streams stay resumable for " +
                   std::to_string(replay_->settings().ttl.count() / 1000) + " s after they end)",
               "resume_unknown"};
}

Error Gateway::foreign_stream(std::string_view id) {
  accounting_->metrics().resumes.inc({"by_id", "forbidden"});
  return Error{ErrorKind::Forbidden, "stream " + std::string(id) + " belongs to another key", "resume_forbidden"};
}

net::awaitable<void> Gateway::resume(http::Request& req, http::ResponseWriter& w, Exchange& ex,
                                     std::string_view path_id) {
  // GET /v1/streams/<id> (path_id set) or a model request repeated with Last-Event-ID.
  auto header = req.msg["last-event-id"];
  std::string_view last{header.data(), header.size()};
  std::optional<stream::EventId> at;
  if (!last.empty()) {
    at = stream::parse_event_id(last);
    if (!at) {
      Error e{ErrorKind::InvalidRequest, "Last-Event-ID must be <stream-id>:<seq> as sluice sent it in `id:`", "resume_bad_id"};
      co_await reply_error(req, w, ex, e);
      co_return;
    }
    if (!path_id.empty() && at->stream != path_id) {
      Error e{ErrorKind::InvalidRequest, "Last-Event-ID names another stream than the URL", "resume_bad_id"};
      co_await reply_error(req, w, ex, e);
      co_return;
    }
  }
  if (path_id.empty() && !at) {
    Error e{ErrorKind::InvalidRequest, "Last-Event-ID is required to resume a stream", "resume_bad_id"};
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  const std::string id(path_id.empty() ? at->stream : path_id);
  if (shared_streams_ && !replay_->find(id)) {
    // Another replica's stream: from the shared buffers (which logs the exchange).
    std::string last_id(last);
    const std::uint64_t from = at ? at->seq : 0;
    co_await resume_shared(req, w, ex, id, from, std::move(last_id));
    co_return;
  }
  std::shared_ptr<stream::ReplayStream> s;
  if (auto e = find_resumable(req, ex, id, s)) {
    co_await reply_error(req, w, ex, *e);
    co_return;
  }
  std::uint64_t from = at ? at->seq : 0;
  if (from > s->events() && s->state() != stream::StreamState::Running) {
    Error e{ErrorKind::InvalidRequest,
            "Last-Event-ID " + std::string(last) + " is past the stream's last event (" + std::to_string(s->events()) + ")",
            "resume_bad_id"};
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  accounting_->metrics().resumes.inc({"by_id", "ok"});
  ex.model = s->model();
  ex.stream = true;
  ex.charge.metered = true;  // a ledger row that says the stream was replayed, at no cost
  ex.charge.replayed = true;
  co_await serve_replay(req, w, ex, s, from, "resume");
  log(req, w, ex);
}

net::awaitable<bool> Gateway::try_transparent_resume(http::Request& req, http::ResponseWriter& w, Exchange& ex) {
  if (!replay_ || !streams_.transparent_resume || ex.fingerprint_body.empty()) co_return false;
  auto opt_out = req.msg["x-sluice-replay"];
  if (opt_out == "off" || opt_out == "0" || opt_out == "false") co_return false;
  // This replica's abandoned streams are known at once; other replicas' (streams.engine: redis)
  // take one Redis read, paid only by an owner who has left a stream somewhere lately.
  const bool here = replay_->has_abandoned(ex.owner);
  const bool elsewhere =
      shared_streams_ && shared_streams_->reachable() && shared_streams_->may_have_abandoned(ex.owner);
  if (!here && !elsewhere) co_return false;
  ex.fingerprint = request_fingerprint(req, ex.fingerprint_body);
  std::shared_ptr<stream::ReplayStream> s;
  if (here) s = replay_->claim(ex.owner, ex.fingerprint);
  if (s && elsewhere) {
    // A client may have had it whole through another replica: this index would not know.
    const bool whole = co_await shared_streams_->had_whole(s->id());
    if (whole) {
      s->delivered_whole();
      co_return false;
    }
  }
  if (!s) {
    if (!elsewhere) co_return false;
    const bool served = co_await try_shared_transparent_resume(req, w, ex);
    co_return served;
  }
  accounting_->metrics().resumes.inc({"transparent", "ok"});
  ex.charge.replayed = true;
  co_await serve_replay(req, w, ex, s, 0, "transparent");
  co_return true;
}

net::awaitable<void> Gateway::serve_replay(http::Request& req, http::ResponseWriter& w, Exchange& ex,
                                           std::shared_ptr<stream::ReplayStream> s, std::uint64_t from,
                                           const char* how) {
  ex.charge.stream_id = s->id();
  ex.replay_kind = how;
  auto signal = s->subscribe(co_await net::this_coro::executor);
  struct Leave {
    stream::ReplayStream& s;
    std::shared_ptr<stream::ReplayStream::Signal>& signal;
    http::ResponseWriter& w;
    ~Leave() {
      w.unwatch();
      s.unsubscribe(signal);
    }
  } leave{*s, signal, w};
  w.watch_client([&ex, &w, &signal] {
    ex.client_gone = true;
    w.mark_client_gone();
    signal->cancel();
  });

  const std::string fields = replay_fields(req, s->id(), how, s->upstream_request_id(), s->openai());
  if (!co_await w.start_raw(200, "", fields, std::nullopt)) co_return;

  std::uint64_t next = from;
  for (;;) {
    auto chunk = s->read(next, kReplayChunk);
    if (!chunk.bytes.empty()) {
      next = chunk.next;
      if (!co_await w.write(chunk.bytes)) co_return;
      continue;
    }
    if (chunk.evicted) {
      ex.error = "replay_evicted";
      const std::string event = stream_error_event(
          s->openai(), ErrorKind::UpstreamFailed, "stream " + s->id() + " was evicted from the replay buffer (memory cap); send the request again");
      if (co_await w.write(event)) co_await w.finish();
      co_return;
    }
    if (chunk.state != stream::StreamState::Running) {
      if (chunk.state == stream::StreamState::Failed) ex.error = "upstream_stream_failed";
      // The client has every event now (this replay, after what it got before): the same
      // request again is a deliberate repeat.
      if (chunk.state == stream::StreamState::Completed) s->delivered_whole();
      co_await w.finish();
      co_return;
    }
    auto [ec] = co_await signal->async_receive(net::as_tuple(net::use_awaitable));
    if (ex.client_gone) co_return;
    (void)ec;
  }
}

std::string Gateway::replay_fields(const http::Request& req, const std::string& id, const char* how,
                                   const std::string& upstream_request_id, bool openai) {
  std::string fields;
  http::append_field(fields, "content-type", "text/event-stream; charset=utf-8");
  http::append_field(fields, "cache-control", "no-cache");
  http::append_field(fields, "x-sluice-request-id", req.request_id);
  http::append_field(fields, "x-sluice-stream-id", id);
  http::append_field(fields, "x-sluice-replayed", how);
  if (!upstream_request_id.empty()) http::append_field(fields, "request-id", upstream_request_id);
  if (openai) http::append_field(fields, "x-request-id", req.request_id);
  return fields;
}

void Gateway::watch_client(http::ResponseWriter& w, Exchange& ex) {
  w.watch_client([this, &ex, &w] {
    ex.client_gone = true;
    w.mark_client_gone();
    if (ex.replay && ex.committed && ex.grace_watch) {
      // Mid-stream: the upstream goes on into the replay buffer for a resume.
      detach(ex, *ex.grace_watch);
      return;
    }
    if (ex.current) ex.current->cancel();
    if (ex.connecting) ex.connecting->close();
    if (ex.retry_wait) ex.retry_wait->cancel();
  });
}

void Gateway::detach(Exchange& ex, GraceWatch& watch) {
  if (ex.detached || !ex.replay) return;
  ex.detached = true;
  if (streams_.transparent_resume && ex.fingerprint.empty() && ex.fingerprint_req && !ex.fingerprint_body.empty()) {
    ex.fingerprint = request_fingerprint(*ex.fingerprint_req, ex.fingerprint_body);
  }
  ex.replay->client_left(ex.fingerprint);
  accounting_->metrics().detached.inc({});
  arm_grace(ex, watch, replay_->settings().grace);
}

void Gateway::arm_grace(Exchange& ex, GraceWatch& watch, std::chrono::milliseconds wait) {
  // A tick at least once a second: a drain (SIGTERM) must not wait out a whole grace period for
  // a stream nobody watches, or the process would stop before its ledger row is written.
  watch.timer.expires_after(std::min<std::chrono::milliseconds>(wait, std::chrono::seconds(1)));
  watch.timer.async_wait([this, &ex, &watch, alive = watch.alive](boost::system::error_code ec) {
    // `alive` turns false when the relay (which owns `watch`) is gone: a handler already queued
    // when that happened must not touch it.
    if (ec || !*alive || !ex.replay || ex.replay->state() != stream::StreamState::Running) return;
    const auto grace = replay_->settings().grace;
    stream::ReplayClock::time_point since;
    if (!ex.replay->unattended(since)) {
      arm_grace(ex, watch, grace);  // someone reads it: check again in a second
      return;
    }
    auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(stream::ReplayClock::now() - since);
    if (idle < grace && !draining_.load()) {
      arm_grace(ex, watch, grace - idle);
      return;
    }
    // Nobody came back for it (or the gateway is stopping): stop paying for the generation.
    ex.abandoned = true;
    accounting_->metrics().abandoned.inc({});
    if (ex.current) ex.current->cancel();
  });
}

}  // namespace sluice::server
