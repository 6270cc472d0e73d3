#include "stages/ratelimit/registry.hpp"

namespace sluice::stages::ratelimit {

std::shared_ptr<KeyLimiter> LimiterRegistry::get(const std::string& id, const Limits& limits) {
  std::lock_guard lk(mu_);
  auto it = limiters_.find(id);
  if (!limits.any()) {
    if (it != limiters_.end()) limiters_.erase(it);
    return nullptr;
  }
  if (it != limiters_.end() && it->second->limits() == limits) return it->second;
  auto limiter = std::make_shared<KeyLimiter>(limits, clock_);
  limiters_[id] = limiter;
  return limiter;
}

bool LimiterRegistry::admit(const std::string& key_id, const Limits& key_limits, const std::string& project,
                            const Limits& project_limits, double tokens, Admitted& out, Refusal& refusal) {
  // Key and project ids share one map: prefix them so a project cannot shadow a key.
  if (!key_id.empty()) out.key_limiter = get("k:" + key_id, key_limits);
  if (!project.empty()) out.project_limiter = get("p:" + project, project_limits);
  auto refuse = [&](KeyLimiter::Admission& a, const char* scope, const Limits& limits) {
    refusal.limit = a.refused_by;
    refusal.scope = scope;
    refusal.retry_after = a.retry_after;
    refusal.never_fits = a.never_fits;
    refusal.capacity = capacity_of(limits, a.refused_by);
    return false;
  };
  if (out.key_limiter) {
    auto a = out.key_limiter->admit(tokens);
    if (!a.ok) return refuse(a, "key", key_limits);
    out.key = std::move(a.reservation);
  }
  if (out.project_limiter) {
    auto a = out.project_limiter->admit(tokens);
    if (!a.ok) {
      out.key.cancel();
      return refuse(a, "project", project_limits);
    }
    out.project = std::move(a.reservation);
  }
  return true;
}

std::shared_ptr<KeyLimiter> LimiterRegistry::find(const std::string& id) {
  std::lock_guard lk(mu_);
  auto it = limiters_.find(id);
  return it == limiters_.end() ? nullptr : it->second;
}

std::size_t LimiterRegistry::size() {
  std::lock_guard lk(mu_);
  return limiters_.size();
}

}  // namespace sluice::stages::ratelimit
