#pragma once
// Reading fields of a simdjson DOM element with a default instead of an error code: the
// translators read optional fields everywhere. Header-only; pure.

#include <cstdint>
#include <optional>
#include <string_view>

#include <simdjson.h>

namespace sluice::translate {

// The string at `key`, or "" when it is absent or not a string.
inline std::string_view string_at(simdjson::dom::element parent, std::string_view key) {
  std::string_view s;
  if (parent[key].get_string().get(s) != simdjson::SUCCESS) return {};
  return s;
}

// The unsigned integer at `key`, or nullopt.
inline std::optional<std::uint64_t> uint_at(simdjson::dom::element parent, std::string_view key) {
  std::uint64_t v = 0;
  if (parent[key].get_uint64().get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

}  // namespace sluice::translate
