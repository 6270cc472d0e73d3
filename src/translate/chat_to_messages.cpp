#include "translate/chat_to_messages.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "translate/names.hpp"

namespace sluice::translate {
namespace {

namespace json = boost::json;

Error invalid(std::string message) { return Error{ErrorKind::InvalidRequest, std::move(message), {}}; }

std::string_view str(const json::value* v) { return v && v->is_string() ? std::string_view(v->as_string()) : ""; }

// The text of a content value: a string, or its text parts joined.
std::string text_of(const json::value* v) {
  if (!v) return {};
  if (v->is_string()) return std::string(v->as_string());
  std::string out;
  if (!v->is_array()) return out;
  for (const auto& p : v->as_array()) {
    if (!p.is_object() || str(p.as_object().if_contains("type")) != "text") continue;
    if (!out.empty()) out += "\n";
    out += str(p.as_object().if_contains("text"));
  }
  return out;
}

// User content as Anthropic blocks.
Result<json::array> user_blocks(const json::value* content) {
  json::array out;
  if (!content || content->is_null()) return out;
  if (content->is_string()) {
    out.push_back(json::object{{"type", "text"}, {"text", content->as_string()}});
    return out;
  }
  if (!content->is_array()) return invalid("messages: content must be a string or an array of parts");
  for (const auto& p : content->as_array()) {
    if (!p.is_object()) continue;
    const auto& part = p.as_object();
    const auto type = str(part.if_contains("type"));
    if (type == "text") {
      out.push_back(json::object{{"type", "text"}, {"text", str(part.if_contains("text"))}});
    } else if (type == "image_url") {
      const auto* iu = part.if_contains("image_url");
      std::string_view url = iu && iu->is_object() ? str(iu->as_object().if_contains("url")) : str(iu);
      if (url.starts_with("data:")) {
        const auto semi = url.find(";base64,");
        if (semi == std::string_view::npos) return invalid("messages: image_url data URIs must be base64");
        out.push_back(json::object{{"type", "image"},
                                   {"source", json::object{{"type", "base64"},
                                                           {"media_type", url.substr(5, semi - 5)},
                                                           {"data", url.substr(semi + 8)}}}});
      } else {
        out.push_back(json::object{{"type", "image"}, {"source", json::object{{"type", "url"}, {"url", url}}}});
      }
    }
    // input_audio and file parts have no Messages form: left out.
  }
  return out;
}

void push(json::array& messages, const char* role, json::array blocks) {
  if (blocks.empty()) return;
  if (!messages.empty() && str(messages.back().as_object().if_contains("role")) == role) {
    auto& prev = messages.back().as_object()["content"].as_array();
    for (auto& b : blocks) prev.push_back(std::move(b));
    return;
  }
  messages.push_back(json::object{{"role", role}, {"content", std::move(blocks)}});
}

}  // namespace

Result<MessagesRequest> chat_to_messages(std::string_view chat_body, std::int64_t default_max_tokens) {
  boost::system::error_code ec;
  json::value root = json::parse(chat_body, ec);
  if (ec || !root.is_object()) return invalid("We could not parse the JSON body of your request.");
  const auto& req = root.as_object();
  MessagesRequest out;
  out.model = std::string(str(req.if_contains("model")));
  if (out.model.empty()) return invalid("you must provide a model parameter");
  const auto* msgs = req.if_contains("messages");
  if (!msgs || !msgs->is_array() || msgs->as_array().empty()) return invalid("messages: must be a non-empty array");
  if (const auto* n = req.if_contains("n"); n && n->is_int64() && n->as_int64() > 1) {
    return invalid("n: only 1 is supported by this gateway's Claude models");
  }

  std::string system;
  json::array messages;
  for (const auto& m : msgs->as_array()) {
    if (!m.is_object()) return invalid("messages: each message must be an object");
    const auto& o = m.as_object();
    const auto role = str(o.if_contains("role"));
    if (role == "system" || role == "developer") {
      const std::string t = text_of(o.if_contains("content"));
      if (!t.empty()) system += (system.empty() ? "" : "\n\n") + t;
    } else if (role == "user") {
      auto blocks = user_blocks(o.if_contains("content"));
      if (!blocks.ok()) return blocks.error();
      push(messages, "user", std::move(blocks.value()));
    } else if (role == "assistant") {
      json::array blocks;
      const std::string t = text_of(o.if_contains("content"));
      if (!t.empty()) blocks.push_back(json::object{{"type", "text"}, {"text", t}});
      if (const auto* calls = o.if_contains("tool_calls"); calls && calls->is_array()) {
        for (const auto& c : calls->as_array()) {
          if (!c.is_object()) continue;
          const auto* fn = c.as_object().if_contains("function");
          if (!fn || !fn->is_object()) continue;
          const auto args = str(fn->as_object().if_contains("arguments"));
          json::value input = json::object{};
          if (!args.empty()) {
            input = json::parse(args, ec);
            if (ec || !input.is_object()) return invalid("messages: tool_calls arguments must be a JSON object");
          }
          blocks.push_back(json::object{{"type", "tool_use"},
                                        {"id", tool_id_to_client(str(c.as_object().if_contains("id")))},
                                        {"name", str(fn->as_object().if_contains("name"))},
                                        {"input", std::move(input)}});
        }
      }
      push(messages, "assistant", std::move(blocks));
    } else if (role == "tool") {
      json::array blocks{json::object{{"type", "tool_result"},
                                      {"tool_use_id", tool_id_to_client(str(o.if_contains("tool_call_id")))},
                                      {"content", text_of(o.if_contains("content"))}}};
      push(messages, "user", std::move(blocks));
    } else {
      return invalid("messages: unsupported role '" + std::string(role) + "'");
    }
  }
  if (messages.empty()) return invalid("messages: at least one user or assistant message is required");

  json::object m;
  m["model"] = out.model;
  std::int64_t max_tokens = default_max_tokens;
  for (const char* field : {"max_completion_tokens", "max_tokens"}) {
    if (const auto* v = req.if_contains(field); v && v->is_int64()) {
      max_tokens = v->as_int64();
      break;
    }
  }
  m["max_tokens"] = max_tokens;
  if (!system.empty()) m["system"] = system;
  m["messages"] = std::move(messages);
  if (const auto* t = req.if_contains("temperature"); t && t->is_number()) m["temperature"] = std::min(t->to_number<double>(), 1.0);
  if (const auto* t = req.if_contains("top_p"); t && t->is_number()) m["top_p"] = *t;
  if (const auto* stop = req.if_contains("stop")) {
    if (stop->is_string()) m["stop_sequences"] = json::array{*stop};
    else if (stop->is_array() && !stop->as_array().empty()) m["stop_sequences"] = *stop;
  }
  if (const auto* u = req.if_contains("user"); u && u->is_string()) m["metadata"] = json::object{{"user_id", *u}};
  if (const auto* tools = req.if_contains("tools"); tools && tools->is_array() && !tools->as_array().empty()) {
    json::array out_tools;
    for (const auto& t : tools->as_array()) {
      const auto* fn = t.is_object() ? t.as_object().if_contains("function") : nullptr;
      if (!fn || !fn->is_object()) continue;
      const auto& f = fn->as_object();
      json::object tool{{"name", str(f.if_contains("name"))}};
      if (const auto* d = f.if_contains("description"); d && d->is_string()) tool["description"] = *d;
      const auto* params = f.if_contains("parameters");
      tool["input_schema"] = params && params->is_object() ? *params
                                                            : json::value(json::object{{"type", "object"}, {"properties", json::object{}}});
      out_tools.push_back(std::move(tool));
    }
    m["tools"] = std::move(out_tools);
    json::object choice{{"type", "auto"}};
    if (const auto* tc = req.if_contains("tool_choice")) {
      const auto s = str(tc);
      if (s == "required") choice = {{"type", "any"}};
      else if (s == "none") choice = {{"type", "none"}};
      else if (tc->is_object()) {
        const auto* fn = tc->as_object().if_contains("function");
        if (fn && fn->is_object()) choice = {{"type", "tool"}, {"name", str(fn->as_object().if_contains("name"))}};
      }
    }
    if (const auto* p = req.if_contains("parallel_tool_calls"); p && p->is_bool() && !p->as_bool()) {
      choice["disable_parallel_tool_use"] = true;
    }
    m["tool_choice"] = std::move(choice);
  }
  if (const auto* s = req.if_contains("stream"); s && s->is_bool() && s->as_bool()) {
    out.stream = true;
    m["stream"] = true;
    if (const auto* so = req.if_contains("stream_options"); so && so->is_object()) {
      const auto* iu = so->as_object().if_contains("include_usage");
      out.include_usage = iu && iu->is_bool() && iu->as_bool();
    }
  }
  out.body = json::serialize(m);
  return out;
}

}  // namespace sluice::translate
