#pragma once
// Secret redaction (issue 5): finds secrets in prompt text (passwords and tokens in assignments,
// cloud and vendor keys, JWTs, private key blocks, URL passwords, long random base64) and replaces
// them with "[REDACTED:<type>]". Rules are RE2 patterns, compiled once (at config load) into an
// Engine; all matching is done by RE2 automata (no backtracking), after a SIMD prefilter that
// finds where rules can start (engine.cpp says how; bench/redact_bench.cpp has the figures).
// An Engine is immutable after construction: scan() and redact() are const and thread-safe, and
// may run on any number of threads at once.
// The text is bytes, normally UTF-8; a finding never starts or ends inside a UTF-8 sequence, so
// redacting valid UTF-8 gives valid UTF-8.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::stages::redact {

// What a rule's matches do.
enum class Action : std::uint8_t {
  Redact,  // replaced by "[REDACTED:<type>]" and counted
  Block,   // replaced too, counted, and Outcome::blocked set: the caller refuses the request
  Log,     // counted only; the text is left unchanged
  Allow,   // known-good text (certificates, public keys, lock-file hashes): left unchanged,
           // never counted; a finding starting inside it keeps only what lies beyond it
  Off,     // the rule is not compiled and never matches
};

// Optional post-match test of a rule (all default rules use one; custom rules may). A match the
// check rejects is not a finding. The checks are in checks.hpp.
enum class Check : std::uint8_t {
  None,         // every match is a finding
  Base64Blob,   // random-looking base64: upper, lower and digit, not hex, not words or a path
  Password,     // an assignment's value that is a literal, not code, a type or a placeholder;
                // letters-only bare values only after an UPPER_CASE key (env and compose files)
  SecretValue,  // as Password, and generated-looking: a letter and a digit, or >= 16 mixed case
  Random,       // the secret holds a letter and a digit (vendor tokens)
  PemBody,      // a key block with a body of at least 32 base64 characters
  UrlPassword,  // a URL's password that is not a placeholder like ${PASS} or <password>
};

// One pattern. `type` names it in markers, counts, metrics and errors ("aws_access_key"): keep it
// short, [a-z0-9_]. `pattern` is RE2 syntax, matched on bytes (Latin-1 mode: `.` is one byte,
// `\s` is ASCII whitespace, `\b` an ASCII word boundary). If the pattern has capturing groups,
// the secret is the first group that took part in the match (so an assignment can match the key
// but redact only the value); otherwise it is the whole match. A pattern that matches the empty
// string is an error.
//
// Where matches start, so that a scan can skip the text in between (see Engine::scan): either
// every match starts with one of `prefixes` (compared ignoring ASCII case; 4 bytes or longer), or
// every match starts where a run of at least `base64_run` bytes of [A-Za-z0-9+/] starts, or
// neither is set and the rule may match anywhere. The engine trusts these: a match starting
// elsewhere is not found. And a failed try must not read past the next place where one of the
// rule's prefixes starts (nor far beyond a bounded length), or a scan can turn quadratic.
struct Rule {
  std::string type;
  std::string pattern;
  Action action = Action::Redact;
  Check check = Check::None;
  std::vector<std::string> prefixes;
  std::size_t base64_run = 0;
};

// The built-in rules, in priority order (an earlier rule wins a tie, see Engine::scan). Allow:
// public_pem, ssh_public_key, public_key_der, integrity_hash, data_uri. Redact: private_key,
// anthropic_key, openai_key, github_token, gitlab_token, slack_token, slack_webhook,
// aws_access_key, aws_secret_key, google_api_key, stripe_key, npm_token, jwt, url_password,
// basic_auth, bearer_token, password, api_key, secret, token, base64_blob. Change an action by
// editing the returned vector before compiling.
std::vector<Rule> default_rules();

// The compiled rule set. Owns its automata; move-only. A default-constructed Engine has no rules
// and finds nothing.
class Engine {
 public:
  // Compiles `rules` (Off rules are skipped). Throws std::invalid_argument naming the first bad
  // rule by type and saying what is wrong ("redaction rule 'x': missing closing )"), never quoting
  // the pattern (a custom pattern may contain a literal secret). Costs milliseconds: call it at
  // config load, not per request.
  static Engine compile(std::vector<Rule> rules);

  Engine();
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  ~Engine();

  // One secret in the scanned text. `type` points into the Engine (valid while it lives).
  struct Finding {
    std::string_view type;
    Action action;  // Redact, Block or Log (Allow matches are never reported)
    std::size_t offset;
    std::size_t length;
  };

  // The secrets in `text`, sorted by offset and non-overlapping. Overlaps between matches of
  // different rules are resolved from the left: the match that starts first wins; at the same
  // start the longer wins; at the same span the earlier rule wins. A match overlapping one already
  // taken keeps only its part beyond it, so no byte of it is left out. Allow matches take part
  // (and so shield what they cover) but are not returned.
  // Cost (this 2-core VM): a prefilter over every 4-byte window for the rules' prefixes
  // (~0.15 ns/byte with AVX2, ~0.9 ns/byte without) and over 16-byte blocks for base64 runs
  // (~0.1 ns/byte); then, where a prefix or a long enough run really starts, an anchored RE2
  // match for that rule (~100 ns; ~500 ns more to extract groups, which is done only when the
  // check could pass) and the rule's check. The default rules read 0.5-0.6 GB/s on a 500 KB prompt
  // dense with keywords and planted secrets, 0.8-1.6 GB/s on real code. Rules without prefixes add
  // one RE2 DFA pass over the text for all of them together (~1.5 ns/byte), and one more per such
  // rule that matches. For the default rules the cost is linear in text.size() (see Rule).
  std::vector<Finding> scan(std::string_view text) const;

  // The same as scan(), by the slow design the fast one must agree with: every rule, prefixes
  // and runs ignored, in one RE2::Set pass and one unanchored pass per rule that matched. For the
  // differential tests and the fuzzer.
  std::vector<Finding> scan_reference_for_test(std::string_view text) const;

  // Counts of one type in one call, with the rule's action.
  struct TypeCount {
    std::string_view type;  // points into the Engine
    Action action;
    int count;
  };
  struct Outcome {
    bool changed = false;             // text was rewritten (some Redact or Block finding)
    bool blocked = false;             // some finding's rule has Action::Block
    std::string_view blocked_type;    // the first such finding's type; never the secret
    std::vector<TypeCount> counts;    // one entry per type found, in rule order
  };

  // Scans `text` and rewrites it in place: Redact and Block findings become "[REDACTED:<type>]",
  // Log findings stay. A replaced secret changes the context of the text around it (a base64
  // run rejected as a whole may pass without the key it held), so when a round changed the text
  // it is scanned again, up to 4 rounds: redacting the result again changes nothing. Cost: one
  // scan, plus one per extra round when something was replaced, plus building the new text.
  Outcome redact(std::string& text) const;

  // Number of compiled rules (Off rules excluded).
  std::size_t size() const;

 private:
  struct Impl;
  explicit Engine(std::unique_ptr<const Impl> impl);
  std::unique_ptr<const Impl> impl_;
};

// The marker a Redact or Block finding of `type` is replaced with.
std::string marker(std::string_view type);

}  // namespace sluice::stages::redact
