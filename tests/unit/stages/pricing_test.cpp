#include "stages/meter/pricing.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "common/glob.hpp"

namespace sluice::stages::meter {
namespace {

TEST(Pricing, NanosPerTokenFromDollarsPerMillion) {
  EXPECT_EQ(nanos_per_token(3), 3000);
  EXPECT_EQ(nanos_per_token(0.30), 300);
  EXPECT_EQ(nanos_per_token(3.75), 3750);
  EXPECT_EQ(nanos_per_token(1.25), 1250);
}

TEST(Pricing, CostIsExactIntegerMicroDollarsWithCachePricedSeparately) {
  PriceTable t{PriceTable::default_rules()};
  Usage u;
  u.input_tokens = 1'000'000;
  EXPECT_EQ(t.cost_micros("claude-sonnet-4-5-20250929", u), 3'000'000);  // $3
  u = {};
  u.output_tokens = 1'000'000;
  EXPECT_EQ(t.cost_micros("claude-sonnet-4-5", u), 15'000'000);
  u = {};
  u.cache_creation_tokens = 1'000'000;
  EXPECT_EQ(t.cost_micros("claude-sonnet-4-5", u), 3'750'000);
  u = {};
  u.cache_read_tokens = 1'000'000;
  EXPECT_EQ(t.cost_micros("claude-sonnet-4-5", u), 300'000);
  u = {};
  u.server_tool_uses = 3;
  EXPECT_EQ(t.cost_micros("claude-sonnet-4-5", u), 30'000);  // $0.01 each
  // 472 input + 89 output on Sonnet: 472*3000 + 89*15000 = 2,751,000 nano = 2751 micro.
  u = {};
  u.input_tokens = 472;
  u.output_tokens = 89;
  EXPECT_EQ(t.cost_micros("claude-sonnet-4-5", u), 2751);
}

TEST(Pricing, RoundsHalfUpOnceAtTheEnd) {
  PriceTable t{{{"m", Price{1, 0, 0, 0, 0}}}};
  Usage u;
  u.input_tokens = 499;
  EXPECT_EQ(t.cost_micros("m", u), 0);
  u.input_tokens = 500;
  EXPECT_EQ(t.cost_micros("m", u), 1);
}

TEST(Pricing, FirstMatchingRuleWinsAndUnknownModelsAreUnpriced) {
  PriceTable t{PriceTable::default_rules()};
  Usage u;
  u.output_tokens = 1'000'000;
  EXPECT_EQ(t.cost_micros("claude-opus-4-5-20251101", u), 25'000'000);
  EXPECT_EQ(t.cost_micros("claude-opus-4-1-20250805", u), 75'000'000);
  EXPECT_EQ(t.cost_micros("claude-haiku-4-5-20251001", u), 5'000'000);
  EXPECT_EQ(t.cost_micros("claude-3-haiku-20240307", u), 1'250'000);
  EXPECT_FALSE(t.cost_micros("gpt-4o", u).has_value());
  EXPECT_EQ(t.find("gpt-4o"), nullptr);
}

TEST(Glob, MatchesStarsAnywhere) {
  EXPECT_TRUE(sluice::glob_match("claude-*", "claude-x"));
  EXPECT_TRUE(sluice::glob_match("claude-*", "claude-"));
  EXPECT_TRUE(sluice::glob_match("*sonnet*", "claude-sonnet-4"));
  EXPECT_TRUE(sluice::glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(sluice::glob_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(sluice::glob_match("exact", "exact"));
  EXPECT_FALSE(sluice::glob_match("exact", "exact2"));
  EXPECT_TRUE(sluice::glob_match("*", ""));
  EXPECT_FALSE(sluice::glob_match("claude-*", "claude"));
  EXPECT_FALSE(sluice::glob_match("exact", "exac"));
  EXPECT_TRUE(sluice::glob_match("", ""));
  EXPECT_FALSE(sluice::glob_match("", "x"));
  EXPECT_TRUE(sluice::glob_match("ab**", "ab"));
  EXPECT_FALSE(sluice::glob_match("a*a", "a"));
  EXPECT_TRUE(sluice::glob_match("a*a", "aa"));
}

// The matcher before its literal-prefix fast path, as the reference.
bool reference_glob(std::string_view pattern, std::string_view text) {
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// Every string of up to `n` characters from `alphabet`.
std::vector<std::string> all_strings(std::string_view alphabet, std::size_t n) {
  std::vector<std::string> out{""};
  for (std::size_t at = 0; at < out.size(); ++at) {
    if (out[at].size() == n) continue;
    for (char c : alphabet) out.push_back(out[at] + c);
  }
  return out;
}

TEST(Glob, AgreesWithTheReferenceOnEveryShortPatternAndText) {
  const auto patterns = all_strings("ab*", 5);
  const auto texts = all_strings("ab", 5);
  for (const auto& p : patterns) {
    for (const auto& t : texts) ASSERT_EQ(sluice::glob_match(p, t), reference_glob(p, t)) << p << " / " << t;
  }
}

}  // namespace
}  // namespace sluice::stages::meter
