#pragma once
// Reads an OpenAI Chat Completions request (wire-protocols.md §5.2) into a PlanInput with
// OpenAI's error wording. Reasoning (DeepSeek-style `reasoning_content`) is planned when the
// request has `reasoning_effort` (not "none") or the model name contains "reasoner".
// Pure functions; thread-safe.

#include <optional>
#include <string_view>

#include <boost/json/value.hpp>

#include "mock/api_error.hpp"
#include "mock/plan_input.hpp"

namespace sluice::mock {

struct ChatRequest {
  std::string_view model;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  PlanInput plan;              // views into the request JSON
};

// Validates `body` as POST /v1/chat/completions; on success fills `out`.
std::optional<ApiError> read_chat_request(const boost::json::value& body, ChatRequest& out);

}  // namespace sluice::mock
