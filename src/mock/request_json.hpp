#pragma once
// Parses a request body into Boost.JSON without exceptions, reporting where it is malformed,
// and reads the integer fields both dialects share. Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace sluice::mock {

// Parses `body` into `out`, allocating from `out`'s storage (e.g. a monotonic resource); on
// failure returns a message such as "Invalid JSON in request body at byte 17: syntax error".
std::optional<std::string> parse_json_body(std::string_view body, boost::json::value& out);

// A JSON number that is a whole number (2, 2.0), as an int64; nullopt otherwise.
std::optional<std::int64_t> as_integer(const boost::json::value& v);

// The string at `key` of `o`, or empty when absent or not a string.
std::string_view string_at(const boost::json::object& o, std::string_view key);

}  // namespace sluice::mock
