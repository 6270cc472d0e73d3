#pragma once
// JSON of the Messages API for the client library: requests out, messages, usage, blocks and
// error bodies in. Unknown fields of a response go to `extra`; `extra` of a request is merged
// into what is sent. Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "sluice/client/messages.hpp"
#include "sluice/client/result.hpp"

namespace sluice::client::codec {

// The body of POST /v1/messages ("stream": true when `stream`).
std::string message_request_json(const MessageRequest& req, bool stream);
// The body of POST /v1/messages/count_tokens: model, messages, system, tools, tool_choice,
// thinking and `extra`.
std::string count_tokens_json(const MessageRequest& req);

boost::json::object block_to_json(const ContentBlock& b);
ContentBlock block_from_json(const boost::json::object& o);
Usage usage_from_json(const boost::json::object& o);
// Overlays the non-null fields of a message_delta usage on `u` (counts there are cumulative;
// nothing is summed, wire-protocols.md §2.4).
void overlay_usage(Usage& u, const boost::json::object& delta);
// A Message from its JSON object; nullopt when it is not one (no content array).
std::optional<Message> message_from_json(const boost::json::object& o);
std::optional<Message> parse_message(std::string_view body);
// input_tokens of a count_tokens answer.
std::optional<std::int64_t> parse_token_count(std::string_view body);

// The error of a non-2xx answer: type and message from an Anthropic (or OpenAI) error body
// when it is one, otherwise a message naming the status.
Error api_error(int status, std::string_view body, std::string_view request_id);
// The error of an in-stream `event: error` with data `data`.
Error stream_error(std::string_view data, int status, std::string_view request_id);

}  // namespace sluice::client::codec
