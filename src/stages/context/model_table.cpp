#include "stages/context/model_table.hpp"

#include "common/glob.hpp"

namespace sluice::stages::context {
namespace {

// True when the comma-separated `betas` has one starting with `prefix` (betas carry dates).
bool has_beta(std::string_view betas, std::string_view prefix) {
  while (!betas.empty()) {
    auto comma = betas.find(',');
    auto item = betas.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    if (item.starts_with(prefix)) return true;
    if (comma == std::string_view::npos) break;
    betas.remove_prefix(comma + 1);
  }
  return false;
}

constexpr std::int64_t k200k = 200'000;
constexpr std::int64_t k1m = 1'000'000;

}  // namespace

std::vector<WindowRule> ModelTable::default_rules() {
  // Models whose limits this release knows; any other model is not guarded until a config rule
  // names it (a guessed window would refuse what a newer model takes). Every Claude model since
  // Claude 3 has a 200K window; Sonnet 4 and 4.5 take 1M tokens with the context-1m beta. The
  // 4.5 generation does not refuse a max_tokens beyond the room left: the answer stops with
  // model_context_window_exceeded. Claude 3.7 Sonnet and the Claude 4 (and 4.1) models refuse.
  return {
      {"claude-opus-4-5*", k200k, 0, false},
      {"claude-sonnet-4-5*", k200k, k1m, false},
      {"claude-haiku-4-5*", k200k, 0, false},
      {"claude-opus-4-1*", k200k, 0, true},
      {"claude-opus-4-0*", k200k, 0, true},
      {"claude-opus-4-2025*", k200k, 0, true},  // claude-opus-4-20250514
      {"claude-sonnet-4-0*", k200k, k1m, true},
      {"claude-sonnet-4-2025*", k200k, k1m, true},  // claude-sonnet-4-20250514
      {"claude-3-7-sonnet*", k200k, 0, true},
      {"claude-3-5-*", k200k, 0, false},
      {"claude-3-opus*", k200k, 0, false},
      {"claude-3-sonnet*", k200k, 0, false},
      {"claude-3-haiku*", k200k, 0, false},
  };
}

const WindowRule* ModelTable::find(std::string_view model) const {
  for (const auto& r : rules_) {
    if (glob_match(r.pattern, model)) return &r;
  }
  return nullptr;
}

std::optional<Window> ModelTable::window_for(std::string_view model, std::string_view betas) const {
  const WindowRule* r = find(model);
  if (!r || r->window <= 0) return std::nullopt;
  Window w{r->window, r->counts_max_tokens, false};
  if (r->window_1m > 0 && has_beta(betas, "context-1m-")) {
    w.tokens = r->window_1m;
    w.extended = true;
  }
  if (has_beta(betas, "model-context-window-exceeded-")) w.counts_max_tokens = false;
  return w;
}

}  // namespace sluice::stages::context
