#pragma once
// Incremental Server-Sent Events parser (WHATWG HTML §9.2.5, wire-protocols.md §7.1–7.3) and
// the matching writer (§7.6). The gateway relays upstream bytes unchanged up to boundary() and
// reads events on the side, so the parser reports exact block boundaries as stream offsets.
// Not thread-safe: one SseParser per stream, used by one thread at a time. The free functions
// are pure and thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::stream {

// One dispatched event. The views point into the parser and are valid only during the
// SseSink::on_event call that receives them.
struct SseEvent {
  std::string_view type;  // the `event:` value, or "message" when none was given
  std::string_view data;  // `data:` values joined with LF (no trailing LF)
  std::string_view id;    // the last event ID in force for this event (persists across events)
};

// Receives dispatched events. A sink must not call SseParser::feed or reset re-entrantly;
// reading the parser's accessors from on_event is fine.
class SseSink {
 public:
  virtual ~SseSink() = default;
  virtual void on_event(const SseEvent& ev) = 0;
};

// Parses one event stream fed in arbitrary chunks. Owns its buffers (reused across events, so a
// stream of small events allocates nothing in the steady state); holds no reference to the
// chunks or the sink after feed() returns.
//
// Bytes are not UTF-8 decoded: field values are passed through as raw bytes (no U+FFFD
// substitution), which is what a byte-transparent relay needs. Memory grows with the longest
// incomplete block; callers bound it by capping fed() - boundary().
class SseParser {
 public:
  SseParser() = default;

  // Feeds the next piece of the stream; calls sink.on_event for each dispatched event, in
  // order. Events are dispatched as soon as their terminating empty line is seen (a CR at the
  // end of `chunk` counts as a complete line ending; an LF at the start of the next chunk is
  // then taken as the second half of that CRLF). During on_event, fed() already counts the
  // whole chunk and boundary() already covers the block being dispatched.
  void feed(std::string_view chunk, SseSink& sink);

  // Stream offset just past the last block boundary, i.e. past the line terminator of the last
  // empty line seen (for CRLF the LF, for a lone CR the CR; if the LF of that CRLF arrives in
  // a later chunk, boundary() moves past it then). Bytes before it form complete blocks
  // (events, comment blocks, stray empty lines); bytes after it belong to a block still
  // incomplete. After feeding any prefix of a stream the value depends only on that prefix,
  // not on how it was split into chunks.
  std::uint64_t boundary() const { return boundary_; }
  // Total bytes fed since construction or reset(), BOM included.
  std::uint64_t fed() const { return fed_; }
  // The connection's last event ID: the `id:` value in force at the last block boundary
  // (an `id:` line in a still-incomplete block is not reflected yet). Empty when none.
  std::string_view last_event_id() const { return last_event_id_; }
  // Reconnection time from the last valid `retry:` field (values above 2^32-1 saturate).
  std::optional<std::uint32_t> retry_ms() const { return retry_ms_; }
  // True when an incomplete block is pending after boundary(): a partial line, or complete
  // non-empty lines not yet closed by an empty line. False when the bytes after boundary() are
  // only a stripped BOM or the LF completing a CRLF split across chunks. At end of stream, true
  // means the stream broke mid-block (that block is discarded, never dispatched).
  bool in_partial_block() const { return block_started_ || !line_.empty(); }

  // Forgets everything, as for a new stream (a BOM is stripped again at its start). Keeps
  // buffer capacity.
  void reset();

 private:
  void process_line(std::string_view line, std::uint64_t end_offset, SseSink& sink);
  void dispatch(SseSink& sink);

  std::string line_;        // partial line carried across feed() calls (or a BOM prefix)
  std::string data_;        // data buffer: each `data:` value + LF
  std::string event_type_;  // event type buffer
  std::string id_buffer_;   // last event ID buffer (set by `id:` lines)
  std::string last_event_id_;  // id_buffer_ as of the last dispatch
  std::optional<std::uint32_t> retry_ms_;
  std::uint64_t fed_ = 0;
  std::uint64_t boundary_ = 0;
  bool bom_pending_ = true;    // still at stream start, deciding whether a BOM is there
  bool skip_lf_ = false;       // the last chunk ended in CR: an LF next completes that CRLF
  bool block_started_ = false; // a non-empty line completed since boundary_
  bool id_dirty_ = false;      // id_buffer_ changed since the last dispatch
};

// Writer side (wire-protocols §7.6): "event: <type>\n" (omitted when type is empty), then
// "id: <id>\n" (omitted when id is empty), then one "data: <line>\n" per line of `data`, then
// "\n". Lines of `data` are split at LF, CRLF and lone CR (so a CR in data reads back as LF;
// the writer never emits a CR). `type` and `id` are cut at their first CR or LF (and `id` at a
// NUL), so no input can inject extra fields or events.
std::string format_event(std::string_view type, std::string_view data, std::string_view id = {});
// Same as format_event, appending to `out` (no allocation when `out` has the capacity).
void append_event(std::string& out, std::string_view type, std::string_view data,
                  std::string_view id = {});

}  // namespace sluice::stream
