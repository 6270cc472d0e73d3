#include "upstream/circuit_breaker.hpp"

#include <gtest/gtest.h>

namespace sluice::upstream {
namespace {

using State = CircuitBreaker::State;
using std::chrono::milliseconds;

TEST(CircuitBreaker, OpensOnConsecutiveFailuresAndFailsFast) {
  FakeClock clock;
  BreakerConfig cfg;
  cfg.consecutive_failures = 3;
  CircuitBreaker b(cfg, clock);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(b.admit().allowed);
    b.record(false, false);
  }
  EXPECT_EQ(b.state(), State::Closed);
  b.record(true, false);  // a success resets the run
  for (int i = 0; i < 2; ++i) b.record(false, false);
  EXPECT_EQ(b.state(), State::Closed);
  b.record(false, false);
  EXPECT_EQ(b.state(), State::Open);
  auto a = b.admit();
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.retry_in, cfg.open_for);
  clock.advance(milliseconds(2000));
  EXPECT_EQ(b.admit().retry_in, milliseconds(3000));
}

TEST(CircuitBreaker, HalfOpenProbeClosesOnSuccessReopensOnFailure) {
  FakeClock clock;
  BreakerConfig cfg;
  cfg.consecutive_failures = 1;
  CircuitBreaker b(cfg, clock);
  b.record(false, false);
  ASSERT_EQ(b.state(), State::Open);
  clock.advance(cfg.open_for);
  EXPECT_EQ(b.state(), State::HalfOpen);
  auto probe = b.admit();
  ASSERT_TRUE(probe.allowed);
  EXPECT_TRUE(probe.probe);
  EXPECT_FALSE(b.admit().allowed) << "only one probe at a time";
  b.record(false, true);
  EXPECT_EQ(b.state(), State::Open) << "failed probe reopens";
  clock.advance(cfg.open_for);
  probe = b.admit();
  ASSERT_TRUE(probe.probe);
  b.record(true, true);
  EXPECT_EQ(b.state(), State::Closed);
  EXPECT_TRUE(b.admit().allowed);
}

TEST(CircuitBreaker, OpensOnFailureRatioOverTheWindow) {
  FakeClock clock;
  BreakerConfig cfg;
  cfg.consecutive_failures = 1000;
  cfg.min_requests = 10;
  cfg.failure_ratio = 0.5;
  CircuitBreaker b(cfg, clock);
  // Alternating outcomes: never 2 failures in a row, but a 50 % failure ratio.
  for (int i = 0; i < 9; ++i) b.record(i % 2 == 0, false);
  EXPECT_EQ(b.state(), State::Closed) << "below min_requests";
  b.record(false, false);
  EXPECT_EQ(b.state(), State::Open);
}

TEST(CircuitBreaker, OldOutcomesAgeOut) {
  FakeClock clock;
  BreakerConfig cfg;
  cfg.consecutive_failures = 1000;
  cfg.min_requests = 8;
  cfg.failure_ratio = 0.5;
  CircuitBreaker b(cfg, clock);
  // 7 outcomes, 4 failures, never two in a row: below min_requests, so still closed.
  for (int i = 0; i < 7; ++i) b.record(i % 2 == 1, false);
  ASSERT_EQ(b.state(), State::Closed);
  clock.advance(cfg.window * 2);
  // Without aging this would be the 8th outcome and the 5th failure: 5/8 >= 0.5 would open it.
  b.record(false, false);
  EXPECT_EQ(b.state(), State::Closed) << "the old outcomes left the window";
}

TEST(CircuitBreaker, WithoutAgingTheSameSequenceOpens) {
  FakeClock clock;
  BreakerConfig cfg;
  cfg.consecutive_failures = 1000;
  cfg.min_requests = 8;
  cfg.failure_ratio = 0.5;
  CircuitBreaker b(cfg, clock);
  for (int i = 0; i < 7; ++i) b.record(i % 2 == 1, false);
  b.record(false, false);
  EXPECT_EQ(b.state(), State::Open) << "the control case: same outcomes inside one window";
}

}  // namespace
}  // namespace sluice::upstream
