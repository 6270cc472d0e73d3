#include "redis/url.hpp"

#include <gtest/gtest.h>

namespace sluice::redis {
namespace {

TEST(RedisUrl, HostPortDbAndPassword) {
  std::string why;
  auto ep = parse_url("redis://:s3cret@10.0.0.5:6380/2", why);
  ASSERT_TRUE(ep) << why;
  EXPECT_EQ(ep->host, "10.0.0.5");
  EXPECT_EQ(ep->port, 6380);
  EXPECT_EQ(ep->db, 2);
  EXPECT_EQ(ep->password, "s3cret");
  ep = parse_url("redis://127.0.0.1", why);
  ASSERT_TRUE(ep);
  EXPECT_EQ(ep->port, 6379);
  EXPECT_EQ(ep->db, 0);
  EXPECT_TRUE(ep->password.empty());
}

TEST(RedisUrl, RejectsWhatItCannotServe) {
  std::string why;
  EXPECT_FALSE(parse_url("rediss://h:1", why));
  EXPECT_NE(why.find("redis://"), std::string::npos);
  EXPECT_FALSE(parse_url("redis://h:99999", why));
  EXPECT_NE(why.find("port"), std::string::npos);
  EXPECT_FALSE(parse_url("redis://h:1/x", why));
  EXPECT_FALSE(parse_url("redis://:1", why));
  EXPECT_NE(why.find("host"), std::string::npos);
}

}  // namespace
}  // namespace sluice::redis
