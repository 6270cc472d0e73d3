#pragma once
// Which provider serves a model, under which name (issue: translation and routing): the config's
// routes, in order; the first whose model glob matches and whose projects include the caller's
// wins. Without routes every model goes to the first provider unchanged. Immutable after
// construction; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace sluice::server {

class Router {
 public:
  explicit Router(std::vector<config::RouteConfig> routes) : routes_(std::move(routes)) {}

  struct Choice {
    std::string provider;       // empty: the first provider
    std::string upstream_model; // empty: the client's model
    std::optional<std::int64_t> max_tokens;
    std::optional<bool> recover;  // upstream stream recovery for this route; unset = the default
  };
  // nullopt when routes are configured and none serves `model` for `project`.
  std::optional<Choice> route(std::string_view model, std::string_view project) const;
  bool empty() const { return routes_.empty(); }

 private:
  std::vector<config::RouteConfig> routes_;
};

}  // namespace sluice::server
