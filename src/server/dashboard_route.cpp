// The dashboard's routes: its static files under /admin/dashboard (embedded at build time,
// dashboard/assets.hpp) and GET /admin/live, the live snapshot it polls every few seconds.
// The files are public (they hold no data; the page asks for the admin key and sends it as a
// header with each API call); /admin/live is behind the admin key like the rest of /admin/.
#include <boost/json/serialize.hpp>

#include "common/clock.hpp"
#include "dashboard/assets.hpp"
#include "server/admin_json.hpp"
#include "server/dashboard_api.hpp"
#include "server/exchange.hpp"

namespace sluice::server {

namespace {

// The page loads only its own files and talks only to this gateway.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

std::string_view asset_name(std::string_view path) {
  constexpr std::string_view kPrefix = "/admin/dashboard";
  path.remove_prefix(kPrefix.size());
  if (path.empty() || path == "/") return "index.html";
  return path.substr(1);
}

}  // namespace

net::awaitable<void> Gateway::dashboard(http::Request& req, http::ResponseWriter& w, Exchange& ex) {
  if (req.msg.method() != bhttp::verb::get) {
    Error e{ErrorKind::MethodNotAllowed, "the dashboard's files are read with GET", {}};
    ex.allow = "GET";
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  bhttp::response<bhttp::string_body> res{bhttp::status::ok, 11};
  res.set("x-sluice-request-id", req.request_id);
  res.set("x-content-type-options", "nosniff");
  res.set("referrer-policy", "no-referrer");
  res.set(bhttp::field::cache_control, "no-cache");
  if (dashboard::assets().empty()) {
    res.result(bhttp::status::service_unavailable);
    res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    res.body() = std::string(dashboard::kNotBuilt) + "\n";
    ex.error = "dashboard_not_built";
  } else if (const auto* asset = dashboard::find_asset(asset_name(req.path()))) {
    res.set(bhttp::field::content_type, asset->content_type);
    res.set("content-security-policy", kContentSecurityPolicy);
    res.set("x-frame-options", "DENY");
    res.body() = std::string(asset->body);
  } else {
    Error e{ErrorKind::NotFound, "no dashboard file " + std::string(req.path()), {}};
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  co_await w.send(std::move(res));
  log(req, w, ex);
}

net::awaitable<void> Gateway::live(http::Request& req, http::ResponseWriter& w, Exchange& ex) {
  boost::json::object body;
  std::string bad_input;
  try {
    body = live_report(accounting_->live(), query_params(req.query()), accounting_->active_streams().load(),
                       accounting_->ledger().stats());
  } catch (const std::invalid_argument& e) {
    bad_input = e.what();
  }
  if (!bad_input.empty()) {
    Error e{ErrorKind::InvalidRequest, bad_input, {}};
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  bool any_open = false;
  body["providers"] = provider_states(any_open);
  body["status"] = draining_.load() ? "draining" : (any_open ? "degraded" : "ok");
  body["ts_ms"] = unix_ms(deps_.clock.wall_now());
  boost::json::value v = std::move(body);
  co_await reply_json(req, w, ex, 200, v);
}

}  // namespace sluice::server
