#include "server/gateway.hpp"

#include <sstream>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "server/exchange.hpp"
#include "server/shared_streams.hpp"
#include "server/headers.hpp"
#include "metrics/exposition.hpp"

namespace sluice::server {

namespace {

// The routes of the gateway. Matching is exact on the path (the query string is forwarded).
enum class Route { Messages, CountTokens, Chat, Models, Streams, Health, Metrics, Admin, Unknown };

Route route_of(std::string_view path) {
  if (path == "/v1/messages") return Route::Messages;
  if (path == "/v1/messages/count_tokens") return Route::CountTokens;
  if (path == "/v1/chat/completions") return Route::Chat;
  if (path == "/v1/models" || (path.starts_with("/v1/models/") && path.size() > 11)) return Route::Models;
  if (path.starts_with("/v1/streams/") && path.size() > 12) return Route::Streams;
  if (path == "/healthz") return Route::Health;
  if (path == "/metrics") return Route::Metrics;
  if (path == "/admin" || path.starts_with("/admin/")) return Route::Admin;
  return Route::Unknown;
}

bhttp::verb method_of(Route r) {
  return (r == Route::Models || r == Route::Streams || r == Route::Health || r == Route::Metrics) ? bhttp::verb::get
                                                                                                   : bhttp::verb::post;
}

double ms_between(http::Clock::time_point a, http::Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

Gateway::Gateway(const config::Config& cfg, unsigned workers, Deps deps)
    : deps_(deps),
      accounting_(std::make_unique<Accounting>(cfg, deps_.clock)),
      redaction_(cfg.redaction),
      context_(cfg.context),
      router_(cfg.routes),
      admin_key_(cfg.admin.key),
      admin_pool_(std::make_unique<net::thread_pool>(1)),
      streams_(cfg.streams) {
  if (streams_.resume) {
    stream::ReplaySettings rs;
    rs.memory_cap = streams_.buffer_memory_mb * 1024 * 1024;
    rs.ttl = streams_.buffer_ttl;
    rs.grace = streams_.grace;
    replay_ = std::make_unique<stream::ReplayStore>(rs);
    if (streams_.shared) {
      shared_streams_ = std::make_unique<SharedStreams>(cfg, accounting_->registry());
      shared_streams_->attach(*replay_);
    }
  }
  for (const auto& p : cfg.providers) {
    providers_.push_back(std::make_unique<upstream::Provider>(p, workers, deps_.clock, deps_.random));
  }
  register_gateway_metrics();
}

void Gateway::register_gateway_metrics() {
  accounting_->metrics().detached.inc({}, 0);  // label-less: present from the first scrape
  accounting_->metrics().abandoned.inc({}, 0);
  if (replay_) {
    auto& r = accounting_->registry();
    r.gauge_callback("sluice_replay_buffer_bytes", "Bytes of events held in replay buffers", {},
                     [this](std::vector<metrics::Sample>& out) { out.push_back({{}, static_cast<double>(replay_->bytes())}); });
    r.gauge_callback("sluice_replay_buffer_streams", "Streams held in replay buffers (running, or ended within the TTL)", {},
                     [this](std::vector<metrics::Sample>& out) { out.push_back({{}, static_cast<double>(replay_->streams())}); });
    r.counter_callback("sluice_replay_evictions_total", "Streams evicted from the replay buffers by the memory cap", {},
                       [this](std::vector<metrics::Sample>& out) { out.push_back({{}, static_cast<double>(replay_->evictions())}); });
  }
  accounting_->registry().gauge_callback(
      "sluice_breaker_state", "Circuit breaker of each deployment: 0 closed, 1 half-open, 2 open",
      {"provider", "deployment"}, [this](std::vector<metrics::Sample>& out) {
        for (const auto& p : providers_) {
          for (const auto& d : p->deployments()) {
            auto s = d->breaker.state();
            double v = s == upstream::CircuitBreaker::State::Open ? 2 : s == upstream::CircuitBreaker::State::Closed ? 0 : 1;
            out.push_back({{p->name(), d->label}, v});
          }
        }
      });
  accounting_->registry().gauge_callback(
      "sluice_upstream_outstanding", "Requests outstanding on each deployment", {"provider", "deployment"},
      [this](std::vector<metrics::Sample>& out) {
        for (const auto& p : providers_) {
          for (const auto& d : p->deployments()) {
            out.push_back({{p->name(), d->label}, static_cast<double>(d->outstanding.load())});
          }
        }
      });
}

Gateway::~Gateway() {
  admin_pool_->join();
}

upstream::Provider* Gateway::provider_named(const std::string& name) {
  for (auto& p : providers_) {
    if (p->name() == name) return p.get();
  }
  return nullptr;
}

net::awaitable<void> Gateway::handle(http::Request& req, http::ResponseWriter& w) {
  Exchange ex;
  Route route = route_of(req.path());
  if (route == Route::Unknown) {
    // Named, never a temporary: g++ 12 destroys a non-trivial temporary argument of a coroutine
    // twice inside co_await (see docs/cpp-pitfalls.md).
    Error e{ErrorKind::NotFound, "Not found: " + std::string(req.path()), {}};
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  if (route == Route::Admin) {
    co_await admin(req, w, ex);
    co_return;
  }
  if (req.msg.method() != method_of(route)) {
    Error e{ErrorKind::MethodNotAllowed,
            "Method " + std::string(req.msg.method_string()) + " is not allowed on " + std::string(req.path()), {}};
    ex.allow = std::string(bhttp::to_string(method_of(route)));
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  if (route == Route::Health) {
    bhttp::response<bhttp::string_body> res;
    health(req, res);
    co_await w.send(std::move(res));
    log(req, w, ex);
    co_return;
  }
  if (route == Route::Metrics) {
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
    res.set(bhttp::field::content_type, metrics::kExpositionContentType);
    res.set("x-sluice-request-id", req.request_id);
    res.body() = accounting_->registry().render();
    co_await w.send(std::move(res));
    log(req, w, ex);
    co_return;
  }
  if (auto e = accounting_->authenticate(req, ex.charge)) {
    co_await reply_error(req, w, ex, *e);
    co_return;
  }
  if (route == Route::Streams) {
    co_await resume(req, w, ex, req.path().substr(12));
    co_return;
  }
  if (replay_ && (route == Route::Messages || route == Route::Chat) && !req.msg["last-event-id"].empty()) {
    // A client that implements resume repeats its request with the last id it got: the events
    // after it come from the buffer; the request is not sent again. (An empty Last-Event-ID is
    // no id at all, as in EventSource: the request goes upstream as usual.)
    co_await resume(req, w, ex, {});
    co_return;
  }
  if (route == Route::Messages || route == Route::CountTokens) {
    if (!co_await admit_model_request(req, w, ex, route == Route::Messages)) co_return;
  }
  if (route == Route::Chat && !co_await admit_chat_request(req, w, ex)) co_return;
  // One path, two APIs: OpenAI clients send a Bearer token and neither anthropic-version nor
  // x-api-key.
  if (route == Route::Models) {
    auto auth = req.msg[bhttp::field::authorization];
    ex.openai_models = req.msg.find("anthropic-version") == req.msg.end() && req.msg.find("x-api-key") == req.msg.end() &&
                       auth.starts_with("Bearer ");
  }
  co_await proxy(req, w, ex);
}

boost::json::array Gateway::provider_states(bool& any_open) const {
  boost::json::array providers;
  any_open = false;
  for (const auto& p : providers_) {
    boost::json::array deployments;
    for (const auto& d : p->deployments()) {
      auto state = d->breaker.state();
      any_open = any_open || state == upstream::CircuitBreaker::State::Open;
      deployments.push_back(boost::json::object{{"deployment", d->label},
                                                {"breaker", upstream::CircuitBreaker::state_name(state)},
                                                {"outstanding", d->outstanding.load()}});
    }
    providers.push_back(boost::json::object{{"name", p->name()}, {"deployments", std::move(deployments)}});
  }
  return providers;
}

void Gateway::health(http::Request& req, bhttp::response<bhttp::string_body>& res) const {
  bool draining = draining_.load();
  bool any_open = false;
  auto providers = provider_states(any_open);
  boost::json::object body{{"status", draining ? "draining" : (any_open ? "degraded" : "ok")},
                           {"providers", std::move(providers)}};
  if (const auto* shared = accounting_->shared_limits()) {
    // Limits shared through Redis: an unreachable Redis degrades the replica (it is still
    // serving, on local buckets or with 503s, as limits.on_redis_error says).
    const bool up = shared->reachable();
    boost::json::object limits{{"engine", "redis"},
                               {"redis", up ? "ok" : "unreachable"},
                               {"on_redis_error", shared->fail_closed() ? "closed" : "open"},
                               {"settlements_pending", shared->pending_settlements()}};
    if (!up) limits["error"] = shared->last_error();
    body["limits"] = std::move(limits);
    if (!up && !draining) body["status"] = "degraded";
  }
  res.result(draining ? bhttp::status::service_unavailable : bhttp::status::ok);
  res.version(11);
  res.set(bhttp::field::content_type, "application/json");
  res.set("x-sluice-request-id", req.request_id);
  res.body() = boost::json::serialize(body);
}

bhttp::response<bhttp::string_body> Gateway::error_reply(const http::Request& req, const Exchange& ex,
                                                        const Error& e) const {
  auto res = error_response(req.path(), e, req.request_id);
  if (ex.attempts > 0) res.set("x-sluice-attempts", std::to_string(ex.attempts));
  if (ex.exhausted) res.set("x-should-retry", "false");
  if (ex.retry_after_s > 0) res.set("retry-after", std::to_string(ex.retry_after_s));
  if (!ex.allow.empty()) res.set(bhttp::field::allow, ex.allow);
  for (const auto& [name, value] : ex.extra_headers) res.set(name, value);
  for (const auto& [name, value] : ex.response_headers) res.set(name, value);
  return res;
}

net::awaitable<void> Gateway::reply_error(http::Request& req, http::ResponseWriter& w, Exchange& ex, const Error& e) {
  ex.error = kind_name(e.kind);
  auto res = error_reply(req, ex, e);
  accounting_->release(ex.charge, ex.model);
  co_await w.send(std::move(res));
  log(req, w, ex);
}

bhttp::response<bhttp::string_body> Gateway::reject(const http::Rejection& r) {
  auto res = rejection_response(r);
  AccessRecord rec;
  rec.request_id = r.request_id;
  rec.route = std::string(r.target.substr(0, r.target.find('?')));
  rec.status = http_status(r.kind);
  rec.bytes_in = r.bytes_in;
  res.keep_alive(false);  // the server closes after a rejection, and says so
  res.prepare_payload();
  std::ostringstream wire;  // rare path: the exact size of what is sent
  wire << res;
  rec.bytes_out = wire.str().size();
  rec.error = kind_name(r.kind);
  deps_.log.write(rec);
  accounting_->metrics().requests.inc({route_label(rec.route), std::to_string(rec.status), "none", "none"});
  return res;
}

void Gateway::log(const http::Request& req, const http::ResponseWriter& w, Exchange& ex) {
  // A stream still running here never got its end: every attempt failed before the commit
  // point, or the client left and the upstream was cancelled. Whoever resumes it must see an
  // error, never a stream that merely stops.
  if (ex.replay && ex.replay->state() == stream::StreamState::Running) {
    const std::string why = ex.error.empty() ? std::string("cancelled") : ex.error;
    seal_broken_replay(ex, Error{ErrorKind::UpstreamFailed, "the stream ended early (" + why + ")", {}});
  }
  AccessRecord rec;
  rec.request_id = req.request_id;
  rec.method = std::string(req.msg.method_string());
  rec.route = std::string(req.path());
  rec.model = ex.model;
  rec.status = w.status();
  rec.upstream_status = ex.upstream_status;
  rec.attempts = ex.attempts;
  rec.provider = ex.provider;
  auto now = http::Clock::now();
  rec.latency_ms = ms_between(req.received, now);
  if (w.started()) rec.ttfb_ms = ms_between(req.received, w.first_byte_at());
  rec.bytes_in = req.bytes_in;
  rec.bytes_out = w.bytes_out();
  rec.stream = ex.stream;
  rec.error = ex.error;
  if (rec.error.empty() && (w.client_gone() || ex.client_gone)) rec.error = "client_gone";
  rec.upstream_request_id = ex.upstream_request_id;
  rec.stream_id = ex.charge.stream_id;
  if (ex.charge.replayed) rec.replayed = ex.replay_kind;
  rec.recoveries = ex.charge.recoveries;
  if (ex.charge.key) {
    rec.project = ex.charge.key->project;
    rec.key_id = ex.charge.key->id;
  }

  Accounting::Outcome o;
  o.request_id = req.request_id;
  o.route = route_label(rec.route);
  o.model = ex.model;
  o.provider = ex.provider;
  o.error = rec.error;
  o.status = rec.status;
  o.stream = ex.stream;
  o.attempts = ex.attempts;
  o.latency_ms = rec.latency_ms;
  if (rec.ttfb_ms >= 0) o.ttfb_ms = rec.ttfb_ms;
  if (ex.upstream_start) o.upstream_ms = ms_between(*ex.upstream_start, now);
  deps_.log.write(rec);
  accounting_->finish(o, ex.charge);
}

}  // namespace sluice::server
