#pragma once
// The long-context guard's decision (issue: long-context guard). A request is refused only when
// it cannot fit even if the estimate overshot by its whole measured error: the lowest input it
// plausibly has, plus max_tokens where the model counts it, must exceed the window. Anything
// closer goes upstream, which has the exact count; a false refusal costs more than a late one.
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "stages/context/model_table.hpp"
#include "stages/context/request_tokens.hpp"

namespace sluice::stages::context {

// The estimator's error allowance: the estimate over the reference counts at its worst, as
// measured by bench/token-calibration (docs/context-guard.md).
inline constexpr double kDefaultMargin = 0.15;

struct Check {
  bool fits = true;
  std::uint64_t input = 0;           // estimated input tokens
  std::uint64_t counted_output = 0;  // max_tokens where the window counts it, else 0
  Window window;
};

Check check_request(std::uint64_t input_estimate, std::int64_t max_tokens, const Window& window, double margin);

// "prompt is too long: ..." (the wording Claude Code reacts to), with the estimate and the limit.
std::string refusal_message(std::string_view model, const Check& c, double margin);

struct Trimmed {
  std::size_t dropped = 0;  // messages removed from the front
  std::uint64_t before = 0; // estimated input tokens
  std::uint64_t after = 0;
};

// Drops the oldest messages so the central estimate plus the counted output fits the window.
// A cut falls only before a user message, and never between a tool_use and its tool_result:
// every tool_result kept has its tool_use kept. The system prompt, tools and the last message
// always stay. Rewrites `body`; nullopt (body untouched) when no such cut fits.
std::optional<Trimmed> trim_oldest_turns(std::string& body, const RequestTokens& estimate, const Check& c);

// x-sluice-context-trimmed: dropped-messages=N; estimated-input-before=B; estimated-input-after=A; window=W
std::string trimmed_header(const Trimmed& t, const Check& c);

}  // namespace sluice::stages::context
