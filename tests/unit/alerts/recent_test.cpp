#include "alerts/recent.hpp"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::alerts {
namespace {

Alert numbered(int i) {
  Alert a;
  a.kind = kLargeRequest;
  a.request_id = "req_" + std::to_string(i);
  a.tokens = i;
  return a;
}

TEST(RecentAlerts, NewestFirstAndLimited) {
  RecentAlerts r(10);
  for (int i = 1; i <= 4; ++i) r.add(numbered(i));
  auto two = r.latest(2);
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].request_id, "req_4");
  EXPECT_EQ(two[1].request_id, "req_3");
  EXPECT_EQ(r.latest(100).size(), 4u);
  EXPECT_TRUE(r.latest(0).empty());
}

TEST(RecentAlerts, ForgetsTheOldestBeyondCapacity) {
  RecentAlerts r(3);
  for (int i = 1; i <= 7; ++i) r.add(numbered(i));
  auto all = r.latest(10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].request_id, "req_7");
  EXPECT_EQ(all[2].request_id, "req_5");
  EXPECT_EQ(r.total(), 7u);
}

TEST(RecentAlerts, ZeroCapacityStillKeepsOne) {
  RecentAlerts r(0);
  r.add(numbered(1));
  r.add(numbered(2));
  ASSERT_EQ(r.latest(5).size(), 1u);
  EXPECT_EQ(r.latest(5)[0].request_id, "req_2");
}

TEST(RecentAlerts, ConcurrentWritersAndReaders) {
  RecentAlerts r(50);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&r, t] {
      for (int i = 0; i < 500; ++i) {
        r.add(numbered(t * 1000 + i));
        if (i % 50 == 0) {
          EXPECT_LE(r.latest(100).size(), 50u);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(r.total(), 2000u);
  EXPECT_EQ(r.latest(100).size(), 50u);
}

}  // namespace
}  // namespace sluice::alerts
