#pragma once
// Reads an Anthropic Messages request (wire-protocols.md §1.3) into a PlanInput, checking only
// what the real API requires (model, max_tokens >= 1, messages) with its error wording
// ("max_tokens: Field required"). Unknown fields, block types and roles are accepted: Claude
// Code sends a `role: "system"` message and fields newer than any published spec.
// Pure functions; thread-safe.

#include <optional>
#include <string_view>

#include <boost/json/value.hpp>

#include "mock/api_error.hpp"
#include "mock/plan_input.hpp"

namespace sluice::mock {

struct MessagesRequest {
  std::string_view model;
  bool stream = false;
  PlanInput plan;  // views into the request JSON
};

// Validates `body` as POST /v1/messages; on success fills `out`.
std::optional<ApiError> read_messages_request(const boost::json::value& body, MessagesRequest& out);
// Validates `body` as POST /v1/messages/count_tokens; on success sets `input_tokens`.
std::optional<ApiError> read_count_tokens_request(const boost::json::value& body,
                                                  std::uint64_t& input_tokens);
// The mock's input token count of a Messages request (token_count.hpp rule).
std::uint64_t anthropic_input_tokens(const boost::json::object& request);

}  // namespace sluice::mock
