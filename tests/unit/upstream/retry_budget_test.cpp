#include "upstream/retry_budget.hpp"

#include <gtest/gtest.h>

namespace sluice::upstream {
namespace {

TEST(RetryBudget, FloorAllowsAFewRetriesWhenQuiet) {
  FakeClock clock;
  RetryConfig cfg;
  RetryBudget b(cfg, clock);
  b.on_request();
  EXPECT_TRUE(b.try_retry());
  EXPECT_TRUE(b.try_retry());
  EXPECT_TRUE(b.try_retry());
  EXPECT_FALSE(b.try_retry()) << "floor of 3 per window";
}

TEST(RetryBudget, RatioOfRequestsUnderLoadAndRefillsOverTime) {
  FakeClock clock;
  RetryConfig cfg;
  RetryBudget b(cfg, clock);
  for (int i = 0; i < 100; ++i) b.on_request();
  int granted = 0;
  for (int i = 0; i < 100; ++i) granted += b.try_retry() ? 1 : 0;
  EXPECT_EQ(granted, 20) << "20 % of 100 requests";
  clock.advance(cfg.budget_window * 2);
  EXPECT_TRUE(b.try_retry()) << "the window moved on";
}

}  // namespace
}  // namespace sluice::upstream
