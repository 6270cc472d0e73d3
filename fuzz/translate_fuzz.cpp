// Fuzzes Anthropic <-> OpenAI translation (src/translate/), one direction per first byte:
//   0: an Anthropic request -> messages_to_chat: never crashes; a success is a JSON object with
//      a messages array;
//   1: OpenAI stream bytes -> ChatToMessagesStream, fed in pieces whose sizes come from the
//      input: the output is a well-formed Anthropic stream — every event's data is a JSON
//      object whose "type" is its event name, message_start comes first and once, content
//      block indexes start at 0 and rise by one, a block's deltas and stop follow its start,
//      nothing follows message_stop or error — and the same bytes fed whole give the same
//      output;
//   2: an OpenAI answer or error -> chat_to_message / chat_error_to_anthropic: a success is a
//      JSON Message; an error maps to a 4xx/5xx status;
//   3: an OpenAI request -> chat_to_messages: a success is a Messages request with a positive
//      max_tokens and a messages array; an Anthropic answer -> message_to_chat_completion and
//      anthropic_error_to_openai: JSON, an error status;
//   4: Anthropic stream bytes -> MessagesToChatStream in pieces: every `data:` line is a JSON
//      object or [DONE], there is never an `event:` line, nothing follows [DONE] or an error,
//      and the output does not depend on the chunking.
// Any violation calls abort() with a message on stderr.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/src.hpp>  // header-only Boost.JSON: the fuzz build links no Boost library

#include "stream/sse_parser.hpp"
#include "translate/chat_response.hpp"
#include "translate/chat_stream.hpp"
#include "translate/chat_to_messages.hpp"
#include "translate/message_response.hpp"
#include "translate/messages_stream.hpp"
#include "translate/messages_to_chat.hpp"

using namespace sluice::translate;
namespace json = boost::json;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "translate_fuzz: %s\n", what);
  std::abort();
}

// Checks the Anthropic event grammar of a translated stream.
struct Grammar final : sluice::stream::SseSink {
  bool started = false, ended = false;
  long open = -1;       // the open block's index, -1 when none
  long next = 0;        // the next block index
  void on_event(const sluice::stream::SseEvent& ev) override {
    if (ended) fail("an event after message_stop or error");
    boost::system::error_code ec;
    auto v = json::parse(ev.data, ec);
    if (ec || !v.is_object()) fail("event data is not a JSON object");
    const auto* type = v.as_object().if_contains("type");
    if (!type || !type->is_string() || type->as_string() != ev.type) fail("data.type differs from the event name");
    if (ev.type == "error") {
      ended = true;
      return;
    }
    if (ev.type == "message_start") {
      if (started) fail("a second message_start");
      started = true;
      return;
    }
    if (!started) fail("an event before message_start");
    const auto* index = v.as_object().if_contains("index");
    if (ev.type == "content_block_start") {
      if (open != -1) fail("a block started while another is open");
      if (!index || index->as_int64() != next) fail("block indexes are not dense");
      open = next++;
    } else if (ev.type == "content_block_delta" || ev.type == "content_block_stop") {
      if (!index || index->as_int64() != open) fail("a delta or stop for a block that is not open");
      if (ev.type == "content_block_stop") open = -1;
    } else if (ev.type == "message_delta") {
      if (open != -1) fail("message_delta with a block open");
    } else if (ev.type == "message_stop") {
      ended = true;
    }
  }
};

// Feeds `bytes` to `translator` in pieces whose sizes come from `sizes` (whole when empty).
template <class Translator>
void feed_in_pieces(Translator& translator, std::string_view bytes, std::string_view sizes, std::string& out) {
  std::size_t at = 0, k = 0;
  while (at < bytes.size()) {
    std::size_t n = sizes.empty() ? bytes.size() : 1 + static_cast<unsigned char>(sizes[k++ % sizes.size()]) % 64;
    translator.feed(bytes.substr(at, n), out);
    at += n;
  }
}

std::string run_stream(std::string_view bytes, std::string_view sizes) {
  ChatToMessagesStream t(StreamOptions{"claude-test", 10, nullptr});
  std::string out;
  feed_in_pieces(t, bytes, sizes, out);
  t.finish(out);
  return out;
}

std::string run_reverse(std::string_view bytes, std::string_view sizes) {
  MessagesToChatStream t(ChatStreamOptions{"m", true, 1});
  std::string out;
  feed_in_pieces(t, bytes, sizes, out);
  return out;
}

void check_chat_stream(std::string_view out) {
  bool ended = false;
  std::size_t at = 0;
  while (at < out.size()) {
    const auto end = out.find("\n\n", at);
    if (end == std::string_view::npos) fail("an OpenAI chunk without its blank line");
    const std::string_view line = out.substr(at, end - at);
    if (!line.starts_with("data: ")) fail("a line other than data: in an OpenAI stream");
    if (ended) fail("a chunk after [DONE] or an error");
    const std::string_view data = line.substr(6);
    if (data == "[DONE]") {
      ended = true;
    } else {
      boost::system::error_code ec;
      auto v = json::parse(data, ec);
      if (ec || !v.is_object()) fail("an OpenAI chunk is not a JSON object");
      if (v.as_object().contains("error")) ended = true;
    }
    at = end + 2;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: {
      auto r = messages_to_chat(in, ChatRequestOptions{"up", 4096});
      if (!r.ok()) return 0;
      boost::system::error_code ec;
      auto v = json::parse(r.value().body, ec);
      if (ec || !v.is_object() || !v.as_object().contains("messages")) fail("a translated request is not a chat request");
      return 0;
    }
    case 1: {
      // The first 8 bytes choose the piece sizes; the rest is the stream.
      const std::string_view sizes = in.substr(0, std::min<std::size_t>(8, in.size()));
      const std::string_view stream = in.substr(sizes.size());
      const std::string pieces = run_stream(stream, sizes);
      if (pieces != run_stream(stream, {})) fail("the output depends on the chunking");
      Grammar g;
      sluice::stream::SseParser p;
      p.feed(pieces, g);
      if (p.in_partial_block()) fail("the output ends inside an event");
      return 0;
    }
    case 3: {
      auto r = chat_to_messages(in, 100);
      if (r.ok()) {
        boost::system::error_code ec;
        auto v = json::parse(r.value().body, ec);
        if (ec || !v.is_object() || !v.as_object().contains("messages")) fail("a translated chat request is not a Messages request");
        const auto* mt = v.as_object().if_contains("max_tokens");
        if (!mt || !mt->is_int64()) fail("a translated chat request has no max_tokens");
      }
      auto c = message_to_chat_completion(in, "m", 1);
      if (c.ok()) {
        boost::system::error_code ec;
        auto v = json::parse(c.value(), ec);
        if (ec || !v.is_object()) fail("a translated completion is not JSON");
      }
      if (anthropic_error_to_openai(500, in).status < 400) fail("an error mapped to a non-error");
      return 0;
    }
    case 4: {
      const std::string_view sizes = in.substr(0, std::min<std::size_t>(8, in.size()));
      const std::string_view stream = in.substr(sizes.size());
      const std::string pieces = run_reverse(stream, sizes);
      if (pieces != run_reverse(stream, {})) fail("the OpenAI output depends on the chunking");
      check_chat_stream(pieces);
      return 0;
    }
    default: {
      auto m = chat_to_message(in, StreamOptions{"claude-test", 10, nullptr});
      if (m.ok()) {
        boost::system::error_code ec;
        auto v = json::parse(m.value(), ec);
        if (ec || !v.is_object()) fail("a translated answer is not JSON");
      }
      auto e = chat_error_to_anthropic(500, in);
      if (e.status < 400 || e.type.empty()) fail("an error mapped to a non-error");
      return 0;
    }
  }
}
