// The RESP layer's error handling: refused connections, a server that never answers, error
// replies that leave the connection usable, reconnection after a restart, EVALSHA's fallback.
#include "redis/connection.hpp"

#include <gtest/gtest.h>

#include "redis/script.hpp"
#include "unit/redis/redis_server.hpp"

namespace sluice::redis {
namespace {

using namespace std::chrono_literals;
using testing::RedisServer;

Endpoint local(int port) { return Endpoint{"127.0.0.1", port, "", 0}; }

TEST(RedisConnection, RefusedIsUnavailableNotAHang) {
  Connection c(local(testing::free_port()), 200ms);
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.command({"PING"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Unavailable);
  EXPECT_NE(r.error().message.find("cannot connect"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_FALSE(c.connected());
}

TEST(RedisConnection, SilentServerTimesOut) {
  // A socket that accepts (the kernel's backlog does) but never answers.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  Connection c(local(ntohs(a.sin_port)), 150ms);
  auto t0 = std::chrono::steady_clock::now();
  auto r = c.command({"PING"});
  auto took = std::chrono::steady_clock::now() - t0;
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Unavailable);
  EXPECT_GE(took, 100ms);
  EXPECT_LT(took, 2s);
  EXPECT_FALSE(c.connected()) << "a timed-out connection is dropped, never reused mid-reply";
}

TEST(RedisConnection, ErrorReplyKeepsTheConnection) {
  RedisServer server;
  Connection c(local(server.port()), 1000ms);
  auto bad = c.command({"NOSUCHCOMMAND", "x"});
  ASSERT_TRUE(bad.ok());
  EXPECT_TRUE(bad.value().is_error());
  EXPECT_TRUE(c.connected());
  auto set = c.command({"SET", "k", std::string_view("a\0b", 3)});
  ASSERT_TRUE(set.ok());
  auto get = c.command({"GET", "k"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get.value().str, std::string("a\0b", 3)) << "binary-safe arguments";
}

TEST(RedisConnection, ReconnectsAfterARestart) {
  RedisServer server;
  Connection c(local(server.port()), 500ms);
  ASSERT_TRUE(c.command({"PING"}).ok());
  server.stop();
  auto down = c.command({"PING"});
  EXPECT_FALSE(down.ok());
  EXPECT_FALSE(c.connected());
}

TEST(RedisScript, EvalshaFallsBackToEvalAfterAFlush) {
  RedisServer server;
  Connection c(local(server.port()), 1000ms);
  Script s("return tonumber(ARGV[1]) + 1");
  auto first = s.run(c, {}, {"41"});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value().integer, 42);
  ASSERT_TRUE(c.command({"SCRIPT", "FLUSH"}).ok());
  auto again = s.run(c, {}, {"1"});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value().integer, 2);
  auto exists = c.command({"SCRIPT", "EXISTS", s.sha1()});
  ASSERT_TRUE(exists.ok());
  ASSERT_EQ(exists.value().elements.size(), 1u);
  EXPECT_EQ(exists.value().elements[0].integer, 1) << "EVAL put the script back in the cache";
}

}  // namespace
}  // namespace sluice::redis
