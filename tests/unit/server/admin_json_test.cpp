#include "server/admin_json.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace sluice::server {
namespace {

TEST(QueryParams, DecodesFormEncoding) {
  auto q = query_params("window=60&project=a%2Cb&name=two+words&flag&empty=&bad=%zz%4");
  EXPECT_EQ(q.at("window"), "60");
  EXPECT_EQ(q.at("project"), "a,b");
  EXPECT_EQ(q.at("name"), "two words");
  EXPECT_EQ(q.at("flag"), "");
  EXPECT_EQ(q.at("empty"), "");
  EXPECT_EQ(q.at("bad"), "%zz%4");  // malformed escapes are kept as they are
  EXPECT_EQ(q.size(), 6u);
}

TEST(QueryParams, EdgesAndRepeats) {
  EXPECT_TRUE(query_params("").empty());
  EXPECT_TRUE(query_params("&&").empty());
  EXPECT_EQ(query_params("a=1&a=2").at("a"), "2");  // the last one wins
  EXPECT_EQ(query_params("a=x=y").at("a"), "x=y");
  EXPECT_EQ(query_params("%41=%42").at("A"), "B");
}

// Boost.URL 1.81's decode returned stray bytes under concurrency; this one must not.
TEST(QueryParams, ConcurrentCallsAgree) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < 2000; ++i) {
        auto q = query_params("window=60&limit=50");
        ASSERT_EQ(q.at("window"), "60");
        ASSERT_EQ(q.at("limit"), "50");
      }
    });
  }
  for (auto& th : threads) th.join();
}

}  // namespace
}  // namespace sluice::server
