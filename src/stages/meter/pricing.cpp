#include "stages/meter/pricing.hpp"

#include <cmath>

#include "common/glob.hpp"

namespace sluice::stages::meter {

std::int64_t nanos_per_token(double usd_per_million_tokens) {
  // $1 / 1e6 tokens = 1e-6 $ per token = 1000 nano-dollars per token.
  return std::llround(usd_per_million_tokens * 1000.0);
}

namespace {

// Anthropic's usual ratios: a 5-minute cache write costs 1.25x input, a cache read 0.1x.
Price claude_price(double input_usd, double output_usd) {
  Price p;
  p.input_nanos = nanos_per_token(input_usd);
  p.output_nanos = nanos_per_token(output_usd);
  p.cache_write_nanos = nanos_per_token(input_usd * 1.25);
  p.cache_read_nanos = nanos_per_token(input_usd * 0.1);
  p.server_tool_use_nanos = 10'000'000;  // web search: $10 per 1,000 uses
  return p;
}

}  // namespace

std::vector<PriceRule> PriceTable::default_rules() {
  return {
      {"claude-opus-4-5*", claude_price(5, 25)},
      {"claude-opus-4-6*", claude_price(5, 25)},
      {"claude-opus-5*", claude_price(5, 25)},
      {"claude-opus-4*", claude_price(15, 75)},
      {"claude-3-opus*", claude_price(15, 75)},
      {"claude-sonnet-*", claude_price(3, 15)},
      {"claude-3-7-sonnet*", claude_price(3, 15)},
      {"claude-3-5-sonnet*", claude_price(3, 15)},
      {"claude-haiku-*", claude_price(1, 5)},
      {"claude-3-5-haiku*", claude_price(0.8, 4)},
      {"claude-3-haiku*", claude_price(0.25, 1.25)},
  };
}

const Price* PriceTable::find(std::string_view model) const {
  for (const auto& r : rules_) {
    if (glob_match(r.pattern, model)) return &r.price;
  }
  return nullptr;
}

std::optional<std::int64_t> PriceTable::cost_micros(std::string_view model, const Usage& u) const {
  const Price* p = find(model);
  if (!p) return std::nullopt;
  std::int64_t nanos = u.input_tokens * p->input_nanos + u.output_tokens * p->output_nanos +
                       u.cache_creation_tokens * p->cache_write_nanos + u.cache_read_tokens * p->cache_read_nanos +
                       u.server_tool_uses * p->server_tool_use_nanos;
  return (nanos + 500) / 1000;
}

}  // namespace sluice::stages::meter
