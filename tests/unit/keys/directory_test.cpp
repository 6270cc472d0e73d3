#include "keys/directory.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "keys/key_store.hpp"
#include "unit/eventually.hpp"
#include "unit/keys/temp_db.hpp"

namespace sluice::keys {
namespace {

using namespace std::chrono_literals;
using testing::TempDb;

using test_support::eventually;

TEST(Directory, LoadsSynchronouslyOnConstruction) {
  TempDb tmp;
  std::string secret;
  {
    auto store = KeyStore::open(tmp.path());
    secret = store.create_key("p", {}, "", 1).secret;
  }
  Directory dir(tmp.path(), 1h);
  auto snap = dir.current();
  ASSERT_NE(snap, nullptr);
  EXPECT_TRUE(snap->keys_configured);
  EXPECT_NE(snap->find(secret), nullptr);
}

TEST(Directory, SeesChangesFromAnotherConnectionWithinThePollInterval) {
  TempDb tmp;
  Directory dir(tmp.path(), 20ms);
  EXPECT_FALSE(dir.current()->keys_configured);

  auto other = KeyStore::open(tmp.path());  // stands in for `sluice keys` in another process
  auto k = other.create_key("p", {}, "", 1);
  EXPECT_TRUE(eventually([&] { return dir.current()->find(k.secret) != nullptr; }, 5s));
  EXPECT_TRUE(dir.current()->keys_configured);

  ASSERT_TRUE(other.revoke_key(k.record.id, 2));
  EXPECT_TRUE(eventually([&] { return dir.current()->find(k.secret) == nullptr; }, 5s));
  EXPECT_TRUE(dir.current()->keys_configured);  // revoking every key keeps auth on

  other.set_project("p", {.rpm = 7}, 3);
  EXPECT_TRUE(eventually([&] {
    auto snap = dir.current();  // held: project() points into it
    const auto* p = snap->project("p");
    return p != nullptr && p->limits.rpm == 7.0;
  }, 5s));
  EXPECT_EQ(dir.reload_failures(), 0u);
}

TEST(Directory, OwnWritesAreCurrentWhenTheyReturn) {
  TempDb tmp;
  Directory dir(tmp.path(), 1h);  // no poll will happen during the test
  auto k = dir.create_key("p", {.tpm = 10}, "bot", 1);
  auto snap = dir.current();
  const auto* rec = snap->find(k.secret);
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(*rec, k.record);
  EXPECT_EQ(dir.list_keys(false).size(), 1u);
  EXPECT_EQ(dir.find_key(k.record.id), k.record);

  dir.set_project("p", {.concurrency = 3}, 2);
  EXPECT_EQ(dir.current()->project("p")->limits.concurrency, 3);
  EXPECT_EQ(dir.list_projects().size(), 1u);

  EXPECT_TRUE(dir.revoke_key(k.record.id, 3));
  EXPECT_FALSE(dir.revoke_key(k.record.id, 4));
  EXPECT_EQ(dir.current()->find(k.secret), nullptr);
  EXPECT_EQ(dir.list_keys(true).size(), 1u);
}

TEST(Directory, RefreshPicksUpAnotherConnectionsWriteAtOnce) {
  TempDb tmp;
  Directory dir(tmp.path(), 1h);
  auto other = KeyStore::open(tmp.path());
  auto k = other.create_key("p", {}, "", 1);
  dir.refresh();
  EXPECT_NE(dir.current()->find(k.secret), nullptr);
}

TEST(Directory, OldSnapshotStaysValidWhileHeld) {
  TempDb tmp;
  Directory dir(tmp.path(), 1h);
  auto k = dir.create_key("p", {}, "", 1);
  auto held = dir.current();
  const KeyRecord* rec = held->find(k.secret);
  ASSERT_NE(rec, nullptr);
  dir.revoke_key(k.record.id, 2);
  EXPECT_EQ(dir.current()->find(k.secret), nullptr);
  EXPECT_EQ(rec->id, k.record.id);  // the held snapshot and its records are untouched
}

TEST(Directory, DestructorReturnsPromptly) {
  TempDb tmp;
  auto dir = std::make_unique<Directory>(tmp.path(), 1h);
  std::this_thread::sleep_for(10ms);  // let the poll thread reach its wait
  auto start = std::chrono::steady_clock::now();
  dir.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(Directory, ReadersRunWhileSnapshotsAreReplaced) {
  TempDb tmp;
  Directory dir(tmp.path(), 5ms);
  auto first = dir.create_key("p", {}, "", 0);
  std::atomic<bool> stop{false};
  std::atomic<long> lookups{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 3; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto snap = dir.current();
        EXPECT_NE(snap->find(first.secret), nullptr);
        lookups.fetch_add(1);
      }
    });
  }
  auto other = KeyStore::open(tmp.path());
  for (int i = 1; i <= 10; ++i) {
    dir.create_key("p", {}, "", i);
    other.create_key("q", {}, "", i);
  }
  EXPECT_TRUE(eventually([&] { return dir.current()->active_key_count() == 21; }, 5s));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(lookups.load(), 0);
}

}  // namespace
}  // namespace sluice::keys
