#pragma once
// Writing JSON by appending to a std::string, for hot paths that build JSON without a DOM
// (stream translation, the mock's answers, the ledger's journal). Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

// `s` as a quoted JSON string. Quotes, backslashes and control characters are escaped; other
// bytes are copied as they are, so valid UTF-8 in gives valid JSON out.
void append_json_string(std::string& out, std::string_view s);
// The decimal digits of `v`.
void append_uint(std::string& out, std::uint64_t v);
void append_int(std::string& out, std::int64_t v);

// `s` with every byte that is not part of a valid UTF-8 sequence replaced by U+FFFD.
std::string sanitize_utf8(std::string_view s);

}  // namespace sluice
