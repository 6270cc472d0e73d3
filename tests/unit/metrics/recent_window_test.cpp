#include "metrics/recent_window.hpp"

#include <gtest/gtest.h>

namespace sluice::metrics {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RecentWindow, EmptyHasNoPercentiles) {
  FakeClock clock;
  RecentWindow w(clock);
  auto s = w.summary(seconds(60));
  EXPECT_EQ(s.requests, 0u);
  EXPECT_EQ(s.error_rate, 0);
  EXPECT_FALSE(s.latency_p50_ms);
  EXPECT_FALSE(s.ttfb_p99_ms);
}

TEST(RecentWindow, RatesAndExactPercentiles) {
  FakeClock clock;
  RecentWindow w(clock);
  // 100 requests over 10 s, latencies 1..100 ms, every 10th failed, ttfb on the even ones.
  for (int i = 1; i <= 100; ++i) {
    std::optional<double> ttfb;
    if (i % 2 == 0) ttfb = i / 2.0;
    w.record(i, ttfb, i % 10 == 0);
    clock.advance(milliseconds(100));
  }
  auto s = w.summary(seconds(60));
  EXPECT_EQ(s.window, seconds(60));
  EXPECT_EQ(s.requests, 100u);
  EXPECT_EQ(s.errors, 10u);
  EXPECT_DOUBLE_EQ(s.error_rate, 0.1);
  EXPECT_DOUBLE_EQ(s.requests_per_second, 100.0 / 60);
  EXPECT_EQ(*s.latency_p50_ms, 50);
  EXPECT_EQ(*s.latency_p99_ms, 99);
  EXPECT_EQ(s.ttfb_samples, 50u);
  EXPECT_EQ(*s.ttfb_p50_ms, 25);   // 1, 2, ..., 50: the 25th
  EXPECT_EQ(*s.ttfb_p99_ms, 50);   // ceil(0.99 * 50) = 50th
}

TEST(RecentWindow, OldRequestsLeaveTheWindow) {
  FakeClock clock;
  RecentWindow w(clock, seconds(60));
  for (int i = 0; i < 5; ++i) w.record(1000, std::nullopt, true);
  clock.advance(seconds(30));
  for (int i = 0; i < 3; ++i) w.record(10, 5.0, false);
  auto recent = w.summary(seconds(10));
  EXPECT_EQ(recent.requests, 3u);
  EXPECT_EQ(recent.errors, 0u);
  EXPECT_EQ(*recent.latency_p99_ms, 10);
  auto minute = w.summary(seconds(60));
  EXPECT_EQ(minute.requests, 8u);
  EXPECT_EQ(minute.errors, 5u);
  EXPECT_EQ(*minute.latency_p99_ms, 1000);
  clock.advance(seconds(61));
  auto later = w.summary(seconds(60));
  EXPECT_EQ(later.requests, 0u);
  EXPECT_FALSE(later.latency_p50_ms);
}

TEST(RecentWindow, SecondsRingIsReusedAcrossLaps) {
  FakeClock clock;
  RecentWindow w(clock, seconds(5));
  w.record(1, std::nullopt, false);
  clock.advance(seconds(6));  // same ring slot one lap later
  w.record(2, std::nullopt, true);
  auto s = w.summary(seconds(5));
  EXPECT_EQ(s.requests, 1u);
  EXPECT_EQ(s.errors, 1u);
}

TEST(RecentWindow, WindowIsClampedAndSamplesBounded) {
  FakeClock clock;
  RecentWindow w(clock, seconds(60), 10);
  for (int i = 1; i <= 25; ++i) w.record(i, std::nullopt, false);
  auto s = w.summary(seconds(3600));
  EXPECT_EQ(s.window, seconds(60));
  EXPECT_EQ(s.requests, 25u);         // counters are not sampled
  EXPECT_EQ(s.latency_samples, 10u);  // the latest 10 samples: 16..25
  EXPECT_EQ(*s.latency_p50_ms, 20);
  EXPECT_EQ(w.summary(seconds(0)).window, seconds(1));
}

TEST(NearestRank, Edges) {
  EXPECT_EQ(nearest_rank({7}, 0.5), 7);
  EXPECT_EQ(nearest_rank({1, 2}, 0.5), 1);
  EXPECT_EQ(nearest_rank({1, 2}, 0.99), 2);
}

}  // namespace
}  // namespace sluice::metrics
