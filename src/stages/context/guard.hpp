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

struct Check {
  bool fits = true;                  // fits even if the estimate overshot by the whole margin
  bool input_alone_over = false;     // ... and the input alone would not fit either
  bool central_fits = true;          // the central estimate plus the counted output fits
  std::uint64_t input = 0;           // estimated input tokens
  std::uint64_t counted_output = 0;  // max_tokens where the window counts it, else 0
  Window window;
};

Check check_request(std::uint64_t input_estimate, std::int64_t max_tokens, const Window& window, double margin);

// The API's own wording, with plain numbers, which Claude Code parses to size its recovery:
// "prompt is too long: 262144 tokens > 200000 maximum" when the input alone is over, else
// "input length and `max_tokens` exceed context limit: 180000 + 64000 > 200000, decrease input
// length or `max_tokens` and try again"; then what sluice adds, in parentheses.
std::string refusal_message(std::string_view model, const Check& c, double margin, bool could_trim);

struct Trimmed {
  std::size_t dropped = 0;  // messages removed from the front
  std::uint64_t before = 0; // estimated input tokens
  std::uint64_t after = 0;
};

// Drops the oldest messages so the central estimate plus the counted output fits the window,
// dropping as few as it can. Either the messages before a user turn go, or — so an agentic
// loop (one prompt, then tool calls and results) can be trimmed — the first message, a user
// prompt, stays and the ones between it and an assistant turn go. Never between a tool_use and
// its tool_result: every tool_result kept has its tool_use kept. The system prompt, tools,
// `role: "system"` messages (kept after the first kept user message) and the last message always
// stay. Rewrites `body` (re-serialised: same content, not the same bytes); nullopt (body
// untouched) when nothing fits.
std::optional<Trimmed> trim_oldest_turns(std::string& body, const RequestTokens& estimate, const Check& c);

// x-sluice-context-trimmed: dropped-messages=N; estimated-input-before=B; estimated-input-after=A; window=W
std::string trimmed_header(const Trimmed& t, const Check& c);

}  // namespace sluice::stages::context
