#include "mock/openai_render.hpp"

#include "mock/anthropic_render.hpp"
#include "mock/json_text.hpp"
#include "mock/token_count.hpp"
#include "providers/openai/error_body.hpp"

namespace sluice::mock {
namespace {

void append_usage(std::string& out, const ReplyPlan& plan) {
  const Usage& u = plan.usage;
  const std::uint64_t prompt = u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens;
  out.append("{\"prompt_tokens\":");
  append_uint(out, prompt);
  out.append(",\"completion_tokens\":");
  append_uint(out, u.output_tokens);
  out.append(",\"total_tokens\":");
  append_uint(out, prompt + u.output_tokens);
  out.append(",\"prompt_tokens_details\":{\"cached_tokens\":");
  append_uint(out, u.cache_read_input_tokens);
  out.append(",\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":");
  append_uint(out, plan.thinking_tokens());
  out.append(",\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}");
}

void append_head(std::string& out, const ChatMeta& meta, const char* object) {
  out.append("{\"id\":");
  append_json_string(out, meta.id);
  out.append(",\"object\":\"");
  out.append(object);
  out.append("\",\"created\":");
  append_int(out, meta.created);
  out.append(",\"model\":");
  append_json_string(out, meta.model);
}

// Writes chunks that share their envelope; only the choice (or usage) differs.
class ChunkWriter {
 public:
  ChunkWriter(SseEvents& ev, const ChatMeta& meta) : ev_(ev), usage_null_(meta.include_usage) {
    append_head(prefix_, meta, "chat.completion.chunk");
    prefix_.append(",\"system_fingerprint\":\"fp_sluice_mock\",\"choices\":[");
  }
  // Opens a chunk and its choice up to the inside of "delta":{.
  void open_delta() {
    ev_.open();
    ev_.bytes.append("data: ");
    ev_.bytes.append(prefix_);
    ev_.bytes.append("{\"index\":0,\"delta\":{");
  }
  // Closes the delta and the chunk.
  void close_delta(const char* finish_reason = nullptr, std::uint32_t tokens = 0) {
    ev_.bytes.append("},\"logprobs\":null,\"finish_reason\":");
    if (finish_reason) {
      ev_.bytes.push_back('"');
      ev_.bytes.append(finish_reason);
      ev_.bytes.push_back('"');
    } else {
      ev_.bytes.append("null");
    }
    ev_.bytes.append(usage_null_ ? "}],\"usage\":null}\n\n" : "}]}\n\n");
    ev_.close(tokens);
  }
  void usage_chunk(const ReplyPlan& plan) {
    ev_.open();
    ev_.bytes.append("data: ");
    ev_.bytes.append(prefix_);
    ev_.bytes.append("],\"usage\":");
    append_usage(ev_.bytes, plan);
    ev_.bytes.append("}\n\n");
    ev_.close();
  }
  void done() {
    ev_.open();
    ev_.bytes.append("data: [DONE]\n\n");
    ev_.close();
  }

 private:
  SseEvents& ev_;
  bool usage_null_;
  std::string prefix_;
};

}  // namespace

std::string render_chat_completion(const ReplyPlan& plan, const ChatMeta& meta) {
  std::string out;
  out.reserve(768);
  append_head(out, meta, "chat.completion");
  out.append(",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":");
  std::string_view text;
  bool has_text = false;
  bool has_tools = false;
  for (const auto& b : plan.blocks) {
    if (b.kind == BlockKind::Text) {
      text = b.text;
      has_text = true;
    }
    if (b.kind == BlockKind::ToolUse) has_tools = true;
  }
  if (has_text || !has_tools) {
    append_json_string(out, text);
  } else {
    out.append("null");
  }
  for (const auto& b : plan.blocks) {
    if (b.kind != BlockKind::Thinking) continue;
    out.append(",\"reasoning_content\":");
    append_json_string(out, b.text);
  }
  out.append(",\"refusal\":null,\"annotations\":[]");
  if (has_tools) {
    out.append(",\"tool_calls\":[");
    bool first = true;
    for (const auto& b : plan.blocks) {
      if (b.kind != BlockKind::ToolUse) continue;
      if (!first) out.push_back(',');
      first = false;
      out.append("{\"id\":");
      append_json_string(out, b.id);
      out.append(",\"type\":\"function\",\"function\":{\"name\":");
      append_json_string(out, b.name);
      out.append(",\"arguments\":");
      append_json_string(out, b.text);
      out.append("}}");
    }
    out.push_back(']');
  }
  out.append("},\"logprobs\":null,\"finish_reason\":\"");
  out.append(openai_finish_reason(plan.stop_reason));
  out.append("\"}],\"usage\":");
  append_usage(out, plan);
  out.append(",\"service_tier\":\"default\",\"system_fingerprint\":\"fp_sluice_mock\"}");
  return out;
}

SseEvents render_chat_chunks(const ReplyPlan& plan, const ChatMeta& meta) {
  SseEvents ev;
  ev.bytes.reserve(1024 + 280 * plan.usage.output_tokens);
  ev.items.reserve(6 + plan.usage.output_tokens);
  ChunkWriter w(ev, meta);

  w.open_delta();
  ev.bytes.append("\"role\":\"assistant\",\"content\":\"\",\"refusal\":null");
  w.close_delta();

  std::size_t tool_index = 0;
  for (const auto& b : plan.blocks) {
    switch (b.kind) {
      case BlockKind::Thinking:
      case BlockKind::Text: {
        const char* field = b.kind == BlockKind::Thinking ? "\"reasoning_content\":" : "\"content\":";
        for (auto piece : split_pieces(b.text)) {
          w.open_delta();
          ev.bytes.append(field);
          append_json_string(ev.bytes, piece);
          w.close_delta(nullptr, 1);
        }
        break;
      }
      case BlockKind::ToolUse: {
        w.open_delta();
        ev.bytes.append("\"tool_calls\":[{\"index\":");
        append_uint(ev.bytes, tool_index);
        ev.bytes.append(",\"id\":");
        append_json_string(ev.bytes, b.id);
        ev.bytes.append(",\"type\":\"function\",\"function\":{\"name\":");
        append_json_string(ev.bytes, b.name);
        ev.bytes.append(",\"arguments\":\"\"}}]");
        w.close_delta();
        const auto frags = json_fragments(b.text);
        std::uint64_t left = b.tokens;
        for (std::size_t k = 1; k < frags.size(); ++k) {
          w.open_delta();
          ev.bytes.append("\"tool_calls\":[{\"index\":");
          append_uint(ev.bytes, tool_index);
          ev.bytes.append(",\"function\":{\"arguments\":");
          append_json_string(ev.bytes, frags[k]);
          ev.bytes.append("}}]");
          const std::uint64_t share = k + 1 == frags.size() ? left : b.tokens / (frags.size() - 1);
          left -= share;
          w.close_delta(nullptr, static_cast<std::uint32_t>(share));
        }
        ++tool_index;
        break;
      }
    }
  }

  w.open_delta();
  w.close_delta(openai_finish_reason(plan.stop_reason));
  if (meta.include_usage) w.usage_chunk(plan);
  w.done();
  return ev;
}

std::string render_chat_error_event(std::string_view message, std::string_view type) {
  std::string out = "data: ";
  out.append(providers::openai::error_body(message, type, nullptr, {}));
  out.append("\n\n");
  return out;
}

std::string_view chat_malformed_events() { return "data: {\"id\": this is not JSON\n\n"; }

}  // namespace sluice::mock
