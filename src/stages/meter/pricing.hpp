#pragma once
// Prices per model, and the cost of a request in integer micro-dollars (issue: exact metering).
// Prices are kept in nano-dollars per token, so that "$3 per million tokens" is exactly 3000 and
// every sum is integer arithmetic; the cost is rounded to micro-dollars once, at the end.
// Immutable after construction; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stages/meter/usage.hpp"

namespace sluice::stages::meter {

struct Price {
  std::int64_t input_nanos = 0;        // per uncached input token
  std::int64_t output_nanos = 0;       // per output token (thinking included)
  std::int64_t cache_write_nanos = 0;  // per token written to the prompt cache
  std::int64_t cache_read_nanos = 0;   // per token read from the prompt cache
  std::int64_t server_tool_use_nanos = 0;  // per server tool use (a web search)
};

// Nano-dollars per token from US dollars per million tokens (the unit price lists use).
std::int64_t nanos_per_token(double usd_per_million_tokens);

struct PriceRule {
  std::string pattern;  // a model id, or a glob with '*' ("claude-sonnet-4-5*")
  Price price;
};

class PriceTable {
 public:
  // The first matching rule wins: put specific patterns before general ones.
  explicit PriceTable(std::vector<PriceRule> rules) : rules_(std::move(rules)) {}
  // List prices of Claude models as known to this release; config rules go in front of these.
  static std::vector<PriceRule> default_rules();

  const Price* find(std::string_view model) const;
  // The cost of `u` on `model` in micro-dollars, rounded half up; nullopt for an unpriced model.
  std::optional<std::int64_t> cost_micros(std::string_view model, const Usage& u) const;
  const std::vector<PriceRule>& rules() const { return rules_; }

 private:
  std::vector<PriceRule> rules_;
};


}  // namespace sluice::stages::meter
