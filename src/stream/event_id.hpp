#pragma once
// Event ids of resumable streams (wire-protocols.md §7.6–7.7): every event sluice relays on a
// resumable stream carries `id: <stream-id>:<seq>`, seq counting from 1, so a Last-Event-ID
// alone names the stream and the place to resume from. Pure functions, thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::stream {

// A new stream id: `st_` and 22 base62 characters (no ':', CR, LF or NUL).
std::string make_stream_id();

struct EventId {
  std::string_view stream;  // points into the parsed text
  std::uint64_t seq = 0;    // the last event the client received; 0 = none yet
};

// Parses "<stream-id>:<seq>" (surrounding spaces ignored); nullopt when malformed.
std::optional<EventId> parse_event_id(std::string_view text);

// Appends the events in `bytes` to `out`, each with an `id: <stream>:<seq>` line as its last line, seq
// counting up from `next_seq`. `ends` are the offsets in `bytes` where each event ends (after its
// blank line); bytes after the last end (comment blocks, stray blank lines) follow without an id.
// When `event_ends` is given, the offset in `out` where each written event ends is pushed to it.
// Returns the seq the next event gets.
std::uint64_t append_with_ids(std::string& out, std::string_view bytes, std::span<const std::uint64_t> ends,
                              std::string_view stream_id, std::uint64_t next_seq,
                              std::vector<std::size_t>* event_ends = nullptr);

// The end offsets of the events in `bytes`, a run of complete events written by sluice itself
// (LF line endings, each event ending in a blank line): the translated OpenAI chunks.
void split_lf_events(std::string_view bytes, std::vector<std::uint64_t>& ends);

}  // namespace sluice::stream
