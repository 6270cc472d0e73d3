#include "server/context_guard.hpp"

#include <string>

#include <gtest/gtest.h>

#include "stages/context/request_tokens.hpp"

namespace sluice::server {
namespace {

config::ContextConfig with_window(std::int64_t window, bool counts = false) {
  config::ContextConfig c;
  c.models.push_back({"tiny-*", window, 0, counts});
  return c;
}

std::string body_of(const std::string& text) {
  return R"({"model":"tiny-1","max_tokens":10,"messages":[{"role":"user","content":")" + text + R"("}]})";
}

TEST(ContextGuardBound, SkipsTheEstimateOnlyWhenNothingCouldOverflow) {
  ContextGuard g(with_window(10'000));
  const std::string small = body_of(std::string(5'000, 'a'));
  EXPECT_FALSE(g.may_overflow(small, "tiny-1", 10, ""));
  EXPECT_FALSE(g.may_overflow(small, "unlisted", 10, ""));  // not guarded at all
  const std::string big = body_of(std::string(20'000, 'a'));
  EXPECT_TRUE(g.may_overflow(big, "tiny-1", 10, ""));
  // Non-ASCII text may cost up to two tokens a byte.
  std::string accents;
  for (int i = 0; i < 2'600; ++i) accents += "é";  // 5,200 bytes
  EXPECT_TRUE(g.may_overflow(body_of(accents), "tiny-1", 10, ""));
  // Each image may cost 1,600 tokens whatever its size in the body; documents bound nothing.
  std::string images = R"({"model":"tiny-1","max_tokens":10,"messages":[{"role":"user","content":[)";
  for (int i = 0; i < 7; ++i) images += std::string(i ? "," : "") + R"({"type":"image","source":{"type":"url","url":"u"}})";
  images += "]}]}";
  EXPECT_TRUE(g.may_overflow(images, "tiny-1", 10, ""));
  EXPECT_TRUE(g.may_overflow(R"({"messages":[{"role":"user","content":[{"type":"document"}]}]})", "tiny-1", 10, ""));
}

TEST(ContextGuardBound, TheBoundHoldsForTheRealEstimate) {
  // Whatever the bound lets through must really fit: texts at 1.2 tokens a byte, the most the
  // estimate gives for ASCII.
  ContextGuard g(with_window(10'000));
  std::string dense;
  while (dense.size() < 7'000) dense += "a.";
  const std::string body = body_of(dense);
  const auto e = stages::context::estimate_request(body);
  ASSERT_TRUE(e);
  if (!g.may_overflow(body, "tiny-1", 10, "")) {
    EXPECT_LE(e->total(), 10'000u);
  }
  EXPECT_GT(e->total(), 7'000u);  // dense text really is above a token per two bytes
}

TEST(ContextGuardApply, RefusesTrimsAndLeavesAlone) {
  auto cfg = with_window(1'000);
  cfg.project_trim.emplace_back("trimmer", true);
  ContextGuard g(cfg);
  std::string text;
  for (int i = 0; i < 1'200; ++i) text += "word ";
  std::string body = R"({"model":"tiny-1","max_tokens":10,"messages":[{"role":"user","content":")" + text +
                     R"("},{"role":"assistant","content":"ok"},{"role":"user","content":"short question"}]})";
  const auto e = stages::context::estimate_request(body);
  ASSERT_TRUE(e);
  ASSERT_GT(e->total(), 1'300u);
  std::string copy = body;
  auto refused = g.apply(copy, *e, "tiny-1", 10, "", "", "");
  ASSERT_TRUE(refused.refusal);
  EXPECT_EQ(copy, body);
  auto trimmed = g.apply(copy, *e, "tiny-1", 10, "", "trimmer", "");
  EXPECT_FALSE(trimmed.refusal);
  EXPECT_FALSE(trimmed.trimmed.empty());
  EXPECT_LT(trimmed.input, e->total());
  // The request header wins over the project's setting.
  std::string again = body;
  EXPECT_TRUE(g.apply(again, *e, "tiny-1", 10, "", "trimmer", "false").refusal);
  // Prompts the API shrinks itself are not guarded.
  auto edited = *e;
  edited.clears_context = true;
  std::string third = body;
  EXPECT_FALSE(g.apply(third, edited, "tiny-1", 10, "", "", "").refusal);
}

}  // namespace
}  // namespace sluice::server
