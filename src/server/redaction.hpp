#pragma once
// The redaction stage's configuration, compiled: the built-in rules with the config's action
// changes, custom rules, and one engine per project that overrides actions (issue: secret
// redaction). Built once at start-up; immutable and thread-safe afterwards.

#include <string>
#include <string_view>
#include <unordered_map>

#include "config/config.hpp"
#include "stages/redact/engine.hpp"

namespace sluice::server {

class Redaction {
 public:
  // Throws std::invalid_argument naming the bad rule type or pattern (never its text).
  explicit Redaction(const config::RedactionConfig& cfg);

  bool enabled() const { return enabled_; }
  // The engine for a request of `project` ("" without a key).
  const stages::redact::Engine& engine_for(const std::string& project) const;

 private:
  bool enabled_;
  stages::redact::Engine default_;
  std::unordered_map<std::string, stages::redact::Engine> projects_;
};

}  // namespace sluice::server
