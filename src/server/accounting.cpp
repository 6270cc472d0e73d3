#include "server/accounting.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "common/ids.hpp"
#include "server/stores.hpp"

namespace sluice::server {

namespace {

namespace sc = std::chrono;
using stages::meter::Usage;

stages::ratelimit::Limits rate_limits(const keys::Limits& l) {
  return {l.rpm, l.tpm, l.concurrency};
}

stages::budget::Budget budget_of(const keys::Limits& l) { return {l.budget_usd_day, l.budget_usd_month}; }

}  // namespace

std::string_view presented_key(const http::Request& req) {
  auto key = req.msg["x-api-key"];
  if (!key.empty()) return {key.data(), key.size()};
  auto auth = req.msg[boost::beast::http::field::authorization];
  std::string_view a{auth.data(), auth.size()};
  if (a.size() > 7 && (a.substr(0, 7) == "Bearer " || a.substr(0, 7) == "bearer ")) {
    a.remove_prefix(7);
    while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
    return a;
  }
  return {};
}

namespace {

std::string rfc3339(sc::system_clock::time_point t) {
  std::time_t secs = sc::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "$5.00", "$0.0001", "$0.000129": exact to the micro-dollar, at least two decimals.
std::string usd(std::int64_t micros) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "$%lld.%06lld", static_cast<long long>(micros / 1'000'000),
                static_cast<long long>(micros % 1'000'000));
  std::string s = buf;
  while (s.size() > s.find('.') + 3 && s.back() == '0') s.pop_back();
  return s;
}

std::string count(double v) { return std::to_string(static_cast<std::int64_t>(std::floor(v))); }

alerts::Settings alert_settings(const config::AlertsConfig& a) {
  alerts::Settings s;
  s.large_request_tokens = a.large_request_tokens;
  s.anomaly_factor = a.anomaly_factor;
  s.anomaly_min_tokens = a.anomaly_min_tokens;
  s.baseline_hours = a.baseline_hours;
  s.min_history_hours = a.min_history_hours;
  s.webhook_url = a.webhook_url;
  return s;
}

}  // namespace

stages::meter::PriceTable price_table(const std::vector<config::PriceConfig>& rules) {
  using stages::meter::nanos_per_token;
  std::vector<stages::meter::PriceRule> all;
  for (const auto& r : rules) {
    stages::meter::Price p;
    p.input_nanos = nanos_per_token(r.input);
    p.output_nanos = nanos_per_token(r.output);
    p.cache_write_nanos = nanos_per_token(r.cache_write.value_or(r.input * 1.25));
    p.cache_read_nanos = nanos_per_token(r.cache_read.value_or(r.input * 0.1));
    p.server_tool_use_nanos = std::llround(r.server_tool_use * 1e9);
    all.push_back({r.model, p});
  }
  for (auto& r : stages::meter::PriceTable::default_rules()) all.push_back(std::move(r));
  return stages::meter::PriceTable(std::move(all));
}

const std::string& Accounting::Charge::project() const {
  static const std::string none;
  return key ? key->project : none;
}

Accounting::Accounting(const config::Config& cfg, const Clock& clock)
    : clock_(clock),
      mode_(cfg.auth.mode),
      baseline_hours_(cfg.alerts.baseline_hours),
      cfg_(cfg),
      metrics_(registry_),
      prices_(price_table(cfg.pricing)),
      directory_(open_key_store(cfg), key_store_label(cfg), cfg.auth.key_poll),
      ledger_(open_ledger(cfg)),
      limiters_(clock),
      shared_(cfg.limits.engine == config::LimitsEngine::Redis ? std::make_unique<SharedLimits>(cfg, registry_)
                                                                : nullptr),
      budgets_(clock),
      detector_(alert_settings(cfg.alerts), clock),
      notifier_(alert_settings(cfg.alerts)),
      recent_alerts_(200),
      live_(clock) {
  seed_from_ledger();
  register_callbacks();
}

Accounting::~Accounting() = default;  // the ledger's destructor commits what is queued

std::unique_ptr<ledger::UsageReader> Accounting::open_usage() const { return open_usage_reader(cfg_); }

void Accounting::seed_from_ledger() {
  // Spend already in the ledger this UTC day and month, so a restart does not reset budgets.
  auto reader = open_usage();
  auto wall = clock_.wall_now();
  auto day = unix_ms(stages::budget::Period::start_of_day(wall));
  auto month = unix_ms(stages::budget::Period::start_of_month(wall));
  auto seed = [&](const auto& by_month, const auto& by_day, const char* prefix) {
    for (const auto& [id, micros] : by_month) {
      auto d = by_day.find(id);
      budgets_.seed(prefix + id, d == by_day.end() ? 0 : d->second, micros);
    }
  };
  seed(reader->cost_by_project_since(month), reader->cost_by_project_since(day), "p:");
  seed(reader->cost_by_key_since(month), reader->cost_by_key_since(day), "k:");
  // And the alert baselines: the hours of history the anomaly detector looks back on.
  auto since = unix_ms(wall) - static_cast<std::int64_t>(baseline_hours_ + 1) * 3'600'000;
  for (const auto& h : reader->tokens_by_project_hour(since)) detector_.seed(h.project, h.hour, h.tokens);
}

void Accounting::register_callbacks() {
  registry_.gauge_callback("sluice_active_streams", "Streams being relayed now", {},
                           [this](std::vector<metrics::Sample>& out) {
                             out.push_back({{}, static_cast<double>(active_streams_.load())});
                           });
  registry_.counter_callback("sluice_ledger_rows_total", "Ledger rows by state (written, dropped)", {"state"},
                             [this](std::vector<metrics::Sample>& out) {
                               auto s = ledger_->stats();
                               out.push_back({{"written"}, static_cast<double>(s.written)});
                               out.push_back({{"dropped"}, static_cast<double>(s.dropped)});
                             });
  registry_.gauge_callback("sluice_ledger_queue_rows", "Ledger rows waiting for the writer", {},
                           [this](std::vector<metrics::Sample>& out) {
                             out.push_back({{}, static_cast<double>(ledger_->stats().queued)});
                           });
  registry_.gauge_callback("sluice_keys_active", "Active virtual keys", {}, [this](std::vector<metrics::Sample>& out) {
    out.push_back({{}, static_cast<double>(directory_.current()->active_key_count())});
  });
  // A failing store (SQLite locked, PostgreSQL down) shows here before anyone misses a row or a key.
  registry_.counter_callback("sluice_ledger_write_errors_total", "Failed ledger batch writes (each retried)", {},
                             [this](std::vector<metrics::Sample>& out) {
                               out.push_back({{}, static_cast<double>(ledger_->stats().write_errors)});
                             });
  registry_.counter_callback("sluice_keys_reload_failures_total",
                             "Failed reloads of the key store (the previous keys stay in force)", {},
                             [this](std::vector<metrics::Sample>& out) {
                               out.push_back({{}, static_cast<double>(directory_.reload_failures())});
                             });
  registry_.counter_callback("sluice_alert_webhooks_total", "Alert webhook deliveries by result", {"result"},
                             [this](std::vector<metrics::Sample>& out) {
                               auto s = notifier_.stats();
                               out.push_back({{"delivered"}, static_cast<double>(s.delivered)});
                               out.push_back({{"failed"}, static_cast<double>(s.failed)});
                               out.push_back({{"dropped"}, static_cast<double>(s.dropped)});
                             });
}

std::optional<Error> Accounting::authenticate(const http::Request& req, Charge& c) {
  c.snapshot = directory_.current();
  bool required = mode_ == config::AuthMode::Keys ||
                  (mode_ == config::AuthMode::Auto && c.snapshot->keys_configured);
  if (!required) return std::nullopt;
  auto secret = presented_key(req);
  if (secret.empty()) {
    metrics_.auth_failures.inc({"missing"});
    return Error{ErrorKind::Unauthenticated,
                 "x-api-key header is required: send a sluice key in x-api-key or Authorization: Bearer", {}};
  }
  c.key = c.snapshot->find(secret);
  if (!c.key) {
    metrics_.auth_failures.inc({"invalid"});
    return Error{ErrorKind::Unauthenticated, "invalid x-api-key: unknown or revoked sluice key", {}};
  }
  return std::nullopt;
}

bool Accounting::limits_tokens(const Charge& c) const {
  if (!c.key) return false;
  if (c.key->limits.tpm) return true;
  const keys::ProjectRecord* project = c.snapshot->project(c.key->project);
  return project && project->limits.tpm;
}

std::optional<Error> Accounting::check_budgets(const Charge& c, const keys::Limits& project_limits, Headers& headers) {
  // Budgets first: a spent budget is final for the period, a rate limit only for a moment.
  auto over_budget = [&](const std::string& id, const keys::Limits& l, const char* scope,
                         const std::string& name) -> std::optional<Error> {
    auto check = budgets_.check(id, budget_of(l));
    if (check.ok) return std::nullopt;
    metrics_.budget_refusals.inc({scope, check.period});
    headers.emplace_back("x-sluice-budget-reset", rfc3339(clock_.wall_now() + check.resets_in));
    return Error{ErrorKind::BudgetExhausted,
                 std::string(scope) + " '" + name + "' has spent " + usd(check.spent_micros) + " of its " +
                     (std::string_view(check.period) == "day" ? "daily" : "monthly") + " budget of " +
                     usd(check.limit_micros) + "; it resets in " +
                     std::to_string((check.resets_in.count() + 3599) / 3600) + " h",
                 {}};
  };
  if (auto e = over_budget("p:" + c.key->project, project_limits, "project", c.key->project)) return e;
  return over_budget("k:" + c.key->id, c.key->limits, "key", c.key->id);

}

net::awaitable<void> Accounting::admit(std::int64_t tokens, Charge& c, Headers& headers, std::optional<Error>& error) {
  error.reset();
  if (!c.key) co_return;  // passthrough: the provider's own limits apply
  const keys::ProjectRecord* project = c.snapshot->project(c.key->project);
  keys::Limits project_limits = project ? project->limits : keys::Limits{};
  if (auto e = check_budgets(c, project_limits, headers)) {
    error = std::move(e);
    co_return;
  }

  stages::ratelimit::Refusal refusal;
  if (shared_) {
    stages::ratelimit::SharedTicket ticket;
    if (rate_limits(c.key->limits).any()) ticket.scopes.push_back({"k:" + c.key->id, rate_limits(c.key->limits)});
    if (rate_limits(project_limits).any()) ticket.scopes.push_back({"p:" + c.key->project, rate_limits(project_limits)});
    if (ticket.scopes.empty()) co_return;
    ticket.member = random_id("rl_", 24);
    ticket.tokens = static_cast<double>(tokens);
    SharedLimits::Answer answer = co_await shared_->admit(ticket);
    if (answer.status == SharedLimits::Status::Admitted) {
      c.admitted.shared = stages::ratelimit::SharedReservation(shared_.get(), std::move(ticket));
      co_return;
    }
    if (answer.status == SharedLimits::Status::Refused) {
      error = refusal_error(answer.refusal, tokens, c, headers);
      co_return;
    }
    shared_->count_fallback(shared_->fail_closed());
    if (shared_->fail_closed()) {
      headers.emplace_back("retry-after", "1");
      error = Error{ErrorKind::Unavailable,
                    "rate limits are shared through Redis, which is unreachable; this gateway refuses requests "
                    "until it is back (limits.on_redis_error: closed)",
                    answer.error};
      co_return;
    }
    // Fail open: this replica's own buckets hold the limits until Redis is back.
  }
  if (limiters_.admit(c.key->id, rate_limits(c.key->limits), c.key->project, rate_limits(project_limits),
                      static_cast<double>(tokens), c.admitted, refusal)) {
    co_return;
  }
  error = refusal_error(refusal, tokens, c, headers);
}

Error Accounting::refusal_error(const stages::ratelimit::Refusal& refusal, std::int64_t tokens, const Charge& c,
                                Headers& headers) {
  const char* limit = stages::ratelimit::limit_name(refusal.limit);
  metrics_.rate_limited.inc({refusal.scope, limit});
  std::string name = std::string(refusal.scope) == "key" ? c.key->id : c.key->project;
  std::string capacity = refusal.capacity ? count(*refusal.capacity) : "?";
  if (refusal.never_fits) {
    return Error{ErrorKind::InvalidRequest,
                 "this request may use up to " + std::to_string(tokens) +
                     " tokens (estimated input + max_tokens), more than the " + refusal.scope + " '" + name +
                     "' may use per minute (" + capacity + "); lower max_tokens or raise the limit",
                 {}};
  }
  auto wait_ms = std::max<std::int64_t>(refusal.retry_after.count(), 1);
  auto wait_s = std::clamp<std::int64_t>((wait_ms + 999) / 1000, 1, 60);  // the SDKs honour up to 60 s
  auto reset = rfc3339(clock_.wall_now() + sc::milliseconds(wait_ms));
  headers.emplace_back("retry-after", std::to_string(wait_s));
  headers.emplace_back("retry-after-ms", std::to_string(wait_ms));
  headers.emplace_back("x-sluice-ratelimit-scope", refusal.scope);
  headers.emplace_back("x-sluice-ratelimit-limit", limit);
  headers.emplace_back("x-sluice-ratelimit-reset", reset);
  if (refusal.limit == stages::ratelimit::LimitKind::Rpm) {
    headers.emplace_back("anthropic-ratelimit-requests-limit", capacity);
    headers.emplace_back("anthropic-ratelimit-requests-remaining", "0");
    headers.emplace_back("anthropic-ratelimit-requests-reset", reset);
  } else if (refusal.limit == stages::ratelimit::LimitKind::Tpm) {
    headers.emplace_back("anthropic-ratelimit-tokens-limit", capacity);
    headers.emplace_back("anthropic-ratelimit-tokens-remaining", "0");
    headers.emplace_back("anthropic-ratelimit-tokens-reset", reset);
  }
  std::string what = refusal.limit == stages::ratelimit::LimitKind::Concurrency
                         ? capacity + " concurrent requests"
                         : capacity + (refusal.limit == stages::ratelimit::LimitKind::Rpm ? " requests" : " tokens") +
                               " per minute";
  return Error{ErrorKind::RateLimited,
               "rate limit exceeded: " + std::string(refusal.scope) + " '" + name + "' is limited to " + what +
                   "; retry after " + std::to_string(wait_s) + " s",
               {}};
}

void Accounting::release(Charge& c, std::string_view model) {
  if (c.released) return;
  c.released = true;
  c.usage = c.replayed ? stages::meter::Usage{} : c.body_usage ? *c.body_usage : c.stream.usage();
  if (c.usage_guessed) c.usage.estimated = true;
  c.admitted.settle(static_cast<double>(c.usage.total_tokens()));
  if (!c.metered) return;
  c.cost_micros = prices_.cost_micros(c.price_model.empty() ? model : std::string_view(c.price_model), c.usage).value_or(0);
  if (c.key) {
    budgets_.charge("p:" + c.key->project, c.cost_micros);
    budgets_.charge("k:" + c.key->id, c.cost_micros);
  }
}

void Accounting::finish(const Outcome& o, Charge& c) {
  const std::string_view project = c.project().empty() ? std::string_view("none") : std::string_view(c.project());
  const std::string_view model = c.metered ? models_.label(o.model) : std::string_view("none");
  char status[8];
  auto status_end = std::to_chars(status, status + sizeof status, o.status).ptr;
  metrics_.requests.inc({o.route, std::string_view(status, static_cast<std::size_t>(status_end - status)), model, project});
  metrics_.duration.observe({o.route}, o.latency_ms / 1000.0);
  if (o.ttfb_ms) metrics_.ttfb.observe({o.route}, *o.ttfb_ms / 1000.0);
  metrics_.overhead.observe({o.route}, std::max(0.0, o.latency_ms - o.upstream_ms) / 1000.0);
  if (o.route.starts_with("/v1/messages") || o.route == std::string_view("/v1/chat/completions")) {
    live_.record(o.latency_ms, o.ttfb_ms, o.status >= 400 || !o.error.empty());
  }
  release(c, o.model);  // if nothing did before the last byte
  if (!c.metered) return;

  const Usage& u = c.usage;
  const std::int64_t cost = c.cost_micros;
  if (u.total_tokens() > 0 || u.server_tool_uses > 0) {
    const std::pair<const char*, std::int64_t> types[] = {{"input", u.input_tokens},
                                                          {"output", u.output_tokens},
                                                          {"cache_creation", u.cache_creation_tokens},
                                                          {"cache_read", u.cache_read_tokens}};
    for (const auto& [type, n] : types) {
      // Input and output are observed for every answer; cache types only when the request used
      // the cache, so their histograms describe cached requests rather than a heap of zeros.
      bool cache = type[0] == 'c';
      if (!cache || n > 0) metrics_.tokens.observe({project, type}, static_cast<double>(n));
      if (n > 0) metrics_.tokens_total.inc({project, model, type}, static_cast<double>(n));
    }
    if (cost > 0) metrics_.cost.inc({project, model}, static_cast<double>(cost) / 1e6);
  }
  if (u.estimated) metrics_.estimated.inc({project});
  const std::int64_t input_seen = u.input_tokens + u.cache_creation_tokens + u.cache_read_tokens;
  if (!u.estimated && input_seen > 0 && c.input_estimate > 0) {
    metrics_.estimate_ratio.observe({model}, static_cast<double>(input_seen) / static_cast<double>(c.input_estimate));
  }

  ledger::Row row;
  row.ts_ms = unix_ms(clock_.wall_now());
  row.request_id = o.request_id;
  row.project = c.project();
  row.key_id = c.key ? c.key->id : "";
  row.model = o.model.substr(0, 200);  // a view: one copy, into the row
  row.provider = o.provider;
  row.route = o.route;
  row.status = o.status;
  row.stream = o.stream;
  row.attempts = o.attempts;
  row.input_tokens = u.input_tokens;
  row.output_tokens = u.output_tokens;
  row.cache_creation_tokens = u.cache_creation_tokens;
  row.cache_read_tokens = u.cache_read_tokens;
  row.server_tool_uses = u.server_tool_uses;
  row.cost_micros = cost;
  row.latency_ms = o.latency_ms;
  row.ttft_ms = o.ttfb_ms;
  row.estimated = u.estimated;
  row.redactions = c.redactions;
  row.redaction_types = std::move(c.redaction_types);
  row.error = o.error;
  row.stream_id = std::move(c.stream_id);
  row.replayed = c.replayed;
  row.recoveries = c.recoveries;
  ledger_->append(std::move(row));

  for (auto& alert : detector_.observe(c.project(), c.key ? c.key->id : "", o.request_id, o.model, u.total_tokens())) {
    metrics_.alerts.inc({alert.kind});
    recent_alerts_.add(alert);
    notifier_.publish(alert);
  }
}

}  // namespace sluice::server
