#include "mock/anthropic_request.hpp"

#include "mock/json_text.hpp"
#include "mock/request_json.hpp"
#include "mock/token_count.hpp"

namespace sluice::mock {
namespace {

namespace json = boost::json;

ApiError invalid(std::string message) {
  return ApiError{400, "invalid_request_error", std::move(message)};
}

bool is_system_reminder(std::string_view text) { return trim(text).starts_with("<system-reminder>"); }

// The text of a tool_result block's content: a string, or the text blocks joined by newlines.
void append_tool_result_text(const json::value& content, std::string& out) {
  if (content.is_string()) {
    out.append(content.get_string());
    return;
  }
  if (!content.is_array()) return;
  bool first = true;
  for (const auto& part : content.get_array()) {
    if (!part.is_object()) continue;
    const auto& o = part.get_object();
    if (string_at(o, "type") != "text") continue;
    if (!first) out.push_back('\n');
    out.append(string_at(o, "text"));
    first = false;
  }
}

// Finds the last user turn and reads its text and tool results.
void read_last_user_turn(const json::array& messages, PlanInput& plan) {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (!it->is_object()) continue;
    const auto& msg = it->get_object();
    if (string_at(msg, "role") != "user") continue;
    const json::value* content = msg.if_contains("content");
    if (!content) return;
    if (content->is_string()) {
      plan.user_text = trim(content->get_string());
      return;
    }
    if (!content->is_array()) return;
    std::string_view reminder;  // used only when every text block is a system reminder
    for (const auto& block : content->get_array()) {
      if (!block.is_object()) continue;
      const auto& b = block.get_object();
      const std::string_view type = string_at(b, "type");
      if (type == "text") {
        const std::string_view text = string_at(b, "text");
        if (is_system_reminder(text)) {
          reminder = text;
        } else {
          plan.user_text = trim(text);
        }
      } else if (type == "tool_result") {
        plan.tool_result_last = true;
        plan.tool_result_text.clear();
        if (const json::value* c = b.if_contains("content")) append_tool_result_text(*c, plan.tool_result_text);
      }
    }
    if (plan.user_text.empty() && !plan.tool_result_last) plan.user_text = trim(reminder);
    return;
  }
}

// The text of a final assistant message (a prefill), its blocks' texts joined.
void read_prefill(const json::array& messages, PlanInput& plan) {
  if (messages.empty() || !messages.back().is_object()) return;
  const auto& msg = messages.back().get_object();
  if (string_at(msg, "role") != "assistant") return;
  const json::value* content = msg.if_contains("content");
  if (!content) return;
  if (content->is_string()) {
    plan.prefill.assign(content->get_string());
    return;
  }
  if (!content->is_array()) return;
  for (const auto& block : content->get_array()) {
    if (block.is_object() && string_at(block.get_object(), "type") == "text") {
      plan.prefill.append(string_at(block.get_object(), "text"));
    }
  }
}

void read_tools(const json::object& req, PlanInput& plan) {
  const json::value* tools = req.if_contains("tools");
  if (!tools || !tools->is_array()) return;
  for (const auto& t : tools->get_array()) {
    if (!t.is_object()) continue;
    const auto& o = t.get_object();
    // Server tools (web_search_20250305, bash_20250124, ...) carry a versioned type; the mock
    // only calls client tools (no type, or "custom").
    const json::value* type = o.if_contains("type");
    if (type && !(type->is_string() && type->get_string() == "custom")) continue;
    const std::string_view name = string_at(o, "name");
    if (name.empty()) continue;
    ToolSpec spec{name, nullptr};
    if (const json::value* s = o.if_contains("input_schema"); s && s->is_object()) spec.input_schema = &s->get_object();
    plan.tools.push_back(spec);
  }
  if (const json::value* tc = req.if_contains("tool_choice"); tc && tc->is_object()) {
    const std::string_view type = string_at(tc->get_object(), "type");
    if (type == "any") {
      plan.tool_choice = ToolChoice::Any;
    } else if (type == "tool") {
      plan.tool_choice = ToolChoice::Tool;
      plan.forced_tool = string_at(tc->get_object(), "name");
    } else if (type == "none") {
      plan.tool_choice = ToolChoice::None;
    }
  }
}

void read_thinking(const json::object& req, PlanInput& plan) {
  const json::value* th = req.if_contains("thinking");
  if (!th || !th->is_object()) return;
  const std::string_view type = string_at(th->get_object(), "type");
  if (type != "enabled" && type != "adaptive") return;
  plan.thinking = true;
  plan.thinking_hidden = string_at(th->get_object(), "display") == "omitted";
}

std::optional<ApiError> check_model_and_messages(const json::object& req) {
  const json::value* model = req.if_contains("model");
  if (!model) return invalid("model: Field required");
  if (!model->is_string()) return invalid("model: Input should be a valid string");
  const json::value* messages = req.if_contains("messages");
  if (!messages) return invalid("messages: Field required");
  if (!messages->is_array()) return invalid("messages: Input should be a valid list");
  return std::nullopt;
}

}  // namespace

std::uint64_t anthropic_input_tokens(const json::object& request) {
  std::uint64_t bytes = 0;
  for (const char* key : {"system", "messages", "tools"}) {
    if (const json::value* v = request.if_contains(key)) bytes += string_bytes(*v);
  }
  return tokens_for_bytes(bytes);
}

std::optional<ApiError> read_messages_request(const json::value& body, MessagesRequest& out) {
  if (!body.is_object()) return invalid("Input should be a valid dictionary");
  const auto& req = body.get_object();
  if (auto err = check_model_and_messages(req)) return err;
  const json::value* max_tokens = req.if_contains("max_tokens");
  if (!max_tokens) return invalid("max_tokens: Field required");
  const auto mt = as_integer(*max_tokens);
  if (!mt) return invalid("max_tokens: Input should be a valid integer");
  if (*mt < 1) return invalid("max_tokens: Input should be greater than or equal to 1");
  if (const json::value* s = req.if_contains("stream"); s && !s->is_null()) {
    if (!s->is_bool()) return invalid("stream: Input should be a valid boolean");
    out.stream = s->get_bool();
  }

  out.model = req.at("model").get_string();
  PlanInput& plan = out.plan;
  plan.max_tokens = static_cast<std::uint64_t>(*mt);
  read_last_user_turn(req.at("messages").get_array(), plan);
  read_prefill(req.at("messages").get_array(), plan);
  read_tools(req, plan);
  read_thinking(req, plan);
  if (const json::value* ss = req.if_contains("stop_sequences"); ss && ss->is_array()) {
    for (const auto& s : ss->get_array()) {
      if (s.is_string()) plan.stop_sequences.push_back(s.get_string());
    }
  }
  plan.input_tokens = anthropic_input_tokens(req);
  return std::nullopt;
}

std::optional<ApiError> read_count_tokens_request(const json::value& body, std::uint64_t& input_tokens) {
  if (!body.is_object()) return invalid("Input should be a valid dictionary");
  if (auto err = check_model_and_messages(body.get_object())) return err;
  input_tokens = anthropic_input_tokens(body.get_object());
  return std::nullopt;
}

}  // namespace sluice::mock
