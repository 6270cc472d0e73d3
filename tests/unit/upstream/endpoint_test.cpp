#include "upstream/endpoint.hpp"

#include <gtest/gtest.h>

namespace sluice::upstream {
namespace {

TEST(Endpoint, ParsesSchemesPortsAndPaths) {
  std::string err;
  auto a = parse_endpoint("https://api.anthropic.com", err);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->tls);
  EXPECT_EQ(a->port, "443");
  EXPECT_EQ(a->host_header, "api.anthropic.com");
  EXPECT_EQ(a->base_path, "");
  auto b = parse_endpoint("http://127.0.0.1:8788/prefix/", err);
  ASSERT_TRUE(b);
  EXPECT_FALSE(b->tls);
  EXPECT_EQ(b->host_header, "127.0.0.1:8788");
  EXPECT_EQ(b->base_path, "/prefix");
  auto c = parse_endpoint("http://[::1]:9000", err);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->host_header, "[::1]:9000");
}

TEST(Endpoint, RejectsWhatCannotBeABaseUrl) {
  std::string err;
  EXPECT_FALSE(parse_endpoint("ftp://x", err));
  EXPECT_FALSE(parse_endpoint("not a url", err));
  EXPECT_FALSE(parse_endpoint("https://user:pw@host", err));
  EXPECT_FALSE(parse_endpoint("https://host/?q=1", err));
}

}  // namespace
}  // namespace sluice::upstream
