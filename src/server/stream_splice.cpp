#include "server/stream_splice.hpp"

#include <algorithm>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sluice::server {

namespace json = boost::json;

namespace {

std::int64_t int_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_int64() ? v->as_int64() : v && v->is_uint64() ? static_cast<std::int64_t>(v->as_uint64()) : 0;
}

std::string_view string_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

std::optional<json::object> parse_object(std::string_view data) {
  boost::system::error_code ec;
  json::value v = json::parse(data, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

// A block index as the splicer takes it: a negative or absurd one (garbage from an upstream) is 0.
int block_index(const json::object& o) {
  std::int64_t raw = int_at(o, "index");
  return raw < 0 || raw > 1'000'000 ? 0 : static_cast<int>(raw);
}

void read_usage(const json::object& usage, stages::meter::Usage& u) {
  u.input_tokens = int_at(usage, "input_tokens");
  u.cache_creation_tokens = int_at(usage, "cache_creation_input_tokens");
  u.cache_read_tokens = int_at(usage, "cache_read_input_tokens");
  u.output_tokens = int_at(usage, "output_tokens");
}

}  // namespace

void StreamSplice::observe(std::string_view type, std::string_view data) {
  if (type == "message_start") {
    saw_start_ = true;
    if (auto o = parse_object(data)) {
      if (const auto* m = o->if_contains("message"); m && m->is_object()) {
        if (const auto* u = m->as_object().if_contains("usage"); u && u->is_object()) read_usage(u->as_object(), current_);
      }
    }
  } else if (type == "content_block_start") {
    auto o = parse_object(data);
    if (!o) return;
    int index = block_index(*o);
    open_index_ = index;
    last_index_ = std::max(last_index_, index);
    const auto* block = o->if_contains("content_block");
    auto type_of_block = block && block->is_object() ? string_at(block->as_object(), "type") : std::string_view();
    open_text_ = type_of_block == "text";
    if (type_of_block == "thinking" || type_of_block == "redacted_thinking") {
      thinking_ = true;  // carried by the client already; the continuation thinks no more
    } else if (!open_text_) {
      non_text_ = true;  // a tool call, a server tool's result: no prefill carries them
    }
  } else if (type == "content_block_delta") {
    auto o = parse_object(data);
    if (!o) return;
    last_index_ = std::max(last_index_, block_index(*o));
    const auto* delta = o->if_contains("delta");
    if (!delta || !delta->is_object()) return;
    const auto& d = delta->as_object();
    auto delta_type = string_at(d, "type");
    if (delta_type == "text_delta") {
      auto t = string_at(d, "text");
      text_.append(t);
      current_text_bytes_ += static_cast<std::int64_t>(t.size());
    } else if (delta_type == "thinking_delta" || delta_type == "signature_delta") {
      current_text_bytes_ += static_cast<std::int64_t>(string_at(d, delta_type == "thinking_delta" ? "thinking" : "signature").size());
    } else {
      non_text_ = true;  // a tool's input, a citation: no prefill carries it
    }
  } else if (type == "content_block_stop") {
    if (auto o = parse_object(data)) last_index_ = std::max(last_index_, block_index(*o));
    open_index_ = -1;
    open_text_ = false;
  } else if (type == "message_delta" || type == "message_stop") {
    finished_ = true;
  }
}

const char* StreamSplice::blocker() const {
  if (!saw_start_) return "the stream had not started";
  if (finished_) return "the stream had ended";
  if (non_text_) return "a tool_use block cannot be carried by a prefill";
  if (open_index_ >= 0 && !open_text_) return "a thinking block was open";
  return nullptr;
}

std::int64_t StreamSplice::output_so_far() const {
  return prior_.output_tokens + std::max(current_.output_tokens, stages::meter::estimate_tokens(current_text_bytes_));
}

void StreamSplice::begin(int attempt) {
  prior_.input_tokens += current_.input_tokens;
  prior_.cache_creation_tokens += current_.cache_creation_tokens;
  prior_.cache_read_tokens += current_.cache_read_tokens;
  prior_.output_tokens = output_so_far();
  current_ = {};
  current_text_bytes_ = 0;
  attempt_ = attempt;
  parser_.reset();
  first_block_seen_ = false;
  held_start_.clear();
  join_open_block_ = open_index_ >= 0;
  base_ = join_open_block_ ? open_index_ : last_index_ + 1;
  comment_ = ": sluice recovered the broken upstream stream; attempt " + std::to_string(attempt) + " continues it\n\n";
}

void StreamSplice::feed(std::string_view chunk, std::string& out) {
  out_ = &out;
  parser_.feed(chunk, *this);
  out_ = nullptr;
}

void StreamSplice::emit(std::string& out, std::string_view type, std::string_view data) {
  if (!comment_.empty()) {
    out += comment_;
    comment_.clear();
  }
  stream::append_event(out, type, data);
}

void StreamSplice::on_event(const stream::SseEvent& ev) {
  std::string& out = *out_;
  if (ev.type == "message_start") {
    // One message_start per client stream; this attempt's usage is added up at the end.
    if (auto o = parse_object(ev.data)) {
      if (const auto* m = o->if_contains("message"); m && m->is_object()) {
        if (const auto* u = m->as_object().if_contains("usage"); u && u->is_object()) read_usage(u->as_object(), current_);
      }
    }
    return;
  }
  const bool indexed = ev.type == "content_block_start" || ev.type == "content_block_delta" || ev.type == "content_block_stop";
  if (indexed) {
    auto o = parse_object(ev.data);
    if (!o) {
      emit(out, ev.type, ev.data);  // the relay's watcher judges it
      return;
    }
    int j = block_index(*o);
    if (ev.type == "content_block_start" && j == 0 && join_open_block_ && !first_block_seen_) {
      first_block_seen_ = true;
      const auto* block = o->if_contains("content_block");
      bool text = block && block->is_object() && string_at(block->as_object(), "type") == "text";
      if (text) return;  // the client's open text block goes on
      // Something else first: the client's text block ends here, the new block comes after it.
      std::string stop = R"({"type":"content_block_stop","index":)" + std::to_string(base_) + "}";
      emit(out, "content_block_stop", stop);
      ++base_;
      join_open_block_ = false;
    }
    (*o)["index"] = base_ + j;
    if (ev.type == "content_block_start") {
      const auto* block = o->if_contains("content_block");
      if (block && block->is_object() && string_at(block->as_object(), "type") == "text") {
        // Held until its first delta: a continuation that adds nothing (the break came between
        // blocks, and the model has no more to say) leaves no empty block behind.
        held_start_ = json::serialize(*o);
        held_index_ = j;
        return;
      }
    } else if (!held_start_.empty() && j == held_index_) {
      if (ev.type == "content_block_stop") {
        held_start_.clear();
        return;
      }
      emit(out, "content_block_start", held_start_);
      held_start_.clear();
    }
    emit(out, ev.type, json::serialize(*o));
    return;
  }
  if (ev.type == "message_delta") {
    auto o = parse_object(ev.data);
    if (!o) {
      emit(out, ev.type, ev.data);
      return;
    }
    // The honest total: every attempt's input and cache tokens, and every attempt's output.
    stages::meter::Usage last = current_;
    if (const auto* u = o->if_contains("usage"); u && u->is_object()) {
      const auto& uo = u->as_object();
      if (uo.contains("input_tokens")) last.input_tokens = int_at(uo, "input_tokens");
      if (uo.contains("cache_creation_input_tokens")) last.cache_creation_tokens = int_at(uo, "cache_creation_input_tokens");
      if (uo.contains("cache_read_input_tokens")) last.cache_read_tokens = int_at(uo, "cache_read_input_tokens");
      last.output_tokens = int_at(uo, "output_tokens");
    }
    json::value& usage_value = (*o)["usage"];
    if (!usage_value.is_object()) usage_value.emplace_object();
    json::object& usage = usage_value.as_object();
    usage["input_tokens"] = prior_.input_tokens + last.input_tokens;
    usage["cache_creation_input_tokens"] = prior_.cache_creation_tokens + last.cache_creation_tokens;
    usage["cache_read_input_tokens"] = prior_.cache_read_tokens + last.cache_read_tokens;
    usage["output_tokens"] = prior_.output_tokens + last.output_tokens;
    emit(out, ev.type, json::serialize(*o));
    return;
  }
  emit(out, ev.type, ev.data);
}

std::string continuation_body(std::string_view body, std::string_view prefill, std::int64_t output_so_far,
                              bool drop_thinking) {
  auto o = parse_object(body);
  if (!o) return {};
  // The client has the thinking already; a prefill cannot follow extended thinking.
  if (drop_thinking) o->erase("thinking");
  auto* messages = o->if_contains("messages");
  if (!messages || !messages->is_array()) return {};
  auto& list = messages->as_array();
  std::string_view text = prefill;
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (!text.empty()) {
    bool appended = false;
    if (!list.empty() && list.back().is_object() && string_at(list.back().as_object(), "role") == "assistant") {
      // The client's own prefill: the model's text continues it.
      auto& content = list.back().as_object()["content"];
      if (content.is_string()) {
        std::string joined(content.as_string());
        joined.append(text);
        content = joined;
        appended = true;
      } else if (content.is_array()) {
        content.as_array().push_back(json::object{{"type", "text"}, {"text", text}});
        appended = true;
      }
    }
    if (!appended) list.push_back(json::object{{"role", "assistant"}, {"content", text}});
  }
  if (const auto* mt = o->if_contains("max_tokens"); mt && (mt->is_int64() || mt->is_uint64())) {
    std::int64_t max_tokens = int_at(*o, "max_tokens");
    (*o)["max_tokens"] = std::max<std::int64_t>(1, max_tokens - output_so_far);
  }
  (*o)["stream"] = true;
  return json::serialize(*o);
}

}  // namespace sluice::server
