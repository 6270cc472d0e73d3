#include "ledger/schema.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace sluice::ledger {

namespace {

// Column order and names mirror Row; sqlite_ledger.cpp binds in this order.
constexpr const char* kCreateTables = R"sql(
CREATE TABLE IF NOT EXISTS ledger_schema_version(
  version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS requests(
  id INTEGER PRIMARY KEY,
  ts_ms INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  project TEXT NOT NULL,
  key_id TEXT NOT NULL,
  model TEXT NOT NULL,
  provider TEXT NOT NULL,
  route TEXT NOT NULL,
  status INTEGER NOT NULL,
  stream INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  cache_creation_tokens INTEGER NOT NULL,
  cache_read_tokens INTEGER NOT NULL,
  server_tool_uses INTEGER NOT NULL,
  cost_micros INTEGER NOT NULL,
  latency_ms REAL,
  ttft_ms REAL,
  estimated INTEGER NOT NULL,
  redactions INTEGER NOT NULL,
  redaction_types TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL,
  stream_id TEXT NOT NULL DEFAULT '',
  replayed INTEGER NOT NULL DEFAULT 0
);
-- One index: every query is a time range (a project filter is applied within it). Each index
-- costs every insert a B-tree update; a second one on (project, ts_ms) cost ~15 % more writer
-- CPU per row for queries that are fast enough without it.
CREATE INDEX IF NOT EXISTS requests_ts ON requests(ts_ms);
)sql";

}  // namespace

void ensure_schema(storage::Db& db) {
  // BEGIN IMMEDIATE: two processes starting on a new file create the tables one after the other.
  storage::Transaction tx(db);
  db.exec(kCreateTables);
  std::optional<std::int64_t> version;
  {
    auto q = db.prepare("SELECT max(version) FROM ledger_schema_version");
    q.step();
    version = q.opt_int64(0);
  }
  if (version && *version > kSchemaVersion) {
    throw storage::StorageError("ledger: the database has ledger schema version " + std::to_string(*version) +
                                ", newer than this sluice's " + std::to_string(kSchemaVersion));
  }
  if (version && *version < 2) {
    // Version 1 had no resumable streams.
    db.exec("ALTER TABLE requests ADD COLUMN stream_id TEXT NOT NULL DEFAULT '';"
            "ALTER TABLE requests ADD COLUMN replayed INTEGER NOT NULL DEFAULT 0;");
  }
  if (!version || *version < kSchemaVersion) {
    auto ins = db.prepare("INSERT INTO ledger_schema_version(version) VALUES(?1)");
    ins.bind(1, kSchemaVersion);
    ins.run();
  }
  tx.commit();
}

}  // namespace sluice::ledger
