#include "ledger/schema.hpp"

#include <gtest/gtest.h>

#include "ledger/sqlite_ledger.hpp"
#include "ledger_test_support.hpp"

namespace sluice::ledger {
namespace {

TEST(LedgerSchema, SharesTheFileWithOtherTablesAndIsIdempotent) {
  TempDb tmp("shared.db");
  {
    auto db = storage::Db::open(tmp.path());
    db.exec("CREATE TABLE keys(id TEXT PRIMARY KEY, project TEXT); INSERT INTO keys VALUES('k1', 'alpha')");
  }
  {
    SqliteLedger ledger({.path = tmp.path()});
    ledger.append(simple_row("req_1"));
  }
  auto db = storage::Db::open(tmp.path());
  ensure_schema(db);  // again: a no-op
  ensure_schema(db);

  auto keys = db.prepare("SELECT id, project FROM keys");
  ASSERT_TRUE(keys.step());
  EXPECT_EQ(keys.text(0), "k1");
  EXPECT_EQ(keys.text(1), "alpha");
  auto version = db.prepare("SELECT count(*), max(version) FROM ledger_schema_version");
  ASSERT_TRUE(version.step());
  EXPECT_EQ(version.int64(0), 1);
  EXPECT_EQ(version.int64(1), kSchemaVersion);
  auto indexes = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'requests'");
  ASSERT_TRUE(indexes.step());
  EXPECT_EQ(indexes.int64(0), 1);  // requests_ts only
  EXPECT_EQ(count_rows(tmp.path()), 1);
}

TEST(LedgerSchema, MigratesAVersion1FileKeepingItsRows) {
  TempDb tmp("v1.db");
  {
    // The ledger as sluice wrote it before resumable streams.
    auto db = storage::Db::open(tmp.path());
    db.exec(R"sql(
      CREATE TABLE ledger_schema_version(version INTEGER NOT NULL);
      INSERT INTO ledger_schema_version VALUES(1);
      CREATE TABLE requests(id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, request_id TEXT NOT NULL,
        project TEXT NOT NULL, key_id TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL,
        route TEXT NOT NULL, status INTEGER NOT NULL, stream INTEGER NOT NULL, attempts INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, cache_creation_tokens INTEGER NOT NULL,
        cache_read_tokens INTEGER NOT NULL, server_tool_uses INTEGER NOT NULL, cost_micros INTEGER NOT NULL,
        latency_ms REAL, ttft_ms REAL, estimated INTEGER NOT NULL, redactions INTEGER NOT NULL,
        redaction_types TEXT NOT NULL DEFAULT '', error TEXT NOT NULL);
      INSERT INTO requests(ts_ms, request_id, project, key_id, model, provider, route, status, stream, attempts,
        input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, server_tool_uses, cost_micros,
        estimated, redactions, error)
      VALUES(1, 'req_old', 'p', '', 'm', 'a', '/v1/messages', 200, 1, 1, 10, 20, 0, 0, 0, 5, 0, 0, '');
    )sql");
  }
  {
    SqliteLedger ledger({.path = tmp.path()});
    Row r = simple_row("req_new");
    r.stream_id = "st_x";
    r.replayed = true;
    r.recoveries = 2;
    ledger.append(std::move(r));
  }
  auto db = storage::Db::open(tmp.path());
  auto q = db.prepare("SELECT request_id, stream_id, replayed, recoveries FROM requests ORDER BY id");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.text(0), "req_old");
  EXPECT_EQ(q.text(1), "");
  EXPECT_EQ(q.int64(2), 0);
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.text(0), "req_new");
  EXPECT_EQ(q.text(1), "st_x");
  EXPECT_EQ(q.int64(2), 1);
  EXPECT_EQ(q.int64(3), 2);
  auto version = db.prepare("SELECT max(version) FROM ledger_schema_version");
  ASSERT_TRUE(version.step());
  EXPECT_EQ(version.int64(0), kSchemaVersion);
}

TEST(LedgerSchema, RefusesAFileFromANewerSluice) {
  TempDb tmp("newer.db");
  {
    auto db = storage::Db::open(tmp.path());
    ensure_schema(db);
    db.exec("UPDATE ledger_schema_version SET version = 99");
  }
  auto db = storage::Db::open(tmp.path());
  EXPECT_THROW(ensure_schema(db), storage::StorageError);
  EXPECT_THROW(SqliteLedger({.path = tmp.path()}), storage::StorageError);
}

}  // namespace
}  // namespace sluice::ledger
