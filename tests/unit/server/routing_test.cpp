#include "server/routing.hpp"

#include <gtest/gtest.h>

namespace sluice::server {
namespace {

TEST(Router, NoRoutesSendsEverythingToTheFirstProvider) {
  Router r({});
  auto c = r.route("anything", "");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->provider.empty());
  EXPECT_TRUE(c->upstream_model.empty());
}

TEST(Router, FirstMatchWinsAndProjectsNarrowARoute) {
  Router r({{"claude-sonnet-*", "deepseek", "deepseek-chat", 8192, {"cc"}},
            {"claude-*", "anthropic", "", std::nullopt, {}}});
  auto cc = r.route("claude-sonnet-4-5", "cc");
  ASSERT_TRUE(cc);
  EXPECT_EQ(cc->provider, "deepseek");
  EXPECT_EQ(cc->upstream_model, "deepseek-chat");
  EXPECT_EQ(cc->max_tokens, 8192);
  auto other = r.route("claude-sonnet-4-5", "web");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->provider, "anthropic");
  EXPECT_FALSE(r.route("gpt-4o", "cc"));  // no route serves it: 404 for the client
}

}  // namespace
}  // namespace sluice::server
