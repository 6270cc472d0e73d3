#pragma once
// An error answer of the mock in one dialect: the HTTP status and the fields of the error body
// (Anthropic: error.type + error.message; OpenAI: also error.code). Plain data.

#include <string>

namespace sluice::mock {

struct ApiError {
  int status = 400;
  std::string type;             // Anthropic or OpenAI error.type, per the route's dialect
  std::string message;
  const char* code = nullptr;   // OpenAI error.code (nullptr = JSON null); unused by Anthropic
};

}  // namespace sluice::mock
