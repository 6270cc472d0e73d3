#include "ledger/usage_query.hpp"

#include "ledger/query_sql.hpp"

namespace sluice::ledger {

namespace {

std::unordered_map<std::string, std::int64_t> cost_since(storage::Db& db, const char* column, std::int64_t since_ms) {
  auto q = prepare_query(db, cost_since_sql(column, since_ms, SqlDialect::Sqlite));
  std::unordered_map<std::string, std::int64_t> out;
  while (q.step()) out[q.text(0)] = q.int64(1);
  return out;
}

}  // namespace

std::vector<UsageBucket> query_usage(storage::Db& db, const UsageFilter& f) {
  auto q = prepare_query(db, usage_sql(f, SqlDialect::Sqlite));
  std::vector<UsageBucket> out;
  while (q.step()) out.push_back(read_bucket(q));
  return out;
}

std::unordered_map<std::string, std::int64_t> cost_by_project_since(storage::Db& db, std::int64_t since_ms) {
  return cost_since(db, "project", since_ms);
}

std::unordered_map<std::string, std::int64_t> cost_by_key_since(storage::Db& db, std::int64_t since_ms) {
  return cost_since(db, "key_id", since_ms);
}

std::vector<HourlyTokens> tokens_by_project_hour(storage::Db& db, std::int64_t since_ms) {
  auto q = prepare_query(db, tokens_by_hour_sql(since_ms, SqlDialect::Sqlite));
  std::vector<HourlyTokens> out;
  while (q.step()) out.push_back({q.text(0), q.int64(1), q.int64(2)});
  return out;
}

}  // namespace sluice::ledger
