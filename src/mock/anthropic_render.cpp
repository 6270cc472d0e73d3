#include "mock/anthropic_render.hpp"

#include "mock/json_text.hpp"
#include "mock/token_count.hpp"
#include "providers/anthropic/error_body.hpp"

namespace sluice::mock {
namespace {

void append_usage(std::string& out, const Usage& u, std::uint64_t output_tokens, bool full) {
  out.append("{\"input_tokens\":");
  append_uint(out, u.input_tokens);
  out.append(",\"cache_creation_input_tokens\":");
  append_uint(out, u.cache_creation_input_tokens);
  out.append(",\"cache_read_input_tokens\":");
  append_uint(out, u.cache_read_input_tokens);
  if (full) {
    out.append(",\"cache_creation\":{\"ephemeral_5m_input_tokens\":");
    append_uint(out, u.cache_creation_input_tokens);
    out.append(",\"ephemeral_1h_input_tokens\":0}");
  }
  out.append(",\"output_tokens\":");
  append_uint(out, output_tokens);
  if (full) out.append(",\"service_tier\":\"standard\"");
  out.push_back('}');
}

// The Message object up to (not including) the content array's elements.
void append_message_head(std::string& out, std::string_view id, std::string_view model) {
  out.append("{\"id\":");
  append_json_string(out, id);
  out.append(",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
  append_json_string(out, model);
  out.append(",\"content\":[");
}

void append_stop(std::string& out, const ReplyPlan& plan) {
  out.append("\"stop_reason\":\"");
  out.append(anthropic_stop_reason(plan.stop_reason));
  out.append("\",\"stop_sequence\":");
  if (plan.stop_reason == StopReason::StopSequence) {
    append_json_string(out, plan.stop_sequence);
  } else {
    out.append("null");
  }
}

void begin_event(SseEvents& ev, std::string_view name) {
  ev.open();
  ev.bytes.append("event: ");
  ev.bytes.append(name);
  ev.bytes.append("\ndata: ");
}

void end_event(SseEvents& ev, std::uint32_t tokens = 0) {
  ev.bytes.append("\n\n");
  ev.close(tokens);
}

void delta_prefix(SseEvents& ev, std::size_t index, const char* delta_type) {
  begin_event(ev, "content_block_delta");
  ev.bytes.append("{\"type\":\"content_block_delta\",\"index\":");
  append_uint(ev.bytes, index);
  ev.bytes.append(",\"delta\":{\"type\":\"");
  ev.bytes.append(delta_type);
  ev.bytes.append("\",\"");
}

void text_deltas(SseEvents& ev, std::size_t index, const char* delta_type, const char* field,
                 std::string_view text) {
  for (auto piece : split_pieces(text)) {
    delta_prefix(ev, index, delta_type);
    ev.bytes.append(field);
    ev.bytes.append("\":");
    append_json_string(ev.bytes, piece);
    ev.bytes.append("}}");
    end_event(ev, 1);
  }
}

}  // namespace

std::vector<std::string_view> json_fragments(std::string_view json) {
  std::vector<std::string_view> out{std::string_view()};
  const std::size_t parts = json.size() < 8 ? 1 : (json.size() < 32 ? 2 : 3);
  std::size_t begin = 0;
  for (std::size_t k = 1; k <= parts; ++k) {
    std::size_t end = json.size() * k / parts;
    while (end < json.size() && (static_cast<unsigned char>(json[end]) & 0xC0) == 0x80) ++end;
    if (end > begin) out.push_back(json.substr(begin, end - begin));
    begin = end;
  }
  return out;
}

std::string render_anthropic_message(const ReplyPlan& plan, std::string_view message_id,
                                     std::string_view model) {
  std::string out;
  out.reserve(512);
  append_message_head(out, message_id, model);
  bool first = true;
  for (const auto& b : plan.blocks) {
    if (!first) out.push_back(',');
    first = false;
    switch (b.kind) {
      case BlockKind::Thinking:
        out.append("{\"type\":\"thinking\",\"thinking\":");
        append_json_string(out, b.text);
        out.append(",\"signature\":");
        append_json_string(out, b.signature);
        out.push_back('}');
        break;
      case BlockKind::Text:
        out.append("{\"type\":\"text\",\"text\":");
        append_json_string(out, b.text);
        out.push_back('}');
        break;
      case BlockKind::ToolUse:
        out.append("{\"type\":\"tool_use\",\"id\":");
        append_json_string(out, b.id);
        out.append(",\"name\":");
        append_json_string(out, b.name);
        out.append(",\"input\":");
        out.append(b.text);
        out.push_back('}');
        break;
    }
  }
  out.append("],");
  append_stop(out, plan);
  out.append(",\"usage\":");
  append_usage(out, plan.usage, plan.usage.output_tokens, true);
  out.push_back('}');
  return out;
}

SseEvents render_anthropic_stream(const ReplyPlan& plan, std::string_view message_id,
                                  std::string_view model) {
  SseEvents ev;
  ev.bytes.reserve(1024 + 160 * plan.usage.output_tokens);
  ev.items.reserve(8 + plan.usage.output_tokens);

  begin_event(ev, "message_start");
  ev.bytes.append("{\"type\":\"message_start\",\"message\":");
  append_message_head(ev.bytes, message_id, model);
  ev.bytes.append("],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":");
  append_usage(ev.bytes, plan.usage, 1, true);
  ev.bytes.append("}}");
  end_event(ev);

  for (std::size_t i = 0; i < plan.blocks.size(); ++i) {
    const Block& b = plan.blocks[i];
    begin_event(ev, "content_block_start");
    ev.bytes.append("{\"type\":\"content_block_start\",\"index\":");
    append_uint(ev.bytes, i);
    ev.bytes.append(",\"content_block\":");
    switch (b.kind) {
      case BlockKind::Thinking: ev.bytes.append("{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}"); break;
      case BlockKind::Text: ev.bytes.append("{\"type\":\"text\",\"text\":\"\"}}"); break;
      case BlockKind::ToolUse:
        ev.bytes.append("{\"type\":\"tool_use\",\"id\":");
        append_json_string(ev.bytes, b.id);
        ev.bytes.append(",\"name\":");
        append_json_string(ev.bytes, b.name);
        ev.bytes.append(",\"input\":{}}}");
        break;
    }
    end_event(ev);
    if (i == 0) {
      begin_event(ev, "ping");
      ev.bytes.append("{\"type\": \"ping\"}");
      end_event(ev);
    }

    switch (b.kind) {
      case BlockKind::Thinking:
        text_deltas(ev, i, "thinking_delta", "thinking", b.text);
        delta_prefix(ev, i, "signature_delta");
        ev.bytes.append("signature\":");
        append_json_string(ev.bytes, b.signature);
        ev.bytes.append("}}");
        // Hidden thinking is billed but not shown: its tokens pace the signature.
        end_event(ev, b.text.empty() ? static_cast<std::uint32_t>(b.tokens) : 0);
        break;
      case BlockKind::Text: text_deltas(ev, i, "text_delta", "text", b.text); break;
      case BlockKind::ToolUse: {
        const auto frags = json_fragments(b.text);
        std::uint64_t left = b.tokens;
        for (std::size_t k = 0; k < frags.size(); ++k) {
          delta_prefix(ev, i, "input_json_delta");
          ev.bytes.append("partial_json\":");
          append_json_string(ev.bytes, frags[k]);
          ev.bytes.append("}}");
          // Spread the tool's tokens over the non-empty fragments.
          const std::uint64_t share = k == 0 ? 0 : (k + 1 == frags.size() ? left : b.tokens / (frags.size() - 1));
          left -= share;
          end_event(ev, static_cast<std::uint32_t>(share));
        }
        break;
      }
    }

    begin_event(ev, "content_block_stop");
    ev.bytes.append("{\"type\":\"content_block_stop\",\"index\":");
    append_uint(ev.bytes, i);
    ev.bytes.push_back('}');
    end_event(ev);
  }

  begin_event(ev, "message_delta");
  ev.bytes.append("{\"type\":\"message_delta\",\"delta\":{");
  append_stop(ev.bytes, plan);
  ev.bytes.append("},\"usage\":");
  append_usage(ev.bytes, plan.usage, plan.usage.output_tokens, false);
  ev.bytes.push_back('}');
  end_event(ev);

  begin_event(ev, "message_stop");
  ev.bytes.append("{\"type\":\"message_stop\"}");
  end_event(ev);
  return ev;
}

std::string render_anthropic_error_event(std::string_view type, std::string_view message) {
  std::string out = "event: error\ndata: ";
  out.append(providers::anthropic::error_event_data(type, message));
  out.append("\n\n");
  return out;
}

std::string_view anthropic_malformed_events() {
  return "event: ping\ndata: {\"type\": \"ping\", this is not JSON\n\n"
         "data: {\"type\":\"ping\"}\n\n";
}

}  // namespace sluice::mock
