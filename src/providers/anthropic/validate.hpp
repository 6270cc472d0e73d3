#pragma once
// Validation of Messages API request bodies: strict about what sluice needs (a JSON object,
// `model`, `messages`, `max_tokens`), lenient about everything else — unknown fields, new
// content-block types, new roles (Claude Code sends `role: "system"` inside `messages`) and new
// betas pass through untouched. Thread-safe (parser state is per thread).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace sluice::providers::anthropic {

enum class RequestKind {
  Messages,     // POST /v1/messages
  CountTokens,  // POST /v1/messages/count_tokens (no max_tokens)
};

// What the gateway reads from a valid request without re-serialising it.
struct RequestInfo {
  std::string model;
  bool stream = false;
  std::int64_t max_tokens = 0;  // 0 for count_tokens
};

// Checks `body`; on failure the error is InvalidRequest with a message in the API's style
// ("max_tokens: Field required", "malformed JSON at line 3, column 7: ...").
Result<RequestInfo> validate_request(std::string_view body, RequestKind kind);

// True when `text` is one valid JSON document (used to vet upstream stream events).
bool is_valid_json(std::string_view text);

// Line and column (both 1-based) of byte offset `offset` in `text`.
std::string describe_position(std::string_view text, std::size_t offset);

}  // namespace sluice::providers::anthropic
