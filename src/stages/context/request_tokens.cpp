#include "stages/context/request_tokens.hpp"

#include <algorithm>
#include <string>

#include <simdjson.h>

#include "common/padded_json.hpp"
#include "stages/context/media_size.hpp"
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
    } else if (type == "base64" && source["data"].get_string().get(s) == SUCCESS) {
      extra += std::max<std::uint64_t>(1, pdf_pages_from_base64(s)) * kPdfPageTokens;
    }
    // A PDF by url or file id: its pages are not knowable here, and it counts nothing.
    if (block["title"].get_string().get(s) == SUCCESS) text.add(s);
    if (block["context"].get_string().get(s) == SUCCESS) text.add(s);
  }

  // A block of a type not modelled here (server tool results, search results, new types): the
  // text of its string values, with images and documents nested in it counted as such.
  // Encrypted content (a web search result's page) costs what its plain text would, about a
  // token per four bytes; signatures cost nothing.
  void any(element v, std::string_view key) {
    std::string_view s;
    switch (v.type()) {
      case simdjson::dom::element_type::STRING:
        if (v.get_string().get(s) != SUCCESS || key == "signature" || key == "type" || key == "id" ||
            key == "tool_use_id") {
          return;
        }
        if (key.starts_with("encrypted_")) extra += (s.size() + 3) / 4;
        else text.add(s);
        return;
      case simdjson::dom::element_type::ARRAY:
        for (element e : v.get_array()) any(e, key);
        return;
      case simdjson::dom::element_type::OBJECT: {
        std::string_view type;
        if (v["type"].get_string().get(type) == SUCCESS) {
          if (type == "image") return image(v);
          if (type == "document") return document(v);
        }
        for (auto field : v.get_object()) any(field.value, field.key);
        return;
      }
      default:
        return;
    }
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
        // Encrypted, and its cost is not knowable here.
      } else {
        any(block, {});
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
  array edits;
  if (doc["context_management"]["edits"].get_array().get(edits) == SUCCESS) {
    for (element e : edits) {
      out.edits_context = true;
      std::string_view type;
      if (e["type"].get_string().get(type) == SUCCESS && type.starts_with("clear_tool_uses")) out.clears_context = true;
    }
  }

  // Thinking counts only in the last assistant turn. Many models drop earlier turns' thinking
  // from the context; those that keep it make this estimate low, the safe side for a guard.
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
