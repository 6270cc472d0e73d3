#include "server/gateway_metrics.hpp"

namespace sluice::server {

namespace {

const std::vector<double> kTokenBuckets{10, 100, 1'000, 10'000, 100'000, 1'000'000};
const std::vector<double> kSecondsBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
const std::vector<double> kRatioBuckets{0.5, 0.67, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5, 2.0};
const std::vector<double> kOverheadBuckets{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1};

}  // namespace

GatewayMetrics::GatewayMetrics(metrics::Registry& r)
    : requests(r.counter("sluice_requests_total", "Requests answered, by route, status, model and project",
                         {"route", "status", "model", "project"})),
      tokens(r.histogram("sluice_tokens_per_request", "Tokens per request by project and token type",
                         {"project_id", "type"}, kTokenBuckets)),
      tokens_total(r.counter("sluice_tokens_total", "Tokens by project, model and type (input, output, "
                                                    "cache_creation, cache_read)",
                             {"project", "model", "type"})),
      cost(r.counter("sluice_cost_usd_total", "Cost in US dollars from the price table, by project and model",
                     {"project", "model"})),
      duration(r.histogram("sluice_request_duration_seconds", "Time from request received to response end",
                           {"route"}, kSecondsBuckets)),
      ttfb(r.histogram("sluice_time_to_first_byte_seconds",
                       "Time from request received to the first response byte sent (streams: first event)",
                       {"route"}, kSecondsBuckets)),
      overhead(r.histogram("sluice_gateway_overhead_seconds",
                           "Time spent in sluice itself: duration minus upstream time and retry waits", {"route"},
                           kOverheadBuckets)),
      attempts(r.counter("sluice_upstream_attempts_total", "Upstream attempts by provider and outcome",
                         {"provider", "outcome"})),
      retries(r.counter("sluice_upstream_retries_total", "Upstream retries by provider", {"provider"})),
      rate_limited(r.counter("sluice_ratelimit_rejections_total", "Requests refused by a sluice rate limit",
                             {"scope", "limit"})),
      budget_refusals(r.counter("sluice_budget_rejections_total", "Requests refused because a budget is spent",
                                {"scope", "period"})),
      auth_failures(r.counter("sluice_auth_failures_total", "Requests refused for a missing or invalid key",
                              {"reason"})),
      alerts(r.counter("sluice_alerts_total", "Alerts raised, by kind", {"kind"})),
      estimated(r.counter("sluice_usage_estimated_total",
                          "Requests whose usage was estimated because the final count never came", {"project"})),
      redactions(r.counter("sluice_redactions_total",
                           "Secrets found in prompts (redacted, blocked or logged, per the rule's action), by rule type",
                           {"type"})),
      redaction_blocks(r.counter("sluice_redaction_blocks_total",
                                 "Requests refused because they held a secret of a blocking rule type", {"type"})),
      context_refusals(r.counter("sluice_context_refusals_total",
                                 "Requests refused by the context guard, by the model table rule that applied",
                                 {"rule"})),
      context_trims(r.counter("sluice_context_trims_total",
                              "Requests whose oldest turns were dropped to fit the context window, by rule", {"rule"})),
      count_tokens_local(r.counter("sluice_count_tokens_local_total",
                                   "count_tokens requests answered with sluice's estimate, by reason "
                                   "(configured, upstream_error, no_upstream_endpoint)",
                                   {"reason"})),
      estimate_ratio(r.histogram("sluice_token_estimate_ratio",
                                 "Input tokens the upstream reported divided by sluice's estimate, per model: how "
                                 "well the context guard's estimate fits this traffic",
                                 {"model"}, kRatioBuckets)),
      resumes(r.counter("sluice_stream_resumes_total",
                        "Streams resumed from a replay buffer: by id (Last-Event-ID, GET /v1/streams/<id>) or "
                        "transparently (an identical retry), by outcome",
                        {"kind", "outcome"})),
      detached(r.counter("sluice_streams_detached_total",
                         "Streams whose client left mid-way while the upstream went on into the replay buffer", {})),
      abandoned(r.counter("sluice_streams_abandoned_total",
                          "Detached streams cancelled because nobody resumed them within the grace period", {})),
      recoveries(r.counter("sluice_stream_recoveries_total",
                           "Upstream streams that broke after content began and were continued with a prefill "
                           "(recovered), could not be continued (failed), or held a block no prefill can carry "
                           "(impossible)",
                           {"outcome"})) {}

const char* route_label(std::string_view path) {
  if (path == "/v1/messages") return "/v1/messages";
  if (path == "/v1/messages/count_tokens") return "/v1/messages/count_tokens";
  if (path == "/v1/models" || path.starts_with("/v1/models/")) return "/v1/models";
  if (path == "/v1/chat/completions") return "/v1/chat/completions";
  if (path == "/healthz") return "/healthz";
  if (path == "/metrics") return "/metrics";
  if (path.starts_with("/admin/") || path == "/admin") return "/admin";
  if (path.starts_with("/v1/streams/")) return "/v1/streams";
  return "other";
}

std::string_view ModelLabels::label(std::string_view model) {
  if (model.empty()) return "none";
  std::lock_guard lk(mu_);
  if (auto it = seen_.find(model); it != seen_.end()) return *it;  // std::set nodes never move
  if (seen_.size() >= max_ || model.size() > 100) return "other";
  return *seen_.emplace(model).first;
}

}  // namespace sluice::server
