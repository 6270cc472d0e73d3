#include "stages/meter/usage.hpp"

#include <cstring>
#include <string>

#include <simdjson.h>

#include "common/padded_json.hpp"

namespace sluice::stages::meter {

namespace {


// Counts past these are nonsense from a broken upstream; clamping them keeps every cost sum far
// from int64 overflow (10^12 tokens x 75,000 nano-dollars, 10^9 tool uses x 10^7).
constexpr std::int64_t kMaxTokens = 1'000'000'000'000;
constexpr std::int64_t kMaxToolUses = 1'000'000'000;

// Overlays the non-null numeric fields of a usage object onto `u`.
void overlay(simdjson::dom::element usage, Usage& u) {
  auto take = [&](const char* field, std::int64_t& into) {
    std::int64_t v = 0;
    if (usage[field].get_int64().get(v) == simdjson::SUCCESS && v >= 0) into = std::min(v, kMaxTokens);
  };
  take("input_tokens", u.input_tokens);
  take("output_tokens", u.output_tokens);
  take("cache_creation_input_tokens", u.cache_creation_tokens);
  take("cache_read_input_tokens", u.cache_read_tokens);
  simdjson::dom::object tools;
  if (usage["server_tool_use"].get_object().get(tools) == simdjson::SUCCESS) {
    std::int64_t uses = 0;
    for (auto field : tools) {
      std::int64_t v = 0;
      if (field.value.get_int64().get(v) == simdjson::SUCCESS && v > 0) uses += std::min(v, kMaxToolUses);
    }
    u.server_tool_uses = std::min(uses, kMaxToolUses);
  }
}

// Bytes of the string value of a text, thinking or tool-input delta, found without parsing:
// this runs on most events of a stream. Escapes count as their escaped length; an estimate.
std::int64_t delta_text_bytes(std::string_view data) {
  static constexpr std::string_view kKeys[] = {"\"text\":\"", "\"partial_json\":\"", "\"thinking\":\""};
  for (auto key : kKeys) {
    auto at = data.find(key);
    if (at == std::string_view::npos) continue;
    auto begin = at + key.size();
    auto end = data.rfind('"');
    return end != std::string_view::npos && end > begin ? static_cast<std::int64_t>(end - begin) : 0;
  }
  return 0;
}

}  // namespace

std::int64_t estimate_tokens(std::int64_t bytes) { return bytes <= 0 ? 0 : (bytes + 3) / 4; }

void StreamMeter::on_event(std::string_view type, std::string_view data) {
  if (type == "content_block_delta") {
    text_bytes_ = std::min(text_bytes_ + delta_text_bytes(data), 4 * kMaxTokens);
    return;
  }
  if (type != "message_start" && type != "message_delta") return;
  simdjson::dom::element doc;
  if (parse_padded(data, doc) != simdjson::SUCCESS) return;
  simdjson::dom::element usage;
  if (type == "message_start") {
    if (doc["message"]["usage"].get(usage) != simdjson::SUCCESS) return;
    overlay(usage, usage_);
    saw_start_ = true;
  } else {
    if (doc["usage"].get(usage) != simdjson::SUCCESS) return;
    overlay(usage, usage_);
    saw_delta_ = true;
  }
}

Usage StreamMeter::usage() const {
  Usage u = usage_;
  if (!saw_delta_ && (saw_start_ || text_bytes_ > 0)) {
    // The final count never came: what was delivered is the best evidence of what was billed.
    u.output_tokens = std::max(u.output_tokens, estimate_tokens(text_bytes_));
    u.estimated = true;
  }
  return u;
}

std::optional<Usage> usage_from_message(std::string_view body) {
  // On-demand: skips the content blocks instead of building a DOM of the whole answer (a
  // third of the cost per request of a non-streaming answer, callgrind).
  thread_local simdjson::ondemand::parser parser;
  const char* padded = padded_copy(body);
  simdjson::ondemand::document doc;
  if (parser.iterate(padded, body.size(), body.size() + simdjson::SIMDJSON_PADDING).get(doc) != simdjson::SUCCESS) {
    return std::nullopt;
  }
  simdjson::ondemand::object usage;
  if (doc.find_field_unordered("usage").get_object().get(usage) != simdjson::SUCCESS) return std::nullopt;
  Usage u;
  for (auto field : usage) {
    std::string_view key;
    if (field.unescaped_key().get(key) != simdjson::SUCCESS) return std::nullopt;
    std::int64_t* into = key == "input_tokens"                  ? &u.input_tokens
                         : key == "output_tokens"               ? &u.output_tokens
                         : key == "cache_creation_input_tokens" ? &u.cache_creation_tokens
                         : key == "cache_read_input_tokens"     ? &u.cache_read_tokens
                                                                : nullptr;
    if (into) {
      std::int64_t v = 0;
      if (field.value().get_int64().get(v) == simdjson::SUCCESS && v >= 0) *into = std::min(v, kMaxTokens);
    } else if (key == "server_tool_use") {
      simdjson::ondemand::object tools;
      if (field.value().get_object().get(tools) != simdjson::SUCCESS) continue;
      std::int64_t uses = 0;
      for (auto tool : tools) {
        std::int64_t v = 0;
        if (tool.value().get_int64().get(v) == simdjson::SUCCESS && v > 0) uses += std::min(v, kMaxToolUses);
      }
      u.server_tool_uses = std::min(uses, kMaxToolUses);
    }
  }
  return u;
}

}  // namespace sluice::stages::meter
