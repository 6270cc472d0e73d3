// Table-driven tests of the default redaction rules (issue 5): every type caught in the syntaxes
// code, config and shells write it in, and ordinary code, config and prose left untouched.
// Fake secrets are assembled at run time (fake()), or split across string literals, so this file
// holds no token a secret scanner would flag.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "stages/redact/checks.hpp"
#include "stages/redact/engine.hpp"

namespace sluice::stages::redact {
namespace {

const Engine& engine() {
  static const Engine e = Engine::compile(default_rules());
  return e;
}

// n characters from `alphabet`, deterministic per seed, always with an upper, a lower and a digit
// when the alphabet has them (like a generated key).
std::string fake(std::size_t n, unsigned seed = 1,
                 std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") {
  std::string s;
  std::uint64_t x = 0x9E3779B97F4A7C15ull * (seed + 1);
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s.push_back(alphabet[x % alphabet.size()]);
  }
  if (n >= 3 && alphabet.find('A') != std::string_view::npos && alphabet.find('a') != std::string_view::npos &&
      alphabet.find('7') != std::string_view::npos) {
    s[0] = 'Q';
    s[1] = 'x';
    s[2] = '7';
  }
  return s;
}

struct Caught {
  std::string name;    // test label
  std::string type;    // expected finding type
  std::string text;    // the input
  std::string secret;  // exactly what must be redacted (found in text)
};

std::vector<Caught> caught_cases() {
  const std::string b64 = fake(60, 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
  const std::string ant = std::string("sk-") + "ant-api03-" + fake(86, 2, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") + "AA";
  const std::string proj = std::string("sk-") + "proj-" + fake(48, 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
  const std::string legacy = std::string("sk-") + fake(48, 4);
  const std::string deepseek = std::string("sk-") + fake(32, 5, "0123456789abcdef");
  const std::string ghp = std::string("ghp") + "_" + fake(36, 6);
  const std::string gho = std::string("gho") + "_" + fake(36, 8);
  const std::string pat = std::string("github") + "_pat_11" + fake(20, 9) + "_" + fake(59, 10);
  const std::string glpat = std::string("glpat") + "-" + fake(20, 11);
  const std::string xoxb = std::string("xox") + "b-1234567890-1234567890123-" + fake(24, 12);
  const std::string xoxp = std::string("xox") + "p-1234567890-1234567890-1234567890-" + fake(32, 13, "0123456789abcdef");
  const std::string hook = "T" + fake(8, 14, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") + "/B" +
                           fake(10, 15, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") + "/" + fake(24, 16);
  const std::string akia = std::string("AKIA") + "IOSFODNN7EXAMPLE";
  const std::string asia = std::string("ASIA") + fake(16, 17, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
  const std::string aws_secret = std::string("wJalrXUtnFEMI/K7MDENG/") + "bPxRfiCYEXAMPLEKEY";
  const std::string google = std::string("AIza") + "Sy" + fake(33, 18, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
  const std::string stripe = std::string("sk_") + "live_" + fake(24, 19);
  const std::string npm = std::string("npm") + "_" + fake(36, 20);
  const std::string jwt = std::string("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9") +
                          ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ" +
                          ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
  const std::string body64 = fake(64, 21, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
  const std::string body64b = fake(64, 22, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
  const std::string begin = "-----BEGIN";
  const std::string end = "-----END";
  const std::string rsa = begin + " RSA PRIVATE KEY-----\n" + body64 + "\n" + body64b + "\n" + end + " RSA PRIVATE KEY-----";
  const std::string openssh = begin + " OPENSSH PRIVATE KEY-----\r\n" + body64 + "\r\n" + body64b + "\r\n" + end + " OPENSSH PRIVATE KEY-----";
  const std::string ec = begin + " EC PRIVATE KEY-----\n" + body64 + "\n" + end + " EC PRIVATE KEY-----";
  const std::string pkcs8enc = begin + " ENCRYPTED PRIVATE KEY-----\n" + body64 + "\n" + body64b + "\n" + end + " ENCRYPTED PRIVATE KEY-----";
  const std::string legacy_enc = begin + " RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\n" +
                                 body64 + "\n" + end + " RSA PRIVATE KEY-----";
  const std::string escaped = begin + " PRIVATE KEY-----\\n" + body64 + "\\n" + body64b + "\\n" + end + " PRIVATE KEY-----";
  const std::string truncated = begin + " PRIVATE KEY-----\n" + body64 + "\n" + body64b.substr(0, 30);
  const std::string pgp = begin + " PGP PRIVATE KEY BLOCK-----\n\n" + body64 + "\n" + end + " PGP PRIVATE KEY BLOCK-----";

  return {
      // password: code, config, env, JSON, YAML, XML, connection strings, shells
      {"PyString", "password", "db_password = \"hunter2!\"\n", "hunter2!"},
      {"WordsInAQuotedPassword", "password", "db password = \"Hunter2Secret99\"", "Hunter2Secret99"},
      {"PasswordWordInPassword", "password", "PASSWORD=\"MyPassw0rd!\"\n", "MyPassw0rd!"},
      {"JsonValue", "password", R"({"user": "app", "password": "S3cr3t-Pa55"})", "S3cr3t-Pa55"},
      {"YamlBare", "password", "database:\n  password: tr0ub4dor&3\n", "tr0ub4dor&3"},
      {"EnvUpperLettersOnly", "password", "DB_PASSWORD=changeme\n", "changeme"},
      {"ComposeUpper", "password", "    environment:\n      POSTGRES_PASSWORD: hunterhunter\n", "hunterhunter"},
      {"JsSingleQuoted", "password", "const password = 'p@ssw0rd';", "p@ssw0rd"},
      {"GoField", "password", "cfg := Config{User: \"u\", Password: \"gopher-42\"}", "gopher-42"},
      {"GoWalrus", "password", "password := \"gopher42\"", "gopher42"},
      {"PythonAnnotated", "password", "password: str = \"annot8ed!\"", "annot8ed!"},
      {"PhpArrow", "password", "'password' => 'hunter22',", "hunter22"},
      {"XmlElement", "password", "<server><id>corp</id><password>maven-s3cret</password></server>", "maven-s3cret"},
      {"AdoNetPwd", "password", "Server=db;Uid=sa;Pwd=Str0ng!Pass;Database=app", "Str0ng!Pass"},
      {"Passwd", "password", "passwd: 'letmein99'", "letmein99"},
      {"CliFlag", "password", "mysql --password=Xy7pQ2zz -h db", "Xy7pQ2zz"},
      {"JsonInJson", "password", R"({\"password\":\"esc4ped\"})", "esc4ped"},
      {"Comparison", "password", "if password == \"swordfish1\":", "swordfish1"},
      {"Passphrase", "password", "ssh_key_passphrase: 'correct-horse-7'", "correct-horse-7"},
      {"Backticks", "password", "const password = `tmpl8pass`;", "tmpl8pass"},
      // api_key, secret, token assignments
      {"ApiKeyPy", "api_key", "api_key = \"a1b2c3d4e5f6g7h8\"", "a1b2c3d4e5f6g7h8"},
      {"ApiKeyJsonCamel", "api_key", R"({"apiKey": "AbCdEf123456GhIj"})", "AbCdEf123456GhIj"},
      {"ApiKeyEnv", "api_key", "export X_API_KEY=4f9a8b7c6d5e4f3a2b1c", "4f9a8b7c6d5e4f3a2b1c"},
      {"ApiKeyHeader", "api_key", "curl -H 'x-api-key: zq8rT3xY9wV2uL5k' https://api.example.com", "zq8rT3xY9wV2uL5k"},
      {"AccessKey", "api_key", "access_key = \"Z9y8X7w6V5u4T3s2\"", "Z9y8X7w6V5u4T3s2"},
      {"DjangoSecretKey", "secret", "SECRET_KEY = 'django-insecure-7x#k2m!q9z'", "django-insecure-7x#k2m!q9z"},
      {"ClientSecretYaml", "secret", "  client_secret: \"0a1b2c3d4e5f6a7b8c9d\"", "0a1b2c3d4e5f6a7b8c9d"},
      {"JwtSecretEnv", "secret", "JWT_SECRET=s3cr3tJwtSigningK3y", "s3cr3tJwtSigningK3y"},
      {"SecretMixedCaseNoDigit", "secret", "webhook_secret = \"xQzKpLmWvRtYnBcD\"", "xQzKpLmWvRtYnBcD"},
      {"AccessToken", "token", "access_token = \"ya29.A0ARrdaM-abc123XYZ\"", "ya29.A0ARrdaM-abc123XYZ"},
      {"AuthTokenJson", "token", R"({"auth_token": "tok_9f8e7d6c5b4a"})", "tok_9f8e7d6c5b4a"},
      {"BotTokenEnv", "token", "BOT_TOKEN=7a6b5c4d3e2f1a0b", "7a6b5c4d3e2f1a0b"},
      {"TokenQueryParam", "token", "GET /feed?token=abc123def456ghi&page=2 HTTP/1.1", "abc123def456ghi&page=2"},
      {"TokenTomlSingle", "token", "token = 'Nn8xkq3LpQ2wZr9T'", "Nn8xkq3LpQ2wZr9T"},
      // AWS
      {"AwsAccessKeyIni", "aws_access_key", "aws_access_key_id = " + akia + "\n", akia},
      {"AwsStsJson", "aws_access_key", "{\"AccessKeyId\": \"" + asia + "\"}", asia},
      {"AwsSecretIni", "aws_secret_key", "aws_secret_access_key = " + aws_secret + "\n", aws_secret},
      {"AwsSecretEnvQuoted", "aws_secret_key", "AWS_SECRET_ACCESS_KEY=\"" + aws_secret + "\"", aws_secret},
      {"AwsSecretJs", "aws_secret_key", "  secretAccessKey: '" + aws_secret + "',", aws_secret},
      // vendor tokens
      {"GithubClassic", "github_token", "git clone https://x:" + ghp + "@github.com/o/r.git", ghp},
      {"GithubOauth", "github_token", "GH_TOKEN=" + gho, gho},
      {"GithubFineGrained", "github_token", "token: " + pat + "\n", pat},
      {"Gitlab", "gitlab_token", "PRIVATE-TOKEN: " + glpat, glpat},
      {"SlackBot", "slack_token", "SLACK_BOT_TOKEN=" + xoxb, xoxb},
      {"SlackUser", "slack_token", "client = WebClient(token=\"" + xoxp + "\")", xoxp},
      {"SlackWebhook", "slack_webhook", "curl -X POST https://hooks.slack.com/services/" + hook + " -d @msg.json",
       "hooks.slack.com/services/" + hook},
      {"AnthropicEnv", "anthropic_key", "ANTHROPIC_API_KEY=" + ant + "\n", ant},
      {"AnthropicHeader", "anthropic_key", "-H \"x-api-key: " + ant + "\"", ant},
      {"OpenAiProject", "openai_key", "client = OpenAI(api_key=\"" + proj + "\")", proj},
      {"OpenAiLegacy", "openai_key", "openai.api_key = '" + legacy + "'", legacy},
      {"DeepSeek", "openai_key", "Authorization: Bearer " + deepseek, deepseek},
      {"GoogleApiKey", "google_api_key", "https://maps.googleapis.com/maps/api/js?key=" + google, google},
      {"Stripe", "stripe_key", "stripe.api_key = \"" + stripe + "\"", stripe},
      {"Npmrc", "npm_token", "//registry.npmjs.org/:_authToken=" + npm, npm},
      {"JwtBearer", "jwt", "Authorization: Bearer " + jwt, jwt},
      {"JwtCookie", "jwt", "Cookie: session=" + jwt + "; Path=/", jwt},
      // private keys
      {"PemRsa", "private_key", "key:\n" + rsa + "\n", rsa},
      {"PemOpenssh", "private_key", openssh, openssh},
      {"PemEc", "private_key", "cat > k.pem <<EOF\n" + ec + "\nEOF", ec},
      {"PemEncryptedPkcs8", "private_key", pkcs8enc, pkcs8enc},
      {"PemLegacyEncrypted", "private_key", legacy_enc, legacy_enc},
      {"PemJsonEscaped", "private_key", "{\"type\": \"service_account\", \"private_key\": \"" + escaped + "\\n\"}", escaped},
      {"PemTruncated", "private_key", truncated, truncated},
      {"PemPgp", "private_key", pgp, pgp},
      // URL passwords: only the password goes
      {"UrlPostgres", "url_password", "DATABASE_URL=postgres://app:s3cretPw@db.internal:5432/app", "s3cretPw"},
      {"UrlRedisNoUser", "url_password", "redis://:hunter2xyz@cache:6379/0", "hunter2xyz"},
      {"UrlHttps", "url_password", "pip install git+https://deploy:Tok3nValue@git.corp/x.git", "Tok3nValue"},
      {"UrlAmqp", "url_password", "amqp://guest:guest99@rabbit:5672/", "guest99"},
      // headers
      {"BasicAuth", "basic_auth", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="},
      {"Bearer", "bearer_token", "curl -H \"Authorization: Bearer 0123abcdEFGH4567ijkl\"", "0123abcdEFGH4567ijkl"},
      // long random base64
      {"Base64Quoted", "base64_blob", "const blob = \"" + b64 + "\";", b64},
      {"Base64Padded", "base64_blob", "data: " + b64 + "==\n", b64 + "=="},
      {"Base64K8sSecretLong", "base64_blob", "  tls.key: " + b64.substr(0, 44) + "\n", b64.substr(0, 44)},
  };
}

class CaughtTest : public ::testing::TestWithParam<Caught> {};

TEST_P(CaughtTest, FoundWithItsTypeAndRedacted) {
  const Caught& c = GetParam();
  std::size_t at = c.text.find(c.secret);
  ASSERT_NE(at, std::string::npos) << "bad test case";
  auto findings = engine().scan(c.text);
  ASSERT_EQ(findings.size(), 1u) << c.text;
  EXPECT_EQ(findings[0].type, c.type);
  EXPECT_EQ(findings[0].action, Action::Redact);
  EXPECT_EQ(findings[0].offset, at);
  EXPECT_EQ(findings[0].length, c.secret.size()) << c.text.substr(findings[0].offset, findings[0].length);

  std::string text = c.text;
  auto outcome = engine().redact(text);
  std::string expected = c.text;
  expected.replace(at, c.secret.size(), marker(c.type));
  EXPECT_EQ(text, expected);
  EXPECT_TRUE(outcome.changed);
  EXPECT_FALSE(outcome.blocked);
  ASSERT_EQ(outcome.counts.size(), 1u);
  EXPECT_EQ(outcome.counts[0].type, c.type);
  EXPECT_EQ(outcome.counts[0].count, 1);

  std::string again = text;
  auto second = engine().redact(again);
  EXPECT_FALSE(second.changed) << again;
  EXPECT_EQ(again, text);
}

INSTANTIATE_TEST_SUITE_P(DefaultRules, CaughtTest, ::testing::ValuesIn(caught_cases()),
                         [](const auto& p) { return p.param.name; });

// Ordinary code, config and prose: no finding at all.
std::vector<std::pair<std::string, std::string>> good_cases() {
  const std::string cert_body = fake(64, 30, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
  return {
      {"CppInclude", "#include <boost/asio/experimental/awaitable_operators.hpp>\n"},
      {"CppLongIdentifierWithDigit", "static constexpr std::size_t kMaxHttp2ConcurrentStreamsPerConnectionDefault = 100;"},
      {"CppTokenFromLexer", "std::string token = lexer.next_token();"},
      {"CppTokenCompare", "if (token == \"identifier\") return parse_identifier();"},
      {"CppBase64Alphabet", "static const char kAlphabet[] = \"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\";"},
      {"CppPemHeaderLiteral", "if (line == \"-----BEGIN RSA PRIVATE KEY-----\") { in_key = true; }"},
      {"CDefine", "#define PEM_STRING_RSA \"RSA PRIVATE KEY\"\n#define SSL_TXT_PSK \"PSK\""},
      {"PyGetpass", "password = getpass.getpass(\"Password: \")"},
      {"PyTypedSignature", "def login(username: str, password: str) -> Token:\n    ..."},
      {"PyEnvLookup", "token = os.environ[\"GITHUB_TOKEN\"]\napi_key = None\nAPI_KEY = os.getenv(\"API_KEY\")"},
      {"PyPydanticField", "    token: str = Field(..., description=\"API token\")"},
      {"JsDestructure", "const { token } = await res.json();\nheaders: { Authorization: `Bearer ${token}` }"},
      {"TsInterface", "interface Credentials { password: string; apiKey?: string; token: Token | null }"},
      {"GoErrVar", "var ErrInvalidToken = errors.New(\"invalid token\")\nfunc (c *Client) Token() (string, error) {"},
      {"GoStructTag", "type Login struct {\n\tPassword string `json:\"password\"`\n}"},
      {"RustTokenNew", "let token = Token::new(TokenKind::Ident, span);"},
      {"KotlinBuildConfig", "val password: String = BuildConfig.DB_PASSWORD"},
      {"JavaHeaderName", "private static final String TOKEN_HEADER = \"X-Auth-Token\";"},
      {"GitSha", "commit 3f786850e387550fdab836ed7e6dc881de23001b\nMerge: 1a2b3c4 5d6e7f8"},
      {"Sha256", "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
      {"UpperHexSha1", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709  empty.txt"},
      {"Uuid", "request_id: 550e8400-e29b-41d4-a716-446655440000"},
      {"UrlsWithoutSecrets", "https://github.com/google/re2/blob/main/re2/re2.h#L230 ssh://git@github.com:22/o/r.git "
                             "git@github.com:org/repo.git http://localhost:8787/v1/messages"},
      {"UrlPlaceholderPassword", "postgres://user:password@localhost:5432/db and redis://:${REDIS_PASSWORD}@cache"},
      {"Paths", "/usr/lib/x86_64-linux-gnu/libboost_json.so.1.81.0 src/stages/redact/default_rules.cpp "
                "/home/dev/projects/SluiceGatewayIntegration2024/TestFixtures/Recordings"},
      {"Dockerfile", "FROM debian:12-slim\nARG TOKEN\nENV PASSWORD_FILE=/run/secrets/db_password\n"
                     "RUN apt-get update && apt-get install -y --no-install-recommends libre2-dev\n"},
      {"K8sSecretRef", "kind: Secret\nmetadata:\n  name: db-credentials\ntype: Opaque\n---\nenv:\n  - name: DB_PASSWORD\n"
                       "    valueFrom:\n      secretKeyRef:\n        name: db\n        key: password\n"},
      {"GithubActions", "    env:\n      token: ${{ secrets.GITHUB_TOKEN }}\n      password: \"${{ secrets.PW }}\"\n"},
      {"PackageLockIntegrity", "\"integrity\": \"sha512-" + fake(86, 31, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") + "==\","},
      {"SnakeCaseTestName", "TEST(Parser, test_parse_request_with_utf8_body_and_headers_and_trailers_v2) {}"},
      {"Prose", "Please enter your password and the token you received by email. The bearer of this "
                "letter is authorised to act for us. Basic auth is disabled."},
      {"UsageJson", R"({"input_tokens": 472, "max_tokens": 128000, "output_tokens": 89, "cache_read_input_tokens": 2000})"},
      {"TokenizerConfig", R"({"bos_token": "<s>", "eos_token": "</s>", "pad_token": null, "unk_token": "<unk>"})"},
      {"MarkdownPlaceholders", "export ANTHROPIC_API_KEY=sk-ant-...\nOPENAI_API_KEY=your-api-key-here\nTOKEN=<your token>\n"},
      {"HtmlPasswordInput", "<input type=\"password\" name=\"password\" autocomplete=\"current-password\">"},
      {"SqlPasswordHash", "SELECT id, password_hash FROM users WHERE email = $1 AND password = crypt($2, password_hash);"},
      {"SshPublicKey", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl dev@laptop"},
      {"Certificate", "-----BEGIN CERTIFICATE-----\n" + cert_body + "\n" + cert_body + "\n-----END CERTIFICATE-----\n"},
      {"DataUriPng", "background: url(data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAAXNSR0IArs4c6QAAAARnQU1BAACxjwv8YQUAAAAJcEhZcwAADsMAAA7DAcdvqGQAAAA);"},
      {"Makefile", "$(CC) -o $@ $^ $(LDFLAGS)\nTOKEN_FILE ?= $(HOME)/.config/token\n"},
      {"PythonPasswordField", "PASSWORD_MIN_LENGTH = 8\npassword = models.CharField(max_length=128)\n"},
      {"ShellPasswordVar", "read -s PASSWORD\nPASSWORD=$(cat /run/secrets/pw)\nmysql -p\"$PASSWORD\""},
      {"JsonSchema", R"({"password": {"type": "string", "minLength": 12}, "token": {"type": "string"}})"},
      {"I18nWithSpaces", R"({"password": "Mot de passe", "token": "Jeton d'accès"})"},
      {"NamedPlaceholders", "PASSWORD=MYPASSWORD1\n//registry.npmjs.org/:_authToken=MYTOKEN1\napi_key: test-api-key-123\n"
                            "AttributeOID.CHALLENGE_PASSWORD: \"challengePassword\", pw = \"********\""},
      {"PerlAndUrls", "$ftp->login($user, password => $ftp->password);\n"
                      ".. _`Bearer Token`: https://tools.ietf.org/html/rfc6750"},
      {"PgpPublicKey", "-----BEGIN PGP PUBLIC KEY BLOCK-----\nComment: Debian Archive (12/bookworm) <ftpmaster@debian.org>\n\n" +
                           cert_body + "\n" + cert_body + "\n=Ab3x\n-----END PGP PUBLIC KEY BLOCK-----"},
      {"DerPublicKey", "const key = \"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE" + cert_body + "\";"},
      {"WheelRecord", "pip/__init__.py,sha256=" + fake(43, 32, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") + ",357"},
      {"TsTypedArray", "export declare function hmac(key: Uint8Array, password: Uint8Array): Uint8Array;"},
      {"OtherToolsMarker", "headers['x-api-key'] = '[REDACTED]'; password: '[REDACTED]',"},
      {"PercentEncodedDataUri", "logo=data%3Aimage%2Fpng%3Bbase64%2CiVBORw0KGgoAAAANSUhEUgAAABgAAAAYCAYAAADgdz34AAAAAXNSR0IArs4c6QAAAIRlWElmTU0AKgAAAAgABQESAAMAAAABAAEAAAEaAAU%2B"},
      {"RedactedAlready", "password = \"[REDACTED:password]\" and [REDACTED:github_token]"},
  };
}

class GoodTest : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(GoodTest, LeftUntouched) {
  const std::string& text = GetParam().second;
  auto findings = engine().scan(text);
  for (const auto& f : findings) {
    ADD_FAILURE() << f.type << " at " << f.offset << ": " << text.substr(f.offset, f.length);
  }
  std::string copy = text;
  auto outcome = engine().redact(copy);
  EXPECT_FALSE(outcome.changed);
  EXPECT_EQ(copy, text);
}

INSTANTIATE_TEST_SUITE_P(DefaultRules, GoodTest, ::testing::ValuesIn(good_cases()),
                         [](const auto& p) { return p.param.first; });

TEST(DefaultRules, EveryDefaultTypeIsExercised) {
  std::set<std::string> tested;
  for (const auto& c : caught_cases()) tested.insert(c.type);
  for (const auto& r : default_rules()) {
    if (r.action == Action::Allow) continue;
    EXPECT_TRUE(tested.count(r.type)) << r.type << " has no caught case";
  }
}

TEST(Checks, RandomBase64PassesAndWordsDoNot) {
  // Keys of 30 random bytes (40 base64 characters): the check must pass nearly all of them.
  int missed = 0;
  for (unsigned seed = 0; seed < 1000; ++seed) {
    std::string s = fake(40, seed + 100, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    missed += looks_random_base64(s) ? 0 : 1;
  }
  EXPECT_LT(missed, 10);  // under 1 % (expected: 0.5 %)
  EXPECT_FALSE(looks_random_base64("kMaxHttp2ConcurrentStreamsPerConnectionDefault"));
  EXPECT_FALSE(looks_random_base64("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"));
  EXPECT_FALSE(looks_random_base64("3f786850e387550fdab836ed7e6dc881de23001b"));
  EXPECT_FALSE(looks_random_base64("home/dev/projects/SluiceGateway2024/TestFixtures/Recordings"));
  EXPECT_FALSE(looks_random_base64("xmlSecTransformRemoveXmlTagsC14NGetKlass"));
  EXPECT_FALSE(looks_random_base64("glReplacementCodeuiTexCoord2fColor4fNormal3fVertex3fvSUN"));
  EXPECT_FALSE(looks_random_base64("RequestGOTAndTransformToPCRel32GOTLoadRelaxable"));
  EXPECT_FALSE(looks_random_base64("com/services/T0AB12CD3/B0AB12CD3EF/AbCdEfGhIjKlMnOpQrStUvWx"));
  EXPECT_NEAR(word_share("HTTPServer"), 1.0, 1e-9);
  EXPECT_NEAR(word_share("aBcD1e2F"), 0.0, 1e-9);
}

TEST(Checks, Placeholders) {
  for (const char* p : {"${DB_PASSWORD}", "$PASSWORD", "<password>", "{{ .Values.pw }}", "%s", "***", "xxxxxxxx",
                        "None", "null", "string", "your-api-key-here", "sk-ant-...", "[REDACTED:password]"}) {
    EXPECT_TRUE(is_placeholder(p)) << p;
  }
  for (const char* s : {"hunter2", "$ecret-42", "S3cr3t-Pa55"}) EXPECT_FALSE(is_placeholder(s)) << s;
}

}  // namespace
}  // namespace sluice::stages::redact
