#include "stages/ratelimit/limiter.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace sluice::stages::ratelimit {
namespace {

TEST(KeyLimiter, RpmRefusesWithRetryAfterAndRefills) {
  FakeClock clock;
  KeyLimiter l({.rpm = 2}, clock);
  auto a = l.admit(0);
  auto b = l.admit(0);
  ASSERT_TRUE(a.ok && b.ok);
  auto c = l.admit(0);
  EXPECT_FALSE(c.ok);
  EXPECT_EQ(c.refused_by, LimitKind::Rpm);
  EXPECT_EQ(c.retry_after.count(), 30'000);
  clock.advance(std::chrono::seconds(30));
  EXPECT_TRUE(l.admit(0).ok);
}

TEST(KeyLimiter, TpmReservesTheEstimateAndSettlesTheRealUsage) {
  FakeClock clock;
  KeyLimiter l({.tpm = 10'000}, clock);
  auto a = l.admit(8'000);  // estimate: input + max_tokens
  ASSERT_TRUE(a.ok);
  auto b = l.admit(4'000);
  EXPECT_FALSE(b.ok) << "the reservation counts at once, not after the stream ends";
  EXPECT_EQ(b.refused_by, LimitKind::Tpm);
  a.reservation.settle(1'500);  // the answer was short
  EXPECT_DOUBLE_EQ(*l.usage().tpm_remaining, 8'500);
  EXPECT_TRUE(l.admit(4'000).ok);
}

TEST(KeyLimiter, AllOrNothingAndNeverFits) {
  FakeClock clock;
  KeyLimiter l({.rpm = 5, .tpm = 1'000}, clock);
  auto big = l.admit(2'000);
  EXPECT_FALSE(big.ok);
  EXPECT_TRUE(big.never_fits);
  EXPECT_DOUBLE_EQ(*l.usage().rpm_remaining, 5) << "the refused request took no RPM token";
}

TEST(KeyLimiter, ConcurrencySlotsFreeOnSettleAndOnDrop) {
  FakeClock clock;
  KeyLimiter l({.concurrency = 1}, clock);
  {
    auto a = l.admit(0);
    ASSERT_TRUE(a.ok);
    auto b = l.admit(0);
    EXPECT_FALSE(b.ok);
    EXPECT_EQ(b.refused_by, LimitKind::Concurrency);
    EXPECT_EQ(l.usage().in_flight, 1);
  }  // `a` dropped without settle(): it settles itself
  EXPECT_EQ(l.usage().in_flight, 0);
  auto c = l.admit(0);
  ASSERT_TRUE(c.ok);
  Reservation moved = std::move(c.reservation);
  EXPECT_FALSE(c.reservation.active());
  moved.settle(0);
  moved.settle(0);  // settling twice is harmless
  EXPECT_EQ(l.usage().in_flight, 0);
}

TEST(KeyLimiter, DroppedReservationChargesItsEstimate) {
  FakeClock clock;
  KeyLimiter l({.tpm = 1'000}, clock);
  { auto a = l.admit(600); ASSERT_TRUE(a.ok); }
  EXPECT_DOUBLE_EQ(*l.usage().tpm_remaining, 400);
}

TEST(KeyLimiter, CancelGivesBackTheRequestTheTokensAndTheSlot) {
  FakeClock clock;
  KeyLimiter l({.rpm = 1, .tpm = 1'000, .concurrency = 1}, clock);
  auto a = l.admit(900);
  ASSERT_TRUE(a.ok);
  a.reservation.cancel();
  EXPECT_FALSE(a.reservation.active());
  auto u = l.usage();
  EXPECT_DOUBLE_EQ(*u.rpm_remaining, 1);
  EXPECT_DOUBLE_EQ(*u.tpm_remaining, 1'000);
  EXPECT_EQ(u.in_flight, 0);
  EXPECT_TRUE(l.admit(900).ok);
}

TEST(KeyLimiter, ConcurrentAdmissionsNeverExceedTheLimits) {
  SystemClock& clock = SystemClock::instance();
  KeyLimiter l({.rpm = 100, .concurrency = 1000}, clock);
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        auto a = l.admit(0);
        if (a.ok) {
          ++admitted;
          a.reservation.settle(0);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GE(admitted.load(), 100);
  EXPECT_LE(admitted.load(), 101) << "refill during the run is at most ~1 request";
  EXPECT_EQ(l.usage().in_flight, 0);
}

}  // namespace
}  // namespace sluice::stages::ratelimit
