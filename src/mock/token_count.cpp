#include "mock/token_count.hpp"

namespace sluice::mock {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// End of the piece that starts at `i`.
std::size_t piece_end(std::string_view s, std::size_t i) {
  const std::size_t n = s.size();
  while (i < n && is_space(s[i])) ++i;
  const std::size_t word = i;
  while (i < n && !is_space(s[i]) && i - word < kMaxPieceBytes) ++i;
  if (i < n && !is_space(s[i])) {
    // Cut by the length limit: do not split a UTF-8 sequence.
    while (i > word + 1 && is_continuation(s[i])) --i;
  }
  // Whitespace at the very end of the text belongs to the last piece.
  std::size_t j = i;
  while (j < n && is_space(s[j])) ++j;
  return j == n ? n : i;
}

}  // namespace

std::vector<std::string_view> split_pieces(std::string_view text) {
  std::vector<std::string_view> out;
  out.reserve(text.size() / 5 + 1);
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t end = piece_end(text, i);
    out.push_back(text.substr(i, end - i));
    i = end;
  }
  return out;
}

std::uint64_t count_pieces(std::string_view text) {
  std::uint64_t n = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    i = piece_end(text, i);
    ++n;
  }
  return n;
}

std::uint64_t string_bytes(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string: return v.get_string().size();
    case boost::json::kind::array: {
      std::uint64_t n = 0;
      for (const auto& e : v.get_array()) n += string_bytes(e);
      return n;
    }
    case boost::json::kind::object: {
      std::uint64_t n = 0;
      for (const auto& kv : v.get_object()) n += string_bytes(kv.value());
      return n;
    }
    default: return 0;
  }
}

std::uint64_t tokens_for_bytes(std::uint64_t bytes) {
  const std::uint64_t t = (bytes + 3) / 4;
  return t == 0 ? 1 : t;
}

}  // namespace sluice::mock
