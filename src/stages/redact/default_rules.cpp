// The built-in redaction rules. Each pattern is matched on bytes (Latin-1 mode, see engine.hpp);
// its check (checks.cpp) rejects what is code rather than a secret. Tuned for few false alarms on
// this repository, /usr/include and other real text (bench/redact_corpus.cpp has the figures).
//
// A rule is tried only where one of its prefixes starts (engine.cpp), anchored there. A try that
// fails must not read far, or a text full of prefixes makes the scan quadratic: every unbounded
// part of a pattern below either ends the match where it stops (a greedy run), or stops at a byte
// that the rule's prefixes contain, i.e. by the next place the rule is tried. The adversarial
// inputs of redact_test check this.
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "stages/redact/engine.hpp"

namespace sluice::stages::redact {
namespace {

// After a key: an optional closing quote (`"password": `, `'token' => `, also JSON-in-JSON
// `\"token\": `), then the operator: `=`, `==`, `===`, `:=`, `=>`, or `:`; a type annotation may
// come between key and `=` (`token: str = "..."`, `password: &str = "..."`), but only when spaced,
// so that the YAML `password: abc=def` keeps `abc=def` as one value.
const char* const kOperator =
    R"re((?:\\?["'`])?[ \t]*(?:(?::[ \t]*[&*]?[A-Za-z_][\w.\[\]|]*[ \t]+)?(?:={1,3}|:=|=>)|:)[ \t]*)re";

// The value, in its own capture group per form: double-, single- or back-quoted (no whitespace
// inside, maybe JSON-escaped quotes), or bare up to a delimiter. A bare value runs on across '&'
// (`?token=abc&page=2` loses `&page=2` too) rather than leave the end of `tr0ub4dor&3` behind.
const char* const kValue =
    R"re((?:\\?"([^"\\\s]+)\\?"|\\?'([^'\\\s]+)\\?'|`([^`\\\s]+)`|([^\s"'`,;(){}\[\]<>|\\]+)))re";

// An assignment to a key ending in one of `keys` (case-insensitive): `db_password = "x"`,
// `DB_PASSWORD=x`, `"apiKey": "x"`, `token: x`, `--password=x`, `<password>x</password>`.
// The match starts at the keyword, so whatever precedes it in the key name does not matter.
std::string assignment(const char* keys) {
  return std::string("(?i:") + keys + ")(?:" + kOperator + kValue + R"re(|>([^<>\s]+)</))re";
}

// Every assignment match starts with its keyword and one of these: a closing quote, an escaped
// quote, an operator, '>' of XML, or blanks and then an operator. As prefixes they skip
// "tokens", "token(", "next_token.", "the password is", which are most keywords in text.
std::vector<std::string> after_key(bool xml) {
  std::vector<std::string> out = {"\"", "'", "`", "\\", "=", ":", " =", " :", "  ", " \t", "\t=", "\t:", "\t ", "\t\t"};
  if (xml) out.push_back(">");
  return out;
}

// "Bearer", blanks, then the token's first byte.
std::vector<std::string> after_bearer() {
  std::vector<std::string> out;
  for (char blank : {' ', '\t'}) {
    for (char c : std::string_view("abcdefghijklmnopqrstuvwxyz0123456789._~+/- \t")) out.push_back({blank, c});
  }
  return out;
}

// Each key followed by each of `after`.
std::vector<std::string> keyed(const std::vector<std::string>& keys, const std::vector<std::string>& after) {
  std::vector<std::string> out;
  for (const std::string& k : keys) {
    for (const std::string& a : after) out.push_back(k + a);
  }
  return out;
}

// "api_key", "api-key", "api.key", "apikey" for each stem.
std::vector<std::string> with_key(std::initializer_list<std::string_view> stems) {
  std::vector<std::string> out;
  for (std::string_view stem : stems) {
    for (std::string_view sep : {"", "_", "-", "."}) out.push_back(std::string(stem) + std::string(sep) + "key");
  }
  return out;
}

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Prefixes must be 4 bytes or longer; shorter ones are spelled out with the byte that follows.
constexpr std::string_view kAlnum = "abcdefghijklmnopqrstuvwxyz0123456789";  // prefixes ignore case
constexpr std::string_view kWordByte = "abcdefghijklmnopqrstuvwxyz0123456789_";
constexpr std::string_view kTokenByte = "abcdefghijklmnopqrstuvwxyz0123456789_-";

std::vector<std::string> then(std::string_view stem, std::string_view next) {
  std::vector<std::string> out;
  for (char c : next) out.push_back(std::string(stem) + c);
  return out;
}

std::vector<std::string> before(std::string_view first, std::string_view rest) {
  std::vector<std::string> out;
  for (char c : first) out.push_back(c + std::string(rest));
  return out;
}

// Bodies of PEM blocks: base64, whitespace (or JSON-escaped \n), and the headers of legacy
// encrypted keys (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: AES-128-CBC,...`); never "--", so a body
// ends at the next "-----".
const char* const kPrivateKey =
    R"re(-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)re"
    R"re((?:(?:[A-Za-z0-9+/=\s\\:,.]|-[A-Za-z0-9+/=\s\\:,.])*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)re"
    // No END (a truncated paste): the base64 lines that follow.
    R"re(|(?:(?:\s|\\[rn])+[A-Za-z0-9+/=]{16,})+))re";

// Certificates, public keys and signatures are not secrets. The body never holds "--", so a
// block without END cannot run on across a private key block to shield it.
const char* const kPublicPem =
    R"re(-----BEGIN (?:[A-Z0-9]+ )*(?:CERTIFICATE|CERTIFICATE REQUEST|X509 CRL|PUBLIC KEY|PUBLIC KEY BLOCK|SIGNATURE)-----)re"
    R"re((?:[^-]|-[^-])*?)re"
    R"re(-----END (?:[A-Z0-9]+ )*(?:CERTIFICATE|CERTIFICATE REQUEST|X509 CRL|PUBLIC KEY|PUBLIC KEY BLOCK|SIGNATURE)-----)re";

// DER public keys in base64 (SubjectPublicKeyInfo: EC P-256 and P-384, RSA 2048 and 4096,
// Ed25519), as found in code that verifies signatures; recognised by their fixed DER prefix.
const char* const kPublicDer =
    R"re(\b(?:MFkwEwYHKoZIzj0CAQY|MHYwEAYHKoZIzj0CAQYFK4EEAC|MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A|)re"
    R"re(MIICIjANBgkqhkiG9w0BAQEFAAOCAg8A|MCowBQYDK2VwAyEA)[A-Za-z0-9+/]*={0,2})re";

}  // namespace

std::vector<Rule> default_rules() {
  using A = Action;
  using C = Check;
  using P = std::vector<std::string>;
  auto rule = [](const char* type, std::string pattern, A action, C check, P prefixes) {
    return Rule{type, std::move(pattern), action, check, std::move(prefixes), 0};
  };
  return {
      // Known-good text first, so it wins ties.
      rule("public_pem", kPublicPem, A::Allow, C::None, {"-----BEGIN"}),
      rule("ssh_public_key",
           R"re(\b(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp(?:256|384|521)|sk-(?:ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)[ \t]+AAAA[A-Za-z0-9+/]+={0,3})re",
           A::Allow, C::None, {"ssh-", "ecdsa-", "sk-ssh-", "sk-ecdsa-"}),
      rule("public_key_der", kPublicDer, A::Allow, C::None, {"MFkw", "MHYw", "MIIB", "MIIC", "MCow"}),
      // Digests in base64: subresource integrity (package-lock.json, <script integrity=...>) and
      // Python wheel RECORD files (sha256=<urlsafe base64>). Public hashes.
      rule("integrity_hash", R"re(\bsha(?:1|224|256|384|512)[-=][A-Za-z0-9+/_-]{20,}={0,2})re", A::Allow, C::None,
           P{"sha1-", "sha1=", "sha224-", "sha224=", "sha256-", "sha256=", "sha384-", "sha384=", "sha512-", "sha512="}),
      // Images and fonts inlined in CSS, HTML, Markdown (also percent-encoded, as in badge URLs).
      rule("data_uri",
           R"re(\bdata(?::|%3[Aa])(?:image|font|audio|video)(?:/|%2[Ff])[A-Za-z0-9.+-]+(?:(?:;|%3[Bb])[A-Za-z0-9=.-]+)*)re"
           R"re((?:;|%3[Bb])base64(?:,|%2[Cc])[A-Za-z0-9+/%]+={0,2})re",
           A::Allow, C::None, {"data:", "data%"}),

      rule("private_key", kPrivateKey, A::Redact, C::PemBody, {"-----BEGIN"}),
      // Vendor tokens: a fixed prefix, so nearly free to look for and nearly never wrong.
      rule("anthropic_key", R"re(\bsk-ant-[A-Za-z0-9_-]{8,})re", A::Redact, C::Random, {"sk-ant-"}),
      // OpenAI (sk-, sk-proj-, sk-svcacct-, sk-admin-), and the same shape from DeepSeek and
      // OpenRouter. An Anthropic key matches this too, with the same span: anthropic_key wins.
      rule("openai_key", R"re(\bsk-(?:proj-|svcacct-|admin-|or-v1-)?[A-Za-z0-9_-]{20,})re", A::Redact, C::Random,
           then("sk-", kTokenByte)),
      rule("github_token", R"re(\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}))re", A::Redact, C::Random,
           {"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}),
      rule("gitlab_token", R"re(\bglpat-[A-Za-z0-9_-]{20,})re", A::Redact, C::Random, {"glpat-"}),
      rule("slack_token", R"re(\bxox[abposre]-[A-Za-z0-9-]{10,})re", A::Redact, C::Random, then("xox", "abposre")),
      // The whole host and path: the path is the secret, and starting at the host keeps the
      // base64 rule from claiming "com/services/T.../B.../..." first.
      rule("slack_webhook", R"re(\bhooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+-]{16,})re",
           A::Redact, C::None, {"hooks.slack.com"}),
      rule("aws_access_key", R"re(\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b)re", A::Redact, C::None,
           P{"AKIA", "ASIA", "ABIA", "ACCA"} + then("A3T", kAlnum)),
      rule("aws_secret_key",
           R"re((?i:secret[_.-]?(?:access[_.-]?)?key)(?:\\?["'`])?[ \t]*(?:={1,3}|:=|=>|:)[ \t]*(?:\\?["'`])?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$))re",
           A::Redact, C::None, keyed(with_key({"secret", "secret_access", "secret-access", "secret.access", "secretaccess"}), after_key(false))),
      rule("google_api_key", R"re(\bAIza[0-9A-Za-z_-]{35})re", A::Redact, C::None, {"AIza"}),
      rule("stripe_key", R"re(\b[rs]k_(?:live|test)_[0-9A-Za-z]{16,})re", A::Redact, C::None,
           {"sk_live_", "sk_test_", "rk_live_", "rk_test_"}),
      rule("npm_token", R"re(\bnpm_[A-Za-z0-9]{36}\b)re", A::Redact, C::None, {"npm_"}),
      // The header without '-' (base64url of ASCII JSON has one only for '>', '?' or '~'), so that a
      // try reads no further than the next "eyJ" that starts a word.
      rule("jwt", R"re(\beyJ[A-Za-z0-9_]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*)re", A::Redact, C::None, then("eyJ", kWordByte)),
      // scheme://user:password@host: only the password is redacted. The match starts at the last
      // byte of the scheme.
      rule("url_password", R"re([A-Za-z0-9]://[^\s:@/?#"'<>\\]*:([^\s:@/?#"'<>\\]+)@)re", A::Redact, C::UrlPassword,
           before(kAlnum, "://")),
      rule("basic_auth",
           R"re((?i:authorization)(?:\\?["'`])?[ \t]*[:=][ \t]*(?:\\?["'`])?(?i:basic)[ \t]+([A-Za-z0-9+/]{8,}={0,2}))re",
           A::Redact, C::None, keyed({"authorization"}, after_key(false))),
      rule("bearer_token", R"re(\b(?i:bearer)[ \t]+([A-Za-z0-9._~+/-]{16,}=*))re", A::Redact, C::Random, keyed({"bearer"}, after_bearer())),
      // Assignments: the value is redacted, the key kept, so the code still reads.
      rule("password", assignment("passw(?:or)?d|passphrase|pwd"), A::Redact, C::Password,
           keyed({"password", "passwd", "passphrase", "pwd"}, after_key(true))),
      rule("api_key", assignment("api[_.-]?key|access[_.-]?key"), A::Redact, C::SecretValue,
           keyed(with_key({"api", "access"}), after_key(true))),
      rule("secret", assignment("secret(?:[_.-]?key)?|(?:private|signing|encryption|master)[_.-]?key"), A::Redact,
           C::SecretValue, keyed(P{"secret"} + with_key({"secret", "private", "signing", "encryption", "master"}), after_key(true))),
      rule("token", assignment("token"), A::Redact, C::SecretValue, keyed({"token"}, after_key(true))),
      // Long random base64 (key material, encoded credentials). Standard alphabet only: '-' and
      // '_' would make snake_case and kebab-case names candidates.
      Rule{"base64_blob", R"re([A-Za-z0-9+/]{40,}={0,2})re", A::Redact, C::Base64Blob, {}, 40},
  };
}

}  // namespace sluice::stages::redact
