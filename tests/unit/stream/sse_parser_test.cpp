// Unit tests of src/stream/sse_parser: the wire-protocols §7.8 vectors, chunking invariance
// (every split point, byte by byte), exact block boundaries, the Anthropic example stream of
// wire-protocols §2.5, the writer's round trip, and no allocation per event in steady state.

#include "stream/sse_parser.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

// Counting global allocator: lets AllocationTest check the steady-state promise of the parser.
// Counts only while g_count_allocations is set.
namespace {
std::atomic<bool> g_count_allocations{false};
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  if (g_count_allocations.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
// g++ 12 sees malloc'd memory released by free() inside a replaced operator delete as a
// mismatch (it does not know these replace the global operators).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace sluice::stream {
namespace {

using namespace std::string_literals;

struct Event {
  std::string type;
  std::string data;
  std::string id;
  bool operator==(const Event&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << "(" << testing::PrintToString(e.type) << ", " << testing::PrintToString(e.data)
            << ", id=" << testing::PrintToString(e.id) << ")";
}

// Everything observable about a parser after a sequence of feeds.
struct Outcome {
  std::vector<Event> events;
  std::vector<std::uint64_t> boundaries_at_dispatch;  // boundary() seen inside on_event
  std::uint64_t boundary = 0;
  std::uint64_t fed = 0;
  std::string last_event_id;
  std::optional<std::uint32_t> retry_ms;
  bool partial = false;
};

class Recorder : public SseSink {
 public:
  explicit Recorder(const SseParser& parser) : parser_(parser) {}
  void on_event(const SseEvent& ev) override {
    EXPECT_EQ(ev.id, parser_.last_event_id());
    events.push_back({std::string(ev.type), std::string(ev.data), std::string(ev.id)});
    boundaries.push_back(parser_.boundary());
  }
  std::vector<Event> events;
  std::vector<std::uint64_t> boundaries;

 private:
  const SseParser& parser_;
};

Outcome outcome_of(const SseParser& parser, Recorder& rec) {
  return {rec.events, rec.boundaries, parser.boundary(), parser.fed(),
          std::string(parser.last_event_id()), parser.retry_ms(), parser.in_partial_block()};
}

Outcome run_chunks(const std::vector<std::string_view>& chunks) {
  SseParser parser;
  Recorder rec(parser);
  for (auto chunk : chunks) parser.feed(chunk, rec);
  return outcome_of(parser, rec);
}

Outcome run(std::string_view input) { return run_chunks({input}); }

// Chunking must not change events or final state. boundary() inside on_event may differ only
// when a CRLF ending an empty line is split between two chunks (the CR dispatches at once), so
// it is not compared here; the final boundary must match.
void expect_same(const Outcome& want, const Outcome& got, const std::string& how) {
  SCOPED_TRACE(how);
  EXPECT_EQ(want.events, got.events);
  EXPECT_EQ(want.boundary, got.boundary);
  EXPECT_EQ(want.fed, got.fed);
  EXPECT_EQ(want.last_event_id, got.last_event_id);
  EXPECT_EQ(want.retry_ms, got.retry_ms);
  EXPECT_EQ(want.partial, got.partial);
}

// Feeds `input` whole, split at every point, byte by byte (checking after each byte that the
// state equals that of the same prefix fed whole), and in random chunkings.
void expect_chunking_invariant(std::string_view input) {
  const Outcome whole = run(input);
  for (std::size_t k = 0; k <= input.size(); ++k) {
    expect_same(whole, run_chunks({input.substr(0, k), input.substr(k)}), "split at " + std::to_string(k));
    if (testing::Test::HasFailure()) return;
  }

  SseParser parser;
  Recorder rec(parser);
  for (std::size_t i = 0; i < input.size(); ++i) {
    parser.feed(input.substr(i, 1), rec);
    const Outcome prefix = run(input.substr(0, i + 1));
    SCOPED_TRACE("byte by byte, after byte " + std::to_string(i));
    EXPECT_EQ(prefix.boundary, parser.boundary());
    EXPECT_EQ(prefix.events.size(), rec.events.size());
    EXPECT_EQ(prefix.last_event_id, parser.last_event_id());
    EXPECT_EQ(prefix.partial, parser.in_partial_block());
    if (testing::Test::HasFailure()) return;
  }
  expect_same(whole, outcome_of(parser, rec), "byte by byte");

  std::mt19937 rng(12345);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::string_view> chunks;
    std::size_t at = 0;
    while (at < input.size()) {
      const std::size_t n = std::uniform_int_distribution<std::size_t>(0, 7)(rng);
      chunks.push_back(input.substr(at, n));
      at += std::min(n, input.size() - at);
    }
    expect_same(whole, run_chunks(chunks), "random chunking " + std::to_string(round));
    if (testing::Test::HasFailure()) return;
  }
}

// ---- wire-protocols §7.8 vectors ------------------------------------------------------------

struct Vector {
  const char* name;
  std::string input;
  std::vector<Event> events;
  std::string last_event_id;
  std::optional<std::uint32_t> retry_ms;
  bool partial_at_end;
};

std::ostream& operator<<(std::ostream& os, const Vector& v) { return os << v.name; }

const std::string kMessageStartData =
    R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"usage":{"input_tokens":3,"output_tokens":1}}})";

std::vector<Vector> vectors() {
  return {
      {"DataSpace", "data: a\n\n", {{"message", "a", ""}}, "", std::nullopt, false},
      {"DataNoSpace", "data:a\n\n", {{"message", "a", ""}}, "", std::nullopt, false},
      {"DataTwoSpacesKeepsOne", "data:  a\n\n", {{"message", " a", ""}}, "", std::nullopt, false},
      {"TwoDataLinesJoinWithLf", "data: a\ndata: b\n\n", {{"message", "a\nb", ""}}, "",
       std::nullopt, false},
      {"Crlf", "data: a\r\ndata: b\r\n\r\n", {{"message", "a\nb", ""}}, "", std::nullopt, false},
      {"LoneCr", "data: a\rdata: b\r\r", {{"message", "a\nb", ""}}, "", std::nullopt, false},
      {"BomStripped", "\xEF\xBB\xBF" "data: a\n\n", {{"message", "a", ""}}, "", std::nullopt,
       false},
      {"CommentOnly", ": hi\n\n", {}, "", std::nullopt, false},
      {"EventWithoutData", "event: x\n\n", {}, "", std::nullopt, false},
      {"DataWithoutColon", "data\n\n", {{"message", "", ""}}, "", std::nullopt, false},
      {"IncompleteAtEof", "data: a\n", {}, "", std::nullopt, true},
      {"IdPersists", "id: 7\ndata: a\n\ndata: b\n\n", {{"message", "a", "7"}, {"message", "b", "7"}},
       "7", std::nullopt, false},
      {"EmptyIdClears", "id: 7\ndata: a\n\nid\ndata: b\n\n",
       {{"message", "a", "7"}, {"message", "b", ""}}, "", std::nullopt, false},
      {"IdWithNulIgnored", "id: 1\0" "2\ndata: a\n\n"s, {{"message", "a", ""}}, "", std::nullopt,
       false},
      {"Retry", "retry: 1500\n\n", {}, "", 1500, false},
      {"RetryNotDigits", "retry: 1.5\n\n", {}, "", std::nullopt, false},
      {"FieldNamesCaseSensitive", "Data: a\n\n", {}, "", std::nullopt, false},
      {"CrlfSplitAcrossChunks", "data: a\r\n\n", {{"message", "a", ""}}, "", std::nullopt, false},
      {"MessageStart", "event: message_start\ndata: " + kMessageStartData + "\n\n",
       {{"message_start", kMessageStartData, ""}}, "", std::nullopt, false},
      // Beyond the table.
      {"BomOnlyOnce", "\xEF\xBB\xBF\xEF\xBB\xBF" "data: a\n\n", {}, "", std::nullopt, false},
      {"PartialBomIsContent", "\xEF\xBB" "data: a\n\n", {}, "", std::nullopt, false},
      {"BomLikeBytesThenLf", "\xEF\xBB\ndata: a\n\n", {{"message", "a", ""}}, "", std::nullopt,
       false},
      {"BomInsideDataKept", "data: \xEF\xBB\xBF" "a\n\n", {{"message", "\xEF\xBB\xBF" "a", ""}}, "",
       std::nullopt, false},
      {"BomThenEmptyLine", "\xEF\xBB\xBF\ndata: a\n\n", {{"message", "a", ""}}, "", std::nullopt,
       false},
      {"ColonInValue", "data: a:b: c\n\n", {{"message", "a:b: c", ""}}, "", std::nullopt, false},
      {"DataColonEmpty", "data:\n\n", {{"message", "", ""}}, "", std::nullopt, false},
      {"DataTrailingEmptyLine", "data: a\ndata\n\n", {{"message", "a\n", ""}}, "", std::nullopt,
       false},
      {"EventTypeResetAfterDispatch", "event: x\ndata: a\n\ndata: b\n\n",
       {{"x", "a", ""}, {"message", "b", ""}}, "", std::nullopt, false},
      {"EventTypeResetWithoutData", "event: x\n\ndata: b\n\n", {{"message", "b", ""}}, "",
       std::nullopt, false},
      {"LastEventTypeWins", "event: x\nevent: y\ndata: a\n\n", {{"y", "a", ""}}, "", std::nullopt,
       false},
      {"EventNoColonIsEmpty", "event\ndata: a\n\n", {{"message", "a", ""}}, "", std::nullopt,
       false},
      {"UnknownFieldIgnored", "foo: bar\ndata: a\nDATA: b\n\n", {{"message", "a", ""}}, "",
       std::nullopt, false},
      {"FieldNameWithSpaceIgnored", "data : a\n\n", {}, "", std::nullopt, false},
      {"CommentInsideEvent", "data: a\n: note\ndata: b\n\n", {{"message", "a\nb", ""}}, "",
       std::nullopt, false},
      {"IdOnlyBlockUpdatesLastId", "id: 9\n\n", {}, "9", std::nullopt, false},
      {"IdInPartialBlockNotCommitted", "id: 1\ndata: a\n\nid: 2\ndata: b\n",
       {{"message", "a", "1"}}, "1", std::nullopt, true},
      {"IdWithSpaces", "id:  x y \ndata: a\n\n", {{"message", "a", " x y "}}, " x y ",
       std::nullopt, false},
      {"RetryEmptyIgnored", "retry:\n\n", {}, "", std::nullopt, false},
      {"RetryNegativeIgnored", "retry: -5\n\n", {}, "", std::nullopt, false},
      {"RetryLeadingSpacesIgnored", "retry:  5\n\n", {}, "", std::nullopt, false},
      {"RetryZero", "retry: 0\n\n", {}, "", 0, false},
      {"RetryLastValidWins", "retry: 10\nretry: x\nretry: 20\n\n", {}, "", 20, false},
      {"RetryMaxU32", "retry: 4294967295\n\n", {}, "", 4294967295u, false},
      {"RetryOverflowSaturates", "retry: 99999999999999999999999\n\n", {}, "", 4294967295u,
       false},
      {"RetryAppliesWithoutBlankLine", "retry: 7\n", {}, "", 7, true},
      {"MixedLineEndings", "data: a\rdata: b\ndata: c\r\n\n", {{"message", "a\nb\nc", ""}}, "",
       std::nullopt, false},
      {"LoneCrBlankLines", "\r\r\rdata: a\r\r\r", {{"message", "a", ""}}, "", std::nullopt,
       false},
      {"CrCrLf", "data: a\r\r\n", {{"message", "a", ""}}, "", std::nullopt, false},
      {"LfCr", "data: a\n\rdata: b\n\n", {{"message", "a", ""}, {"message", "b", ""}}, "",
       std::nullopt, false},
      {"EmptyInput", "", {}, "", std::nullopt, false},
      {"OnlyBlankLines", "\n\n\r\n\r", {}, "", std::nullopt, false},
      {"NoLineEndAtAll", "data: a", {}, "", std::nullopt, true},
      {"NulInData", "data: a\0b\n\n"s, {{"message", "a\0b"s, ""}}, "", std::nullopt, false},
      {"HighBytesPassThrough", "data: \xC3\x28\xFF\n\n", {{"message", "\xC3\x28\xFF", ""}}, "",
       std::nullopt, false},
      {"OpenAiDone", "data: {\"x\":1}\n\ndata: [DONE]\n\n",
       {{"message", "{\"x\":1}", ""}, {"message", "[DONE]", ""}}, "", std::nullopt, false},
  };
}

class SseVectorTest : public testing::TestWithParam<Vector> {};

TEST_P(SseVectorTest, WholeInput) {
  const Vector& v = GetParam();
  const Outcome got = run(v.input);
  EXPECT_EQ(v.events, got.events);
  EXPECT_EQ(v.last_event_id, got.last_event_id);
  EXPECT_EQ(v.retry_ms, got.retry_ms);
  EXPECT_EQ(v.partial_at_end, got.partial);
  EXPECT_EQ(v.input.size(), got.fed);
}

TEST_P(SseVectorTest, EveryChunkingGivesTheSameResult) { expect_chunking_invariant(GetParam().input); }

INSTANTIATE_TEST_SUITE_P(WireProtocols78, SseVectorTest, testing::ValuesIn(vectors()),
                         [](const testing::TestParamInfo<Vector>& p) { return p.param.name; });

TEST(SseParserTest, CrAtChunkEndThenLfIsOneLineEnding) {
  // The §7.8 row "data: a\r + (next chunk) \n\n", fed as exactly those two chunks.
  const Outcome got = run_chunks({"data: a\r", "\n\n"});
  ASSERT_EQ(1u, got.events.size());
  EXPECT_EQ((Event{"message", "a", ""}), got.events[0]);
  EXPECT_EQ(10u, got.boundary);
  EXPECT_FALSE(got.partial);
}

// ---- boundaries ------------------------------------------------------------------------------

TEST(SseBoundaryTest, EventsAndCommentBlocks) {
  const std::string input = "data: a\n\n: ping\n\ndata: b\n\n";  // 9 + 8 + 9 bytes
  const Outcome got = run(input);
  EXPECT_EQ((std::vector<std::uint64_t>{9, 26}), got.boundaries_at_dispatch);
  EXPECT_EQ(26u, got.boundary);
  EXPECT_FALSE(got.partial);

  SseParser parser;
  Recorder rec(parser);
  std::vector<std::uint64_t> after_feed;
  for (std::size_t at = 0; at < input.size(); at += 4) {
    parser.feed(std::string_view(input).substr(at, 4), rec);
    after_feed.push_back(parser.boundary());
  }
  // Feeds end at 4, 8, 12, 16, 20, 24, 26.
  EXPECT_EQ((std::vector<std::uint64_t>{0, 0, 9, 9, 17, 17, 26}), after_feed);
}

TEST(SseBoundaryTest, CrlfStream) {
  const std::string input = "data: a\r\n\r\n: ping\r\n\r\ndata: b\r\n\r\n";  // 11 + 10 + 11 bytes
  const Outcome got = run(input);
  EXPECT_EQ((std::vector<std::uint64_t>{11, 32}), got.boundaries_at_dispatch);
  EXPECT_EQ(32u, got.boundary);
  // Prefixes around the ping block's empty line (bytes 19 = CR, 20 = LF).
  EXPECT_EQ(11u, run(std::string_view(input).substr(0, 19)).boundary);
  EXPECT_EQ(20u, run(std::string_view(input).substr(0, 20)).boundary);  // the CR alone ends it
  EXPECT_EQ(21u, run(std::string_view(input).substr(0, 21)).boundary);  // the LF completes it
}

TEST(SseBoundaryTest, CrlfSplitBetweenCrAndLfOfEmptyLine) {
  SseParser parser;
  Recorder rec(parser);
  parser.feed("data: a\r\n\r", rec);
  ASSERT_EQ(1u, rec.events.size());  // dispatched on the CR, without waiting for the LF
  EXPECT_EQ(10u, parser.boundary());
  EXPECT_EQ(10u, rec.boundaries[0]);
  EXPECT_FALSE(parser.in_partial_block());
  parser.feed("\n", rec);  // completes the CRLF: the boundary moves past it
  EXPECT_EQ(11u, parser.boundary());
  EXPECT_FALSE(parser.in_partial_block());
  parser.feed("\n", rec);  // a real empty line now (stray block separator)
  EXPECT_EQ(12u, parser.boundary());
  EXPECT_EQ(1u, rec.events.size());
}

TEST(SseBoundaryTest, LfAfterCrOfNonEmptyLineDoesNotMoveBoundary) {
  SseParser parser;
  Recorder rec(parser);
  parser.feed("data: a\n\ndata: b\r", rec);
  EXPECT_EQ(9u, parser.boundary());
  EXPECT_TRUE(parser.in_partial_block());
  parser.feed("\n", rec);
  EXPECT_EQ(9u, parser.boundary());
  EXPECT_TRUE(parser.in_partial_block());
  parser.feed("\r\n", rec);
  EXPECT_EQ(20u, parser.boundary());
  EXPECT_EQ(2u, rec.events.size());
}

TEST(SseBoundaryTest, BoundaryInsideCallbackCoversTheDispatchedBlock) {
  const std::string input = "event: a\ndata: 1\n\nevent: b\r\ndata: 2\r\n\r\n";
  const Outcome got = run(input);
  EXPECT_EQ((std::vector<std::uint64_t>{18, input.size()}), got.boundaries_at_dispatch);
}

TEST(SseBoundaryTest, IncompleteTailAndStrayBlankLines) {
  Outcome got = run("data: a\n\ndata: b\n");
  EXPECT_EQ(9u, got.boundary);
  EXPECT_EQ(17u, got.fed);
  EXPECT_TRUE(got.partial);

  got = run("data: a\n\n\n\n");
  EXPECT_EQ(11u, got.boundary);
  EXPECT_FALSE(got.partial);

  got = run("data: a\n\ndata");  // partial line, no terminator yet
  EXPECT_EQ(9u, got.boundary);
  EXPECT_TRUE(got.partial);
}

TEST(SseBoundaryTest, BomAlone) {
  Outcome got = run("\xEF\xBB\xBF");
  EXPECT_EQ(0u, got.boundary);
  EXPECT_EQ(3u, got.fed);
  EXPECT_FALSE(got.partial);

  got = run("\xEF\xBB");  // undecided BOM prefix: content of a line for all we know
  EXPECT_TRUE(got.partial);

  got = run("\xEF\xBB\xBF" "data: a\n\n");
  EXPECT_EQ(12u, got.boundary);
}

TEST(SseBoundaryTest, RelayedPrefixesReassembleTheStream) {
  // What the gateway does: after each feed, forward [forwarded, boundary()).
  const std::string input =
      "\xEF\xBB\xBF: hello\r\n\r\nevent: a\rdata: 1\r\rdata: 2\r\n\r\n: ping\n\ndata: 3\n\ndata: 4";
  for (std::size_t step = 1; step <= 9; ++step) {
    SseParser parser;
    Recorder rec(parser);
    std::string relayed;
    std::uint64_t forwarded = 0;
    for (std::size_t at = 0; at < input.size(); at += step) {
      parser.feed(std::string_view(input).substr(at, step), rec);
      ASSERT_GE(parser.boundary(), forwarded);
      relayed.append(input, forwarded, parser.boundary() - forwarded);
      forwarded = parser.boundary();
    }
    EXPECT_EQ(input.substr(0, input.size() - std::string_view("data: 4").size()), relayed)
        << "step " << step;
    // The relayed bytes alone parse to the same events.
    EXPECT_EQ(rec.events, run(relayed).events) << "step " << step;
    EXPECT_EQ(3u, rec.events.size());
  }
}

// ---- the Anthropic example stream (wire-protocols §2.5) -------------------------------------

constexpr std::string_view kAnthropicStream = R"sse(event: message_start
data: {"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":2}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay, let's check"}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the weather."}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"San Francisco, CA\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}

event: message_stop
data: {"type":"message_stop"}

)sse";

TEST(SseAnthropicStreamTest, ThirteenEventsInOrder) {
  const Outcome got = run(kAnthropicStream);
  const std::vector<std::string> types = {
      "message_start",       "content_block_start", "ping",
      "content_block_delta", "content_block_delta", "content_block_stop",
      "content_block_start", "content_block_delta", "content_block_delta",
      "content_block_delta", "content_block_stop",  "message_delta",
      "message_stop"};
  ASSERT_EQ(types.size(), got.events.size());
  // Each event is "event: <type>\ndata: <json>\n\n" in the source: check data byte for byte.
  std::size_t at = 0;
  for (std::size_t i = 0; i < types.size(); ++i) {
    SCOPED_TRACE(i);
    const std::size_t data_at = kAnthropicStream.find("\ndata: ", at) + 7;
    const std::size_t data_end = kAnthropicStream.find('\n', data_at);
    EXPECT_EQ(types[i], got.events[i].type);
    EXPECT_EQ(kAnthropicStream.substr(data_at, data_end - data_at), got.events[i].data);
    EXPECT_EQ("", got.events[i].id);
    EXPECT_EQ(data_end + 2, got.boundaries_at_dispatch[i]);
    at = data_end + 2;
  }
  EXPECT_EQ(kAnthropicStream.size(), got.boundary);
  EXPECT_FALSE(got.partial);
  EXPECT_EQ(R"({"type": "ping"})", got.events[2].data);
  EXPECT_EQ(
      R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\":"}})",
      got.events[8].data);
  EXPECT_EQ(R"({"type":"message_stop"})", got.events[12].data);
}

TEST(SseAnthropicStreamTest, EveryChunkingGivesTheSameResult) {
  expect_chunking_invariant(kAnthropicStream);
}

TEST(SseAnthropicStreamTest, CrlfAndCrVariantsGiveTheSameEvents) {
  const Outcome lf = run(kAnthropicStream);
  for (const std::string eol : {"\r\n", "\r"}) {
    std::string converted;
    for (const char c : kAnthropicStream) {
      if (c == '\n') {
        converted += eol;
      } else {
        converted += c;
      }
    }
    const Outcome got = run(converted);
    EXPECT_EQ(lf.events, got.events);
    EXPECT_EQ(converted.size(), got.boundary);
    expect_chunking_invariant(converted);
  }
}

// ---- state and reset ---------------------------------------------------------------------------

TEST(SseParserTest, LastEventIdCommittedAtBoundary) {
  SseParser parser;
  Recorder rec(parser);
  parser.feed("id: a\ndata: 1\n\nid: b\n", rec);
  EXPECT_EQ("a", parser.last_event_id());  // "id: b" is in an incomplete block
  parser.feed(": keep-alive\n\n", rec);      // a block boundary commits it, though nothing dispatches
  EXPECT_EQ("b", parser.last_event_id());
  EXPECT_EQ(1u, rec.events.size());
}

TEST(SseParserTest, ResetStartsANewStream) {
  SseParser parser;
  Recorder rec(parser);
  parser.feed("\xEF\xBB\xBFid: 5\nretry: 9\ndata: a\n\ndata: partial", rec);
  ASSERT_EQ(1u, rec.events.size());
  parser.reset();
  EXPECT_EQ(0u, parser.fed());
  EXPECT_EQ(0u, parser.boundary());
  EXPECT_EQ("", parser.last_event_id());
  EXPECT_FALSE(parser.retry_ms().has_value());
  EXPECT_FALSE(parser.in_partial_block());
  parser.feed("\xEF\xBB\xBF" "data: b\n\n", rec);  // BOM stripped again; partial line forgotten
  ASSERT_EQ(2u, rec.events.size());
  EXPECT_EQ((Event{"message", "b", ""}), rec.events[1]);
  EXPECT_EQ(12u, parser.boundary());
}

TEST(SseParserTest, LargeEventThenSmallEvents) {
  const std::string big(3 << 20, 'x');
  const std::string input = "data: " + big + "\n\ndata: small\n\n";
  const Outcome got = run_chunks({std::string_view(input).substr(0, 1000), std::string_view(input).substr(1000)});
  ASSERT_EQ(2u, got.events.size());
  EXPECT_EQ(big, got.events[0].data);
  EXPECT_EQ("small", got.events[1].data);
}

TEST(SseParserTest, ManyLoneCrLinesInOneChunk) {
  // A chunk with thousands of CR-ended lines and no LF must parse linearly (and correctly).
  std::string input;
  for (int i = 0; i < 20000; ++i) input += "data: " + std::to_string(i) + "\r\r";
  const Outcome got = run(input);
  ASSERT_EQ(20000u, got.events.size());
  EXPECT_EQ("19999", got.events.back().data);
  EXPECT_EQ(input.size(), got.boundary);
}

// ---- no allocation per event in the steady state ---------------------------------------------

class CountingSink : public SseSink {
 public:
  void on_event(const SseEvent& ev) override {
    ++events;
    bytes += ev.data.size() + ev.type.size() + ev.id.size();
  }
  std::uint64_t events = 0;
  std::uint64_t bytes = 0;
};

TEST(SseAllocationTest, SteadyStateDoesNotAllocate) {
  std::string stream;
  for (int i = 0; i < 200; ++i) {
    append_event(stream, "content_block_delta",
                 R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"tok )" +
                     std::to_string(i) + R"("}})",
                 "stream-1:" + std::to_string(i));
    stream += ": ping\r\n\r\n";
  }
  SseParser parser;
  CountingSink sink;
  // Warm-up: buffers reach their working size.
  for (std::size_t at = 0; at < stream.size(); at += 37) {
    parser.feed(std::string_view(stream).substr(at, 37), sink);
  }
  ASSERT_EQ(200u, sink.events);
  g_allocations = 0;
  g_count_allocations = true;
  for (int rep = 0; rep < 5; ++rep) {
    for (std::size_t at = 0; at < stream.size(); at += 37) {
      parser.feed(std::string_view(stream).substr(at, 37), sink);
    }
  }
  g_count_allocations = false;
  EXPECT_EQ(0u, g_allocations.load());
  EXPECT_EQ(1200u, sink.events);
}

// ---- writer --------------------------------------------------------------------------------------

TEST(SseWriterTest, Format) {
  EXPECT_EQ("event: message_start\ndata: {}\n\n", format_event("message_start", "{}"));
  EXPECT_EQ("data: [DONE]\n\n", format_event("", "[DONE]"));
  EXPECT_EQ("event: x\nid: s:1\ndata: a\n\n", format_event("x", "a", "s:1"));
  EXPECT_EQ("data: a\ndata: b\ndata: \n\n", format_event("", "a\nb\n"));
  EXPECT_EQ("data: a\ndata: b\ndata: c\n\n", format_event("", "a\r\nb\rc"));
  EXPECT_EQ("data: \n\n", format_event("", ""));
  // No field or event injection through type or id.
  EXPECT_EQ("event: a\nid: b\ndata: d\n\n", format_event("a\ndata: evil", "d", "b\r\nretry: 1"));
  EXPECT_EQ("event: a\nid: b\ndata: d\n\n", format_event("a\rx", "d", std::string_view("b\0c", 3)));
}

TEST(SseWriterTest, AppendEventAppends) {
  std::string out = "prefix";
  append_event(out, "ping", R"({"type":"ping"})");
  EXPECT_EQ("prefixevent: ping\ndata: {\"type\":\"ping\"}\n\n", out);
}

TEST(SseWriterTest, RoundTripsThroughTheParser) {
  struct Case {
    std::string type, data, id;
  };
  const std::vector<Case> cases = {
      {"message_start", kMessageStartData, ""},
      {"", "plain", ""},
      {"x", "multi\nline\ndata", "id-1"},
      {"x", "\n", "id-2"},
      {"x", "\n\n", ""},
      {"x", "", ""},
      {"x", " leading space", ""},
      {"x", "  two spaces", ""},
      {"x", "trailing\n", ""},
      {"x", ": looks like a comment", ""},
      {"x", "data: nested", "id:3"},
      {"y", "\xEF\xBB\xBF" "bom", ""},
      {"message", "explicit default type", ""},
  };
  std::string stream;
  std::vector<Event> want;
  std::string id_in_force;
  for (const auto& c : cases) {
    // Each event on its own.
    const Outcome one = run(format_event(c.type, c.data, c.id));
    ASSERT_EQ(1u, one.events.size()) << c.data;
    EXPECT_EQ((Event{c.type.empty() ? "message" : c.type, c.data, c.id}), one.events[0]);
    // All of them in one stream (the id persists when an event has none).
    append_event(stream, c.type, c.data, c.id);
    if (!c.id.empty()) id_in_force = c.id;
    want.push_back({c.type.empty() ? "message" : c.type, c.data, id_in_force});
  }
  EXPECT_EQ(want, run(stream).events);
  expect_chunking_invariant(stream);
}

TEST(SseWriterTest, CrInDataReadsBackAsLf) {
  const Outcome got = run(format_event("t", "a\rb\r\nc"));
  ASSERT_EQ(1u, got.events.size());
  EXPECT_EQ("a\nb\nc", got.events[0].data);
}

}  // namespace
}  // namespace sluice::stream
