#include "mock/reply_plan.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/ids.hpp"
#include "mock/json_text.hpp"
#include "mock/token_count.hpp"

namespace sluice::mock {
namespace {

namespace json = boost::json;

constexpr std::size_t kEchoBytes = 200;        // user text echoed in a plain reply
constexpr std::size_t kToolResultBytes = 100;  // tool result text echoed after a tool call

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Position of the first whole-word occurrence of `word` in `text`, or npos.
std::size_t find_word(std::string_view text, std::string_view word) {
  if (word.empty()) return std::string_view::npos;
  for (std::size_t pos = text.find(word); pos != std::string_view::npos; pos = text.find(word, pos + 1)) {
    const bool left = pos == 0 || !is_word_char(text[pos - 1]);
    const std::size_t end = pos + word.size();
    const bool right = end == text.size() || !is_word_char(text[end]);
    if (left && right) return pos;
  }
  return std::string_view::npos;
}

struct ToolPick {
  const ToolSpec* tool = nullptr;
  std::string_view argument;  // the prompt text after the tool's name, trimmed
};

ToolPick pick_tool(const PlanInput& in) {
  ToolPick pick;
  if (in.tools.empty() || in.tool_choice == ToolChoice::None || in.tool_result_last) return pick;
  auto argument_after = [&](std::string_view name) -> std::string_view {
    const std::size_t pos = find_word(in.user_text, name);
    if (pos == std::string_view::npos) return {};
    return trim(in.user_text.substr(pos + name.size()));
  };
  if (in.tool_choice == ToolChoice::Tool) {
    for (const auto& t : in.tools) {
      if (t.name == in.forced_tool) {
        pick.tool = &t;
        pick.argument = argument_after(t.name);
        return pick;
      }
    }
    return pick;
  }
  std::size_t best = std::string_view::npos;
  for (const auto& t : in.tools) {
    const std::size_t pos = find_word(in.user_text, t.name);
    if (pos == std::string_view::npos) continue;
    if (best == std::string_view::npos || pos < best ||
        (pos == best && t.name.size() > pick.tool->name.size())) {
      best = pos;
      pick.tool = &t;
    }
  }
  if (pick.tool) {
    pick.argument = trim(in.user_text.substr(best + pick.tool->name.size()));
  } else if (in.tool_choice == ToolChoice::Any) {
    pick.tool = &in.tools.front();
  }
  return pick;
}

// The first non-"null" entry of a JSON Schema `type` (a string or an array of strings).
std::string_view schema_type(const json::object& prop) {
  const json::value* t = prop.if_contains("type");
  if (!t) return {};
  if (t->is_string()) return t->get_string();
  if (t->is_array()) {
    for (const auto& e : t->get_array()) {
      if (e.is_string() && e.get_string() != "null") return e.get_string();
    }
  }
  return {};
}

json::value example_value(const json::object* prop, std::string_view argument) {
  const json::value string_value(argument.empty() ? std::string_view("example") : argument);
  if (!prop) return string_value;
  if (const json::value* e = prop->if_contains("enum"); e && e->is_array() && !e->get_array().empty()) {
    return e->get_array().front();
  }
  if (const json::value* c = prop->if_contains("const")) return *c;
  const std::string_view type = schema_type(*prop);
  if (type == "number" || type == "integer") return 1;
  if (type == "boolean") return true;
  if (type == "object") return json::object();
  if (type == "array") return json::array();
  if (type == "null") return nullptr;
  return string_value;
}

// The tool input: every required property of the schema, with an example value.
std::string tool_input(const ToolSpec& tool, std::string_view argument) {
  json::object input;
  if (tool.input_schema) {
    const json::object* props = nullptr;
    if (const json::value* p = tool.input_schema->if_contains("properties"); p && p->is_object()) {
      props = &p->get_object();
    }
    if (const json::value* r = tool.input_schema->if_contains("required"); r && r->is_array()) {
      for (const auto& name : r->get_array()) {
        if (!name.is_string()) continue;
        const json::object* prop = nullptr;
        if (props) {
          if (const json::value* pv = props->if_contains(name.get_string()); pv && pv->is_object()) {
            prop = &pv->get_object();
          }
        }
        input[name.get_string()] = example_value(prop, argument);
      }
    }
  }
  return json::serialize(input);
}

std::string thinking_text(const PlanInput& in, const ToolPick& pick) {
  if (in.tool_result_last) return "The tool returned a result. I will report it back to the user.";
  if (pick.tool) {
    std::string s = "The user wants the ";
    s.append(pick.tool->name);
    s.append(" tool. I will call it with the arguments from the prompt.");
    return s;
  }
  std::string s = "The user wrote ";
  append_uint(s, in.user_text.size());
  s.append(" bytes. I will greet them and echo their message.");
  return s;
}

// A deterministic base64-looking signature derived from the thinking text.
std::string signature_for(std::string_view text) {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  std::string sig = "EqQB";
  for (int i = 0; i < 92; ++i) {
    h += 0x9E3779B97F4A7C15ull;  // splitmix64 step
    std::uint64_t z = h;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    sig.push_back(kB64[(z ^ (z >> 31)) & 63]);
  }
  return sig;
}

// The first `n` pieces of `text`.
std::string_view first_pieces(std::string_view text, std::uint64_t n) {
  std::size_t end = 0;
  std::uint64_t k = 0;
  for (auto piece : split_pieces(text)) {
    if (k++ == n) break;
    end = static_cast<std::size_t>(piece.data() + piece.size() - text.data());
  }
  return text.substr(0, end);
}

}  // namespace

const char* anthropic_stop_reason(StopReason r) {
  switch (r) {
    case StopReason::EndTurn: return "end_turn";
    case StopReason::MaxTokens: return "max_tokens";
    case StopReason::StopSequence: return "stop_sequence";
    case StopReason::ToolUse: return "tool_use";
  }
  return "end_turn";
}

const char* openai_finish_reason(StopReason r) {
  switch (r) {
    case StopReason::EndTurn:
    case StopReason::StopSequence: return "stop";
    case StopReason::MaxTokens: return "length";
    case StopReason::ToolUse: return "tool_calls";
  }
  return "stop";
}

std::uint64_t ReplyPlan::thinking_tokens() const {
  std::uint64_t n = 0;
  for (const auto& b : blocks) {
    if (b.kind == BlockKind::Thinking) n += b.tokens;
  }
  return n;
}

std::string greeting_for(std::string_view user_text) {
  if (user_text.empty()) return "Hello from sluice mock!";
  std::string s = "Hello from sluice mock! You said: ";
  s.append(utf8_prefix(user_text, kEchoBytes));
  return s;
}

ReplyPlan make_plan(const PlanInput& in) {
  ReplyPlan plan;
  const ToolPick pick = pick_tool(in);

  std::string text;
  if (in.reply_override) {
    text = *in.reply_override;
  } else if (in.tool_result_last) {
    text = "Tool result received: ";
    text.append(utf8_prefix(trim(in.tool_result_text), kToolResultBytes));
  } else if (pick.tool) {
    text = "I'll use the ";
    text.append(pick.tool->name);
    text.append(" tool.");
  } else {
    text = greeting_for(in.user_text);
  }

  // A prefill the answer starts with: the model goes on from where it ends.
  if (!in.prefill.empty() && text.starts_with(in.prefill)) text.erase(0, in.prefill.size());

  // Stop sequences cut the text at the earliest match; the model stops, so no tool call.
  bool stopped = false;
  std::size_t cut = std::string::npos;
  for (auto seq : in.stop_sequences) {
    if (seq.empty()) continue;
    const std::size_t pos = text.find(seq);
    if (pos != std::string::npos && (cut == std::string::npos || pos < cut)) {
      cut = pos;
      plan.stop_sequence.assign(seq);
    }
  }
  if (cut != std::string::npos) {
    text.resize(cut);
    stopped = true;
  }

  // Output is generated in order thinking, text, tool call, and cut where max_tokens runs out.
  std::uint64_t budget = in.max_tokens == 0 ? 1 : in.max_tokens;
  bool truncated = false;
  if (in.thinking) {
    Block b;
    b.kind = BlockKind::Thinking;
    std::string thought = thinking_text(in, pick);
    std::uint64_t tokens = count_pieces(thought);
    if (tokens > budget) {
      thought.assign(first_pieces(thought, budget));
      tokens = budget;
      truncated = true;
    }
    b.signature = signature_for(thought);
    if (!in.thinking_hidden) b.text = std::move(thought);
    b.tokens = tokens;
    budget -= tokens;
    plan.blocks.push_back(std::move(b));
  }
  {
    Block b;
    b.kind = BlockKind::Text;
    std::uint64_t tokens = count_pieces(text);
    if (tokens > budget) {
      text.resize(first_pieces(text, budget).size());
      tokens = budget;
      truncated = true;
    }
    b.text = std::move(text);
    b.tokens = tokens;
    budget -= tokens;
    // An empty text block is kept only when it would be the whole answer.
    if (!b.text.empty() || plan.blocks.empty()) plan.blocks.push_back(std::move(b));
  }
  if (pick.tool && !stopped) {
    Block b;
    b.kind = BlockKind::ToolUse;
    b.name.assign(pick.tool->name);
    b.text = tool_input(*pick.tool, pick.argument);
    b.tokens = tokens_for_bytes(b.text.size() + b.name.size());
    if (truncated || b.tokens > budget) {
      truncated = true;
    } else {
      plan.blocks.push_back(std::move(b));
    }
  }

  if (truncated) {
    plan.stop_reason = StopReason::MaxTokens;
    plan.stop_sequence.clear();
  } else if (stopped) {
    plan.stop_reason = StopReason::StopSequence;
  } else if (!plan.blocks.empty() && plan.blocks.back().kind == BlockKind::ToolUse) {
    plan.stop_reason = StopReason::ToolUse;
  }

  plan.usage.input_tokens = in.input_tokens;
  plan.usage.cache_creation_input_tokens = in.cache_creation_input_tokens;
  plan.usage.cache_read_input_tokens = in.cache_read_input_tokens;
  std::uint64_t out = 0;
  for (const auto& b : plan.blocks) out += b.tokens;
  plan.usage.output_tokens = out == 0 ? 1 : out;
  return plan;
}

void assign_ids(ReplyPlan& plan, const char* prefix) {
  for (auto& b : plan.blocks) {
    if (b.kind == BlockKind::ToolUse) b.id = random_id(prefix, 24);
  }
}

}  // namespace sluice::mock
