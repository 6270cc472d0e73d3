#include "server/access_log.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace sluice::server {
namespace {

TEST(AccessLog, OneJsonObjectPerLineWithTheRequestFields) {
  AccessRecord r;
  r.request_id = "req_x";
  r.method = "POST";
  r.route = "/v1/messages";
  r.model = "claude-sonnet-4-5";
  r.status = 200;
  r.upstream_status = 200;
  r.attempts = 1;
  r.latency_ms = 12.3456;
  r.ttfb_ms = 1.5;
  r.bytes_in = 100;
  r.bytes_out = 2000;
  r.stream = true;
  r.project = "backend";
  r.key_id = "key_0123456789abcdef";
  auto line = to_json_line(r);
  ASSERT_EQ(line.back(), '\n');
  ASSERT_EQ(line.find('\n'), line.size() - 1);
  auto v = boost::json::parse(line).as_object();
  EXPECT_EQ(v["request_id"].as_string(), "req_x");
  EXPECT_EQ(v["route"].as_string(), "/v1/messages");
  EXPECT_EQ(v["model"].as_string(), "claude-sonnet-4-5");
  EXPECT_EQ(v["status"].as_int64(), 200);
  EXPECT_EQ(v["attempts"].as_int64(), 1);
  EXPECT_DOUBLE_EQ(v["latency_ms"].as_double(), 12.346);
  EXPECT_TRUE(v["stream"].as_bool());
  EXPECT_FALSE(v.contains("error"));
  EXPECT_TRUE(v.contains("ts"));
  EXPECT_EQ(v["project"].as_string(), "backend");
  EXPECT_EQ(v["key_id"].as_string(), "key_0123456789abcdef");
  AccessRecord anonymous;
  EXPECT_EQ(to_json_line(anonymous).find("key_id"), std::string::npos);
}

TEST(AccessLog, WritesToFileAndFlushes) {
  char path[] = "/tmp/sluice_access_logXXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  {
    AccessLog log(path);
    for (int i = 0; i < 100; ++i) {
      AccessRecord r;
      r.request_id = "req_" + std::to_string(i);
      log.write(r);
    }
    log.flush();
    std::ifstream in(path);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      auto v = boost::json::parse(line).as_object();
      EXPECT_EQ(v["request_id"].as_string(), "req_" + std::to_string(n));
      ++n;
    }
    EXPECT_EQ(n, 100);
  }
  std::remove(path);
}

}  // namespace
}  // namespace sluice::server
