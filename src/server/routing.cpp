#include "server/routing.hpp"

#include "common/glob.hpp"

namespace sluice::server {

std::optional<Router::Choice> Router::route(std::string_view model, std::string_view project) const {
  if (routes_.empty()) return Choice{};
  for (const auto& r : routes_) {
    if (!glob_match(r.model, model)) continue;
    if (!r.projects.empty()) {
      bool listed = false;
      for (const auto& p : r.projects) listed = listed || p == project;
      if (!listed) continue;
    }
    return Choice{r.provider, r.upstream_model, r.max_tokens, r.recover};
  }
  return std::nullopt;
}

}  // namespace sluice::server
