// Tests of the counting rules (src/mock/token_count.*) and text helpers (src/mock/json_text.*).

#include "mock/token_count.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "mock/json_text.hpp"

namespace sluice::mock {
namespace {

TEST(TokenCount, PiecesAreWordsWithLeadingSpace) {
  auto p = split_pieces("Hello  from sluice!\n");
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], "Hello");
  EXPECT_EQ(p[1], "  from");
  EXPECT_EQ(p[2], " sluice!\n");
  EXPECT_EQ(count_pieces("Hello  from sluice!\n"), 3u);
  EXPECT_EQ(count_pieces(""), 0u);
  EXPECT_EQ(count_pieces("   "), 1u);
}

TEST(TokenCount, LongWordsSplitAtCharacterBoundaries) {
  std::string word;
  for (int i = 0; i < 12; ++i) word += "\xE2\x82\xAC";  // 36 bytes
  auto p = split_pieces(word);
  std::string joined;
  for (auto piece : p) {
    EXPECT_LE(piece.size(), kMaxPieceBytes);
    EXPECT_EQ(piece.size() % 3, 0u);
    joined += piece;
  }
  EXPECT_EQ(joined, word);
  EXPECT_EQ(p.size(), count_pieces(word));
}

TEST(TokenCount, InputBytes) {
  auto v = boost::json::parse(R"({"a":"abc","b":[1,"de",{"c":"f"}],"n":null})");
  EXPECT_EQ(string_bytes(v), 6u);
  EXPECT_EQ(tokens_for_bytes(0), 1u);
  EXPECT_EQ(tokens_for_bytes(4), 1u);
  EXPECT_EQ(tokens_for_bytes(5), 2u);
}

TEST(JsonText, EscapesAndRepairs) {
  std::string out;
  append_json_string(out, "a\"b\\c\n\x01\xC3\xA9");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\n\\u0001\xC3\xA9\"");
  EXPECT_EQ(boost::json::parse(out).as_string(), "a\"b\\c\n\x01\xC3\xA9");
  EXPECT_EQ(sanitize_utf8("ok\xFF\xC3"), "ok\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(utf8_prefix("\xC3\xA9\xC3\xA9", 3), "\xC3\xA9");
  EXPECT_EQ(utf8_prefix("abc", 10), "abc");
  EXPECT_EQ(trim("  x y \n"), "x y");
  EXPECT_TRUE(icontains("Application/JSON; charset=utf-8", "json"));
}

}  // namespace
}  // namespace sluice::mock
