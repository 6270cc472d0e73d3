#include "pg/connection.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace sluice::pg {
namespace {

using namespace std::chrono_literals;

int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST(PgConnection, RefusedConnectionIsAClearErrorWithinTheTimeout) {
  auto url = "postgresql://sluice@127.0.0.1:" + std::to_string(closed_port()) + "/sluice";
  auto t0 = std::chrono::steady_clock::now();
  try {
    Connection::open(url, {.connect_timeout = 2s, .statement_timeout = 1000ms});
    FAIL() << "connected to a closed port";
  } catch (const PgError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("cannot connect"), std::string::npos) << m;
    EXPECT_NE(m.find("127.0.0.1"), std::string::npos) << m;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
}

TEST(PgConnection, SilentServerTimesOutInsteadOfHanging) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  auto url = "postgresql://sluice@127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/sluice";
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(Connection::open(url, {.connect_timeout = 1s, .statement_timeout = 1000ms}), PgError);
  auto took = std::chrono::steady_clock::now() - t0;
  ::close(fd);
  EXPECT_LT(took, 5s);
}

TEST(PgConnection, MalformedConninfoIsAnError) {
  EXPECT_THROW(Connection::open("postgresql://[broken", {.connect_timeout = 1s, .statement_timeout = 1000ms}),
               PgError);
}

TEST(PgBytea, HexEscapesEveryByte) {
  EXPECT_EQ(bytea_param(std::string_view("\x00\xff\x10", 3)), "\\x00ff10");
  EXPECT_EQ(bytea_param(""), "\\x");
}

}  // namespace
}  // namespace sluice::pg
