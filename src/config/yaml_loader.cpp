// YAML -> Config. Every mapping is read through Section, which remembers the keys it consumed,
// so an unknown (misspelt) key is reported with its full path instead of being ignored.
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "config/config.hpp"

namespace sluice::config {
namespace {

class Section {
 public:
  Section(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) throw ConfigError(path_ + ": expected a mapping");
  }
  ~Section() noexcept(false) {
    if (std::uncaught_exceptions() > 0 || !node_ || node_.IsNull()) return;
    for (const auto& kv : node_) {
      auto key = kv.first.as<std::string>();
      if (!used_.count(key)) throw ConfigError("unknown key '" + key + "' in " + path_);
    }
  }

  YAML::Node get(const std::string& key) {
    used_.insert(key);
    if (!node_ || node_.IsNull()) return YAML::Node{};
    return node_[key];
  }
  std::string child(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  template <class T>
  void read(const std::string& key, T& out) {
    auto n = get(key);
    if (!n || n.IsNull()) return;
    try {
      out = n.as<T>();
    } catch (const YAML::Exception&) {
      throw ConfigError(child(key) + ": invalid value '" + (n.IsScalar() ? n.Scalar() : "<non-scalar>") + "'");
    }
  }
  template <class T>
  void read(const std::string& key, std::optional<T>& out) {
    if (auto n = get(key); !n || n.IsNull()) return;
    T v{};
    read(key, v);
    out = v;
  }
  void read_ms(const std::string& key, milliseconds& out) {
    std::int64_t v = out.count();
    read(key, v);
    if (v < 0) throw ConfigError(child(key) + ": must not be negative");
    out = milliseconds(v);
  }

 private:
  YAML::Node node_;
  std::string path_;
  std::set<std::string> used_;
};

ProviderKind parse_kind(const std::string& s, const std::string& path) {
  if (s == "anthropic") return ProviderKind::Anthropic;
  if (s == "mock") return ProviderKind::Mock;
  if (s == "openai") return ProviderKind::OpenAI;
  throw ConfigError(path + ": unknown provider kind '" + s + "' (expected anthropic, openai or mock)");
}

ProviderConfig parse_provider(const YAML::Node& node, const std::string& path) {
  ProviderConfig p;
  Section s(node, path);
  s.read("name", p.name);
  std::string kind = "anthropic";
  s.read("kind", kind);
  p.kind = parse_kind(kind, s.child("kind"));
  if (p.kind == ProviderKind::Mock) p.base_url.clear();
  s.read("base_url", p.base_url);
  s.read("api_key", p.api_key);
  s.read("ca_file", p.ca_file);
  {
    Section t(s.get("timeouts"), s.child("timeouts"));
    t.read_ms("connect_ms", p.timeouts.connect);
    t.read_ms("first_byte_ms", p.timeouts.first_byte);
    t.read_ms("idle_ms", p.timeouts.idle);
    t.read_ms("total_ms", p.timeouts.total);
  }
  {
    Section pool(s.get("pool"), s.child("pool"));
    pool.read("max_idle", p.pool_max_idle);
    pool.read_ms("idle_timeout_ms", p.pool_idle_timeout);
  }
  {
    Section r(s.get("retry"), s.child("retry"));
    r.read("max_attempts", p.retry.max_attempts);
    r.read_ms("base_ms", p.retry.base);
    r.read_ms("cap_ms", p.retry.cap);
    r.read_ms("max_retry_after_ms", p.retry.max_retry_after);
    r.read("budget_ratio", p.retry.budget_ratio);
    r.read_ms("budget_window_ms", p.retry.budget_window);
    r.read("budget_min_retries", p.retry.budget_min_retries);
    r.read("exhausted_should_retry_false", p.retry.exhausted_should_retry_false);
  }
  {
    Section b(s.get("breaker"), s.child("breaker"));
    b.read("consecutive_failures", p.breaker.consecutive_failures);
    b.read("failure_ratio", p.breaker.failure_ratio);
    b.read("min_requests", p.breaker.min_requests);
    b.read_ms("window_ms", p.breaker.window);
    b.read_ms("open_for_ms", p.breaker.open_for);
    b.read("half_open_probes", p.breaker.half_open_probes);
  }
  if (auto deps = s.get("deployments"); deps && !deps.IsNull()) {
    if (!deps.IsSequence()) throw ConfigError(s.child("deployments") + ": expected a list");
    for (std::size_t i = 0; i < deps.size(); ++i) {
      Section d(deps[i], s.child("deployments") + "[" + std::to_string(i) + "]");
      DeploymentConfig dep;
      d.read("base_url", dep.base_url);
      d.read("api_key", dep.api_key);
      d.read("weight", dep.weight);
      p.deployments.push_back(std::move(dep));
    }
  }
  if (auto fbs = s.get("fallbacks"); fbs && !fbs.IsNull()) {
    if (!fbs.IsSequence()) throw ConfigError(s.child("fallbacks") + ": expected a list");
    for (std::size_t i = 0; i < fbs.size(); ++i) {
      FallbackConfig fb;
      if (fbs[i].IsScalar()) {
        fb.provider = fbs[i].as<std::string>();
      } else {
        Section f(fbs[i], s.child("fallbacks") + "[" + std::to_string(i) + "]");
        f.read("provider", fb.provider);
        f.read("model", fb.model);
      }
      p.fallbacks.push_back(std::move(fb));
    }
  }
  return p;
}

AuthMode parse_auth_mode(const std::string& s, const std::string& path) {
  if (s == "auto") return AuthMode::Auto;
  if (s == "keys") return AuthMode::Keys;
  if (s == "passthrough") return AuthMode::Passthrough;
  throw ConfigError(path + ": unknown auth mode '" + s + "' (expected auto, keys or passthrough)");
}

void parse_pricing(const YAML::Node& node, std::vector<PriceConfig>& out) {
  if (!node || node.IsNull()) return;
  if (!node.IsSequence()) throw ConfigError("pricing: expected a list");
  for (std::size_t i = 0; i < node.size(); ++i) {
    std::string path = "pricing[" + std::to_string(i) + "]";
    Section r(node[i], path);
    PriceConfig p;
    r.read("model", p.model);
    if (p.model.empty()) throw ConfigError(path + ".model: required");
    r.read("input", p.input);
    r.read("output", p.output);
    r.read("cache_write", p.cache_write);
    r.read("cache_read", p.cache_read);
    r.read("server_tool_use", p.server_tool_use);
    if (p.input < 0 || p.output < 0 || p.cache_write.value_or(0) < 0 || p.cache_read.value_or(0) < 0 ||
        p.server_tool_use < 0) {
      throw ConfigError(path + ": prices must not be negative");
    }
    out.push_back(std::move(p));
  }
}

bool valid_redaction_action(const std::string& a) {
  return a == "redact" || a == "block" || a == "log" || a == "off";
}

// "type: action" pairs of a mapping, in file order; actions are checked here, types by the engine.
std::vector<std::pair<std::string, std::string>> parse_actions(const YAML::Node& node, const std::string& path) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsMap()) throw ConfigError(path + ": expected a mapping of rule type to action");
  for (const auto& kv : node) {
    auto type = kv.first.as<std::string>();
    auto action = kv.second.IsScalar() ? kv.second.Scalar() : std::string();
    if (!valid_redaction_action(action)) {
      throw ConfigError(path + "." + type + ": action must be redact, block, log or off");
    }
    out.emplace_back(type, action);
  }
  return out;
}

void parse_redaction(Section& top, Config& cfg) {
  Section r(top.get("redaction"), "redaction");
  r.read("enabled", cfg.redaction.enabled);
  cfg.redaction.actions = parse_actions(r.get("rules"), "redaction.rules");
  if (auto custom = r.get("custom"); custom && !custom.IsNull()) {
    if (!custom.IsSequence()) throw ConfigError("redaction.custom: expected a list");
    for (std::size_t i = 0; i < custom.size(); ++i) {
      std::string path = "redaction.custom[" + std::to_string(i) + "]";
      Section c(custom[i], path);
      RedactionRuleConfig rule;
      c.read("type", rule.type);
      c.read("pattern", rule.pattern);
      c.read("action", rule.action);
      if (rule.type.empty() || rule.pattern.empty()) throw ConfigError(path + ": type and pattern are required");
      if (!valid_redaction_action(rule.action)) {
        throw ConfigError(path + ".action: must be redact, block, log or off");
      }
      cfg.redaction.custom.push_back(std::move(rule));
    }
  }
  if (auto projects = r.get("projects"); projects && !projects.IsNull()) {
    if (!projects.IsMap()) throw ConfigError("redaction.projects: expected a mapping of project to rules");
    for (const auto& kv : projects) {
      auto name = kv.first.as<std::string>();
      cfg.redaction.projects.emplace_back(name, parse_actions(kv.second, "redaction.projects." + name));
    }
  }
}

void parse_routes(const YAML::Node& node, std::vector<RouteConfig>& out) {
  if (!node || node.IsNull()) return;
  if (!node.IsSequence()) throw ConfigError("routes: expected a list");
  for (std::size_t i = 0; i < node.size(); ++i) {
    std::string path = "routes[" + std::to_string(i) + "]";
    Section r(node[i], path);
    RouteConfig route;
    r.read("model", route.model);
    r.read("provider", route.provider);
    r.read("upstream_model", route.upstream_model);
    r.read("max_tokens", route.max_tokens);
    r.read("recover", route.recover);
    if (auto projects = r.get("projects"); projects && !projects.IsNull()) {
      if (!projects.IsSequence()) throw ConfigError(path + ".projects: expected a list of project names");
      for (const auto& p : projects) route.projects.push_back(p.as<std::string>());
    }
    if (route.model.empty() || route.provider.empty()) throw ConfigError(path + ": model and provider are required");
    if (route.max_tokens && *route.max_tokens < 1) throw ConfigError(path + ".max_tokens: must be at least 1");
    out.push_back(std::move(route));
  }
}

void parse_context(Section& top, Config& cfg) {
  auto& ctx = cfg.context;
  Section c(top.get("context"), "context");
  c.read("guard", ctx.guard);
  c.read("margin", ctx.margin);
  if (!(ctx.margin >= 0 && ctx.margin <= 10)) throw ConfigError("context.margin: must be between 0 and 10");
  c.read("trim", ctx.trim);
  std::string mode = "upstream";
  c.read("count_tokens", mode);
  if (mode == "upstream") ctx.count_tokens = CountTokensMode::Upstream;
  else if (mode == "local") ctx.count_tokens = CountTokensMode::Local;
  else throw ConfigError("context.count_tokens: must be upstream or local");
  if (auto models = c.get("models"); models && !models.IsNull()) {
    if (!models.IsSequence()) throw ConfigError("context.models: expected a list");
    for (std::size_t i = 0; i < models.size(); ++i) {
      std::string path = "context.models[" + std::to_string(i) + "]";
      Section m(models[i], path);
      ContextWindowConfig w;
      m.read("model", w.model);
      m.read("window", w.window);
      m.read("window_1m", w.window_1m);
      m.read("max_tokens_counts", w.max_tokens_counts);
      if (w.model.empty()) throw ConfigError(path + ".model: required");
      if (w.window < 0 || w.window_1m < 0) throw ConfigError(path + ": windows must not be negative");
      ctx.models.push_back(std::move(w));
    }
  }
  if (auto projects = c.get("projects"); projects && !projects.IsNull()) {
    if (!projects.IsMap()) throw ConfigError("context.projects: expected a mapping of project to settings");
    for (const auto& kv : projects) {
      auto name = kv.first.as<std::string>();
      Section p(kv.second, "context.projects." + name);
      bool trim = ctx.trim;
      p.read("trim", trim);
      ctx.project_trim.emplace_back(name, trim);
    }
  }
}

StoreEngine parse_store_engine(const std::string& s, const std::string& path) {
  if (s == "sqlite") return StoreEngine::Sqlite;
  if (s == "postgres") return StoreEngine::Postgres;
  throw ConfigError(path + ": unknown engine '" + s + "' (expected sqlite or postgres)");
}

// The shared engines of several replicas (docs/deployment.md): postgres, redis, limits.
void parse_scale_out(Section& top, Config& cfg) {
  {
    Section p(top.get("postgres"), "postgres");
    p.read("url", cfg.postgres.url);
    p.read_ms("connect_timeout_ms", cfg.postgres.connect_timeout);
    p.read_ms("statement_timeout_ms", cfg.postgres.statement_timeout);
  }
  {
    Section r(top.get("redis"), "redis");
    r.read("url", cfg.redis.url);
    r.read_ms("timeout_ms", cfg.redis.timeout);
    r.read("prefix", cfg.redis.prefix);
  }
  Section l(top.get("limits"), "limits");
  std::string engine = "local";
  l.read("engine", engine);
  if (engine == "local") cfg.limits.engine = LimitsEngine::Local;
  else if (engine == "redis") cfg.limits.engine = LimitsEngine::Redis;
  else throw ConfigError("limits.engine: unknown engine '" + engine + "' (expected local or redis)");
  std::string policy = "open";
  l.read("on_redis_error", policy);
  if (policy == "open") cfg.limits.on_redis_error = RedisFailurePolicy::Open;
  else if (policy == "closed") cfg.limits.on_redis_error = RedisFailurePolicy::Closed;
  else throw ConfigError("limits.on_redis_error: expected open or closed, got '" + policy + "'");
  l.read_ms("lease_ms", cfg.limits.lease);
}

void parse_streams(Section& top, Config& cfg) {
  Section s(top.get("streams"), "streams");
  auto& st = cfg.streams;
  s.read("resume", st.resume);
  s.read_ms("buffer_ttl_ms", st.buffer_ttl);
  s.read("buffer_memory_mb", st.buffer_memory_mb);
  s.read_ms("grace_ms", st.grace);
  s.read("transparent_resume", st.transparent_resume);
  std::string engine = st.shared ? "redis" : "local";
  s.read("engine", engine);
  if (engine == "local") st.shared = false;
  else if (engine == "redis") st.shared = true;
  else throw ConfigError("streams.engine: unknown engine '" + engine + "' (expected local or redis)");
  s.read("recovery", st.recovery);
  s.read("recovery_attempts", st.recovery_attempts);
  if (auto models = s.get("prefill_models"); models && !models.IsNull()) {
    if (!models.IsSequence()) throw ConfigError("streams.prefill_models: expected a list of model globs");
    st.prefill_models.clear();
    for (const auto& m : models) st.prefill_models.push_back(m.as<std::string>());
  }
  if (st.recovery_attempts < 1 || st.recovery_attempts > 10) throw ConfigError("streams.recovery_attempts: 1 to 10");
  if (st.buffer_memory_mb == 0) throw ConfigError("streams.buffer_memory_mb: must be at least 1");
}

void parse_usage_sections(Section& top, Config& cfg) {
  parse_streams(top, cfg);
  {
    Section a(top.get("auth"), "auth");
    std::string mode = "auto";
    a.read("mode", mode);
    cfg.auth.mode = parse_auth_mode(mode, "auth.mode");
    a.read_ms("key_poll_ms", cfg.auth.key_poll);
    std::string store = "sqlite";
    a.read("key_store", store);
    cfg.auth.key_store = parse_store_engine(store, "auth.key_store");
  }
  {
    Section a(top.get("admin"), "admin");
    a.read("key", cfg.admin.key);
  }
  {
    Section l(top.get("ledger"), "ledger");
    std::string engine = "sqlite";
    l.read("engine", engine);
    cfg.ledger.engine = parse_store_engine(engine, "ledger.engine");
    l.read("path", cfg.ledger.path);
    l.read_ms("commit_window_ms", cfg.ledger.commit_window);
    l.read("max_queue", cfg.ledger.max_queue);
  }
  parse_scale_out(top, cfg);
  parse_pricing(top.get("pricing"), cfg.pricing);
  {
    Section a(top.get("alerts"), "alerts");
    a.read("large_request_tokens", cfg.alerts.large_request_tokens);
    a.read("anomaly_factor", cfg.alerts.anomaly_factor);
    a.read("anomaly_min_tokens", cfg.alerts.anomaly_min_tokens);
    a.read("baseline_hours", cfg.alerts.baseline_hours);
    a.read("min_history_hours", cfg.alerts.min_history_hours);
    a.read("webhook_url", cfg.alerts.webhook_url);
  }
}

// ${VAR} is replaced in scalar values only, after parsing, so comments and keys are never
// touched and an interpolated value cannot change the document's structure.
void interpolate_scalars(YAML::Node node, const EnvLookup& env) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    if (text.find("${") != std::string::npos) node = interpolate_env(text, env);
  } else if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) interpolate_scalars(node[i], env);
  } else if (node.IsMap()) {
    for (auto kv : node) interpolate_scalars(kv.second, env);
  }
}

}  // namespace

Config parse_config(const std::string& yaml_text, const EnvLookup& env) {
  Config cfg = default_config();
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(std::string("invalid YAML: ") + e.what());
  }
  interpolate_scalars(root, env);
  Section top(root, "");
  {
    Section srv(top.get("server"), "server");
    std::string listen;
    srv.read("listen", listen);
    if (!listen.empty()) apply_listen(cfg, listen);
    srv.read("threads", cfg.server.threads);
    srv.read("max_header_bytes", cfg.server.max_header_bytes);
    srv.read("max_body_bytes", cfg.server.max_body_bytes);
    srv.read_ms("header_timeout_ms", cfg.server.header_timeout);
    srv.read_ms("body_timeout_ms", cfg.server.body_timeout);
    srv.read_ms("idle_timeout_ms", cfg.server.idle_timeout);
    srv.read_ms("write_timeout_ms", cfg.server.write_timeout);
    srv.read_ms("drain_timeout_ms", cfg.server.drain_timeout);
  }
  top.read("access_log", cfg.access_log);
  top.read("data_dir", cfg.data_dir);
  if (auto providers = top.get("providers"); providers && !providers.IsNull()) {
    if (!providers.IsSequence() || providers.size() == 0) {
      throw ConfigError("providers: expected a non-empty list");
    }
    cfg.providers.clear();
    for (std::size_t i = 0; i < providers.size(); ++i) {
      cfg.providers.push_back(parse_provider(providers[i], "providers[" + std::to_string(i) + "]"));
    }
  }
  parse_routes(top.get("routes"), cfg.routes);
  {
    Section m(top.get("mock"), "mock");
    m.read("tokens_per_second", cfg.mock.tokens_per_second);
  }
  parse_usage_sections(top, cfg);
  parse_redaction(top, cfg);
  parse_context(top, cfg);
  validate(cfg);
  return cfg;
}

Config load_config_file(const std::string& path, const EnvLookup& env) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return parse_config(ss.str(), env);
  } catch (const ConfigError& e) {
    throw ConfigError(path + ": " + e.what());
  }
}

}  // namespace sluice::config
