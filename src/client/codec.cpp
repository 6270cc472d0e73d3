#include "client/codec.hpp"

#include <limits>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace sluice::client::codec {

namespace json = boost::json;

namespace {

std::string str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v && v->is_string()) return std::string(v->get_string());
  return {};
}

// A token count as an integer; out-of-range and non-finite numbers saturate (a count from the
// network must not be undefined behaviour).
std::int64_t num(const json::value& v) {
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return v.get_uint64() > static_cast<std::uint64_t>(kMax) ? kMax : static_cast<std::int64_t>(v.get_uint64());
  if (v.is_double()) {
    double d = v.get_double();
    if (!(d > -9.2e18)) return d != d ? 0 : std::numeric_limits<std::int64_t>::min();  // NaN -> 0
    if (d > 9.2e18) return kMax;
    return static_cast<std::int64_t>(d);
  }
  return 0;
}

// Adds the members of `extra` that `o` does not have yet.
void merge_extra(json::object& o, const json::object& extra) {
  for (const auto& [k, v] : extra) {
    if (!o.contains(k)) o.emplace(k, v);
  }
}

// The members of `o` other than `known`.
json::object rest(const json::object& o, std::initializer_list<std::string_view> known) {
  json::object out;
  for (const auto& [k, v] : o) {
    bool is_known = false;
    for (auto name : known) is_known = is_known || k == name;
    if (!is_known) out.emplace(k, v);
  }
  return out;
}

json::array messages_json(const std::vector<MessageParam>& messages) {
  json::array out;
  for (const auto& m : messages) {
    json::array content;
    for (const auto& b : m.content) content.push_back(block_to_json(b));
    out.push_back(json::object{{"role", m.role}, {"content", std::move(content)}});
  }
  return out;
}

json::array tools_json(const std::vector<Tool>& tools) {
  json::array out;
  for (const auto& t : tools) {
    json::object o{{"name", t.name}};
    if (!t.description.empty()) o["description"] = t.description;
    o["input_schema"] = t.input_schema.empty() ? json::object{{"type", "object"}} : t.input_schema;
    merge_extra(o, t.extra);
    out.push_back(std::move(o));
  }
  return out;
}

// Fields shared by create and count_tokens.
void common_fields(json::object& o, const MessageRequest& req) {
  o["model"] = req.model;
  o["messages"] = messages_json(req.messages);
  if (!req.system.empty()) o["system"] = req.system;
  if (!req.tools.empty()) o["tools"] = tools_json(req.tools);
  if (!req.tool_choice.empty()) o["tool_choice"] = req.tool_choice;
  if (req.thinking_budget_tokens) {
    o["thinking"] = json::object{{"type", "enabled"}, {"budget_tokens", *req.thinking_budget_tokens}};
  }
}

}  // namespace

json::object block_to_json(const ContentBlock& b) {
  json::object o{{"type", b.type}};
  if (b.type == "text") {
    o["text"] = b.text;
  } else if (b.type == "thinking") {
    o["thinking"] = b.thinking;
    o["signature"] = b.signature;
  } else if (b.type == "redacted_thinking") {
    o["data"] = b.data;
  } else if (b.type == "tool_use" || b.type == "server_tool_use") {
    o["id"] = b.id;
    o["name"] = b.name;
    o["input"] = b.input;
  } else if (b.type == "tool_result") {
    o["tool_use_id"] = b.tool_use_id;
    if (!b.extra.contains("content")) o["content"] = b.text;
    if (b.is_error) o["is_error"] = true;
  }
  merge_extra(o, b.extra);
  return o;
}

ContentBlock block_from_json(const json::object& o) {
  ContentBlock b;
  b.type = str(o, "type");
  if (b.type == "text") {
    b.text = str(o, "text");
    b.extra = rest(o, {"type", "text"});
  } else if (b.type == "thinking") {
    b.thinking = str(o, "thinking");
    b.signature = str(o, "signature");
    b.extra = rest(o, {"type", "thinking", "signature"});
  } else if (b.type == "redacted_thinking") {
    b.data = str(o, "data");
    b.extra = rest(o, {"type", "data"});
  } else if (b.type == "tool_use" || b.type == "server_tool_use") {
    b.id = str(o, "id");
    b.name = str(o, "name");
    if (auto* in = o.if_contains("input")) b.input = *in;
    b.extra = rest(o, {"type", "id", "name", "input"});
  } else if (b.type == "tool_result") {
    b.tool_use_id = str(o, "tool_use_id");
    auto* content = o.if_contains("content");
    if (content && content->is_string()) {
      b.text = std::string(content->get_string());
      b.extra = rest(o, {"type", "tool_use_id", "content", "is_error"});
    } else {
      b.extra = rest(o, {"type", "tool_use_id", "is_error"});  // block content stays raw
    }
    auto* err = o.if_contains("is_error");
    b.is_error = err && err->is_bool() && err->get_bool();
  } else {
    b.extra = rest(o, {"type"});
  }
  return b;
}

Usage usage_from_json(const json::object& o) {
  Usage u;
  overlay_usage(u, o);
  return u;
}

void overlay_usage(Usage& u, const json::object& delta) {
  for (const auto& [k, v] : delta) {
    if (v.is_null()) continue;
    if (k == "input_tokens") {
      u.input_tokens = num(v);
    } else if (k == "output_tokens") {
      u.output_tokens = num(v);
    } else if (k == "cache_creation_input_tokens") {
      u.cache_creation_input_tokens = num(v);
    } else if (k == "cache_read_input_tokens") {
      u.cache_read_input_tokens = num(v);
    } else {
      u.extra[k] = v;
    }
  }
}

std::optional<Message> message_from_json(const json::object& o) {
  auto* content = o.if_contains("content");
  if (!content || !content->is_array()) return std::nullopt;
  Message m;
  m.id = str(o, "id");
  m.role = str(o, "role");
  m.model = str(o, "model");
  for (const auto& b : content->get_array()) {
    if (b.is_object()) m.content.push_back(block_from_json(b.get_object()));
  }
  m.stop_reason = str(o, "stop_reason");
  m.stop_sequence = str(o, "stop_sequence");
  if (auto* u = o.if_contains("usage"); u && u->is_object()) m.usage = usage_from_json(u->get_object());
  m.extra = rest(o, {"id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"});
  return m;
}

std::optional<Message> parse_message(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return message_from_json(v.get_object());
}

std::optional<std::int64_t> parse_token_count(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto* n = v.get_object().if_contains("input_tokens");
  if (!n || !n->is_number()) return std::nullopt;
  return num(*n);
}

std::string message_request_json(const MessageRequest& req, bool stream) {
  json::object o;
  common_fields(o, req);
  o["max_tokens"] = req.max_tokens;
  if (req.temperature) o["temperature"] = *req.temperature;
  if (req.top_p) o["top_p"] = *req.top_p;
  if (req.top_k) o["top_k"] = *req.top_k;
  if (!req.stop_sequences.empty()) {
    json::array s;
    for (const auto& x : req.stop_sequences) s.emplace_back(x);
    o["stop_sequences"] = std::move(s);
  }
  if (stream) o["stream"] = true;
  merge_extra(o, req.extra);
  return json::serialize(o);
}

std::string count_tokens_json(const MessageRequest& req) {
  json::object o;
  common_fields(o, req);
  merge_extra(o, req.extra);
  return json::serialize(o);
}

namespace {
Error error_from_body(ErrorKind kind, int status, std::string_view body, std::string_view request_id) {
  Error e;
  e.kind = kind;
  e.status = status;
  e.request_id = std::string(request_id);
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.get_object();
    if (auto* err = o.if_contains("error"); err && err->is_object()) {
      e.type = str(err->get_object(), "type");
      e.message = str(err->get_object(), "message");
    }
    if (e.request_id.empty()) e.request_id = str(o, "request_id");
  }
  return e;
}
}  // namespace

Error api_error(int status, std::string_view body, std::string_view request_id) {
  Error e = error_from_body(ErrorKind::Api, status, body, request_id);
  if (e.message.empty()) e.message = "HTTP status " + std::to_string(status);
  return e;
}

Error stream_error(std::string_view data, int status, std::string_view request_id) {
  Error e = error_from_body(ErrorKind::Api, status, data, request_id);
  if (e.type.empty()) e.type = "api_error";
  if (e.message.empty()) e.message = "error event in the stream";
  return e;
}

}  // namespace sluice::client::codec
