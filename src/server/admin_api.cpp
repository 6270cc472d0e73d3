// The admin API under /admin/ (docs/admin-api.md): keys, projects and usage as JSON, guarded by
// the admin key. Store and ledger work runs on the gateway's admin thread, never on an I/O
// thread; the reply is written back on the request's own executor.
#include <chrono>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/crypto.h>

#include "common/clock.hpp"
#include "keys/secret.hpp"
#include "server/admin_json.hpp"
#include "server/dashboard_api.hpp"
#include "server/exchange.hpp"

namespace sluice::server {

namespace json = boost::json;

namespace {

struct AdminReply {
  int status = 200;
  json::value body;
  std::optional<Error> error;
};

AdminReply fail(ErrorKind kind, std::string message) { return {0, nullptr, Error{kind, std::move(message), {}}}; }

bool truthy(const std::map<std::string, std::string>& q, const char* name) {
  auto it = q.find(name);
  return it != q.end() && (it->second == "1" || it->second == "true" || it->second.empty());
}

std::optional<json::object> body_object(const std::string& body, AdminReply& error) {
  boost::system::error_code ec;
  auto v = json::parse(body.empty() ? std::string("{}") : body, ec);
  if (ec || !v.is_object()) {
    error = fail(ErrorKind::InvalidRequest, "the request body must be a JSON object");
    return std::nullopt;
  }
  return std::move(v.as_object());
}

json::object key_with_spend(Accounting& acc, const keys::KeyRecord& k) {
  auto o = key_json(k);
  auto spend = acc.budgets().spend("k:" + k.id);
  o["spend"] = {{"day_usd", static_cast<double>(spend.day_micros) / 1e6},
                {"month_usd", static_cast<double>(spend.month_micros) / 1e6}};
  return o;
}

AdminReply create_key(Accounting& acc, const std::string& body) {
  AdminReply err;
  auto o = body_object(body, err);
  if (!o) return err;
  const auto* project = o->if_contains("project");
  if (!project || !project->is_string()) return fail(ErrorKind::InvalidRequest, "project: required string");
  std::string name;
  if (const auto* n = o->if_contains("name"); n && n->is_string()) name = std::string(n->as_string());
  keys::Limits limits;
  if (auto e = read_limits(*o, limits); !e.empty()) return fail(ErrorKind::InvalidRequest, e);
  std::string project_name(project->as_string());
  if (!keys::valid_project_name(project_name)) {
    return fail(ErrorKind::InvalidRequest, "project: 1 to 64 characters of A-Z a-z 0-9 . _ -");
  }
  auto created = acc.directory().create_key(project_name, limits, name, unix_ms(std::chrono::system_clock::now()));
  auto out = key_json(created.record);
  out["key"] = created.secret;  // shown once; only its hash is stored
  return {201, std::move(out), std::nullopt};
}

AdminReply set_project(Accounting& acc, const std::string& name, const std::string& body) {
  if (!keys::valid_project_name(name)) return fail(ErrorKind::InvalidRequest, "project: 1 to 64 characters of A-Z a-z 0-9 . _ -");
  AdminReply err;
  auto o = body_object(body, err);
  if (!o) return err;
  keys::Limits limits;
  for (const auto& p : acc.directory().list_projects()) {
    if (p.name == name) limits = p.limits;  // a PUT changes the fields it names
  }
  if (auto e = read_limits(*o, limits); !e.empty()) return fail(ErrorKind::InvalidRequest, e);
  return {200, project_json(acc.directory().set_project(name, limits, unix_ms(std::chrono::system_clock::now()))), std::nullopt};
}

AdminReply list_projects(Accounting& acc) {
  json::array data;
  for (const auto& p : acc.directory().list_projects()) {
    auto o = project_json(p);
    auto spend = acc.budgets().spend("p:" + p.name);
    o["spend"] = {{"day_usd", static_cast<double>(spend.day_micros) / 1e6},
                  {"month_usd", static_cast<double>(spend.month_micros) / 1e6}};
    data.push_back(std::move(o));
  }
  return {200, json::object{{"data", std::move(data)}}, std::nullopt};
}

AdminReply usage(Accounting& acc, std::string_view query) {
  auto q = query_params(query);
  ledger::UsageFilter f;
  if (auto it = q.find("project"); it != q.end() && !it->second.empty()) f.project = it->second;
  if (auto it = q.find("key"); it != q.end() && !it->second.empty()) f.key_id = it->second;
  if (auto it = q.find("by"); it != q.end()) {
    auto by = parse_group_by(it->second);
    if (!by) return fail(ErrorKind::InvalidRequest, "by: one of day, model, key, project");
    f.by = *by;
  }
  if (auto it = q.find("since"); it != q.end()) {
    auto t = parse_time(it->second);
    if (!t) return fail(ErrorKind::InvalidRequest, "since: YYYY-MM-DD or unix milliseconds");
    f.since_ms = *t;
  }
  if (auto it = q.find("until"); it != q.end()) {
    auto t = parse_time(it->second);
    if (!t) return fail(ErrorKind::InvalidRequest, "until: YYYY-MM-DD or unix milliseconds");
    f.until_ms = *t;
  }
  acc.ledger().flush_for(std::chrono::seconds(2));  // what was answered before this call is in the report
  auto reader = acc.open_usage();
  return {200, usage_report(*reader, f), std::nullopt};
}

AdminReply dispatch(Accounting& acc, bhttp::verb method, std::string_view path, std::string_view query,
                    const std::string& body) {
  auto is = [&](bhttp::verb m, std::string_view p) { return method == m && path == p; };
  constexpr std::string_view kKeys = "/admin/keys/";
  constexpr std::string_view kProjects = "/admin/projects/";
  if (is(bhttp::verb::get, "/admin/keys")) {
    bool all = truthy(query_params(query), "include_revoked");
    json::array data;
    for (const auto& k : acc.directory().list_keys(all)) data.push_back(key_with_spend(acc, k));
    return {200, json::object{{"data", std::move(data)}}, std::nullopt};
  }
  if (is(bhttp::verb::post, "/admin/keys")) return create_key(acc, body);
  if (path.starts_with(kKeys) && path.size() > kKeys.size()) {
    std::string id(path.substr(kKeys.size()));
    if (method == bhttp::verb::get) {
      auto k = acc.directory().find_key(id);
      if (!k) return fail(ErrorKind::NotFound, "no key " + id);
      return {200, key_with_spend(acc, *k), std::nullopt};
    }
    if (method == bhttp::verb::delete_) {
      auto k = acc.directory().find_key(id);
      if (!k) return fail(ErrorKind::NotFound, "no key " + id);
      if (!k->revoked_ms) acc.directory().revoke_key(id, unix_ms(std::chrono::system_clock::now()));
      return {200, key_json(*acc.directory().find_key(id)), std::nullopt};
    }
    return fail(ErrorKind::MethodNotAllowed, "use GET or DELETE on a key");
  }
  if (is(bhttp::verb::get, "/admin/projects")) return list_projects(acc);
  if (path.starts_with(kProjects) && path.size() > kProjects.size()) {
    if (method != bhttp::verb::put) return fail(ErrorKind::MethodNotAllowed, "use PUT to set a project's limits");
    return set_project(acc, std::string(path.substr(kProjects.size())), body);
  }
  if (is(bhttp::verb::get, "/admin/usage")) return usage(acc, query);
  // The dashboard's reads (dashboard_api.hpp).
  if (is(bhttp::verb::get, "/admin/usage/daily")) {
    acc.ledger().flush_for(std::chrono::seconds(2));
    auto db = acc.open_usage();
    auto now = unix_ms(std::chrono::system_clock::now());
    return {200, daily_usage(*db, acc.directory().list_projects(), query_params(query), now), std::nullopt};
  }
  if (is(bhttp::verb::get, "/admin/limits")) return {200, limits_report(acc), std::nullopt};
  if (is(bhttp::verb::get, "/admin/alerts")) return {200, alerts_report(acc.recent_alerts(), query_params(query)), std::nullopt};
  if (is(bhttp::verb::get, "/admin/requests/failed")) {
    acc.ledger().flush_for(std::chrono::seconds(2));
    auto db = acc.open_usage();
    return {200, failures_report(*db, query_params(query)), std::nullopt};
  }
  if (path == "/admin/keys" || path == "/admin/projects" || path == "/admin/usage" || path == "/admin/usage/daily" ||
      path == "/admin/limits" || path == "/admin/alerts" || path == "/admin/requests/failed" || path == "/admin/live") {
    return fail(ErrorKind::MethodNotAllowed, "method " + std::string(bhttp::to_string(method)) + " is not allowed on " + std::string(path));
  }
  return fail(ErrorKind::NotFound, "Not found: " + std::string(path));
}

// Equal in time independent of where the strings differ (and of the admin key's length).
bool same_secret(std::string_view a, std::string_view b) {
  auto ha = keys::hash_secret(a);
  auto hb = keys::hash_secret(b);
  return CRYPTO_memcmp(ha.data(), hb.data(), ha.size()) == 0;
}

}  // namespace

net::awaitable<void> Gateway::admin(http::Request& req, http::ResponseWriter& w, Exchange& ex) {
  std::string_view target = req.path();
  if (target == "/admin/dashboard" || target.starts_with("/admin/dashboard/")) {
    co_await dashboard(req, w, ex);  // the page itself is public; it asks for the key
    co_return;
  }
  if (admin_key_.empty()) {
    Error e{ErrorKind::Forbidden, "the admin API is off: set admin.key in the config or SLUICE_ADMIN_KEY", {}};
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  auto presented = presented_key(req);
  if (presented.empty() || !same_secret(presented, admin_key_)) {
    accounting_->metrics().auth_failures.inc({presented.empty() ? "admin_missing" : "admin_invalid"});
    Error e{ErrorKind::Unauthenticated, "the admin API needs the admin key in x-api-key or Authorization: Bearer", {}};
    co_await reply_error(req, w, ex, e);
    co_return;
  }
  if (target == "/admin/live" && req.msg.method() == bhttp::verb::get) {
    co_await live(req, w, ex);  // in-memory figures only: no need for the admin thread
    co_return;
  }
  auto method = req.msg.method();
  std::string path(req.path());
  std::string query(req.query());
  const std::string& body = req.msg.body();
  Accounting& acc = *accounting_;
  AdminReply reply;
  // A request whose last bytes were written before this call is resumed by that write's
  // completion, already queued on its worker, and appends its ledger row before it awaits
  // anything else (proxy.cpp: log() follows the final write). Once every worker has caught up,
  // the ledger flush of the reports includes it: "what was answered before this call is in the
  // report" holds to the instant.
  if (deps_.workers != nullptr) co_await deps_.workers->catch_up();
  try {
    // On the admin thread: SQLite may wait on a lock; the I/O thread must not.
    reply = co_await net::co_spawn(
        admin_pool_->get_executor(),
        [&]() -> net::awaitable<AdminReply> { co_return dispatch(acc, method, path, query, body); },
        net::use_awaitable);
  } catch (const std::invalid_argument& e) {
    reply = fail(ErrorKind::InvalidRequest, e.what());
  } catch (const std::exception& e) {
    reply = fail(ErrorKind::Unavailable, std::string("the key store or ledger failed: ") + e.what());
  }
  if (reply.error) {
    if (reply.error->kind == ErrorKind::MethodNotAllowed) ex.allow = "GET, POST, PUT, DELETE";
    co_await reply_error(req, w, ex, *reply.error);
    co_return;
  }
  co_await reply_json(req, w, ex, static_cast<unsigned>(reply.status), reply.body);
}

net::awaitable<void> Gateway::reply_json(http::Request& req, http::ResponseWriter& w, Exchange& ex, unsigned status,
                                         const json::value& body) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
  res.set(bhttp::field::content_type, "application/json");
  res.set(bhttp::field::cache_control, "no-store");
  res.set("x-sluice-request-id", req.request_id);
  res.body() = json::serialize(body);
  co_await w.send(std::move(res));
  log(req, w, ex);
}

}  // namespace sluice::server
