// Fuzzes the resumable-stream parsers (src/stream/event_id, src/server/stream_splice), one mode
// per first byte:
//   0: a Last-Event-ID -> parse_event_id: never crashes; what it accepts prints back to the
//      same id;
//   1: SSE bytes -> the event ends the relay would record -> append_with_ids -> parsed again:
//      the same events (type, data) in the same order, each with `id: st_f:<n>` in force, n
//      counting up from 1; and the recorded event ends cut the output into whole events;
//   2: a client stream (before the first 0xff byte) observed by StreamSplice, then a
//      continuation (after it) fed in pieces whose sizes come from the input: the spliced output
//      parses as SSE, never holds a second message_start, and its block indexes never go below
//      where the continuation starts (the open block, or the one after every index the client
//      saw); continuation_body on the same bytes never crashes and
//      returns JSON or nothing.
// Any violation calls abort() with a message on stderr.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/src.hpp>  // header-only Boost.JSON: the fuzz build links no Boost library

#include "server/stream_splice.hpp"
#include "stream/event_id.hpp"
#include "stream/sse_parser.hpp"

namespace {

void fail(const char* what) {
  std::fprintf(stderr, "resume_fuzz: %s\n", what);
  std::abort();
}

struct Collect : sluice::stream::SseSink {
  const sluice::stream::SseParser* parser = nullptr;
  std::vector<std::string> types, datas, ids;
  std::vector<std::uint64_t> ends;
  void on_event(const sluice::stream::SseEvent& ev) override {
    types.emplace_back(ev.type);
    datas.emplace_back(ev.data);
    ids.emplace_back(ev.id);
    if (parser) ends.push_back(parser->boundary());
  }
};

void event_ids(std::string_view in) {
  auto id = sluice::stream::parse_event_id(in);
  if (!id) return;
  std::string again = std::string(id->stream) + ":" + std::to_string(id->seq);
  auto back = sluice::stream::parse_event_id(again);
  if (!back || back->stream != id->stream || back->seq != id->seq) fail("an accepted id does not print back");
}

void ids_round_trip(std::string_view in) {
  sluice::stream::SseParser p;
  Collect original;
  original.parser = &p;
  p.feed(in, original);
  const std::string_view complete = in.substr(0, p.boundary());
  std::vector<std::uint64_t> ends;
  for (auto e : original.ends) ends.push_back(e);
  std::string out;
  std::vector<std::size_t> event_ends;
  auto next = sluice::stream::append_with_ids(out, complete, ends, "st_f", 1, &event_ends);
  if (next != ends.size() + 1) fail("seq does not count the events");
  sluice::stream::SseParser q;
  Collect again;
  q.feed(out, again);
  if (again.types != original.types || again.datas != original.datas) fail("ids changed the events");
  for (std::size_t i = 0; i < again.ids.size(); ++i) {
    if (again.ids[i] != "st_f:" + std::to_string(i + 1)) fail("an event is not labelled with its own id");
  }
  // Each recorded end cuts whole events: parsing a prefix up to it dispatches exactly that many.
  for (std::size_t i = 0; i < event_ends.size(); ++i) {
    sluice::stream::SseParser r;
    Collect prefix;
    r.feed(std::string_view(out).substr(0, event_ends[i]), prefix);
    if (prefix.types.size() != i + 1) fail("an event end does not cut whole events");
  }
}

int max_index(const std::vector<std::string>& types, const std::vector<std::string>& datas, bool& has_start) {
  int top = -1;
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (types[i] == "message_start") has_start = true;
    if (types[i] != "content_block_start" && types[i] != "content_block_delta" && types[i] != "content_block_stop") continue;
    boost::system::error_code ec;
    auto v = boost::json::parse(datas[i], ec);
    if (ec || !v.is_object()) continue;
    if (auto* idx = v.as_object().if_contains("index"); idx && idx->is_int64()) {
      // As the splicer takes them: an index outside [0, 1e6] is read as 0.
      std::int64_t i64 = idx->as_int64();
      top = std::max<int>(top, i64 < 0 || i64 > 1'000'000 ? 0 : static_cast<int>(i64));
    }
  }
  return top;
}

void splice(std::string_view in) {
  auto cut = in.find('\xff');
  std::string_view client = in.substr(0, cut);
  std::string_view cont = cut == std::string_view::npos ? std::string_view() : in.substr(cut + 1);
  sluice::server::StreamSplice s;
  sluice::stream::SseParser p;
  Collect seen;
  p.feed(client, seen);
  for (std::size_t i = 0; i < seen.types.size(); ++i) s.observe(seen.types[i], seen.datas[i]);
  bool had_start = false;
  const int client_top = max_index(seen.types, seen.datas, had_start);
  (void)sluice::server::continuation_body(client, s.text(), s.output_so_far(), s.thinking());
  auto body = sluice::server::continuation_body(cont, s.text(), s.output_so_far(), s.thinking());
  if (!body.empty()) {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec || !v.is_object()) fail("continuation_body returned something that is not a JSON object");
  }
  s.begin(2);
  const int base = s.base();
  if (base < 0) fail("a negative base index");
  // The continuation starts at the client's open block or after every index the client saw.
  std::string last_block_event;
  for (const auto& t : seen.types) {
    if (t == "content_block_start" || t == "content_block_delta" || t == "content_block_stop") last_block_event = t;
  }
  if (base < client_top && last_block_event == "content_block_stop") {
    fail("the continuation reuses an index of a closed block");
  }
  std::string out;
  std::size_t at = 0;
  std::size_t step = 1;
  while (at < cont.size()) {
    std::size_t n = std::min(cont.size() - at, step);
    s.feed(cont.substr(at, n), out);
    at += n;
    step = step * 3 % 17 + 1;
  }
  sluice::stream::SseParser q;
  Collect spliced;
  q.feed(out, spliced);
  for (const auto& t : spliced.types) {
    if (t == "message_start") fail("a continuation's message_start reached the client");
  }
  for (std::size_t i = 0; i < spliced.types.size(); ++i) {
    boost::system::error_code ec;
    auto v = boost::json::parse(spliced.datas[i], ec);
    if (ec || !v.is_object()) continue;
    auto* idx = v.as_object().if_contains("index");
    const auto& t = spliced.types[i];
    const bool indexed = t == "content_block_start" || t == "content_block_delta" || t == "content_block_stop";
    if (indexed && idx && idx->is_int64() && idx->as_int64() < base) {
      fail("a spliced block index went below the continuation's base");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: event_ids(in); break;
    case 1: ids_round_trip(in); break;
    default: splice(in); break;
  }
  return 0;
}
