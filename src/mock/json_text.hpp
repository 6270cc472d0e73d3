#pragma once
// Small text helpers for rendering JSON by appending to a std::string: JSON string escaping,
// integers, and UTF-8-safe truncation and repair (a cut or a header value must never produce
// invalid UTF-8 inside a JSON string). Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_text.hpp"

namespace sluice::mock {

// JSON strings and integers (common/json_text.hpp); a string must be valid UTF-8 (see
// sanitize_utf8).
using sluice::append_int;
using sluice::append_json_string;
using sluice::append_uint;
using sluice::sanitize_utf8;

// The longest prefix of `s` of at most `max_bytes` bytes that does not end inside a UTF-8
// sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes);
// `s` without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view s);
// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);
// True when `haystack` contains `needle`, ASCII case-insensitively.
bool icontains(std::string_view haystack, std::string_view needle);

}  // namespace sluice::mock
