#pragma once
// The ledger's read queries, written once for both stores: the SQL text in SQLite's or
// PostgreSQL's dialect with its parameters in order, and the reading of a result row into a
// record. A row is anything with storage::Stmt's accessors (text, int64, opt_real by column):
// a SQLite statement or a pg::Row. Values always travel as bound parameters, never in the text.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "ledger/failure_query.hpp"
#include "ledger/usage_query.hpp"

namespace sluice::ledger {

enum class SqlDialect { Sqlite, Postgres };

struct SqlQuery {
  std::string text;
  std::vector<std::variant<std::int64_t, std::string>> params;  // parameter 1, 2, ... in order
};

// Per (project, group): read_bucket's columns. Sorted by project then group.
SqlQuery usage_sql(const UsageFilter& f, SqlDialect d);
// The newest failed requests first: read_failure's columns.
SqlQuery failures_sql(const FailureFilter& f, SqlDialect d);
// `column` (project or key_id) and its spend since the first parameter.
SqlQuery cost_since_sql(const char* column, std::int64_t since_ms, SqlDialect d);
// project, hour since the epoch, tokens; sorted by project then hour.
SqlQuery tokens_by_hour_sql(std::int64_t since_ms, SqlDialect d);

// A SQLite statement for `q`, its parameters bound.
storage::Stmt prepare_query(storage::Db& db, const SqlQuery& q);

template <class Row>
UsageBucket read_bucket(const Row& r) {
  UsageBucket b;
  b.project = r.text(0);
  b.group = r.text(1);
  b.requests = r.int64(2);
  b.errors = r.int64(3);
  b.input_tokens = r.int64(4);
  b.output_tokens = r.int64(5);
  b.cache_creation_tokens = r.int64(6);
  b.cache_read_tokens = r.int64(7);
  b.server_tool_uses = r.int64(8);
  b.cost_micros = r.int64(9);
  b.estimated = r.int64(10);
  return b;
}

template <class Row>
FailedRequest read_failure(const Row& r) {
  FailedRequest x;
  x.ts_ms = r.int64(0);
  x.request_id = r.text(1);
  x.project = r.text(2);
  x.key_id = r.text(3);
  x.model = r.text(4);
  x.provider = r.text(5);
  x.route = r.text(6);
  x.error = r.text(7);
  x.status = static_cast<int>(r.int64(8));
  x.stream = r.int64(9) != 0;
  x.attempts = static_cast<int>(r.int64(10));
  x.latency_ms = r.opt_real(11).value_or(0);
  x.ttft_ms = r.opt_real(12);
  x.input_tokens = r.int64(13);
  x.output_tokens = r.int64(14);
  x.cost_micros = r.int64(15);
  return x;
}

}  // namespace sluice::ledger
