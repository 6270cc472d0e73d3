#include "keys/secret.hpp"

#include <array>
#include <limits>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "keys/records.hpp"

namespace sluice::keys {
namespace {

bool is_base62(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

TEST(Secret, HasPrefixLengthAndBase62Alphabet) {
  for (int i = 0; i < 100; ++i) {
    auto s = generate_secret();
    ASSERT_EQ(s.size(), 53u);
    ASSERT_EQ(s.substr(0, 10), "sk-sluice-");
    for (char c : s.substr(10)) ASSERT_TRUE(is_base62(c)) << s;
    ASSERT_TRUE(looks_like_sluice_key(s));
  }
}

TEST(Secret, ThousandSecretsAreDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(generate_secret());
  EXPECT_EQ(seen.size(), 1000u);
}

// Modulo bias (byte % 62 without rejection) would give 8 symbols 5/4 of the others' weight,
// about 25 % more; the bound below is about 6 standard deviations, far less than that.
TEST(Secret, SymbolsAreUniform) {
  std::array<int, 128> counts{};
  constexpr int kSecrets = 5000;
  for (int i = 0; i < kSecrets; ++i)
    for (char c : generate_secret().substr(10)) ++counts[static_cast<unsigned char>(c)];
  const double expected = kSecrets * 43.0 / 62;  // ~3468
  int symbols = 0;
  for (int c = 0; c < 128; ++c) {
    if (!is_base62(static_cast<char>(c))) {
      EXPECT_EQ(counts[c], 0);
      continue;
    }
    ++symbols;
    EXPECT_NEAR(counts[c], expected, 350) << "symbol " << static_cast<char>(c);
  }
  EXPECT_EQ(symbols, 62);
}

TEST(Secret, LooksLikeSluiceKeyChecksPrefixLengthAndAlphabet) {
  auto s = generate_secret();
  EXPECT_TRUE(looks_like_sluice_key(s));
  EXPECT_FALSE(looks_like_sluice_key(""));
  EXPECT_FALSE(looks_like_sluice_key("sk-sluice-"));
  EXPECT_FALSE(looks_like_sluice_key(s.substr(0, 52)));
  EXPECT_FALSE(looks_like_sluice_key(s + "A"));
  auto wrong_prefix = s;
  wrong_prefix[3] = 'S';
  EXPECT_FALSE(looks_like_sluice_key(wrong_prefix));
  auto bad_char = s;
  bad_char[30] = '-';
  EXPECT_FALSE(looks_like_sluice_key(bad_char));
  EXPECT_FALSE(looks_like_sluice_key("sk-ant-api03-" + s.substr(13)));
}

TEST(Secret, HashIsSha256) {
  // FIPS 180-2 test vector for "abc".
  const SecretHash expected = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                               0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                               0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  EXPECT_EQ(hash_secret("abc"), expected);
  EXPECT_NE(hash_secret("abd"), expected);
}

TEST(Secret, KeyIdsAreRandomLowercaseHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto id = generate_key_id();
    ASSERT_EQ(id.size(), 20u);
    ASSERT_EQ(id.substr(0, 4), "key_");
    for (char c : id.substr(4)) ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(Secret, HintShowsTwelveCharacters) {
  EXPECT_EQ(secret_hint("sk-sluice-AbCdEfGh"), "sk-sluice-Ab...");
}

TEST(Records, ProjectNames) {
  EXPECT_TRUE(valid_project_name("a"));
  EXPECT_TRUE(valid_project_name("team-A_1.prod"));
  EXPECT_TRUE(valid_project_name(std::string(64, 'x')));
  EXPECT_FALSE(valid_project_name(""));
  EXPECT_FALSE(valid_project_name(std::string(65, 'x')));
  for (const char* bad : {"a b", "a/b", "é", "a\nb", "a;b", "a*", "'x'"}) EXPECT_FALSE(valid_project_name(bad)) << bad;
}

TEST(Records, Limits) {
  EXPECT_TRUE(valid_limits({}));
  EXPECT_TRUE(valid_limits({.rpm = 0, .tpm = 1e6, .concurrency = 0, .budget_usd_day = 0.5, .budget_usd_month = 10}));
  EXPECT_FALSE(valid_limits({.rpm = -1}));
  EXPECT_FALSE(valid_limits({.tpm = -0.5}));
  EXPECT_FALSE(valid_limits({.concurrency = -1}));
  EXPECT_FALSE(valid_limits({.budget_usd_day = -1}));
  EXPECT_FALSE(valid_limits({.budget_usd_month = std::numeric_limits<double>::quiet_NaN()}));
  EXPECT_FALSE(valid_limits({.rpm = std::numeric_limits<double>::infinity()}));
}

}  // namespace
}  // namespace sluice::keys
