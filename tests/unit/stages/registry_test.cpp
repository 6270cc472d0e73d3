#include "stages/ratelimit/registry.hpp"

#include <gtest/gtest.h>

namespace sluice::stages::ratelimit {
namespace {

TEST(LimiterRegistry, KeyAndProjectAreAppliedTogetherAllOrNothing) {
  FakeClock clock;
  LimiterRegistry reg(clock);
  Limits key{.rpm = 10};
  Limits project{.rpm = 2};
  Admitted a, b;
  Refusal r;
  ASSERT_TRUE(reg.admit("key_a", key, "p", project, 0, a, r));
  ASSERT_TRUE(reg.admit("key_b", key, "p", project, 0, b, r));
  Admitted c;
  EXPECT_FALSE(reg.admit("key_a", key, "p", project, 0, c, r));
  EXPECT_EQ(r.limit, LimitKind::Rpm);
  EXPECT_STREQ(r.scope, "project");
  EXPECT_EQ(r.capacity, 2);
  // The key's request token came back when the project refused.
  EXPECT_DOUBLE_EQ(*reg.get("k:key_a", key)->usage().rpm_remaining, 9);
}

TEST(LimiterRegistry, NoLimitsMeansNoLimiter) {
  FakeClock clock;
  LimiterRegistry reg(clock);
  Admitted a;
  Refusal r;
  EXPECT_TRUE(reg.admit("key_a", {}, "p", {}, 1e9, a, r));
  EXPECT_EQ(a.key_limiter, nullptr);
  EXPECT_EQ(reg.size(), 0u);
}

TEST(LimiterRegistry, ChangedLimitsReplaceTheLimiterAndOldReservationsStillSettle) {
  FakeClock clock;
  LimiterRegistry reg(clock);
  Admitted a;
  Refusal r;
  ASSERT_TRUE(reg.admit("key_a", {.concurrency = 1}, "", {}, 0, a, r));
  Admitted b;
  EXPECT_FALSE(reg.admit("key_a", {.concurrency = 1}, "", {}, 0, b, r));
  EXPECT_EQ(r.limit, LimitKind::Concurrency);
  EXPECT_STREQ(r.scope, "key");
  Admitted c;
  EXPECT_TRUE(reg.admit("key_a", {.concurrency = 2}, "", {}, 0, c, r)) << "a new limit starts a new limiter";
  a.settle(0);  // settles against the old limiter, which it kept alive
  EXPECT_EQ(a.key_limiter->usage().in_flight, 0);
}

TEST(LimiterRegistry, NeverFitsIsReported) {
  FakeClock clock;
  LimiterRegistry reg(clock);
  Admitted a;
  Refusal r;
  EXPECT_FALSE(reg.admit("key_a", {.tpm = 100}, "", {}, 1'000, a, r));
  EXPECT_TRUE(r.never_fits);
  EXPECT_EQ(r.limit, LimitKind::Tpm);
}

}  // namespace
}  // namespace sluice::stages::ratelimit
