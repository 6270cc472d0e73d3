#include "ledger/usage_reader.hpp"

#include "ledger/postgres_ledger.hpp"
#include "ledger/schema.hpp"
#include "pg/migrate.hpp"

namespace sluice::ledger {

namespace {

class SqliteUsage final : public UsageReader {
 public:
  explicit SqliteUsage(const std::string& path) : db_(storage::Db::open(path)) { ensure_schema(db_); }
  std::vector<UsageBucket> query(const UsageFilter& f) override { return query_usage(db_, f); }
  std::unordered_map<std::string, std::int64_t> cost_by_project_since(std::int64_t since_ms) override {
    return ledger::cost_by_project_since(db_, since_ms);
  }
  std::unordered_map<std::string, std::int64_t> cost_by_key_since(std::int64_t since_ms) override {
    return ledger::cost_by_key_since(db_, since_ms);
  }
  std::vector<HourlyTokens> tokens_by_project_hour(std::int64_t since_ms) override {
    return ledger::tokens_by_project_hour(db_, since_ms);
  }
  std::vector<FailedRequest> recent_failures(const FailureFilter& f) override { return ledger::recent_failures(db_, f); }

 private:
  storage::Db db_;
};

// The same SQL as usage_query.cpp in PostgreSQL's dialect; values always bound as parameters.
class PostgresUsage final : public UsageReader {
 public:
  explicit PostgresUsage(pg::Connection c) : c_(std::move(c)) {}

  std::vector<UsageBucket> query(const UsageFilter& f) override {
    const char* group = "project";
    switch (f.by) {
      case GroupBy::Day: group = "to_char(to_timestamp(ts_ms / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"; break;
      case GroupBy::Model: group = "model"; break;
      case GroupBy::Key: group = "key_id"; break;
      case GroupBy::Project: group = "project"; break;
    }
    std::string sql = "SELECT project, ";
    sql += group;
    sql +=
        " AS grp, count(*), sum(CASE WHEN status >= 400 OR error <> '' THEN 1 ELSE 0 END), sum(input_tokens), "
        "sum(output_tokens), sum(cache_creation_tokens), sum(cache_read_tokens), sum(server_tool_uses), "
        "sum(cost_micros), sum(CASE WHEN estimated THEN 1 ELSE 0 END) FROM requests WHERE ts_ms >= $1";
    std::vector<pg::Param> params{std::to_string(f.since_ms)};
    auto bind = [&](const char* clause, const std::string& v) {
      params.push_back(v);
      sql += clause;
      sql += std::to_string(params.size());
    };
    if (f.until_ms) bind(" AND ts_ms < $", std::to_string(*f.until_ms));
    if (f.project) bind(" AND project = $", *f.project);
    if (f.key_id) bind(" AND key_id = $", *f.key_id);
    sql += " GROUP BY project, grp ORDER BY project, grp";
    auto rows = c_.exec(sql, params);
    std::vector<UsageBucket> out;
    for (int r = 0; r < rows.size(); ++r) {
      UsageBucket b;
      b.project = rows.text(r, 0);
      b.group = rows.text(r, 1);
      b.requests = rows.int64(r, 2);
      b.errors = rows.int64(r, 3);
      b.input_tokens = rows.int64(r, 4);
      b.output_tokens = rows.int64(r, 5);
      b.cache_creation_tokens = rows.int64(r, 6);
      b.cache_read_tokens = rows.int64(r, 7);
      b.server_tool_uses = rows.int64(r, 8);
      b.cost_micros = rows.int64(r, 9);
      b.estimated = rows.int64(r, 10);
      out.push_back(std::move(b));
    }
    return out;
  }
  std::unordered_map<std::string, std::int64_t> cost_by_project_since(std::int64_t since_ms) override {
    return cost_since("SELECT project, sum(cost_micros) FROM requests WHERE ts_ms >= $1 GROUP BY project", since_ms);
  }
  std::unordered_map<std::string, std::int64_t> cost_by_key_since(std::int64_t since_ms) override {
    return cost_since("SELECT key_id, sum(cost_micros) FROM requests WHERE ts_ms >= $1 GROUP BY key_id", since_ms);
  }
  std::vector<HourlyTokens> tokens_by_project_hour(std::int64_t since_ms) override {
    auto rows = c_.exec(
        "SELECT project, ts_ms / 3600000 AS hour, "
        "sum(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens) "
        "FROM requests WHERE ts_ms >= $1 GROUP BY project, hour ORDER BY project, hour",
        {std::to_string(since_ms)});
    std::vector<HourlyTokens> out;
    for (int r = 0; r < rows.size(); ++r) out.push_back({rows.text(r, 0), rows.int64(r, 1), rows.int64(r, 2)});
    return out;
  }
  std::vector<FailedRequest> recent_failures(const FailureFilter& f) override {
    std::string sql =
        "SELECT ts_ms, request_id, project, key_id, model, provider, route, error, status, stream, attempts, "
        "latency_ms, ttft_ms, input_tokens, output_tokens, cost_micros FROM requests "
        "WHERE ts_ms >= $1 AND (status >= 400 OR error <> '')";
    std::vector<pg::Param> params{std::to_string(f.since_ms)};
    if (f.project) {
      params.push_back(*f.project);
      sql += " AND project = $2";
    }
    params.push_back(std::to_string(f.limit));
    sql += " ORDER BY ts_ms DESC, id DESC LIMIT $" + std::to_string(params.size());
    auto rows = c_.exec(sql, params);
    std::vector<FailedRequest> out;
    for (int r = 0; r < rows.size(); ++r) {
      FailedRequest x;
      x.ts_ms = rows.int64(r, 0);
      x.request_id = rows.text(r, 1);
      x.project = rows.text(r, 2);
      x.key_id = rows.text(r, 3);
      x.model = rows.text(r, 4);
      x.provider = rows.text(r, 5);
      x.route = rows.text(r, 6);
      x.error = rows.text(r, 7);
      x.status = static_cast<int>(rows.int64(r, 8));
      x.stream = rows.text(r, 9) == "t";
      x.attempts = static_cast<int>(rows.int64(r, 10));
      x.latency_ms = rows.opt_real(r, 11).value_or(0);
      x.ttft_ms = rows.opt_real(r, 12);
      x.input_tokens = rows.int64(r, 13);
      x.output_tokens = rows.int64(r, 14);
      x.cost_micros = rows.int64(r, 15);
      out.push_back(std::move(x));
    }
    return out;
  }

 private:
  std::unordered_map<std::string, std::int64_t> cost_since(const char* sql, std::int64_t since_ms) {
    auto rows = c_.exec(sql, {std::to_string(since_ms)});
    std::unordered_map<std::string, std::int64_t> out;
    for (int r = 0; r < rows.size(); ++r) out[rows.text(r, 0)] = rows.int64(r, 1);
    return out;
  }

  pg::Connection c_;
};

}  // namespace

std::unique_ptr<UsageReader> open_sqlite_usage(const std::string& path) { return std::make_unique<SqliteUsage>(path); }

std::unique_ptr<UsageReader> open_postgres_usage(const std::string& conninfo, const pg::Connection::Options& o) {
  auto c = pg::Connection::open(conninfo, o);
  pg::migrate(c, "ledger", postgres_ledger_schema());
  return std::make_unique<PostgresUsage>(std::move(c));
}

}  // namespace sluice::ledger
