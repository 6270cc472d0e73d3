#pragma once
// The gateway's Prometheus metrics (docs/metrics.md lists them): families registered once, and
// the label rules that keep every label in a bounded set (routes from a fixed list, models
// capped at a few dozen distinct names, projects from the key store, statuses as numbers).
// Thread-safe.

#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "metrics/registry.hpp"

namespace sluice::server {

struct GatewayMetrics {
  explicit GatewayMetrics(metrics::Registry& r);

  metrics::CounterFamily& requests;          // route, status, model, project
  metrics::HistogramFamily& tokens;          // project_id, type
  metrics::CounterFamily& tokens_total;      // project, model, type
  metrics::CounterFamily& cost;              // project, model (USD)
  metrics::HistogramFamily& duration;        // route
  metrics::HistogramFamily& ttfb;            // route
  metrics::HistogramFamily& overhead;        // route
  metrics::CounterFamily& attempts;          // provider, outcome
  metrics::CounterFamily& retries;           // provider
  metrics::CounterFamily& rate_limited;      // scope, limit
  metrics::CounterFamily& budget_refusals;   // scope, period
  metrics::CounterFamily& auth_failures;     // reason
  metrics::CounterFamily& alerts;            // kind
  metrics::CounterFamily& estimated;         // project
  metrics::CounterFamily& redactions;        // type
  metrics::CounterFamily& redaction_blocks;  // type
  metrics::CounterFamily& context_refusals;  // rule (the model table's pattern)
  metrics::CounterFamily& context_trims;     // rule
  metrics::CounterFamily& count_tokens_local;  // reason
  metrics::HistogramFamily& estimate_ratio;  // model
  metrics::CounterFamily& resumes;           // kind (by_id, transparent), outcome
  metrics::CounterFamily& detached;          // (none): streams whose client left mid-way
  metrics::CounterFamily& abandoned;         // (none): detached streams cancelled after the grace period
  metrics::CounterFamily& recoveries;        // outcome: recovered, failed, impossible
};

// A route label from a fixed set.
const char* route_label(std::string_view path);

// Model labels: the first `max` distinct model names seen keep their name; later ones are
// "other", so a client sending random model names cannot grow the series without bound.
class ModelLabels {
 public:
  explicit ModelLabels(std::size_t max = 64) : max_(max) {}
  // The label for `model`: a view of a stored name, or "none" / "other"; valid for the
  // lifetime of this object.
  std::string_view label(std::string_view model);

 private:
  std::size_t max_;
  std::mutex mu_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace sluice::server
