#pragma once
// sluice client library: typed request and response structs of the Anthropic Messages API
// (POST /v1/messages, /v1/messages/count_tokens). Only the common fields are modelled; every
// struct carries `extra`, a raw-JSON escape hatch: on a request its members are added to the
// JSON sent (a modelled field of the same name wins), on a response it holds the fields this
// version does not model, so nothing the API sends is lost and a block read from a response
// can be sent back unchanged (thinking signatures included).
// Plain values; JSON is Boost.JSON.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace sluice::client {

// Token counts (wire-protocols.md §1.5). Input in total is input + cache_creation + cache_read.
struct Usage {
  std::int64_t input_tokens = 0;                 // uncached input
  std::int64_t output_tokens = 0;                // output, thinking included
  std::int64_t cache_creation_input_tokens = 0;  // written to the prompt cache
  std::int64_t cache_read_input_tokens = 0;      // read from the prompt cache
  boost::json::object extra;                     // server_tool_use, service_tier, ...

  std::int64_t total_input_tokens() const {
    return input_tokens + cache_creation_input_tokens + cache_read_input_tokens;
  }
};

// One content block of a message. `type` says which fields are used:
//   "text"               text
//   "thinking"           thinking, signature
//   "redacted_thinking"  data
//   "tool_use"           id, name, input (server_tool_use too)
//   "tool_result"        tool_use_id, text (the result as a string), is_error
//   anything else        only `extra` (e.g. an image: {"source": {...}})
struct ContentBlock {
  std::string type = "text";
  std::string text;
  std::string thinking;
  std::string signature;
  std::string data;
  std::string id;
  std::string name;
  boost::json::value input = boost::json::object{};
  std::string tool_use_id;
  bool is_error = false;
  boost::json::object extra;  // citations, cache_control, an image's source, ...

  static ContentBlock make_text(std::string text);
  static ContentBlock make_tool_result(std::string tool_use_id, std::string content, bool is_error = false);
};

// One turn of the conversation sent to the API.
struct MessageParam {
  std::string role = "user";  // "user" or "assistant"
  std::vector<ContentBlock> content;

  static MessageParam user(std::string text);
  static MessageParam assistant(std::string text);
};

// A client tool the model may call.
struct Tool {
  std::string name;
  std::string description;
  boost::json::object input_schema;  // JSON Schema of the input; {"type":"object"} when empty
  boost::json::object extra;         // cache_control, ...
};

// A Messages request. `stream` is set by the call (create / stream), not here.
struct MessageRequest {
  std::string model;
  std::int64_t max_tokens = 1024;
  std::vector<MessageParam> messages;
  std::string system;                        // omitted when empty
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<std::int64_t> top_k;
  std::vector<std::string> stop_sequences;
  std::vector<Tool> tools;
  boost::json::object tool_choice;           // e.g. {"type":"auto"}; omitted when empty
  std::optional<std::int64_t> thinking_budget_tokens;  // {"type":"enabled","budget_tokens":N}
  std::vector<std::string> betas;            // sent as the anthropic-beta header
  boost::json::object extra;                 // any other top-level field (metadata, ...)
};

// A message from the API (non-streaming answer, or a stream's accumulated result).
struct Message {
  std::string id;
  std::string role = "assistant";
  std::string model;
  std::vector<ContentBlock> content;
  std::string stop_reason;    // "end_turn", "tool_use", "max_tokens", ...; empty while unknown
  std::string stop_sequence;  // the stop sequence hit, if any
  Usage usage;
  boost::json::object extra;  // container, stop_details, ...
  std::string request_id;     // the `request-id` response header

  // The text blocks' text, concatenated.
  std::string text() const;
  // The tool_use blocks, in order.
  std::vector<const ContentBlock*> tool_uses() const;
  // This message as the assistant turn of a follow-up request (every block kept as is).
  MessageParam to_param() const;
};

// The answer of count_tokens.
struct TokenCount {
  std::int64_t input_tokens = 0;
  std::string request_id;
};

}  // namespace sluice::client
