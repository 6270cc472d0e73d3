#pragma once
// A provider at run time: its deployments (each an UpstreamClient with its own key, weight and
// circuit breaker), its retry policy and budget, and the names of its fallbacks.
// Thread-safe: shared by every worker; breakers, budget and outstanding counts are internally
// synchronised, everything else is immutable after construction.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "upstream/circuit_breaker.hpp"
#include "upstream/client.hpp"
#include "upstream/retry_budget.hpp"
#include "upstream/retry_policy.hpp"

namespace sluice::upstream {

struct Deployment {
  Deployment(const config::ProviderConfig& provider, const config::DeploymentConfig& d, std::size_t index,
             unsigned workers, const Clock& clock);

  std::string label;  // "<provider>#<index>", for logs and /healthz
  std::string api_key;
  double weight;
  std::unique_ptr<UpstreamClient> client;
  CircuitBreaker breaker;
  std::atomic<int> outstanding{0};
  double rr_current = 0;  // smooth weighted round-robin state (guarded by Provider::pick_mu_)
};

class Provider {
 public:
  Provider(const config::ProviderConfig& cfg, unsigned workers, const Clock& clock, Random& random);

  const std::string& name() const { return name_; }
  // The API it speaks: Anthropic (also the built-in mock) or OpenAI Chat Completions.
  bool speaks_openai() const { return openai_; }
  const RetryConfig& retry() const { return retry_; }
  RetryBudget& budget() { return budget_; }
  const std::vector<config::FallbackConfig>& fallbacks() const { return fallbacks_; }
  std::vector<std::unique_ptr<Deployment>>& deployments() { return deployments_; }
  const std::vector<std::unique_ptr<Deployment>>& deployments() const { return deployments_; }
  Random& random() { return random_; }

  // The deployment to try next: among those whose breaker admits a request, the one with the
  // fewest outstanding requests per unit of weight; ties (e.g. sequential traffic, nothing
  // outstanding) go by smooth weighted round-robin, so weights hold at any load. `avoid` (the
  // deployment that just failed) is tried last. When none admits, returns nullptr and sets
  // `retry_in` to the shortest wait until one may.
  struct Pick {
    Deployment* deployment = nullptr;
    bool probe = false;
    std::chrono::milliseconds retry_in{0};
  };
  Pick pick(const Deployment* avoid = nullptr);

 private:
  std::string name_;
  bool openai_;
  RetryConfig retry_;
  RetryBudget budget_;
  std::vector<config::FallbackConfig> fallbacks_;
  std::vector<std::unique_ptr<Deployment>> deployments_;
  std::mutex pick_mu_;
  double total_weight_ = 0;
  Random& random_;
};

}  // namespace sluice::upstream
