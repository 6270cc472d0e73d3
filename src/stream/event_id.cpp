#include "stream/event_id.hpp"

#include <charconv>
#include <vector>

#include "common/ids.hpp"

namespace sluice::stream {

std::string make_stream_id() { return random_id("st_", 22); }

std::optional<EventId> parse_event_id(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) return std::nullopt;
  EventId id;
  id.stream = text.substr(0, colon);
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, id.seq);
  if (ec != std::errc{} || end != last) return std::nullopt;
  for (char c : id.stream) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
    if (!ok) return std::nullopt;
  }
  return id;
}

std::uint64_t append_with_ids(std::string& out, std::string_view bytes, std::span<const std::uint64_t> ends,
                              std::string_view stream_id, std::uint64_t next_seq,
                              std::vector<std::size_t>* event_ends) {
  out.reserve(out.size() + bytes.size() + ends.size() * (stream_id.size() + 16));
  std::size_t at = 0;
  char digits[24];
  for (std::uint64_t end : ends) {
    // The id goes last, just before the blank line that ends the event, so it wins over an `id:`
    // the upstream may have sent in the same event (the last id field of an event counts).
    std::string_view ev = bytes.substr(at, end - at);
    std::size_t blank = ev.ends_with("\r\n") ? 2 : 1;
    out.append(ev.substr(0, ev.size() - blank));
    out += "id: ";
    out += stream_id;
    out += ':';
    auto r = std::to_chars(digits, digits + sizeof digits, next_seq++);
    out.append(digits, r.ptr);
    out += '\n';
    out.append(ev.substr(ev.size() - blank));
    if (event_ends) event_ends->push_back(out.size());
    at = end;
  }
  out.append(bytes.substr(at));
  return next_seq;
}

void split_lf_events(std::string_view bytes, std::vector<std::uint64_t>& ends) {
  std::size_t at = 0;
  for (;;) {
    auto pos = bytes.find("\n\n", at);
    if (pos == std::string_view::npos) return;
    ends.push_back(pos + 2);
    at = pos + 2;
  }
}

}  // namespace sluice::stream
