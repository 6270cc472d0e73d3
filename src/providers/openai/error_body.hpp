#pragma once
// OpenAI error bodies: {"error":{"message":M,"type":T,"param":null,"code":C}} (wire-protocols §5.5).

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace sluice::providers::openai {

// The OpenAI `error.type` for a sluice error kind.
const char* error_type(ErrorKind kind);
// The OpenAI `error.code` for a kind, or nullptr for JSON null.
const char* error_code(ErrorKind kind);
// The JSON body. `code` may be nullptr (JSON null). `request_id`, when not empty, is added as a
// top-level "request_id" field (clients ignore unknown fields).
std::string error_body(std::string_view message, std::string_view type, const char* code,
                       std::string_view request_id);

}  // namespace sluice::providers::openai
