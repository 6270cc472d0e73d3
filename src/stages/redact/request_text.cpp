#include "stages/redact/request_text.hpp"

#include <cstring>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <simdjson.h>

#include "common/padded_json.hpp"

namespace sluice::stages::redact {

namespace {

namespace json = boost::json;

void add_count(RequestRedaction& r, std::string_view type, int n) {
  for (auto& [t, c] : r.counts) {
    if (t == type) {
      c += n;
      return;
    }
  }
  r.counts.emplace_back(std::string(type), n);
}

// ---- the cheap pass: simdjson, read only --------------------------------------------------

struct Probe {
  const Engine& engine;
  RequestRedaction result;
  bool needs_rewrite = false;

  void text(std::string_view s) {
    for (const auto& f : engine.scan(s)) {
      add_count(result, f.type, 1);
      if (f.action == Action::Block && !result.blocked) {
        result.blocked = true;
        result.blocked_type = std::string(f.type);
      }
      if (f.action != Action::Log) needs_rewrite = true;
    }
  }
  // A string, or an array of blocks whose text blocks (and tool_result contents) are read.
  void content(simdjson::dom::element v, bool openai) {
    std::string_view s;
    if (v.get_string().get(s) == simdjson::SUCCESS) {
      text(s);
      return;
    }
    simdjson::dom::array blocks;
    if (v.get_array().get(blocks) != simdjson::SUCCESS) return;
    for (auto block : blocks) {
      std::string_view type;
      if (block["type"].get_string().get(type) != simdjson::SUCCESS) continue;
      if (type == "text") {
        if (block["text"].get_string().get(s) == simdjson::SUCCESS) text(s);
      } else if (!openai && type == "tool_result") {
        simdjson::dom::element inner;
        if (block["content"].get(inner) == simdjson::SUCCESS) content(inner, false);
      }
    }
  }
};

// ---- the rewrite: Boost.JSON, only when something must change ------------------------------

struct Rewriter {
  const Engine& engine;
  RequestRedaction& result;  // its counts are rebuilt from what redact() did (it may find more
                             // than the probe's scan: it re-scans after each replacement)

  void text(json::value& v) {
    std::string s(v.as_string());
    auto outcome = engine.redact(s);
    for (const auto& c : outcome.counts) add_count(result, c.type, c.count);
    if (outcome.changed) v = s;
  }
  void content(json::value& v, bool openai) {
    if (v.is_string()) {
      text(v);
      return;
    }
    if (!v.is_array()) return;
    for (auto& block : v.as_array()) {
      if (!block.is_object()) continue;
      auto& o = block.as_object();
      const auto* type = o.if_contains("type");
      if (!type || !type->is_string()) continue;
      if (*type == "text") {
        if (auto* t = o.if_contains("text"); t && t->is_string()) text(*t);
      } else if (!openai && *type == "tool_result") {
        if (auto* inner = o.if_contains("content")) content(*inner, false);
      }
    }
  }
};

}  // namespace

int RequestRedaction::total() const {
  int n = 0;
  for (const auto& [type, c] : counts) n += c;
  return n;
}

RequestRedaction redact_request(std::string& body, BodyDialect dialect, const Engine& engine) {
  const bool openai = dialect == BodyDialect::OpenAI;
  simdjson::dom::element doc;
  if (parse_padded(body, doc) != simdjson::SUCCESS) return {};
  Probe probe{engine, {}};
  simdjson::dom::element v;
  if (!openai && doc["system"].get(v) == simdjson::SUCCESS) probe.content(v, false);
  simdjson::dom::array messages;
  if (doc["messages"].get_array().get(messages) == simdjson::SUCCESS) {
    for (auto m : messages) {
      if (m["content"].get(v) == simdjson::SUCCESS) probe.content(v, openai);
    }
  }
  RequestRedaction result = std::move(probe.result);
  if (!probe.needs_rewrite || result.blocked) return result;

  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec || !root.is_object()) return result;
  result.counts.clear();
  Rewriter rw{engine, result};
  auto& o = root.as_object();
  if (!openai) {
    if (auto* system = o.if_contains("system")) rw.content(*system, false);
  }
  if (auto* msgs = o.if_contains("messages"); msgs && msgs->is_array()) {
    for (auto& m : msgs->as_array()) {
      if (!m.is_object()) continue;
      if (auto* c = m.as_object().if_contains("content")) rw.content(*c, openai);
    }
  }
  body = json::serialize(root);
  result.changed = true;
  return result;
}

}  // namespace sluice::stages::redact
