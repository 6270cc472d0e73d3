#include "ledger/sqlite_ledger.hpp"

#include "ledger/schema.hpp"
#include "storage/sqlite.hpp"

namespace sluice::ledger {

namespace {

// Columns in Row order; bind_row() binds ?1..?25 in the same order.
constexpr const char* kInsert =
    "INSERT INTO requests(ts_ms, request_id, project, key_id, model, provider, route, status, stream, "
    "attempts, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, server_tool_uses, "
    "cost_micros, latency_ms, ttft_ms, estimated, redactions, error, redaction_types, stream_id, replayed, "
    "recoveries) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, "
    "?23, ?24, ?25)";

// Text is bound without a copy: the row outlives the statement's run (see write_batch).
void bind_row(storage::Stmt& st, const Row& r) {
  st.bind(1, r.ts_ms)
      .bind_static(2, r.request_id)
      .bind_static(3, r.project)
      .bind_static(4, r.key_id)
      .bind_static(5, r.model)
      .bind_static(6, r.provider)
      .bind_static(7, r.route)
      .bind(8, r.status)
      .bind(9, r.stream ? 1 : 0)
      .bind(10, r.attempts)
      .bind(11, r.input_tokens)
      .bind(12, r.output_tokens)
      .bind(13, r.cache_creation_tokens)
      .bind(14, r.cache_read_tokens)
      .bind(15, r.server_tool_uses)
      .bind(16, r.cost_micros)
      .bind(17, r.latency_ms)  // NaN is stored as NULL: the column is nullable so it cannot jam the queue
      .bind(18, r.ttft_ms)
      .bind(19, r.estimated ? 1 : 0)
      .bind(20, r.redactions)
      .bind_static(21, r.error)
      .bind_static(22, r.redaction_types)
      .bind_static(23, r.stream_id)
      .bind(24, r.replayed ? 1 : 0)
      .bind(25, r.recoveries);
}

class SqliteSink final : public RowSink {
 public:
  explicit SqliteSink(const SqliteLedger::Options& o) : db_(open_db(o)), insert_(db_.prepare(kInsert)) {}

  std::optional<std::string> write(const std::vector<QueuedRow>& batch) override {
    storage::Transaction tx(db_);
    for (const auto& p : batch) {
      bind_row(insert_, p.row);
      insert_.run();
    }
    tx.commit();
    return std::nullopt;
  }

 private:
  static storage::Db open_db(const SqliteLedger::Options& o) {
    storage::Db::Options db_opts;
    db_opts.busy_timeout_ms = o.busy_timeout_ms;
    db_opts.synchronous_normal = true;  // WAL + NORMAL: a commit survives kill -9
    auto db = storage::Db::open(o.path, db_opts);
    ensure_schema(db);
    return db;
  }

  storage::Db db_;
  storage::Stmt insert_;
};

BatchingLedger::Options batch_options(const SqliteLedger::Options& o) {
  BatchingLedger::Options b;
  b.commit_window = o.commit_window;
  b.max_batch = o.max_batch;
  b.max_queue = o.max_queue;
  b.retry_backoff = o.retry_backoff;
  b.max_retry_backoff = o.max_retry_backoff;
  b.shutdown_timeout = o.shutdown_timeout;
  return b;
}

}  // namespace

SqliteLedger::SqliteLedger(const Options& o) : BatchingLedger(batch_options(o), std::make_unique<SqliteSink>(o)) {}

}  // namespace sluice::ledger
