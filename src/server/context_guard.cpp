#include "server/context_guard.hpp"

#include <cstring>

namespace sluice::server {
namespace {

namespace ctx = stages::context;

const char* find(std::string_view hay, std::string_view needle) {
  return static_cast<const char*>(memmem(hay.data(), hay.size(), needle.data(), needle.size()));
}
bool contains(std::string_view hay, std::string_view needle) { return find(hay, needle) != nullptr; }

// Bytes >= 0x80, eight at a time (the byte loop ran at 2.3 GB/s). Their top bits, moved to the
// bottom of each byte, summed by a multiply: std::popcount is a libgcc call without -mpopcnt.
std::uint64_t high_bytes(std::string_view s) {
  std::uint64_t n = 0;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    n += (((w & 0x8080808080808080ull) >> 7) * 0x0101010101010101ull) >> 56;
  }
  for (; i < s.size(); ++i) n += static_cast<unsigned char>(s[i]) >> 7;
  return n;
}

ctx::ModelTable model_table(const config::ContextConfig& cfg) {
  std::vector<ctx::WindowRule> rules;
  for (const auto& m : cfg.models) rules.push_back({m.model, m.window, m.window_1m, m.max_tokens_counts});
  for (auto& r : ctx::ModelTable::default_rules()) rules.push_back(std::move(r));
  return ctx::ModelTable(std::move(rules));
}

}  // namespace

ContextGuard::ContextGuard(const config::ContextConfig& cfg)
    : enabled_(cfg.guard),
      margin_(cfg.margin),
      trim_(cfg.trim),
      count_locally_(cfg.count_tokens == config::CountTokensMode::Local),
      table_(model_table(cfg)) {
  for (const auto& [project, trim] : cfg.project_trim) project_trim_[project] = trim;
}

bool ContextGuard::trim_for(const std::string& project, std::string_view header) const {
  if (header == "true" || header == "1" || header == "on") return true;
  if (header == "false" || header == "0" || header == "off") return false;
  if (auto it = project_trim_.find(project); it != project_trim_.end()) return it->second;
  return trim_;
}

bool ContextGuard::may_overflow(std::string_view body, std::string_view model, std::int64_t max_tokens,
                                std::string_view betas) const {
  if (!enabled_) return false;
  auto window = table_.window_for(model, betas);
  if (!window) return false;
  // A PDF's cost does not follow from its bytes. (memmem: string_view::find stops at every
  // quote of the JSON, 10x slower.)
  if (contains(body, "\"document\"")) return true;
  std::uint64_t images = 0;
  for (std::string_view rest = body; const char* at = find(rest, "\"image\""); rest = rest.substr(at - rest.data() + 7)) {
    ++images;
  }
  // The estimate gives at most 1.2 tokens per ASCII byte ("a.a.a.") and two per other byte (a
  // lone accented letter); fuzz/context_fuzz.cpp checks it.
  const std::uint64_t high = high_bytes(body);
  const double bound = 1.2 * static_cast<double>(body.size() - high) + 2.0 * static_cast<double>(high) +
                       1600.0 * static_cast<double>(images) + static_cast<double>(ctx::kToolsOverhead + ctx::kRequestOverhead);
  auto check = ctx::check_request(static_cast<std::uint64_t>(bound), max_tokens, *window, margin_);
  // Trimming aims at the central estimate: the bound must fit without the margin then.
  return !check.central_fits;
}

ContextGuard::Verdict ContextGuard::apply(std::string& body, const ctx::RequestTokens& estimate,
                                          std::string_view model, std::int64_t max_tokens, std::string_view betas,
                                          const std::string& project, std::string_view trim_header) const {
  Verdict v;
  v.input = estimate.total();
  if (!enabled_ || estimate.clears_context) return v;
  v.rule = table_.find(model);
  auto window = table_.window_for(model, betas);
  if (!window) return v;
  auto check = ctx::check_request(estimate.total(), max_tokens, *window, margin_);
  const bool trim = trim_for(project, trim_header);
  // A client that asked for trimming wants the request to fit: trim against the central
  // estimate. Otherwise refuse only what cannot fit even with the estimate's whole margin.
  if (trim && !check.central_fits) {
    if (auto t = ctx::trim_oldest_turns(body, estimate, check)) {
      v.trimmed = ctx::trimmed_header(*t, check);
      v.input = t->after;
      return v;
    }
  }
  if (check.fits) return v;
  v.refusal = Error{ErrorKind::InvalidRequest, ctx::refusal_message(model, check, margin_, !trim), {}};
  return v;
}

}  // namespace sluice::server
