#pragma once
// Upstream stream recovery (issue 6 item 5, docs/resume.md): when an Anthropic stream breaks
// mid-way, sluice asks again with the text the client already has as an assistant prefill and
// splices the continuation into the same client stream. StreamSplice watches the events the
// client gets (what it holds: text after complete thinking blocks, or a tool_use block or an
// open thinking block that a prefill cannot carry), and turns a continuation's events into the client's: no second message_start, block
// indexes carried on from where the break left them, and a final message_delta whose usage is the
// sum over every attempt (the earlier attempts' output estimated from their text, since their
// final count never came).
// Per request, one thread at a time.

#include <cstdint>
#include <string>
#include <string_view>

#include "stages/meter/usage.hpp"
#include "stream/sse_parser.hpp"

namespace sluice::server {

class StreamSplice : private stream::SseSink {
 public:
  // --- the client's stream, event by event (attempt 1, then the spliced continuations) ---
  void observe(std::string_view type, std::string_view data);
  // Why the stream cannot be continued with a prefill; nullptr when it can.
  const char* blocker() const;
  // Every text block's text so far, joined: the prefill.
  const std::string& text() const { return text_; }
  // Output tokens the attempts so far produced (reported or estimated from their text).
  std::int64_t output_so_far() const;
  // A (complete) thinking block went out before the text.
  bool thinking() const { return thinking_; }

  // --- a continuation ---
  // The upstream broke; attempt `attempt` (2, 3, ...) follows. Ends the current attempt's
  // accounting and decides how the continuation's blocks map onto the client's.
  void begin(int attempt);
  // The continuation's bytes in, the client's events out (appended to `out`).
  void feed(std::string_view chunk, std::string& out);
  // The client index the continuation's block 0 maps to (after begin()).
  int base() const { return base_; }

 private:
  void on_event(const stream::SseEvent& ev) override;
  void emit(std::string& out, std::string_view type, std::string_view data);

  // What the client has.
  bool saw_start_ = false;
  bool finished_ = false;        // message_delta or message_stop went out
  bool non_text_ = false;        // a block no prefill carries (tool_use, server tool results)
  bool thinking_ = false;        // a thinking block went out
  int open_index_ = -1;          // the block open at the moment, -1 = none
  bool open_text_ = false;       // ... and it is a text block
  int last_index_ = -1;
  std::string text_;

  // Usage: the attempts that ended (input, cache, output), and the current one's.
  stages::meter::Usage prior_;
  stages::meter::Usage current_;  // from the current attempt's message_start
  std::int64_t current_text_bytes_ = 0;

  // The continuation being spliced.
  int attempt_ = 1;
  int base_ = 0;                 // client index of the continuation's block 0
  bool join_open_block_ = false; // the continuation's block 0 continues the client's open block
  bool first_block_seen_ = false;
  std::string held_start_;       // a continuation's text block start, until its first delta
  int held_index_ = -1;
  std::string comment_;          // said once, before the first spliced event
  stream::SseParser parser_;
  std::string* out_ = nullptr;   // during feed()
};

// The continuation request: `body` (a Messages request) with `prefill` appended to its final
// assistant message, or as a new one, trailing whitespace removed (the API refuses it), and
// max_tokens reduced by what was already produced. Empty when the body cannot be read.
// With `drop_thinking` (the client got a thinking block already) the request's `thinking` goes:
// the API takes no prefill after extended thinking, and the thinking is done.
std::string continuation_body(std::string_view body, std::string_view prefill, std::int64_t output_so_far,
                              bool drop_thinking);

}  // namespace sluice::server
