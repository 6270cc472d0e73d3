#pragma once
// Appending JSON to a string by hand (and checking a fragment), for the per-event hot path of stream translation (no DOM,
// no allocation beyond the output). Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::translate {

// `s` as a JSON string literal, quotes included. Control characters, quotes and backslashes are
// escaped; other bytes (UTF-8) are copied as they are.
void append_json_string(std::string& out, std::string_view s);
void append_uint(std::string& out, std::uint64_t v);

// True when `text` is one JSON object. Uses a parser of its own, so a document being read with
// parse_padded() (common/padded_json.hpp) stays valid across the call.
bool is_json_object(std::string_view text);

}  // namespace sluice::translate
