#pragma once
// Builds a Message from the events of an Anthropic stream, as the official SDKs' stream helpers
// do (wire-protocols.md §2.3, §2.4, §2.8), and calls the typed callbacks on the way: text,
// tool-input JSON (parsed once the block stops), thinking and signatures, usage (message_start
// overlaid with each message_delta's cumulative counts), stop. Unknown events and delta types
// are passed to on_unknown_event or ignored; order violations and bad JSON are errors.
// One per stream; not thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sluice/client/result.hpp"
#include "sluice/client/stream.hpp"

namespace sluice::client {

class MessageAccumulator {
 public:
  enum class State {
    Open,     // more events expected
    Stopped,  // message_stop arrived: message() is final
    Failed,   // an error event or a malformed stream: error() says why
  };

  // `status` and `request_id` label errors (the stream's HTTP status and request id).
  MessageAccumulator(const StreamCallbacks& cb, int status, std::string request_id);

  // Feeds one SSE event (its `event:` name and data). Events after Stopped or Failed are ignored.
  State feed(std::string_view event, std::string_view data);

  State state() const { return state_; }
  bool started() const { return started_; }
  const Message& message() const { return message_; }
  Message take_message() { return std::move(message_); }
  const Error& error() const { return error_; }

 private:
  State fail(std::string message);
  State on_block_start(std::size_t index, const boost::json::object& block);
  State on_block_delta(std::size_t index, const boost::json::object& delta);
  State on_block_stop(std::size_t index);

  const StreamCallbacks& cb_;
  int status_;
  Message message_;
  std::vector<std::string> partial_json_;  // per block: tool input JSON received so far
  State state_ = State::Open;
  bool started_ = false;
  Error error_;
};

}  // namespace sluice::client
