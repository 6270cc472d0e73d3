#include "translate/messages_to_chat.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sluice::translate {
namespace {

namespace json = boost::json;

Error invalid(std::string message) { return Error{ErrorKind::InvalidRequest, std::move(message), {}}; }

std::string_view str(const json::value* v) { return v && v->is_string() ? std::string_view(v->as_string()) : ""; }

// The text of a system prompt or a tool_result: a string, or the text of its text blocks.
std::string joined_text(const json::value& v, std::string_view separator = "\n") {
  if (v.is_string()) return std::string(v.as_string());
  std::string out;
  if (!v.is_array()) return out;
  for (const auto& b : v.as_array()) {
    if (!b.is_object() || str(b.as_object().if_contains("type")) != "text") continue;
    if (!out.empty()) out += separator;
    out += str(b.as_object().if_contains("text"));
  }
  return out;
}

// An Anthropic image block as an OpenAI image_url part.
std::optional<json::object> image_part(const json::object& block) {
  const auto* source = block.if_contains("source");
  if (!source || !source->is_object()) return std::nullopt;
  const auto& s = source->as_object();
  const auto type = str(s.if_contains("type"));
  std::string url;
  if (type == "base64") {
    url = "data:" + std::string(str(s.if_contains("media_type"))) + ";base64," + std::string(str(s.if_contains("data")));
  } else if (type == "url") {
    url = std::string(str(s.if_contains("url")));
  } else {
    return std::nullopt;
  }
  return json::object{{"type", "image_url"}, {"image_url", json::object{{"url", url}}}};
}

// A document block: text documents as text; a base64 PDF as an OpenAI file part.
std::optional<json::object> document_part(const json::object& block) {
  const auto* source = block.if_contains("source");
  if (!source || !source->is_object()) return std::nullopt;
  const auto& s = source->as_object();
  const auto type = str(s.if_contains("type"));
  if (type == "text") return json::object{{"type", "text"}, {"text", str(s.if_contains("data"))}};
  if (type == "content") {
    if (const auto* c = s.if_contains("content")) return json::object{{"type", "text"}, {"text", joined_text(*c)}};
  }
  if (type == "base64") {
    const std::string data = "data:" + std::string(str(s.if_contains("media_type"))) + ";base64," +
                             std::string(str(s.if_contains("data")));
    std::string name(str(block.if_contains("title")));
    if (name.empty()) name = "document.pdf";
    return json::object{{"type", "file"}, {"file", json::object{{"filename", name}, {"file_data", data}}}};
  }
  return std::nullopt;
}

// Content parts, or one string when they are all text.
json::value content_value(json::array parts) {
  std::string text;
  for (const auto& p : parts) {
    if (str(p.as_object().if_contains("type")) != "text") return parts;
    if (!text.empty()) text += "\n\n";
    text += str(p.as_object().if_contains("text"));
  }
  return json::string(text);
}

class Builder {
 public:
  Builder(const json::object& req, ToolNames& tools) : req_(req), tools_(tools) {}

  Result<json::array> messages() {
    system_ = req_.if_contains("system") ? joined_text(*req_.if_contains("system"), "\n\n") : "";
    const auto* msgs = req_.if_contains("messages");
    if (!msgs || !msgs->is_array()) return invalid("messages: Field required");
    for (const auto& m : msgs->as_array()) {
      if (!m.is_object()) return invalid("messages: each message must be an object");
      const auto& o = m.as_object();
      const auto role = str(o.if_contains("role"));
      const json::value empty;
      const json::value& content = o.if_contains("content") ? *o.if_contains("content") : empty;
      if (role == "system") {
        // Claude Code's per-turn system messages: folded into the one system message, since
        // many OpenAI-compatible chat templates take a system message only at the start.
        const std::string text = joined_text(content, "\n\n");
        if (!text.empty()) system_ += (system_.empty() ? "" : "\n\n") + text;
      } else if (role == "user") {
        if (auto e = user(content)) return *e;
      } else if (role == "assistant") {
        assistant(content);
      } else {
        return invalid("messages: unknown role '" + std::string(role) + "'");
      }
    }
    json::array out;
    if (!system_.empty()) out.push_back(json::object{{"role", "system"}, {"content", system_}});
    for (auto& m : out_) out.push_back(std::move(m));
    return out;
  }

 private:
  // A user turn: its tool results first (each a `tool` message), then its other content.
  std::optional<Error> user(const json::value& content) {
    if (content.is_string()) {
      push_user(json::array{json::object{{"type", "text"}, {"text", content.as_string()}}});
      return std::nullopt;
    }
    if (!content.is_array()) return invalid("messages: content must be a string or a list of blocks");
    json::array parts;
    json::array result_images;  // images inside tool results: OpenAI's tool messages take none
    for (const auto& b : content.as_array()) {
      if (!b.is_object()) continue;
      const auto& block = b.as_object();
      const auto type = str(block.if_contains("type"));
      if (type == "text") {
        parts.push_back(json::object{{"type", "text"}, {"text", str(block.if_contains("text"))}});
      } else if (type == "image") {
        if (auto p = image_part(block)) parts.push_back(std::move(*p));
      } else if (type == "document") {
        if (auto p = document_part(block)) parts.push_back(std::move(*p));
      } else if (type == "tool_result") {
        const json::value none;
        const json::value& inner = block.if_contains("content") ? *block.if_contains("content") : none;
        std::string text = joined_text(inner);
        if (inner.is_array()) {
          for (const auto& ib : inner.as_array()) {
            if (ib.is_object() && str(ib.as_object().if_contains("type")) == "image") {
              if (auto p = image_part(ib.as_object())) result_images.push_back(std::move(*p));
            }
          }
        }
        if (const auto* err = block.if_contains("is_error"); err && err->is_bool() && err->as_bool()) {
          text = "Error: " + text;
        }
        out_.push_back(json::object{{"role", "tool"},
                                    {"tool_call_id", tool_id_to_upstream(str(block.if_contains("tool_use_id")))},
                                    {"content", text}});
      }
      // Other blocks (search results, server tool results) have no OpenAI form: left out.
    }
    for (auto& img : result_images) parts.push_back(std::move(img));
    if (!parts.empty()) push_user(std::move(parts));
    return std::nullopt;
  }

  void push_user(json::array parts) {
    // Consecutive user turns are merged (some OpenAI-compatible servers refuse two in a row).
    if (!out_.empty() && str(out_.back().as_object().if_contains("role")) == "user") {
      auto& prev = out_.back().as_object()["content"];
      json::array merged;
      if (prev.is_string()) merged.push_back(json::object{{"type", "text"}, {"text", prev.as_string()}});
      else merged = prev.as_array();
      for (auto& p : parts) merged.push_back(std::move(p));
      prev = content_value(std::move(merged));
      return;
    }
    out_.push_back(json::object{{"role", "user"}, {"content", content_value(std::move(parts))}});
  }

  void assistant(const json::value& content) {
    std::string text;
    json::array calls;
    if (content.is_string()) {
      text = std::string(content.as_string());
    } else if (content.is_array()) {
      for (const auto& b : content.as_array()) {
        if (!b.is_object()) continue;
        const auto& block = b.as_object();
        const auto type = str(block.if_contains("type"));
        if (type == "text") {
          text += str(block.if_contains("text"));
        } else if (type == "tool_use") {
          const json::value empty_input = json::object{};
          const json::value& input = block.if_contains("input") ? *block.if_contains("input") : empty_input;
          calls.push_back(json::object{
              {"id", tool_id_to_upstream(str(block.if_contains("id")))},
              {"type", "function"},
              {"function", json::object{{"name", tools_.to_upstream(str(block.if_contains("name")))},
                                        {"arguments", json::serialize(input)}}}});
        }
        // thinking and redacted_thinking: dropped, the upstream cannot verify them.
      }
    }
    if (!out_.empty() && str(out_.back().as_object().if_contains("role")) == "assistant") {
      auto& prev = out_.back().as_object();
      if (!text.empty()) {
        std::string merged(str(prev.if_contains("content")));
        prev["content"] = merged + (merged.empty() ? "" : "\n\n") + text;
      }
      if (!calls.empty()) {
        auto& existing = prev["tool_calls"];
        if (!existing.is_array()) existing = json::array{};
        for (auto& c : calls) existing.as_array().push_back(std::move(c));
      }
      return;
    }
    json::object m{{"role", "assistant"}};
    if (text.empty() && !calls.empty()) m["content"] = nullptr;
    else m["content"] = text;
    if (!calls.empty()) m["tool_calls"] = std::move(calls);
    out_.push_back(std::move(m));
  }

  const json::object& req_;
  ToolNames& tools_;
  std::string system_;
  json::array out_;
};

// Client tools as functions; server tools (a versioned `type` such as web_search_20250305)
// cannot run on an OpenAI model and are left out.
json::array functions(const json::value* tools, ToolNames& names) {
  json::array out;
  if (!tools || !tools->is_array()) return out;
  for (const auto& t : tools->as_array()) {
    if (!t.is_object()) continue;
    const auto& o = t.as_object();
    const auto type = str(o.if_contains("type"));
    if (!type.empty() && type != "custom") continue;
    json::object fn{{"name", names.to_upstream(str(o.if_contains("name")))}};
    if (const auto* d = o.if_contains("description"); d && d->is_string()) fn["description"] = *d;
    const auto* schema = o.if_contains("input_schema");
    fn["parameters"] = schema && schema->is_object() ? *schema : json::value(json::object{{"type", "object"}, {"properties", json::object{}}});
    out.push_back(json::object{{"type", "function"}, {"function", std::move(fn)}});
  }
  return out;
}

}  // namespace

Result<ChatRequest> messages_to_chat(std::string_view anthropic_body, const ChatRequestOptions& options) {
  boost::system::error_code ec;
  json::value root = json::parse(anthropic_body, ec);
  if (ec || !root.is_object()) return invalid("the request body is not a JSON object");
  const auto& req = root.as_object();
  ChatRequest out;

  json::object chat;
  chat["model"] = options.model.empty() ? json::value(req.contains("model") ? req.at("model") : json::value("")) : json::value(options.model);
  json::array tools = functions(req.if_contains("tools"), out.tools);
  Builder builder(req, out.tools);
  auto messages = builder.messages();
  if (!messages.ok()) return messages.error();
  chat["messages"] = std::move(messages.value());

  if (const auto* mt = req.if_contains("max_tokens"); mt && mt->is_int64()) {
    std::int64_t n = mt->as_int64();
    if (options.max_tokens && n > *options.max_tokens) n = *options.max_tokens;
    chat["max_tokens"] = n;
  }
  for (const char* field : {"temperature", "top_p"}) {
    if (const auto* v = req.if_contains(field); v && v->is_number()) chat[field] = *v;
  }
  if (const auto* stop = req.if_contains("stop_sequences"); stop && stop->is_array() && !stop->as_array().empty()) {
    json::array s;
    for (const auto& x : stop->as_array()) {
      if (x.is_string() && s.size() < 4) s.push_back(x);  // OpenAI takes at most four
    }
    chat["stop"] = std::move(s);
  }
  if (const auto* st = req.if_contains("stream"); st && st->is_bool() && st->as_bool()) {
    out.stream = true;
    chat["stream"] = true;
    chat["stream_options"] = json::object{{"include_usage", true}};  // usage comes only if asked
  }
  if (!tools.empty()) {
    chat["tools"] = std::move(tools);
    if (const auto* tc = req.if_contains("tool_choice"); tc && tc->is_object()) {
      const auto& c = tc->as_object();
      const auto type = str(c.if_contains("type"));
      if (type == "auto") chat["tool_choice"] = "auto";
      else if (type == "any") chat["tool_choice"] = "required";
      else if (type == "none") chat["tool_choice"] = "none";
      else if (type == "tool") {
        chat["tool_choice"] = json::object{{"type", "function"},
                                           {"function", json::object{{"name", out.tools.to_upstream(str(c.if_contains("name")))}}}};
      }
      if (const auto* d = c.if_contains("disable_parallel_tool_use"); d && d->is_bool() && d->as_bool()) {
        chat["parallel_tool_calls"] = false;
      }
    }
  }
  out.body = json::serialize(chat);
  return out;
}

}  // namespace sluice::translate
