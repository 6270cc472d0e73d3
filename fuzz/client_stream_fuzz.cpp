// Fuzzes the client library's stream reading (src/client/): arbitrary bytes as an SSE body, fed
// through the SSE parser into the MessageAccumulator, in one piece and split at a point chosen by
// the first input byte. Checks:
//   - nothing crashes, whatever the events and JSON;
//   - the outcome (state, text, stop reason, usage, error) does not depend on the chunking;
//   - Stopped and Failed are final; Stopped implies message_start was seen;
//   - the text the callbacks delivered (block starts and text deltas) is the message's text;
//   - every message the codec parses serialises back (blocks to JSON) without loss of type.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/json/src.hpp>  // header-only Boost.JSON: the fuzz build links no Boost library

#include "client/accumulator.hpp"
#include "client/codec.hpp"
#include "stream/sse_parser.hpp"

namespace {

using sluice::client::MessageAccumulator;

struct Outcome {
  MessageAccumulator::State state;
  std::string text;
  std::string delivered;
  std::string stop_reason;
  std::int64_t output_tokens;
  std::string error;
};

class Sink final : public sluice::stream::SseSink {
 public:
  explicit Sink(MessageAccumulator& acc) : acc_(acc) {}
  void on_event(const sluice::stream::SseEvent& ev) override {
    auto before = acc_.state();
    auto after = acc_.feed(ev.type, ev.data);
    if (before != MessageAccumulator::State::Open && after != before) {
      std::fprintf(stderr, "a final state changed\n");
      std::abort();
    }
  }

 private:
  MessageAccumulator& acc_;
};

Outcome run(std::string_view body, std::size_t split) {
  std::string delivered;
  sluice::client::StreamCallbacks cb;
  cb.on_text = [&](std::size_t, std::string_view t) { delivered.append(t); };
  // A text block may start with text of its own (content_block_start), then grows by deltas.
  cb.on_block_start = [&](std::size_t, const sluice::client::ContentBlock& b) {
    if (b.type == "text") delivered.append(b.text);
  };
  MessageAccumulator acc(cb, 200, "req_fuzz");
  sluice::stream::SseParser parser;
  Sink sink(acc);
  parser.feed(body.substr(0, split), sink);
  parser.feed(body.substr(split), sink);
  if (acc.state() == MessageAccumulator::State::Stopped && !acc.started()) {
    std::fprintf(stderr, "stopped without message_start\n");
    std::abort();
  }
  const auto& m = acc.message();
  return Outcome{acc.state(), m.text(), delivered, m.stop_reason, m.usage.output_tokens,
                 acc.state() == MessageAccumulator::State::Failed ? acc.error().to_string() : std::string()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t split = body.empty() ? 0 : data[0] % (body.size() + 1);

  Outcome whole = run(body, body.size());
  Outcome parts = run(body, split);
  if (whole.state != parts.state || whole.text != parts.text || whole.stop_reason != parts.stop_reason ||
      whole.output_tokens != parts.output_tokens || whole.error != parts.error) {
    std::fprintf(stderr, "the outcome depends on the chunking (split %zu)\n", split);
    std::abort();
  }
  if (whole.delivered != whole.text) {
    std::fprintf(stderr, "callbacks delivered other text than the message holds\n");
    std::abort();
  }

  // The same bytes as a non-streaming answer.
  if (auto msg = sluice::client::codec::parse_message(body)) {
    for (const auto& b : msg->content) {
      auto o = sluice::client::codec::block_to_json(b);
      auto* type = o.if_contains("type");
      if (!type || !type->is_string() || type->get_string() != b.type) {
        std::fprintf(stderr, "a block lost its type\n");
        std::abort();
      }
    }
  }
  return 0;
}
