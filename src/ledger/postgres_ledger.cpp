#include "ledger/postgres_ledger.hpp"

#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "pg/migrate.hpp"

namespace sluice::ledger {

namespace {

constexpr int kColumns = 25;
// PostgreSQL takes at most 65535 parameters per statement.
constexpr std::size_t kRowsPerStatement = 2000;

constexpr const char* kInsertHead =
    "INSERT INTO requests(ts_ms, request_id, project, key_id, model, provider, route, status, stream, "
    "attempts, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, server_tool_uses, "
    "cost_micros, latency_ms, ttft_ms, estimated, redactions, error, redaction_types, stream_id, replayed, "
    "recoveries) VALUES ";

pg::Param real(double v) {
  if (!std::isfinite(v)) return std::nullopt;  // NaN/inf go in as NULL, as in SQLite
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return std::string(buf);
}

void add_params(std::vector<pg::Param>& p, const Row& r) {
  auto i = [](std::int64_t v) { return pg::Param(std::to_string(v)); };
  p.push_back(i(r.ts_ms));
  p.push_back(r.request_id);
  p.push_back(r.project);
  p.push_back(r.key_id);
  p.push_back(r.model);
  p.push_back(r.provider);
  p.push_back(r.route);
  p.push_back(i(r.status));
  p.push_back(std::string(r.stream ? "t" : "f"));
  p.push_back(i(r.attempts));
  p.push_back(i(r.input_tokens));
  p.push_back(i(r.output_tokens));
  p.push_back(i(r.cache_creation_tokens));
  p.push_back(i(r.cache_read_tokens));
  p.push_back(i(r.server_tool_uses));
  p.push_back(i(r.cost_micros));
  p.push_back(real(r.latency_ms));
  p.push_back(r.ttft_ms ? real(*r.ttft_ms) : std::nullopt);
  p.push_back(std::string(r.estimated ? "t" : "f"));
  p.push_back(i(r.redactions));
  p.push_back(r.error);
  p.push_back(r.redaction_types);
  p.push_back(r.stream_id);
  p.push_back(std::string(r.replayed ? "t" : "f"));
  p.push_back(i(r.recoveries));
}

std::string insert_sql(std::size_t rows) {
  std::string sql = kInsertHead;
  int n = 1;
  for (std::size_t r = 0; r < rows; ++r) {
    sql += r ? ",(" : "(";
    for (int c = 0; c < kColumns; ++c) {
      if (c) sql += ',';
      sql += '$';
      sql += std::to_string(n++);
    }
    sql += ')';
  }
  sql += " ON CONFLICT (request_id) DO NOTHING";
  return sql;
}

class PostgresSink final : public RowSink {
 public:
  explicit PostgresSink(const PostgresLedger::Options& o) : opts_(o), conn_(open()) {}

  std::optional<std::string> write(const Batch& batch) override {
    if (!conn_ || conn_->broken()) {
      conn_.reset();
      conn_ = open();  // throws: the batch is kept and retried later
    }
    pg::Transaction tx(*conn_);
    std::vector<pg::Param> params;
    for (std::size_t at = 0; at < batch.size(); at += kRowsPerStatement) {
      const std::size_t n = std::min(kRowsPerStatement, batch.size() - at);
      params.clear();
      params.reserve(n * kColumns);
      for (std::size_t r = 0; r < n; ++r) add_params(params, batch[at + r].row);
      conn_->exec(insert_sql(n), params);
    }
    tx.commit();
    return std::nullopt;
  }

 private:
  std::optional<pg::Connection> open() const {
    auto c = pg::Connection::open(opts_.conninfo, opts_.connection);
    pg::migrate(c, "ledger", postgres_ledger_schema());
    return c;
  }

  PostgresLedger::Options opts_;
  std::optional<pg::Connection> conn_;
};

}  // namespace

const std::vector<std::string>& postgres_ledger_schema() {
  // Columns mirror Row and the SQLite table (schema.cpp); append steps, never edit one.
  static const std::vector<std::string> steps = {
      R"sql(
CREATE TABLE requests(
  id bigserial PRIMARY KEY,
  ts_ms bigint NOT NULL,
  request_id text NOT NULL,
  project text NOT NULL,
  key_id text NOT NULL,
  model text NOT NULL,
  provider text NOT NULL,
  route text NOT NULL,
  status integer NOT NULL,
  stream boolean NOT NULL,
  attempts integer NOT NULL,
  input_tokens bigint NOT NULL,
  output_tokens bigint NOT NULL,
  cache_creation_tokens bigint NOT NULL,
  cache_read_tokens bigint NOT NULL,
  server_tool_uses bigint NOT NULL,
  cost_micros bigint NOT NULL,
  latency_ms double precision,
  ttft_ms double precision,
  estimated boolean NOT NULL,
  redactions integer NOT NULL,
  redaction_types text NOT NULL DEFAULT '',
  error text NOT NULL
);
CREATE INDEX requests_ts ON requests(ts_ms);
-- Request ids are unique per request (142 random bits): a batch retried after a lost COMMIT
-- reply inserts nothing twice.
CREATE UNIQUE INDEX requests_request_id ON requests(request_id);
)sql",
      // 2: resumable streams (the same columns as SQLite's schema version 2).
      R"sql(
ALTER TABLE requests ADD COLUMN stream_id text NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN replayed boolean NOT NULL DEFAULT false;
ALTER TABLE requests ADD COLUMN recoveries integer NOT NULL DEFAULT 0;
)sql"};
  return steps;
}

PostgresLedger::PostgresLedger(const Options& o) : BatchingLedger(o.batching, std::make_unique<PostgresSink>(o)) {}

}  // namespace sluice::ledger
