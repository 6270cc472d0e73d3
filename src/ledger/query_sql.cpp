#include "ledger/query_sql.hpp"

#include <utility>

namespace sluice::ledger {

namespace {

// A failed request, as usage counts it in `errors`: status >= 400 or an error kind.
constexpr const char* kFailed = "(status >= 400 OR error <> '')";

// Appends parameters and their placeholders ("?N" in SQLite, "$N" in PostgreSQL).
class Builder {
 public:
  explicit Builder(SqlDialect d) : d_(d) {}
  Builder& sql(std::string_view s) {
    q_.text += s;
    return *this;
  }
  template <class V>
  Builder& param(V v) {
    q_.params.emplace_back(std::move(v));
    q_.text += d_ == SqlDialect::Sqlite ? '?' : '$';
    q_.text += std::to_string(q_.params.size());
    return *this;
  }
  SqlQuery done() { return std::move(q_); }

 private:
  SqlDialect d_;
  SqlQuery q_;
};

const char* group_expr(GroupBy by, SqlDialect d) {
  switch (by) {
    case GroupBy::Day:
      return d == SqlDialect::Sqlite ? "date(ts_ms / 1000, 'unixepoch')"
                                     : "to_char(to_timestamp(ts_ms / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')";
    case GroupBy::Model: return "model";
    case GroupBy::Key: return "key_id";
    case GroupBy::Project: return "project";
  }
  return "project";
}

}  // namespace

storage::Stmt prepare_query(storage::Db& db, const SqlQuery& q) {
  auto st = db.prepare(q.text);
  int i = 0;
  for (const auto& p : q.params) {
    ++i;
    if (const auto* n = std::get_if<std::int64_t>(&p)) {
      st.bind(i, *n);
    } else {
      st.bind(i, std::string_view(std::get<std::string>(p)));
    }
  }
  return st;
}

SqlQuery usage_sql(const UsageFilter& f, SqlDialect d) {
  // Only the filters in use become clauses. CASE rather than a sum of booleans: PostgreSQL
  // does not add booleans, and `estimated` is an integer in SQLite and a boolean there.
  Builder b(d);
  b.sql("SELECT project, ").sql(group_expr(f.by, d));
  b.sql(" AS grp, count(*), sum(CASE WHEN ").sql(kFailed).sql(" THEN 1 ELSE 0 END), sum(input_tokens), "
        "sum(output_tokens), sum(cache_creation_tokens), sum(cache_read_tokens), sum(server_tool_uses), "
        "sum(cost_micros), sum(CASE WHEN estimated THEN 1 ELSE 0 END) FROM requests WHERE ts_ms >= ")
      .param(f.since_ms);
  if (f.until_ms) b.sql(" AND ts_ms < ").param(*f.until_ms);
  if (f.project) b.sql(" AND project = ").param(*f.project);
  if (f.key_id) b.sql(" AND key_id = ").param(*f.key_id);
  b.sql(" GROUP BY project, grp ORDER BY project, grp");
  return b.done();
}

SqlQuery failures_sql(const FailureFilter& f, SqlDialect d) {
  // Walks the ts_ms index backwards and stops after `limit` matches.
  Builder b(d);
  b.sql("SELECT ts_ms, request_id, project, key_id, model, provider, route, error, status, "
        "CASE WHEN stream THEN 1 ELSE 0 END, attempts, latency_ms, ttft_ms, input_tokens, output_tokens, "
        "cost_micros FROM requests WHERE ts_ms >= ")
      .param(f.since_ms)
      .sql(" AND ")
      .sql(kFailed);
  if (f.project) b.sql(" AND project = ").param(*f.project);
  b.sql(" ORDER BY ts_ms DESC, id DESC LIMIT ").param(static_cast<std::int64_t>(f.limit));
  return b.done();
}

SqlQuery cost_since_sql(const char* column, std::int64_t since_ms, SqlDialect d) {
  Builder b(d);
  b.sql("SELECT ").sql(column).sql(", sum(cost_micros) FROM requests WHERE ts_ms >= ").param(since_ms);
  b.sql(" GROUP BY ").sql(column);
  return b.done();
}

SqlQuery tokens_by_hour_sql(std::int64_t since_ms, SqlDialect d) {
  Builder b(d);
  b.sql("SELECT project, ts_ms / 3600000 AS hour, "
        "sum(input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens) "
        "FROM requests WHERE ts_ms >= ")
      .param(since_ms)
      .sql(" GROUP BY project, hour ORDER BY project, hour");
  return b.done();
}

}  // namespace sluice::ledger
