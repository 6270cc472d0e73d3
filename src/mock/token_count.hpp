#pragma once
// The mock's token counting rules. They are deterministic and cheap, and documented in
// README.md because users' tests assert on them:
//   input  = ceil(B / 4), at least 1, where B is the total byte length of every JSON string
//            value under `system`, `messages` and `tools` (keys and punctuation not counted);
//   output = one token per piece of text (split_pieces), ceil(bytes / 4) for tool input JSON.
// Pure functions; thread-safe.

#include <cstdint>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

namespace sluice::mock {

// A piece is one whitespace-separated word with the whitespace before it (" world"); words
// longer than kMaxPieceBytes are cut into several pieces at UTF-8 boundaries. Streaming sends
// one piece per delta, and each piece counts as one output token.
inline constexpr std::size_t kMaxPieceBytes = 16;

std::vector<std::string_view> split_pieces(std::string_view text);
std::uint64_t count_pieces(std::string_view text);

// Total bytes of the JSON string values inside `v`, recursively.
std::uint64_t string_bytes(const boost::json::value& v);
// ceil(bytes / 4), at least 1.
std::uint64_t tokens_for_bytes(std::uint64_t bytes);

}  // namespace sluice::mock
