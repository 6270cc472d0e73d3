#include "stages/ratelimit/token_bucket.hpp"

#include <gtest/gtest.h>

namespace sluice::stages::ratelimit {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(TokenBucket, StartsFullRefillsContinuouslyAndCaps) {
  FakeClock clock;
  TokenBucket b(60, clock.now());  // one per second
  EXPECT_DOUBLE_EQ(b.available(clock.now()), 60);
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(b.take(1, clock.now()).ok) << i;
  auto refused = b.take(1, clock.now());
  EXPECT_FALSE(refused.ok);
  EXPECT_EQ(refused.retry_after, milliseconds(1000));
  clock.advance(milliseconds(500));
  EXPECT_NEAR(b.available(clock.now()), 0.5, 1e-9);
  clock.advance(seconds(600));
  EXPECT_DOUBLE_EQ(b.available(clock.now()), 60) << "never above capacity";
}

TEST(TokenBucket, RequestLargerThanCapacityNeverFits) {
  FakeClock clock;
  TokenBucket b(1000, clock.now());
  auto t = b.take(1001, clock.now());
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.retry_after.count(), 0) << "waiting cannot help";
}

TEST(TokenBucket, SettleReturnsUnusedAndChargesDebt) {
  FakeClock clock;
  TokenBucket b(1000, clock.now());
  ASSERT_TRUE(b.take(800, clock.now()).ok);
  b.settle(800, 300, clock.now());  // used less than reserved
  EXPECT_DOUBLE_EQ(b.available(clock.now()), 700);
  ASSERT_TRUE(b.take(700, clock.now()).ok);
  b.settle(700, 1200, clock.now());  // used more: debt below zero
  EXPECT_DOUBLE_EQ(b.available(clock.now()), -500);
  auto t = b.take(1, clock.now());
  EXPECT_FALSE(t.ok);
  EXPECT_EQ(t.retry_after, milliseconds(30'060)) << "501 tokens at 1000/min";
  EXPECT_EQ(b.until_full(clock.now()), milliseconds(90'000));
}

}  // namespace
}  // namespace sluice::stages::ratelimit
