#include "stages/redact/checks.hpp"

#include <array>
#include <cstdint>

namespace sluice::stages::redact {
namespace {

// Random base64 has a word share (see word_share) of about 0.4: 0.75 or more in 0.47 % of keys of
// 40 characters, 0.06 % of 64. Identifiers are 0.8 to 1 (in /usr/include the lowest is
// glReplacementCodeuiTexCoord2fColor4fNormal3fVertex3fvSUN, 0.80).
constexpr double kMaxWordShare = 0.75;

// Byte classes: 1 upper, 2 lower, 3 digit, 0 other. A table, not comparisons: random text makes
// comparisons mispredict.
constexpr std::array<std::uint8_t, 256> kClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<std::size_t>(c)] = 1;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<std::size_t>(c)] = 2;
  for (int c = '0'; c <= '9'; ++c) t[static_cast<std::size_t>(c)] = 3;
  return t;
}();
std::uint8_t class_of(char c) { return kClass[static_cast<unsigned char>(c)]; }

bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return is_upper(c) || is_lower(c); }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_ident(char c) { return is_alnum(c) || c == '_'; }
bool is_quote(char c) { return c == '"' || c == '\'' || c == '`'; }

char lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool icontains(std::string_view hay, std::string_view needle) {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (iequals(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

struct Classes {
  int upper = 0, lower = 0, digit = 0, other = 0;
};

Classes classes(std::string_view s) {
  int count[4] = {0, 0, 0, 0};
  for (char ch : s) ++count[class_of(ch)];
  return Classes{count[1], count[2], count[3], count[0]};
}

// `a.b.c`, `self.token`, `process.env.API_KEY`: member access, not a literal.
bool is_dotted_path(std::string_view s) {
  bool dot = false;
  bool segment_start = true;
  for (char c : s) {
    if (c == '.') {
      if (segment_start) return false;
      dot = segment_start = true;
    } else if (segment_start) {
      if (!is_alpha(c) && c != '_' && c != '$') return false;
      segment_start = false;
    } else if (!is_ident(c) && c != '$') {
      return false;
    }
  }
  return dot && !segment_start;
}

// `DEFAULT_PASSWORD`, `api_key_from_env`: a variable or constant name.
bool is_snake_identifier(std::string_view s) {
  if (s.empty() || is_digit(s[0])) return false;
  bool underscore = false;
  for (char c : s) {
    if (!is_ident(c)) return false;
    underscore |= c == '_';
  }
  return underscore;
}

// Words that are values in code and config but never secrets: types, literals, field names.
constexpr std::array<std::string_view, 35> kNotSecrets = {
    "null", "none", "nil", "undefined", "true", "false", "yes", "no", "string", "str", "bytes",
    "bool", "boolean", "int", "number", "object", "any", "required", "optional", "empty", "unset",
    "password", "passwd", "pass", "pwd", "passphrase", "secret", "token", "apikey", "api_key", "redacted",
    "hidden", "masked", "example", "placeholder"};

constexpr std::array<std::string_view, 9> kNamesOfSecrets = {
    "password", "passwd", "secret", "token", "apikey", "api_key", "api-key", "your", "example"};

bool has_symbol(std::string_view s) {
  for (char c : s) {
    if (!is_alnum(c) && c != '_' && c != '.' && c != '-' && static_cast<unsigned char>(c) < 0x80) {
      return true;
    }
  }
  return false;
}

// The value of an assignment rule: a literal, not code. `secret` asks more: generated-looking.
bool assignment_value_passes(std::string_view text, const Span& sp, bool secret) {
  std::string_view v = text.substr(sp.begin, sp.end - sp.begin);
  char before = sp.begin > 0 ? text[sp.begin - 1] : '\0';
  char after = sp.end < text.size() ? text[sp.end] : '\0';
  bool quoted = (is_quote(before) && after == before) || (before == '>' && after == '<');
  Classes c = classes(v);
  // People put words in passwords ("Hunter2Secret99", "MyPassw0rd!"): a quoted password with a
  // digit and a capital or a symbol is taken as one even when it names a secret; only the
  // other placeholder forms (${X}, <x>, ***, changeme, ...) excuse it.
  bool complex_password = !secret && quoted && c.digit > 0 && (c.upper > 0 || has_symbol(v));
  if (is_placeholder(v, !complex_password)) return false;
  bool letter = c.upper + c.lower > 0;
  if (v.find("://") != std::string_view::npos) return false;  // a URL (url_password looks inside)
  if (!quoted) {
    if (after == '(' || after == '[') return false;  // a call or an index: code
    if (v.front() == '$' && v.size() > 1 && (is_ident(v[1]) || v[1] == '{')) return false;  // $var->x
    if (is_dotted_path(v) || is_snake_identifier(v)) return false;
    if (v.front() == ':' || v.front() == '@') return false;  // a symbol or a bind parameter
    // `password: Uint8Array` (TypeScript): after a colon, a PascalCase name made of words.
    std::size_t prev = sp.begin;
    while (prev > 0 && (text[prev - 1] == ' ' || text[prev - 1] == '\t')) --prev;
    if (prev > 0 && text[prev - 1] == ':' && is_upper(v.front()) && c.lower > 0 && c.other == 0 &&
        word_share(v) >= kMaxWordShare) {
      return false;
    }
  }
  if (secret) {
    if (v.size() < 8) return false;
    if (c.digit > 0 && letter) return true;
    // No digit: only long mixed-case strings that do not read as words (camelCase names).
    return v.size() >= 16 && c.upper > 0 && c.lower > 0 && word_share(v) < kMaxWordShare;
  }
  // Passwords.
  if (quoted) return v.size() >= 3;
  if (v.size() < 4) return false;
  if (c.digit > 0 || has_symbol(v)) return true;
  // Letters only, unquoted: `password: str`, `password: hashedPassword` in code; but in an env
  // file or compose file (`DB_PASSWORD=changeme`, `POSTGRES_PASSWORD: example`) the key is
  // upper case. The key's first two letters are at the start of the match.
  // And the value ends its line: "@NL80211_ATTR_SAE_PASSWORD: attribute for passing..." in a
  // doc comment is prose.
  std::string_view key = text.substr(sp.match_begin, 2);
  if (key.size() != 2 || !is_upper(key[0]) || !is_upper(key[1])) return false;
  std::size_t next = sp.end;
  while (next < text.size() && (text[next] == ' ' || text[next] == '\t')) ++next;
  return next == text.size() || !is_alnum(text[next]);
}

bool pem_body_passes(std::string_view s) {
  // Skip the BEGIN line ("-----BEGIN ... KEY-----"), stop at "-----END".
  std::size_t start = s.find("-----", 5);
  if (start == std::string_view::npos) return false;
  start += 5;
  std::size_t stop = s.find("-----END", start);
  if (stop == std::string_view::npos) stop = s.size();
  int body = 0;
  for (std::size_t i = start; i < stop; ++i) {
    char c = s[i];
    if (is_alnum(c) || c == '+' || c == '/') ++body;
  }
  return body >= 32;
}

}  // namespace

double word_share(std::string_view s) {
  if (s.empty()) return 0;
  std::size_t in_words = 0;
  std::size_t i = 0;
  const std::size_t n = s.size();
  auto run_of = [&](std::size_t from, std::uint8_t cls) {
    std::size_t j = from;
    while (j < n && class_of(s[j]) == cls) ++j;
    return j - from;
  };
  while (i < n) {
    const std::uint8_t cls = class_of(s[i]);
    std::size_t len = 0;
    if (cls == 1 && i + 2 < n && class_of(s[i + 1]) == 2 && class_of(s[i + 2]) == 2) {
      len = 1 + run_of(i + 1, 2);  // Capitalized
    } else if (cls != 0) {
      len = run_of(i, cls);  // lower, ACRONYM (its last capital starts no word: "HTTPServer"), 123
    }
    if (len >= 3) in_words += len;
    i += len > 0 ? len : 1;
  }
  return static_cast<double>(in_words) / static_cast<double>(n);
}

bool looks_random_base64(std::string_view s) {
  while (!s.empty() && s.back() == '=') s.remove_suffix(1);
  if (s.empty()) return false;
  // The first 1 KiB decides (an image or a key file can be a megabyte of base64).
  s = s.substr(0, 1024);
  Classes c = classes(s);
  if (c.upper == 0 || c.lower == 0 || c.digit == 0) return false;
  bool all_hex = true;
  for (char ch : s) all_hex = all_hex && is_hex(ch);
  if (all_hex) return false;
  // '+' and '/' are 1 in 32 of random base64; a path or an expression has many more.
  if (c.other * 8 > static_cast<int>(s.size())) return false;
  // A path or URL path starts with a word or a number: "com/services/...", "usr/include/...",
  // "/2024/05/...". A random key does so 0.2 % of the time.
  std::string_view head = s.substr(s.front() == '/' ? 1 : 0);
  std::size_t slash = head.find('/');
  if (slash != std::string_view::npos && slash >= 3) {
    bool lower_word = true, number = true;
    for (char ch : head.substr(0, slash)) {
      lower_word = lower_word && is_lower(ch);
      number = number && is_digit(ch);
    }
    if (lower_word || number) return false;
  }
  return word_share(s) < kMaxWordShare;
}

bool is_placeholder(std::string_view v, bool names_are_placeholders) {
  if (v.empty()) return true;
  if (v.find("[REDACTED") != std::string_view::npos) return true;  // ours, or another tool's
  char f = v.front();
  if (f == '<' || f == '%' || f == '{' || f == '*') return true;  // <password>, %s, {0}, ***
  if (v.find("${") != std::string_view::npos || v.find("{{") != std::string_view::npos ||
      v.find("$(") != std::string_view::npos || v.find("...") != std::string_view::npos ||
      v.find("\xe2\x80\xa6") != std::string_view::npos) {  // "…"
    return true;
  }
  if (f == '$') {  // $VAR, $var: a shell or template variable
    bool ident = v.size() > 1;
    for (char c : v.substr(1)) ident = ident && is_ident(c);
    if (ident) return true;
  }
  bool same = true;  // xxxxxxxx, 00000000
  for (char c : v) same = same && c == f;
  if (same && v.size() >= 3) return true;
  for (std::string_view w : kNotSecrets) {
    if (iequals(v, w)) return true;
  }
  if (v.find("***") != std::string_view::npos) return true;  // masked: "hunter2" shown as "*******"
  // A value naming what it stands for is a placeholder, a field name or a test fake:
  // MY_TOKEN, "newPassword", your-api-key-here, test-secret-1. Real keys are random.
  if (!names_are_placeholders) return false;
  for (std::string_view w : kNamesOfSecrets) {
    if (icontains(v, w)) return true;
  }
  return false;
}

bool passes(Check check, std::string_view text, const Span& sp) {
  std::string_view secret = text.substr(sp.begin, sp.end - sp.begin);
  switch (check) {
    case Check::None:
      return true;
    case Check::Base64Blob:
      return looks_random_base64(secret);
    case Check::Password:
      return assignment_value_passes(text, sp, false);
    case Check::SecretValue:
      return assignment_value_passes(text, sp, true);
    case Check::Random: {
      Classes c = classes(secret);
      return c.digit > 0 && c.upper + c.lower > 0;
    }
    case Check::PemBody:
      return pem_body_passes(secret);
    case Check::UrlPassword:
      return !is_placeholder(secret);
  }
  return true;
}

}  // namespace sluice::stages::redact
