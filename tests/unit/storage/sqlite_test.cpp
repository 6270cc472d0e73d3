#include "storage/sqlite.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "unit/storage/temp_db.hpp"

namespace sluice::storage {
namespace {

TEST(Sqlite, RoundTripsValuesAndNulls) {
  testing::TempDb tmp;
  auto db = Db::open(tmp.path());
  db.exec("CREATE TABLE t(a INTEGER, b REAL, c TEXT)");
  auto ins = db.prepare("INSERT INTO t VALUES(?1, ?2, ?3)");
  ins.bind(1, std::int64_t{1} << 40).bind(2, 2.5).bind(3, std::string("x\0y", 3));
  ins.run();
  std::optional<std::int64_t> none;
  ins.bind(1, none).bind_null(2).bind(3, "z");
  ins.run();
  auto q = db.prepare("SELECT a, b, c FROM t ORDER BY rowid");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.int64(0), std::int64_t{1} << 40);
  EXPECT_DOUBLE_EQ(q.real(1), 2.5);
  EXPECT_EQ(q.text(2), std::string("x\0y", 3));
  ASSERT_TRUE(q.step());
  EXPECT_FALSE(q.opt_int64(0).has_value());
  EXPECT_FALSE(q.opt_real(1).has_value());
  EXPECT_FALSE(q.step());
}

TEST(Sqlite, TransactionRollsBackWhenNotCommitted) {
  testing::TempDb tmp;
  auto db = Db::open(tmp.path());
  db.exec("CREATE TABLE t(a INTEGER)");
  {
    Transaction tx(db);
    db.exec("INSERT INTO t VALUES(1)");
  }
  {
    Transaction tx(db);
    db.exec("INSERT INTO t VALUES(2)");
    tx.commit();
  }
  auto q = db.prepare("SELECT group_concat(a) FROM t");
  ASSERT_TRUE(q.step());
  EXPECT_EQ(q.text(0), "2");
}

TEST(Sqlite, DataVersionMovesWhenAnotherConnectionCommits) {
  testing::TempDb tmp;
  const auto& path = tmp.path();
  auto a = Db::open(path);
  auto b = Db::open(path);
  a.exec("CREATE TABLE t(a INTEGER)");
  auto before = b.data_version();
  EXPECT_EQ(b.data_version(), before);
  a.exec("INSERT INTO t VALUES(1)");
  EXPECT_NE(b.data_version(), before);
}

TEST(Sqlite, ErrorsNameTheStatement) {
  testing::TempDb tmp;
  auto db = Db::open(tmp.path());
  try {
    db.prepare("SELECT * FROM missing_table");
    FAIL() << "expected StorageError";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("missing_table"), std::string::npos);
  }
}

}  // namespace
}  // namespace sluice::storage
