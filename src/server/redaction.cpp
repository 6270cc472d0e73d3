#include "server/redaction.hpp"

#include <stdexcept>

namespace sluice::server {

namespace {

using stages::redact::Action;
using stages::redact::Rule;

Action action_of(const std::string& s) {
  if (s == "block") return Action::Block;
  if (s == "log") return Action::Log;
  if (s == "off") return Action::Off;
  return Action::Redact;
}

void apply(std::vector<Rule>& rules, const std::vector<std::pair<std::string, std::string>>& actions,
           const std::string& where) {
  for (const auto& [type, action] : actions) {
    bool found = false;
    for (auto& r : rules) {
      if (r.type == type) {
        r.action = action_of(action);
        found = true;
      }
    }
    if (!found) throw std::invalid_argument(where + ": no redaction rule of type '" + type + "'");
  }
}

stages::redact::Engine build(const config::RedactionConfig& cfg,
                             const std::vector<std::pair<std::string, std::string>>* project_actions,
                             const std::string& project) {
  std::vector<Rule> rules = stages::redact::default_rules();
  for (const auto& c : cfg.custom) {
    Rule r;
    r.type = c.type;
    r.pattern = c.pattern;
    r.action = action_of(c.action);
    rules.push_back(std::move(r));
  }
  apply(rules, cfg.actions, "redaction.rules");
  if (project_actions) apply(rules, *project_actions, "redaction.projects." + project);
  return stages::redact::Engine::compile(std::move(rules));
}

}  // namespace

Redaction::Redaction(const config::RedactionConfig& cfg)
    : enabled_(cfg.enabled), default_(cfg.enabled ? build(cfg, nullptr, "") : stages::redact::Engine()) {
  if (!enabled_) return;
  for (const auto& [project, actions] : cfg.projects) projects_.emplace(project, build(cfg, &actions, project));
}

const stages::redact::Engine& Redaction::engine_for(const std::string& project) const {
  if (auto it = projects_.find(project); it != projects_.end()) return it->second;
  return default_;
}

}  // namespace sluice::server
