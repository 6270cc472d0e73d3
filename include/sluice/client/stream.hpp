#pragma once
// sluice client library: callbacks of a streamed message (Messages API with "stream": true,
// wire-protocols.md §2). Every callback is optional. They run on the client's I/O thread, in
// stream order, one at a time; a callback must not make a blocking call on the same Client.
// Events are delivered once each, also across an automatic resume (see client.hpp).

#include <cstddef>
#include <functional>
#include <string_view>

#include "sluice/client/messages.hpp"

namespace sluice::client {

struct StreamCallbacks {
  // message_start: id, model and the input side of usage are known; content is empty.
  std::function<void(const Message&)> on_message_start;
  // content_block_start: the block as announced (empty text, tool name and id, ...).
  std::function<void(std::size_t index, const ContentBlock&)> on_block_start;
  // text_delta: the next piece of a text block.
  std::function<void(std::size_t index, std::string_view text)> on_text;
  // input_json_delta: the next piece of a tool_use block's input JSON (partial, not parseable
  // on its own; the complete input is in on_block_stop's block).
  std::function<void(std::size_t index, std::string_view partial_json)> on_input_json;
  // thinking_delta: the next piece of a thinking block.
  std::function<void(std::size_t index, std::string_view thinking)> on_thinking;
  // signature_delta: a thinking block's signature.
  std::function<void(std::size_t index, std::string_view signature)> on_signature;
  // content_block_stop: the complete block (a tool_use block with its input parsed).
  std::function<void(std::size_t index, const ContentBlock&)> on_block_stop;
  // message_start and message_delta: the usage so far (message_delta counts are cumulative).
  std::function<void(const Usage&)> on_usage;
  // message_stop: the accumulated final message (also the return value of the call).
  std::function<void(const Message&)> on_stop;
  // Any event this version does not model (new event types), raw.
  std::function<void(std::string_view event, std::string_view data)> on_unknown_event;
};

}  // namespace sluice::client
