// libFuzzer target for src/stream/sse_parser (see fuzz/README.md). The input is an SSE byte
// stream. It is parsed whole, in three chunks split at points derived from the input, and byte
// by byte; every run must give the same events and final state, boundary() must be exact (the
// bytes before it parse to the same events on their own), and each event must round-trip
// through format_event. Any mismatch aborts.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "stream/sse_parser.hpp"

namespace {

using sluice::stream::SseEvent;
using sluice::stream::SseParser;
using sluice::stream::SseSink;

struct Event {
  std::string type;
  std::string data;
  std::string id;
  bool operator==(const Event&) const = default;
};

struct Outcome {
  std::vector<Event> events;
  std::uint64_t boundary = 0;
  std::uint64_t fed = 0;
  std::string last_event_id;
  std::optional<std::uint32_t> retry_ms;
  bool partial = false;
  bool operator==(const Outcome&) const = default;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "sse_parser_fuzz: %s\n", what);
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

class Recorder : public SseSink {
 public:
  explicit Recorder(const SseParser& parser) : parser_(parser) {}
  void on_event(const SseEvent& ev) override {
    check(ev.id == parser_.last_event_id(), "event id differs from last_event_id()");
    check(!ev.type.empty(), "empty event type");
    check(parser_.boundary() <= parser_.fed(), "boundary past fed inside on_event");
    events.push_back({std::string(ev.type), std::string(ev.data), std::string(ev.id)});
  }
  std::vector<Event> events;

 private:
  const SseParser& parser_;
};

Outcome outcome_of(const SseParser& parser, Recorder& rec) {
  return {std::move(rec.events), parser.boundary(), parser.fed(),
          std::string(parser.last_event_id()), parser.retry_ms(), parser.in_partial_block()};
}

// Feeds `input` in chunks ending at each of `cuts` (ascending) and then the rest. Checks the
// monotonicity of boundary() and that after each chunk the state equals that of the same prefix
// fed whole (when `check_prefixes`).
Outcome run(std::string_view input, const std::vector<std::size_t>& cuts, bool check_prefixes);

Outcome run_whole(std::string_view input) { return run(input, {}, false); }

Outcome run(std::string_view input, const std::vector<std::size_t>& cuts, bool check_prefixes) {
  SseParser parser;
  Recorder rec(parser);
  std::size_t at = 0;
  std::uint64_t last_boundary = 0;
  auto feed_to = [&](std::size_t to) {
    parser.feed(input.substr(at, to - at), rec);
    at = to;
    check(parser.fed() == at, "fed() != bytes fed");
    check(parser.boundary() >= last_boundary, "boundary() went backwards");
    check(parser.boundary() <= parser.fed(), "boundary() > fed()");
    last_boundary = parser.boundary();
    if (check_prefixes) {
      const Outcome prefix = run_whole(input.substr(0, at));
      check(prefix.boundary == parser.boundary(), "boundary() depends on chunking");
      check(prefix.events == rec.events, "events depend on chunking (prefix)");
      check(prefix.last_event_id == parser.last_event_id(), "last_event_id depends on chunking");
      check(prefix.retry_ms == parser.retry_ms(), "retry_ms depends on chunking");
      check(prefix.partial == parser.in_partial_block(), "in_partial_block depends on chunking");
    }
  };
  for (const std::size_t cut : cuts) feed_to(cut);
  feed_to(input.size());
  return outcome_of(parser, rec);
}

std::size_t derived_cut(const std::uint8_t* data, std::size_t size, std::size_t first) {
  if (size < first + 2) return size / 2;
  const std::size_t v = (static_cast<std::size_t>(data[first]) << 8) | data[first + 1];
  return v % (size + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const Outcome whole = run_whole(input);
  check(whole.fed == size, "fed() != input size");

  // Split at data-derived points (three chunks, possibly empty), checking each prefix.
  std::size_t a = derived_cut(data, size, 0);
  std::size_t b = derived_cut(data, size, 2);
  if (a > b) std::swap(a, b);
  const Outcome split = run(input, {a, b}, true);
  check(split == whole, "split feed differs from whole feed");

  // Byte by byte (bounded so each execution stays fast).
  if (size <= 4096) {
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < size; ++i) cuts.push_back(i);
    check(run(input, cuts, false) == whole, "byte-by-byte feed differs from whole feed");
  }

  // boundary() is exact: the bytes before it carry every event and leave nothing pending.
  const Outcome relayed = run_whole(input.substr(0, whole.boundary));
  check(relayed.events == whole.events, "bytes before boundary() give different events");
  check(relayed.boundary == whole.boundary, "boundary() of the relayed prefix moved");
  check(!relayed.partial, "relayed prefix ends inside a block");
  check(relayed.last_event_id == whole.last_event_id, "relayed prefix has another last id");
  if (!whole.partial) {
    // Nothing pending: what follows boundary() is at most a stripped BOM or a CRLF's LF.
    check(whole.fed - whole.boundary <= 3, "not partial, yet many bytes after boundary()");
  }

  // Writer round trip: every parsed event, formatted and parsed again, reads back the same.
  for (const Event& ev : whole.events) {
    const std::string wire = sluice::stream::format_event(ev.type, ev.data, ev.id);
    const Outcome back = run_whole(wire);
    check(back.events.size() == 1, "formatted event does not parse to one event");
    check(back.events[0] == ev, "formatted event does not round-trip");
    check(back.boundary == wire.size() && !back.partial, "formatted event is not one block");
    check(wire.find('\r') == std::string::npos, "writer emitted a CR");
  }
  return 0;
}
