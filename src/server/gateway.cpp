#include "server/gateway.hpp"

#include <boost/beast/http/empty_body.hpp>

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

Gateway::Gateway(const config::Config& cfg, unsigned workers, AccessLog& log)
    : provider_(cfg.providers.front()),
      client_(std::make_unique<upstream::UpstreamClient>(cfg.providers.front(), workers)),
      log_(log) {}

net::awaitable<void> Gateway::handle(http::Request& req, http::ResponseWriter& w) {
  Exchange ex;
  Route route = route_of(req.path());
  if (route == Route::Unknown) {
    co_await reply_error(req, w, ex, Error{ErrorKind::NotFound, "Not found: " + std::string(req.path()), {}});
    co_return;
  }
  if (req.msg.method() != method_of(route)) {
    Error e{ErrorKind::MethodNotAllowed,
            "Method " + std::string(req.msg.method_string()) + " is not allowed on " + std::string(req.path()), {}};
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  if (route == Route::Health) {
    bool draining = draining_.load();
    bhttp::response<bhttp::string_body> res{draining ? bhttp::status::service_unavailable : bhttp::status::ok, 11};
    res.set(bhttp::field::content_type, "application/json");
    res.set("x-sluice-request-id", req.request_id);
    res.body() = draining ? R"({"status":"draining"})" : R"({"status":"ok"})";
    co_await w.send(std::move(res));
    log(req, w, ex);
    co_return;
  }
  if (route == Route::Messages || route == Route::CountTokens) {
    auto ct = req.msg[bhttp::field::content_type];
    if (!is_json_content_type({ct.data(), ct.size()})) {
      co_await reply_error(req, w, ex,
                           Error{ErrorKind::UnsupportedMediaType,
                                 "Content-Type must be application/json, got '" + std::string(ct) + "'", {}});
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

net::awaitable<void> Gateway::proxy(http::Request& req, http::ResponseWriter& w, Exchange& ex) {
  upstream::UpstreamRequest ureq;
  ureq.method = req.msg.method();
  ureq.target = std::string(req.msg.target());
  ureq.headers = upstream_request_headers(req.msg.base(), provider_.api_key);
  ureq.body = std::move(req.msg.body());
  ureq.streaming = ex.stream;
  auto sent = co_await client_->send(req.worker, ureq);
  ex.attempts = ureq.attempts;
  if (!sent.ok()) {
    co_await reply_error(req, w, ex, sent.error());
    co_return;
  }
  auto& res = *sent.value();
  ex.upstream_status = static_cast<int>(res.status());
  if (auto rid = res.head().find("request-id"); rid != res.head().end()) ex.upstream_request_id = std::string(rid->value());
  auto ct = res.head()[bhttp::field::content_type];
  if (is_event_stream({ct.data(), ct.size()})) {
    ex.stream = true;
    co_await relay_stream(req, res, w, ex);
  } else {
    co_await relay_body(req, res, w, ex);
  }
  log(req, w, ex);
}

net::awaitable<void> Gateway::reply_error(http::Request& req, http::ResponseWriter& w, Exchange& ex, const Error& e) {
  ex.error = kind_name(e.kind);
  co_await w.send(error_response(req.path(), e, req.request_id));
  log(req, w, ex);
}

bhttp::response<bhttp::string_body> Gateway::reject(const http::Rejection& r) {
  Error e{r.kind, r.message, {}};
  auto res = error_response(r.target, e, r.request_id);
  AccessRecord rec;
  rec.request_id = r.request_id;
  rec.route = std::string(r.target.substr(0, r.target.find('?')));
  rec.status = http_status(r.kind);
  rec.bytes_in = r.bytes_in;
  rec.bytes_out = res.body().size();
  rec.error = kind_name(r.kind);
  log_.write(rec);
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
  auto now = http::Clock::now();
  rec.latency_ms = ms_between(req.received, now);
  if (w.started()) rec.ttfb_ms = ms_between(req.received, w.first_byte_at());
  rec.bytes_in = req.bytes_in;
  rec.bytes_out = w.bytes_out();
  rec.stream = ex.stream;
  rec.error = ex.error;
  if (rec.error.empty() && w.client_gone()) rec.error = "client_gone";
  rec.upstream_request_id = ex.upstream_request_id;
  log_.write(rec);
}

}  // namespace sluice::server
