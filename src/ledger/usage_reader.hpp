#pragma once
// The ledger's aggregates from whichever engine holds it: the SQLite file (usage_query.hpp's
// functions) or PostgreSQL. `sluice usage`, the admin API and the start-up seeding of budgets
// and alert baselines read through this, so they give the same figures on either engine.
// One reader is one connection: use it from one thread at a time. Errors throw
// (storage::StorageError or pg::PgError).

#include <memory>
#include <string>

#include "ledger/failure_query.hpp"
#include "ledger/usage_query.hpp"
#include "pg/connection.hpp"

namespace sluice::ledger {

class UsageReader {
 public:
  virtual ~UsageReader() = default;
  virtual std::vector<UsageBucket> query(const UsageFilter& f) = 0;
  virtual std::unordered_map<std::string, std::int64_t> cost_by_project_since(std::int64_t since_ms) = 0;
  virtual std::unordered_map<std::string, std::int64_t> cost_by_key_since(std::int64_t since_ms) = 0;
  virtual std::vector<HourlyTokens> tokens_by_project_hour(std::int64_t since_ms) = 0;
  // The latest failed requests, newest first (failure_query.hpp): the dashboard's list.
  virtual std::vector<FailedRequest> recent_failures(const FailureFilter& f) = 0;
};

// The SQLite file at `path` (its ledger tables are created if missing).
std::unique_ptr<UsageReader> open_sqlite_usage(const std::string& path);
// The PostgreSQL ledger at `conninfo` (its schema is created or migrated if needed).
std::unique_ptr<UsageReader> open_postgres_usage(const std::string& conninfo, const pg::Connection::Options& o);

}  // namespace sluice::ledger
