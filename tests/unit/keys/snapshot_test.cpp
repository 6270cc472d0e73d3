#include "keys/snapshot.hpp"

#include <string>

#include <gtest/gtest.h>

#include "keys/key_store.hpp"
#include "unit/keys/temp_db.hpp"

namespace sluice::keys {
namespace {

using testing::TempDb;

TEST(Snapshot, EmptyStoreIsNotConfigured) {
  TempDb tmp;
  auto store = KeyStore::open(tmp.path());
  auto snap = load_snapshot(store);
  EXPECT_FALSE(snap->keys_configured);
  EXPECT_EQ(snap->active_key_count(), 0u);
  EXPECT_EQ(snap->find(generate_secret()), nullptr);
  EXPECT_FALSE(Snapshot{}.keys_configured);
}

TEST(Snapshot, FindsAnActiveKeyBySecret) {
  TempDb tmp;
  auto store = KeyStore::open(tmp.path());
  auto a = store.create_key("alpha", {.rpm = 10}, "a", 1);
  auto b = store.create_key("beta", {}, "b", 2);
  auto snap = load_snapshot(store);
  EXPECT_TRUE(snap->keys_configured);
  EXPECT_EQ(snap->active_key_count(), 2u);
  const KeyRecord* ka = snap->find(a.secret);
  ASSERT_NE(ka, nullptr);
  EXPECT_EQ(*ka, a.record);
  const KeyRecord* kb = snap->find(b.secret);
  ASSERT_NE(kb, nullptr);
  EXPECT_EQ(kb->id, b.record.id);
  EXPECT_EQ(snap->find(generate_secret()), nullptr);
}

TEST(Snapshot, NearMissSecretIsNotFound) {
  TempDb tmp;
  auto store = KeyStore::open(tmp.path());
  auto k = store.create_key("p", {}, "", 1);
  auto snap = load_snapshot(store);
  ASSERT_NE(snap->find(k.secret), nullptr);
  for (std::size_t pos : {std::size_t{0}, std::size_t{10}, std::size_t{31}, k.secret.size() - 1}) {
    auto miss = k.secret;
    miss[pos] = miss[pos] == 'a' ? 'b' : 'a';
    EXPECT_EQ(snap->find(miss), nullptr) << "changed position " << pos;
  }
  EXPECT_EQ(snap->find(k.secret.substr(0, k.secret.size() - 1)), nullptr);
  EXPECT_EQ(snap->find(k.secret + "x"), nullptr);
  EXPECT_EQ(snap->find(""), nullptr);
  EXPECT_EQ(snap->find("Bearer " + k.secret), nullptr);
  EXPECT_EQ(snap->find(std::string(100'000, 'x')), nullptr);
}

TEST(Snapshot, RevokedKeyIsNotFound) {
  TempDb tmp;
  auto store = KeyStore::open(tmp.path());
  auto a = store.create_key("p", {}, "", 1);
  auto b = store.create_key("p", {}, "", 2);
  store.revoke_key(a.record.id, 3);
  auto snap = load_snapshot(store);
  EXPECT_EQ(snap->find(a.secret), nullptr);
  EXPECT_NE(snap->find(b.secret), nullptr);
  EXPECT_EQ(snap->active_key_count(), 1u);
}

TEST(Snapshot, KeysConfiguredStaysTrueAfterRevokingEveryKey) {
  TempDb tmp;
  auto store = KeyStore::open(tmp.path());
  auto a = store.create_key("p", {}, "", 1);
  auto b = store.create_key("q", {}, "", 2);
  store.revoke_key(a.record.id, 3);
  store.revoke_key(b.record.id, 3);
  auto snap = load_snapshot(store);
  EXPECT_TRUE(snap->keys_configured);
  EXPECT_EQ(snap->active_key_count(), 0u);
  EXPECT_EQ(snap->find(a.secret), nullptr);
  EXPECT_EQ(snap->find(b.secret), nullptr);
}

TEST(Snapshot, ProjectsByName) {
  TempDb tmp;
  auto store = KeyStore::open(tmp.path());
  store.set_project("team", {.tpm = 1000, .budget_usd_day = 5}, 1);
  auto k = store.create_key("team", {}, "", 2);
  auto snap = load_snapshot(store);
  const KeyRecord* rec = snap->find(k.secret);
  ASSERT_NE(rec, nullptr);
  const ProjectRecord* p = snap->project(rec->project);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->limits, (Limits{.tpm = 1000, .budget_usd_day = 5}));
  EXPECT_EQ(snap->project("other"), nullptr);
}

TEST(Snapshot, BuildsWithoutAStoreAndDropsRevokedRecords) {
  KeyStore::ActiveKey live{hash_secret("sk-live"), {.id = "key_1", .project = "p"}};
  KeyStore::ActiveKey revoked{hash_secret("sk-dead"), {.id = "key_2", .project = "p", .revoked_ms = 5}};
  Snapshot snap(true, {live, revoked}, {{.name = "p"}});
  ASSERT_NE(snap.find("sk-live"), nullptr);
  EXPECT_EQ(snap.find("sk-live")->id, "key_1");
  EXPECT_EQ(snap.find("sk-dead"), nullptr);
  EXPECT_NE(snap.project("p"), nullptr);
}

}  // namespace
}  // namespace sluice::keys
