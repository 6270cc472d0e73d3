#include "stages/context/request_tokens.hpp"

#include <string>

#include <simdjson.h>

#include "common/padded_json.hpp"
#include "stages/context/image_size.hpp"
#include "stages/context/token_estimate.hpp"

namespace sluice::stages::context {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;

// Accumulates the text of one part of the request; images add whole tokens.
struct Tally {
  TextFeatures text;
  std::uint64_t extra = 0;

  std::uint64_t tokens() const { return estimate_tokens(text) + extra; }
  void json(element v) { text.add(simdjson::minify(v)); }

  void image(element block) {
    std::string_view type, data;
    element source;
    if (block["source"].get(source) == SUCCESS && source["type"].get_string().get(type) == SUCCESS &&
        type == "base64" && source["data"].get_string().get(data) == SUCCESS) {
      if (auto size = image_size_from_base64(data)) {
        extra += image_tokens(*size);
        return;
      }
    }
    extra += kUnknownImageTokens;
  }

  void document(element block) {
    element source;
    if (block["source"].get(source) != SUCCESS) return;
    std::string_view type, s;
    if (source["type"].get_string().get(type) != SUCCESS) return;
    if (type == "text" && source["data"].get_string().get(s) == SUCCESS) {
      text.add(s);
    } else if (type == "content") {
      element inner;
      if (source["content"].get(inner) == SUCCESS) content(inner, true);
    }
    // PDFs (base64 or url) are not counted: their pages are unknown without parsing them.
    if (block["title"].get_string().get(s) == SUCCESS) text.add(s);
    if (block["context"].get_string().get(s) == SUCCESS) text.add(s);
  }

  // A string, or an array of content blocks.
  void content(element v, bool with_thinking) {
    std::string_view s;
    if (v.get_string().get(s) == SUCCESS) {
      text.add(s);
      return;
    }
    array blocks;
    if (v.get_array().get(blocks) != SUCCESS) return;
    for (element block : blocks) {
      std::string_view type;
      if (block["type"].get_string().get(type) != SUCCESS) {
        json(block);
        continue;
      }
      if (type == "text") {
        if (block["text"].get_string().get(s) == SUCCESS) text.add(s);
      } else if (type == "tool_use" || type == "server_tool_use") {
        if (block["name"].get_string().get(s) == SUCCESS) text.add(s);
        element input;
        if (block["input"].get(input) == SUCCESS) json(input);
      } else if (type == "tool_result") {
        element inner;
        if (block["content"].get(inner) == SUCCESS) content(inner, false);
      } else if (type == "image") {
        image(block);
      } else if (type == "document") {
        document(block);
      } else if (type == "thinking") {
        if (with_thinking && block["thinking"].get_string().get(s) == SUCCESS) text.add(s);
      } else if (type == "redacted_thinking") {
        // Encrypted; what it costs is not knowable here, and older turns' thinking is dropped.
      } else {
        json(block);  // search results, server tool results, new block types: their JSON
      }
    }
  }
};

}  // namespace

std::optional<RequestTokens> estimate_request(std::string_view body) {
  element doc;
  if (parse_padded(body, doc) != SUCCESS) return std::nullopt;
  array messages;
  if (doc["messages"].get_array().get(messages) != SUCCESS) return std::nullopt;

  RequestTokens out;
  Tally fixed;
  element v;
  if (doc["system"].get(v) == SUCCESS) fixed.content(v, false);
  array tools;
  if (doc["tools"].get_array().get(tools) == SUCCESS && tools.size() > 0) {
    for (element t : tools) fixed.json(t);
    fixed.extra += kToolsOverhead;
  }
  out.fixed = kRequestOverhead + fixed.tokens();

  // Thinking counts only in the last assistant turn: the API strips it from earlier ones.
  std::size_t last_assistant = SIZE_MAX;
  std::size_t i = 0;
  for (element m : messages) {
    std::string_view role;
    if (m["role"].get_string().get(role) == SUCCESS && role == "assistant") last_assistant = i;
    ++i;
  }
  i = 0;
  out.messages.reserve(messages.size());
  for (element m : messages) {
    Tally t;
    if (m["content"].get(v) == SUCCESS) t.content(v, i == last_assistant);
    out.messages.push_back(kMessageOverhead + t.tokens());
    ++i;
  }
  return out;
}

}  // namespace sluice::stages::context
