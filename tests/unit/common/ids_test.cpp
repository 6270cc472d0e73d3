// Unit tests of src/common/ids: the shape of request and other random ids (prefix, length,
// base62 alphabet), that they differ, and that every alphabet position is reached.

#include "common/ids.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace sluice {
namespace {

bool base62(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

TEST(Ids, RequestIdHasPrefixAnd24Base62Characters) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = make_request_id();
    ASSERT_EQ(id.size(), 4u + 24u) << id;
    EXPECT_EQ(id.substr(0, 4), "req_");
    for (char c : id.substr(4)) EXPECT_TRUE(base62(c)) << id;
  }
}

TEST(Ids, RandomIdTakesAnyPrefixAndLength) {
  EXPECT_EQ(random_id("", 0), "");
  EXPECT_EQ(random_id("chatcmpl-", 0), "chatcmpl-");
  for (std::size_t n : {1u, 5u, 10u, 11u, 29u, 64u, 200u}) {
    const std::string id = random_id("msg_", n);
    ASSERT_EQ(id.size(), 4 + n);
    EXPECT_EQ(id.compare(0, 4, "msg_"), 0);
    for (std::size_t i = 4; i < id.size(); ++i) EXPECT_TRUE(base62(id[i])) << id;
  }
}

TEST(Ids, IdsDifferAndCoverTheAlphabet) {
  std::set<std::string> seen;
  std::set<char> chars;
  for (int i = 0; i < 20000; ++i) {
    auto id = make_request_id();
    chars.insert(id.begin() + 4, id.end());
    EXPECT_TRUE(seen.insert(std::move(id)).second);
  }
  EXPECT_EQ(chars.size(), 62u);
}

TEST(Ids, ThreadsDrawDifferentIds) {
  std::vector<std::vector<std::string>> per(4);
  std::vector<std::thread> threads;
  for (auto& ids : per) {
    threads.emplace_back([&ids] {
      for (int i = 0; i < 2000; ++i) ids.push_back(make_request_id());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& ids : per) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), 8000u);
}

}  // namespace
}  // namespace sluice
