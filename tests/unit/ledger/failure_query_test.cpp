#include "ledger/failure_query.hpp"

#include <gtest/gtest.h>

#include "ledger/sqlite_ledger.hpp"
#include "ledger_test_support.hpp"

namespace sluice::ledger {
namespace {

constexpr std::int64_t kT0 = 1'709'251'200'000;  // 2024-03-01T00:00:00Z

Row row(std::int64_t ts, const char* project, int status, const char* error) {
  Row r;
  r.ts_ms = ts;
  r.request_id = "req_" + std::to_string(ts);
  r.project = project;
  r.key_id = std::string("key_") + project;
  r.model = "claude-sonnet-4-5";
  r.provider = "anthropic#0";
  r.route = "/v1/messages";
  r.status = status;
  r.error = error;
  r.attempts = 1;
  r.latency_ms = 12.5;
  r.input_tokens = 10;
  r.cost_micros = 30;
  return r;
}

class FailureQuery : public testing::Test {
 protected:
  void SetUp() override {
    SqliteLedger::Options o;
    o.path = tmp_.path();
    SqliteLedger ledger(o);
    ledger.append(row(kT0 + 1, "alpha", 200, ""));               // success
    ledger.append(row(kT0 + 2, "alpha", 429, "RateLimited"));    // refused
    ledger.append(row(kT0 + 3, "beta", 200, "UpstreamFailed"));  // broke after a 200
    ledger.append(row(kT0 + 4, "beta", 502, "UpstreamFailed"));
    ledger.append(row(kT0 + 5, "alpha", 200, ""));
    ledger.append(row(kT0 + 6, "alpha", 400, ""));               // an error status alone
  }
  std::vector<FailedRequest> query(FailureFilter f) {
    auto db = open_reader(tmp_.path());
    return recent_failures(db, f);
  }
  TempDb tmp_{"failures.db"};
};

std::vector<std::string> ids(const std::vector<FailedRequest>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.request_id);
  return out;
}

TEST_F(FailureQuery, NewestFailuresOnly) {
  auto rows = query({});
  EXPECT_EQ(ids(rows), (std::vector<std::string>{"req_" + std::to_string(kT0 + 6), "req_" + std::to_string(kT0 + 4),
                                                 "req_" + std::to_string(kT0 + 3), "req_" + std::to_string(kT0 + 2)}));
  const auto& r = rows[1];
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.error, "UpstreamFailed");
  EXPECT_EQ(r.project, "beta");
  EXPECT_EQ(r.key_id, "key_beta");
  EXPECT_EQ(r.route, "/v1/messages");
  EXPECT_EQ(r.latency_ms, 12.5);
  EXPECT_FALSE(r.ttft_ms);
  EXPECT_EQ(r.cost_micros, 30);
}

TEST_F(FailureQuery, LimitProjectAndSince) {
  EXPECT_EQ(query({.limit = 1}).size(), 1u);
  EXPECT_EQ(ids(query({.project = "alpha"})),
            (std::vector<std::string>{"req_" + std::to_string(kT0 + 6), "req_" + std::to_string(kT0 + 2)}));
  EXPECT_EQ(query({.since_ms = kT0 + 4}).size(), 2u);
  EXPECT_TRUE(query({.project = "gamma"}).empty());
}

}  // namespace
}  // namespace sluice::ledger
