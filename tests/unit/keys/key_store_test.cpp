#include "keys/key_store.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "unit/keys/temp_db.hpp"
#include "storage/sqlite.hpp"

namespace sluice::keys {
namespace {

using testing::TempDb;

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(KeyStore, CreateListRevoke) {
  TempDb tmp;
  auto store = KeyStore::open(tmp.path());
  auto a = store.create_key("alpha", {}, "laptop", 1000);
  auto b = store.create_key("alpha", {}, "", 2000);

  EXPECT_TRUE(a.record.id.starts_with("key_"));
  EXPECT_EQ(a.record.project, "alpha");
  EXPECT_EQ(a.record.name, "laptop");
  EXPECT_EQ(a.record.hint, a.secret.substr(0, 12) + "...");
  EXPECT_EQ(a.record.created_ms, 1000);
  EXPECT_FALSE(a.record.revoked_ms);
  EXPECT_NE(a.record.id, b.record.id);
  EXPECT_NE(a.secret, b.secret);

  auto keys = store.list_keys(false);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0], a.record);
  EXPECT_EQ(keys[1], b.record);

  EXPECT_TRUE(store.revoke_key(a.record.id, 3000));
  auto active = store.list_keys(false);
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0].id, b.record.id);
  auto all = store.list_keys(true);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].revoked_ms, 3000);

  auto found = store.find_key(a.record.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->revoked_ms, 3000);
  EXPECT_FALSE(store.find_key("key_0000000000000000"));
}

TEST(KeyStore, RevokeIsFalseForUnknownOrAlreadyRevoked) {
  TempDb tmp;
  auto store = KeyStore::open(tmp.path());
  auto k = store.create_key("p", {}, "", 1);
  EXPECT_FALSE(store.revoke_key("key_ffffffffffffffff", 2));
  EXPECT_TRUE(store.revoke_key(k.record.id, 2));
  EXPECT_FALSE(store.revoke_key(k.record.id, 3));
  EXPECT_EQ(store.find_key(k.record.id)->revoked_ms, 2);  // the first revocation time stays
}

TEST(KeyStore, StoresTheHashNeverTheSecret) {
  TempDb tmp;
  std::string secret;
  {
    auto store = KeyStore::open(tmp.path());
    auto k = store.create_key("p", {}, "ci", 1);
    secret = k.secret;

    auto db = storage::Db::open(tmp.path());
    auto st = db.prepare("SELECT typeof(hash), length(hash), hash, hint FROM keys");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.text(0), "blob");
    EXPECT_EQ(st.int64(1), 32);
    auto expected = hash_secret(secret);
    EXPECT_EQ(st.text(2), std::string(reinterpret_cast<const char*>(expected.data()), expected.size()));
    EXPECT_EQ(st.text(3), secret.substr(0, 12) + "...");

    // Every column of the row, as text, never holds the secret.
    auto row = db.prepare("SELECT * FROM keys");
    ASSERT_TRUE(row.step());
    for (int c = 0; c < 12; ++c) EXPECT_EQ(row.text(c).find(secret.substr(12)), std::string::npos) << "column " << c;

    // Neither do the raw bytes of the database and its WAL, while connections are open
    // (the row is still in the WAL) ...
    for (const char* suffix : {"", "-wal"}) {
      auto bytes = file_bytes(tmp.path() + suffix);
      EXPECT_EQ(bytes.find(secret), std::string::npos) << suffix;
      EXPECT_EQ(bytes.find(secret.substr(12)), std::string::npos) << suffix;
    }
  }
  // ... nor after the last connection closed and checkpointed it into the main file.
  auto bytes = file_bytes(tmp.path());
  ASSERT_FALSE(bytes.empty());
  EXPECT_NE(bytes.find(secret.substr(0, 12) + "..."), std::string::npos);  // the hint is there
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  EXPECT_EQ(bytes.find(secret.substr(12)), std::string::npos);
}

TEST(KeyStore, LimitsRoundTripIncludingUnset) {
  TempDb tmp;
  auto store = KeyStore::open(tmp.path());
  const Limits full{.rpm = 60, .tpm = 100'000.5, .concurrency = 4, .budget_usd_day = 2.25, .budget_usd_month = 50};
  const Limits partial{.tpm = 0, .budget_usd_month = 10};
  auto a = store.create_key("p", full, "", 1);
  auto b = store.create_key("p", partial, "", 2);
  auto c = store.create_key("p", {}, "", 3);
  EXPECT_EQ(store.find_key(a.record.id)->limits, full);
  EXPECT_EQ(store.find_key(b.record.id)->limits, partial);
  EXPECT_EQ(store.find_key(c.record.id)->limits, Limits{});
  auto cl = store.find_key(c.record.id)->limits;
  EXPECT_FALSE(cl.rpm || cl.tpm || cl.concurrency || cl.budget_usd_day || cl.budget_usd_month);

  auto p = store.set_project("q", full, 5);
  EXPECT_EQ(p.limits, full);
  EXPECT_EQ(store.find_project("q")->limits, full);
}

TEST(KeyStore, CreateKeyCreatesTheProjectWithoutLimits) {
  TempDb tmp;
  auto store = KeyStore::open(tmp.path());
  store.create_key("new-project", {.rpm = 5}, "", 42);
  auto projects = store.list_projects();
  ASSERT_EQ(projects.size(), 1u);
  EXPECT_EQ(projects[0], (ProjectRecord{"new-project", {}, 42}));
  // A second key leaves the existing project alone.
  store.set_project("new-project", {.tpm = 9}, 50);
  store.create_key("new-project", {}, "", 60);
  EXPECT_EQ(store.list_projects()[0], (ProjectRecord{"new-project", {.tpm = 9}, 42}));
}

TEST(KeyStore, SetProjectCreatesOrReplacesLimitsKeepingCreationTime) {
  TempDb tmp;
  auto store = KeyStore::open(tmp.path());
  EXPECT_EQ(store.set_project("b", {.rpm = 1}, 10), (ProjectRecord{"b", {.rpm = 1}, 10}));
  EXPECT_EQ(store.set_project("a", {}, 11), (ProjectRecord{"a", {}, 11}));
  EXPECT_EQ(store.set_project("b", {.concurrency = 2}, 12), (ProjectRecord{"b", {.concurrency = 2}, 10}));
  auto projects = store.list_projects();
  ASSERT_EQ(projects.size(), 2u);
  EXPECT_EQ(projects[0].name, "a");
  EXPECT_EQ(projects[1], (ProjectRecord{"b", {.concurrency = 2}, 10}));
  EXPECT_FALSE(store.find_project("c"));
}

TEST(KeyStore, RejectsBadProjectNamesAndLimits) {
  TempDb tmp;
  auto store = KeyStore::open(tmp.path());
  const std::vector<std::string> bad_names = {"",     "has space",          "semi;colon",
                                              "slash/", std::string(65, 'a'), std::string("nul\0", 4)};
  for (const auto& bad : bad_names) {
    EXPECT_THROW(store.create_key(bad, {}, "", 1), std::invalid_argument) << bad;
    EXPECT_THROW(store.set_project(bad, {}, 1), std::invalid_argument) << bad;
  }
  EXPECT_THROW(store.create_key("p", {.rpm = -1}, "", 1), std::invalid_argument);
  EXPECT_THROW(store.create_key("p", {.concurrency = -3}, "", 1), std::invalid_argument);
  EXPECT_THROW(store.set_project("p", {.budget_usd_day = -0.01}, 1), std::invalid_argument);
  EXPECT_TRUE(store.list_keys(true).empty());
  EXPECT_TRUE(store.list_projects().empty());
}

TEST(KeyStore, SharesTheFileWithOtherTablesAndReopens) {
  TempDb tmp;
  {
    auto db = storage::Db::open(tmp.path());
    db.exec("CREATE TABLE ledger(id INTEGER PRIMARY KEY, usd REAL); INSERT INTO ledger(usd) VALUES(1.5)");
  }
  std::string id;
  {
    auto store = KeyStore::open(tmp.path());
    id = store.create_key("p", {}, "", 1).record.id;
  }
  auto store = KeyStore::open(tmp.path());  // IF NOT EXISTS: reopening keeps the data
  EXPECT_TRUE(store.find_key(id));
  auto db = storage::Db::open(tmp.path());
  auto st = db.prepare("SELECT usd FROM ledger");
  ASSERT_TRUE(st.step());
  EXPECT_DOUBLE_EQ(st.real(0), 1.5);
}

TEST(KeyStore, DataVersionMovesOnAnotherConnectionsWrite) {
  TempDb tmp;
  auto reader = KeyStore::open(tmp.path());
  auto writer = KeyStore::open(tmp.path());
  auto v0 = reader.data_version();
  writer.create_key("p", {}, "", 1);
  EXPECT_NE(reader.data_version(), v0);
}

TEST(KeyStore, ReadContentsHasActiveKeysWithHashes) {
  TempDb tmp;
  auto store = KeyStore::open(tmp.path());
  EXPECT_FALSE(store.read_contents().keys_configured);
  auto a = store.create_key("p", {}, "", 1);
  auto b = store.create_key("q", {}, "", 2);
  store.revoke_key(a.record.id, 3);
  auto c = store.read_contents();
  EXPECT_TRUE(c.keys_configured);
  ASSERT_EQ(c.active_keys.size(), 1u);
  EXPECT_EQ(c.active_keys[0].record, b.record);
  EXPECT_EQ(c.active_keys[0].hash, hash_secret(b.secret));
  EXPECT_EQ(c.projects.size(), 2u);
}

}  // namespace
}  // namespace sluice::keys
