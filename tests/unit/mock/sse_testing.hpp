#pragma once
// Test helpers for the mock's unit tests: split rendered SSE bytes into events, and build
// requests. Header-only; test code only.

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace sluice::mock::testing {

struct Event {
  std::string name;  // from the event: line; empty when there is none
  std::string data;  // the data: lines joined with \n
};

// Parses a complete SSE byte stream (events separated by blank lines). Fails the caller's
// expectations via `ok` when a line is not a known field.
inline std::vector<Event> parse_sse(std::string_view bytes, bool* ok = nullptr) {
  std::vector<Event> out;
  Event cur;
  bool have = false;
  if (ok) *ok = true;
  while (!bytes.empty()) {
    const std::size_t nl = bytes.find('\n');
    const std::string_view line = bytes.substr(0, nl);
    bytes = nl == std::string_view::npos ? std::string_view() : bytes.substr(nl + 1);
    if (nl == std::string_view::npos && ok) *ok = false;  // unterminated line
    if (line.empty()) {
      if (have) out.push_back(cur);
      cur = Event{};
      have = false;
      continue;
    }
    have = true;
    if (line.starts_with("event: ")) {
      cur.name = std::string(line.substr(7));
    } else if (line.starts_with("data: ")) {
      if (!cur.data.empty()) cur.data.push_back('\n');
      cur.data.append(line.substr(6));
    } else if (ok) {
      *ok = false;
    }
  }
  if (have && ok) *ok = false;  // an event without its blank line
  return out;
}

inline boost::json::value json(std::string_view s) { return boost::json::parse(s); }

}  // namespace sluice::mock::testing
