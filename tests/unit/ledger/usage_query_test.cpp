#include "ledger/usage_query.hpp"

#include <gtest/gtest.h>

#include "ledger/sqlite_ledger.hpp"
#include "ledger_test_support.hpp"

namespace sluice::ledger {
namespace {

constexpr std::int64_t kDay = 86'400'000;
constexpr std::int64_t kHour = 3'600'000;
constexpr std::int64_t kD1 = 1'709'251'200'000;  // 2024-03-01T00:00:00Z
constexpr std::int64_t kD2 = kD1 + kDay;
constexpr std::int64_t kD3 = kD2 + kDay;

Row seeded(std::int64_t ts, const char* project, const char* key, const char* model, int status, const char* error,
           std::int64_t in, std::int64_t out, std::int64_t cc, std::int64_t cr, std::int64_t stu,
           std::int64_t cost, bool estimated) {
  Row r;
  r.ts_ms = ts;
  r.request_id = "req_" + std::to_string(ts);
  r.project = project;
  r.key_id = key;
  r.model = model;
  r.provider = "anthropic";
  r.status = status;
  r.error = error;
  r.input_tokens = in;
  r.output_tokens = out;
  r.cache_creation_tokens = cc;
  r.cache_read_tokens = cr;
  r.server_tool_uses = stu;
  r.cost_micros = cost;
  r.estimated = estimated;
  return r;
}

// Two projects over three UTC days, rows on both sides of midnight.
class UsageQuery : public testing::Test {
 protected:
  void SetUp() override {
    SqliteLedger::Options o;
    o.path = tmp_.path();
    SqliteLedger ledger(o);
    auto add = [&](Row r) { ledger.append(std::move(r)); };
    // clang-format off
    //          ts                project  key     model     status error             in   out cc cr stu cost  est
    add(seeded(kD1 + kHour,      "alpha", "k-a1", "opus",   200, "",               100, 10, 1, 2, 0, 1000, false));
    add(seeded(kD2 - 1,          "alpha", "k-a1", "sonnet", 200, "",               200, 20, 0, 0, 1, 2000, true));
    add(seeded(kD2,              "alpha", "k-a2", "sonnet", 429, "RateLimited",    0,   0,  0, 0, 0, 0,    false));
    add(seeded(kD3 + 12 * kHour, "alpha", "k-a2", "opus",   200, "UpstreamFailed", 300, 30, 3, 4, 2, 4000, true));
    add(seeded(kD1 + 2 * kHour,  "beta",  "k-b1", "haiku",  200, "",               50,  5,  0, 0, 0, 500,  false));
    add(seeded(kD2 + 3 * kHour,  "beta",  "k-b1", "opus",   500, "Internal",       60,  0,  0, 0, 0, 0,    false));
    add(seeded(kD3 + kHour,      "beta",  "k-b2", "haiku",  200, "",               70,  7,  0, 9, 0, 700,  false));
    // clang-format on
  }

  std::vector<UsageBucket> query(UsageFilter f) {
    auto db = open_reader(tmp_.path());
    return query_usage(db, f);
  }

  TempDb tmp_{"usage.db"};
};

using B = UsageBucket;

TEST_F(UsageQuery, ByDaySplitsPerProjectAndUtcDay) {
  std::vector<B> want = {
      {"alpha", "2024-03-01", 2, 0, 300, 30, 1, 2, 1, 3000, 1},
      {"alpha", "2024-03-02", 1, 1, 0, 0, 0, 0, 0, 0, 0},
      {"alpha", "2024-03-03", 1, 1, 300, 30, 3, 4, 2, 4000, 1},
      {"beta", "2024-03-01", 1, 0, 50, 5, 0, 0, 0, 500, 0},
      {"beta", "2024-03-02", 1, 1, 60, 0, 0, 0, 0, 0, 0},
      {"beta", "2024-03-03", 1, 0, 70, 7, 0, 9, 0, 700, 0},
  };
  EXPECT_EQ(query({.by = GroupBy::Day}), want);
}

TEST_F(UsageQuery, ByModel) {
  std::vector<B> want = {
      {"alpha", "opus", 2, 1, 400, 40, 4, 6, 2, 5000, 1},
      {"alpha", "sonnet", 2, 1, 200, 20, 0, 0, 1, 2000, 1},
      {"beta", "haiku", 2, 0, 120, 12, 0, 9, 0, 1200, 0},
      {"beta", "opus", 1, 1, 60, 0, 0, 0, 0, 0, 0},
  };
  EXPECT_EQ(query({.by = GroupBy::Model}), want);
}

TEST_F(UsageQuery, ByKey) {
  std::vector<B> want = {
      {"alpha", "k-a1", 2, 0, 300, 30, 1, 2, 1, 3000, 1},
      {"alpha", "k-a2", 2, 2, 300, 30, 3, 4, 2, 4000, 1},
      {"beta", "k-b1", 2, 1, 110, 5, 0, 0, 0, 500, 0},
      {"beta", "k-b2", 1, 0, 70, 7, 0, 9, 0, 700, 0},
  };
  EXPECT_EQ(query({.by = GroupBy::Key}), want);
}

TEST_F(UsageQuery, ByProject) {
  std::vector<B> want = {
      {"alpha", "alpha", 4, 2, 600, 60, 4, 6, 3, 7000, 2},
      {"beta", "beta", 3, 1, 180, 12, 0, 9, 0, 1200, 0},
  };
  EXPECT_EQ(query({.by = GroupBy::Project}), want);
}

TEST_F(UsageQuery, ProjectAndKeyFilters) {
  auto alpha = query({.project = "alpha", .by = GroupBy::Day});
  ASSERT_EQ(alpha.size(), 3u);
  for (const auto& b : alpha) EXPECT_EQ(b.project, "alpha");

  std::vector<B> want = {
      {"beta", "haiku", 1, 0, 50, 5, 0, 0, 0, 500, 0},
      {"beta", "opus", 1, 1, 60, 0, 0, 0, 0, 0, 0},
  };
  EXPECT_EQ(query({.key_id = "k-b1", .by = GroupBy::Model}), want);
  EXPECT_TRUE(query({.project = "alpha", .key_id = "k-b1"}).empty());
  // A value that would break a concatenated query is just a value.
  EXPECT_TRUE(query({.project = "alpha' OR '1'='1"}).empty());
}

TEST_F(UsageQuery, SinceIsInclusiveAndUntilExclusive) {
  std::vector<B> want = {
      {"alpha", "alpha", 1, 1, 0, 0, 0, 0, 0, 0, 0},  // the row at midnight D2, not the one 1 ms before
      {"beta", "beta", 1, 1, 60, 0, 0, 0, 0, 0, 0},
  };
  EXPECT_EQ(query({.since_ms = kD2, .until_ms = kD3, .by = GroupBy::Project}), want);

  auto until_at_row =
      query({.project = "alpha", .since_ms = kD3, .until_ms = kD3 + 12 * kHour, .by = GroupBy::Project});
  EXPECT_TRUE(until_at_row.empty());
  auto until_after_row =
      query({.project = "alpha", .since_ms = kD3, .until_ms = kD3 + 12 * kHour + 1, .by = GroupBy::Project});
  ASSERT_EQ(until_after_row.size(), 1u);
  EXPECT_EQ(until_after_row[0].cost_micros, 4000);

  auto since_only = query({.since_ms = kD3, .by = GroupBy::Day});
  ASSERT_EQ(since_only.size(), 2u);
  EXPECT_EQ(since_only[0].group, "2024-03-03");
  EXPECT_EQ(since_only[1].group, "2024-03-03");
}

TEST_F(UsageQuery, CostSinceByProjectAndKey) {
  auto db = open_reader(tmp_.path());
  using Map = std::unordered_map<std::string, std::int64_t>;
  EXPECT_EQ(cost_by_project_since(db, 0), (Map{{"alpha", 7000}, {"beta", 1200}}));
  EXPECT_EQ(cost_by_project_since(db, kD2), (Map{{"alpha", 4000}, {"beta", 700}}));
  EXPECT_EQ(cost_by_key_since(db, kD2), (Map{{"k-a2", 4000}, {"k-b1", 0}, {"k-b2", 700}}));
  EXPECT_TRUE(cost_by_project_since(db, kD3 + kDay).empty());
}

TEST_F(UsageQuery, TokensByProjectAndHour) {
  auto db = open_reader(tmp_.path());
  auto rows = tokens_by_project_hour(db, kD2);
  ASSERT_EQ(rows.size(), 4u);
  // Sorted by project then hour; tokens = input + output + both cache counts.
  EXPECT_EQ(rows[0].project, "alpha");
  EXPECT_EQ(rows[0].hour, kD2 / kHour);
  EXPECT_EQ(rows[0].tokens, 0);
  EXPECT_EQ(rows[1].project, "alpha");
  EXPECT_EQ(rows[1].hour, (kD3 + 12 * kHour) / kHour);
  EXPECT_EQ(rows[1].tokens, 300 + 30 + 3 + 4);
  EXPECT_EQ(rows[2].project, "beta");
  EXPECT_EQ(rows[2].hour, (kD2 + 3 * kHour) / kHour);
  EXPECT_EQ(rows[2].tokens, 60);
  EXPECT_EQ(rows[3].tokens, 70 + 7 + 9);
}

TEST(UsageQueryEmpty, NoRowsNoBuckets) {
  TempDb tmp("usage_empty.db");
  { SqliteLedger ledger({.path = tmp.path()}); }
  auto db = open_reader(tmp.path());
  EXPECT_TRUE(query_usage(db, {}).empty());
  EXPECT_TRUE(cost_by_key_since(db, 0).empty());
}

}  // namespace
}  // namespace sluice::ledger
