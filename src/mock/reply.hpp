#pragma once
// What the mock will send for one request, decided without I/O by Responder: status, headers
// and either a complete body or a rendered event stream, plus the faults and pacing that
// MockService applies while sending it. Plain data; not synchronised.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mock/faults.hpp"
#include "mock/sse_events.hpp"

namespace sluice::mock {

struct Reply {
  int status = 200;
  std::vector<std::pair<std::string_view, std::string>> headers;  // names are string literals
  std::string body;       // the complete body when !streamed
  bool streamed = false;  // true: send `events` one write each, chunked
  SseEvents events;
  std::string error_event;      // sent by error-after-N
  std::string_view malformed;   // inserted by malformed-sse (static bytes)
  Faults faults;                // only the faults that apply to this reply
  double tokens_per_second = 0;     // 0 = no pacing
  std::uint64_t output_tokens = 0;  // paces a non-streaming reply as a whole

  void add_header(std::string_view name, std::string value) { headers.emplace_back(name, std::move(value)); }
  std::string_view header(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return {};
  }
};

}  // namespace sluice::mock
