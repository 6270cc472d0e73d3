#pragma once
// A rendered event stream: every SSE event of a response in one buffer, with the bounds of each
// event so that the service can write them one by one (one chunk each), pace them and inject
// faults between them. Plain data; not synchronised.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::mock {

struct SseEvents {
  struct Item {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::uint32_t tokens = 0;  // output tokens this event carries (pacing waits for them)
  };
  std::string bytes;  // all events, each ending with "\n\n"
  std::vector<Item> items;

  std::size_t size() const { return items.size(); }
  std::string_view at(std::size_t i) const {
    return std::string_view(bytes).substr(items[i].begin, items[i].end - items[i].begin);
  }
  std::uint32_t tokens(std::size_t i) const { return items[i].tokens; }

  // Renderers append an event's bytes between open() and close().
  void open() { items.push_back(Item{bytes.size(), 0, 0}); }
  void close(std::uint32_t tokens = 0) {
    items.back().end = bytes.size();
    items.back().tokens = tokens;
  }
};

}  // namespace sluice::mock
