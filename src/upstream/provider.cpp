#include "upstream/provider.hpp"

#include <algorithm>
#include <limits>

namespace sluice::upstream {

namespace {

RetryConfig to_retry_config(const config::RetrySettings& s) {
  RetryConfig r;
  r.max_attempts = s.max_attempts;
  r.base = s.base;
  r.cap = s.cap;
  r.max_retry_after = s.max_retry_after;
  r.budget_ratio = s.budget_ratio;
  r.budget_window = s.budget_window;
  r.budget_min_retries = s.budget_min_retries;
  r.exhausted_should_retry_false = s.exhausted_should_retry_false;
  return r;
}

BreakerConfig to_breaker_config(const config::BreakerSettings& s) {
  return BreakerConfig{s.consecutive_failures, s.failure_ratio, s.min_requests, s.window, s.open_for,
                       s.half_open_probes};
}

config::ProviderConfig with_deployment(const config::ProviderConfig& p, const config::DeploymentConfig& d) {
  config::ProviderConfig copy = p;
  copy.base_url = d.base_url;
  copy.api_key = d.api_key;
  return copy;
}

}  // namespace

Deployment::Deployment(const config::ProviderConfig& provider, const config::DeploymentConfig& d,
                       std::size_t index, unsigned workers, const Clock& clock)
    : label(provider.name + "#" + std::to_string(index)),
      api_key(d.api_key),
      weight(d.weight),
      client(std::make_unique<UpstreamClient>(with_deployment(provider, d), workers)),
      breaker(to_breaker_config(provider.breaker), clock) {}

Provider::Provider(const config::ProviderConfig& cfg, unsigned workers, const Clock& clock, Random& random)
    : name_(cfg.name),
      openai_(cfg.kind == config::ProviderKind::OpenAI),
      retry_(to_retry_config(cfg.retry)),
      budget_(retry_, clock),
      fallbacks_(cfg.fallbacks),
      random_(random) {
  auto deps = cfg.all_deployments();
  if (deps.empty()) throw config::ConfigError("provider " + cfg.name + ": no base_url and no deployments");
  for (std::size_t i = 0; i < deps.size(); ++i) {
    deployments_.push_back(std::make_unique<Deployment>(cfg, deps[i], i, workers, clock));
    total_weight_ += deps[i].weight;
  }
}

Provider::Pick Provider::pick(const Deployment* avoid) {
  std::lock_guard lk(pick_mu_);
  // Smooth weighted round-robin (as nginx does it): every deployment gains its weight, the
  // chosen one pays the total. Used as the tie-break after outstanding load.
  for (auto& d : deployments_) d->rr_current += d->weight;
  // The sort keys are snapshotted: `outstanding` changes under other threads, and a comparator
  // must not see different values during one sort.
  struct Candidate {
    Deployment* d;
    bool avoided;
    double load;
    double rr;
  };
  std::vector<Candidate> order;
  order.reserve(deployments_.size());
  for (auto& d : deployments_) {
    order.push_back({d.get(), d.get() == avoid, d->outstanding.load() / d->weight, d->rr_current});
  }
  std::sort(order.begin(), order.end(), [](const Candidate& a, const Candidate& b) {
    if (a.avoided != b.avoided) return b.avoided;
    if (a.load != b.load) return a.load < b.load;
    return a.rr > b.rr;
  });
  // Breakers are asked in that order: admit() has side effects (it may take the half-open
  // probe), so only the chosen one is asked.
  Pick pick;
  auto shortest = std::chrono::milliseconds::max();
  for (const Candidate& c : order) {
    Deployment* d = c.d;
    auto a = d->breaker.admit();
    if (a.allowed) {
      d->rr_current -= total_weight_;
      pick.deployment = d;
      pick.probe = a.probe;
      return pick;
    }
    shortest = std::min(shortest, a.retry_in);
  }
  pick.retry_in = shortest == std::chrono::milliseconds::max() ? std::chrono::milliseconds(0) : shortest;
  return pick;
}

}  // namespace sluice::upstream
