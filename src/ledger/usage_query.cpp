#include "ledger/usage_query.hpp"

#include <utility>

namespace sluice::ledger {

namespace {

// Fixed SQL text per grouping; values are always bound as parameters.
const char* group_expr(GroupBy by) {
  switch (by) {
    case GroupBy::Day: return "date(ts_ms / 1000, 'unixepoch')";
    case GroupBy::Model: return "model";
    case GroupBy::Key: return "key_id";
    case GroupBy::Project: return "project";
  }
  return "project";
}

std::unordered_map<std::string, std::int64_t> cost_since(storage::Db& db, const char* sql, std::int64_t since_ms) {
  auto q = db.prepare(sql);
  q.bind(1, since_ms);
  std::unordered_map<std::string, std::int64_t> out;
  while (q.step()) out[q.text(0)] = q.int64(1);
  return out;
}

}  // namespace

std::vector<UsageBucket> query_usage(storage::Db& db, const UsageFilter& f) {
  // Only the clauses in use are added (so the (project, ts_ms) index can serve a project
  // filter); each compares a column with a numbered parameter bound below.
  std::string sql = "SELECT project, ";
  sql += group_expr(f.by);
  sql +=
      " AS grp, count(*), "
      "sum(status >= 400 OR error <> ''), sum(input_tokens), sum(output_tokens), "
      "sum(cache_creation_tokens), sum(cache_read_tokens), sum(server_tool_uses), sum(cost_micros), "
      "sum(estimated <> 0) "
      "FROM requests WHERE ts_ms >= ?1";
  if (f.until_ms) sql += " AND ts_ms < ?2";
  if (f.project) sql += " AND project = ?3";
  if (f.key_id) sql += " AND key_id = ?4";
  sql += " GROUP BY project, grp ORDER BY project, grp";

  auto q = db.prepare(sql);
  q.bind(1, f.since_ms);
  if (f.until_ms) q.bind(2, *f.until_ms);
  if (f.project) q.bind(3, *f.project);
  if (f.key_id) q.bind(4, *f.key_id);

  std::vector<UsageBucket> out;
  while (q.step()) {
    UsageBucket b;
    b.project = q.text(0);
    b.group = q.text(1);
    b.requests = q.int64(2);
    b.errors = q.int64(3);
    b.input_tokens = q.int64(4);
    b.output_tokens = q.int64(5);
    b.cache_creation_tokens = q.int64(6);
    b.cache_read_tokens = q.int64(7);
    b.server_tool_uses = q.int64(8);
    b.cost_micros = q.int64(9);
    b.estimated = q.int64(10);
    out.push_back(std::move(b));
  }
  return out;
}

std::unordered_map<std::string, std::int64_t> cost_by_project_since(storage::Db& db, std::int64_t since_ms) {
  return cost_since(db, "SELECT project, sum(cost_micros) FROM requests WHERE ts_ms >= ?1 GROUP BY project",
                    since_ms);
}

std::unordered_map<std::string, std::int64_t> cost_by_key_since(storage::Db& db, std::int64_t since_ms) {
  return cost_since(db, "SELECT key_id, sum(cost_micros) FROM requests WHERE ts_ms >= ?1 GROUP BY key_id",
                    since_ms);
}

std::vector<HourlyTokens> tokens_by_project_hour(storage::Db& db, std::int64_t since_ms) {
  auto st = db.prepare(
      "SELECT project, ts_ms / 3600000 AS hour, "
      "sum(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens) "
      "FROM requests WHERE ts_ms >= ?1 GROUP BY project, hour ORDER BY project, hour");
  st.bind(1, since_ms);
  std::vector<HourlyTokens> out;
  while (st.step()) out.push_back({st.text(0), st.int64(1), st.int64(2)});
  return out;
}

}  // namespace sluice::ledger
