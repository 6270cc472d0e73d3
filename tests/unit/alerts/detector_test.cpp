#include "alerts/detector.hpp"

#include <chrono>
#include <stdexcept>

#include <gtest/gtest.h>

namespace sluice::alerts {
namespace {

using std::chrono::hours;

class DetectorTest : public ::testing::Test {
 protected:
  // Starts at the top of an hour, so hours advance exactly.
  void SetUp() override { clock.set_wall(std::chrono::system_clock::time_point(hours(472'300))); }
  void next_hour(int n = 1) { clock.advance(hours(n)); }

  // Anomaly detection only, with small numbers.
  static Settings anomaly_settings() {
    Settings s;
    s.large_request_tokens = 0;
    s.anomaly_factor = 5;
    s.anomaly_min_tokens = 1'000;
    s.baseline_hours = 4;
    s.min_history_hours = 3;
    return s;
  }

  std::vector<Alert> use(Detector& d, const std::string& project, std::int64_t tokens) {
    return d.observe(project, "key_" + project, "req_" + std::to_string(++requests), "claude-sonnet-4-5", tokens);
  }

  FakeClock clock;
  int requests = 0;
};

TEST_F(DetectorTest, LargeRequestOnlyAboveTheThreshold) {
  Settings s;
  s.large_request_tokens = 10'000;
  Detector d(s, clock);
  EXPECT_TRUE(d.observe("p", "k", "req_a", "m", 9'999).empty());
  EXPECT_TRUE(d.observe("p", "k", "req_b", "m", 10'000).empty());
  auto alerts = d.observe("p", "key_7", "req_c", "claude-opus-4-1", 10'001);
  ASSERT_EQ(alerts.size(), 1u);
  const Alert& a = alerts[0];
  EXPECT_EQ(a.kind, "large_request");
  EXPECT_EQ(a.project, "p");
  EXPECT_EQ(a.key_id, "key_7");
  EXPECT_EQ(a.request_id, "req_c");
  EXPECT_EQ(a.model, "claude-opus-4-1");
  EXPECT_EQ(a.tokens, 10'001);
  EXPECT_EQ(a.threshold, 10'000);
  EXPECT_EQ(a.ts_ms, 472'300LL * 3'600'000);
  EXPECT_FALSE(a.message.empty());
}

TEST_F(DetectorTest, LargeRequestThresholdZeroIsOff) {
  Settings s;
  s.large_request_tokens = 0;
  Detector d(s, clock);
  EXPECT_TRUE(use(d, "p", 5'000'000).empty());
}

TEST_F(DetectorTest, NoAnomalyBeforeMinHistoryHours) {
  Detector d(anomaly_settings(), clock);
  EXPECT_TRUE(use(d, "p", 100).empty());
  next_hour();
  EXPECT_TRUE(use(d, "p", 100).empty());
  next_hour();
  EXPECT_TRUE(use(d, "p", 50'000).empty());  // far over 5x and the floor, but 2 hours of history
  next_hour();
  auto alerts = use(d, "p", 300'000);  // baseline (100 + 100 + 50000) / 3 = 16733
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind, "usage_anomaly");
  EXPECT_EQ(alerts[0].tokens, 300'000);
  EXPECT_NEAR(alerts[0].baseline, 50'200.0 / 3, 1e-9);
}

TEST_F(DetectorTest, AnomalyNeedsMoreThanFactorTimesBaseline) {
  Settings s = anomaly_settings();
  Detector d(s, clock);
  for (int h = 0; h < 4; ++h) {
    EXPECT_TRUE(use(d, "p", 100'000).empty());
    next_hour();
  }
  EXPECT_TRUE(use(d, "p", 500'000).empty());  // exactly 5x the baseline of 100000
  auto alerts = use(d, "p", 1);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].tokens, 500'001);
  EXPECT_EQ(alerts[0].baseline, 100'000);
  EXPECT_EQ(alerts[0].threshold, 500'000);
}

TEST_F(DetectorTest, AnomalyNeedsMoreThanTheFloor) {
  Settings s = anomaly_settings();
  s.anomaly_min_tokens = 10'000;
  Detector d(s, clock);
  for (int h = 0; h < 4; ++h) {
    EXPECT_TRUE(use(d, "p", 1'000).empty());
    next_hour();
  }
  EXPECT_TRUE(use(d, "p", 6'000).empty());  // over 5x, under the floor
  EXPECT_TRUE(use(d, "p", 4'000).empty());  // 10000: at the floor
  auto alerts = use(d, "p", 1);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].threshold, 10'000);
}

TEST_F(DetectorTest, OneAnomalyPerProjectPerHour) {
  Detector d(anomaly_settings(), clock);
  for (int h = 0; h < 4; ++h) {
    use(d, "p", 1'000);
    next_hour();
  }
  EXPECT_EQ(use(d, "p", 10'001).size(), 1u);
  EXPECT_TRUE(use(d, "p", 50'000).empty());
  EXPECT_TRUE(use(d, "p", 50'000).empty());
  next_hour();  // baseline now (1000 + 1000 + 1000 + 110001) / 4 = 28250.25
  EXPECT_TRUE(use(d, "p", 140'000).empty());
  auto alerts = use(d, "p", 2'000);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].tokens, 142'000);
}

TEST_F(DetectorTest, BaselineCountsEmptyHoursAsZero) {
  Detector d(anomaly_settings(), clock);
  use(d, "p", 40'000);
  next_hour(4);  // hours 1, 2 and 3 unused: baseline 40000 / 4 = 10000
  EXPECT_TRUE(use(d, "p", 49'000).empty());
  auto alerts = use(d, "p", 2'000);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].baseline, 10'000);
  EXPECT_EQ(alerts[0].threshold, 50'000);
}

TEST_F(DetectorTest, IdleLongerThanTheWindowMeansAZeroBaseline) {
  Detector d(anomaly_settings(), clock);
  use(d, "p", 40'000);
  next_hour(10);
  EXPECT_TRUE(use(d, "p", 1'000).empty());  // the floor still applies
  auto alerts = use(d, "p", 1);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].baseline, 0);
}

TEST_F(DetectorTest, ProjectsAreIndependent) {
  Detector d(anomaly_settings(), clock);
  for (int h = 0; h < 3; ++h) {
    use(d, "a", 100);
    next_hour();
  }
  use(d, "b", 100);  // b's history starts now
  next_hour();
  auto a_alerts = use(d, "a", 1'000'000);
  ASSERT_EQ(a_alerts.size(), 1u);
  EXPECT_EQ(a_alerts[0].project, "a");
  EXPECT_TRUE(use(d, "b", 1'000'000).empty());  // one hour of history for b
  EXPECT_TRUE(use(d, "c", 1'000'000).empty());  // none for c
  next_hour(2);
  auto b_alerts = use(d, "b", 1'000'000);  // b: 100, 1000000, 0 -> baseline 333366.7
  EXPECT_TRUE(b_alerts.empty());
  EXPECT_EQ(use(d, "b", 1'000'000).size(), 1u);  // 2000000 > 5 x 333366.7
}

TEST_F(DetectorTest, LargeRequestAndAnomalyFromOneRequest) {
  Settings s = anomaly_settings();
  s.large_request_tokens = 10'000;
  Detector d(s, clock);
  for (int h = 0; h < 3; ++h) {
    use(d, "p", 100);
    next_hour();
  }
  auto alerts = use(d, "p", 20'000);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].kind, "large_request");
  EXPECT_EQ(alerts[1].kind, "usage_anomaly");
  EXPECT_EQ(alerts[1].request_id, alerts[0].request_id);
}

TEST_F(DetectorTest, SeededHistorySurvivesARestart) {
  // A project used 1,000 tokens an hour for the last four hours before this process started.
  Detector d(anomaly_settings(), clock);
  const std::int64_t now_hour = 472'300;
  for (std::int64_t h = now_hour - 4; h < now_hour; ++h) d.seed("p", h, 1'000);
  d.seed("p", now_hour - 10, 1'000'000);  // out of order: ignored
  // Baseline 1,000: 4,000 this hour is under 5x; 5,001 in all is over it (and over the floor).
  EXPECT_TRUE(use(d, "p", 4'000).empty());
  auto alerts = use(d, "p", 1'001);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind, kUsageAnomaly);
  EXPECT_DOUBLE_EQ(alerts[0].baseline, 1'000);
}

TEST_F(DetectorTest, RejectsInvalidSettings) {
  Settings s;
  s.baseline_hours = 0;
  EXPECT_THROW(Detector(s, clock), std::invalid_argument);
}

}  // namespace
}  // namespace sluice::alerts
