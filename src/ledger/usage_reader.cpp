#include "ledger/usage_reader.hpp"

#include "ledger/postgres_ledger.hpp"
#include "ledger/query_sql.hpp"
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

// The same queries as usage_query.cpp (query_sql.hpp) in PostgreSQL's dialect.
class PostgresUsage final : public UsageReader {
 public:
  explicit PostgresUsage(pg::Connection c) : c_(std::move(c)) {}

  std::vector<UsageBucket> query(const UsageFilter& f) override {
    auto rows = run(usage_sql(f, SqlDialect::Postgres));
    std::vector<UsageBucket> out;
    for (int r = 0; r < rows.size(); ++r) out.push_back(read_bucket(pg::Row{rows, r}));
    return out;
  }
  std::unordered_map<std::string, std::int64_t> cost_by_project_since(std::int64_t since_ms) override {
    return cost_since("project", since_ms);
  }
  std::unordered_map<std::string, std::int64_t> cost_by_key_since(std::int64_t since_ms) override {
    return cost_since("key_id", since_ms);
  }
  std::vector<HourlyTokens> tokens_by_project_hour(std::int64_t since_ms) override {
    auto rows = run(tokens_by_hour_sql(since_ms, SqlDialect::Postgres));
    std::vector<HourlyTokens> out;
    for (int r = 0; r < rows.size(); ++r) out.push_back({rows.text(r, 0), rows.int64(r, 1), rows.int64(r, 2)});
    return out;
  }
  std::vector<FailedRequest> recent_failures(const FailureFilter& f) override {
    auto rows = run(failures_sql(f, SqlDialect::Postgres));
    std::vector<FailedRequest> out;
    for (int r = 0; r < rows.size(); ++r) out.push_back(read_failure(pg::Row{rows, r}));
    return out;
  }

 private:
  pg::Rows run(const SqlQuery& q) {
    std::vector<pg::Param> params;
    for (const auto& p : q.params) {
      const auto* n = std::get_if<std::int64_t>(&p);
      params.emplace_back(n ? std::to_string(*n) : std::get<std::string>(p));
    }
    return c_.exec(q.text, params);
  }
  std::unordered_map<std::string, std::int64_t> cost_since(const char* column, std::int64_t since_ms) {
    auto rows = run(cost_since_sql(column, since_ms, SqlDialect::Postgres));
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
