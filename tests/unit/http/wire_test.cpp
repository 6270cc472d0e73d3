#include "http/wire.hpp"

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

namespace bhttp = boost::beast::http;

TEST(Wire, StatusLines) {
  std::string s;
  append_status_line(s, 11, 200, "");
  EXPECT_EQ(s, "HTTP/1.1 200 OK\r\n");
  s.clear();
  append_status_line(s, 11, 529, "");
  EXPECT_EQ(s, "HTTP/1.1 529 Overloaded\r\n");
  s.clear();
  append_status_line(s, 10, 404, "Gone Fishing");
  EXPECT_EQ(s, "HTTP/1.0 404 Gone Fishing\r\n");
  s.clear();
  append_status_line(s, 11, 555, "");
  EXPECT_EQ(s, "HTTP/1.1 555 Unknown\r\n");
}

TEST(Wire, FieldsSkipFramingOwnedByTheWriter) {
  bhttp::fields f;
  f.set(bhttp::field::content_type, "application/json");
  f.set(bhttp::field::content_length, "12");
  f.set(bhttp::field::transfer_encoding, "chunked");
  f.set(bhttp::field::connection, "keep-alive");
  f.set("request-id", "req_1");
  std::string s;
  append_fields(s, f);
  EXPECT_EQ(s, "Content-Type: application/json\r\nrequest-id: req_1\r\n");
}

TEST(Wire, Framing) {
  std::string a;
  append_framing(a, 42, false, 11, true);
  EXPECT_EQ(a, "Content-Length: 42\r\n\r\n");
  std::string b;
  append_framing(b, std::nullopt, true, 11, false);
  EXPECT_EQ(b, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  std::string c;
  append_framing(c, 0, false, 10, true);
  EXPECT_EQ(c, "Content-Length: 0\r\nConnection: keep-alive\r\n\r\n");
  std::string d;
  append_framing(d, std::nullopt, false, 10, false);
  EXPECT_EQ(d, "\r\n") << "HTTP/1.0 close-delimited body";
}

}  // namespace
}  // namespace sluice::http
