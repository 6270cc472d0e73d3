#include "server/gateway.hpp"

#include <sstream>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "providers/anthropic/validate.hpp"
#include "server/exchange.hpp"
#include "server/headers.hpp"

namespace sluice::server {

namespace {

using anthropic_kind = providers::anthropic::RequestKind;

// The routes of the gateway. Matching is exact on the path (the query string is forwarded).
enum class Route { Messages, CountTokens, Models, Health, Unknown };

Route route_of(std::string_view path) {
  if (path == "/v1/messages") return Route::Messages;
  if (path == "/v1/messages/count_tokens") return Route::CountTokens;
  if (path == "/v1/models" || (path.starts_with("/v1/models/") && path.size() > 11)) return Route::Models;
  if (path == "/healthz") return Route::Health;
  return Route::Unknown;
}

bhttp::verb method_of(Route r) {
  return (r == Route::Models || r == Route::Health) ? bhttp::verb::get : bhttp::verb::post;
}

double ms_between(http::Clock::time_point a, http::Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

Gateway::Gateway(const config::Config& cfg, unsigned workers, Deps deps) : deps_(deps) {
  for (const auto& p : cfg.providers) {
    providers_.push_back(std::make_unique<upstream::Provider>(p, workers, deps_.clock, deps_.random));
  }
}

Gateway::~Gateway() = default;

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
  if (route == Route::Messages || route == Route::CountTokens) {
    auto ct = req.msg[bhttp::field::content_type];
    if (!is_json_content_type({ct.data(), ct.size()})) {
      Error e{ErrorKind::UnsupportedMediaType, "Content-Type must be application/json, got '" + std::string(ct) + "'", {}};
      co_await reply_error(req, w, ex, e);
      co_return;
    }
    auto info = providers::anthropic::validate_request(
        req.msg.body(), route == Route::Messages ? anthropic_kind::Messages : anthropic_kind::CountTokens);
    if (!info.ok()) {
      co_await reply_error(req, w, ex, info.error());
      co_return;
    }
    ex.model = std::move(info.value().model);
    ex.stream = info.value().stream;
  }
  co_await proxy(req, w, ex);
}

void Gateway::health(http::Request& req, bhttp::response<bhttp::string_body>& res) const {
  bool draining = draining_.load();
  boost::json::array providers;
  bool any_open = false;
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
  boost::json::object body{{"status", draining ? "draining" : (any_open ? "degraded" : "ok")},
                           {"providers", std::move(providers)}};
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
  return res;
}

net::awaitable<void> Gateway::reply_error(http::Request& req, http::ResponseWriter& w, Exchange& ex, const Error& e) {
  ex.error = kind_name(e.kind);
  auto res = error_reply(req, ex, e);
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
  return res;
}

void Gateway::log(const http::Request& req, const http::ResponseWriter& w, const Exchange& ex) {
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
  deps_.log.write(rec);
}

}  // namespace sluice::server
