// The redaction engine (src/stages/redact/engine.hpp): actions, overlap resolution, compile
// errors, UTF-8, empty and large inputs. The default rules themselves: redact_rules_test.cpp.
#include "stages/redact/engine.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sluice::stages::redact {
namespace {

using namespace std::chrono_literals;

std::vector<Rule> with_action(std::vector<Rule> rules, std::string_view type, Action action) {
  for (Rule& r : rules) {
    if (r.type == type) r.action = action;
  }
  return rules;
}

const std::string kAws = std::string("AKIA") + "IOSFODNN7EXAMPLE";

TEST(RedactEngine, EmptyEngineAndEmptyInput) {
  Engine none;
  EXPECT_EQ(none.size(), 0u);
  EXPECT_TRUE(none.scan("password = \"hunter22\"").empty());
  std::string text = "password = \"hunter22\"";
  EXPECT_FALSE(none.redact(text).changed);

  Engine e = Engine::compile(default_rules());
  EXPECT_GT(e.size(), 20u);
  EXPECT_TRUE(e.scan("").empty());
  std::string empty;
  auto out = e.redact(empty);
  EXPECT_FALSE(out.changed);
  EXPECT_TRUE(out.counts.empty());
  EXPECT_TRUE(empty.empty());
}

TEST(RedactEngine, RedactKeepsTheKeyAndCountsPerType) {
  Engine e = Engine::compile(default_rules());
  std::string text = "aws_access_key_id = " + kAws + "\npassword = \"hunter22\"\nid2 = " + kAws + "\n";
  auto out = e.redact(text);
  EXPECT_EQ(text, "aws_access_key_id = [REDACTED:aws_access_key]\npassword = \"[REDACTED:password]\"\n"
                  "id2 = [REDACTED:aws_access_key]\n");
  EXPECT_TRUE(out.changed);
  EXPECT_FALSE(out.blocked);
  ASSERT_EQ(out.counts.size(), 2u);  // rule order: aws_access_key before password
  EXPECT_EQ(out.counts[0].type, "aws_access_key");
  EXPECT_EQ(out.counts[0].count, 2);
  EXPECT_EQ(out.counts[0].action, Action::Redact);
  EXPECT_EQ(out.counts[1].type, "password");
  EXPECT_EQ(out.counts[1].count, 1);
}

TEST(RedactEngine, BlockReportsTheTypeAndNeverTheSecret) {
  Engine e = Engine::compile(with_action(default_rules(), "aws_access_key", Action::Block));
  std::string text = "key: " + kAws + " and password = \"hunter22\"";
  auto out = e.redact(text);
  EXPECT_TRUE(out.blocked);
  EXPECT_EQ(out.blocked_type, "aws_access_key");
  EXPECT_EQ(text.find(kAws), std::string::npos);  // replaced too, in case anyone forwards it
  EXPECT_EQ(text, "key: [REDACTED:aws_access_key] and password = \"[REDACTED:password]\"");
  ASSERT_EQ(out.counts.size(), 2u);
  EXPECT_EQ(out.counts[0].action, Action::Block);
  EXPECT_EQ(out.counts[1].action, Action::Redact);
  for (const auto& c : out.counts) EXPECT_EQ(c.type.find("AKIA"), std::string_view::npos);
}

TEST(RedactEngine, LogCountsButLeavesTheText) {
  Engine e = Engine::compile(with_action(default_rules(), "aws_access_key", Action::Log));
  const std::string original = "a " + kAws + " b " + kAws;
  std::string text = original;
  auto findings = e.scan(text);
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].action, Action::Log);
  auto out = e.redact(text);
  EXPECT_EQ(text, original);
  EXPECT_FALSE(out.changed);
  ASSERT_EQ(out.counts.size(), 1u);
  EXPECT_EQ(out.counts[0].count, 2);
  EXPECT_EQ(out.counts[0].action, Action::Log);
}

TEST(RedactEngine, OffIgnoresTheRule) {
  Engine e = Engine::compile(with_action(default_rules(), "aws_access_key", Action::Off));
  EXPECT_EQ(e.size(), Engine::compile(default_rules()).size() - 1);
  std::string text = "key " + kAws;
  EXPECT_TRUE(e.scan(text).empty());
  EXPECT_FALSE(e.redact(text).changed);
}

TEST(RedactEngine, AllowShieldsWhatItCoversAndIsNeverReported) {
  std::vector<Rule> rules = {
      {"internal_host", R"(build-[0-9]+\.corp)", Action::Allow},
      {"number", R"([0-9]{3,})", Action::Redact},
  };
  Engine e = Engine::compile(rules);
  auto f = e.scan("build-12345.corp and 67890");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].type, "number");
  EXPECT_EQ(f[0].offset, 21u);
}

TEST(RedactEngine, CustomRuleWithGroupRedactsTheGroupOnly) {
  Engine e = Engine::compile({{"employee_id", R"(\bEMP-([0-9]{6})\b)"}});
  std::string text = "ticket for EMP-123456, not EMP-12";
  e.redact(text);
  EXPECT_EQ(text, "ticket for EMP-[REDACTED:employee_id], not EMP-12");
}

TEST(RedactEngine, FirstParticipatingGroupIsTheSecret) {
  Engine e = Engine::compile({{"either", R"(a=([0-9]+)|b=([a-z]+))"}});
  auto f = e.scan("b=xyz a=42");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].offset, 2u);
  EXPECT_EQ(f[0].length, 3u);
  EXPECT_EQ(f[1].offset, 8u);
  EXPECT_EQ(f[1].length, 2u);
}

TEST(RedactEngine, OverlapEarlierStartWinsAndTheRestIsStillCovered) {
  // "abc" [0,3) starts first; "bcdef" [1,6) keeps only [3,6), so no byte of it is left out.
  Engine e = Engine::compile({{"first", "abc"}, {"second", "bcdef"}});
  auto f = e.scan("abcdef");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].type, "first");
  EXPECT_EQ(f[0].offset, 0u);
  EXPECT_EQ(f[0].length, 3u);
  EXPECT_EQ(f[1].type, "second");
  EXPECT_EQ(f[1].offset, 3u);
  EXPECT_EQ(f[1].length, 3u);
  std::string text = "xabcdefx";
  e.redact(text);
  EXPECT_EQ(text, "x[REDACTED:first][REDACTED:second]x");
}

TEST(RedactEngine, OverlapLongerWinsAtTheSameStartAndEarlierRuleOnTies) {
  Engine e = Engine::compile({{"short", "ab"}, {"long", "abcd"}, {"same", "abcd"}});
  auto f = e.scan("abcd");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].type, "long");
  EXPECT_EQ(f[0].length, 4u);
  // Contained matches disappear.
  Engine c = Engine::compile({{"outer", "x[0-9]+y"}, {"inner", "[0-9]+"}});
  auto g = c.scan("x123y 45");
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].type, "outer");
  EXPECT_EQ(g[1].type, "inner");
  EXPECT_EQ(g[1].offset, 6u);
}

TEST(RedactEngine, DefaultRulesVendorTokenBeatsGenericAssignment) {
  Engine e = Engine::compile(default_rules());
  std::string ghp = std::string("ghp") + "_" + "Qx7aB3cD4eF5gH6iJ7kL8mN9oP0qR1sT2uV3";
  auto f = e.scan("token = \"" + ghp + "\"");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].type, "github_token");
}

TEST(RedactEngine, CompileErrorsNameTheRuleNotThePattern) {
  const std::string secretish = "Sup3rS3cretLiteral";
  try {
    (void)Engine::compile({{"ok_rule", "abc"}, {"my_rule", "(" + secretish}});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("my_rule"), std::string::npos) << what;
    EXPECT_NE(what.find("missing closing )"), std::string::npos) << what;
    EXPECT_EQ(what.find(secretish), std::string::npos) << what;
  }
  try {
    (void)Engine::compile({{"lookahead", "(?=" + secretish + ")"}});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("lookahead"), std::string::npos) << what;
    EXPECT_EQ(what.find(secretish), std::string::npos) << what;
  }
  EXPECT_THROW((void)Engine::compile({{"empty_ok", "a*"}}), std::invalid_argument);
  EXPECT_THROW((void)Engine::compile({{"boundary", R"(\b)"}}), std::invalid_argument);
  EXPECT_THROW((void)Engine::compile({{"bad type!", "abc"}}), std::invalid_argument);
  EXPECT_THROW((void)Engine::compile({{"", "abc"}}), std::invalid_argument);
  // An Off rule is not compiled, so its pattern is not checked either.
  EXPECT_NO_THROW((void)Engine::compile({{"disabled", "(", Action::Off}}));
}

TEST(RedactEngine, Utf8AroundSecretsIsPreserved) {
  Engine e = Engine::compile(default_rules());
  std::string text = "Schlüssel — ça marche 🎉 password = \"pässwört42\" ✓ 日本語 " + kAws + "です";
  e.redact(text);
  EXPECT_EQ(text, "Schlüssel — ça marche 🎉 password = \"[REDACTED:password]\" ✓ 日本語 "
                  "[REDACTED:aws_access_key]です");
}

TEST(RedactEngine, FindingsNeverSplitAUtf8Character) {
  // A custom rule whose match ends inside "é" (0xC3 0xA9) is widened to the whole character.
  Engine e = Engine::compile({{"half", "ab\\xC3"}});
  std::string text = "xabé!";
  auto f = e.scan(text);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(text.substr(f[0].offset, f[0].length), "abé");
}

std::string random_base64(std::size_t n, std::uint64_t seed) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  s.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    s.push_back(kAlphabet[(seed >> 33) % 64]);
  }
  return s;
}

template <class F>
std::chrono::milliseconds timed(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

TEST(RedactEngine, OneMegabyteBase64BlobInLinearTime) {
  Engine e = Engine::compile(default_rules());
  std::string blob = "{\"data\": \"" + random_base64(1 << 20, 42) + "\"}";
  std::vector<Engine::Finding> f;
  auto took = timed([&] { f = e.scan(blob); });
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].type, "base64_blob");
  EXPECT_EQ(f[0].offset, 10u);
  EXPECT_EQ(f[0].length, std::size_t{1} << 20);
  // Quadratic behaviour would take minutes; linear takes milliseconds (seconds under sanitizers).
  EXPECT_LT(took, 20s);
  std::string text = blob;
  e.redact(text);
  EXPECT_EQ(text, "{\"data\": \"[REDACTED:base64_blob]\"}");
}

TEST(RedactEngine, AdversarialInputsStayLinear) {
  Engine e = Engine::compile(default_rules());
  auto repeat = [](std::string_view unit, std::size_t bytes) {
    std::string s;
    while (s.size() < bytes) s.append(unit);
    return s;
  };
  const std::size_t mb = 1 << 20;
  std::vector<std::string> inputs = {
      std::string(mb, 'a'),                                   // one long rejected run
      repeat("password=", mb),                                // candidates everywhere
      repeat("token: abc ", mb),                              // rejected values everywhere
      repeat("-----BEGIN PRIVATE KEY-----\n", mb),            // headers without bodies
      repeat("http://a:b", mb) + "@host",                     // one match at the very end
      repeat("eyJhbGciOiJIUzI1NiJ9.", mb),                    // JWT-ish segments
      repeat("sk-ant-", mb),                                  // prefixes without tokens
      repeat("AbC1", mb / 4) + "\n" + repeat("aB3/", mb / 4),  // long mixed runs
      repeat("-eyJaaaaaaaaaaaa", mb),                         // JWT headers without a '.'
      "eyJhbGciOiJIUzI1NiJ9.eyJ" + repeat("-eyJaaaaaaaa", mb),  // a payload without its '.'
      repeat("password>", mb),                                // XML element never closed
      "token=\"" + repeat("xtoken:", mb),                      // quoted value never closed
      repeat("-----BEGIN CERTIFICATE-----\nAAAA", mb),        // certificate without END
      repeat("://a", mb),                                     // URLs without '@'
      repeat("data:image/png;", mb),                          // data URIs without base64
      repeat("Authorization: Basic ", mb),                    // no credentials
      repeat("ssh-rsa ", mb),                                 // no key
      repeat("aws_secret_access_key = ", mb),                 // no secret
      repeat("sk-ant-", mb / 2) + repeat("ghp_", mb / 2),     // prefixes without tokens
  };
  for (const std::string& in : inputs) {
    auto took = timed([&] { (void)e.scan(in); });
    // Linear: about 1 MB at >= 100 MB/s even under sanitizers; quadratic takes minutes.
    EXPECT_LT(took, 20s) << in.substr(0, 30);
    EXPECT_EQ(e.scan(in).size(), e.scan_reference_for_test(in).size()) << in.substr(0, 30);
  }
}

TEST(RedactEngine, ConcurrentScansAgree) {
  Engine e = Engine::compile(default_rules());
  std::string text = "password = \"hunter22\" " + kAws + " " + random_base64(100, 7);
  auto expected = e.scan(text);
  ASSERT_EQ(expected.size(), 3u);
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto got = e.scan(text);
        if (got.size() != expected.size() || got[0].offset != expected[0].offset) ++bad[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int b : bad) EXPECT_EQ(b, 0);
}

TEST(RedactEngine, PrefixesAndRunsFindWhatAnUnanchoredSearchFinds) {
  // The same rule with a prefix, with a base64 run, and with neither (the slow path).
  const std::string text = "xx KEY-123 KEY-45 key-6 yyKEY-7 " + random_base64(64, 3) + " zz";
  for (const auto& rule : {Rule{"k", R"(\bKEY-[0-9]+)", Action::Redact, Check::None, {"KEY-"}, 0},
                           Rule{"k", R"(\bKEY-[0-9]+)", Action::Redact, Check::None, {}, 0}}) {
    Engine e = Engine::compile({rule});
    auto f = e.scan(text);
    // "key-6" matches the prefix (case-insensitive) but not the pattern; "yyKEY-7" has no \b.
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].offset, 3u);
    EXPECT_EQ(f[1].offset, 11u);
  }
  Engine runs = Engine::compile({Rule{"b", "[A-Za-z0-9+/]{40,}", Action::Redact, Check::None, {}, 40}});
  auto f = runs.scan(text);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].length, 64u);
}

TEST(RedactEngine, PrefixAndRunRulesAreChecked) {
  EXPECT_THROW((void)Engine::compile({Rule{"short", "abc", Action::Redact, Check::None, {"abc"}, 0}}),
               std::invalid_argument);
  EXPECT_THROW((void)Engine::compile({Rule{"both", "abcd", Action::Redact, Check::None, {"abcd"}, 40}}),
               std::invalid_argument);
}

TEST(RedactEngine, FastScanAgreesWithTheReference) {
  Engine e = Engine::compile(default_rules());
  std::vector<std::string> texts = {
      "password = \"hunter22\" " + kAws + " " + random_base64(100, 7),
      "Authorization: Bearer abcdef0123456789xyz\ntoken: \"Qx7aB3cD4eF5gH6i\"\n-----BEGIN PRIVATE KEY-----\n" +
          random_base64(64, 9) + "\n-----END PRIVATE KEY-----",
      "postgres://u:pw12345@h/db sk-ant-api03-" + random_base64(80, 1) + " " + random_base64(1000, 2),
  };
  // Random splices of the above, cut anywhere (inside keys and markers too).
  std::uint64_t seed = 11;
  for (int i = 0; i < 300; ++i) {
    std::string t;
    for (int k = 0; k < 4; ++k) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      const std::string& src = texts[(seed >> 40) % texts.size()];
      std::size_t a = (seed >> 20) % src.size();
      std::size_t b = a + (seed >> 8) % (src.size() - a + 1);
      t += src.substr(a, b - a);
    }
    texts.push_back(t);
  }
  for (const std::string& t : texts) {
    auto fast = e.scan(t);
    auto slow = e.scan_reference_for_test(t);
    ASSERT_EQ(fast.size(), slow.size()) << t;
    for (std::size_t k = 0; k < fast.size(); ++k) {
      EXPECT_EQ(fast[k].offset, slow[k].offset);
      EXPECT_EQ(fast[k].length, slow[k].length);
      EXPECT_EQ(fast[k].type, slow[k].type);
    }
  }
}

TEST(RedactEngine, RedactRunsUntilNothingChanges) {
  // The base64 run after the key is rejected while it runs on into the key's repetitive tail;
  // once the key is a marker, what is left is a random run of its own (found by the fuzzer).
  Engine e = Engine::compile(default_rules());
  std::string text = "x-sk-ant-sk-ant-eyJ" + std::string(31, 'A') + "f7stg7NvlE3LaruSrjLnonWKTn9UGKzEesg61SHE" +
                     "/qaQSVZu9" + std::string(22, 'A') + "kAAK1V1mi\n";
  auto out = e.redact(text);
  std::string again = text;
  EXPECT_FALSE(e.redact(again).changed) << again;
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(text.find("sk-ant-sk"), std::string::npos);
}

TEST(RedactEngine, MarkerHelper) { EXPECT_EQ(marker("jwt"), "[REDACTED:jwt]"); }

}  // namespace
}  // namespace sluice::stages::redact
