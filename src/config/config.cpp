#include "config/config.hpp"

#include <algorithm>

#include "redis/url.hpp"

#include <charconv>

namespace sluice::config {

Config default_config() { return Config{}; }

std::vector<DeploymentConfig> ProviderConfig::all_deployments() const {
  std::vector<DeploymentConfig> out;
  if (!base_url.empty()) out.push_back(DeploymentConfig{base_url, api_key, 1.0});
  out.insert(out.end(), deployments.begin(), deployments.end());
  return out;
}

void apply_upstream(Config& cfg, const std::string& upstream) {
  auto& p = cfg.providers.front();
  if (upstream == "mock") {
    p.kind = ProviderKind::Mock;
    p.name = "mock";
    p.base_url.clear();
    return;
  }
  p.kind = ProviderKind::Anthropic;
  p.base_url = upstream;
}

void apply_listen(Config& cfg, const std::string& listen) {
  std::string host;
  std::string port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      throw ConfigError("listen address '" + listen + "': expected [v6addr]:port");
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw ConfigError("listen address '" + listen + "': expected host:port");
    host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || ptr != port.data() + port.size() || value > 65535 || host.empty()) {
    throw ConfigError("listen address '" + listen + "': bad host or port");
  }
  cfg.server.listen_host = host;
  cfg.server.listen_port = static_cast<std::uint16_t>(value);
}

milliseconds LimitsConfig::effective_lease(const std::vector<ProviderConfig>& providers) const {
  if (lease.count() > 0) return lease;
  milliseconds longest{0};
  for (const auto& p : providers) longest = std::max(longest, p.timeouts.total);
  return longest + milliseconds(60'000);
}

namespace {

void validate_scale_out(const Config& cfg) {
  const bool pg = cfg.ledger.engine == StoreEngine::Postgres || cfg.auth.key_store == StoreEngine::Postgres;
  if (pg && cfg.postgres.url.empty()) {
    throw ConfigError(std::string(cfg.ledger.engine == StoreEngine::Postgres ? "ledger.engine" : "auth.key_store") +
                      ": postgres needs postgres.url (a libpq URI such as postgresql://sluice@127.0.0.1:5432/sluice)");
  }
  if (pg && cfg.postgres.statement_timeout.count() == 0) throw ConfigError("postgres.statement_timeout_ms must be positive");
  if (pg && cfg.postgres.connect_timeout.count() < 1000) {
    throw ConfigError("postgres.connect_timeout_ms must be at least 1000 (libpq counts whole seconds)");
  }
  if (cfg.streams.shared && !cfg.streams.resume) {
    throw ConfigError("streams.engine: redis shares the replay buffers of resume, which streams.resume: false turns off");
  }
  const char* redis_user = cfg.limits.engine == LimitsEngine::Redis ? "limits.engine" : cfg.streams.shared ? "streams.engine" : nullptr;
  if (redis_user) {
    if (cfg.redis.url.empty()) throw ConfigError(std::string(redis_user) + ": redis needs redis.url (redis://host:port/db)");
    std::string why;
    if (!redis::parse_url(cfg.redis.url, why)) throw ConfigError("redis.url: " + why);
    if (cfg.redis.timeout.count() == 0) throw ConfigError("redis.timeout_ms must be positive");
  }
}

}  // namespace

std::string Config::database_path() const {
  if (!ledger.path.empty()) return ledger.path;
  return (data_dir.empty() ? std::string(".") : data_dir) + "/sluice.db";
}

void validate(const Config& cfg) {
  if (!cfg.admin.key.empty() && cfg.admin.key.size() < 16) {
    throw ConfigError("admin.key: must be at least 16 characters (it guards key creation)");
  }
  if (cfg.ledger.commit_window.count() == 0) throw ConfigError("ledger.commit_window_ms must be positive");
  if (cfg.ledger.max_queue == 0) throw ConfigError("ledger.max_queue must be positive");
  validate_scale_out(cfg);
  if (cfg.alerts.large_request_tokens < 0 || cfg.alerts.anomaly_min_tokens < 0 || cfg.alerts.anomaly_factor <= 1 ||
      cfg.alerts.baseline_hours < 1 || cfg.alerts.min_history_hours < 1) {
    throw ConfigError("alerts: thresholds must not be negative, anomaly_factor must exceed 1, hours at least 1");
  }
  if (!cfg.alerts.webhook_url.empty() && !(cfg.alerts.webhook_url.starts_with("http://") ||
                                           cfg.alerts.webhook_url.starts_with("https://"))) {
    throw ConfigError("alerts.webhook_url: expected an http:// or https:// URL");
  }
  if (cfg.providers.empty()) throw ConfigError("providers: at least one provider is required");
  for (std::size_t i = 0; i < cfg.routes.size(); ++i) {
    bool known = false;
    for (const auto& p : cfg.providers) known = known || p.name == cfg.routes[i].provider;
    if (!known) {
      throw ConfigError("routes[" + std::to_string(i) + "].provider: no provider named '" + cfg.routes[i].provider + "'");
    }
  }
  for (std::size_t i = 0; i < cfg.providers.size(); ++i) {
    const auto& p = cfg.providers[i];
    std::string where = "providers[" + std::to_string(i) + "]";
    if (p.kind == ProviderKind::Anthropic || p.kind == ProviderKind::OpenAI) {
      if (!(p.base_url.starts_with("http://") || p.base_url.starts_with("https://"))) {
        throw ConfigError(where + ".base_url: expected an http:// or https:// URL, got '" + p.base_url + "'");
      }
    }
    for (std::size_t d = 0; d < p.deployments.size(); ++d) {
      const auto& dep = p.deployments[d];
      std::string dw = where + ".deployments[" + std::to_string(d) + "]";
      if (!(dep.base_url.starts_with("http://") || dep.base_url.starts_with("https://"))) {
        throw ConfigError(dw + ".base_url: expected an http:// or https:// URL, got '" + dep.base_url + "'");
      }
      if (!(dep.weight > 0)) throw ConfigError(dw + ".weight: must be positive");
    }
    if (p.retry.max_attempts < 1) throw ConfigError(where + ".retry.max_attempts: must be at least 1");
    if (p.retry.budget_ratio < 0) throw ConfigError(where + ".retry.budget_ratio: must not be negative");
    if (p.breaker.consecutive_failures < 1 || p.breaker.half_open_probes < 1) {
      throw ConfigError(where + ".breaker: consecutive_failures and half_open_probes must be at least 1");
    }
    for (std::size_t f = 0; f < p.fallbacks.size(); ++f) {
      const auto& name = p.fallbacks[f].provider;
      bool known = false;
      for (const auto& other : cfg.providers) known = known || (other.name == name && &other != &p);
      if (!known) {
        throw ConfigError(where + ".fallbacks[" + std::to_string(f) + "].provider: no other provider named '" + name + "'");
      }
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (cfg.providers[j].name == p.name) throw ConfigError(where + ".name: duplicate provider name '" + p.name + "'");
    }
    if (p.timeouts.connect.count() == 0 || p.timeouts.first_byte.count() == 0 ||
        p.timeouts.idle.count() == 0 || p.timeouts.total.count() == 0) {
      throw ConfigError(where + ".timeouts: every timeout must be positive");
    }
  }
  if (cfg.server.max_body_bytes == 0) throw ConfigError("server.max_body_bytes must be positive");
  if (cfg.server.max_header_bytes < 1024) throw ConfigError("server.max_header_bytes must be at least 1024");
}

}  // namespace sluice::config
