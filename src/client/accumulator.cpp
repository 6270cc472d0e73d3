#include "client/accumulator.hpp"

#include <boost/json/parse.hpp>

#include "client/codec.hpp"

namespace sluice::client {

namespace json = boost::json;

namespace {
std::optional<std::size_t> index_of(const json::object& o) {
  auto* v = o.if_contains("index");
  if (!v) return std::nullopt;
  if (v->is_uint64()) return static_cast<std::size_t>(v->get_uint64());
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::size_t>(v->get_int64());
  return std::nullopt;
}

std::string_view str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v && v->is_string()) return v->get_string();
  return {};
}
}  // namespace

MessageAccumulator::MessageAccumulator(const StreamCallbacks& cb, int status, std::string request_id)
    : cb_(cb), status_(status) {
  message_.request_id = std::move(request_id);
  error_.request_id = message_.request_id;
}

MessageAccumulator::State MessageAccumulator::fail(std::string message) {
  error_.kind = ErrorKind::InvalidResponse;
  error_.status = status_;
  error_.message = std::move(message);
  state_ = State::Failed;
  return state_;
}

MessageAccumulator::State MessageAccumulator::feed(std::string_view event, std::string_view data) {
  if (state_ != State::Open) return state_;
  if (event == "ping") return state_;
  if (event == "error") {
    error_ = codec::stream_error(data, status_, message_.request_id);
    state_ = State::Failed;
    return state_;
  }
  bool known = event == "message_start" || event == "message_delta" || event == "message_stop" ||
               event == "content_block_start" || event == "content_block_delta" ||
               event == "content_block_stop";
  if (!known) {
    if (cb_.on_unknown_event) cb_.on_unknown_event(event, data);
    return state_;
  }
  boost::system::error_code ec;
  auto v = json::parse(data, ec);
  if (ec || !v.is_object()) return fail("stream event " + std::string(event) + " is not a JSON object");
  const auto& o = v.get_object();
  if (event == "message_start") {
    // As the SDKs' accumulators: one message per stream.
    if (started_) return fail("unexpected event order: a second message_start");
    auto* m = o.if_contains("message");
    auto parsed = m && m->is_object() ? codec::message_from_json(m->get_object()) : std::nullopt;
    if (!parsed) return fail("message_start without a message");
    auto request_id = std::move(message_.request_id);
    message_ = std::move(*parsed);
    message_.request_id = std::move(request_id);
    message_.content.clear();
    started_ = true;
    if (cb_.on_message_start) cb_.on_message_start(message_);
    if (cb_.on_usage) cb_.on_usage(message_.usage);
    return state_;
  }
  if (!started_) return fail("unexpected event order: " + std::string(event) + " before message_start");
  if (event == "message_stop") {
    state_ = State::Stopped;
    if (cb_.on_stop) cb_.on_stop(message_);
    return state_;
  }
  if (event == "message_delta") {
    if (auto* d = o.if_contains("delta"); d && d->is_object()) {
      const auto& delta = d->get_object();
      if (auto* r = delta.if_contains("stop_reason"); r && r->is_string()) message_.stop_reason = r->get_string();
      if (auto* s = delta.if_contains("stop_sequence"); s && s->is_string()) {
        message_.stop_sequence = s->get_string();
      }
      for (const auto& [k, val] : delta) {
        if (k != "stop_reason" && k != "stop_sequence") message_.extra[k] = val;
      }
    }
    if (auto* u = o.if_contains("usage"); u && u->is_object()) codec::overlay_usage(message_.usage, u->get_object());
    if (cb_.on_usage) cb_.on_usage(message_.usage);
    return state_;
  }
  auto index = index_of(o);
  if (!index) return fail(std::string(event) + " without an index");
  if (event == "content_block_start") {
    auto* b = o.if_contains("content_block");
    if (!b || !b->is_object()) return fail("content_block_start without a content_block");
    return on_block_start(*index, b->get_object());
  }
  if (*index >= message_.content.size()) return fail(std::string(event) + " for a block that was not started");
  if (event == "content_block_delta") {
    auto* d = o.if_contains("delta");
    if (!d || !d->is_object()) return fail("content_block_delta without a delta");
    return on_block_delta(*index, d->get_object());
  }
  return on_block_stop(*index);
}

MessageAccumulator::State MessageAccumulator::on_block_start(std::size_t index, const json::object& block) {
  if (index != message_.content.size()) return fail("content_block_start out of order");
  message_.content.push_back(codec::block_from_json(block));
  partial_json_.emplace_back();
  if (cb_.on_block_start) cb_.on_block_start(index, message_.content.back());
  return state_;
}

MessageAccumulator::State MessageAccumulator::on_block_delta(std::size_t index, const json::object& delta) {
  auto& block = message_.content[index];
  auto type = str(delta, "type");
  // A delta applies only to its kind of block, as in the SDKs' accumulators; a mismatched one
  // (a text_delta for a tool_use block) is dropped rather than delivered.
  bool is_tool = block.type == "tool_use" || block.type == "server_tool_use";
  if (type == "text_delta" && block.type == "text") {
    auto text = str(delta, "text");
    block.text.append(text);
    if (cb_.on_text) cb_.on_text(index, text);
  } else if (type == "input_json_delta" && is_tool) {
    auto part = str(delta, "partial_json");
    partial_json_[index].append(part);
    if (cb_.on_input_json) cb_.on_input_json(index, part);
  } else if (type == "thinking_delta" && block.type == "thinking") {
    auto text = str(delta, "thinking");
    block.thinking.append(text);
    if (cb_.on_thinking) cb_.on_thinking(index, text);
  } else if (type == "signature_delta" && block.type == "thinking") {
    auto sig = str(delta, "signature");
    block.signature.append(sig);
    if (cb_.on_signature) cb_.on_signature(index, sig);
  } else if (type == "citations_delta") {
    if (auto* c = delta.if_contains("citation")) {
      auto& list = block.extra["citations"];
      if (!list.is_array()) list = json::array{};
      list.get_array().push_back(*c);
    }
  }
  // Other delta types are new to this version: tolerated, as the API's versioning asks.
  return state_;
}

MessageAccumulator::State MessageAccumulator::on_block_stop(std::size_t index) {
  auto& block = message_.content[index];
  if (block.type == "tool_use" || block.type == "server_tool_use") {
    const auto& text = partial_json_[index];
    if (!text.empty()) {
      boost::system::error_code ec;
      auto input = json::parse(text, ec);
      if (ec) return fail("tool_use input of block " + std::to_string(index) + " is not valid JSON");
      block.input = std::move(input);
    }
  }
  if (cb_.on_block_stop) cb_.on_block_stop(index, block);
  return state_;
}

}  // namespace sluice::client
