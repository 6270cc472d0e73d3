// The shared limits' Lua arithmetic against a real Redis: RPM and TPM buckets, reserve then
// settle, debt, all-or-nothing across key and project, concurrency with leases, idempotent
// settlements.
#include "stages/ratelimit/redis_limiter.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "unit/redis/redis_server.hpp"

namespace sluice::stages::ratelimit {
namespace {

using namespace std::chrono_literals;

class RedisLimiterTest : public ::testing::Test {
 protected:
  testing::RedisServer server_;
  redis::Connection conn_{redis::Endpoint{"127.0.0.1", server_.port(), "", 0}, 1000ms};
  RedisLimiter limiter_{conn_, "t:", 60'000ms};
  int next_ = 0;

  SharedTicket ticket(std::vector<SharedScope> scopes, double tokens) {
    return SharedTicket{std::move(scopes), "m" + std::to_string(++next_), tokens};
  }
  RedisLimiter::Decision admit(const SharedTicket& t) {
    auto r = limiter_.admit(t);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : RedisLimiter::Decision{};
  }
  double tpm_level(const std::string& scope) {
    auto r = conn_.command({"HGET", "t:" + scope + ":tpm", "t"});
    if (!r.ok() || r.value().type == redis::Reply::Type::Nil) return -1e18;  // missing = full
    return std::stod(r.value().str);
  }
};

TEST_F(RedisLimiterTest, RpmAdmitsTheBucketThenSaysWhenTheNextFits) {
  const std::vector<SharedScope> key{{"k:a", {.rpm = 5}}};
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(admit(ticket(key, 0)).admitted) << i;
  auto d = admit(ticket(key, 0));
  ASSERT_FALSE(d.admitted);
  EXPECT_EQ(d.refusal.limit, LimitKind::Rpm);
  EXPECT_STREQ(d.refusal.scope, "key");
  EXPECT_EQ(d.refusal.capacity, 5.0);
  // One request refills in 60 s / 5 = 12 s; a few ms have passed.
  EXPECT_GT(d.refusal.retry_after, 11'000ms);
  EXPECT_LE(d.refusal.retry_after, 12'000ms);
}

TEST_F(RedisLimiterTest, TpmReservesThenSettlesWithTheRealUsage) {
  const std::vector<SharedScope> p{{"p:x", {.tpm = 1000}}};
  auto first = ticket(p, 600);
  ASSERT_TRUE(admit(first).admitted);
  auto second = admit(ticket(p, 600));
  ASSERT_FALSE(second.admitted) << "400 left, 600 asked";
  EXPECT_EQ(second.refusal.limit, LimitKind::Tpm);
  EXPECT_STREQ(second.refusal.scope, "project");
  EXPECT_FALSE(second.refusal.never_fits);
  // 200 missing at 1000/min: 12 s.
  EXPECT_GT(second.refusal.retry_after, 11'500ms);
  EXPECT_LE(second.refusal.retry_after, 12'000ms);
  // The request used 100 of its 600: 500 come back.
  auto settled = limiter_.settle(first, 100);
  ASSERT_TRUE(settled.ok());
  EXPECT_TRUE(settled.value());
  EXPECT_NEAR(tpm_level("p:x"), 900, 1.0);
  EXPECT_TRUE(admit(ticket(p, 600)).admitted);
}

TEST_F(RedisLimiterTest, UsageBeyondTheReservationIsDebt) {
  const std::vector<SharedScope> p{{"p:d", {.tpm = 1000}}};
  auto t = ticket(p, 100);
  ASSERT_TRUE(admit(t).admitted);
  ASSERT_TRUE(limiter_.settle(t, 1500).ok());
  EXPECT_NEAR(tpm_level("p:d"), -500, 1.0);
  auto d = admit(ticket(p, 1));
  ASSERT_FALSE(d.admitted);
  EXPECT_GT(d.refusal.retry_after, 29'000ms) << "501 tokens to refill at 1000/min";
}

TEST_F(RedisLimiterTest, ARequestLargerThanTheLimitNeverFits) {
  auto d = admit(ticket({{"k:big", {.tpm = 1000}}}, 1001));
  ASSERT_FALSE(d.admitted);
  EXPECT_TRUE(d.refusal.never_fits);
  EXPECT_EQ(d.refusal.retry_after, 0ms);
}

TEST_F(RedisLimiterTest, AdmissionIsAllOrNothingAcrossKeyAndProject) {
  const std::vector<SharedScope> both{{"k:a", {.rpm = 10, .tpm = 1000}}, {"p:p", {.rpm = 1}}};
  ASSERT_TRUE(admit(ticket(both, 100)).admitted);
  auto d = admit(ticket(both, 100));
  ASSERT_FALSE(d.admitted);
  EXPECT_STREQ(d.refusal.scope, "project");
  // The key's buckets were not touched by the refused request: 900 tokens, 9 requests left.
  EXPECT_NEAR(tpm_level("k:a"), 900, 1.0);
  for (int i = 0; i < 9; ++i) EXPECT_TRUE(admit(ticket({{"k:a", {.rpm = 10}}}, 0)).admitted) << i;
  EXPECT_FALSE(admit(ticket({{"k:a", {.rpm = 10}}}, 0)).admitted);
}

TEST_F(RedisLimiterTest, ConcurrencySlotsFreeOnSettleAndExpireWithTheirLease) {
  const std::vector<SharedScope> k{{"k:c", {.concurrency = 2}}};
  auto a = ticket(k, 0), b = ticket(k, 0);
  ASSERT_TRUE(admit(a).admitted);
  ASSERT_TRUE(admit(b).admitted);
  auto c = admit(ticket(k, 0));
  ASSERT_FALSE(c.admitted);
  EXPECT_EQ(c.refusal.limit, LimitKind::Concurrency);
  ASSERT_TRUE(limiter_.settle(a, 0).ok());
  EXPECT_TRUE(admit(ticket(k, 0)).admitted);

  // A replica that died holding slots: they come back when the lease runs out.
  RedisLimiter short_lease(conn_, "t:", 300ms);
  const std::vector<SharedScope> dead{{"k:dead", {.concurrency = 1}}};
  ASSERT_TRUE(short_lease.admit({dead, "x1", 0}).value().admitted);
  EXPECT_FALSE(short_lease.admit({dead, "x2", 0}).value().admitted);
  std::this_thread::sleep_for(400ms);
  EXPECT_TRUE(short_lease.admit({dead, "x3", 0}).value().admitted) << "the dead member's lease expired";
}

TEST_F(RedisLimiterTest, ASettlementAppliesOnce) {
  const std::vector<SharedScope> p{{"p:i", {.tpm = 1000, .concurrency = 5}}};
  auto t = ticket(p, 500);
  ASSERT_TRUE(admit(t).admitted);
  auto first = limiter_.settle(t, 0);
  auto second = limiter_.settle(t, 0);  // a retry after a lost reply
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(first.value());
  EXPECT_FALSE(second.value());
  EXPECT_EQ(tpm_level("p:i"), -1e18) << "back to full (deleted), not 1500";
}

TEST_F(RedisLimiterTest, OnlyATpmCreditLeavesAShortLivedMarker) {
  auto plain = ticket({{"k:m", {.rpm = 100, .concurrency = 5}}}, 0);
  ASSERT_TRUE(admit(plain).admitted);
  ASSERT_TRUE(limiter_.settle(plain, 0).ok());
  auto none = conn_.command({"EXISTS", "t:settled:" + plain.member});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.value().integer, 0) << "nothing to credit: nothing kept per request";
  auto zcard = conn_.command({"ZCARD", "t:k:m:conc"});
  EXPECT_EQ(zcard.value().integer, 0);

  auto tpm = ticket({{"k:m", {.tpm = 1000}}}, 300);
  ASSERT_TRUE(admit(tpm).admitted);
  ASSERT_TRUE(limiter_.settle(tpm, 10).ok());
  auto ttl = conn_.command({"PTTL", "t:settled:" + tpm.member});
  ASSERT_TRUE(ttl.ok());
  EXPECT_GT(ttl.value().integer, 0);
  EXPECT_LE(ttl.value().integer, 120'000) << "bounded memory per request";
}

TEST_F(RedisLimiterTest, ALoweredLimitAppliesAtOnce) {
  ASSERT_TRUE(admit(ticket({{"k:l", {.tpm = 1000}}}, 100)).admitted);  // 900 left
  auto d = admit(ticket({{"k:l", {.tpm = 200}}}, 150));                 // clamped to 200: fits
  EXPECT_TRUE(d.admitted);
  EXPECT_FALSE(admit(ticket({{"k:l", {.tpm = 200}}}, 150)).admitted);   // 50 left
}

TEST_F(RedisLimiterTest, UnreachableRedisIsAnErrorNotARefusal) {
  redis::Connection dead({"127.0.0.1", testing::free_port(), "", 0}, 200ms);
  RedisLimiter l(dead, "t:", 1000ms);
  auto r = l.admit({{{"k:z", {.rpm = 1}}}, "m", 0});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Unavailable);
  EXPECT_FALSE(l.settle({{{"k:z", {.rpm = 1}}}, "m", 0}, 0).ok());
  EXPECT_FALSE(l.ping().ok());
}

}  // namespace
}  // namespace sluice::stages::ratelimit
