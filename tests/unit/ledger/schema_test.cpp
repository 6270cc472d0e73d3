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
