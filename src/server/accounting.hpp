#pragma once
// The usage side of each request (issue: projects, keys, limits, ledger): before the upstream,
// who is calling (auth) and whether they may (budgets, then rate limits, reserved); after it,
// what it used and cost (meter), written to the ledger, metrics and alerts, and the reservation
// settled with the real usage. Every admitted request reaches finish() exactly once, through
// Gateway::log, so no reservation is left unsettled and no row is lost.
// One per gateway; thread-safe. Charge is per request.

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "alerts/detector.hpp"
#include "alerts/notifier.hpp"
#include "alerts/recent.hpp"
#include "common/clock.hpp"
#include "common/error.hpp"
#include "config/config.hpp"
#include "http/server.hpp"
#include "keys/directory.hpp"
#include "ledger/ledger.hpp"
#include "ledger/usage_reader.hpp"
#include "metrics/recent_window.hpp"
#include "metrics/registry.hpp"
#include "server/gateway_metrics.hpp"
#include "server/shared_limits.hpp"
#include "stages/budget/budget_book.hpp"
#include "stages/meter/pricing.hpp"
#include "stages/meter/usage.hpp"
#include "stages/ratelimit/registry.hpp"

namespace sluice::server {

class Accounting {
 public:
  // Opens the key store and the ledger (SQLite at config.database_path(), or PostgreSQL) and,
  // with limits.engine: redis, the shared limits; throws storage::StorageError or pg::PgError.
  Accounting(const config::Config& cfg, const Clock& clock);
  ~Accounting();  // commits every ledger row (within the ledger's shutdown timeout)

  using Headers = std::vector<std::pair<std::string, std::string>>;

  struct Charge {
    std::shared_ptr<const keys::Snapshot> snapshot;  // keeps `key` alive
    const keys::KeyRecord* key = nullptr;            // null in passthrough
    stages::ratelimit::Admitted admitted;
    bool metered = false;                 // a model request: gets a ledger row
    stages::meter::StreamMeter stream;    // fed by the relay, event by event
    std::optional<stages::meter::Usage> body_usage;  // a non-streaming answer's usage
    int redactions = 0;
    std::string redaction_types;  // "type:count,..."
    std::uint64_t input_estimate = 0;  // sluice's estimate of the input tokens (0 = none)
    std::string price_model;  // the model priced, when a route serves another than the client's
    bool usage_guessed = false;  // a translated answer whose upstream reported no usage
    bool replayed = false;       // answered from a replay buffer: the stream was billed once, before
    std::string stream_id;       // the resumable stream produced or replayed (ledger)
    int recoveries = 0;          // continuations of a broken upstream stream (ledger)
    // Set by release(): the final usage and its cost.
    bool released = false;
    stages::meter::Usage usage;
    std::int64_t cost_micros = 0;
    const std::string& project() const;
  };

  // Who is calling. Fills c.key when keys are required; the error is a 401.
  std::optional<Error> authenticate(const http::Request& req, Charge& c);
  // Budgets, then limits, for a request estimated at `tokens`; on refusal, `error` is set (402,
  // 429, 400 for a request larger than a TPM limit, or 503 when shared limits are unreachable
  // and set to fail closed) and `headers` explain it. Limits kept in Redis are asked on the
  // shared-limits thread; this coroutine only waits for the answer.
  net::awaitable<void> admit(std::int64_t tokens, Charge& c, Headers& headers, std::optional<Error>& error);
  // Whether admit() will use its token count: a TPM limit applies to the key or its project.
  bool limits_tokens(const Charge& c) const;

  struct Outcome {
    // Views of the request's own strings (no copies on every request): valid during finish().
    std::string_view request_id, model, provider, error;
    std::string_view route;  // a route label (static storage)
    int status = 0;
    bool stream = false;
    int attempts = 0;
    double latency_ms = 0;
    std::optional<double> ttfb_ms;
    double upstream_ms = 0;  // time waiting on upstreams and between retries
  };
  // Takes the usage known now, prices it, settles the reservation and charges the budgets. Called
  // just before the last bytes of an answer are written, so a client that sends its next
  // request the moment this one ends finds its slot, its unused tokens and its spend already
  // accounted for. Once per request; finish() calls it if nothing did.
  void release(Charge& c, std::string_view model);
  // The finish phase of every request: metrics for all, and for model requests the usage, the
  // settlement, the ledger row, budgets and alerts.
  void finish(const Outcome& o, Charge& c);

  metrics::Registry& registry() { return registry_; }
  GatewayMetrics& metrics() { return metrics_; }
  keys::Directory& directory() { return directory_; }
  ledger::Ledger& ledger() { return *ledger_; }
  // A new connection to the ledger for reports (the caller's thread; may block on the store).
  std::unique_ptr<ledger::UsageReader> open_usage() const;
  // Null unless limits.engine is redis.
  const SharedLimits* shared_limits() const { return shared_.get(); }
  stages::budget::BudgetBook& budgets() { return budgets_; }
  std::atomic<std::int64_t>& active_streams() { return active_streams_; }
  stages::ratelimit::LimiterRegistry& limiters() { return limiters_; }
  // The dashboard's sources: the last alerts raised, and requests over the last minutes.
  const alerts::RecentAlerts& recent_alerts() const { return recent_alerts_; }
  const metrics::RecentWindow& live() const { return live_; }

 private:
  void seed_from_ledger();  // budgets' spend and alert baselines survive a restart
  void register_callbacks();
  std::optional<Error> check_budgets(const Charge& c, const keys::Limits& project_limits, Headers& headers);
  Error refusal_error(const stages::ratelimit::Refusal& refusal, std::int64_t tokens, const Charge& c,
                      Headers& headers);

  const Clock& clock_;
  config::AuthMode mode_;
  int baseline_hours_;
  config::Config cfg_;  // the stores' settings, to open usage readers
  metrics::Registry registry_;
  GatewayMetrics metrics_;
  ModelLabels models_;
  stages::meter::PriceTable prices_;
  keys::Directory directory_;
  std::unique_ptr<ledger::Ledger> ledger_;
  stages::ratelimit::LimiterRegistry limiters_;
  std::unique_ptr<SharedLimits> shared_;  // after registry_; outlives every Charge
  stages::budget::BudgetBook budgets_;
  alerts::Detector detector_;
  alerts::Notifier notifier_;
  alerts::RecentAlerts recent_alerts_;
  metrics::RecentWindow live_;  // model requests (messages, count_tokens, chat), not models lists, admin or probes
  std::atomic<std::int64_t> active_streams_{0};
};

// The caller's credential: x-api-key, else an `Authorization: Bearer` token; empty if none.
std::string_view presented_key(const http::Request& req);

// The price table of a config: its rules before the built-in ones.
stages::meter::PriceTable price_table(const std::vector<config::PriceConfig>& rules);

}  // namespace sluice::server
