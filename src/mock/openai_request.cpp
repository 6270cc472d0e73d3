#include "mock/openai_request.hpp"

#include "mock/json_text.hpp"
#include "mock/request_json.hpp"
#include "mock/token_count.hpp"

namespace sluice::mock {
namespace {

namespace json = boost::json;

ApiError invalid(std::string message, const char* code = nullptr) {
  return ApiError{400, "invalid_request_error", std::move(message), code};
}

// The text of a message's content: a string, or its last text part (or all joined, for tool
// messages).
std::string_view last_text(const json::value& content) {
  if (content.is_string()) return content.get_string();
  std::string_view text;
  if (content.is_array()) {
    for (const auto& part : content.get_array()) {
      if (part.is_object() && string_at(part.get_object(), "type") == "text") {
        text = string_at(part.get_object(), "text");
      }
    }
  }
  return text;
}

void read_turns(const json::array& messages, PlanInput& plan) {
  bool last_seen = false;
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (!it->is_object()) continue;
    const auto& msg = it->get_object();
    const std::string_view role = string_at(msg, "role");
    if (role == "system" || role == "developer") continue;
    const json::value* content = msg.if_contains("content");
    if (!last_seen) {
      last_seen = true;
      if (role == "tool") {
        plan.tool_result_last = true;
        if (content) {
          if (content->is_string()) {
            plan.tool_result_text.assign(content->get_string());
          } else if (content->is_array()) {
            for (const auto& part : content->get_array()) {
              if (part.is_object() && string_at(part.get_object(), "type") == "text") {
                if (!plan.tool_result_text.empty()) plan.tool_result_text.push_back('\n');
                plan.tool_result_text.append(string_at(part.get_object(), "text"));
              }
            }
          }
        }
      }
    }
    if (role == "user") {
      if (content) plan.user_text = trim(last_text(*content));
      return;
    }
  }
}

void read_tools(const json::object& req, PlanInput& plan) {
  if (const json::value* tools = req.if_contains("tools"); tools && tools->is_array()) {
    for (const auto& t : tools->get_array()) {
      if (!t.is_object()) continue;
      const json::value* fn = t.get_object().if_contains("function");
      if (!fn || !fn->is_object()) continue;
      const std::string_view name = string_at(fn->get_object(), "name");
      if (name.empty()) continue;
      ToolSpec spec{name, nullptr};
      if (const json::value* p = fn->get_object().if_contains("parameters"); p && p->is_object()) {
        spec.input_schema = &p->get_object();
      }
      plan.tools.push_back(spec);
    }
  }
  const json::value* tc = req.if_contains("tool_choice");
  if (!tc) return;
  if (tc->is_string()) {
    const std::string_view s = tc->get_string();
    if (s == "required") plan.tool_choice = ToolChoice::Any;
    if (s == "none") plan.tool_choice = ToolChoice::None;
  } else if (tc->is_object()) {
    if (const json::value* fn = tc->get_object().if_contains("function"); fn && fn->is_object()) {
      plan.tool_choice = ToolChoice::Tool;
      plan.forced_tool = string_at(fn->get_object(), "name");
    }
  }
}

}  // namespace

std::optional<ApiError> read_chat_request(const json::value& body, ChatRequest& out) {
  if (!body.is_object()) return invalid("Invalid request: the body must be a JSON object.");
  const auto& req = body.get_object();
  const json::value* model = req.if_contains("model");
  if (!model) return invalid("you must provide a model parameter");
  if (!model->is_string()) return invalid("Invalid type for 'model': expected a string.", "invalid_type");
  const json::value* messages = req.if_contains("messages");
  if (!messages) return invalid("Missing required parameter: 'messages'.", "missing_required_parameter");
  if (!messages->is_array()) return invalid("Invalid type for 'messages': expected an array.", "invalid_type");
  if (messages->get_array().empty()) {
    return invalid("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                   "empty_array");
  }
  if (const json::value* s = req.if_contains("stream"); s && !s->is_null()) {
    if (!s->is_bool()) return invalid("Invalid type for 'stream': expected a boolean.", "invalid_type");
    out.stream = s->get_bool();
  }
  if (const json::value* so = req.if_contains("stream_options"); so && !so->is_null()) {
    if (!out.stream) {
      return invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.");
    }
    if (so->is_object()) {
      const json::value* iu = so->get_object().if_contains("include_usage");
      out.include_usage = iu && iu->is_bool() && iu->get_bool();
    }
  }
  PlanInput& plan = out.plan;
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    const json::value* v = req.if_contains(key);
    if (!v || v->is_null()) continue;
    const auto n = as_integer(*v);
    if (!n) {
      return invalid(std::string("Invalid type for '") + key + "': expected an integer.", "invalid_type");
    }
    if (*n < 1) {
      return invalid(std::string("Invalid '") + key + "': integer below minimum value. Expected a value >= 1.",
                     "integer_below_min_value");
    }
    plan.max_tokens = static_cast<std::uint64_t>(*n);
    break;
  }

  out.model = model->get_string();
  read_turns(messages->get_array(), plan);
  read_tools(req, plan);
  const std::string_view effort = string_at(req, "reasoning_effort");
  plan.thinking = (!effort.empty() && effort != "none") || out.model.find("reasoner") != std::string_view::npos;
  if (const json::value* stop = req.if_contains("stop")) {
    if (stop->is_string()) {
      plan.stop_sequences.push_back(stop->get_string());
    } else if (stop->is_array()) {
      for (const auto& s : stop->get_array()) {
        if (s.is_string()) plan.stop_sequences.push_back(s.get_string());
      }
    }
  }
  std::uint64_t bytes = string_bytes(*messages);
  if (const json::value* tools = req.if_contains("tools")) bytes += string_bytes(*tools);
  plan.input_tokens = tokens_for_bytes(bytes);
  return std::nullopt;
}

}  // namespace sluice::mock
