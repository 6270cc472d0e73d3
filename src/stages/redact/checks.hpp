#pragma once
// The post-match checks of redaction rules (Check in engine.hpp): plain functions on the scanned
// text, so that a rule can match broadly in RE2 and reject what is code, not a secret, here.
// Each is O(length of the match). Stateless and thread-safe.

#include <cstddef>
#include <string_view>

#include "stages/redact/engine.hpp"

namespace sluice::stages::redact {

// A match of a rule in `text`: [match_begin, match_end) is the whole match, [begin, end) the
// secret inside it (the first participating capture group, or the whole match).
struct Span {
  std::size_t match_begin;
  std::size_t match_end;
  std::size_t begin;
  std::size_t end;
};

// True when the match is a finding under `check`.
bool passes(Check check, std::string_view text, const Span& span);

// Exposed for tests and tuning. `s` is the candidate itself.
bool looks_random_base64(std::string_view s);  // Check::Base64Blob
// Share (0..1) of `s` in "words" of 3 or more characters: lower-case runs, Capitalized runs,
// ACRONYMS and numbers (the regex [A-Z]?[a-z]{2,}|[A-Z]{3,}|[0-9]{3,}). About 0.4 for random
// base64, 0.8 to 1 for identifiers such as kMaxHttp2ConcurrentStreamsPerConnection.
double word_share(std::string_view s);
// ${X}, $X, <x>, {{x}}, %s, ***, "password", ...; with `names_are_placeholders`, also any value
// containing a secret's name (your-api-key-here, MY_TOKEN, newPassword).
bool is_placeholder(std::string_view value, bool names_are_placeholders = true);

}  // namespace sluice::stages::redact
