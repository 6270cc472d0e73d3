#include "config/config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

namespace sluice::config {
namespace {

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Config, EmbeddedDefaultsMatchTheDesign) {
  auto cfg = default_config();
  EXPECT_EQ(cfg.server.listen_host, "127.0.0.1");
  EXPECT_EQ(cfg.server.listen_port, 8787);
  ASSERT_EQ(cfg.providers.size(), 1u);
  EXPECT_EQ(cfg.providers[0].base_url, "https://api.anthropic.com");
  EXPECT_EQ(cfg.providers[0].timeouts.connect.count(), 3000);
  EXPECT_EQ(cfg.providers[0].timeouts.first_byte.count(), 10000);
  EXPECT_EQ(cfg.providers[0].timeouts.idle.count(), 30000);
  EXPECT_EQ(cfg.server.max_body_bytes, 32ull * 1024 * 1024);
}

TEST(Config, ExampleFileLoads) {
  auto cfg = load_config_file(std::string(SLUICE_SOURCE_DIR) + "/examples/sluice.yaml",
                              fake_env({{"ANTHROPIC_API_KEY", "sk-from-env"}}));
  EXPECT_EQ(cfg.providers[0].api_key, "sk-from-env");
  EXPECT_EQ(cfg.server.listen_port, 8787);
  EXPECT_EQ(cfg.server.drain_timeout.count(), 30000);
}

TEST(Config, ExampleFileLoadsWithoutTheKey) {
  auto cfg = load_config_file(std::string(SLUICE_SOURCE_DIR) + "/examples/sluice.yaml", fake_env({}));
  EXPECT_EQ(cfg.providers[0].api_key, "");
  // The embedded engines by default; the shared ones are documented beside them.
  EXPECT_EQ(cfg.ledger.engine, StoreEngine::Sqlite);
  EXPECT_EQ(cfg.auth.key_store, StoreEngine::Sqlite);
  EXPECT_EQ(cfg.limits.engine, LimitsEngine::Local);
  EXPECT_EQ(cfg.limits.on_redis_error, RedisFailurePolicy::Open);
  EXPECT_EQ(cfg.redis.timeout.count(), 250);
  EXPECT_EQ(cfg.redis.prefix, "sluice:");
  EXPECT_EQ(cfg.postgres.statement_timeout.count(), 10000);
  EXPECT_EQ(cfg.ledger.max_queue, 200000u);
}

TEST(Config, ScaleOutEnginesFromTheExampleWithEnvironment) {
  // The documented way to run replicas: the example file plus three environment variables...
  std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/examples/sluice.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  auto set = [&](const std::string& from, const std::string& to) {
    auto at = yaml.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    yaml.replace(at, from.size(), to);
  };
  // ...and one line per engine.
  set("engine: sqlite                  # sqlite | postgres", "engine: postgres                # sqlite | postgres");
  set("key_store: sqlite", "key_store: postgres");
  set("engine: local ", "engine: redis ");
  auto cfg = parse_config(yaml, fake_env({{"SLUICE_REDIS_URL", "redis://10.0.0.2:6379/1"},
                                          {"SLUICE_POSTGRES_URL", "postgresql://sluice@10.0.0.3/sluice"}}));
  EXPECT_EQ(cfg.ledger.engine, StoreEngine::Postgres);
  EXPECT_EQ(cfg.auth.key_store, StoreEngine::Postgres);
  EXPECT_EQ(cfg.limits.engine, LimitsEngine::Redis);
  EXPECT_EQ(cfg.redis.url, "redis://10.0.0.2:6379/1");
  EXPECT_EQ(cfg.postgres.url, "postgresql://sluice@10.0.0.3/sluice");
  // The lease of a concurrency slot outlives the longest request.
  EXPECT_EQ(cfg.limits.effective_lease(cfg.providers).count(), 600'000 + 60'000);
}

TEST(Config, ScaleOutMistakesAreClearErrorsAtStartUp) {
  auto fails_with = [](const std::string& yaml, const std::string& needle) {
    try {
      parse_config(yaml, fake_env({}));
      ADD_FAILURE() << "accepted: " << yaml;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  fails_with("ledger: {engine: postgres}\n", "postgres.url");
  fails_with("auth: {key_store: postgres}\n", "postgres.url");
  fails_with("ledger: {engine: mysql}\n", "expected sqlite or postgres");
  fails_with("limits: {engine: redis}\n", "redis.url");
  fails_with("limits: {engine: memcached}\n", "expected local or redis");
  fails_with("limits: {engine: redis, on_redis_error: maybe}\nredis: {url: 'redis://h'}\n", "open or closed");
  fails_with("limits: {engine: redis}\nredis: {url: 'rediss://h:1'}\n", "redis.url");
  fails_with("streams: {engine: redis}\n", "streams.engine: redis needs redis.url");
  fails_with("streams: {engine: disk}\n", "expected local or redis");
  fails_with("streams: {engine: redis, resume: false}\nredis: {url: 'redis://h'}\n", "streams.resume: false");
  fails_with("limits: {engine: redis}\nredis: {url: 'redis://h', timeout_ms: 0}\n", "timeout_ms");
  fails_with("redis: {ulr: x}\n", "unknown key 'ulr'");
  fails_with("ledger: {max_queue: 0}\n", "max_queue");
  fails_with("ledger: {engine: postgres}\npostgres: {url: x, connect_timeout_ms: 10}\n", "connect_timeout_ms");
  auto ok = parse_config("limits: {engine: redis, lease_ms: 5000}\nredis: {url: 'redis://h'}\n", fake_env({}));
  EXPECT_EQ(ok.limits.effective_lease(ok.providers).count(), 5000);
}

TEST(Config, InterpolationForms) {
  auto env = fake_env({{"A", "x"}, {"EMPTY", ""}});
  EXPECT_EQ(interpolate_env("a=${A} b=${B:-dflt} c=${EMPTY:-d2} $plain", env), "a=x b=dflt c=d2 $plain");
  EXPECT_EQ(interpolate_env("${MISSING}", env), "");
  EXPECT_THROW(interpolate_env("${MISSING:?set it}", env), ConfigError);
  EXPECT_THROW(interpolate_env("${UNCLOSED", env), ConfigError);
}

TEST(Config, UnknownKeysAreReportedWithTheirPath) {
  try {
    parse_config("providers:\n  - name: a\n    base_url: http://x\n    timeouts: {conect_ms: 5}\n", fake_env({}));
    FAIL() << "expected ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("conect_ms"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("providers[0].timeouts"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_config("lisen: 1\n", fake_env({})), ConfigError);
}

TEST(Config, BadValuesAreErrors) {
  EXPECT_THROW(parse_config("server: {max_body_bytes: lots}\n", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("providers:\n  - base_url: ftp://x\n", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("providers:\n  - kind: banana\n", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("providers: []\n", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("server: {listen: nohostport}\n", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("a: [unclosed\n", fake_env({})), ConfigError);
}

TEST(Config, EnvironmentOverrides) {
  auto cfg = default_config();
  apply_env_overrides(cfg, fake_env({{"SLUICE_LISTEN", "0.0.0.0:9000"},
                                     {"CLAUDE_API_KEY", "sk-claude"},
                                     {"SLUICE_UPSTREAM", "http://127.0.0.1:1234"},
                                     {"SLUICE_THREADS", "3"}}));
  EXPECT_EQ(cfg.server.listen_host, "0.0.0.0");
  EXPECT_EQ(cfg.server.listen_port, 9000);
  EXPECT_EQ(cfg.providers[0].api_key, "sk-claude") << "CLAUDE_API_KEY is accepted as the key";
  EXPECT_EQ(cfg.providers[0].base_url, "http://127.0.0.1:1234");
  EXPECT_EQ(cfg.server.threads, 3u);

  auto both = default_config();
  apply_env_overrides(both, fake_env({{"ANTHROPIC_API_KEY", "sk-a"}, {"CLAUDE_API_KEY", "sk-c"}}));
  EXPECT_EQ(both.providers[0].api_key, "sk-a") << "ANTHROPIC_API_KEY wins";

  auto file_key = parse_config("providers:\n  - api_key: sk-file\n", fake_env({}));
  apply_env_overrides(file_key, fake_env({{"ANTHROPIC_API_KEY", "sk-a"}}));
  EXPECT_EQ(file_key.providers[0].api_key, "sk-file") << "a key in the file is not overridden";
}

TEST(Config, UpstreamAndListenFlags) {
  auto cfg = default_config();
  apply_upstream(cfg, "mock");
  EXPECT_EQ(cfg.providers[0].kind, ProviderKind::Mock);
  apply_listen(cfg, "[::1]:0");
  EXPECT_EQ(cfg.server.listen_host, "::1");
  EXPECT_EQ(cfg.server.listen_port, 0);
  EXPECT_THROW(apply_listen(cfg, "host:99999"), ConfigError);
  EXPECT_THROW(apply_listen(cfg, ":80"), ConfigError);
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {
TEST(Config, InterpolationOnlyInValuesNotComments) {
  auto cfg = parse_config("# ${NOT_SET:?never evaluated}\nproviders:\n  - api_key: ${KEY}  # ${ALSO:?no}\n",
                          fake_env({{"KEY", "k: v"}}));
  EXPECT_EQ(cfg.providers[0].api_key, "k: v") << "a value cannot inject YAML structure";
}
}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {
TEST(Config, ResilienceSettingsDeploymentsAndFallbacks) {
  auto cfg = parse_config(R"(
providers:
  - name: main
    base_url: https://a.example
    api_key: k0
    retry: {max_attempts: 5, base_ms: 100, cap_ms: 1000, budget_ratio: 0.5}
    breaker: {consecutive_failures: 2, open_for_ms: 700}
    deployments:
      - {base_url: "https://b.example", api_key: k1, weight: 3}
    fallbacks:
      - backup
      - {provider: backup, model: claude-haiku-4-5}
  - name: backup
    base_url: http://127.0.0.1:9
)", fake_env({}));
  const auto& p = cfg.providers[0];
  EXPECT_EQ(p.retry.max_attempts, 5);
  EXPECT_EQ(p.retry.base.count(), 100);
  EXPECT_EQ(p.retry.cap.count(), 1000);
  EXPECT_DOUBLE_EQ(p.retry.budget_ratio, 0.5);
  EXPECT_EQ(p.breaker.consecutive_failures, 2);
  EXPECT_EQ(p.breaker.open_for.count(), 700);
  auto deps = p.all_deployments();
  ASSERT_EQ(deps.size(), 2u);
  EXPECT_EQ(deps[0].base_url, "https://a.example");
  EXPECT_EQ(deps[0].api_key, "k0");
  EXPECT_EQ(deps[1].api_key, "k1");
  EXPECT_DOUBLE_EQ(deps[1].weight, 3);
  ASSERT_EQ(p.fallbacks.size(), 2u);
  EXPECT_EQ(p.fallbacks[0].provider, "backup");
  EXPECT_EQ(p.fallbacks[1].model, "claude-haiku-4-5");
}

TEST(Config, ResilienceValidation) {
  EXPECT_THROW(parse_config("providers:\n  - fallbacks: [nobody]\n", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("providers:\n  - retry: {max_attempts: 0}\n", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("providers:\n  - deployments: [{base_url: 'x://y'}]\n", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("providers:\n  - deployments: [{base_url: 'http://y', weight: 0}]\n", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("providers:\n  - {name: a}\n  - {name: a}\n", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("providers:\n  - breaker: {consecutive_failures: 0}\n", fake_env({})), ConfigError);
}
TEST(Config, UsageSectionsAuthAdminLedgerPricingAlerts) {
  auto cfg = parse_config(R"(
data_dir: /var/lib/sluice
auth: {mode: keys, key_poll_ms: 250}
admin: {key: "${ADMIN}"}
ledger: {commit_window_ms: 50}
pricing:
  - {model: "claude-sonnet-*", input: 3, output: 15, cache_read: 0.3}
alerts: {large_request_tokens: 5000, webhook_url: "http://127.0.0.1:9/hook"}
)",
                          fake_env({{"ADMIN", "admin-key-0123456789"}}));
  EXPECT_EQ(cfg.auth.mode, AuthMode::Keys);
  EXPECT_EQ(cfg.auth.key_poll.count(), 250);
  EXPECT_EQ(cfg.admin.key, "admin-key-0123456789");
  EXPECT_EQ(cfg.ledger.commit_window.count(), 50);
  EXPECT_EQ(cfg.database_path(), "/var/lib/sluice/sluice.db");
  ASSERT_EQ(cfg.pricing.size(), 1u);
  EXPECT_EQ(cfg.pricing[0].model, "claude-sonnet-*");
  EXPECT_DOUBLE_EQ(cfg.pricing[0].output, 15);
  EXPECT_FALSE(cfg.pricing[0].cache_write.has_value());
  EXPECT_DOUBLE_EQ(cfg.pricing[0].cache_read.value(), 0.3);
  EXPECT_EQ(cfg.alerts.large_request_tokens, 5000);
  EXPECT_EQ(cfg.alerts.webhook_url, "http://127.0.0.1:9/hook");
  auto defaults = default_config();
  EXPECT_EQ(defaults.auth.mode, AuthMode::Auto);
  EXPECT_EQ(defaults.database_path(), "./sluice-data/sluice.db");
}

TEST(Config, UsageSectionsValidation) {
  auto env = fake_env({});
  EXPECT_THROW(parse_config("auth: {mode: sometimes}", env), ConfigError);
  EXPECT_THROW(parse_config("admin: {key: short}", env), ConfigError);
  EXPECT_THROW(parse_config("pricing: [{input: 3}]", env), ConfigError);
  EXPECT_THROW(parse_config("pricing: [{model: m, input: -1}]", env), ConfigError);
  EXPECT_THROW(parse_config("alerts: {anomaly_factor: 0.5}", env), ConfigError);
  EXPECT_THROW(parse_config("alerts: {webhook_url: ftp://x}", env), ConfigError);
  EXPECT_THROW(parse_config("ledger: {commit_window_ms: 0}", env), ConfigError);
  EXPECT_THROW(parse_config("alerts: {typo: 1}", env), ConfigError);
  Config cfg = default_config();
  apply_env_overrides(cfg, fake_env({{"SLUICE_ADMIN_KEY", "from-env-0123456789"}}));
  EXPECT_EQ(cfg.admin.key, "from-env-0123456789");
}

TEST(Config, OpenAIProvidersAndRoutes) {
  auto cfg = parse_config(R"(
providers:
  - {name: claude, kind: anthropic, base_url: "https://api.anthropic.com"}
  - {name: deepseek, kind: openai, base_url: "https://api.deepseek.com/v1", api_key: k}
routes:
  - {model: "claude-sonnet-*", provider: deepseek, upstream_model: deepseek-chat, max_tokens: 8192, projects: [cc]}
  - {model: "*", provider: claude}
)",
                          fake_env({}));
  ASSERT_EQ(cfg.providers.size(), 2u);
  EXPECT_EQ(cfg.providers[1].kind, ProviderKind::OpenAI);
  ASSERT_EQ(cfg.routes.size(), 2u);
  EXPECT_EQ(cfg.routes[0].upstream_model, "deepseek-chat");
  EXPECT_EQ(cfg.routes[0].max_tokens, 8192);
  ASSERT_EQ(cfg.routes[0].projects.size(), 1u);
  EXPECT_EQ(cfg.routes[0].projects[0], "cc");
  EXPECT_TRUE(cfg.routes[1].upstream_model.empty());
  EXPECT_THROW(parse_config("routes: [{model: x, provider: nobody}]", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("routes: [{model: x}]", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("routes: [{model: x, provider: anthropic, max_tokens: 0}]", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("providers: [{name: o, kind: openai, base_url: ftp://x}]", fake_env({})), ConfigError);
}

TEST(Config, RedactionSection) {
  auto cfg = parse_config(R"(
redaction:
  rules: {password: block, base64_blob: off}
  custom:
    - {type: internal_host, pattern: 'corp-[a-z]+', action: log}
  projects:
    ci: {password: log}
)",
                          fake_env({}));
  EXPECT_TRUE(cfg.redaction.enabled);
  ASSERT_EQ(cfg.redaction.actions.size(), 2u);
  EXPECT_EQ(cfg.redaction.actions[0], (std::pair<std::string, std::string>{"password", "block"}));
  ASSERT_EQ(cfg.redaction.custom.size(), 1u);
  EXPECT_EQ(cfg.redaction.custom[0].type, "internal_host");
  EXPECT_EQ(cfg.redaction.custom[0].action, "log");
  ASSERT_EQ(cfg.redaction.projects.size(), 1u);
  EXPECT_EQ(cfg.redaction.projects[0].first, "ci");
  EXPECT_EQ(cfg.redaction.projects[0].second[0].second, "log");
  EXPECT_THROW(parse_config("redaction: {rules: {password: maybe}}", fake_env({})), ConfigError);
  EXPECT_THROW(parse_config("redaction: {custom: [{type: x}]}", fake_env({})), ConfigError);
  EXPECT_TRUE(default_config().redaction.enabled);
}

}  // namespace
}  // namespace sluice::config
