#include "client/event_id.hpp"

#include <charconv>

namespace sluice::client {

std::optional<std::uint64_t> event_seq(std::string_view id, std::string_view stream_id) {
  if (stream_id.empty() || id.size() <= stream_id.size() + 1) return std::nullopt;
  if (id.substr(0, stream_id.size()) != stream_id || id[stream_id.size()] != ':') return std::nullopt;
  auto digits = id.substr(stream_id.size() + 1);
  std::uint64_t seq = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
  return seq;
}

std::string last_event_id(std::string_view stream_id, std::uint64_t seq) {
  std::string out(stream_id);
  out.push_back(':');
  out.append(std::to_string(seq));
  return out;
}

}  // namespace sluice::client
