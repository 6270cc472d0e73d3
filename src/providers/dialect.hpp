#pragma once
// The API dialect a client speaks, which decides the shape of sluice's own errors.

#include <string_view>

namespace sluice::providers {

enum class Dialect {
  Anthropic,  // Messages API: /v1/messages, /v1/models, ...
  OpenAI,     // Chat Completions: /v1/chat/completions
};

// The dialect of a request path: OpenAI for /v1/chat/completions (and /chat/completions),
// Anthropic for everything else.
Dialect dialect_of_path(std::string_view path);

}  // namespace sluice::providers
