#pragma once
// The long-context guard's configuration, compiled (issue: long-context guard): the model table
// (config rules in front of the built-in ones), the estimator's margin, trimming per project or
// per request, and whether count_tokens is answered locally. Immutable and thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/error.hpp"
#include "config/config.hpp"
#include "stages/context/guard.hpp"
#include "stages/context/model_table.hpp"
#include "stages/context/request_tokens.hpp"

namespace sluice::server {

class ContextGuard {
 public:
  explicit ContextGuard(const config::ContextConfig& cfg);

  // What the guard did to a request that goes upstream.
  struct Verdict {
    std::optional<Error> refusal;     // a 400 "prompt is too long"
    std::string trimmed;              // x-sluice-context-trimmed, when turns were dropped
    std::uint64_t input = 0;          // the input estimate of what goes upstream (after a trim)
    const stages::context::WindowRule* rule = nullptr;  // the table entry that applied
  };
  // Checks (and maybe trims) `body` of a request to `model`. `betas` holds its anthropic-beta
  // header lines, joined by commas; `trim_header` its x-sluice-context-trim header ("" when
  // absent). Requests whose context_management edits clear tool uses are not guarded: the API
  // shrinks those prompts itself.
  Verdict apply(std::string& body, const stages::context::RequestTokens& estimate, std::string_view model,
                std::int64_t max_tokens, std::string_view betas, const std::string& project,
                std::string_view trim_header) const;

  // False when the request cannot overflow whatever its text: its model is not guarded, or a
  // bound on any estimate of `body` (1.2 tokens per ASCII byte and two per other byte, the most
  // the estimate gives, plus the most each image costs; a document bounds nothing) plus
  // max_tokens fits its window — centrally, as trimming aims. Then the estimate (0.5 GB/s) is
  // skipped: a 100 KB ASCII body never needs it for a 200K window.
  bool may_overflow(std::string_view body, std::string_view model, std::int64_t max_tokens,
                    std::string_view betas) const;

  bool count_locally() const { return count_locally_; }
  double margin() const { return margin_; }
  const stages::context::ModelTable& table() const { return table_; }

 private:
  bool trim_for(const std::string& project, std::string_view header) const;

  bool enabled_;
  double margin_;
  bool trim_;
  bool count_locally_;
  stages::context::ModelTable table_;
  std::unordered_map<std::string, bool> project_trim_;
};

}  // namespace sluice::server
