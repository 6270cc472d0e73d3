#pragma once
// Context windows per model (issue: long-context guard). The first matching rule wins: config
// rules go in front of the built-in ones. A model no rule matches is not guarded at all.
// Immutable after construction; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::stages::context {

struct WindowRule {
  std::string pattern;            // a model id, or a glob with '*' ("claude-sonnet-4-5*")
  std::int64_t window = 0;        // tokens of input and output together
  std::int64_t window_1m = 0;     // the window with the `context-1m-*` beta; 0 = no such beta
  // The upstream refuses a request whose input + max_tokens exceeds the window. False for
  // models that stop with `model_context_window_exceeded` instead (Claude 4.5 and later, or
  // older ones given the `model-context-window-exceeded-*` beta): only their input is checked.
  bool counts_max_tokens = true;
};

// What applies to one request.
struct Window {
  std::int64_t tokens = 0;
  bool counts_max_tokens = true;
  bool extended = false;  // the 1M window, enabled by the request's beta header
};

class ModelTable {
 public:
  explicit ModelTable(std::vector<WindowRule> rules) : rules_(std::move(rules)) {}
  // Claude models as known to this release.
  static std::vector<WindowRule> default_rules();

  const WindowRule* find(std::string_view model) const;
  // The window of `model` for a request with `anthropic-beta: <betas>`; nullopt = not guarded.
  std::optional<Window> window_for(std::string_view model, std::string_view betas) const;
  const std::vector<WindowRule>& rules() const { return rules_; }

 private:
  std::vector<WindowRule> rules_;
};

}  // namespace sluice::stages::context
