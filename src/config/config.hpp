#pragma once
// sluice's configuration: the embedded defaults, a YAML file with ${ENV} interpolation, and
// environment overrides for the common settings (so a container needs no file). Loading throws
// ConfigError with the offending key path; the result is immutable and shared by all threads.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sluice::config {

using std::chrono::milliseconds;

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Upstream deadlines (issue: tiered timeouts). Each applies per attempt.
struct Timeouts {
  milliseconds connect{3'000};      // TCP + TLS handshake
  milliseconds first_byte{10'000};  // request sent -> first byte of the response head
  milliseconds idle{30'000};        // longest silence between two body reads of a stream
  milliseconds total{600'000};      // whole exchange; the only one for non-streaming bodies
};

enum class ProviderKind {
  Anthropic,  // an Anthropic Messages API (api.anthropic.com or compatible)
  OpenAI,     // an OpenAI Chat Completions server (DeepSeek, Qwen, Kimi, vLLM, llama.cpp...);
              // base_url includes the API's version path, as OPENAI_BASE_URL does (".../v1")
  Mock,       // the built-in `sluice mock`, run inside the gateway process
};

// Retries of one provider (upstream/retry_policy.hpp says what is retried).
struct RetrySettings {
  int max_attempts = 3;                  // attempts in all, the first included; 1 = no retries
  milliseconds base{500};                // full-jitter backoff: uniform(0, min(cap, base * 2^n))
  milliseconds cap{8'000};
  milliseconds max_retry_after{30'000};  // a longer upstream retry-after goes to the client instead
  double budget_ratio = 0.2;             // retries <= this fraction of requests over the window
  milliseconds budget_window{10'000};
  int budget_min_retries = 3;            // retries always allowed per window, even when quiet
  bool exhausted_should_retry_false = true;  // final error after retries says x-should-retry: false
};

// Circuit breaker of each deployment (upstream/circuit_breaker.hpp).
struct BreakerSettings {
  int consecutive_failures = 5;
  double failure_ratio = 0.5;
  int min_requests = 20;
  milliseconds window{10'000};
  milliseconds open_for{5'000};
  int half_open_probes = 1;
};

// One place a provider is served from: a base URL and a key. A provider with several spreads
// load over them by weight and outstanding requests.
struct DeploymentConfig {
  std::string base_url;
  std::string api_key;
  double weight = 1.0;
};

// Where a request goes when its provider has exhausted its retries or every breaker is open.
struct FallbackConfig {
  std::string provider;  // name of another provider
  std::string model;     // when set, the request's model is replaced by this one
};

struct ProviderConfig {
  std::string name = "anthropic";
  ProviderKind kind = ProviderKind::Anthropic;
  std::string base_url = "https://api.anthropic.com";
  std::string api_key;  // when set, replaces the client's credentials upstream
  std::string ca_file;  // extra CA bundle for TLS verification; empty = system store
  Timeouts timeouts;
  std::size_t pool_max_idle = 64;           // idle keep-alive connections kept per worker
  milliseconds pool_idle_timeout{60'000};   // an idle pooled connection older than this is closed
  // Extra deployments; when empty the provider has one, from base_url and api_key above.
  std::vector<DeploymentConfig> deployments;
  RetrySettings retry;
  BreakerSettings breaker;
  std::vector<FallbackConfig> fallbacks;

  // base_url/api_key as the first deployment, followed by `deployments`.
  std::vector<DeploymentConfig> all_deployments() const;
};

struct ServerConfig {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8787;
  unsigned threads = 0;  // 0 = one per core
  std::size_t max_header_bytes = 64 * 1024;
  std::uint64_t max_body_bytes = 32ull * 1024 * 1024;
  milliseconds header_timeout{10'000};
  milliseconds body_timeout{60'000};
  milliseconds idle_timeout{75'000};
  milliseconds write_timeout{60'000};
  milliseconds drain_timeout{30'000};
};

// Who may call the gateway (issue: projects and virtual keys).
enum class AuthMode {
  Auto,         // virtual keys are required once any key exists; passthrough before that
  Keys,         // a valid virtual key is always required
  Passthrough,  // clients bring their own provider keys; no virtual keys, no per-key limits
};

// Where a store lives (docs/deployment.md): the embedded SQLite file, or the PostgreSQL server
// shared by every replica (postgres.url).
enum class StoreEngine {
  Sqlite,    // <data_dir>/sluice.db, one gateway (or several on one machine)
  Postgres,  // postgres.url: several replicas share it
};

struct AuthConfig {
  AuthMode mode = AuthMode::Auto;
  milliseconds key_poll{1'000};  // how often the key store is checked for changes by `sluice keys`
  StoreEngine key_store = StoreEngine::Sqlite;  // projects and virtual keys
};

// The admin API (and later the dashboard) under /admin/, on the main listener.
struct AdminConfig {
  std::string key;  // required in `x-api-key` or `Authorization: Bearer`; empty = admin API off
};

// The usage ledger and the key store: one SQLite file, WAL mode.
struct LedgerConfig {
  StoreEngine engine = StoreEngine::Sqlite;
  std::string path;                  // empty = <data_dir>/sluice.db (SQLite only)
  milliseconds commit_window{100};   // the most a `kill -9` can lose
  std::size_t max_queue = 200'000;   // rows held while the store fails, before the oldest are dropped
};

// The PostgreSQL server of the shared ledger and key store (docs/deployment.md).
struct PostgresConfig {
  std::string url;  // libpq URI or key=value string; required when an engine is postgres
  milliseconds connect_timeout{5'000};
  milliseconds statement_timeout{10'000};
};

// The Redis server of the shared rate limits (docs/deployment.md).
struct RedisConfig {
  std::string url;                  // redis://[:password@]host[:port][/db]
  milliseconds timeout{250};        // connect, and each command
  std::string prefix = "sluice:";   // of every key sluice writes
};

enum class LimitsEngine {
  Local,  // token buckets in this process: each replica enforces the whole limit on its own
  Redis,  // buckets in Redis: the limit holds across every replica
};
enum class RedisFailurePolicy {
  Open,    // Redis unreachable: admit against this process's own buckets
  Closed,  // Redis unreachable: refuse with 503
};
struct LimitsConfig {
  LimitsEngine engine = LimitsEngine::Local;
  RedisFailurePolicy on_redis_error = RedisFailurePolicy::Open;
  // A concurrency slot's lease in Redis: a replica that dies mid-request frees its slots after
  // this. 0 = the longest provider total timeout + 60 s (no request outlives its lease).
  milliseconds lease{0};
  milliseconds effective_lease(const std::vector<ProviderConfig>& providers) const;
};

// A price rule; the first matching rule wins, config rules before the built-in ones.
struct PriceConfig {
  std::string model;             // model id or glob ("claude-sonnet-*")
  double input = 0;              // USD per million tokens
  double output = 0;
  std::optional<double> cache_write;  // default 1.25 x input
  std::optional<double> cache_read;   // default 0.1 x input
  double server_tool_use = 0.01;      // USD per use
};

struct AlertsConfig {
  std::int64_t large_request_tokens = 10'000;  // 0 = off
  double anomaly_factor = 5.0;
  std::int64_t anomaly_min_tokens = 100'000;
  int baseline_hours = 24;
  int min_history_hours = 3;
  std::string webhook_url;  // empty = log and metrics only
};

// Secret redaction (stages/redact): the built-in rules, each one's action changeable by type,
// custom rules, and per-project overrides. Actions: redact, block, log, off.
struct RedactionRuleConfig {
  std::string type;
  std::string pattern;  // RE2
  std::string action = "redact";
};
struct RedactionConfig {
  bool enabled = true;
  std::vector<std::pair<std::string, std::string>> actions;  // built-in type -> action
  std::vector<RedactionRuleConfig> custom;
  // project -> (type -> action), applied over `actions` for that project's requests
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> projects;
};

// Where a model's requests go (issue: translation and routing). The first route whose model
// glob matches (and whose projects include the caller's, when it lists any) wins. With no
// routes every request goes to the first provider with its model unchanged; with routes, a
// model no route serves is refused with 404 not_found_error.
struct RouteConfig {
  std::string model;            // model id or glob, as clients send it
  std::string provider;         // a provider's name
  std::string upstream_model;   // the model name sent upstream; empty = the client's
  std::optional<std::int64_t> max_tokens;  // a cap on max_tokens (the upstream's output limit)
  std::vector<std::string> projects;       // only for these projects; empty = everyone
  std::optional<bool> recover;             // upstream stream recovery; unset = streams.recovery
};

// The long-context guard (stages/context): context windows per model in front of the built-in
// table, the estimator's error allowance, trimming, and where count_tokens is answered.
struct ContextWindowConfig {
  std::string model;             // model id or glob
  std::int64_t window = 0;       // tokens; 0 = this model is not guarded
  std::int64_t window_1m = 0;    // with the context-1m beta; 0 = none
  // The upstream refuses input + max_tokens > window (vLLM, OpenAI). Off by default: a model
  // that stops at its window instead would see false refusals.
  bool max_tokens_counts = false;
};
enum class CountTokensMode {
  Upstream,  // ask the upstream; answer with sluice's estimate only when it cannot answer
  Local,     // always answer with sluice's estimate
};
struct ContextConfig {
  bool guard = true;
  // Refuse only when the estimate exceeds the window by more than this: the estimator's error
  // on text it was not fitted to, at its worst, as bench/token-calibration measures it
  // (docs/context-guard.md).
  double margin = 0.20;
  bool trim = false;     // drop the oldest turns instead of refusing
  CountTokensMode count_tokens = CountTokensMode::Upstream;
  std::vector<ContextWindowConfig> models;
  std::vector<std::pair<std::string, bool>> project_trim;  // project -> trim
};

// Resumable streams (issue 6, docs/resume.md): event ids, replay buffers, resume and recovery.
struct StreamsConfig {
  bool resume = true;                 // ids on Anthropic streams, replay buffers, /v1/streams/<id>
  milliseconds buffer_ttl{300'000};   // an ended stream stays replayable this long
  std::size_t buffer_memory_mb = 256; // over every stream; oldest evicted first
  milliseconds grace{60'000};         // a stream whose client left keeps running this long
  bool transparent_resume = true;     // an identical retry is answered from the abandoned stream
  // Where other replicas find the buffers (docs/deployment.md): local = this process only;
  // redis = mirrored to Redis (redis.url), so a stream is resumable through any replica, and one
  // whose replica died is continued by the replica its client comes back to.
  bool shared = false;                // streams.engine: redis
  // Recovery of upstream streams that break mid-way: re-request with the partial text as a
  // prefill and splice the continuation in. Off by default (each recovery is a new, billed
  // upstream request); on for every model that takes a prefill, or per route (`recover:`).
  bool recovery = false;
  int recovery_attempts = 2;
  // Models known to accept an assistant prefill (globs); others end with an error event.
  std::vector<std::string> prefill_models{"claude-3*", "claude-sonnet-4*", "claude-opus-4*", "claude-haiku-4*"};
};

struct MockSettings {
  double tokens_per_second = 0;  // pacing of the in-process mock; 0 = as fast as possible
};

struct Config {
  ServerConfig server;
  std::string access_log = "-";  // "-" = stdout, "" = off, else a file path (appended)
  std::string data_dir = "./sluice-data";
  std::vector<ProviderConfig> providers{ProviderConfig{}};
  std::vector<RouteConfig> routes;
  MockSettings mock;
  AuthConfig auth;
  AdminConfig admin;
  LedgerConfig ledger;
  PostgresConfig postgres;
  RedisConfig redis;
  LimitsConfig limits;
  std::vector<PriceConfig> pricing;
  AlertsConfig alerts;
  RedactionConfig redaction;
  ContextConfig context;
  StreamsConfig streams;

  // The SQLite file of the ledger and the key store.
  std::string database_path() const;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
// The process environment.
EnvLookup process_env();

// Replaces ${VAR}, ${VAR:-default} and ${VAR:?message} (error if unset or empty) in `text`.
std::string interpolate_env(const std::string& text, const EnvLookup& env);

// The embedded default configuration.
Config default_config();
// Parses YAML text; ${...} is replaced in scalar values (not in comments or keys). Unknown
// keys are errors, so typos are caught.
Config parse_config(const std::string& yaml_text, const EnvLookup& env);
Config load_config_file(const std::string& path, const EnvLookup& env);
// Environment overrides: SLUICE_LISTEN, SLUICE_UPSTREAM, SLUICE_THREADS, SLUICE_ACCESS_LOG,
// SLUICE_DATA_DIR, SLUICE_CA_FILE, SLUICE_ADMIN_KEY; the default provider's key from ANTHROPIC_API_KEY or
// CLAUDE_API_KEY when the config sets none.
void apply_env_overrides(Config& cfg, const EnvLookup& env);
// `--upstream`: a base URL for the default Anthropic provider, or `mock` for the built-in one.
void apply_upstream(Config& cfg, const std::string& upstream);
// "host:port" or "[v6]:port" -> fields of cfg.server. Throws ConfigError.
void apply_listen(Config& cfg, const std::string& listen);
// Checks cross-field rules (URLs parse, at least one provider, ...). Throws ConfigError.
void validate(const Config& cfg);

}  // namespace sluice::config
